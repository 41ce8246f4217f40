#!/usr/bin/env python3
"""Where accel's remaining T5 difference comes from: a float64 transformers pass over the t5 fixture, once with
transformers' own GELU (gelu_new, the tanh form) and once with ggml's CPU GELU (input rounded to f16, tanh form,
output rounded to f16: GGML_GELU_FP16 in ggml-cpu/vec.h), each compared with its counterpart.

    ACCEL_SOURCE_DIR=$PWD ACCEL_T5_DUMP=/tmp/t5.bin build/ci/tests/engine/hf_t5_reference_test --gtest_filter='*t5_f32'
    scripts/oracle/run.sh t5_gelu_probe.py /tmp/t5.bin [--fixture tests/fixtures/hf/t5]

Differences are max |diff| / (max - min) of the reference tensor (docs/conform.md).
"""
import argparse
import json
import math

import numpy as np
import torch
import transformers
from safetensors.torch import load_file


def tanh_gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def ggml_gelu(x):
    h = x.float().half().double()
    g = (0.5 * h * (1 + torch.tanh(0.79788456080286535587989211986876 * h * (1 + 0.044715 * h * h)))).float().half()
    return torch.where(x <= -10, torch.zeros_like(x), torch.where(x >= 10, x, g.double()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--fixture", default="tests/fixtures/hf/t5")
    args = ap.parse_args()
    r = json.load(open(f"{args.fixture}/reference.json"))
    ref = load_file(f"{args.fixture}/reference.safetensors")
    logits, enc = ref["logits"].numpy(), ref["encoder_last_hidden_state"].numpy()
    dump = np.fromfile(args.dump, dtype=np.float32)
    accel_logits = dump[: logits.size].reshape(logits.shape)
    accel_enc = dump[logits.size:].reshape(enc.shape)
    model = transformers.T5ForConditionalGeneration.from_pretrained(args.fixture, dtype=torch.float64,
                                                                    attn_implementation="eager").eval()
    ids = torch.tensor([r["input_ids"]])
    dec = torch.tensor([[r["decoder_start_token_id"]] + r["generated_ids"]])

    def run(act):
        for mod in model.modules():
            if isinstance(mod, transformers.activations.NewGELUActivation):
                mod.forward = act
        with torch.no_grad():
            o = model(input_ids=ids, decoder_input_ids=dec)
        return o.logits[0].numpy(), o.encoder_last_hidden_state[0].numpy()

    def rel(a, b, like):
        return float(np.abs(a - b).max() / (like.max() - like.min()))

    l_t, e_t = run(tanh_gelu)
    l_g, e_g = run(ggml_gelu)
    print(f"float64 with transformers' GELU vs transformers: logits {rel(l_t, logits, logits):.3g}, "
          f"encoder {rel(e_t, enc, enc):.3g}")
    print(f"float64 with ggml's CPU GELU vs accel:          logits {rel(l_g, accel_logits, logits):.3g}, "
          f"encoder {rel(e_g, accel_enc, enc):.3g}")
    print(f"the two GELUs alone (float64):                  logits {rel(l_g, l_t, logits):.3g}, "
          f"encoder {rel(e_g, e_t, enc):.3g}")
    print(f"accel vs transformers:                          logits {rel(accel_logits, logits, logits):.3g}, "
          f"encoder {rel(accel_enc, enc, enc):.3g}")


if __name__ == "__main__":
    main()

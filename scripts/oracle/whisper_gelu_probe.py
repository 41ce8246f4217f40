"""How much of accel/whisper.cpp's difference from transformers on the whisper fixture is the GELU: runs the fixture
in float64 with transformers' erf GELU, with the tanh GELU, and with ggml's CPU GELU emulated (tanh form, input and
output rounded to f16, as ggml's f16 table computes it), and prints each one's max |diff| / range against the
committed reference logits (docs/conform.md, Whisper). Usage: scripts/oracle/run.sh whisper_gelu_probe.py
"""
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from transformers import WhisperForConditionalGeneration

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hf" / "whisper"


class GgmlGelu(torch.nn.Module):
    def forward(self, x):
        return F.gelu(x.to(torch.float16).to(torch.float64), approximate="tanh").to(torch.float16).to(torch.float64)


def main():
    ref = load_file(str(FIXTURE / "reference.safetensors"))
    r = json.loads((FIXTURE / "reference.json").read_text())
    ids = torch.tensor([r["input_ids"] + r["generated_ids"]])
    expected = ref["logits"].double()
    span = float(expected.max() - expected.min())
    for label, act, ggml in (("erf GELU (transformers)", "gelu", False), ("tanh GELU", "gelu_pytorch_tanh", False),
                             ("ggml's f16-table GELU", "gelu", True)):
        m = WhisperForConditionalGeneration.from_pretrained(FIXTURE, dtype=torch.float64, attn_implementation="eager",
                                                            activation_function=act).eval()
        if ggml:
            for layer in list(m.model.encoder.layers) + list(m.model.decoder.layers):
                layer.activation_fn = GgmlGelu()
        with torch.no_grad():
            got = m(input_features=ref["input_features"][None].double(), decoder_input_ids=ids).logits[0]
        print(f"float64, {label}: max |diff| / range {float((got - expected).abs().max()) / span:.3g}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()

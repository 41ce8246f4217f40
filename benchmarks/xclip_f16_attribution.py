#!/usr/bin/env python3
"""Where X-CLIP's f16 error comes from (issue 21), in transformers alone: X-CLIP-B/32 with 8 frames and RANDOM
WEIGHTS (torch_side_by_side.build_xclip, seed 1), the sanity check's frames and texts, logits_per_video in f32 and
with ggml's f16 arithmetic (torch_side_by_side.ggml_f16_arithmetic: Linear weights and inputs rounded to f16)
applied to one module group at a time, then with the prompt generator's alpha scaled down and off.

    scripts/oracle/run.sh ../../benchmarks/xclip_f16_attribution.py [--out FILE.json]

Prints one line per case: the logits and max |f16 - f32| / max |f32|; --out writes them as JSON.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_side_by_side as sbs  # noqa: E402

GROUPS = ["text_model", "text_projection", "prompts_generator", "vision_model", "visual_projection", "mit"]


@contextlib.contextmanager
def only(model, prefix: str):
    """ggml_f16_arithmetic on the Linear layers under `prefix` alone."""
    sub = model.get_submodule(prefix) if prefix else model
    with sbs.ggml_f16_arithmetic(sub):
        yield


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write the cases as JSON here")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(1)
        model, proc = sbs.build_xclip(Path(tmp))
    frames = sbs.video_frames(model.config.vision_config.num_frames, 7)
    texts = ["a red cat", "two blue squares"]  # the sanity check's
    enc = proc.tokenizer(texts, padding=True, return_tensors="pt")
    pixels = proc.image_processor([frames], return_tensors="pt").pixel_values

    def logits():
        with torch.inference_mode():
            return model(input_ids=enc.input_ids, attention_mask=enc.attention_mask,
                         pixel_values=pixels).logits_per_video[0].numpy()

    cases = []

    def case(name: str, ctx, ref):
        with ctx:
            got = logits()
        rel = float(np.max(np.abs(got - ref)) / np.abs(ref).max())
        cases.append({"case": name, "f32": ref.tolist(), "f16_arithmetic": got.tolist(), "rel": rel})
        print(f"{name:>44}: f32 {ref} f16 arithmetic {got} rel {rel:.4f}", flush=True)

    ref = logits()
    case("every Linear", only(model, ""), ref)
    for g in GROUPS:
        case(f"{g} alone", only(model, g), ref)
    alpha = model.prompts_generator.alpha.data.clone()
    for scale in (1 / 130, 0.0):
        model.prompts_generator.alpha.data = alpha * scale
        case(f"every Linear, prompt alpha x {scale:.4g}", only(model, ""), logits())
    model.prompts_generator.alpha.data = alpha
    if a.out:
        Path(a.out).write_text(json.dumps({"model": "X-CLIP-B/32, 8 frames, random weights (seed 1)",
                                           "torch": torch.__version__, "cases": cases}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

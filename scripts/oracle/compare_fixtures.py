#!/usr/bin/env python3
"""Compares freshly generated fixtures with the committed ones, within tolerance, never by hash: CPU floating point
differs between instruction sets and thread counts, so equal seeds need not give equal bits.

    scripts/oracle/run.sh compare_fixtures.py NEW_DIR COMMITTED_DIR [--classes llama,qwen2,...]

Per class: config.json and the tokenizer files equal (as JSON, or as text); every weight of the checkpoint within
1e-6 of the largest |weight| (they come from a seeded generator: only the last bit may move); every reference tensor
within 1e-4 of its range (the limit docs/conform.md uses for f32 logits against transformers, with headroom); the
input ids equal; the greedy ids equal up to the first step whose reference margin is at most 0.01 (a near-tie that
rounding may legitimately flip; after it the sequences are not comparable), the margins within 1e-3.
Prints one line per class and every difference; exits 1 when there is one.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
from safetensors.torch import load_file  # numpy has no bfloat16 (the qwen2 fixture's weights)

WEIGHT_TOL = 1e-6
REFERENCE_TOL = 1e-4
EPSILON = 0.01
MARGIN_TOL = 1e-3


def tensors(folder: Path, pattern: str) -> dict:
    out = {}
    for f in sorted(folder.glob(pattern)):
        for k, v in load_file(str(f)).items():
            out[k] = v.double().numpy() if v.is_floating_point() else v.numpy()
    return out


def compare_tensors(a: dict, b: dict, tol: float, relative_to_range: bool, what: str, bad: list):
    if set(a) != set(b):
        bad.append(f"{what}: tensors differ: only new {sorted(set(a) - set(b))}, only committed {sorted(set(b) - set(a))}")
        return 0.0
    worst = 0.0
    for k in sorted(a):
        x, y = a[k], b[k]
        if x.shape != y.shape:
            bad.append(f"{what}: {k} shape {x.shape} vs {y.shape}")
            continue
        if x.dtype.kind != "f":
            if not np.array_equal(x, y):
                bad.append(f"{what}: {k} differs")
            continue
        scale = (y.max() - y.min()) if relative_to_range else np.abs(y).max()
        rel = float(np.abs(x - y).max() / scale) if scale > 0 else float(np.abs(x - y).max())
        worst = max(worst, rel)
        if rel > tol:
            bad.append(f"{what}: {k} differs by {rel:.3g} of its {'range' if relative_to_range else 'largest value'} "
                       f"(tolerance {tol:g})")
    return worst


def compare_class(new: Path, old: Path) -> list:
    bad = []
    names = {p.name for p in new.iterdir()} | {p.name for p in old.iterdir()}
    for name in sorted(names):
        a, b = new / name, old / name
        if not a.exists() or not b.exists():
            bad.append(f"{name}: only in {'the committed' if not a.exists() else 'the new'} fixture")
            continue
        if name.endswith(".json") and name != "reference.json":
            if json.loads(a.read_text(encoding="utf-8")) != json.loads(b.read_text(encoding="utf-8")):
                bad.append(f"{name} differs")
        elif name.endswith((".txt", ".jinja", ".model")) and a.read_bytes() != b.read_bytes():
            bad.append(f"{name} differs")
    w = compare_tensors(tensors(new, "model*.safetensors"), tensors(old, "model*.safetensors"), WEIGHT_TOL, False,
                        "weights", bad)
    r = compare_tensors(tensors(new, "reference.safetensors"), tensors(old, "reference.safetensors"), REFERENCE_TOL,
                        True, "reference", bad)
    ra = json.loads((new / "reference.json").read_text(encoding="utf-8"))
    rb = json.loads((old / "reference.json").read_text(encoding="utf-8"))
    if ra.get("input_ids") != rb.get("input_ids"):
        bad.append("reference.json: input_ids differ")
    if "generated_ids" in rb:
        for k, (x, y, m) in enumerate(zip(ra["generated_ids"], rb["generated_ids"], rb["top1_margins"])):
            if m <= EPSILON:
                break
            if x != y:
                bad.append(f"reference.json: greedy step {k}: {x} vs {y} (committed margin {m:.3g} > {EPSILON})")
                break
            if abs(ra["top1_margins"][k] - m) > MARGIN_TOL:
                bad.append(f"reference.json: greedy step {k} margin {ra['top1_margins'][k]:.6g} vs {m:.6g}")
    print(f"{new.name}: weights within {w:.3g} of the largest value, references within {r:.3g} of their range"
          f"{'' if not bad else f'; {len(bad)} differences'}")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("new", type=Path)
    ap.add_argument("committed", type=Path)
    ap.add_argument("--classes", default="")
    args = ap.parse_args()
    classes = args.classes.split(",") if args.classes else sorted(
        p.name for p in args.committed.iterdir() if (p / "reference.json").exists())
    n = 0
    for c in classes:
        for line in compare_class(args.new / c, args.committed / c):
            print(f"  {c}: {line}")
            n += 1
    print(f"compare_fixtures: {n} differences in {len(classes)} classes")
    sys.exit(1 if n else 0)


if __name__ == "__main__":
    main()

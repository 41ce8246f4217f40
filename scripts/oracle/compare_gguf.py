#!/usr/bin/env python3
"""Compares two GGUF files: metadata (keys, values) and tensors (names, types, shapes, bytes).

    scripts/oracle/run.sh compare_gguf.py A.gguf B.gguf [--ignore KEY ...] [--ignore-tensor NAME ...]
Prints every difference; exits 1 when there is one (an ignored key or tensor is listed but does not count).
"""
import argparse
import sys

import gguf
import numpy as np


def fields(r):
    out = {}
    for k, f in r.fields.items():
        if k.startswith("GGUF."):
            continue
        v = f.contents()
        out[k] = [float(x) for x in v] if k == "tokenizer.ggml.scores" else v
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--ignore", action="append", default=[])
    ap.add_argument("--ignore-tensor", action="append", default=[])
    args = ap.parse_args()
    ra, rb = gguf.GGUFReader(args.a), gguf.GGUFReader(args.b)
    fa, fb = fields(ra), fields(rb)
    n = 0
    for k in sorted(set(fa) | set(fb)):
        if fa.get(k) != fb.get(k):
            tag = "ignored" if k in args.ignore else "differs"
            show = lambda v: (repr(v)[:120] if v is not None else "(absent)")
            print(f"metadata {tag}: {k}: {show(fa.get(k))} vs {show(fb.get(k))}")
            n += k not in args.ignore
    ta = {t.name: t for t in ra.tensors}
    tb = {t.name: t for t in rb.tensors}
    for name in sorted(set(ta) | set(tb)):
        a, b = ta.get(name), tb.get(name)
        if a is None or b is None:
            ignored = name in args.ignore_tensor
            print(f"tensor only in {'b' if a is None else 'a'}{' (ignored)' if ignored else ''}: {name}")
            n += not ignored
            continue
        if a.tensor_type != b.tensor_type or list(a.shape) != list(b.shape):
            print(f"tensor differs: {name}: {a.tensor_type.name}{list(a.shape)} vs {b.tensor_type.name}{list(b.shape)}")
            n += 1
        elif not np.array_equal(np.asarray(a.data).view(np.uint8), np.asarray(b.data).view(np.uint8)):
            print(f"tensor bytes differ: {name}")
            n += 1
    print(f"{n} differences ({len(ta)} tensors, {len(fa)} keys in {args.a})")
    sys.exit(1 if n else 0)


if __name__ == "__main__":
    main()

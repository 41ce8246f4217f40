#!/usr/bin/env bash
# Runs a script of scripts/oracle/ in the oracle environment that `scripts/bootstrap.sh --oracle` installed.
# Usage: scripts/oracle/run.sh make_fixtures.py --out tests/fixtures/hf
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/deps.env
source "$here/../deps.env"
root="${ACCEL_DEPS_DIR:-$HOME/.cache/accel}"  # the same cache root as scripts/bootstrap.sh
venv="$root/oracle/venv"
src="$root/deps/llama.cpp-${LLAMA_COMMIT:0:12}-src"
[[ -x "$venv/bin/python" ]] || { echo "oracle: no environment in $venv; run scripts/bootstrap.sh --oracle" >&2; exit 2; }
[[ -d "$src/models" ]] || { echo "oracle: no llama.cpp source in $src; run scripts/bootstrap.sh" >&2; exit 2; }
script="$1"; shift
export ACCEL_LLAMA_SRC="$src" PYTHONPATH="$src/gguf-py${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 \
       TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec "$venv/bin/python" "$here/$script" "$@"

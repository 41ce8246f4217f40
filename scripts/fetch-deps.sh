#!/usr/bin/env bash
# Fill a folder with the pinned dependency files, for machines that reach no registry:
#   scripts/fetch-deps.sh DIR      then, on the other machine:  ACCEL_DEPS_TARBALLS=DIR scripts/bootstrap.sh
# Only what the build needs is kept (about 61 MB): the llama.cpp git bundle, the DuckDB bindings tarball, duckdb.h,
# and the @wllama/wllama tarball for web-bench.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/deps.env
source "$here/deps.env"
[ $# -eq 1 ] || { echo "usage: scripts/fetch-deps.sh DIR" >&2; exit 2; }
out=$(mkdir -p "$1" && cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
if [ ! -f "$out/$LLAMA_BUNDLE_FILE" ]; then
    npm pack --silent "$LLAMA_NPM_SPEC" >/dev/null
    tar xzf "$LLAMA_NPM_TGZ" package/llama/gitRelease.bundle
    git bundle list-heads package/llama/gitRelease.bundle | grep -q "^$LLAMA_COMMIT" \
        || { echo "fetch-deps: error: $LLAMA_NPM_SPEC does not hold commit $LLAMA_COMMIT" >&2; exit 1; }
    mv package/llama/gitRelease.bundle "$out/$LLAMA_BUNDLE_FILE"
fi
if [ ! -f "$out/$DUCKDB_LIB_TGZ" ]; then
    npm pack --silent "$DUCKDB_LIB_SPEC" >/dev/null
    mv "$DUCKDB_LIB_TGZ" "$out/"
fi
if [ ! -f "$out/$DUCKDB_HEADER_FILE" ]; then
    npm pack --silent "$DUCKDB_HEADER_SPEC" >/dev/null
    tar xzf "$DUCKDB_HEADER_TGZ" "package/$DUCKDB_HEADER_PATH"
    got=$(sha256sum "package/$DUCKDB_HEADER_PATH" | cut -d' ' -f1)
    [ "$got" = "$DUCKDB_HEADER_SHA256" ] || { echo "fetch-deps: error: duckdb.h sha256 mismatch ($got)" >&2; exit 1; }
    cp "package/$DUCKDB_HEADER_PATH" "$out/$DUCKDB_HEADER_FILE"
fi
if [ ! -f "$out/$WLLAMA_TGZ" ]; then  # web-bench's browser runtime, 3.5 MB
    npm pack --silent "$WLLAMA_SPEC" >/dev/null
    got=$(sha256sum "$WLLAMA_TGZ" | cut -d' ' -f1)
    [ "$got" = "$WLLAMA_TGZ_SHA256" ] || { echo "fetch-deps: error: $WLLAMA_TGZ sha256 mismatch ($got)" >&2; exit 1; }
    mv "$WLLAMA_TGZ" "$out/"
fi
if [ ! -f "$out/$OPENAI_NPM_TGZ" ]; then  # the openai client for accel serve's tests
    npm pack --silent "$OPENAI_NPM_SPEC" >/dev/null
    got=$(sha256sum "$OPENAI_NPM_TGZ" | cut -d' ' -f1)
    [ "$got" = "$OPENAI_NPM_TGZ_SHA256" ] || { echo "fetch-deps: error: $OPENAI_NPM_TGZ sha256 mismatch ($got)" >&2; exit 1; }
    mv "$OPENAI_NPM_TGZ" "$out/"
fi
if [ ! -f "$out/$WHISPER_TGZ" ]; then  # whisper.cpp's sources (scripts/bootstrap-whisper.sh), 1.7 MB
    npm pack --silent "$WHISPER_SPEC" >/dev/null
    got=$(sha256sum "$WHISPER_TGZ" | cut -d' ' -f1)
    [ "$got" = "$WHISPER_TGZ_SHA256" ] || { echo "fetch-deps: error: $WHISPER_TGZ sha256 mismatch ($got)" >&2; exit 1; }
    mv "$WHISPER_TGZ" "$out/"
fi
du -sh "$out" >&2

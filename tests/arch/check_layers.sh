#!/usr/bin/env bash
# Rejects an #include that breaks the layer table in docs/architecture.md (STYLE.md §1), and the shortcuts
# around the pool that the layering forbids.
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# Each layer and every layer it may include ("may use" is transitive, and never upward). cli may use everything.
declare -A allowed=(
    [core]="core"
    [hw]="core hw"
    [model]="core model"
    [media]="core media"
    [engine]="core hw model media engine"
    [pool]="core hw model media engine pool"
    [store]="core store"
    [net]="core net"
    [bench]="core hw model media engine pool store net bench"
    [web]="core hw model media engine pool store net bench web"
    [tune]="core hw model media engine pool store net bench tune"
    [report]="core hw model media engine pool store net bench report"
    [serve]="core hw model media engine pool net serve"
    [fleet]="core hw model media engine pool store net bench fleet"
)
# Third-party headers each layer may include (in .cpp files only).
declare -A third=(
    [llama.h]="engine" [llama-cpp.h]="engine" [gguf.h]="engine model" [ggml.h]="engine hw" [ggml-backend.h]="hw engine"
    [ggml-cpu.h]="hw engine" [mtmd.h]="engine" [mtmd-helper.h]="engine" [whisper.h]="engine" [duckdb.h]="store"
    [hwloc.h]="hw" [httplib.h]="net"
)
# Engine headers that run a model. The CLI reaches models only through pool/ and bench/; file-level engine work
# (synthetic_model.h, quantize.h, imatrix.h, quality.h, ...) may stay direct.
cli_forbidden="session.h generator.h embedder.h batch_decoder.h"
# Today's CLI files that still drive a session around the pool: to be removed by #16's lease work.
cli_allowed_today=(
    "src/cli/cmd_embed.cpp:embedder.h"
    "src/cli/cmd_generate.cpp:generator.h"
    "src/cli/cmd_generate.cpp:session.h"
)
# Only the pool may cast a lease's resident to the engine's type; everyone else gets the session from the lease.
resident_casts_today=()
bad=0
for layer in "${!allowed[@]}"; do
    for dir in "$root/src/$layer" "$root/include/accel/$layer"; do
        [ -d "$dir" ] || continue
        while IFS= read -r line; do
            file=${line%%:*}
            inc=$(sed -E 's/.*#include [<"]accel\/([a-z_]+)\/.*/\1/' <<<"$line")
            if [[ " ${allowed[$layer]} " != *" $inc "* ]]; then
                echo "layer violation: $file includes accel/$inc/ (the $layer layer may use: ${allowed[$layer]})"
                bad=1
            fi
        done < <(grep -rHE '#include [<"]accel/[a-z_]+/' "$dir" || true)
    done
done
for hdr in "${!third[@]}"; do
    while IFS= read -r file; do
        rel=${file#"$root"/}
        if [[ $rel == include/* ]]; then
            echo "third-party header $hdr in public header $rel: forward-declare instead"
            bad=1
            continue
        fi
        layer=$(cut -d/ -f2 <<<"$rel")
        if [[ " ${third[$hdr]} " != *" $layer "* ]]; then
            echo "$rel includes $hdr, which belongs to: ${third[$hdr]}"
            bad=1
        fi
    done < <(grep -rlE "#include [<\"]${hdr//./\\.}[>\"]" "$root/src" "$root/include" || true)
done
# An allow-list entry that no longer matches is only reported, so that the change removing it need not edit this.
stale() { echo "note: allow-list entry '$1' in tests/arch/check_layers.sh is no longer needed; remove it"; }
for hdr in $cli_forbidden; do
    while IFS= read -r file; do
        rel=${file#"$root"/}
        if [[ " ${cli_allowed_today[*]} " != *" $rel:$hdr "* ]]; then
            echo "$rel includes accel/engine/$hdr: the CLI runs models through pool/ and bench/, not a session"
            bad=1
        fi
    done < <(grep -rlE "#include [<\"]accel/engine/${hdr//./\\.}[>\"]" "$root/src/cli" || true)
done
for entry in "${cli_allowed_today[@]}"; do
    grep -qE "#include [<\"]accel/engine/${entry#*:}[>\"]" "$root/${entry%%:*}" 2>/dev/null || stale "$entry"
done
while IFS= read -r file; do
    rel=${file#"$root"/}
    if [[ " ${resident_casts_today[*]} " != *" $rel "* ]]; then
        echo "$rel casts a lease's resident to EngineResident: only src/pool/ may; use the lease's session"
        bad=1
    fi
done < <(grep -rlE "_cast<(const )?(accel::)?(pool::)?EngineResident" "$root/src" | grep -v "^$root/src/pool/" \
    || true)
for rel in "${resident_casts_today[@]}"; do
    grep -qE "_cast<(const )?(accel::)?(pool::)?EngineResident" "$root/$rel" 2>/dev/null || stale "$rel"
done
if [ "$bad" = 0 ]; then echo "layers ok"; fi
exit "$bad"

#!/usr/bin/env bash
# Rejects an #include that breaks the layer table in docs/architecture.md.
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
declare -A allowed=(
    [core]="core"
    [hw]="core hw"
    [model]="core model"
    [engine]="core hw model engine"
    [pool]="core hw model engine pool"
    [store]="core store"
    [bench]="core hw model engine pool store bench"
    [web]="core hw model engine pool store bench web"
    [report]="core hw model engine pool store bench report"
    [tune]="core hw model engine pool store bench tune"
)
# Third-party headers each layer may include (in .cpp files only).
declare -A third=(
    [llama.h]="engine" [llama-cpp.h]="engine" [gguf.h]="engine model" [ggml.h]="engine hw" [ggml-backend.h]="hw engine"
    [ggml-cpu.h]="hw engine" [duckdb.h]="store" [hwloc.h]="hw"
)
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
    done < <(grep -rlE "#include [<\"]$hdr[>\"]" "$root/src" "$root/include" || true)
done
if [ "$bad" = 0 ]; then echo "layers ok"; fi
exit "$bad"

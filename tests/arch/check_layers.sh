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
# CLI files that still drive a session around the pool (none left: generate and embed go through pool/lease_tasks.h).
cli_allowed_today=()
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
# Nor does it take a lease's session guard: pool/lease_tasks.h runs the model work through the lease.
while IFS= read -r file; do
    echo "${file#"$root"/} takes a lease's session (SessionGuard, .session()): run the work through pool/ or bench/"
    bad=1
done < <(grep -lE "SessionGuard|\.session\(\)" "$root"/src/cli/*.cpp "$root"/src/cli/*.h 2>/dev/null || true)
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
# Size limits (#16): no CLI file over 250 lines (a command parses flags, prints and maps errors), and no function
# in src/ or include/ over 120 lines. The functions are found as our style lays them out (fn_lengths_awk below, which
# finds the same lengths as lizard); the exemptions name file:function.
max_cli_file_lines=250
max_function_lines=120
long_functions_allowed=(
    "src/engine/conformance_model.cpp:get_gguf_ctx"  # the conformance table: one entry per architecture
)
fn_lengths_awk='
# Prints "file:line name length" for each function body in the files given, as our style lays them out: a function
# at file scope starts at column 0 and ends at the next line that starts with "}" at column 0; a member function
# defined in a class body does the same at 4 columns. Raw string literals are skipped.
function at_end(l, ind) { return substr(l, 1, length(ind) + 1) == ind "}" }
FNR == 1 { fn = 0; agg = 0; cand = 0; raw = "" }
{
    line = $0
    sub(/[ \t\r]+$/, "", line)
    if (raw != "") { if (index(line, ")" raw "\"") > 0) raw = ""; next }
    if (match(line, /R"[^ ()\\"]*\(/)) {
        d = substr(line, RSTART + 2, RLENGTH - 3)
        if (index(substr(line, RSTART + RLENGTH), ")" d "\"") == 0) raw = d
    }
    if (fn) {
        if (at_end(line, fn_ind)) { if (!fn_skip) print FILENAME ":" start " " name " " (FNR - start + 1); fn = 0 }
        next
    }
    ind = ""
    if (agg) {
        if (line ~ /^}/) { agg = 0; cand = 0; next }
        if (agg_data) next
        ind = "    "
    }
    own = substr(line, 1, length(ind)) == ind && substr(line, length(ind) + 1, 1) ~ /[^ \t]/
    if (line == "" || (own && line ~ /^[ ]*(#|\/\/|\/\*|\*|})/)) { cand = 0; next }
    if (own && !cand) { cand = FNR; head = line; sub(/^ +/, "", head) }
    if (line ~ /[;}]$/) { cand = 0; next }
    if (line !~ /\{$/ || !cand || raw != "") next
    s = cand
    cand = 0
    if (head ~ /^(inline +)?(namespace|extern)([ {]|$)/) next
    pre = head
    sub(/\(.*/, "", pre)
    kind = "fn"
    if (head ~ /^(template *<[^>]*> *)?(struct|class|union)([ {]|$)/) kind = "class"
    else if (head ~ /^enum([ {]|$)/ || line ~ /= *\{+$/ || pre ~ / =( |$)/) kind = "data"
    if (kind != "fn" && ind == "") { agg = 1; agg_data = kind == "data"; next }
    fn = 1; fn_ind = ind; fn_skip = kind != "fn"; start = s
    n = split(pre, parts, /[ *&]+/)
    name = parts[n]
}
'
while IFS= read -r file; do
    n=$(wc -l <"$file")
    if [ "$n" -gt "$max_cli_file_lines" ]; then
        echo "${file#"$root"/}: $n lines; a CLI file has at most $max_cli_file_lines (move the work to its layer)"
        bad=1
    fi
done < <(find "$root/src/cli" -name '*.cpp' | sort)
long_seen=" "
while read -r where name n; do
    rel=${where#"$root"/}
    key="${rel%%:*}:${name##*::}"
    [ "$n" -gt "$max_function_lines" ] || continue
    long_seen+="$key "
    if [[ " ${long_functions_allowed[*]} " == *" $key "* ]]; then continue; fi
    echo "$rel: $name is $n lines; a function has at most $max_function_lines (split it into named steps)"
    bad=1
done < <(find "$root/src" "$root/include" \( -name '*.cpp' -o -name '*.h' \) -print0 | sort -z \
    | xargs -0 awk "$fn_lengths_awk")
for key in "${long_functions_allowed[@]}"; do
    [[ $long_seen == *" $key "* ]] || stale "$key"
done
if [ "$bad" = 0 ]; then echo "layers ok"; fi
exit "$bad"

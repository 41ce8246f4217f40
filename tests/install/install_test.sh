#!/usr/bin/env bash
# accel as an installed CMake package (docs/build.md, "accel as a library"):
#  1. `cmake --install` into a temporary prefix, which is then moved: the install must not depend on its place;
#  2. libaccel has a versioned soname and RUNPATH $ORIGIN, the CLI $ORIGIN/../lib, and every accel, llama.cpp,
#     ggml and DuckDB library they need resolves inside the moved prefix;
#  3. the installed headers, all in one translation unit, compile with only the installed include folder and
#     pull in no third-party header;
#  4. examples/embed-a-pool builds against the installed package with find_package(accel), and its greedy text on
#     stories260K equals the installed CLI's `accel generate` (skipped without the model, failed under CI=true).
# Usage: install_test.sh BUILD_DIR SOURCE_DIR CXX GENERATOR [CXX_FLAGS] [LAUNCHER]
set -euo pipefail
build=$1 src=$2 cxx=$3 generator=$4 flags=${5:-} launcher=${6:-}
work=$(realpath "$(mktemp -d "${TMPDIR:-/tmp}/accel-install.XXXXXX")")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset LD_LIBRARY_PATH

cmake --install "$build" --prefix "$work/first" >"$work/install.log" \
    || { cat "$work/install.log"; fail "cmake --install"; }
mv "$work/first" "$work/prefix"
prefix=$work/prefix
for f in lib/cmake/accel/accelConfig.cmake lib/cmake/accel/accelConfigVersion.cmake lib/cmake/accel/accelTargets.cmake \
         include/accel/pool/resource_pool.h bin/accel lib/libaccel.so; do
    [ -e "$prefix/$f" ] || fail "$f is not installed"
done

# 2. sonames, RPATHs, and where the dynamic loader finds each library.
dyn() { readelf -d "$1" | sed -nE "s/.*\(($2)\).*\[(.*)\]/\2/p"; }
soname=$(dyn "$prefix/lib/libaccel.so" SONAME)
[[ $soname =~ ^libaccel\.so\.[0-9]+\.[0-9]+$ ]] || fail "libaccel's soname is '$soname', want libaccel.so.MAJOR.MINOR"
[ -e "$prefix/lib/$soname" ] || fail "lib/$soname (the soname link) is not installed"
[ "$(dyn "$prefix/lib/libaccel.so" 'RUNPATH|RPATH')" = '$ORIGIN' ] || fail "libaccel's RUNPATH is not \$ORIGIN"
[ "$(dyn "$prefix/bin/accel" 'RUNPATH|RPATH')" = '$ORIGIN/../lib' ] || fail "accel's RUNPATH is not \$ORIGIN/../lib"
for bin in "$prefix/lib/libaccel.so" "$prefix/bin/accel"; do
    deps=$(ldd "$bin")
    if grep -q "not found" <<<"$deps"; then echo "$deps"; fail "$(basename "$bin") has unresolved libraries"; fi
    for want in libllama libduckdb; do
        grep -q "^[[:space:]]*$want\.so" <<<"$deps" || fail "$(basename "$bin") does not load $want"
    done
    # Every accel, llama.cpp, ggml and DuckDB library must come from the prefix, not from the build's cache.
    outside=$(awk '$1 ~ /^lib(accel|llama|ggml|duckdb|mtmd)/ { print $3 }' <<<"$deps" | xargs -r realpath -m \
        | grep -v "^$prefix/lib/" || true)
    [ -z "$outside" ] || { echo "$outside"; fail "$(basename "$bin") loads these from outside the prefix"; }
done
"$prefix/bin/accel" version >/dev/null || fail "the installed accel does not run"

# 3. Installed headers: self-sufficient with only the prefix, and no third-party header among what they include.
(cd "$prefix/include" && find accel -name '*.h' | sort | sed 's/.*/#include "&"/') >"$work/all_headers.cpp"
"$cxx" -std=c++20 -fsyntax-only -H -I"$prefix/include" "$work/all_headers.cpp" 2>"$work/headers.log" \
    || { cat "$work/headers.log"; fail "the installed headers do not compile with only $prefix/include"; }
third_party='/(fmt|nlohmann|CLI|toml\+\+|openssl|gtest)/|hwloc|llama|ggml|gguf|duckdb|mtmd|whisper|httplib'
third=$(grep -E '^\.+ ' "$work/headers.log" | grep -vF " $prefix/include/" | grep -E "$third_party" || true)
[ -z "$third" ] || { echo "$third"; fail "installed headers include third-party headers (forward-declare instead)"; }

# 4. The example, built against the installed package only.
cmake -S "$src/examples/embed-a-pool" -B "$work/example" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} >"$work/configure.log" 2>&1 \
    || { cat "$work/configure.log"; fail "configuring the example against the installed package"; }
grep -qx "accel_DIR:PATH=$prefix/lib/cmake/accel" "$work/example/CMakeCache.txt" \
    || fail "find_package(accel) did not find the installed package: $(grep accel_DIR "$work/example/CMakeCache.txt")"
cmake --build "$work/example" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "building the example"; }
incs=$(grep -oE '(-I|-isystem )[^ ]+' "$work/example/compile_commands.json" | sed -E 's/^(-I|-isystem )//' | sort -u)
[ "$incs" = "$prefix/include" ] || fail "the example compiled with include folders other than the prefix's: $incs"
where=$(ldd "$work/example/embed-a-pool" | awk '$1 ~ /^libaccel\.so/ { print $3 }' | xargs -r realpath -m)
[[ $where == "$prefix"/lib/* ]] || fail "the example loads libaccel from '$where', not the prefix"

data=${ACCEL_TEST_DATA:-${ACCEL_TEST_DATA_DEFAULT:-$src/../shared}}
model=$data/models/stories260K.gguf
if [ ! -f "$model" ]; then
    [ "${CI:-}" = true ] && fail "$model not found (set ACCEL_TEST_DATA); CI=true needs it"
    echo "SKIP running the example: $model not found (set ACCEL_TEST_DATA)"
    exit 77
fi
out=$("$work/example/embed-a-pool" "$model" "Once upon a time") || fail "the example failed: $out"
text=${out#\[*\] }
[ "$text" != "$out" ] || fail "the example printed no '[device] ' prefix: $out"
[ -n "$text" ] || fail "the example generated no text"
ref=$("$prefix/bin/accel" generate -m "$model" --prompt "Once upon a time" -n 16 --ctx 256 2>/dev/null) \
    || fail "accel generate failed"
[ "$text" = "$ref" ] || fail "the example's text differs from accel generate's: '$text' vs '$ref'"
echo "ok: example on ${out%%\]*}]: $text"

#!/usr/bin/env bash
# accel plan's kubernetes.yaml against the Kubernetes OpenAPI schemas, offline and strict (unknown fields
# rejected), with PyPI's kubernetes-validate from the oracle venv (scripts/oracle/requirements-k8s.txt). Label
# oracle: never in CI's default run; exit 77 (skip) when the tool is not installed. Broken copies of the manifest
# must fail, so a validator that accepts everything does not pass this test.
# Usage: k8s_manifest_oracle_test.sh ACCEL_BIN
set -euo pipefail
accel=$(realpath "$1")
venv=${ACCEL_ORACLE_VENV:-${ACCEL_DEPS_DIR:-$HOME/.cache/accel}/oracle/venv}
validate=$venv/bin/kubernetes-validate
if [ ! -x "$validate" ]; then
    echo "SKIP: no $validate; install it with: $venv/bin/pip install --require-hashes --no-deps" \
        "--only-binary=:all: -r scripts/oracle/requirements-k8s.txt"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/spec.toml" <<'SPEC'
campaign = "K8s_Check.1"
[sweep]
model = "/models/a.gguf,/models/b.gguf"
device = "cpu,cuda0"
n_prompt = "16,32"
[hardware.cuda]
min_memory_gb = 24
node_selector = { "nvidia.com/gpu.product" = "NVIDIA-H100-80GB-HBM3" }
[kubernetes]
image = "registry.example/accel:1.0"
parallelism = 1
SPEC
"$accel" plan "$work/spec.toml" --out "$work/plan" >/dev/null
manifest=$work/plan/kubernetes.yaml
for version in 1.25.0 1.31.0 1.37.0; do
    "$validate" --strict --no-warn -k "$version" "$manifest"
done
# Controls: an unknown field and a wrong type must be rejected.
sed 's/completionMode: Indexed/completionMod: Indexed/' "$manifest" >"$work/bad1.yaml"
sed 's/completions: 2$/completions: "two"/' "$manifest" >"$work/bad2.yaml"
for bad in "$work/bad1.yaml" "$work/bad2.yaml"; do
    out=$("$validate" --strict -k 1.31.0 "$bad" 2>&1 || true)
    grep -q 'did not validate' <<<"$out" && continue
    echo "FAIL: $bad (a broken manifest) passed validation"
    exit 1
done
echo "PASS: kubernetes.yaml validates against Kubernetes 1.25, 1.31 and 1.37 (strict); broken copies do not"

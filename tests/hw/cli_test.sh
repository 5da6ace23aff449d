#!/usr/bin/env bash
# End-to-end checks of `gpupool hw`: output highlights and exit codes (0 ok, 2 bad input).
# Usage: cli_test.sh GPUPOOL_BINARY TEST_DATA_DIR
set -u
bin=$1
data=$2
fails=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# expect CODE PATTERN -- ARGS...: runs gpupool ARGS, checks the exit code and that stdout+stderr
# contains PATTERN (a fixed string).
expect() {
  local code=$1 pattern=$2
  shift 3
  local out rc
  out=$("$bin" "$@" 2>&1)
  rc=$?
  if [[ $rc -ne $code ]]; then
    echo "FAIL: gpupool $*: exit $rc, want $code"; echo "$out" | head -5; fails=$((fails + 1)); return
  fi
  if ! grep -qF -- "$pattern" <<<"$out"; then
    echo "FAIL: gpupool $*: output lacks '$pattern'"; echo "$out" | head -5; fails=$((fails + 1)); return
  fi
  echo "ok: gpupool $*"
}

expect 0 "H100-SXM" -- hw list
expect 0 '"interconnects"' -- hw list --what links --json
expect 0 "(sparse 1979 / 2)" -- hw show h100-sxm
expect 0 '"name": "A100-SXM-80GB"' -- hw show a100-sxm4-80gb --json
expect 0 "RTX-4090" -- hw show 4090
expect 0 "IB-NDR" -- hw show NDR
expect 0 "8 x H100-SXM" -- hw show DGX-H100
expect 0 "bf16 FLOP/byte" -- hw compare H100 H800 A100-80GB
expect 0 '"gpus"' -- hw compare H100 MI300X --json
expect 0 "met only with 2:4 structured sparsity" -- hw check "$data/h100_tender.yaml"
expect 0 "HGX-H100-TNHR    8x H100-SXM       PASS" -- hw check "$data/h100_tender.yaml" --accept-sparse
expect 0 '"sparse_only": true' -- hw check "$data/h100_tender.yaml" --json
expect 0 "= 6.6881" -- hw speedup --gpu H100 --cpu EPYC-9654 -p 0.9
expect 0 '"speedup"' -- hw speedup --gpu A100 --cpu 7742 -p 0.5 --precision fp32 --json
expect 0 "0.99  15.8837      100" -- hw speedup --gpu H100 --cpu 8480 -p 0.5,0.9,0.99

# Bad input: exit 2 with the reason.
expect 2 "unknown name 'H10' (no GPU, interconnect, server or CPU); did you mean H100-SXM" -- hw show H10
expect 2 "did you mean DGX-H100" -- hw show DGX-H10
expect 2 "unknown GPU 'Z100'" -- hw compare H100 Z100
expect 2 "unknown CPU 'EPYC-1'" -- hw speedup --cpu EPYC-1
expect 2 "not in [0, 1]" -- hw speedup -p 1.5
expect 2 "no such file" -- hw check "$scratch/absent.yaml"
printf 'name: t\nrequirements:\n  - gpu.count >= 8\n  - gpu.fp17_tflops >= 3\n' >"$scratch/bad_field.yaml"
expect 2 "bad_field.yaml:4: gpu.fp17_tflops: unknown field" -- hw check "$scratch/bad_field.yaml"
printf 'name: t\nrequirements:\n  - gpu.count >= 8\n  - gpu.count >= [\n' >"$scratch/malformed.yaml"
expect 2 "malformed.yaml:" -- hw check "$scratch/malformed.yaml"
mkdir -p "$scratch/cat"
printf -- '- name: X\n  vendor: v\n' >"$scratch/cat/gpus.yaml"
printf -- '- name: L\n  kind: pcie\n  source: s\n  bandwidth_gbs: 1\n  latency_us: 1\n  achievable_fraction: 0.5\n' \
  >"$scratch/cat/interconnects.yaml"
expect 2 "gpus.yaml:1: X: architecture: missing" -- hw --catalog "$scratch/cat" list

if [[ $fails -ne 0 ]]; then echo "$fails failure(s)"; exit 1; fi
echo "all passed"

#!/usr/bin/env bash
# The CUDA shim on a real GPU (docs/shim.md, "On a real GPU"): the memory cap on every allocation
# path, the compute share achieved at 25, 50 and 75 % for short and long kernels, and the
# per-launch overhead. Needs the NVIDIA driver (libcuda.so.1) and nothing else: the binaries are
# built without CUDA (cmake --build build --target gpupool-cuda shim_gpu_check) and the kernel is
# PTX text.
#
#   bench/shim_gpu_check.sh [BUILD_DIR]     (default: build)
#
# Prints one line per measurement (shim_gpu_check.cc says what each field is) and, when $OUT is
# set, writes them to $OUT/shim_gpu_check.txt too. Expected: memory lines with granted = cap =
# info_total = 4096 and info_free_freed = 4096; share lines near 0.25 / 0.50 / 0.75 (1.0 for the
# whole GPU); overhead lines within a microsecond of the run without the shim.
set -euo pipefail
build="${1:-build}"
shim="$(realpath "$build/src/shim/libgpupool-cuda.so")"
check="$(realpath "$build/bench/shim_gpu_check")"
out="${OUT:-}"
log() { echo "$*"; if [[ -n "$out" ]]; then echo "$*" >>"$out/shim_gpu_check.txt"; fi; }
job=$((900000 + $$ % 10000))

# Runs shim_gpu_check with the shim preloaded and the share given as VAR=value arguments.
with_shim() {
  job=$((job + 1))
  local vars=()
  while [[ "$1" == *=* ]]; do vars+=("$1"); shift; done
  env LD_PRELOAD="$shim" GPUPOOL_JOB_ID="$job" "${vars[@]}" "$check" "$@"
  rm -f /dev/shm/gpupool-"$job"-*
}

log "== device"
log "$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true)"

log "== memory cap: GPUPOOL_GPU_MEMORY_MIB=4096, 64 MiB pieces until refused"
while read -r line; do log "$line"; done < <(with_shim GPUPOOL_GPU_MEMORY_MIB=4096 GPUPOOL_GPU_MILLI=1000 \
  memory alloc pitch managed async pool array array3d mipmap vmm)

log "== compute share: full-GPU spin kernels, 4 s each"
for us in 100 20000; do
  log "$("$check" share "$us" 4) (no shim)"
  for milli in 250 500 750; do
    log "$(with_shim GPUPOOL_GPU_MILLI="$milli" share "$us" 4) (milli $milli)"
  done
done

log "== per-launch overhead: empty one-block kernel, 100000 launches"
log "$("$check" overhead 100000) (no shim)"
log "$(with_shim GPUPOOL_GPU_MILLI=1000 GPUPOOL_GPU_MEMORY_MIB=4096 overhead 100000) (shim, not paced)"
log "$(with_shim GPUPOOL_GPU_MILLI=500 overhead 100000) (shim, paced at 500)"

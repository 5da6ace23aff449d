#!/usr/bin/env bash
# Configures and builds gpupool in build/ (Release). Arguments name the targets to build (default:
# everything, tests and benchmarks included); `scripts/build.sh gpupool` builds only the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
if (($#)); then
  targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build build -j "$(nproc)" "${targets[@]}"
else
  cmake --build build -j "$(nproc)"
fi

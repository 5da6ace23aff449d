#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the full suite (Release), the lint
# (clang-format and clang-tidy, scripts/lint.sh), then the scheduling core's tests again under
# AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="$(nproc)"

echo "== build (Release) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
echo "== tests (Release) =="
ctest --test-dir build --output-on-failure -j "$jobs"
echo "== lint =="
scripts/lint.sh build

echo "== build (core, AddressSanitizer + UBSan) =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGPUPOOL_SANITIZE=ON -DGPUPOOL_CORE_ONLY=ON \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" >/dev/null
cmake --build build-asan -j "$jobs"
echo "== tests (core, AddressSanitizer + UBSan) =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

#!/usr/bin/env bash
# Lint, with the repository's configs: clang-format (.clang-format) over every C++ file git
# tracks, then clang-tidy (.clang-tidy: which checks and why the others are off) over the sources
# of src/ and apps/, with the compile database of the Release build (scripts/test.sh builds it
# first). Fails on merge conflict markers in a tracked file, on the first file that is not
# formatted or on any clang-tidy finding.
#   scripts/lint.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
if [ ! -f "$build/compile_commands.json" ]; then
  echo "lint: $build/compile_commands.json is missing; configure the build first" >&2
  exit 2
fi

# Merge conflict markers left in any tracked text file (a rebase resolved by hand).
if git grep -n -I -E '^(<<<<<<< |>>>>>>> )' -- . ':!data/traces'; then
  echo "lint: merge conflict markers (above)" >&2
  exit 1
fi

mapfile -t sources < <(git ls-files '*.cc' '*.h')
echo "== clang-format: ${#sources[@]} files =="
clang-format --dry-run --Werror "${sources[@]}"

mapfile -t tidy < <(git ls-files 'src/*.cc' 'apps/*.cc')
echo "== clang-tidy: ${#tidy[@]} files =="
# clang-tidy-19: Debian 12's default clang-tidy (14) cannot parse libstdc++ 12's <expected>;
# g++ has warning options clang lacks; libstdc++ 12 uses what clang 19 calls deprecated in C++23.
printf '%s\0' "${tidy[@]}" |
  xargs -0 -P "$(nproc)" -n 4 clang-tidy-19 -p "$build" --quiet \
    --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-deprecated-declarations
echo "lint: clean"

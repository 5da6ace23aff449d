#!/usr/bin/env bash
# Whole-run benchmark of `gpupool sim replay` (issue 10's speed target: the whole Philly CSV under
# one policy in under 5 s): each order alone, at the real VC sizes and at a quarter of the nodes,
# as whole processes (loading included), 5 repetitions each: min / median / max wall time.
# Usage: bench/replay_run.sh [path/to/gpupool]   (default build/apps/gpupool/gpupool)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/apps/gpupool/gpupool}"
[ -x "$bin" ] || { echo "no binary at $bin: run scripts/build.sh first" >&2; exit 1; }
for scale in 1 0.25; do
  for policy in fifo sjf qssf srtf las gittins; do
    times=()
    for i in $(seq 5); do
      s=$(date +%s%N)
      "$bin" sim replay --policy "$policy" --scale "$scale" --json >/dev/null
      e=$(date +%s%N)
      times+=("$(( (e - s) / 1000 ))")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk -v p="$policy" -v sc="$scale" -v cores="$(nproc)" \
      '{a[NR]=$1/1e6} END {printf "%-5s scale %-4s min %.2f s  median %.2f s  max %.2f s  (%d cores)\n", p, sc, a[1], a[int((NR+1)/2)], a[NR], cores}'
  done
done

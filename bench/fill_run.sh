#!/usr/bin/env bash
# Whole-run benchmarks of `gpupool sim fill` (issue 2's speed targets), as whole processes:
#  1. one FGD run on the default trace, loading included: 20 runs, min / median / max wall time;
#  2. the grid: the 6 published policies x 10 seeds x the 15 openb pod lists here, one process per
#     list; then the same with fgd-window (64-pod windows) added.
# Usage: bench/fill_run.sh [path/to/gpupool]   (default build/apps/gpupool/gpupool)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/apps/gpupool/gpupool}"
[ -x "$bin" ] || { echo "no binary at $bin: run scripts/build.sh first" >&2; exit 1; }
traces=data/traces/openb

echo "== one FGD run on default (seed 42), whole process, 20 repetitions =="
times=()
for i in $(seq 20); do
  s=$(date +%s%N)
  "$bin" sim fill --policy fgd --seeds 42 --json >/dev/null
  e=$(date +%s%N)
  times+=("$(( (e - s) / 1000 ))")
done
printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1/1e6} END {printf "min %.3f s  median %.3f s  max %.3f s\n", a[1], a[int((NR+1)/2)], a[NR]}'

grid() {
  local policies="$1" label="$2"
  local s e n=0
  s=$(date +%s%N)
  for pods in "$traces"/openb_pod_list_*.csv; do
    "$bin" sim fill --pods "$pods" --policy "$policies" --seeds 42-51 --json >/dev/null
    n=$((n + 1))
  done
  e=$(date +%s%N)
  awk -v n="$n" -v ns="$((e - s))" -v cores="$(nproc)" -v label="$label" -v per="$(echo "$policies" | tr ',' '\n' | wc -l)" \
    'BEGIN {printf "%s: %d pod lists, %d runs in %.2f s wall on %d cores\n", label, n, n * per * 10, ns / 1e9, cores}'
}
echo "== grid: policies x 10 seeds x 15 pod lists =="
grid random,dotprod,clustering,packing,bestfit,fgd "6 published policies"
grid random,dotprod,clustering,packing,bestfit,fgd,fgd-window "the same + fgd-window"

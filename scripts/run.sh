#!/usr/bin/env bash
# The main job on its embedded default: installs what is missing, builds the gpupool binary (only
# that), and starts the GPU pool service, `gpupool serve`, on this host's GPUs (NVML) or, without
# an NVIDIA driver, on the bundled demo inventory (simulated: the commands run on this host).
# Data goes to ./gpupool-data (SQLite, job logs, the admin token). On the first start it submits a
# small mixed demo workload so the pool is visibly in use, prints how to reach it, and keeps
# serving until Ctrl-C. Running jobs keep running when the service stops; the next start adopts
# them. Extra arguments go to `gpupool serve` (e.g. --listen 127.0.0.1:9090, --inventory FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh gpupool
bin="$PWD/build/apps/gpupool/gpupool"
listen="127.0.0.1:8080"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ "${args[$i]}" == "--listen" && $((i + 1)) -lt ${#args[@]} ]] && listen="${args[$((i + 1))]}"
done
url="http://$listen"
first_start=1
[[ -e gpupool-data/gpupool.db ]] && first_start=0

"$bin" serve "$@" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true; wait "$server" || true; exit 0' INT TERM
for _ in $(seq 100); do
  "$bin" whoami --server "$url" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { wait "$server"; exit $?; }
  sleep 0.2
done

submit() { "$bin" submit --server "$url" "$@" >/dev/null || true; }
if ((first_start)); then
  if "$bin" nodes --server "$url" --json | grep -q '"simulated": true'; then
    submit --name pretrain --gpus 8 --replicas 2 --model H100 --time 1h -- sleep 3600
    submit --name finetune-70b --gpus 8 --model A100 --time 1h -- sleep 3600
    submit --name finetune-8b --gpus 4 --model A100 --time 1h -- sleep 3600
    for i in 1 2 3 4 5 6; do
      submit --name "notebook-$i" --gpus 0.5 --gpu-memory 20G --time 1h -- sleep 3600
    done
    for i in 1 2 3; do
      submit --name "serve-$i" --gpus 0.25 --model L40S --time 1h -- sleep 3600
    done
    submit --name waits-for-a100 --gpus 8 --model A100 --time 1h -- sleep 600
  else
    submit --name demo-share-1 --gpus 0.5 --time 10m -- sleep 600
    submit --name demo-share-2 --gpus 0.5 --time 10m -- sleep 600
  fi
  submit --name hello --gpus 0.5 -- sh -c 'echo "hello from $GPUPOOL_NODE on GPU $CUDA_VISIBLE_DEVICES"'
  sleep 0.5
fi
echo
"$bin" top --server "$url" --once || true
echo
"$bin" jobs --server "$url" || true
cat <<MSG

gpupool is serving at $url (Ctrl-C stops it; jobs keep running and are adopted on the next start)
  dashboard:    $url/ (sign in with the admin token)
  admin token:  $PWD/gpupool-data/admin.token (the CLI reads it from there by default)
  submit:       $bin submit --gpus 0.5 -- python3 -c 'print("hi")'
  watch:        $bin top    |  $bin jobs  |  $bin job ID  |  $bin logs ID -f
  metrics:      $url/metrics    API: $url/api/v1/openapi.json
MSG
wait "$server"

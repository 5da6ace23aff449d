#!/usr/bin/env bash
# Compares `gpupool smi --json` with nvidia-smi on a machine with NVIDIA GPUs, field by field:
# index, uuid, name, memory.total, memory.used, pci.bus_id, power.limit, temperature.gpu.
# Prints one match/mismatch line per GPU and field, then a summary; exits 1 on any mismatch,
# 2 when it cannot run (no nvidia-smi, no gpupool binary, gpupool failing).
#
# Readings taken a moment apart may move: memory.used may differ by up to 64 MiB plus 1% of the
# total, temperature by up to 2 C. Everything else must be equal (power in W to 0.01).
#
# Usage: scripts/check-smi-vs-nvidia-smi.sh [path/to/gpupool]   (default build/apps/gpupool/gpupool)
set -euo pipefail
cd "$(dirname "$0")/.."
gpupool="${1:-build/apps/gpupool/gpupool}"

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "check-smi: nvidia-smi not found: run this on a machine with the NVIDIA driver" >&2
  exit 2
fi
if [[ ! -x "$gpupool" ]]; then
  echo "check-smi: $gpupool not found: build first (scripts/build.sh)" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fields=index,uuid,name,memory.total,memory.used,pci.bus_id,power.limit,temperature.gpu
nvidia-smi --query-gpu="$fields" --format=csv,noheader,nounits >"$tmp/nvidia-smi.csv"
if ! "$gpupool" smi --json >"$tmp/gpupool.json" 2>"$tmp/gpupool.err"; then
  echo "check-smi: gpupool smi --json failed: $(cat "$tmp/gpupool.err")" >&2
  exit 2
fi
echo "driver: $(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)," \
     "$(wc -l <"$tmp/nvidia-smi.csv") GPU(s)"

python3 - "$tmp/nvidia-smi.csv" "$tmp/gpupool.json" <<'PY'
import csv, json, sys

rows = [[c.strip() for c in r] for r in csv.reader(open(sys.argv[1])) if r]
doc = json.load(open(sys.argv[2]))
gpus = {g["index"]: g for g in doc["gpus"]}

def num(text):
    try:
        return float(text)
    except ValueError:
        return None  # "[N/A]", "[Not Supported]"

def cmp_exact(a, b):
    return a == b

def cmp_ci(a, b):
    return isinstance(b, str) and a.lower() == b.lower()

def cmp_num(tolerance):
    def f(a, b):
        x = num(a)
        if x is None or b is None:
            return x is None and b is None
        return abs(x - float(b)) <= tolerance(x)
    return f

# (nvidia-smi column, gpupool JSON member, comparison)
fields = [
    ("index", "index", lambda a, b: int(a) == b),
    ("uuid", "uuid", cmp_exact),
    ("name", "name", cmp_exact),
    ("memory.total", "memory_total_mib", cmp_num(lambda x: 0)),
    ("memory.used", "memory_used_mib", None),  # tolerance depends on the total, below
    ("pci.bus_id", "pci_bus_id", cmp_ci),
    ("power.limit", "power_limit_w", cmp_num(lambda x: 0.01)),
    ("temperature.gpu", "temperature_c", cmp_num(lambda x: 2)),
]

matched = mismatched = 0
for row in rows:
    index = int(row[0])
    g = gpus.get(index)
    for (column, member, compare), theirs in zip(fields, row):
        ours = None if g is None else g.get(member)
        if column == "memory.used":
            total = num(row[3]) or 0
            compare = cmp_num(lambda x, t=total: 64 + 0.01 * t)
        ok = g is not None and compare(theirs, ours)
        matched += ok
        mismatched += not ok
        print(f"GPU{index} {column:16} {'match   ' if ok else 'MISMATCH'} "
              f"nvidia-smi={theirs!r} gpupool={ours!r}")
extra = sorted(set(gpus) - {int(r[0]) for r in rows})
for index in extra:
    mismatched += 1
    print(f"GPU{index} {'(whole GPU)':16} MISMATCH gpupool lists a GPU nvidia-smi does not")
print(f"summary: {matched} field(s) match, {mismatched} mismatch, over {len(rows)} GPU(s)")
sys.exit(1 if mismatched else 0)
PY

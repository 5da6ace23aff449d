#!/usr/bin/env python3
"""The event stream's bytes under load: `gpupool serve` on a generated pool of NODES x 8 GPUs
(simulated), kept busy by jobs of 1-8 GPUs (and shares of one) that run `sleep` for 1-6 s, submitted
at RATE per second for SECONDS; one client reads GET /api/v1/events/stream meanwhile. Prints the
snapshot's size, the deltas' count, rate and bytes, bytes per second, the service's CPU time, and
how long each read of the pool's state for the stream took and held the service's lock (from
/metrics: gpupool_stream_state_seconds, gpupool_stream_state_lock_seconds).
  bench/stream_load.py --gpupool build/apps/gpupool/gpupool [--nodes 1000] [--rate 50] [--seconds 20]
Not a test: figures for docs (docs/api.md, Live events). The jobs it submits are cancelled at the end.
"""
import argparse, http.client, json, os, random, signal, subprocess, sys, tempfile, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--gpupool", required=True)
ap.add_argument("--nodes", type=int, default=1000)
ap.add_argument("--rate", type=float, default=50)
ap.add_argument("--seconds", type=float, default=20)
a = ap.parse_args()

tmp = tempfile.mkdtemp(prefix="gpupool-stream-")
inv = os.path.join(tmp, "pool.yaml")
with open(inv, "w") as f:
    f.write("simulated: true\nnodes:\n  - name: gpu\n    count: %d\n    gpu_model: H100-SXM\n"
            "    gpus: 8\n    gpu_memory_mib: 81559\n    cpu: 224\n    memory: 2048Gi\n"
            "    nvlink_islands: [[0, 1, 2, 3, 4, 5, 6, 7]]\n" % a.nodes)
data = os.path.join(tmp, "data")
srv = subprocess.Popen([a.gpupool, "serve", "--listen", "127.0.0.1:0", "--data-dir", data,
                        "--inventory", inv, "--sync", "normal"], stdout=subprocess.DEVNULL)
url_file = os.path.join(data, "server.url")
for _ in range(300):
    if os.path.exists(url_file):
        break
    time.sleep(0.1)
host, port = open(url_file).read().strip().replace("http://", "").split(":")
token = open(os.path.join(data, "admin.token")).read().strip()
H = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

def call(method, path, body=None):
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=H)
    r = c.getresponse()
    out = r.read()
    c.close()
    return json.loads(out) if out else None

stats = {"bytes": 0, "snapshot": 0, "deltas": 0, "delta_bytes": 0, "heartbeats": 0}
stop = threading.Event()

def reader():
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    c.request("GET", "/api/v1/events/stream", headers=H)
    r = c.getresponse()
    buf = b""
    while not stop.is_set():
        chunk = r.read1(1 << 16)
        if not chunk:
            break
        stats["bytes"] += len(chunk)
        buf += chunk
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            if b"event: snapshot" in ev:
                stats["snapshot"] = len(ev) + 2
            elif b"event: delta" in ev:
                stats["deltas"] += 1
                stats["delta_bytes"] += len(ev) + 2
            elif b"event: heartbeat" in ev:
                stats["heartbeats"] += 1
    c.close()

t = threading.Thread(target=reader, daemon=True)
t.start()
time.sleep(1)
rng = random.Random(1)
ids = []
t0 = time.monotonic()
cpu0 = os.times()
n = 0
while time.monotonic() - t0 < a.seconds:
    gpus = rng.choice([0.25, 0.5, 1, 1, 2, 4, 8])
    j = call("POST", "/api/v1/jobs", {"gpus": gpus, "command": ["sleep", str(rng.randint(1, 6))]})
    if j and "id" in j:
        ids.append(j["id"])
    n += 1
    time.sleep(max(0.0, t0 + n / a.rate - time.monotonic()))
elapsed = time.monotonic() - t0
before = dict(stats)
pool = call("GET", "/api/v1/pool")
stop.set()
c = http.client.HTTPConnection(host, int(port), timeout=30)
c.request("GET", "/metrics")
metrics = c.getresponse().read().decode()
c.close()

def histogram(name):
    got = {}
    for line in metrics.splitlines():
        for part in ("_sum", "_count"):
            if line.startswith(name + part + " "):
                got[part] = float(line.split()[1])
    return got.get("_sum", 0.0), int(got.get("_count", 0))
with open(f"/proc/{srv.pid}/stat") as f:
    fields = f.read().split(")")[1].split()
cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
for i in ids:
    call("DELETE", f"/api/v1/jobs/{i}")
srv.send_signal(signal.SIGTERM)
srv.wait()
steady = before["bytes"] - before["snapshot"]
print(f"pool: {a.nodes} nodes x 8 GPUs; {n} jobs submitted over {elapsed:.1f} s "
      f"({pool['jobs']['running']} running, {pool['jobs']['pending']} pending at the end; "
      f"{pool['milli']['allocated'] / 1000:g} of {pool['gpus']['total']} GPUs allocated)")
print(f"snapshot: {before['snapshot']} bytes")
print(f"deltas: {before['deltas']} ({before['deltas'] / elapsed:.2f}/s), {before['delta_bytes']} bytes; "
      f"heartbeats {before['heartbeats']}")
print(f"stream after the snapshot: {steady / elapsed / 1024:.1f} KiB/s")
print(f"service CPU (user+sys, whole run incl. start): {cpu_s:.1f} s")
for name, what in (("gpupool_stream_state_seconds", "read of the state"),
                   ("gpupool_stream_state_lock_seconds", "of it under the service's lock")):
    total, count = histogram(name)
    if count:
        print(f"{what}: {count} reads, mean {1000 * total / count:.1f} ms")

// The view logic (src/view.ts): formatting, unknown is never 0, stable row order, the overview's
// figures as the API gives them, the heat map's cells.
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const v = await load("view.ts");

test("unknown values show as unknown, never as 0", () => {
  for (const missing of [undefined, null, "3", NaN, Infinity, {}]) {
    assert.equal(v.formatGpus(missing, "unknown"), "unknown");
    assert.equal(v.formatPct(missing, "unknown"), "unknown");
    assert.equal(v.formatCount(missing, "unknown"), "unknown");
    assert.equal(v.formatMib(missing, "unknown"), "unknown");
  }
  // A real zero is zero.
  assert.equal(v.formatGpus(0, "unknown"), "0");
  assert.equal(v.formatCount(0, "unknown"), "0");
  assert.equal(v.formatPct(0, "unknown"), "0.0 %");
  // An overview of nothing: every figure unknown (null), none 0.
  const o = v.overview(undefined, null);
  assert.equal(o.gpusTotal, null);
  assert.equal(o.fragmentationPct, null);
  assert.equal(o.nodes.schedulable, null);
  assert.equal(o.jobs.pending, null);
});

test("formatting: milli-GPU as GPUs, MiB as GiB, percentages, durations", () => {
  // 31750 milli = 31.75 GPUs; 250 milli = 0.25; 1/3 GPU rounds to 3 decimals.
  assert.equal(v.formatGpus(31750, "?"), "31.75");
  assert.equal(v.formatGpus(250, "?"), "0.25");
  assert.equal(v.formatGpus(48000, "?"), "48");
  assert.equal(v.formatGpus(333.3333, "?"), "0.333");
  assert.equal(v.formatMib(81920, "?"), "80 GiB"); // 81920 / 1024 = 80
  assert.equal(v.formatMib(20480 + 512, "?"), "20.5 GiB");
  assert.equal(v.formatPct(46.857, "?"), "46.9 %");
  assert.equal(v.formatDuration(3725, "?"), "1h 02m"); // 3600 + 2*60 + 5
  assert.equal(v.formatDuration(185, "?"), "3m 05s");
  assert.equal(v.formatDuration(-1, "?"), "?");
});

test("the fragmentation figure is the API's, and agrees with its own parts", () => {
  // The demo pool of the README: 16.25 free GPUs, 7.614 of them unusable by the learned workload.
  const pool = {
    gpus: { total: 48, free: 15, shared: 2, allocated: 31, unusable: 0 },
    milli: { capacity: 48000, allocated: 31750, free: 16250 },
    fragmented_milli: 7614,
    fragmentation_pct: (100 * 7614) / 16250,
    by_model: [],
    jobs: { pending: 1, running: 12 },
  };
  const o = v.overview(pool, []);
  // Computed here on its own: 7614 / 16250 = 0.46855... -> 46.9 %.
  const expected = Math.round((7614 / 16250) * 1000) / 10;
  assert.equal(v.formatPct(o.fragmentationPct, "?"), `${expected.toFixed(1)} %`);
  assert.equal(v.formatPct(o.fragmentationPct, "?"), "46.9 %");
  assert.equal(v.formatGpus(o.fragmentedMilli, "?"), "7.614");
  assert.equal(v.formatGpus(o.freeMilli, "?"), "16.25");
  // The view passes the API's figure through; it does not recompute it from other numbers.
  const odd = v.overview({ ...pool, fragmentation_pct: 12.5 }, []);
  assert.equal(odd.fragmentationPct, 12.5);
});

test("node counts by condition", () => {
  const nodes = ["ready", "ready", "cordoned", "draining", "unhealthy"].map((c, i) => ({ name: `n${i}`, condition: c, gpus: [], jobs: [] }));
  const o = v.overview({}, nodes);
  // ready 2; cordoned + draining 2; unhealthy 1; 5 in all.
  assert.deepEqual(o.nodes, { schedulable: 2, cordoned: 2, unhealthy: 1, total: 5 });
});

test("job rows keep the server's order whatever changes", () => {
  // The server sorts (here by name ascending, ties by id): a 14, b 13, c 12.
  const first = [{ id: 14, name: "a", state: "running" }, { id: 13, name: "b", state: "pending" }, { id: 12, name: "c", state: "running" }];
  // A refresh where job 13 started and 12 ended, with a duplicate of 13 (the newer data wins):
  // the order is the server's, not the ids'.
  const again = [{ id: 14, name: "a", state: "running" }, { id: 13, name: "b", state: "running" }, { id: 12, name: "c", state: "succeeded" }, { id: 13, name: "b", state: "running", reason: "newest" }];
  assert.deepEqual(v.stableRows(first).map((r) => r.id), [14, 13, 12]);
  assert.deepEqual(v.stableRows(again).map((r) => r.id), [14, 13, 12]);
  assert.equal(v.stableRows(again).find((r) => r.id === 13).reason, "newest");
  // Sorted by name descending the server answers c, b, a: shown so, not re-sorted by id.
  const desc = [{ id: 12, name: "c" }, { id: 13, name: "b" }, { id: 14, name: "a" }];
  assert.deepEqual(v.stableRows(desc).map((r) => r.id), [12, 13, 14]);
});

test("heat map cells: whole, fractional, fragmented, free, unusable", () => {
  const node = {
    name: "l40s-0",
    condition: "ready",
    gpus: [
      { index: 0, milli_used: 1000, healthy: true, jobs: [1] },
      { index: 1, milli_used: 500, healthy: true, jobs: [2] },
      { index: 2, milli_used: 750, healthy: true, jobs: [3, 4] },
      { index: 3, milli_used: 0, healthy: true, jobs: [] },
      { index: 4, milli_used: 0, healthy: false, jobs: [] },
    ],
    jobs: [1, 2, 3, 4],
  };
  // The scheduler says GPU 2 (250 free) cannot take job 9 at the head of the queue (a 500 share):
  // fragmented, with its reason; GPU 1 (500 free) is not listed: fractional, it fits.
  const head = { job: 9, gpus_per_replica: 1, gpu_milli: 500, stranded: [{ node: "l40s-0", gpus: [2], why: "gpus" }] };
  const { columns, rows } = v.heatRows([node], head);
  assert.equal(columns, 5);
  assert.deepEqual(rows[0].map((c) => c.kind), ["whole", "fractional", "fragmented", "free", "unusable"]);
  assert.equal(rows[0][2].why, "why_stranded_gpus");
  assert.equal(rows[0][2].freeFraction, 0.25);
  assert.equal(rows[0][4].why, "why_gpu_unhealthy");
  // A stranded GPU on another node, or a full GPU listed by mistake, changes nothing here: a full
  // GPU stays whole, an unhealthy one unusable.
  const other = { ...head, stranded: [{ node: "x", gpus: [2], why: "model" }, { node: "l40s-0", gpus: [0, 4], why: "cpu" }] };
  assert.deepEqual(v.heatRows([node], other).rows[0].map((c) => c.kind), ["whole", "fractional", "fractional", "free", "unusable"]);
  // A whole free GPU can be stranded too (the node lacks what a replica needs).
  const wide = { ...head, stranded: [{ node: "l40s-0", gpus: [1, 2, 3], why: "too_few_gpus" }] };
  assert.equal(v.heatRows([node], wide).rows[0][3].kind, "fragmented");
  assert.equal(v.heatRows([node], wide).rows[0][3].why, "why_stranded_too_few_gpus");
  // Memory for the hover: the API's 0 (a trace node) is unknown, not 0 GiB.
  const mem = { ...node, gpus: [{ index: 0, milli_used: 500, memory_mib: 81920, memory_used_mib: 16384, healthy: true, jobs: [2] },
    { index: 1, milli_used: 0, memory_mib: 0, memory_used_mib: 0, healthy: true, jobs: [] }] };
  const [m0, m1] = v.heatRows([mem], null).rows[0];
  assert.deepEqual([m0.memoryMib, m0.memoryAllocatedMib, v.formatMib(m0.memoryAllocatedMib, "?")], [81920, 16384, "16 GiB"]);
  assert.equal(m1.memoryMib, null);
  // A GPU whose use the API does not give is unknown, not free (unknown is never 0).
  const vague = { ...node, gpus: [{ index: 0, healthy: true, jobs: [] }, { index: 1, milli_used: null, healthy: true, jobs: [] }] };
  assert.deepEqual(v.heatRows([vague], null).rows[0].map((c) => [c.kind, c.usedMilli]), [["unknown", null], ["unknown", null]]);
  // With nothing waiting no free part is fragmented.
  assert.equal(v.heatRows([node], null).rows[0][2].kind, "fractional");
  // A cordoned node's GPUs take no work.
  assert.equal(v.heatRows([{ ...node, condition: "cordoned" }], head).rows[0][3].why, "why_node_cordoned");
});

test("heat map cells: a MIG GPU is drawn as its instances, each as wide as its slices", () => {
  const node = {
    name: "a100-0",
    condition: "ready",
    gpus: [
      { index: 0, milli_used: 0, healthy: true, jobs: [], mig: null },
      {
        index: 1, milli_used: 0, healthy: true, jobs: [],
        no_work_reason: "MIG mode: gpupool does not place jobs on MIG instances yet",
        mig: { instances: [
          { profile: "3g.40gb", memory_mib: 40960, uuid: "MIG-a" },
          { profile: "2g.20gb", memory_mib: 19968, uuid: "MIG-b" },
          { profile: "1g.10gb", memory_mib: 9856, uuid: null },
          { profile: "1g.10gb+me", memory_mib: 9856, uuid: null },
        ] },
      },
      { index: 2, milli_used: 0, healthy: true, jobs: [], mig: { instances: [] } },
    ],
    jobs: [],
  };
  const row = v.heatRows([node], null).rows[0];
  assert.deepEqual(row.map((c) => c.kind), ["free", "mig", "mig"]);
  assert.deepEqual(row[0].mig, []);
  assert.equal(row[1].why, "why_mig");
  // 3 + 2 + 1 + 1 = 7 slices of 7: widths 3/7, 2/7, 1/7, 1/7, starting at 0, 3/7, 5/7, 6/7.
  assert.deepEqual(row[1].mig.map((m) => [m.profile, m.slices, m.x, m.width, m.memoryMib]), [
    ["3g.40gb", 3, 0, 3 / 7, 40960],
    ["2g.20gb", 2, 3 / 7, 2 / 7, 19968],
    ["1g.10gb", 1, 5 / 7, 1 / 7, 9856],
    ["1g.10gb+me", 1, 6 / 7, 1 / 7, 9856],
  ]);
  // MIG mode with no instances yet: an empty MIG cell.
  assert.deepEqual(row[2].mig, []);
  // Fewer slices than the GPU has leave the rest of the cell empty: 4g of 7 is 4/7 wide.
  assert.deepEqual(v.migSlots([{ profile: "4g.40gb", memory_mib: 40960, uuid: null }]).map((m) => [m.x, m.width]), [[0, 4 / 7]]);
  // Eight slices (two 4g): each is 4/8 = half the cell.
  assert.deepEqual(
    v.migSlots([{ profile: "4g.48gb", memory_mib: 0, uuid: null }, { profile: "4g.48gb", memory_mib: 0, uuid: null }]).map((m) => [m.x, m.width]),
    [[0, 0.5], [0.5, 0.5]]);
  // A profile without "<N>g" counts one slice: 1 + 3 of 7.
  assert.deepEqual(
    v.migSlots([{ profile: "odd", memory_mib: 0, uuid: null }, { profile: "3g.40gb", memory_mib: 0, uuid: null }]).map((m) => [m.slices, m.x, m.width]),
    [[1, 0, 1 / 7], [3, 1 / 7, 3 / 7]]);
});

test("every reason the scheduler may give for a stranded GPU has its words in every language", async () => {
  const { en, zh } = await load("i18n.ts");
  // The names of cluster::MisfitName (src/cluster/cluster_state.cc) but "fits".
  for (const why of ["gpus", "too_few_gpus", "island", "model", "cpu", "memory", "not_schedulable"]) {
    assert.ok(en["why_stranded_" + why] && zh["why_stranded_" + why], why);
  }
});

test("job GPUs", () => {
  assert.equal(v.jobGpus({ id: 1, state: "x", resources: { gpus: 8, replicas: 2 } }, "?"), "8x2");
  assert.equal(v.jobGpus({ id: 1, state: "x" }, "?"), "?");
});

test("the stream's deltas: members replaced and removed, sections replaced", () => {
  const s0 = { pool: { gpus: { total: 8 } }, nodes: { a: { name: "a", gpus: [] }, b: { name: "b", gpus: [] } } };
  const s1 = v.applyDelta(s0, { pool: { gpus: { total: 4 } }, nodes: { a: null, c: { name: "c", gpus: [] } } });
  assert.deepEqual(Object.keys(s1.nodes).sort(), ["b", "c"]);
  assert.equal(s1.pool.gpus.total, 4);
  assert.deepEqual(Object.keys(s0.nodes).sort(), ["a", "b"]); // the old state is unchanged
  assert.deepEqual(v.nodeList(s1.nodes).map((n) => n.name), ["b", "c"]);
});

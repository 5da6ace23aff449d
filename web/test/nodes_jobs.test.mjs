// The Nodes and GPUs page's view logic (src/nodes_view.ts: unknown is never 0, each figure's
// source, filters, who may do what) and the jobs list's sort and columns (src/jobs_table.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const nv = await load("nodes_view.ts");
const jt = await load("jobs_table.ts");
const route = await load("route.ts");

const gpu = (extra = {}) => ({
  index: 0, uuid: "GPU-a", model: "H100-SXM", memory_mib: 81920, milli_used: 250, memory_used_mib: 1024,
  healthy: true, jobs: [7], shares: [{ job: 7, milli: 250, memory_mib: 1024 }], ...extra,
});

test("a GPU without an NVML reading shows its NVML figures as unknown, never 0", () => {
  const f = nv.gpuFigures(gpu({ nvml: null }), "unknown");
  for (const k of ["utilization", "power", "temperature", "memoryUsed"]) {
    assert.equal(f[k].text, "unknown", k);
    assert.equal(f[k].known, false, k);
    assert.equal(f[k].source, "nvml", k);
  }
  // The scheduler's and the inventory's figures are known: 250 milli = 0.25 of 1 GPU; 1024 MiB = 1 GiB.
  assert.deepEqual(f.shareUsed, { text: "0.25 / 1", known: true, source: "scheduler" });
  assert.deepEqual(f.memoryAllocated, { text: "1 GiB", known: true, source: "scheduler" });
  assert.deepEqual(f.memory, { text: "80 GiB", known: true, source: "inventory" });
  // A reading with a figure NVML did not give (null): that one unknown, a real 0 stays 0.
  const r = nv.gpuFigures(gpu({ nvml: { error: null, utilization_pct: 0, memory_used_mib: 30000, memory_total_mib: 81559,
    temperature_c: 61, power_w: null, power_limit_w: 700 } }), "unknown");
  assert.equal(r.utilization.text, "0 %");
  assert.equal(r.temperature.text, "61 °C");
  assert.equal(r.power.text, "unknown");
  assert.equal(r.memoryUsed.text, "29.3 GiB"); // 30000 / 1024 = 29.296...
  const p = nv.gpuFigures(gpu({ nvml: { error: null, utilization_pct: 37, power_w: 212.5, power_limit_w: 700 } }), "?");
  assert.equal(p.power.text, "212.5 W / 700 W");
  assert.equal(p.utilization.text, "37 %");
});

test("a node's figures: allocated of capacity, unknown when a part is missing", () => {
  const node = { name: "n", condition: "ready", gpu_model: "H100-SXM", gpus: [gpu(), gpu({ index: 1, milli_used: 1000, healthy: false })],
    jobs: [7], cpu_milli: 32000, cpu_used_milli: 8500, memory_mib: 262144, memory_used_mib: 65536 };
  const f = nv.nodeFigures(node, "unknown");
  assert.equal(f.cpu.text, "8.5 / 32"); // 8500 / 1000, 32000 / 1000 cores
  assert.equal(f.memory.text, "64 GiB / 256 GiB");
  assert.equal(f.gpusAllocated.text, "1.25 / 2"); // 250 + 1000 milli
  assert.equal(f.healthyGpus.text, "1");
  const bare = nv.nodeFigures({ ...node, cpu_used_milli: undefined, gpus: [gpu({ milli_used: null })] }, "unknown");
  assert.equal(bare.cpu.text, "unknown");
  assert.equal(bare.gpusAllocated.text, "unknown");
});

test("node filters, and who may do what", () => {
  const nodes = [
    { name: "h100-0", condition: "ready", gpus: [gpu()], jobs: [] },
    { name: "h100-1", condition: "cordoned", gpus: [gpu()], jobs: [] },
    { name: "l40s-0", condition: "ready", gpus: [gpu({ model: "L40S" })], jobs: [] },
  ];
  assert.deepEqual(nv.filterNodes(nodes, { q: "h100" }).map((n) => n.name), ["h100-0", "h100-1"]);
  assert.deepEqual(nv.filterNodes(nodes, { condition: "ready", model: "L40S" }).map((n) => n.name), ["l40s-0"]);
  assert.deepEqual(nv.modelsOf(nodes), ["H100-SXM", "L40S"]);
  const admin = { user: "admin", admin: true }, alice = { user: "alice", admin: false };
  assert.deepEqual(nv.nodeActions(admin, "ready"), ["cordon", "drain"]);
  assert.deepEqual(nv.nodeActions(admin, "cordoned"), ["drain", "uncordon"]);
  assert.deepEqual(nv.nodeActions(alice, "ready"), []);
  assert.deepEqual(nv.nodeActions(null, "ready"), []);
  assert.equal(nv.mayCancel(alice, { user: "alice", state: "running" }), true);
  assert.equal(nv.mayCancel(alice, { user: "bob", state: "running" }), false);
  assert.equal(nv.mayCancel(admin, { user: "bob", state: "pending" }), true);
  assert.equal(nv.mayCancel(admin, { user: "bob", state: "cancelled" }), false);
});

test("jobs: a header click sorts on the server's key, the same header turns the order around", () => {
  const none = jt.parseSort({});
  assert.deepEqual(none, { key: "id", order: "desc" });
  assert.deepEqual(jt.sortParams(none), { sort: null, order: null });
  // Name starts A to Z; priority largest first; a second click turns it around.
  const byName = jt.nextSort(none, "name");
  assert.deepEqual(byName, { key: "name", order: "asc" });
  assert.deepEqual(jt.nextSort(byName, "name"), { key: "name", order: "desc" });
  assert.deepEqual(jt.nextSort(none, "priority"), { key: "priority", order: "desc" });
  assert.deepEqual(jt.nextSort(none, "id"), { key: "id", order: "asc" });
  assert.deepEqual(jt.nextSort(none, "submitted"), { key: "id", order: "asc" }); // ids are in submission order
  assert.equal(jt.nextSort(none, "gpus"), null); // the store has no GPU column to sort by
  assert.equal(jt.nextSort(none, "reason"), null);
  assert.equal(jt.ariaSort(byName, "name"), "ascending");
  assert.equal(jt.ariaSort(byName, "id"), undefined);
  // The hash keeps it, and an unknown key in a hand-made URL is the default.
  const h = route.routeHash("jobs", { ...jt.sortParams(byName), state: "pending" });
  assert.equal(h, "#/jobs?order=asc&sort=name&state=pending");
  assert.deepEqual(jt.parseSort(route.parseRoute(h).params), byName);
  assert.deepEqual(jt.parseSort({ sort: "gpus", order: "sideways" }), { key: "id", order: "desc" });
});

test("jobs: the column chooser's choice, in the hash", () => {
  const dflt = jt.parseColumns(undefined);
  assert.deepEqual(dflt, ["id", "name", "user", "queue", "state", "gpus", "node", "reason"]);
  assert.equal(jt.columnsParam(dflt), null);
  const more = jt.toggleColumn(dflt, "priority");
  // In the table's order: priority after node, before reason.
  assert.deepEqual(more, ["id", "name", "user", "queue", "state", "gpus", "node", "priority", "reason"]);
  const p = jt.columnsParam(jt.toggleColumn(more, "user"));
  assert.equal(p, "id,name,queue,state,gpus,node,priority,reason");
  assert.deepEqual(jt.parseColumns(p), ["id", "name", "queue", "state", "gpus", "node", "priority", "reason"]);
  // Unknown names are dropped; nothing left is the default; the last column cannot be hidden.
  assert.deepEqual(jt.parseColumns("bogus,state"), ["state"]);
  assert.deepEqual(jt.parseColumns("bogus"), dflt);
  assert.deepEqual(jt.toggleColumn(["state"], "state"), ["state"]);
});

test("routes: a node's page, its name encoded", () => {
  assert.deepEqual(route.parseRoute("#/nodes/h100%2Fa?x=1"), { page: "node", id: "h100/a", params: { x: "1" } });
  assert.deepEqual(route.parseRoute("#/nodes?condition=cordoned").params, { condition: "cordoned" });
});

// The view logic of the Queues, Submit, Plan and Experiments pages (src/planview.ts): the queue
// tree, chart scales and paths, the memory breakdown, the submission body.
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const v = await load("planview.ts");

const q = (name, parent, guaranteed, used, borrowed) => ({
  name, parent, guaranteed, limit: null, weight: 1, used, borrowed, pending: 0, running: 0,
});

test("the queue tree follows the parents, names in order, depth first", () => {
  // research (root) with children vision, nlp; prod (root); orphan names a parent not listed.
  const roots = v.buildQueueTree([
    q("vision", "research", 2, 0, 0), q("prod", null, 8, 2, 0), q("research", null, 4, 6, 2),
    q("nlp", "research", 2, 6, 4), q("orphan", "gone", 0, 0, 0),
  ]);
  assert.deepEqual(roots.map((n) => n.queue.name), ["orphan", "prod", "research"]);
  const rows = v.flattenTree(roots);
  assert.deepEqual(rows.map((n) => `${n.depth}:${n.queue.name}`),
    ["0:orphan", "0:prod", "0:research", "1:nlp", "1:vision"]);
});

test("lent is at most the idle guarantee and at most what the queues beside it borrow", () => {
  // Roots: prod guaranteed 8, uses 2 -> 6 idle; research borrows 2; orphan borrows 0.
  // prod lends at most min(6, 2) = 2. research: 4 - 6 < 0 idle -> 0.
  // Children of research: vision idle 2 - 0 = 2, nlp borrows 4 -> vision lends min(2, 4) = 2;
  // nlp idle max(0, 2 - 6) = 0 -> 0.
  const rows = v.flattenTree(v.buildQueueTree([
    q("prod", null, 8, 2, 0), q("research", null, 4, 6, 2), q("vision", "research", 2, 0, 0),
    q("nlp", "research", 2, 6, 4),
  ]));
  const lent = Object.fromEntries(rows.map((n) => [n.queue.name, n.lentAtMost]));
  assert.deepEqual(lent, { prod: 2, research: 0, nlp: 0, vision: 2 });
});

test("a parent cycle (never from the API) does not loop", () => {
  const rows = v.flattenTree(v.buildQueueTree([q("a", "b", 0, 0, 0), q("b", "a", 0, 0, 0)]));
  assert.equal(rows.length, 0); // neither is a root: nothing to show, and no hang
});

test("niceMax rounds up to 1, 2 or 5 x 10^k", () => {
  assert.equal(v.niceMax(72), 100);
  assert.equal(v.niceMax(49.6), 50);
  assert.equal(v.niceMax(50), 50);
  assert.equal(v.niceMax(11), 20);
  assert.equal(v.niceMax(0.3), 0.5);
  assert.equal(v.niceMax(0), 1);
  assert.equal(v.niceMax(NaN), 1);
});

test("scale maps the domain linearly, also reversed (SVG y grows downwards)", () => {
  const y = v.scale(0, 100, 200, 0);
  assert.equal(y(0), 200);
  assert.equal(y(25), 150);
  assert.equal(y(100), 0);
  assert.deepEqual(v.ticks(100, 4), [0, 25, 50, 75, 100]);
});

test("linePath breaks the line where a value is null", () => {
  // x = 10 i, y = v: points (0,1) (10,2), gap, (30,4).
  const d = v.linePath([1, 2, null, 4], (i) => 10 * i, (y) => y);
  assert.equal(d, "M0,1L10,2M30,4");
  assert.equal(v.linePath([null, null], (i) => i, (y) => y), "");
});

test("stackSegments lays the parts side by side on the scale", () => {
  // max 100 on 200 px: 2 px per unit. 40 -> 0..80, 10 -> 80..100, -5 -> 0 wide at 100.
  const s = v.stackSegments([{ key: "a", value: 40 }, { key: "b", value: 10 }, { key: "c", value: -5 }], 100, 200);
  assert.deepEqual(s.map((x) => [x.key, x.x, x.width]), [["a", 0, 80], ["b", 80, 20], ["c", 100, 0]]);
});

test("memoryParts reads the planner's infer answer; the parts add up to its total", () => {
  // The members as `gpupool plan infer --json` writes them (docs/planner.md): 16.92 + 20 + 1 +
  // 0.75 + 0.66 = 39.33 (the planner prints 39.32 from unrounded parts).
  const plan = {
    weights_gib_per_gpu: 16.92, kv_gib_per_gpu: 20.0, total_gib_per_gpu: 39.33,
    overhead_parts_gib: { cuda_context: 1.0, workspace: 0.75, activations: 0.66 },
  };
  const parts = v.memoryParts(plan);
  assert.deepEqual(parts.map((p) => p.key), ["weights", "kv_cache", "cuda_context", "workspace", "activations"]);
  const sum = parts.reduce((s, p) => s + p.value, 0);
  assert.ok(Math.abs(sum - 39.33) < 1e-9);
  assert.deepEqual(v.memoryParts(null), []);
});

test("nodesByVerdict groups the plan's nodes; unknown verdicts are left out", () => {
  const g = v.nodesByVerdict([
    { name: "a", verdict: "now" }, { name: "b", verdict: "never" }, { name: "c", verdict: "now" },
    { name: "d", verdict: "after_preemption" }, { name: "e", verdict: "bogus" },
  ]);
  assert.deepEqual(g, { now: ["a", "c"], after_preemption: ["d"], later: [], never: ["b"] });
});

test("the submission body has only the filled members, numbers as numbers", () => {
  const f = { ...v.emptyFields(), command: "python\ntrain.py\n--lr=0.1\n", gpus: "0.5", priority: "x",
    gpu_models: "H100, A100-80GB", env: "A=1\nB=x=y", preemptible: true };
  assert.deepEqual(v.submitBody(f), {
    command: ["python", "train.py", "--lr=0.1"],
    env: { A: "1", B: "x=y" },
    gpus: 0.5,
    priority: "x", // not a number: sent as given, for the server to name the member
    gpu_models: ["H100", "A100-80GB"],
    preemptible: true,
  });
  assert.deepEqual(v.submitBody(v.emptyFields()), { command: [] });
});

test("an API member maps to its form field", () => {
  assert.equal(v.memberField("env.PATH"), "env");
  assert.equal(v.memberField("command[0]"), "command");
  assert.equal(v.memberField("gpus"), "gpus");
  assert.equal(v.memberField(undefined), "");
});

test("a plan's submission goes through the URL into the form unchanged", () => {
  const submit = { gpus: 8, gpu_models: ["H100-SXM"], gpu_memory_mib: 50784, replicas: 2, priority: 5 };
  const params = v.planToParams(submit);
  assert.deepEqual(params, { gpus: "8", gpu_models: "H100-SXM", gpu_memory_mib: "50784", replicas: "2", priority: "5" });
  const f = v.fieldsFromParams({ ...params, command: "sleep\n1", bogus: "x" });
  assert.equal(f.gpus, "8");
  assert.equal(f.gpu_models, "H100-SXM");
  assert.equal("bogus" in f, false);
  const body = v.submitBody(f);
  assert.deepEqual(body, { command: ["sleep", "1"], gpus: 8, gpu_memory_mib: 50784, replicas: 2, priority: 5, gpu_models: ["H100-SXM"] });
});

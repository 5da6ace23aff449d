// View logic of the Queues, Submit, Plan and Experiments pages: pure functions from the API's JSON
// to what those pages draw (the queue tree, chart scales and paths, the memory breakdown, the
// submission body of the form). No DOM, no fetch: `node --test` runs them (web/test/planview.test.mjs).
// Figures come from the API as they are; these functions only arrange and scale them.
import { num, type Maybe } from "./view";

// ---- the queue tree (GET /api/v1/queues)

export interface ModelShareInfo {
  guaranteed: number;
  limit: number | null;
  used: number;
  borrowed: number;
}

export interface QueueInfo {
  name: string;
  parent: string | null;
  guaranteed: number;
  limit: number | null; // null: no limit
  weight: number;
  used: number;
  borrowed: number;
  pending: number;
  running: number;
  share_ratio?: number | null; // used / (weight x guarantee); null without a guarantee
  oldest_pending_at?: string | null;
  models?: Record<string, ModelShareInfo>;
}

export interface QueueNode {
  queue: QueueInfo;
  depth: number;
  children: QueueNode[];
  // The unused part of its guarantee that queues beside it (same parent) borrow now, at most:
  // min(guaranteed - used, what the others beside it borrow). The API does not say which queue
  // lends to which, so this is an upper bound, and labelled so.
  lentAtMost: number;
}

// The queues as a forest, in the hierarchy of their `parent`s: roots and children by name. A queue
// whose parent is not in the list is shown as a root (the API never gives one; a stale view might).
export function buildQueueTree(queues: QueueInfo[]): QueueNode[] {
  const byName = new Map<string, QueueNode>();
  for (const q of queues) byName.set(q.name, { queue: q, depth: 0, children: [], lentAtMost: 0 });
  const roots: QueueNode[] = [];
  for (const q of queues) {
    const node = byName.get(q.name)!;
    const parent = q.parent ? byName.get(q.parent) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const byQueueName = (a: QueueNode, b: QueueNode) => (a.queue.name < b.queue.name ? -1 : a.queue.name > b.queue.name ? 1 : 0);
  const seen = new Set<QueueNode>();
  const settle = (level: QueueNode[], depth: number) => {
    level.sort(byQueueName);
    const borrowed = level.reduce((s, n) => s + Math.max(0, n.queue.borrowed), 0);
    for (const n of level) {
      if (seen.has(n)) continue; // a cycle: never from the API, but never loop
      seen.add(n);
      n.depth = depth;
      const idle = Math.max(0, n.queue.guaranteed - n.queue.used);
      const others = borrowed - Math.max(0, n.queue.borrowed);
      n.lentAtMost = Math.min(idle, Math.max(0, others));
      settle(n.children, depth + 1);
    }
  };
  settle(roots, 0);
  return roots;
}

// The tree depth first (a parent before its children), as the table's rows.
export function flattenTree(roots: QueueNode[]): QueueNode[] {
  const out: QueueNode[] = [];
  const walk = (ns: QueueNode[]) => {
    for (const n of ns) {
      out.push(n);
      walk(n.children);
    }
  };
  walk(roots);
  return out;
}

// Seconds from an ISO time to `nowMs`; null for no time.
export function waitedSeconds(at: unknown, nowMs: number): Maybe<number> {
  if (typeof at !== "string" || at === "") return null;
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return null;
  return Math.max(0, (nowMs - t) / 1000);
}

// ---- charts (plain SVG)

// The smallest 1, 2 or 5 x 10^k at or above `v` (an axis' top); 1 for v <= 0 or unknown.
export function niceMax(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) {
    if (m * p >= v * (1 - 1e-12)) return m * p;
  }
  return 10 * p;
}

// Maps [d0, d1] linearly onto [r0, r1].
export function scale(d0: number, d1: number, r0: number, r1: number): (x: number) => number {
  const span = d1 - d0 || 1;
  return (x) => r0 + ((x - d0) / span) * (r1 - r0);
}

// Evenly spaced ticks 0..max (count + 1 of them).
export function ticks(max: number, count = 4): number[] {
  const out: number[] = [];
  for (let i = 0; i <= count; i++) out.push((max * i) / count);
  return out;
}

// An SVG path through (i, values[i]); a null or non-number value breaks the line (no point drawn
// where a curve has no value). Coordinates rounded to 0.1 px.
export function linePath(values: unknown[], x: (i: number) => number, y: (v: number) => number): string {
  let d = "";
  let pen = false;
  const r = (v: number) => Math.round(v * 10) / 10;
  values.forEach((v, i) => {
    const n = num(v);
    if (n === null) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${r(x(i))},${r(y(n))}`;
    pen = true;
  });
  return d;
}

export interface Segment {
  key: string;
  value: number;
  x: number;
  width: number;
}

// Parts laid side by side on a bar `width` wide for a scale of 0..max: each part's x and width.
// Negative or unknown parts count as 0.
export function stackSegments(parts: { key: string; value: unknown }[], max: number, width: number): Segment[] {
  const s = scale(0, max, 0, width);
  let at = 0;
  return parts.map((p) => {
    const v = Math.max(0, num(p.value) ?? 0);
    const seg = { key: p.key, value: v, x: s(at), width: s(at + v) - s(at) };
    at += v;
    return seg;
  });
}

// ---- the plan (POST /api/v1/plan)

// The memory of one GPU as the planner's infer answer splits it (GiB): weights, KV cache, and the
// runtime overhead's parts; their sum is the answer's total_gib_per_gpu.
export function memoryParts(plan: Record<string, unknown> | null): { key: string; value: number }[] {
  if (!plan) return [];
  const o = (plan.overhead_parts_gib ?? {}) as Record<string, unknown>;
  return [
    { key: "weights", value: num(plan.weights_gib_per_gpu) ?? 0 },
    { key: "kv_cache", value: num(plan.kv_gib_per_gpu) ?? 0 },
    { key: "cuda_context", value: num(o.cuda_context) ?? 0 },
    { key: "workspace", value: num(o.workspace) ?? 0 },
    { key: "activations", value: num(o.activations) ?? 0 },
  ];
}

export type Verdict = "now" | "after_preemption" | "later" | "never";
export const VERDICTS: Verdict[] = ["now", "after_preemption", "later", "never"];

// The plan's nodes grouped by verdict, each group's names in the API's order.
export function nodesByVerdict(nodes: { name: string; verdict: string }[]): Record<Verdict, string[]> {
  const out: Record<Verdict, string[]> = { now: [], after_preemption: [], later: [], never: [] };
  for (const n of nodes) {
    if ((VERDICTS as string[]).includes(n.verdict)) out[n.verdict as Verdict].push(n.name);
  }
  return out;
}

// ---- the submit form (POST /api/v1/jobs)

// The form's fields, as text (what the inputs hold). `command` and `env` one item a line.
export interface SubmitFields {
  name: string;
  command: string;
  workdir: string;
  env: string;
  gpus: string;
  gpu_memory_mib: string;
  gpu_models: string;
  cpu_milli: string;
  memory_mib: string;
  replicas: string;
  queue: string;
  priority: string;
  time_limit_s: string;
  topology: string;
  preemptible: boolean;
  requeue: boolean;
}

export const NUMBER_FIELDS = ["gpus", "gpu_memory_mib", "cpu_milli", "memory_mib", "replicas", "priority", "time_limit_s"] as const;

export function emptyFields(): SubmitFields {
  return {
    name: "", command: "", workdir: "", env: "", gpus: "", gpu_memory_mib: "", gpu_models: "",
    cpu_milli: "", memory_mib: "", replicas: "", queue: "", priority: "", time_limit_s: "",
    topology: "", preemptible: false, requeue: false,
  };
}

// The submission body: only the members filled in (the server's defaults hold for the rest);
// numbers as numbers where they read as one, otherwise the text as given, so that the server
// names the member ("gpus: must be a number"). The command is one argument a line (no shell:
// the server runs the argument vector), env one KEY=VALUE a line, gpu_models comma-separated.
export function submitBody(f: SubmitFields): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const lines = (s: string) => s.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l.trim() !== "");
  if (f.name.trim()) body.name = f.name.trim();
  body.command = lines(f.command);
  if (f.workdir.trim()) body.workdir = f.workdir.trim();
  if (f.env.trim()) {
    const env: Record<string, string> = {};
    for (const l of lines(f.env)) {
      const eq = l.indexOf("=");
      env[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
    }
    body.env = env;
  }
  for (const k of NUMBER_FIELDS) {
    const v = f[k].trim();
    if (v === "") continue;
    const n = Number(v);
    body[k] = Number.isFinite(n) ? n : v;
  }
  if (f.gpu_models.trim()) body.gpu_models = f.gpu_models.split(",").map((m) => m.trim()).filter(Boolean);
  if (f.queue.trim()) body.queue = f.queue.trim();
  if (f.topology.trim()) body.topology = f.topology.trim();
  if (f.preemptible) body.preemptible = true;
  if (f.requeue) body.requeue = true;
  return body;
}

// The form field an API error's member belongs to: "env.PATH" -> "env", "command[0]" ->
// "command", "gpus" -> "gpus"; "" for none.
export function memberField(member: unknown): string {
  if (typeof member !== "string") return "";
  return member.split(/[.[]/)[0];
}

// The plan's submission members (PlanResult.submit) as the URL parameters of the submit page.
export function planToParams(submit: Record<string, unknown> | null): Record<string, string> {
  if (!submit) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(submit)) {
    if (Array.isArray(v)) out[k] = v.join(",");
    else if (v !== null && v !== undefined) out[k] = String(v);
  }
  return out;
}

// The form's fields from the URL parameters (those that are fields; the rest ignored).
export function fieldsFromParams(params: Record<string, string>): SubmitFields {
  const f = emptyFields();
  for (const [k, v] of Object.entries(params)) {
    if (k === "preemptible" || k === "requeue") f[k] = v === "true";
    else if (k in f) (f as unknown as Record<string, string>)[k] = v;
  }
  return f;
}

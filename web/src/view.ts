// The dashboard's view logic: pure functions from the API's JSON to what the pages show. No DOM,
// no fetch: `node --test` runs them (web/test/). Figures come from the API as they are (one source
// for each fact); these functions only format, classify and order them. A value the API does not
// give (absent, null, not a number) is `unknown`, never 0.

export const UNKNOWN = null;
export type Maybe<T> = T | null;

// A finite number from the API, or null (unknown).
export function num(v: unknown): Maybe<number> {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

// Milli-GPU (1000 = one GPU) as GPUs: "3.75"; unknown as the caller's word for it.
export function formatGpus(milli: unknown, unknownText: string): string {
  const m = num(milli);
  if (m === null) return unknownText;
  const g = m / 1000;
  return Number.isInteger(g) ? String(g) : String(Math.round(g * 1000) / 1000);
}

// A percentage with one decimal: "46.9 %".
export function formatPct(v: unknown, unknownText: string): string {
  const p = num(v);
  return p === null ? unknownText : `${p.toFixed(1)} %`;
}

export function formatCount(v: unknown, unknownText: string): string {
  const n = num(v);
  return n === null ? unknownText : String(n);
}

// MiB as GiB: "80 GiB".
export function formatMib(v: unknown, unknownText: string): string {
  const n = num(v);
  if (n === null) return unknownText;
  const g = n / 1024;
  return `${Number.isInteger(g) ? g : g.toFixed(1)} GiB`;
}

// Seconds as "1h 02m", "3m 05s", "12s".
export function formatDuration(seconds: unknown, unknownText: string): string {
  const s = num(seconds);
  if (s === null || s < 0) return unknownText;
  const t = Math.floor(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), r = t % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

// ---- the pool (GET /api/v1/pool)

export interface PoolModel {
  model: string;
  gpus: number;
  free_gpus: number;
  allocated_milli: number;
  capacity_milli: number;
  fragmented_milli?: number; // the scheduler's measure on this model's nodes (GET /api/v1/pool)
  fragmentation_pct?: number; // of this model's free milli-GPU
  in_use_milli?: number | null; // NVML utilization summed, in milli-GPU; null: no GPU reports it
}

export interface Overview {
  gpusTotal: Maybe<number>;
  gpusAllocatedMilli: Maybe<number>;
  gpusCapacityMilli: Maybe<number>;
  gpusInUseMilli: Maybe<number>; // null where no GPU reports NVML utilization
  gpusWhole: Maybe<number>; // GPUs with nothing left
  gpusShared: Maybe<number>; // GPUs partly allocated (fractional jobs)
  gpusFree: Maybe<number>;
  gpusUnusable: Maybe<number>;
  fragmentedMilli: Maybe<number>;
  freeMilli: Maybe<number>;
  fragmentationPct: Maybe<number>; // the API's figure, as it is
  nodes: { schedulable: Maybe<number>; cordoned: Maybe<number>; unhealthy: Maybe<number>; total: Maybe<number> };
  jobs: { pending: Maybe<number>; running: Maybe<number> };
  models: PoolModel[];
}

const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

// The overview's figures from the pool and the nodes (either may be missing: its figures are then
// unknown). Node counts: schedulable = ready; cordoned = cordoned or draining; unhealthy.
export function overview(pool: unknown, nodes: Maybe<NodeInfo[]>): Overview {
  const p = obj(pool), g = obj(p.gpus), m = obj(p.milli), j = obj(p.jobs);
  const count = (c: (n: NodeInfo) => boolean) => (nodes === null ? null : nodes.filter(c).length);
  return {
    gpusTotal: num(g.total),
    gpusAllocatedMilli: num(m.allocated),
    gpusCapacityMilli: num(m.capacity),
    gpusInUseMilli: num(m.in_use),
    gpusWhole: num(g.allocated),
    gpusShared: num(g.shared),
    gpusFree: num(g.free),
    gpusUnusable: num(g.unusable),
    fragmentedMilli: num(p.fragmented_milli),
    freeMilli: num(m.free),
    fragmentationPct: num(p.fragmentation_pct),
    nodes: {
      schedulable: count((n) => n.condition === "ready"),
      cordoned: count((n) => n.condition === "cordoned" || n.condition === "draining"),
      unhealthy: count((n) => n.condition === "unhealthy"),
      total: nodes === null ? null : nodes.length,
    },
    jobs: { pending: num(j.pending), running: num(j.running) },
    models: Array.isArray(p.by_model) ? (p.by_model as PoolModel[]) : [],
  };
}

// ---- nodes and the heat map (GET /api/v1/nodes)

export interface GpuInfo {
  index: number;
  uuid: string;
  model: string;
  memory_mib: number;
  milli_used: number;
  memory_used_mib: number;
  healthy: boolean;
  jobs: number[];
  // Why the GPU takes no new work (the scheduler's words); null or absent when it takes work.
  no_work_reason?: string | null;
  // MIG mode: the GPU's instances; null or absent when MIG is off or unknown.
  mig?: { instances: MigInstanceInfo[] } | null;
}
export interface MigInstanceInfo {
  profile: string; // "3g.40gb"
  memory_mib: number; // 0: unknown
  uuid: string | null;
}
export interface NodeInfo {
  name: string;
  condition: string;
  gpu_model: string | null;
  simulated?: boolean;
  gpus: GpuInfo[];
  jobs: number[];
}

export type CellKind = "free" | "fractional" | "whole" | "fragmented" | "unusable" | "unknown" | "mig";

// One MIG instance drawn inside its GPU's cell: `x` and `width` are fractions of the cell's width.
export interface MigSlot {
  profile: string;
  memoryMib: number;
  slices: number; // compute slices, the profile's "<N>g"
  x: number;
  width: number;
}

export interface Cell {
  node: string;
  gpu: number;
  kind: CellKind;
  freeFraction: number; // 0..1 (0 when unknown)
  usedMilli: Maybe<number>; // null: the API did not say
  jobs: number[];
  why: string | null; // why a free part cannot be used (a key of the string table and numbers)
  mig: MigSlot[]; // kind "mig": its instances, left to right; otherwise empty
  memoryMib: Maybe<number>; // the GPU's memory (null: unknown, as for trace nodes: 0 in the API)
  memoryAllocatedMib: Maybe<number>; // what jobs asked for of it
}

// A MIG GPU's instances side by side, in the API's order, each as wide as its compute slices (the
// profile's "<N>g": 3g.40gb -> 3) out of the GPU's: 7 (A100, H100: 7g is the whole GPU), or the
// instances' sum when it is more (8 at most, the inventory's limit). A profile without "<N>g" counts
// one slice.
export function migSlots(instances: MigInstanceInfo[]): MigSlot[] {
  const slices = instances.map((m) => {
    const n = /^(\d+)g\./.exec(m.profile ?? "");
    return n ? Math.max(1, Number(n[1])) : 1;
  });
  const of = Math.max(7, slices.reduce((a, b) => a + b, 0));
  let at = 0;
  return instances.map((m, i) => {
    const slot = { profile: m.profile, memoryMib: num(m.memory_mib) ?? 0, slices: slices[i], x: at / of, width: slices[i] / of };
    at += slices[i];
    return slot;
  });
}

// The head of the queue as the API gives it (GET /api/v1/pool "head", the stream's "head"): the
// job the scheduler tries first and, per node, the GPUs with something free that cannot take a
// GPU's worth of one of its replicas, with the scheduler's words for why. null: nothing pending.
export interface Head {
  job: number;
  queue?: string;
  replicas?: number;
  gpus_per_replica?: number;
  gpu_milli?: number;
  stranded?: { node: string; gpus: number[]; why: string }[];
}

// The head's stranded GPUs as node -> GPU index -> why.
export function strandedIndex(head: unknown): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  const list = (head as Head | null)?.stranded;
  if (!Array.isArray(list)) return out;
  for (const s of list) {
    const byGpu = out.get(s.node) ?? new Map<number, string>();
    for (const g of s.gpus ?? []) byGpu.set(g, s.why);
    out.set(s.node, byGpu);
  }
  return out;
}

// A cell: a GPU of a node. A GPU with something free that the scheduler says cannot take the head
// of the queue (`stranded`, from strandedIndex) is fragmented: free, but not for the job that waits
// first; `why` is then "why_stranded_" + the scheduler's reason ("gpus", "model", "cpu", ...). Unusable: an unhealthy GPU or a node that takes no
// work. A GPU in MIG mode (the API's `mig`) is "mig": its instances are drawn inside the cell
// (migSlots) and it takes no job (gpupool does not place jobs on MIG instances yet). A GPU whose
// use the API does not give is "unknown" (drawn apart, never as free).
export function cellOf(node: NodeInfo, gpu: GpuInfo, stranded: Map<string, Map<number, string>>): Cell {
  const known = num(gpu.milli_used);
  const used = known ?? 1000;
  const free = Math.max(0, 1000 - used);
  let kind: CellKind;
  let why: string | null = null;
  const instances = gpu.mig && Array.isArray(gpu.mig.instances) ? gpu.mig.instances : null;
  if (instances !== null) {
    kind = "mig";
    why = "why_mig";
  } else if (known === null) {
    kind = "unknown";
    why = "why_unknown";
  } else if (!gpu.healthy || node.condition !== "ready") {
    kind = "unusable";
    why = !gpu.healthy ? "why_gpu_unhealthy" : "why_node_" + node.condition;
  } else if (used >= 1000) {
    kind = "whole";
  } else if (stranded.get(node.name)?.has(gpu.index)) {
    kind = "fragmented";
    why = "why_stranded_" + stranded.get(node.name)!.get(gpu.index);
  } else if (used > 0) {
    kind = "fractional";
  } else {
    kind = "free";
  }
  return {
    node: node.name, gpu: gpu.index, kind, freeFraction: free / 1000, usedMilli: known, jobs: gpu.jobs ?? [], why,
    mig: instances === null ? [] : migSlots(instances),
    memoryMib: num(gpu.memory_mib) || null,
    memoryAllocatedMib: num(gpu.memory_used_mib),
  };
}

// The heat map's layout: one row per node, in the API's order, `columns` wide (the most GPUs of
// any node); cells in GPU order. `head`: the API's head of the queue (null: nothing pending).
export function heatRows(nodes: NodeInfo[], head: unknown): { columns: number; rows: Cell[][] } {
  const stranded = strandedIndex(head);
  let columns = 0;
  const rows = nodes.map((n) => {
    columns = Math.max(columns, n.gpus.length);
    return n.gpus.map((g) => cellOf(n, g, stranded));
  });
  return { columns, rows };
}

// The fill colour of a cell: hue from red (nothing free) to green (all free).
export function cellColour(c: Cell): string {
  if (c.kind === "unusable") return "var(--cell-unusable)";
  if (c.kind === "unknown") return "var(--cell-unknown)";
  if (c.kind === "mig") return "var(--cell-mig)";
  return `hsl(${Math.round(c.freeFraction * 120)} 60% 45%)`;
}

// ---- jobs (GET /api/v1/jobs: newest first, paged by cursor)

export interface JobRow {
  id: number;
  name?: string;
  user?: string;
  queue?: string;
  state: string;
  reason?: string | null;
  resources?: { gpus?: number; gpu_milli?: number; num_gpu?: number; replicas?: number };
  submitted_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  priority?: number;
  placement?: { node: string }[] | null;
}

// The rows of a refreshed page in the server's order: the server sorts by the page's key with
// ties broken by id (GET /api/v1/jobs?sort=), so a row moves only when its sort key changed, never
// because its state or reason did under another key. A duplicate id keeps its first place and the
// newest data.
export function stableRows(rows: JobRow[]): JobRow[] {
  const byId = new Map<number, JobRow>();
  for (const r of rows) byId.set(r.id, r);
  const seen = new Set<number>();
  return rows.filter((r) => !seen.has(r.id) && seen.add(r.id)).map((r) => byId.get(r.id)!);
}

// The GPUs a job asks for: "0.5", "8", "8x2" (replicas).
export function jobGpus(j: JobRow, unknownText: string): string {
  const r = j.resources;
  if (!r || num(r.gpus) === null) return unknownText;
  const per = String(r.gpus);
  return (r.replicas ?? 1) > 1 ? `${per}x${r.replicas}` : per;
}

// ---- the live stream's state (see docs/api.md, GET /api/v1/events/stream)

export interface StreamState {
  pool: unknown;
  nodes: Record<string, NodeInfo>;
  head?: unknown; // the head of the queue (Head), null when nothing is pending
}

// Applies a delta: each section replaced, or for per-member sections ("nodes") each member
// replaced, or removed when null. Returns a new object (the old one is not changed).
export function applyDelta(state: StreamState, delta: Record<string, unknown>): StreamState {
  const next: StreamState = { pool: state.pool, nodes: { ...state.nodes }, head: state.head };
  for (const [section, value] of Object.entries(delta)) {
    if (section === "nodes") {
      for (const [name, node] of Object.entries(obj(value))) {
        if (node === null) delete next.nodes[name];
        else next.nodes[name] = node as NodeInfo;
      }
    } else if (section === "pool") {
      next.pool = value;
    } else if (section === "head") {
      next.head = value;
    }
  }
  return next;
}

// Node objects in a stable order: by name (a snapshot's object keys come sorted by the server too).
export function nodeList(nodes: Record<string, NodeInfo>): NodeInfo[] {
  return Object.keys(nodes)
    .sort()
    .map((k) => nodes[k]);
}

// ---- the pool over time (GET /api/v1/pool/history)

// The time ranges the API serves, shortest first; the first is the default.
export const RANGES = ["1h", "6h", "24h", "7d", "30d"] as const;
export type Range = (typeof RANGES)[number];

// A range from the URL: one of RANGES, else the default ("1h").
export function parseRange(v: unknown): Range {
  return (RANGES as readonly unknown[]).includes(v) ? (v as Range) : RANGES[0];
}

// The trend chart's series, in uPlot's layout: x in Unix seconds, then capacity, allocated, in use
// and fragmented, in GPUs. A point the API gives as null (in use without NVML readings) or not at
// all stays null, which the chart draws as a gap, never as 0; and where two points are further
// apart than 1.5 resolutions (the service was down, or sampled nothing), a null point is put
// between them so that the line breaks there instead of joining across the hole.
export const TREND_SERIES = ["capacity_milli", "allocated_milli", "in_use_milli", "fragmented_milli"] as const;
export interface Trend {
  data: Maybe<number>[][]; // [x, ...one array per TREND_SERIES]
  resolutionS: Maybe<number>;
  points: number; // points from the API (the gaps' nulls not counted)
  span: [number, number] | null; // the range asked for (from, to) in Unix seconds: the x axis
}

export function trendData(history: unknown): Trend {
  const h = obj(history), series = obj(h.series);
  const times = Array.isArray(series.time_ms) ? (series.time_ms as unknown[]) : [];
  const resolutionS = num(h.resolution_s);
  const columns = TREND_SERIES.map((k) => (Array.isArray(series[k]) ? (series[k] as unknown[]) : []));
  const data: Maybe<number>[][] = [[], ...TREND_SERIES.map(() => [])];
  let points = 0;
  let prev: number | null = null;
  for (let i = 0; i < times.length; i++) {
    const t = num(times[i]);
    if (t === null) continue;
    const x = t / 1000;
    if (prev !== null && resolutionS !== null && x - prev > 1.5 * resolutionS) {
      data[0].push(prev + resolutionS);
      for (let s = 0; s < columns.length; s++) data[s + 1].push(null);
    }
    data[0].push(x);
    for (let s = 0; s < columns.length; s++) {
      const v = num(columns[s][i]);
      data[s + 1].push(v === null ? null : v / 1000);
    }
    prev = x;
    points++;
  }
  const from = typeof h.from === "string" ? Date.parse(h.from) : NaN;
  const to = typeof h.to === "string" ? Date.parse(h.to) : NaN;
  const span: [number, number] | null = Number.isFinite(from) && Number.isFinite(to) && from < to ? [from / 1000, to / 1000] : null;
  return { data, resolutionS, points, span };
}

// How often the chart reloads: once per point of its resolution, at least every 10 s and at most
// every 5 minutes.
export function trendRefreshMs(resolutionS: Maybe<number>): number {
  const s = resolutionS === null ? 10 : Math.min(300, Math.max(10, resolutionS));
  return s * 1000;
}

// The Nodes and GPUs page's view logic, pure (node --test runs it): each figure of a node or a GPU
// with its source (the inventory, the scheduler or NVML, as docs/api.md says of GET
// /api/v1/nodes), unknown when the API does not give it (a simulated node has no NVML reading:
// its utilization is unknown, never 0); the page's filters; and who may do what.
import { formatCount, formatGpus, formatMib, num, type GpuInfo, type NodeInfo } from "./view";

export type Source = "inventory" | "scheduler" | "nvml";

export interface NvmlReading {
  error: string | null;
  utilization_pct: number | null;
  memory_used_mib: number | null;
  memory_total_mib: number | null;
  temperature_c: number | null;
  power_w: number | null;
  power_limit_w: number | null;
}
export interface Share {
  job: number;
  milli: number;
  memory_mib: number;
}
export interface GpuDetail extends GpuInfo {
  shares?: Share[];
  nvml?: NvmlReading | null;
}
export interface NodeDetail extends NodeInfo {
  cpu_milli?: number;
  cpu_used_milli?: number;
  memory_mib?: number;
  memory_used_mib?: number;
  gpus: GpuDetail[];
}

// A figure as shown: its text (the unknown word when unknown) and where it comes from.
export interface Shown {
  text: string;
  known: boolean;
  source: Source;
}

const shown = (text: string | null, source: Source, u: string): Shown =>
  text === null ? { text: u, known: false, source } : { text, known: true, source };

export function formatWatts(v: unknown, u: string): string {
  const w = num(v);
  return w === null ? u : `${Number.isInteger(w) ? w : w.toFixed(1)} W`;
}
export function formatCelsius(v: unknown, u: string): string {
  const c = num(v);
  return c === null ? u : `${c} °C`;
}
export function formatPercent(v: unknown, u: string): string {
  const p = num(v);
  return p === null ? u : `${p} %`;
}

// A GPU's figures: the inventory's (UUID, model, memory), the scheduler's (the share allocated,
// the memory given to jobs, health) and NVML's (utilization, memory in use, power, temperature).
export function gpuFigures(g: GpuDetail, u: string) {
  const n = g.nvml ?? null;
  const memory = num(g.memory_mib);
  const nvmlMem = n ? num(n.memory_used_mib) : null;
  return {
    uuid: shown(g.uuid || null, "inventory", u),
    model: shown(g.model || null, "inventory", u),
    memory: shown(memory === null ? null : formatMib(memory, u), "inventory", u),
    shareUsed: shown(num(g.milli_used) === null ? null : `${formatGpus(g.milli_used, u)} / 1`, "scheduler", u),
    memoryAllocated: shown(num(g.memory_used_mib) === null ? null : formatMib(g.memory_used_mib, u), "scheduler", u),
    memoryUsed: shown(nvmlMem === null ? null : formatMib(nvmlMem, u), "nvml", u),
    utilization: shown(n && num(n.utilization_pct) !== null ? formatPercent(n.utilization_pct, u) : null, "nvml", u),
    power: shown(n && num(n.power_w) !== null
      ? formatWatts(n.power_w, u) + (num(n.power_limit_w) !== null ? ` / ${formatWatts(n.power_limit_w, u)}` : "")
      : null, "nvml", u),
    temperature: shown(n && num(n.temperature_c) !== null ? formatCelsius(n.temperature_c, u) : null, "nvml", u),
    nvmlError: n?.error ?? null,
  };
}

// A node's figures: CPU and memory allocated of the inventory's capacity (the scheduler's count),
// GPUs and their shares in use.
export function nodeFigures(n: NodeDetail, u: string) {
  const cap = (used: unknown, total: unknown, f: (v: unknown) => string) =>
    num(used) === null || num(total) === null ? null : `${f(used)} / ${f(total)}`;
  const cores = (m: unknown) => {
    const v = num(m);
    return v === null ? u : String(Math.round(v / 100) / 10);
  };
  const milli = n.gpus.reduce((a, g) => (a === null || num(g.milli_used) === null ? null : a + (g.milli_used as number)), 0 as number | null);
  return {
    cpu: shown(cap(n.cpu_used_milli, n.cpu_milli, cores), "scheduler", u),
    memory: shown(cap(n.memory_used_mib, n.memory_mib, (v) => formatMib(v, u)), "scheduler", u),
    gpus: shown(formatCount(n.gpus.length, u), "inventory", u),
    gpusAllocated: shown(milli === null ? null : `${formatGpus(milli, u)} / ${n.gpus.length}`, "scheduler", u),
    healthyGpus: shown(String(n.gpus.filter((g) => g.healthy).length), "scheduler", u),
  };
}

// The nodes the page's filters keep: a name containing `q`, a condition, a GPU model.
export function filterNodes(nodes: NodeInfo[], f: { q?: string; condition?: string; model?: string }): NodeInfo[] {
  return nodes.filter((n) =>
    (!f.q || n.name.includes(f.q)) &&
    (!f.condition || n.condition === f.condition) &&
    (!f.model || n.gpus.some((g) => g.model === f.model)));
}

// The GPU models of the nodes, sorted (the model filter's choices).
export function modelsOf(nodes: NodeInfo[]): string[] {
  return [...new Set(nodes.flatMap((n) => n.gpus.map((g) => g.model)))].sort();
}

// ---- who may do what (what the server allows: docs/api.md, Authentication)

export interface WhoAmI {
  user: string;
  admin: boolean;
}

export type NodeAction = "cordon" | "drain" | "uncordon";

// The actions that change a node of `condition`: only the admin has any; each leads elsewhere.
export function nodeActions(who: WhoAmI | null, condition: string): NodeAction[] {
  if (!who?.admin) return [];
  const all: [NodeAction, string][] = [["cordon", "cordoned"], ["drain", "draining"], ["uncordon", "ready"]];
  return all.filter(([, to]) => to !== condition).map(([a]) => a);
}

const FINAL = new Set(["succeeded", "failed", "cancelled", "timed_out", "lost"]);

// Whether `who` may cancel the job: the admin or its owner, while it has not ended.
export function mayCancel(who: WhoAmI | null, job: { user?: string; state: string }): boolean {
  if (!who || FINAL.has(job.state)) return false;
  return who.admin || job.user === who.user;
}

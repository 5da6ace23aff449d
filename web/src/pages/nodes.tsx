// The Nodes and GPUs pages: "#/nodes" (every node, filtered by name, condition and GPU model, the
// filters in the hash) and "#/nodes/NAME" (its GPUs: UUID, model, the share and memory the
// scheduler gave out, NVML's utilization, memory in use, power and temperature, which job holds
// which share). The data is the live stream's (GET /api/v1/nodes); each figure names its source
// and an unknown one says so (nodes_view.ts). The admin may cordon, drain and uncordon, each
// confirmed (actions.tsx).
import type { ComponentChildren } from "preact";
import { api } from "../api";
import { ConfirmAction, useWhoAmI } from "../actions";
import type { Key } from "../i18n";
import type { Live } from "../live";
import type { T } from "../main";
import {
  filterNodes, gpuFigures, modelsOf, nodeActions, nodeFigures, type NodeAction, type NodeDetail, type Shown, type Source,
} from "../nodes_view";
import { routeHash } from "../route";
import { formatGpus, formatMib, nodeList } from "../view";

const CONDITIONS = ["ready", "cordoned", "draining", "unhealthy"];

function Loading({ t, error }: { t: T; error?: string | null }) {
  return error ? <p role="alert" class="error">{t("error", { message: error })}</p> : <p class="muted">{t("loading")}</p>;
}

function SourceTag({ t, source }: { t: T; source: Source }) {
  return <span class={`src src-${source}`} title={t(`source_${source}_help` as Key)}>{t(`source_${source}` as Key)}</span>;
}

// A figure's value, muted when unknown, with its source on hover.
function Val({ t, v, testid }: { t: T; v: Shown; testid?: string }) {
  return <span class={v.known ? "" : "unknown"} title={t(`source_${v.source}_help` as Key)} data-testid={testid}>{v.text}</span>;
}

function Th({ t, label, source }: { t: T; label: string; source?: Source }) {
  return <th scope="col">{label}{source && <> <SourceTag t={t} source={source} /></>}</th>;
}

function NodeActions({ t, node, condition }: { t: T; node: string; condition: string }) {
  const who = useWhoAmI();
  const actions = nodeActions(who, condition);
  if (!actions.length) return null;
  return (
    <span class="actions">
      {actions.map((a: NodeAction) => (
        <ConfirmAction key={a} t={t} testid={`${a}-${node}`} label={t(`action_${a}` as Key)}
          title={t(`${a}_title` as Key, { node })} body={t(`${a}_body` as Key)} confirm={t(`action_${a}` as Key)}
          run={() => api(`/api/v1/nodes/${encodeURIComponent(node)}/${a}`, { method: "POST" })} />
      ))}
    </span>
  );
}

function JobLinks({ ids }: { ids: number[] }) {
  return <>{ids.map((id, i) => <>{i > 0 && ", "}<a href={`#/jobs/${id}`}>{id}</a></>)}</>;
}

function Cond({ t, c }: { t: T; c: string }) {
  return <span class={`cond cond-${c}`}>{t(`cond_${c}` as Key)}</span>;
}

export function NodesPage({ t, live, params }: { t: T; live: Live | null; params: Record<string, string> }) {
  if (!live?.state) return <Loading t={t} error={live?.error} />;
  const all = nodeList(live.state.nodes) as NodeDetail[];
  const nodes = filterNodes(all, { q: params.q, condition: params.condition, model: params.model }) as NodeDetail[];
  const go = (patch: Record<string, string | null>) => { location.hash = routeHash("nodes", { ...params, ...patch }); };
  const u = t("unknown");
  return (
    <section aria-labelledby="nodes-title">
      <h2 id="nodes-title">{t("nodes_title")}</h2>
      <p class="muted">{t("nodes_help")}</p>
      <div class="filters">
        <label>{t("filter_node")}{" "}
          <input id="nodes-q" value={params.q ?? ""} onChange={(e) => go({ q: (e.target as HTMLInputElement).value })} />
        </label>
        <label>{t("filter_condition")}{" "}
          <select id="nodes-condition" value={params.condition ?? ""} onChange={(e) => go({ condition: (e.target as HTMLSelectElement).value })}>
            <option value="">{t("any")}</option>
            {CONDITIONS.map((c) => <option value={c}>{t(`cond_${c}` as Key)}</option>)}
          </select>
        </label>
        <label>{t("model")}{" "}
          <select id="nodes-model" value={params.model ?? ""} onChange={(e) => go({ model: (e.target as HTMLSelectElement).value })}>
            <option value="">{t("any")}</option>
            {modelsOf(all).map((m) => <option value={m}>{m}</option>)}
          </select>
        </label>
        <span class="muted">{t("nodes_shown", { shown: nodes.length, total: all.length })}</span>
      </div>
      <table class="nodes">
        <thead><tr>
          <Th t={t} label={t("col_node")} /><Th t={t} label={t("ncol_condition")} source="scheduler" />
          <Th t={t} label={t("gpus")} source="inventory" /><Th t={t} label={t("ncol_gpus_allocated")} source="scheduler" />
          <Th t={t} label={t("ncol_cpu")} source="scheduler" /><Th t={t} label={t("ncol_memory")} source="scheduler" />
          <Th t={t} label={t("ncol_healthy_gpus")} source="scheduler" /><Th t={t} label={t("ncol_running_jobs")} source="scheduler" />
          <th scope="col"><span class="sr-only">{t("ncol_actions")}</span></th>
        </tr></thead>
        <tbody>
          {nodes.map((n) => {
            const f = nodeFigures(n, u);
            return (
              <tr key={n.name} data-node={n.name} data-gpus={n.gpus.length}>
                <td><a href={`#/nodes/${encodeURIComponent(n.name)}`}>{n.name}</a>{n.simulated && <span class="muted"> ({t("node_sim_tag")})</span>}</td>
                <td><Cond t={t} c={n.condition} /></td>
                <td class="num">{n.gpus.length}{n.gpu_model ? ` × ${n.gpu_model}` : ""}</td>
                <td class="num"><Val t={t} v={f.gpusAllocated} /></td>
                <td class="num"><Val t={t} v={f.cpu} /></td>
                <td class="num"><Val t={t} v={f.memory} /></td>
                <td class="num"><Val t={t} v={f.healthyGpus} /> / {n.gpus.length}</td>
                <td><JobLinks ids={n.jobs} /></td>
                <td><NodeActions t={t} node={n.name} condition={n.condition} /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function Figure({ label, children, source, t }: { label: string; children: ComponentChildren; source: Source; t: T }) {
  return (
    <div class="figure">
      <div class="value">{children}</div>
      <div class="label">{label} <SourceTag t={t} source={source} /></div>
    </div>
  );
}

export function NodePage({ t, live, name }: { t: T; live: Live | null; name: string }) {
  if (!live?.state) return <Loading t={t} error={live?.error} />;
  const n = live.state.nodes[name] as NodeDetail | undefined;
  if (!n) return <p role="alert">{t("node_not_found", { node: name })} <a href="#/nodes">{t("back_to_nodes")}</a></p>;
  const u = t("unknown");
  const f = nodeFigures(n, u);
  return (
    <section aria-labelledby="node-title">
      <p><a href="#/nodes">{t("back_to_nodes")}</a></p>
      <h2 id="node-title">{t("node_title", { node: n.name })} <Cond t={t} c={n.condition} /></h2>
      <p class="muted">{n.simulated ? t("node_simulated") : t("node_discovered")}</p>
      <NodeActions t={t} node={n.name} condition={n.condition} />
      <div class="figures">
        <Figure t={t} label={t("ncol_gpus_allocated")} source="scheduler"><Val t={t} v={f.gpusAllocated} /></Figure>
        <Figure t={t} label={t("ncol_cpu")} source="scheduler"><Val t={t} v={f.cpu} /></Figure>
        <Figure t={t} label={t("ncol_memory")} source="scheduler"><Val t={t} v={f.memory} /></Figure>
        <Figure t={t} label={t("ncol_healthy_gpus")} source="scheduler"><Val t={t} v={f.healthyGpus} /> / {n.gpus.length}</Figure>
      </div>
      <h3>{t("gpus")}</h3>
      <div class="wide">
        <table class="gpus">
          <thead><tr>
            <Th t={t} label="#" /><Th t={t} label={t("ncol_uuid")} source="inventory" /><Th t={t} label={t("model")} source="inventory" />
            <Th t={t} label={t("ncol_share_used")} source="scheduler" />
            <Th t={t} label={t("ncol_memory_allocated")} source="scheduler" /><Th t={t} label={t("ncol_memory_used")} source="nvml" />
            <Th t={t} label={t("ncol_utilization")} source="nvml" /><Th t={t} label={t("ncol_power")} source="nvml" />
            <Th t={t} label={t("ncol_temperature")} source="nvml" /><Th t={t} label={t("ncol_health")} source="scheduler" />
            <Th t={t} label={t("ncol_shares")} source="scheduler" />
          </tr></thead>
          <tbody>
            {n.gpus.map((g) => {
              const v = gpuFigures(g, u);
              return (
                <tr key={g.index} data-gpu={g.index}>
                  <td class="num">{g.index}</td>
                  <td><code>{v.uuid.text}</code></td>
                  <td>{v.model.text}</td>
                  <td class="num"><Val t={t} v={v.shareUsed} /></td>
                  <td class="num"><Val t={t} v={v.memoryAllocated} /> / {v.memory.text}</td>
                  <td class="num"><Val t={t} v={v.memoryUsed} testid="gpu-mem-used" /></td>
                  <td class="num"><Val t={t} v={v.utilization} testid="gpu-util" /></td>
                  <td class="num"><Val t={t} v={v.power} testid="gpu-power" /></td>
                  <td class="num"><Val t={t} v={v.temperature} testid="gpu-temp" /></td>
                  <td>{g.healthy ? t("gpu_healthy") : <span class="error">{t("gpu_unhealthy")}</span>}
                    {v.nvmlError && <span class="error"> ({v.nvmlError})</span>}</td>
                  <td>{(g.shares ?? []).map((s, i) => (
                    <>{i > 0 && "; "}<a href={`#/jobs/${s.job}`}>{t("job_title", { id: s.job })}</a>
                      {": "}{formatGpus(s.milli, u)} GPU{s.memory_mib ? `, ${formatMib(s.memory_mib, u)}` : ""}</>
                  ))}{!(g.shares ?? []).length && (g.jobs.length ? <JobLinks ids={g.jobs} /> : "-")}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h3>{t("ncol_running_jobs")}</h3>
      <p>{n.jobs.length ? <JobLinks ids={n.jobs} /> : t("none")}</p>
    </section>
  );
}

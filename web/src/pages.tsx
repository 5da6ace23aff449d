// The pages: Overview, the pool heat map, the jobs list and a job. Each reads the API's figures
// as they are (view.ts formats them) and keeps its filters in the URL's hash (route.ts).
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api";
import type { Live } from "./live";
import type { T } from "./main";
import { CancelJob, useWhoAmI } from "./actions";
import {
  ariaSort, columnsParam, JOB_COLUMNS, nextSort, parseColumns, parseSort, sortParams, toggleColumn, type JobColumn,
} from "./jobs_table";
import type { Key } from "./i18n";
import { mayCancel } from "./nodes_view";
import { PreemptionLinks } from "./pages/preemption_links";
import { routeHash } from "./route";
import { JOB_STATES, ReasonTiers, StateBadge, stateWord, WithData } from "./words";
import { Trends } from "./trends";
import {
  cellColour, formatCount, formatGpus, formatMib, formatPct, heatRows, jobGpus, nodeList,
  overview, stableRows, type Cell, type Head, type JobRow, type NodeInfo,
} from "./view";

function Figure({ label, value, help }: { label: string; value: string; help?: string }) {
  return (
    <div class="figure" title={help}>
      <div class="value">{value}</div>
      <div class="label">{label}</div>
    </div>
  );
}

function Loading({ t, error }: { t: T; error?: string | null }) {
  return error ? <p role="alert" class="error">{t("error", { message: error })}</p> : <p class="muted">{t("loading")}</p>;
}

export function OverviewPage({ t, live, params }: { t: T; live: Live | null; params: Record<string, string> }) {
  if (!live?.state) return <Loading t={t} error={live?.error} />;
  const u = t("unknown");
  const o = overview(live.state.pool, nodeList(live.state.nodes));
  const allocated = `${formatGpus(o.gpusAllocatedMilli, u)} / ${formatCount(o.gpusTotal, u)}`;
  return (
    <section aria-labelledby="ov-gpus">
      <h2 id="ov-gpus">{t("gpus")}</h2>
      <div class="figures">
        <Figure label={t("gpus_allocated")} value={allocated} />
        <Figure label={t("gpus_in_use")} value={formatGpus(o.gpusInUseMilli, u)} help={t("gpus_in_use_help")} />
        <Figure label={t("gpus_whole")} value={formatCount(o.gpusWhole, u)} />
        <Figure label={t("gpus_shared")} value={formatCount(o.gpusShared, u)} />
        <Figure label={t("gpus_free")} value={formatCount(o.gpusFree, u)} />
        <Figure label={t("gpus_unusable")} value={formatCount(o.gpusUnusable, u)} />
      </div>
      <h2>{t("fragmentation")}</h2>
      <div class="figures">
        <Figure label={t("fragmentation_help")} value={formatPct(o.fragmentationPct, u)} />
        <Figure label={t("fragmentation")}
          value={t("fragmentation_of", { frag: formatGpus(o.fragmentedMilli, u), free: formatGpus(o.freeMilli, u) })} />
      </div>
      <h2>{t("nodes")}</h2>
      <div class="figures">
        <Figure label={t("nodes_schedulable")} value={formatCount(o.nodes.schedulable, u)} />
        <Figure label={t("nodes_cordoned")} value={formatCount(o.nodes.cordoned, u)} />
        <Figure label={t("nodes_unhealthy")} value={formatCount(o.nodes.unhealthy, u)} />
        <Figure label={t("jobs_running")} value={formatCount(o.jobs.running, u)} />
        <Figure label={t("jobs_pending")} value={formatCount(o.jobs.pending, u)} />
      </div>
      <h2>{t("by_model")}</h2>
      <table class="by-model">
        <thead><tr><th scope="col">{t("model")}</th><th scope="col">{t("gpus_total")}</th>
          <th scope="col">{t("free_gpus")}</th><th scope="col">{t("allocated_gpus")}</th>
          <th scope="col">{t("in_use_gpus")}</th><th scope="col">{t("fragmented_gpus")}</th>
          <th scope="col">{t("fragmentation_pct_col")}</th></tr></thead>
        <tbody>
          {o.models.map((m) => (
            <tr key={m.model} data-model={m.model}><td translate={false}>{m.model}</td><td class="num">{formatCount(m.gpus, u)}</td>
              <td class="num">{formatCount(m.free_gpus, u)}</td><td class="num">{formatGpus(m.allocated_milli, u)}</td>
              <td class="num">{formatGpus(m.in_use_milli, u)}</td>
              <td class="num frag-gpus">{formatGpus(m.fragmented_milli, u)}</td>
              <td class="num frag-pct">{formatPct(m.fragmentation_pct, u)}</td></tr>
          ))}
        </tbody>
      </table>
      <Trends t={t} params={params} models={o.models.map((m) => m.model)} />
    </section>
  );
}

const CELL_W = 14, CELL_H = 12, LABEL_W = 120;

export function HeatmapPage({ t, live, params }: { t: T; live: Live | null; params: Record<string, string> }) {
  if (!live?.state) return <Loading t={t} error={live?.error} />;
  const filter = params.node ?? "";
  const nodes = nodeList(live.state.nodes).filter((n) => n.name.includes(filter));
  const head = (live.state.head ?? null) as Head | null;
  const { columns, rows } = heatRows(nodes, head);
  const u = t("unknown");
  const title = (c: Cell) => {
    let s = t("cell_title", {
      node: c.node, gpu: c.gpu, used: formatGpus(c.usedMilli, u), jobs: c.jobs.join(", ") || t("none"),
      mem: formatMib(c.memoryAllocatedMib, u), memTotal: formatMib(c.memoryMib, u),
    });
    if (c.why) {
      s += " — " + t(c.why as Parameters<T>[0], {
        job: head?.job ?? u, count: head?.gpus_per_replica ?? u, share: formatGpus(head?.gpu_milli, u),
      });
    }
    if (c.kind === "mig") {
      s += " — " + t("mig_instances", { profiles: c.mig.map((m) => m.profile).join(", ") || t("none") });
    }
    return s;
  };
  return (
    <section aria-labelledby="hm-title">
      <h2 id="hm-title">{t("heatmap_title")}</h2>
      <p class="muted">{t("heatmap_help")}</p>
      <label for="node-filter">{t("filter_node")} </label>
      <input id="node-filter" value={filter}
        onChange={(e) => { location.hash = routeHash("heatmap", { node: (e.target as HTMLInputElement).value }); }} />
      <ul class="legend">
        {(["free", "fractional", "whole", "fragmented", "unusable", "unknown", "mig"] as const).map((k) => (
          <li><span class={`swatch swatch-${k}`} />{t(`legend_${k}`)}</li>
        ))}
      </ul>
      {/* translate: the cells hold data (node names, MIG profiles) and text already in the page's
          language; SVG elements take no translate attribute of their own, so it is set here. */}
      <div class="heatmap" translate={false}>
        <svg role="img" aria-label={t("heatmap_title")} width={LABEL_W + columns * CELL_W} height={rows.length * CELL_H}
          data-cells={rows.reduce((a, r) => a + r.length, 0)}>
          {rows.map((row, i) => (
            <g key={nodes[i].name} transform={`translate(0 ${i * CELL_H})`}>
              <text x={LABEL_W - 4} y={CELL_H - 2} text-anchor="end" class="node-label">{nodes[i].name}</text>
              {row.map((c) => (
                <g class={`cell cell-${c.kind}`} transform={`translate(${LABEL_W + c.gpu * CELL_W} 0)`}>
                  <title>{title(c)}</title>
                  <rect width={CELL_W - 2} height={CELL_H - 2} fill={cellColour(c)} />
                  {c.kind === "fractional" || c.kind === "fragmented"
                    ? <rect width={((CELL_W - 2) * (c.usedMilli ?? 0)) / 1000} height={3} y={CELL_H - 5} class="share" />
                    : null}
                  {c.kind === "fragmented" ? <path d={`M0 0 L${CELL_W - 2} ${CELL_H - 2}`} class="frag-mark" /> : null}
                  {c.mig.map((m, k) => (
                    <rect class="mig-instance" data-profile={m.profile} data-index={k}
                      x={m.x * (CELL_W - 2)} width={m.width * (CELL_W - 2)} y={2} height={CELL_H - 6}>
                      <title>{`${m.profile} (${m.memoryMib} MiB)`}</title>
                    </rect>
                  ))}
                </g>
              ))}
            </g>
          ))}
        </svg>
      </div>
    </section>
  );
}


// The string of each column's header.
const COL_LABEL: Record<JobColumn, Key> = {
  id: "col_id", name: "col_name", user: "col_user", queue: "col_queue", state: "col_state", gpus: "col_gpus",
  node: "col_node", priority: "jcol_priority", submitted: "col_submitted", started: "jcol_started",
  finished: "jcol_finished", reason: "col_reason",
};

export function JobsPage({ t, live, params }: { t: T; live: Live | null; params: Record<string, string> }) {
  const [page, setPage] = useState<{ jobs: JobRow[]; next: string | null; total: number | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  const who = useWhoAmI();
  const key = routeHash("jobs", params);
  // Reloads: new filters at once; a change of the pool at most twice a second (a change within
  // the half second is loaded when it ends, not dropped). Only the latest request's answer shows.
  const last = useRef({ at: 0, key: "" });
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef({ params, seq: 0 });
  latest.current.params = params;
  useEffect(() => {
    const load = () => {
      const p = latest.current.params;
      const seq = ++latest.current.seq;
      last.current = { at: Date.now(), key: routeHash("jobs", p) };
      const q = new URLSearchParams({ limit: "50" });
      for (const k of ["state", "user", "queue", "cursor"]) if (p[k]) q.set(k, p[k]);
      const sort = sortParams(parseSort(p)); // sorted on the server (jobs_table.ts)
      if (sort.sort) q.set("sort", sort.sort);
      if (sort.order) q.set("order", sort.order);
      api<{ jobs: JobRow[]; next_cursor: string | null; total: number }>(`/api/v1/jobs?${q}`)
        .then((r) => {
          if (seq !== latest.current.seq) return;
          setPage({ jobs: stableRows(r.jobs), next: r.next_cursor, total: r.total ?? null });
          setError(null);
        })
        .catch((e) => seq === latest.current.seq && setError(String(e.message ?? e)));
    };
    const wait = last.current.key === key ? 500 - (Date.now() - last.current.at) : 0;
    if (wait <= 0) {
      load();
    } else if (timer.current === null) {
      timer.current = setTimeout(() => {
        timer.current = null;
        load();
      }, wait);
    }
  }, [key, live?.state?.pool, refresh]);
  useEffect(() => () => { if (timer.current !== null) clearTimeout(timer.current); }, []);
  const go = (patch: Record<string, string | null>) => { location.hash = routeHash("jobs", { ...params, ...patch }); };
  const u = t("unknown");
  const cols = parseColumns(params.cols);
  const colLabel = (c: JobColumn) => t(COL_LABEL[c]);
  const sort = parseSort(params);
  const cell = (j: JobRow, c: JobColumn) => {
    switch (c) {
      case "id": return <td class="num"><a href={`#/jobs/${j.id}`}>{j.id}</a></td>;
      case "name": return <td translate={j.name === undefined}>{j.name ?? u}</td>;
      case "user": return <td translate={j.user === undefined}>{j.user ?? u}</td>;
      case "queue": return <td translate={j.queue === undefined}>{j.queue ?? u}</td>;
      case "state": return <td><StateBadge t={t} state={j.state} /></td>;
      case "gpus": return <td class="num">{jobGpus(j, u)}</td>;
      case "node": return <td translate={false}>{j.placement?.length ? j.placement.map((p) => p.node).join("+") : "-"}</td>;
      case "priority": return <td class="num">{formatCount(j.priority, u)}</td>;
      case "submitted": return <td translate={!j.submitted_at}>{j.submitted_at ?? u}</td>;
      case "started": return <td translate={false}>{j.started_at ?? "-"}</td>;
      case "finished": return <td translate={false}>{j.finished_at ?? "-"}</td>;
      case "reason": return <td class="reason" translate={false} lang="en">{j.reason ?? ""}</td>;
    }
  };
  const header = (c: JobColumn) => {
    const label = colLabel(c);
    const next = nextSort(sort, c);
    const aria = ariaSort(sort, c);
    return (
      <th scope="col" aria-sort={aria} data-col={c}>
        {next ? (
          <a href={routeHash("jobs", { ...params, ...sortParams(next), cursor: null })} class="sort"
            title={t("sort_by", { column: label })}>
            {label}{aria ? (aria === "ascending" ? " ▲" : " ▼") : ""}
          </a>
        ) : label}
      </th>
    );
  };
  return (
    <section aria-labelledby="jobs-title">
      <h2 id="jobs-title">{t("jobs_title")}</h2>
      <div class="filters">
        <label>{t("filter_state")}{" "}
          <select value={params.state ?? ""} onChange={(e) => go({ state: (e.target as HTMLSelectElement).value, cursor: null })}>
            <option value="">{t("any")}</option>
            {JOB_STATES.map((s) => <option value={s}>{stateWord(t, s)}</option>)}
          </select>
        </label>
        <label>{t("filter_user")}{" "}
          <input value={params.user ?? ""} onChange={(e) => go({ user: (e.target as HTMLInputElement).value, cursor: null })} />
        </label>
        <label>{t("filter_queue")}{" "}
          <input value={params.queue ?? ""} onChange={(e) => go({ queue: (e.target as HTMLInputElement).value, cursor: null })} />
        </label>
        {page && <span class="muted">{t("total_jobs", { total: formatCount(page.total, u) })}</span>}
        <details class="columns">
          <summary>{t("columns")}</summary>
          <fieldset>
            <legend class="sr-only">{t("columns")}</legend>
            {JOB_COLUMNS.map((c) => (
              <label><input type="checkbox" name="col" value={c} checked={cols.includes(c)}
                onChange={() => go({ cols: columnsParam(toggleColumn(cols, c)) })} /> {colLabel(c)}</label>
            ))}
          </fieldset>
        </details>
      </div>
      {!page ? <Loading t={t} error={error} /> : (
        <>
          {error && <p role="alert" class="error">{t("error", { message: error })}</p>}
          <table class="jobs">
            <thead><tr>{cols.map(header)}<th scope="col"><span class="sr-only">{t("ncol_actions")}</span></th></tr></thead>
            <tbody>
              {page.jobs.map((j) => (
                <tr key={j.id} data-id={j.id}>
                  {cols.map((c) => cell(j, c))}
                  <td>{mayCancel(who, j) && <CancelJob t={t} job={j} onDone={() => setRefresh((n) => n + 1)} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label={t("pager_jobs")}>
            {params.cursor && <a href={routeHash("jobs", { ...params, cursor: null })}>{t(sort.key === "id" && sort.order === "desc" ? "newer" : "first_page")}</a>}
            {page.next && <a href={routeHash("jobs", { ...params, cursor: page.next })}>{t(sort.key === "id" && sort.order === "desc" ? "older" : "next_page")}</a>}
          </nav>
        </>
      )}
    </section>
  );
}

interface JobDetail extends JobRow {
  started_at?: string | null;
  finished_at?: string | null;
  exit_code?: number | null;
  pending?: { reasons: { code: string; message: string }[]; position: { queue: string; in_queue: number; of: number } | null };
  placement?: { node: string; replica: number; gpus: { index: number; uuid: string; milli: number; memory_mib: number }[] }[] | null;
}

export function JobPage({ t, id, live }: { t: T; id: string; live: Live | null }) {
  const [job, setJob] = useState<JobDetail | null>(null);
  const [events, setEvents] = useState<{ time: string; state: string; reason: string }[]>([]);
  const [log, setLog] = useState<{ text: string; offset: number; eof: boolean }>({ text: "", offset: 0, eof: false });
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const who = useWhoAmI();
  useEffect(() => {
    api<JobDetail>(`/api/v1/jobs/${id}`).then(setJob).catch((e) => setError(e.message));
    api<{ events: typeof events }>(`/api/v1/jobs/${id}/events`).then((r) => setEvents(r.events)).catch(() => {});
  }, [id, live?.state?.pool, reload]);
  useEffect(() => {
    if (log.eof) return;
    let cancelled = false;
    api<{ data: string; offset: number; eof: boolean }>(`/api/v1/jobs/${id}/logs?offset=${log.offset}&limit=65536`)
      .then((r) => {
        if (cancelled) return;
        const more = r.data.length > 0;
        const next = { text: (log.text + r.data).slice(-8192), offset: r.offset, eof: r.eof };
        if (more || r.eof) setLog(next);
        else setTimeout(() => !cancelled && setLog({ ...next }), 2000); // follow while it runs
      })
      .catch(() => {});
    return () => { cancelled = true; };
  }, [id, log]);
  if (!job) return <Loading t={t} error={error} />;
  const u = t("unknown");
  return (
    <section aria-labelledby="job-title">
      <p><a href="#/jobs">{t("back_to_jobs")}</a></p>
      <h2 id="job-title">{t("job_title", { id: job.id })}: <span translate={job.name === undefined}>{job.name ?? u}</span> <StateBadge t={t} state={job.state} /></h2>
      {mayCancel(who, job) && <CancelJob t={t} job={job} onDone={() => setReload((n) => n + 1)} />}
      <h3>{t("lifecycle")}</h3>
      <ol class="lifecycle">
        <li>{t("submitted")}: <time translate={!job.submitted_at}>{job.submitted_at ?? u}</time></li>
        <li>{t("started")}: <time translate={false}>{job.started_at ?? "-"}</time></li>
        <li>{t("finished")}: <time translate={false}>{job.finished_at ?? "-"}</time></li>
        {job.exit_code !== null && job.exit_code !== undefined && <li>{t("exit_code")}: {job.exit_code}</li>}
      </ol>
      {job.state === "pending" && (
        <>
          <h3>{t("why_waiting")}</h3>
          <p>{job.pending?.position
            ? <WithData text={t("queue_position", { pos: job.pending.position.in_queue, of: job.pending.position.of })}
              data={{ queue: job.pending.position.queue || job.queue || u }} />
            : t("not_ranked")}</p>
          <ReasonTiers t={t} reasons={job.pending?.reasons ?? []} />
          {!job.pending?.reasons?.length && job.reason && <p translate={false} lang="en">{job.reason}</p>}
        </>
      )}
      <h3>{t("placement")}</h3>
      {job.placement?.length ? (
        <ul>{job.placement.map((p) => p.gpus.map((g) => (
          <li><span translate={false}>{p.node}</span> GPU {g.index} (<span translate={false}>{g.uuid}</span>): {formatGpus(g.milli, u)} GPU, {g.memory_mib ? formatMib(g.memory_mib, u) : "-"}</li>
        )))}</ul>
      ) : <p>-</p>}
      <PreemptionLinks t={t} job={job as { preempted_by_jobs?: number[]; victims?: number[] }} />
      <h3>{t("events")}</h3>
      <ol class="events">{events.map((e) => <li><time translate={false}>{e.time}</time> <b>{stateWord(t, e.state)}</b> <span translate={false} lang="en">{e.reason}</span></li>)}</ol>
      <h3>{t("log_tail")}</h3>
      <pre class="log" tabIndex={0}>{log.text}</pre>
    </section>
  );
}

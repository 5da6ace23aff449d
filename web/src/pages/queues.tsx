// The Queues page (#/queues): the hierarchy of GET /api/v1/queues as a tree with each queue's
// guarantee, limit, use, borrowing and waiting jobs (per GPU model where the queue file has
// `models:`), and the preemptions since the service started, each linked both ways.
import { WithData } from "../words";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import type { Live } from "../live";
import type { T } from "../main";
import { buildQueueTree, flattenTree, waitedSeconds, type QueueInfo } from "../planview";
import { formatDuration } from "../view";

interface Preemption {
  victim: number;
  victim_queue: string;
  by: number;
  by_queue: string;
  at: string;
  reason: string;
}

interface QueuesAnswer {
  queues: QueueInfo[];
  preemptions?: Preemption[];
  order: string;
  applied_at: string | null;
  applied_by: string | null;
  source: string | null;
}

const g = (v: number | null | undefined, none: string) =>
  v === null || v === undefined ? none : String(Math.round(v * 1000) / 1000);

export function QueuesPage({ t, live }: { t: T; live: Live | null }) {
  const [data, setData] = useState<QueuesAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<QueuesAnswer>("/api/v1/queues")
      .then((d) => { setData(d); setError(null); })
      .catch((e) => setError((e as Error).message));
  }, [live?.state?.pool]);
  if (error) return <p role="alert" class="error">{t("error", { message: error })}</p>;
  if (!data) return <p class="muted">{t("loading")}</p>;
  const rows = flattenTree(buildQueueTree(data.queues));
  const now = Date.now();
  const u = t("unknown");
  return (
    <section aria-labelledby="queues-title">
      <h2 id="queues-title">{t("q_title")}</h2>
      <p class="muted"><WithData text={t("q_order")} data={{ order: data.order }} />
        {data.applied_at ? " · " + t("q_applied", { at: data.applied_at, by: data.applied_by ?? u, source: data.source ?? u }) : ""}</p>
      {rows.length === 0 ? <p><WithData code text={t("q_none")} data={{ cmd: "gpupool serve --queues FILE", api: "PUT /api/v1/queues" }} /></p> : (
        <table data-testid="queue-tree">
          <thead><tr>
            <th scope="col">{t("q_queue")}</th><th scope="col">{t("q_guaranteed")}</th>
            <th scope="col">{t("q_limit")}</th><th scope="col">{t("q_weight")}</th>
            <th scope="col">{t("q_used")}</th><th scope="col">{t("q_share")}</th>
            <th scope="col">{t("q_borrowed")}</th><th scope="col">{t("q_lent")}</th>
            <th scope="col">{t("q_pending")}</th><th scope="col">{t("q_running")}</th>
            <th scope="col">{t("q_oldest")}</th>
          </tr></thead>
          <tbody>
            {rows.flatMap((n) => {
              const q = n.queue;
              const wait = waitedSeconds(q.oldest_pending_at, now);
              const main = (
                <tr key={q.name} data-queue={q.name} data-parent={q.parent ?? ""} data-depth={n.depth}>
                  <th scope="row" style={{ paddingLeft: `${n.depth * 1.5}em` }}>{n.depth > 0 ? "└ " : ""}{q.name}</th>
                  <td class="num">{g(q.guaranteed, u)}</td>
                  <td class="num">{q.limit === null ? t("q_no_limit") : g(q.limit, u)}</td>
                  <td class="num">{g(q.weight, u)}</td>
                  <td class="num">{g(q.used, u)}</td>
                  <td class="num" title={t("q_share_help")}>{q.share_ratio === null || q.share_ratio === undefined ? "–" : `${Math.round(q.share_ratio * 100)} %`}</td>
                  <td class="num">{g(q.borrowed, u)}</td>
                  <td class="num" title={t("q_lent_help")}>{g(n.lentAtMost, u)}</td>
                  <td class="num">{q.pending}</td>
                  <td class="num">{q.running}</td>
                  <td class="num">{wait === null ? "–" : formatDuration(wait, u)}</td>
                </tr>
              );
              const models = Object.entries(q.models ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
              return [main, ...models.map(([m, s]) => (
                <tr key={`${q.name}/${m}`} class="muted" data-queue-model={`${q.name}/${m}`}>
                  <td style={{ paddingLeft: `${n.depth * 1.5 + 1.5}em` }}>{m}</td>
                  <td class="num">{g(s.guaranteed, u)}</td>
                  <td class="num">{s.limit === null ? t("q_no_limit") : g(s.limit, u)}</td>
                  <td></td>
                  <td class="num">{g(s.used, u)}</td>
                  <td></td>
                  <td class="num">{g(s.borrowed, u)}</td>
                  <td colSpan={4}></td>
                </tr>
              ))];
            })}
          </tbody>
        </table>
      )}
      <h2>{t("q_preemptions")}</h2>
      {!data.preemptions?.length ? <p class="muted">{t("q_no_preemptions")}</p> : (
        <table data-testid="preemptions">
          <thead><tr><th scope="col">{t("q_when")}</th><th scope="col">{t("q_victim")}</th>
            <th scope="col">{t("q_preemptor")}</th><th scope="col">{t("q_reason")}</th></tr></thead>
          <tbody>
            {data.preemptions.map((p) => (
              <tr key={`${p.victim}-${p.at}`}>
                <td><time>{p.at}</time></td>
                <td><a href={`#/jobs/${p.victim}`}>{t("job_title", { id: p.victim })}</a> ({p.victim_queue})</td>
                <td><a href={`#/jobs/${p.by}`}>{t("job_title", { id: p.by })}</a> ({p.by_queue})</td>
                <td class="reason">{p.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

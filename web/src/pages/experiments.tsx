// The Experiments page (#/experiments): the outputs of `gpupool sim fill --json` and `gpupool sim
// replay --json` that `gpupool serve` finds in its experiments folder (GET /api/v1/experiments),
// one at a time (#/experiments?name=FILE): a fill as bars of each policy's unallocated GPUs at
// 100 % arrived and its mean unallocated curve; a replay as bars of each policy's mean JCT, mean
// queueing time and utilization. A file that is not a valid output is listed with its error.
import { WithData } from "../words";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import type { Key } from "../i18n";
import type { T } from "../main";
import { linePath, niceMax, scale, ticks } from "../planview";
import { routeHash } from "../route";
import { num } from "../view";

interface Listed { name: string; kind?: string; error?: string; bytes: number }
type Json = Record<string, unknown>;

const COLOURS = ["var(--accent)", "hsl(140 50% 40%)", "hsl(30 80% 50%)", "hsl(280 40% 55%)", "hsl(0 60% 50%)", "hsl(190 60% 40%)", "hsl(60 60% 35%)"];

// Horizontal bars, one per label, scaled to the largest value.
function Bars({ title, rows, unit, testid }: { title: string; rows: { label: string; value: number | null }[]; unit: string; testid: string }) {
  const max = niceMax(Math.max(0, ...rows.map((r) => r.value ?? 0)));
  const L = 150, W = 600, RH = 20;
  const x = scale(0, max, L, W - 90); // room on the right for the value
  const shown = (v: number) => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100));
  return (
    <figure>
      <figcaption>{title}</figcaption>
      <svg width={W} height={rows.length * RH + 24} role="img" aria-label={title} data-testid={testid}>
        {rows.map((r, i) => (
          <g key={r.label}>
            <text x={L - 6} y={i * RH + 14} text-anchor="end" class="node-label">{r.label}</text>
            <rect x={L} y={i * RH + 3} width={Math.max(0, x(r.value ?? 0) - L)} height={RH - 6} fill={COLOURS[i % COLOURS.length]} data-value={r.value ?? ""}>
              <title>{`${r.label}: ${r.value === null ? "?" : r.value} ${unit}`}</title>
            </rect>
            <text x={x(r.value ?? 0) + 4} y={i * RH + 14} class="node-label">{r.value === null ? "?" : shown(r.value)}</text>
          </g>
        ))}
        {ticks(max).map((v) => (
          <text key={v} x={x(v)} y={rows.length * RH + 18} text-anchor="middle" class="node-label">{shown(v)}</text>
        ))}
      </svg>
    </figure>
  );
}

// Curves over arrived % (x: the bin index), one per policy.
function Curves({ t, series }: { t: T; series: { label: string; values: unknown[] }[] }) {
  const W = 560, H = 240, L = 40, B = 24;
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const top = niceMax(Math.max(0, ...series.flatMap((s) => s.values.map((v) => num(v) ?? 0))));
  const x = scale(0, Math.max(1, n - 1), L, W - 10);
  const y = scale(0, top, H - B, 10);
  return (
    <figure>
      <figcaption>{t("e_curve_title")}</figcaption>
      <svg width={W} height={H} role="img" aria-label={t("e_curve_title")} data-testid="fill-curves">
        <line x1={L} x2={W - 10} y1={H - B} y2={H - B} stroke="var(--border)" />
        <line x1={L} x2={L} y1={10} y2={H - B} stroke="var(--border)" />
        {ticks(top).map((v) => <text key={v} x={L - 4} y={y(v) + 4} text-anchor="end" class="node-label">{Math.round(v * 10) / 10}</text>)}
        {ticks(Math.max(1, n - 1)).map((v) => <text key={v} x={x(v)} y={H - 6} text-anchor="middle" class="node-label">{Math.round(v)}</text>)}
        {series.map((s, i) => (
          <path key={s.label} d={linePath(s.values, x, y)} fill="none" stroke={COLOURS[i % COLOURS.length]} stroke-width={1.5} data-policy={s.label} />
        ))}
      </svg>
      <ul class="legend">{series.map((s, i) => <li key={s.label}><span class="swatch" style={{ background: COLOURS[i % COLOURS.length] }} />{s.label}</li>)}</ul>
    </figure>
  );
}

function Fill({ t, data }: { t: T; data: Json }) {
  const policies = (data.policies as Json[]) ?? [];
  const mean = (p: Json, m: string) => num((p[m] as Json | undefined)?.mean);
  const label = (p: Json) => `${p.policy}${num(p.batch) && num(p.batch)! > 1 ? ` ×${p.batch}` : ""}`;
  return (
    <>
      <Bars title={t("e_unallocated")} unit="%" testid="fill-bars"
        rows={policies.map((p) => ({ label: label(p), value: mean(p, "unallocated_at_100") }))} />
      <Bars title={t("e_frag")} unit="%" testid="fill-frag-bars"
        rows={policies.map((p) => ({ label: label(p), value: mean(p, "frag_amount_at_100") }))} />
      {policies.some((p) => Array.isArray(p.unallocated_curve)) ? (
        <Curves t={t} series={policies.map((p) => ({ label: label(p), values: (p.unallocated_curve as unknown[]) ?? [] }))} />
      ) : <p class="muted">{t("e_no_curve")}</p>}
    </>
  );
}

function Replay({ t, data }: { t: T; data: Json }) {
  const policies = (data.policies as Json[]) ?? [];
  const label = (p: Json) => `${p.policy}${p.placement ? "/" + p.placement : ""}`;
  const bar = (m: string, k: Key, unit: string, f = 1) => (
    <Bars title={t(k)} unit={unit} testid={`replay-${m}`}
      rows={policies.map((p) => ({ label: label(p), value: num(p[m]) === null ? null : num(p[m])! * f }))} />
  );
  return (
    <>
      <p class="muted">{t("e_replay_sum", { jobs: String(data.jobs), gpus: String(data.gpus) })}</p>
      {bar("avg_jct_seconds", "e_jct", "s")}
      {bar("avg_queue_seconds", "e_queue", "s")}
      {bar("utilization", "e_util", "%", 100)}
    </>
  );
}

export function ExperimentsPage({ t, params }: { t: T; params: Record<string, string> }) {
  const [list, setList] = useState<{ dir: string; experiments: Listed[] } | null>(null);
  const [shown, setShown] = useState<{ name: string; kind: string; data: Json } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = params.name ?? "";
  useEffect(() => {
    api<{ dir: string; experiments: Listed[] }>("/api/v1/experiments").then(setList).catch((e) => setError((e as Error).message));
  }, []);
  useEffect(() => {
    setShown(null);
    if (!name) return;
    api<{ name: string; kind: string; data: Json }>(`/api/v1/experiments/${encodeURIComponent(name)}`)
      .then((r) => { setShown(r); setError(null); })
      .catch((e) => setError((e as Error).message));
  }, [name]);
  return (
    <section aria-labelledby="exp-title">
      <h2 id="exp-title">{t("e_title")}</h2>
      {error && <p role="alert" class="error">{t("error", { message: error })}</p>}
      {!list ? <p class="muted">{t("loading")}</p> : (
        <>
          <p class="muted"><WithData code text={t("e_dir")} data={{ dir: list.dir || "–", cmd: "gpupool serve --experiments DIR" }} /></p>
          {list.experiments.length === 0 ? <p><WithData code text={t("e_none")} data={{ cmd: "gpupool sim fill --json > DIR/NAME.json" }} /></p> : (
            <ul data-testid="experiments">
              {list.experiments.map((e) => (
                <li key={e.name}>
                  {e.error ? <span><span translate={false}>{e.name}</span> <span class="error" translate={false} lang="en">{e.error}</span></span> : (
                    <a href={routeHash("experiments", { name: e.name })} aria-current={e.name === name ? "page" : undefined} translate={false}>{e.name}</a>
                  )} {e.kind && <span class="muted" translate={false}>({e.kind})</span>}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {shown && (
        <div data-testid="experiment" data-kind={shown.kind}>
          <h3 translate={false}>{shown.name}: {String(shown.data.trace ?? "")}</h3>
          {shown.kind === "fill" ? <Fill t={t} data={shown.data} /> : <Replay t={t} data={shown.data} />}
        </div>
      )}
    </section>
  );
}

// The Overview's trends: the pool's GPUs over time (total, allocated, in use, fragmented) from
// GET /api/v1/pool/history, drawn with uPlot, for a range (1 h ... 30 d) and a GPU model kept in
// the URL's hash ("#/overview?range=24h&model=L40S"), reloaded as the resolution's points come.
// The series are shaped by view.ts (trendData): an unknown point is a gap, never 0.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api } from "./api";
import type { Key } from "./i18n";
import type { T } from "./main";
import { routeHash } from "./route";
import { parseRange, RANGES, trendData, trendRefreshMs, type Trend } from "./view";

const SERIES: { key: Key; colour: string; dash?: number[] }[] = [
  { key: "trend_capacity", colour: "--muted", dash: [4, 4] },
  { key: "trend_allocated", colour: "--accent" },
  { key: "trend_in_use", colour: "--ok" },
  { key: "trend_fragmented", colour: "--warn" },
];

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function Chart({ t, trend }: { t: T; trend: Trend }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(trend);
  latest.current = trend;
  const unknown = t("unknown");
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fg = cssVar("--fg"), grid = cssVar("--border");
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(320, el.clientWidth),
      height: 260,
      // x: the whole range asked for (the last hour, ...), the newest point at the right.
      scales: {
        x: { time: true, range: (_u, min, max) => latest.current.span ?? [min, max] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      axes: [axis, { ...axis, label: t("trend_axis_gpus") }],
      series: [
        { label: t("trend_time") },
        ...SERIES.map((s) => ({
          label: t(s.key),
          stroke: cssVar(s.colour),
          width: 2,
          dash: s.dash,
          spanGaps: false,
          // The legend: the value under the cursor ("–" when the cursor is off the chart).
          value: (_u: uPlot, v: number | null, _s: number, idx: number | null) =>
            idx === null || idx === undefined ? "–" : v === null || v === undefined ? unknown : String(Math.round(v * 100) / 100),
        })),
      ],
    };
    plot.current = new uPlot(opts, trend.data as uPlot.AlignedData, el);
    const resize = () => plot.current?.setSize({ width: Math.max(320, el.clientWidth), height: 260 });
    addEventListener("resize", resize);
    return () => {
      removeEventListener("resize", resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [unknown]);
  useEffect(() => {
    plot.current?.setData(trend.data as uPlot.AlignedData);
  }, [trend]);
  return <div ref={box} class="trend-chart" data-points={trend.points} role="img" aria-label={t("trends_title")} />;
}

export function Trends({ t, params, models }: { t: T; params: Record<string, string>; models: string[] }) {
  const range = parseRange(params.range);
  const model = params.model ?? "";
  const [trend, setTrend] = useState<Trend | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () => {
      const q = new URLSearchParams({ range });
      if (model) q.set("model", model);
      api(`/api/v1/pool/history?${q}`)
        .then((h) => {
          if (cancelled) return;
          const tr = trendData(h);
          setTrend(tr);
          setError(null);
          timer = setTimeout(load, trendRefreshMs(tr.resolutionS));
        })
        .catch((e) => {
          if (cancelled) return;
          setError(String(e.message ?? e));
          timer = setTimeout(load, trendRefreshMs(null));
        });
    };
    load();
    return () => {
      cancelled = true;
      if (timer !== null) clearTimeout(timer);
    };
  }, [range, model]);
  const go = (patch: Record<string, string | null>) => {
    location.hash = routeHash("overview", { ...params, ...patch });
  };
  const inUseKnown = trend !== null && trend.data[3].some((v) => v !== null);
  return (
    <section aria-labelledby="trends-title" class="trends">
      <h2 id="trends-title">{t("trends_title")}</h2>
      <div class="filters">
        <span role="group" aria-label={t("trend_range")} class="ranges">
          {RANGES.map((r) => (
            <a href={routeHash("overview", { ...params, range: r })} aria-current={r === range ? "true" : undefined}
              data-range={r}>{t(`range_${r}` as Key)}</a>
          ))}
        </span>
        <label>{t("model")}{" "}
          <select id="trend-model" value={model} onChange={(e) => go({ model: (e.target as HTMLSelectElement).value || null })}>
            <option value="">{t("all_models")}</option>
            {models.map((m) => <option value={m}>{m}</option>)}
          </select>
        </label>
      </div>
      {error && <p role="alert" class="error">{t("error", { message: error })}</p>}
      {trend === null ? (!error && <p class="muted">{t("loading")}</p>) : (
        <>
          <Chart t={t} trend={trend} />
          <p class="muted">{inUseKnown ? t("trend_in_use_help") : t("trend_in_use_unknown")}</p>
        </>
      )}
    </section>
  );
}

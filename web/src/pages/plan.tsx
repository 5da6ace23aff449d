// The Plan page (#/plan): a model (preset, or a config.json pasted in), precision, context, batch
// and GPU model go to POST /api/v1/plan, which answers with the planner's own figures (the same
// code as `gpupool plan`) and where the scheduler could place the job. Shown: the GPUs needed, the
// memory of one GPU as a bar (weights, KV cache, runtime overhead against the budget), and the
// nodes that could take it now, after preemption, later or never. The inputs live in the URL.
import { WithData } from "../words";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import type { Key } from "../i18n";
import type { T } from "../main";
import { memberField, memoryParts, niceMax, nodesByVerdict, planToParams, scale, stackSegments, ticks, VERDICTS } from "../planview";
import { routeHash } from "../route";

interface PlanAnswer {
  found: boolean;
  model: string;
  gpu: string;
  gpus: number | null;
  tried: { tp: number; outcome: string }[];
  plan: Record<string, unknown> | null;
  submit: Record<string, unknown> | null;
  feasible: boolean;
  never: string;
  nodes: { name: string; model: string; gpus: number; condition: string; verdict: string }[];
  warnings: string[];
}

const INPUTS = ["model", "gpu", "precision", "context", "batch", "priority", "queue"] as const;
const PRECISIONS = ["auto", "bf16", "fp16", "fp8", "int8", "int4"];
const PART_COLOURS: Record<string, string> = {
  weights: "var(--accent)", kv_cache: "hsl(140 50% 45%)", cuda_context: "hsl(40 70% 50%)",
  workspace: "hsl(20 70% 55%)", activations: "hsl(280 40% 55%)",
};

function MemoryChart({ t, plan }: { t: T; plan: Record<string, unknown> }) {
  const parts = memoryParts(plan);
  const total = Number(plan.total_gib_per_gpu ?? 0);
  const budget = Number(plan.budget_gib_per_gpu ?? 0);
  const max = niceMax(Math.max(total, budget));
  const W = 560, H = 46, L = 10;
  const segs = stackSegments(parts, max, W - 2 * L);
  const x = scale(0, max, L, W - L);
  return (
    <figure>
      <svg width={W} height={H + 34} role="img" aria-label={t("p_memory_chart", { total: total.toFixed(1), budget: budget.toFixed(1) })} data-testid="memory-chart">
        {segs.map((s) => (
          <rect key={s.key} x={L + s.x} y={8} width={Math.max(0, s.width)} height={H - 16} fill={PART_COLOURS[s.key]} data-part={s.key}>
            <title>{`${t(("p_part_" + s.key) as Key)}: ${s.value.toFixed(2)} GiB`}</title>
          </rect>
        ))}
        <line x1={x(budget)} x2={x(budget)} y1={2} y2={H - 2} stroke="var(--error)" stroke-width={2} data-testid="budget-line" />
        {ticks(max).map((v) => (
          <text key={v} x={x(v)} y={H + 14} text-anchor="middle" class="node-label">{`${Math.round(v)}`}</text>
        ))}
        <text x={L} y={H + 30} class="node-label">GiB</text>
      </svg>
      <figcaption>
        <ul class="legend">
          {parts.map((p) => (
            <li key={p.key}><span class="swatch" style={{ background: PART_COLOURS[p.key] }} />{t(("p_part_" + p.key) as Key)} {p.value.toFixed(2)} GiB</li>
          ))}
          <li><span class="swatch" style={{ background: "var(--error)" }} />{t("p_budget")} {budget.toFixed(1)} GiB</li>
        </ul>
      </figcaption>
    </figure>
  );
}

export function PlanPage({ t, params }: { t: T; params: Record<string, string> }) {
  const [presets, setPresets] = useState<string[]>([]);
  const [form, setForm] = useState<Record<string, string>>(() => {
    const f: Record<string, string> = { model: "llama-3-8b", gpu: "H100", precision: "auto", context: "", batch: "", priority: "", queue: "", config: "" };
    for (const k of INPUTS) if (params[k] !== undefined) f[k] = params[k];
    return f;
  });
  const [answer, setAnswer] = useState<PlanAnswer | null>(null);
  const [error, setError] = useState<{ member: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<{ models: { name: string }[] }>("/api/v1/plan/models").then((r) => setPresets(r.models.map((m) => m.name))).catch(() => {});
  }, []);

  const run = async (f: Record<string, string>) => {
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = {};
    if (f.config.trim()) {
      try {
        body.config = JSON.parse(f.config);
      } catch (e) {
        setError({ member: "config", message: `config: ${(e as Error).message}` });
        setBusy(false);
        return;
      }
    } else {
      body.model = f.model.trim();
    }
    for (const k of ["gpu", "precision", "queue"]) if (f[k].trim()) body[k] = f[k].trim();
    for (const k of ["context", "batch", "priority"]) {
      if (!f[k].trim()) continue;
      const n = Number(f[k]);
      body[k] = Number.isFinite(n) ? n : f[k];
    }
    try {
      setAnswer(await api<PlanAnswer>("/api/v1/plan", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      }));
    } catch (err) {
      setAnswer(null);
      setError({ member: err instanceof ApiError ? memberField(err.member) : "", message: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  // A shared URL with inputs plans at once.
  useEffect(() => { if (params.model) void run(form); }, []);

  const onSubmit = (e: Event) => {
    e.preventDefault();
    const p: Record<string, string> = {};
    for (const k of INPUTS) p[k] = form[k];
    history.replaceState(null, "", routeHash("plan", p));
    void run(form);
  };
  const input = (k: string, label: Key, extra: Record<string, unknown> = {}) => (
    <div class="field" key={k}>
      <label for={`p-${k}`}>{t(label)}</label>
      <input id={`p-${k}`} name={k} value={form[k]} aria-invalid={error?.member === k ? true : undefined}
        onInput={(e) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value })} {...extra} />
      {error?.member === k && <p role="alert" class="error" data-testid={`plan-error-${k}`}>{error.message}</p>}
    </div>
  );
  const groups = answer ? nodesByVerdict(answer.nodes) : null;

  return (
    <section aria-labelledby="plan-title">
      <h2 id="plan-title">{t("p_title")}</h2>
      <form class="card form" onSubmit={onSubmit} data-testid="plan-form">
        {input("model", "p_model", { list: "presets" })}
        <datalist id="presets">{presets.map((p) => <option value={p} />)}</datalist>
        <div class="field">
          <label for="p-config"><WithData code text={t("p_config")} data={{ file: "config.json" }} /></label>
          <textarea id="p-config" name="config" rows={2} value={form.config}
            onInput={(e) => setForm({ ...form, config: (e.target as HTMLTextAreaElement).value })} />
          {error?.member === "config" && <p role="alert" class="error" data-testid="plan-error-config">{error.message}</p>}
        </div>
        {input("gpu", "p_gpu")}
        <div class="field">
          <label for="p-precision">{t("p_precision")}</label>
          <select id="p-precision" name="precision" value={form.precision}
            onChange={(e) => setForm({ ...form, precision: (e.target as HTMLSelectElement).value })}>
            {PRECISIONS.map((p) => <option value={p}>{p}</option>)}
          </select>
          {error?.member === "precision" && <p role="alert" class="error" data-testid="plan-error-precision">{error.message}</p>}
        </div>
        {input("context", "p_context", { inputMode: "numeric", placeholder: "4096" })}
        {input("batch", "p_batch", { inputMode: "numeric", placeholder: "1" })}
        {input("priority", "p_priority", { inputMode: "numeric", placeholder: "0" })}
        {input("queue", "p_queue", { placeholder: "default" })}
        {error && !["model", "config", "gpu", "precision", "context", "batch", "priority", "queue"].includes(error.member) && (
          <p role="alert" class="error">{error.message}</p>
        )}
        <button type="submit" disabled={busy}>{t("p_run")}</button>
      </form>
      {answer && (
        <div data-testid="plan-answer">
          <h3>{answer.model} · {answer.gpu}</h3>
          {answer.warnings.map((w) => <p class="muted">{w}</p>)}
          {answer.found && answer.plan ? (
            <>
              <div class="figures"><div class="figure"><div class="value" data-testid="plan-gpus">{answer.gpus}</div>
                <div class="label">{t("p_gpus_needed", { gpus: answer.gpus ?? 0, gpu: answer.gpu })}</div></div></div>
              <MemoryChart t={t} plan={answer.plan} />
            </>
          ) : <p class="error">{t("p_not_found")}</p>}
          <details>
            <summary>{t("p_tried")}</summary>
            <ul>{answer.tried.map((r) => <li>tp {r.tp}: {r.outcome}</li>)}</ul>
          </details>
          <h3>{t("p_where")}</h3>
          {answer.never && <p class="error" data-testid="plan-never">{answer.never}</p>}
          {groups && (
            <table data-testid="plan-nodes">
              <tbody>
                {VERDICTS.map((v) => (
                  <tr key={v} data-verdict={v}>
                    <th scope="row">{t(("p_verdict_" + v) as Key)}</th>
                    <td class="num">{groups[v].length}</td>
                    <td>{groups[v].join(", ") || "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {answer.submit && (
            <a class="button" href={routeHash("submit", planToParams(answer.submit))} data-testid="submit-plan">{t("p_submit_plan")}</a>
          )}
        </div>
      )}
    </section>
  );
}

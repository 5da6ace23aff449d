// The Submit page (#/submit): a form with the job spec's members as POST /api/v1/jobs takes them
// (docs/api.md). The URL's parameters fill it (the plan page's "Submit this plan" goes here with
// the plan's resources). The server's error is shown next to the member it names.
import { WithData } from "../words";
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import type { Key } from "../i18n";
import type { T } from "../main";
import { fieldsFromParams, memberField, submitBody, type SubmitFields } from "../planview";

type TextField = Exclude<keyof SubmitFields, "preemptible" | "requeue">;

// The fields in the form's order; the textareas take one item a line.
const FIELDS: { key: TextField; area?: boolean; help?: Key }[] = [
  { key: "command", area: true, help: "s_command_help" },
  { key: "name" },
  { key: "gpus", help: "s_gpus_help" },
  { key: "gpu_models", help: "s_models_help" },
  { key: "gpu_memory_mib" },
  { key: "replicas" },
  { key: "cpu_milli" },
  { key: "memory_mib" },
  { key: "queue" },
  { key: "priority" },
  { key: "time_limit_s" },
  { key: "topology", help: "s_topology_help" },
  { key: "workdir" },
  { key: "env", area: true, help: "s_env_help" },
];

export function SubmitPage({ t, params }: { t: T; params: Record<string, string> }) {
  const [fields, setFields] = useState<SubmitFields>(() => fieldsFromParams(params));
  const [error, setError] = useState<{ member: string; message: string } | null>(null);
  const [created, setCreated] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof SubmitFields, v: string | boolean) => setFields({ ...fields, [k]: v });

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const job = await api<{ id: number }>("/api/v1/jobs", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(submitBody(fields)),
      });
      setCreated(job.id);
    } catch (err) {
      const member = err instanceof ApiError ? memberField(err.member) : "";
      setError({ member, message: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (k: string) =>
    error && error.member === k ? <p role="alert" class="error" id={`err-${k}`} data-testid={`error-${k}`}>{error.message}</p> : null;

  return (
    <form class="card form" onSubmit={submit} aria-labelledby="submit-title" data-testid="submit-form">
      <h2 id="submit-title">{t("s_title")}</h2>
      {FIELDS.map((f) => {
        const id = `f-${f.key}`;
        const invalid = error?.member === f.key;
        const common = {
          id, name: f.key, value: fields[f.key],
          "aria-invalid": invalid ? (true as const) : undefined,
          "aria-describedby": invalid ? `err-${f.key}` : undefined,
          onInput: (e: Event) => set(f.key, (e.target as HTMLInputElement).value),
        };
        return (
          <div class="field" key={f.key}>
            <label for={id}><code>{f.key}</code></label>
            {f.area ? <textarea rows={3} {...common} /> : <input type="text" {...common} />}
            {f.help && <span class="muted"><WithData code text={t(f.help)} data={{ any: "any", nvlink: "nvlink", kv: "KEY=VALUE" }} /></span>}
            {fieldError(f.key)}
          </div>
        );
      })}
      {(["preemptible", "requeue"] as const).map((k) => (
        <div class="field" key={k}>
          <label><input type="checkbox" name={k} checked={fields[k]}
            onChange={(e) => set(k, (e.target as HTMLInputElement).checked)} /> <code>{k}</code></label>
          {fieldError(k)}
        </div>
      ))}
      {error && !FIELDS.some((f) => f.key === error.member) && error.member !== "preemptible" && error.member !== "requeue" && (
        <p role="alert" class="error" data-testid="error-general">{error.member ? `${error.member}: ` : ""}{error.message}</p>
      )}
      {created !== null && (
        <p role="status" data-testid="submitted">{t("s_created")} <a href={`#/jobs/${created}`}>{t("job_title", { id: created })}</a></p>
      )}
      <button type="submit" disabled={busy}>{t("s_submit")}</button>
    </form>
  );
}

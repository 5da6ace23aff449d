// The actions a signed-in user may take (cancel a job; cordon, drain, uncordon a node), each behind
// a dialog that says what will happen. The dialog is the browser's modal <dialog>: focus stays in
// it, Tab moves between its buttons, Escape closes it, and focus starts on "Keep" so that Enter
// alone changes nothing. What the server refuses is shown as it says it. Who may do what comes
// from GET /api/v1/whoami (nodes_view.ts: nodeActions, mayCancel); the server decides again.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, getToken } from "./api";
import type { T } from "./main";
import type { WhoAmI } from "./nodes_view";

let cached: { token: string | null; answer: Promise<WhoAmI> } | null = null;

// Who the session's token belongs to, asked once per token.
export function whoAmI(): Promise<WhoAmI> {
  const token = getToken();
  if (!cached || cached.token !== token) {
    const answer = api<WhoAmI>("/api/v1/whoami");
    cached = { token, answer };
    answer.catch(() => { if (cached?.answer === answer) cached = null; });
  }
  return cached.answer;
}

export function useWhoAmI(): WhoAmI | null {
  const [who, setWho] = useState<WhoAmI | null>(null);
  const token = getToken();
  useEffect(() => {
    let live = true;
    whoAmI().then((w) => live && setWho(w), () => live && setWho(null));
    return () => { live = false; };
  }, [token]);
  return who;
}

let dialogs = 0;

function ConfirmDialog({ t, title, body, confirm, busy, onConfirm, onClose }: {
  t: T; title: string; body: string; confirm: string; busy: boolean; onConfirm: () => void; onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const keep = useRef<HTMLButtonElement>(null);
  const [id] = useState(() => ++dialogs);
  useEffect(() => {
    const d = ref.current!;
    if (!d.open) d.showModal();
    keep.current?.focus();
    const onCancel = (e: Event) => {
      e.preventDefault();
      onClose();
    };
    d.addEventListener("cancel", onCancel);
    return () => {
      d.removeEventListener("cancel", onCancel);
      if (d.open) d.close();
    };
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby={`dlg-t-${id}`} aria-describedby={`dlg-b-${id}`} data-testid="confirm-dialog">
      <h3 id={`dlg-t-${id}`}>{title}</h3>
      <p id={`dlg-b-${id}`}>{body}</p>
      <div class="dialog-buttons">
        <button type="button" class="danger" disabled={busy} onClick={onConfirm} data-testid="confirm">{confirm}</button>
        <button type="button" ref={keep} disabled={busy} onClick={onClose} data-testid="keep">{t("dialog_keep")}</button>
      </div>
    </dialog>
  );
}

// A button that opens the dialog; on confirming, `run` is called; a refusal is shown under the
// button (role=alert), a success calls `onDone`.
export function ConfirmAction({ t, label, title, body, confirm, run, onDone, testid }: {
  t: T; label: string; title: string; body: string; confirm: string;
  run: () => Promise<unknown>; onDone?: () => void; testid?: string;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const go = async () => {
    setBusy(true);
    try {
      await run();
      setError(null);
      onDone?.();
    } catch (e) {
      setError(t("action_refused", { message: (e as Error).message }));
    } finally {
      setBusy(false);
      setOpen(false);
    }
  };
  return (
    <span class="action">
      <button type="button" onClick={() => { setError(null); setOpen(true); }} data-testid={testid}>{label}</button>
      {open && <ConfirmDialog t={t} title={title} body={body} confirm={confirm} busy={busy} onConfirm={go} onClose={() => setOpen(false)} />}
      {error && <span role="alert" class="error action-error">{error}</span>}
    </span>
  );
}

// Cancel a job (DELETE /api/v1/jobs/ID).
export function CancelJob({ t, job, onDone }: { t: T; job: { id: number; name?: string; state: string }; onDone?: () => void }) {
  return (
    <ConfirmAction t={t} label={t("action_cancel")} testid={`cancel-${job.id}`}
      title={t("cancel_title", { id: job.id, name: job.name ?? "" })}
      body={t(job.state === "pending" ? "cancel_body_pending" : "cancel_body_running")}
      confirm={t("cancel_confirm")}
      run={() => api(`/api/v1/jobs/${job.id}`, { method: "DELETE" })} onDone={onDone} />
  );
}

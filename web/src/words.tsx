// Words the API gives as codes, in the reader's language: job states and the scheduler's reasons
// for a pending job, grouped in tiers (its queue, the pool's capacity, the order of the queue,
// preemption). The scheduler's own sentence for each reason is shown as it is, marked
// translate="no" (it is the scheduler's text, quoted, like a node's or a job's name).
import type { Key } from "./i18n";
import type { T } from "./main";

// The API's job states (scheduler::JobStateName).
export const JOB_STATES = ["pending", "running", "succeeded", "failed", "cancelled", "timed_out", "lost"] as const;

export function stateWord(t: T, state: string): string {
  return (JOB_STATES as readonly string[]).includes(state) ? t(("state_" + state) as Key) : state;
}

export function StateBadge({ t, state }: { t: T; state: string }) {
  return <span class={`state state-${state}`} data-state={state}>{stateWord(t, state)}</span>;
}

// The tier of each wait code of the API (scheduler::WaitCodeName), in the order the page shows
// the tiers: what the job's queue allows, what the pool holds, the order among waiting jobs,
// preemption.
export const REASON_TIERS: Record<string, readonly string[]> = {
  queue: ["over_limit", "over_quota", "waiting_to_borrow"],
  capacity: ["nodes_unavailable", "no_gpu_of_model", "insufficient", "fragmentation", "topology", "gang_incomplete"],
  order: ["behind_higher_priority", "reservation_ahead", "reserved", "reservation_lapsed", "waiting_for_partner"],
  preemption: ["preempted", "waiting_for_victims"],
};

export interface Reason {
  code: string;
  message: string;
}

// The reasons grouped by tier, tiers in REASON_TIERS' order, reasons in the API's order inside
// each; a code the page does not know goes to "other", last.
export function reasonTiers(reasons: Reason[]): { tier: string; reasons: Reason[] }[] {
  const out: { tier: string; reasons: Reason[] }[] = [];
  const known = new Set(Object.values(REASON_TIERS).flat());
  for (const [tier, codes] of Object.entries(REASON_TIERS)) {
    const here = reasons.filter((r) => codes.includes(r.code));
    if (here.length) out.push({ tier, reasons: here });
  }
  const other = reasons.filter((r) => !known.has(r.code));
  if (other.length) out.push({ tier: "other", reasons: other });
  return out;
}

export function ReasonTiers({ t, reasons }: { t: T; reasons: Reason[] }) {
  return (
    <div class="reasons">
      {reasonTiers(reasons).map(({ tier, reasons: rs }) => (
        <section aria-label={t(("tier_" + tier) as Key)}>
          <h4>{t(("tier_" + tier) as Key)}</h4>
          <ul>
            {rs.map((r) => (
              <li data-code={r.code}>
                <strong>{tier === "other" ? r.code : t(("reason_" + r.code) as Key)}</strong>
                {": "}
                <span translate={false} lang="en">{r.message}</span>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

// A translated sentence whose `data` arguments are names (a queue, a node) or, with `code`,
// commands and file names: each is drawn inside an element marked translate="no" (<code> for
// `code`), the rest of the sentence in the reader's language.
export function WithData({ text, data, code = false }: { text: string; data: Record<string, string>; code?: boolean }) {
  const parts = text.split(/\{(\w+)\}/);
  const datum = (v: string) => (code ? <code translate={false}>{v}</code> : <span translate={false}>{v}</span>);
  return <>{parts.map((p, i) => (i % 2 === 0 ? p : p in data ? datum(data[p]) : `{${p}}`))}</>;
}

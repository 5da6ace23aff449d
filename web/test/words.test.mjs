// Job states and the scheduler's reasons in the reader's language (src/words.tsx).
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const w = await load("words.tsx");
const i18n = await load("i18n.ts");

test("reasons are grouped in tiers, in the tiers' order, the API's order inside each", () => {
  const reasons = [
    { code: "behind_higher_priority", message: "b" },
    { code: "fragmentation", message: "f" },
    { code: "over_limit", message: "l" },
    { code: "something_new", message: "n" },
    { code: "insufficient", message: "i" },
  ];
  assert.deepEqual(
    w.reasonTiers(reasons).map((g) => [g.tier, g.reasons.map((r) => r.message).join("")]),
    [["queue", "l"], ["capacity", "fi"], ["order", "b"], ["other", "n"]],
  );
  assert.deepEqual(w.reasonTiers([]), []);
});

test("every wait code of the scheduler is in one tier and has its words in every language", () => {
  // The names of scheduler::WaitCodeName (src/scheduler/wait_reason.h), written out here.
  const codes = ["over_limit", "over_quota", "waiting_to_borrow", "nodes_unavailable", "no_gpu_of_model",
    "insufficient", "fragmentation", "topology", "gang_incomplete", "behind_higher_priority",
    "reservation_ahead", "reserved", "reservation_lapsed", "waiting_for_partner", "preempted",
    "waiting_for_victims"];
  const tiered = Object.values(w.REASON_TIERS).flat();
  assert.deepEqual([...tiered].sort(), [...codes].sort());
  for (const c of codes) {
    assert.ok(i18n.en["reason_" + c] && i18n.zh["reason_" + c] && i18n.zh["reason_" + c] !== i18n.en["reason_" + c], c);
  }
  for (const s of w.JOB_STATES) assert.ok(i18n.zh["state_" + s] && i18n.zh["state_" + s] !== s, s);
});

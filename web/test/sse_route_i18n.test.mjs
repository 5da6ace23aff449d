// The stream parser (src/sse.ts), the routes (src/route.ts) and the string tables (src/i18n.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const { SseParser } = await load("sse.ts");
const route = await load("route.ts");
const i18n = await load("i18n.ts");

test("SSE: events split across reads, comments, ids, CRLF", () => {
  const p = new SseParser();
  assert.deepEqual(p.feed("id: 5-1\nevent: snap"), []);
  const a = p.feed('shot\ndata: {"x":1}\n\n: a comment\n\nevent: heartbeat\r\ndata: {}\r\n\r\n');
  assert.deepEqual(a, [
    { id: "5-1", event: "snapshot", data: '{"x":1}' },
    { id: null, event: "heartbeat", data: "{}" },
  ]);
  assert.deepEqual(p.feed("data: a\ndata: b\n\n"), [{ id: null, event: "message", data: "a\nb" }]);
});

test("routes keep their filters", () => {
  assert.deepEqual(route.parseRoute(""), { page: "overview", id: null, params: {} });
  assert.deepEqual(route.parseRoute("#/jobs/42"), { page: "job", id: "42", params: {} });
  const r = route.parseRoute("#/jobs?state=pending&user=alice");
  assert.equal(r.page, "jobs");
  assert.deepEqual(r.params, { state: "pending", user: "alice" });
  // Keys sorted, empty values dropped: the same filters give the same URL.
  assert.equal(route.routeHash("jobs", { user: "alice", state: "pending", queue: "" }), "#/jobs?state=pending&user=alice");
  assert.deepEqual(route.parseRoute(route.routeHash("heatmap", { node: "h100" })).params, { node: "h100" });
});

test("every string has its Chinese translation, with the same placeholders", () => {
  const en = Object.keys(i18n.en).sort();
  assert.deepEqual(Object.keys(i18n.zh).sort(), en);
  const holes = (s) => (s.match(/\{\w+\}/g) ?? []).sort();
  for (const k of en) {
    assert.deepEqual(holes(i18n.zh[k]), holes(i18n.en[k]), k);
    assert.ok(i18n.zh[k].length > 0, k);
  }
  // Untranslated: a Chinese string equal to the English one, except names and symbols.
  const same = en.filter((k) => i18n.zh[k] === i18n.en[k]);
  assert.deepEqual(same, ["app_title"]);
  assert.equal(i18n.translate("zh", "queue_position", { pos: 3, of: 7, queue: "a" }), "在队列 a 中排第 3（共 7）");
});

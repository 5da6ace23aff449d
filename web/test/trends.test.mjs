// The trend chart's series shaping (src/view.ts: trendData, parseRange, trendRefreshMs): the
// API's columns (GET /api/v1/pool/history) in uPlot's layout, milli-GPU as GPUs, an unknown point
// (no NVML readings) a gap and never 0, a hole in time a break in the line, the range from the URL.
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const v = await load("view.ts");

// Three points 10 s apart, then one 40 s later (the service was down for 30 s).
const history = {
  range: "1h",
  from: "1970-01-01T00:00:00.000Z",
  to: "1970-01-01T01:00:00.000Z",
  model: null,
  resolution_s: 10,
  series: {
    time_ms: [1000000, 1010000, 1020000, 1060000],
    capacity_milli: [48000, 48000, 48000, 48000],
    allocated_milli: [31750, 32000, 32250, 0],
    in_use_milli: [null, 12500, null, 0],
    fragmented_milli: [7614, 7000, 6500, 0],
  },
};

test("trend series: x in seconds, milli-GPU as GPUs, in the series' order", () => {
  const { data, points, resolutionS } = v.trendData(history);
  assert.deepEqual([...v.TREND_SERIES], ["capacity_milli", "allocated_milli", "in_use_milli", "fragmented_milli"]);
  assert.equal(points, 4);
  assert.equal(resolutionS, 10);
  assert.equal(data.length, 5); // x and four series
  assert.deepEqual(data[0].slice(0, 3), [1000, 1010, 1020]); // ms / 1000
  assert.deepEqual(data[2].slice(0, 3), [31.75, 32, 32.25]); // 31750 milli = 31.75 GPUs
  assert.deepEqual(data[4].slice(0, 3), [7.614, 7, 6.5]);
});

test("an unknown point is a gap (null), never 0; a real 0 stays 0", () => {
  const { data } = v.trendData(history);
  const inUse = data[3];
  assert.equal(inUse[0], null); // no GPU reported utilization then
  assert.equal(inUse[1], 12.5);
  assert.equal(inUse[2], null);
  assert.equal(inUse[inUse.length - 1], 0); // measured 0 is 0
  assert.equal(data[2][data[2].length - 1], 0);
  // Whatever is not a finite number is unknown too.
  const odd = v.trendData({ resolution_s: 10, series: { time_ms: [0, 10000], allocated_milli: ["3", undefined] } });
  assert.deepEqual(odd.data[2], [null, null]);
  assert.deepEqual(odd.data[1], [null, null]); // a series the API left out: unknown throughout
});

test("the x axis spans the range asked for, from the API's from and to", () => {
  assert.deepEqual(v.trendData(history).span, [0, 3600]);
  assert.equal(v.trendData({ series: {} }).span, null);
  assert.equal(v.trendData({ from: "x", to: "1970-01-01T01:00:00.000Z" }).span, null);
});

test("a hole in time breaks the line: one null point a resolution after the last", () => {
  const { data } = v.trendData(history);
  // 1020 s then 1060 s: 40 s > 1.5 x 10 s, so a null point at 1030 s in every series.
  assert.deepEqual(data[0], [1000, 1010, 1020, 1030, 1060]);
  for (let s = 1; s < data.length; s++) {
    assert.equal(data[s].length, 5);
    assert.equal(data[s][3], null);
  }
  // 14 s apart (within 1.5 resolutions): no break.
  const close = v.trendData({ resolution_s: 10, series: { time_ms: [0, 14000], allocated_milli: [1000, 2000] } });
  assert.deepEqual(close.data[0], [0, 14]);
});

test("nothing to show: empty series, not zeros", () => {
  for (const h of [undefined, null, {}, { series: {} }, { series: { time_ms: "x" } }]) {
    const { data, points } = v.trendData(h);
    assert.equal(points, 0);
    assert.equal(data.length, 5);
    for (const s of data) assert.deepEqual(s, []);
  }
});

test("the range from the URL: one the API serves, else 1h; the refresh follows the resolution", () => {
  assert.deepEqual([...v.RANGES], ["1h", "6h", "24h", "7d", "30d"]);
  for (const r of v.RANGES) assert.equal(v.parseRange(r), r);
  for (const bad of [undefined, "", "2h", "30D", 7]) assert.equal(v.parseRange(bad), "1h");
  assert.equal(v.trendRefreshMs(10), 10000);
  assert.equal(v.trendRefreshMs(1), 10000); // at most every 10 s
  assert.equal(v.trendRefreshMs(7200), 300000); // at least every 5 minutes
  assert.equal(v.trendRefreshMs(null), 10000);
});

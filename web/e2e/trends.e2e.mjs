// The Overview's trends in a real browser against a real `gpupool serve` (demo inventory, a sample
// every second): the chart renders (uPlot's canvas, its four series) with no console error; the
// range chosen is kept in the URL and survives a reload; the model chosen too, and the chart then
// reads that model's history; the by-model table's fragmentation equals /api/v1/pool's. Runs as
// e2e/harness.mjs says; a screenshot goes to OUT.
import { join } from "node:path";
import { launch, newPage, options, run, signIn, startServe, until } from "./harness.mjs";

const { gpupool, out, chromiumPath } = options("trends.e2e");
const serve = await startServe(gpupool, { args: ["--history-interval", "1"] });
const { api, submit, token, base } = serve;
let browser;
await run(async ({ check }) => {
  // Something allocated and fragmented: shares of L40S and a whole A100 job.
  await submit({ name: "notebook", gpus: 0.5, gpu_models: ["L40S"], command: ["sleep", "120"] });
  await submit({ name: "serve", gpus: 0.25, gpu_models: ["L40S"], command: ["sleep", "120"] });
  await submit({ name: "train", gpus: 4, gpu_models: ["A100"], command: ["sleep", "120"] });
  await until(async () => (await api("GET", "/api/v1/pool")).jobs.running === 3, 10000);
  // Two samples at least, so the chart has a line.
  await until(async () => (await api("GET", "/api/v1/pool/history?range=1h")).series.time_ms.length >= 2, 10000);

  browser = await launch(chromiumPath);
  const { page, errors } = await newPage(browser);
  await signIn(page, base, token);
  await page.goto(base + "#/overview?range=1h");
  await page.waitForSelector(".trend-chart canvas", { timeout: 10000 });
  const points = await page.$eval(".trend-chart", (e) => Number(e.dataset.points));
  check(points >= 2, `the chart renders: uPlot's canvas, ${points} points of the last hour`);
  const legend = await page.$$eval(".trend-chart .u-legend .u-series .u-label", (els) => els.map((e) => e.textContent));
  check(["total", "allocated", "in use", "fragmented"].every((l) => legend.includes(l)), `the chart's series: ${legend.join(", ")}`);
  const note = await page.textContent(".trends p.muted");
  check(note.includes("unknown"), `in use without NVML: said to be unknown, drawn as a gap (${note.slice(0, 40)}…)`);

  // The per-model fragmentation in the table equals the API's.
  const pool = await api("GET", "/api/v1/pool");
  const rows = await page.$$eval("table.by-model tbody tr", (els) =>
    els.map((e) => ({ model: e.dataset.model, frag: e.querySelector(".frag-gpus").textContent, pct: e.querySelector(".frag-pct").textContent })));
  const gpus = (milli) => { const g = milli / 1000; return Number.isInteger(g) ? String(g) : String(Math.round(g * 1000) / 1000); };
  const want = pool.by_model.map((m) => ({ model: m.model, frag: gpus(m.fragmented_milli), pct: `${m.fragmentation_pct.toFixed(1)} %` }));
  check(JSON.stringify(rows) === JSON.stringify(want), `by-model fragmentation: table ${JSON.stringify(rows)}, /api/v1/pool ${JSON.stringify(want)}`);
  check(pool.by_model.some((m) => m.fragmented_milli > 0), "some model is fragmented (the figures are not all 0)");

  // The range: chosen, in the URL, kept across a reload, and the chart reads that range.
  const sixHours = page.waitForResponse((r) => r.url().includes("/api/v1/pool/history?range=6h"));
  await page.click(".ranges a[data-range='6h']");
  await sixHours;
  check((await page.evaluate(() => location.hash)).includes("range=6h"), `range 6h in the URL: ${await page.evaluate(() => location.hash)}`);
  const again = page.waitForResponse((r) => r.url().includes("/api/v1/pool/history?range=6h"));
  await page.reload();
  await again;
  await page.waitForSelector(".ranges a[aria-current='true']");
  const current = await page.$eval(".ranges a[aria-current='true']", (e) => e.dataset.range);
  check(current === "6h" && (await page.evaluate(() => location.hash)).includes("range=6h"), `after a reload the range is still ${current}`);

  // A model: in the URL with the range, and the chart reads that model's history.
  const model = pool.by_model[pool.by_model.length - 1].model;
  const perModel = page.waitForResponse((r) => r.url().includes(`model=${encodeURIComponent(model)}`));
  await page.selectOption("#trend-model", model);
  const answer = await (await perModel).json();
  const hash = await page.evaluate(() => location.hash);
  check(hash.includes(`model=${encodeURIComponent(model)}`) && hash.includes("range=6h"), `model ${model} and the range in the URL: ${hash}`);
  check(answer.model === model && answer.range === "6h", `the chart reads ${answer.model}'s ${answer.range}`);
  await page.click(".ranges a[data-range='1h']");
  await until(async () => (await page.$eval(".trend-chart", (e) => Number(e.dataset.points))) >= 1, 10000);
  await page.screenshot({ path: join(out, "overview-trends.png"), fullPage: true });

  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
}, async () => {
  await browser?.close();
  await serve.stop();
});

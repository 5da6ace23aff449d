// The dashboard in a real browser against a real `gpupool serve` on the demo inventory: Debian's
// Chromium driven by playwright-core. Every page renders with no console error; the heat map has
// one cell per GPU of /api/v1/pool, those that cannot take the head of the queue marked; a pending job's page shows the scheduler's reason; a job
// submitted through the API is listed live (the time printed); the Chinese page shows no English navigation;
// with the stream blocked the header says so and polling fills the page. Screenshots of each page
// go to OUT. Runs as e2e/harness.mjs says.
import { join } from "node:path";
import { launch, newPage, options, run, signIn, startServe } from "./harness.mjs";

const { gpupool, out, chromiumPath } = options("dashboard.e2e");
const serve = await startServe(gpupool, { basePath: "/gp" });
const { api, submit, token, base } = serve;
const jobs = [];
let browser;
await run(async ({ check }) => {
  // Three jobs of 8 A100s on a pool of 16: the third waits.
  for (const name of ["train-a", "train-b", "waits"]) {
    jobs.push(await submit({ name, gpus: 8, gpu_models: ["A100"], command: ["sleep", "60"] }));
  }
  jobs.push(await submit({ name: "notebook", gpus: 0.5, command: ["sleep", "60"] }));
  const pending = jobs[2];
  // Until the scheduler has placed what fits: 3 running, 1 waiting.
  let pool;
  for (let i = 0; i < 100; i++) {
    pool = await api("GET", "/api/v1/pool");
    if (pool.jobs.running === 3 && pool.jobs.pending === 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  browser = await launch(chromiumPath);
  const { page, errors } = await newPage(browser);
  await signIn(page, base, token);
  check(true, "signed in; the stream is live");
  await page.waitForSelector(".figure .value");
  const figures = await page.$$eval(".figure .value", (els) => els.map((e) => e.textContent));
  check(figures[0] === `${pool.milli.allocated / 1000} / ${pool.gpus.total}`, `overview: allocated ${figures[0]} (API: ${pool.milli.allocated / 1000} / ${pool.gpus.total})`);
  await page.screenshot({ path: join(out, "overview.png"), fullPage: true });

  await page.goto(base + "#/heatmap");
  await page.waitForSelector("g.cell");
  const cells = await page.$$eval("g.cell", (els) => els.length);
  check(cells === pool.gpus.total, `heat map: ${cells} cells, /api/v1/pool: ${pool.gpus.total} GPUs`);
  // The job that waits is the head of the queue; the cells marked fragmented are the GPUs the
  // scheduler lists as unable to take it (all on ready nodes, healthy, not full here).
  const head = (await api("GET", "/api/v1/pool")).head;
  const strandedCount = (head?.stranded ?? []).reduce((n, s) => n + s.gpus.length, 0);
  const fragmented = await page.$$eval("g.cell-fragmented", (els) => els.length);
  check(head?.job === pending.id && strandedCount > 0 && fragmented === strandedCount,
    `heat map: ${fragmented} fragmented cells; /api/v1/pool head: job ${head?.job}, ${strandedCount} GPUs that cannot take it`);
  const hover = await page.$eval("g.cell-fragmented title", (e) => e.textContent);
  check(hover.includes(`job ${pending.id}, first in the queue`), `heat map hover: ${hover}`);
  await page.screenshot({ path: join(out, "heatmap.png"), fullPage: true });

  await page.goto(base + "#/jobs?state=running");
  await page.waitForSelector("table.jobs tbody tr");
  const states = await page.$$eval("table.jobs tbody tr .state", (els) => els.map((e) => e.textContent));
  check(states.length >= 1 && states.every((s) => s === "running"), `jobs?state=running: ${states.join(",")}`);
  await page.goto(base + "#/jobs");
  await page.waitForFunction((n) => document.querySelectorAll("table.jobs tbody tr").length >= n, jobs.length);
  const ids = await page.$$eval("table.jobs tbody tr td:first-child", (els) => els.map((e) => Number(e.textContent)));
  check(JSON.stringify(ids) === JSON.stringify([...ids].sort((a, b) => b - a)), `jobs: newest first (${ids.join(",")})`);
  await page.screenshot({ path: join(out, "jobs.png"), fullPage: true });
  // A job submitted through the API appears without a reload (the stream's delta reloads the
  // list; the page does not poll while the stream is live). The time is printed, not judged
  // (timings are for bench/; the target is 1 s): the wait allows 5 s on a loaded machine.
  const t0 = Date.now();
  const late = await submit({ name: "late", gpus: 1, command: ["sleep", "60"] });
  const seen = await page
    .waitForSelector(`table.jobs a[href="#/jobs/${late.id}"]`, { timeout: 5000 })
    .then(() => true, () => false);
  check(seen, `job ${late.id}, submitted through the API, is listed live (after ${Date.now() - t0} ms)`);

  await page.goto(base + `#/jobs/${pending.id}`);
  await page.waitForSelector("h2#job-title");
  const text = await page.textContent("main");
  const why = (await api("GET", `/api/v1/jobs/${pending.id}`)).pending?.reasons?.[0]?.message;
  check(!!why && text.includes(why), `job ${pending.id} (pending): shows the scheduler's reason (${why})`);
  await page.screenshot({ path: join(out, "job-pending.png"), fullPage: true });

  await page.selectOption("#lang", "zh");
  await page.goto(base + "#/");
  await page.waitForSelector(".figure .value");
  const nav = await page.$$eval("header nav a", (els) => els.map((e) => e.textContent));
  // The first pages by name; every page's link (others add theirs) without a Latin letter.
  check(nav.slice(0, 3).join(",") === "概览,热力图,作业" && nav.every((s) => !/[A-Za-z]/.test(s)),
    `zh navigation: ${nav.join(",")}`);
  await page.screenshot({ path: join(out, "overview-zh.png"), fullPage: true });

  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);

  // The stream cannot connect: the header says so and the pages still fill, by polling.
  const offline = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await offline.route("**/api/v1/events/stream", (r) => r.abort());
  await offline.goto(base);
  await offline.fill("#token", token);
  await offline.click("button[type=submit]");
  await offline.waitForSelector(".conn-polling", { timeout: 10000 });
  await offline.waitForSelector(".figure .value", { timeout: 10000 });
  const polled = await offline.$eval(".figure .value", (e) => e.textContent);
  check(polled.endsWith(`/ ${pool.gpus.total}`), `stream down: polling shows the pool (${polled})`);
  await offline.screenshot({ path: join(out, "stream-down.png"), fullPage: true });
  console.log(`screenshots in ${out}`);
}, async () => {
  await browser?.close();
  await serve.stop();
});

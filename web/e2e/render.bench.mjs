// First render of the dashboard on a large pool, in Debian's Chromium (not a test: figures for
// docs/serve.md). Starts `gpupool serve` on a generated pool of NODES x 8 GPUs, submits JOBS jobs
// of a quarter GPU to 8 GPUs that sleep (16 at a time: those that fit run, the rest wait), signs
// in (the token stored first, as after a sign-in), and times from navigation to the overview's
// figures, then to its trend chart, then to the heat map's cells, several times.
//   node e2e/render.bench.mjs --gpupool build/apps/gpupool/gpupool [--nodes 1000] [--jobs 10000]
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const gpupool = arg("--gpupool");
const nodes = Number(arg("--nodes", "1000"));
const njobs = Number(arg("--jobs", "10000"));
const runs = Number(arg("--runs", "5"));
const dir = mkdtempSync(join(tmpdir(), "gpupool-render-"));
writeFileSync(join(dir, "pool.yaml"), `simulated: true\nnodes:\n  - name: gpu\n    count: ${nodes}\n    gpu_model: H100-SXM\n    gpus: 8\n    gpu_memory_mib: 81559\n    cpu: 224\n    memory: 2048Gi\n    nvlink_islands: [[0, 1, 2, 3, 4, 5, 6, 7]]\n`);
const server = spawn(gpupool, ["serve", "--listen", "127.0.0.1:0", "--data-dir", join(dir, "d"), "--inventory", join(dir, "pool.yaml"), "--sync", "normal"], { stdio: "ignore" });
const ids = [];
let api;
let browser;
try {
  for (let i = 0; i < 300 && !existsSync(join(dir, "d", "server.url")); i++) await new Promise((r) => setTimeout(r, 100));
  const origin = readFileSync(join(dir, "d", "server.url"), "utf8").trim();
  const token = readFileSync(join(dir, "d", "admin.token"), "utf8").trim();
  api = async (method, path, body) =>
    (await fetch(origin + path, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined })).json();
  const sizes = [0.25, 0.5, 1, 2, 4, 8];
  const t0 = Date.now();
  for (let i = 0; i < njobs; i += 16) {
    const batch = [];
    for (let k = i; k < Math.min(njobs, i + 16); k++) {
      batch.push(api("POST", "/api/v1/jobs", { gpus: sizes[k % sizes.length], command: ["sleep", "600"] }));
    }
    for (const j of await Promise.all(batch)) if (j.id !== undefined) ids.push(j.id);
  }
  console.log(`${ids.length} jobs submitted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // Until the scheduler has placed what fits (the running count stops growing).
  let pool = await api("GET", "/api/v1/pool");
  for (let last = -1; pool.jobs.running !== last; ) {
    last = pool.jobs.running;
    await new Promise((r) => setTimeout(r, 2000));
    pool = await api("GET", "/api/v1/pool");
  }
  browser = await chromium.launch({ executablePath: arg("--chromium", "/usr/bin/chromium"), args: ["--no-sandbox", "--disable-gpu"] });
  const times = { overview: [], trends: [], heatmap: [] };
  for (let r = 0; r < runs; r++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript((t) => sessionStorage.setItem("gpupool.token", t), token);
    let t0 = Date.now();
    await page.goto(origin + "/#/overview");
    await page.waitForSelector(".figure .value");
    times.overview.push(Date.now() - t0);
    await page.waitForSelector(".trend-chart canvas");
    times.trends.push(Date.now() - t0);
    t0 = Date.now();
    await page.goto(origin + "/#/heatmap");
    await page.waitForFunction((n) => document.querySelectorAll("g.cell").length === n, pool.gpus.total, { timeout: 60000 });
    times.heatmap.push(Date.now() - t0);
    await page.close();
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`pool: ${nodes} nodes, ${pool.gpus.total} GPUs, ${ids.length} jobs: ${pool.jobs.running} running, ${pool.jobs.pending} pending, ${pool.milli.allocated / 1000} GPUs allocated`);
  console.log(`overview, navigation to figures: median ${med(times.overview)} ms (${times.overview.join(", ")})`);
  console.log(`overview, navigation to the trend chart: median ${med(times.trends)} ms (${times.trends.join(", ")})`);
  console.log(`heat map, navigation to all ${pool.gpus.total} cells: median ${med(times.heatmap)} ms (${times.heatmap.join(", ")})`);
} finally {
  await browser?.close();
  for (let i = 0; i < ids.length; i += 16) {
    await Promise.all(ids.slice(i, i + 16).map((id) => api?.("DELETE", `/api/v1/jobs/${id}`).catch(() => {})));
  }
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
}

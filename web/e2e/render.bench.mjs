// First render of the dashboard on a large pool, in Debian's Chromium (not a test: figures for
// docs/serve.md). Starts `gpupool serve` on a generated pool of NODES x 8 GPUs with JOBS running
// jobs of 1-8 GPUs and shares, signs in (the token stored first, as after a sign-in), and times
// from navigation to the overview's figures, then to the heat map's cells, several times.
//   node e2e/render.bench.mjs --gpupool build/apps/gpupool/gpupool [--nodes 1000] [--jobs 200]
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
const njobs = Number(arg("--jobs", "200"));
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
  for (let i = 0; i < njobs; i++) ids.push((await api("POST", "/api/v1/jobs", { gpus: sizes[i % sizes.length], command: ["sleep", "300"] })).id);
  const pool = await api("GET", "/api/v1/pool");
  browser = await chromium.launch({ executablePath: arg("--chromium", "/usr/bin/chromium"), args: ["--no-sandbox", "--disable-gpu"] });
  const times = { overview: [], heatmap: [] };
  for (let r = 0; r < runs; r++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript((t) => sessionStorage.setItem("gpupool.token", t), token);
    let t0 = Date.now();
    await page.goto(origin + "/#/overview");
    await page.waitForSelector(".figure .value");
    times.overview.push(Date.now() - t0);
    t0 = Date.now();
    await page.goto(origin + "/#/heatmap");
    await page.waitForFunction((n) => document.querySelectorAll("g.cell").length === n, pool.gpus.total, { timeout: 60000 });
    times.heatmap.push(Date.now() - t0);
    await page.close();
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`pool: ${nodes} nodes, ${pool.gpus.total} GPUs, ${pool.jobs.running} jobs running, ${pool.milli.allocated / 1000} GPUs allocated`);
  console.log(`overview, navigation to figures: median ${med(times.overview)} ms (${times.overview.join(", ")})`);
  console.log(`heat map, navigation to all ${pool.gpus.total} cells: median ${med(times.heatmap)} ms (${times.heatmap.join(", ")})`);
} finally {
  await browser?.close();
  for (const id of ids) await api?.("DELETE", `/api/v1/jobs/${id}`).catch(() => {});
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
}

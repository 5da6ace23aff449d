// What every browser test shares: its arguments, the checks it prints, a real `gpupool serve` on
// a fresh data directory, Debian's Chromium (playwright-core) and the sign-in. A test is a file
// e2e/NAME.e2e.mjs; tests/web/CMakeLists.txt registers each as ctest `web_browser_NAME`, run as
//   node e2e/NAME.e2e.mjs --gpupool build/apps/gpupool/gpupool --out DIR [--chromium PATH]
// and exits 0 when every check passed, 1 when one failed, 2 when it could not run.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

// The test's options; exits 2 when the binary or the browser is missing.
export function options(testName) {
  const gpupool = arg("--gpupool");
  const out = arg("--out", join(tmpdir(), "gpupool-web-screenshots"));
  const chromiumPath = arg("--chromium", "/usr/bin/chromium");
  if (!gpupool || !existsSync(gpupool) || !existsSync(chromiumPath)) {
    console.error(`${testName}: needs --gpupool BINARY (${gpupool}) and Chromium (${chromiumPath})`);
    process.exit(2);
  }
  mkdirSync(out, { recursive: true });
  return { gpupool, out, chromiumPath };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Prints each check as it is made; `failures` lists the ones that failed.
export function checker() {
  const failures = [];
  const check = (ok, what) => {
    console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    if (!ok) failures.push(what);
  };
  return { check, failures };
}

// `gpupool serve` on 127.0.0.1 (a free port) with a fresh data directory. `args` are further
// arguments (an argument vector, never a shell string); `env` is added to the environment.
// Returns the origin, the admin token, `api(method, path, body)` (JSON in, JSON out, with the
// token), `submit(spec)` (a job through the API, cancelled again by `stop`) and `stop()`.
export async function startServe(gpupool, { inventory = "data/inventory/demo.yaml", basePath = null,
  args = [], env = {} } = {}) {
  const data = mkdtempSync(join(tmpdir(), "gpupool-e2e-"));
  // inventory null: none given, so the service discovers this host's GPUs (NVML, e.g. the fake
  // one that `env` points GPUPOOL_NVML_LIBRARY at).
  const argv = ["serve", "--listen", "127.0.0.1:0", "--data-dir", join(data, "d"),
    ...(inventory ? ["--inventory", join(root, inventory)] : []), ...(basePath ? ["--base-path", basePath] : []), ...args];
  const server = spawn(gpupool, argv, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...env } });
  const exited = new Promise((r) => server.once("exit", r));
  const urlFile = join(data, "d", "server.url");
  for (let i = 0; i < 150 && !existsSync(urlFile) && server.exitCode === null; i++) await sleep(100);
  if (!existsSync(urlFile)) {
    server.kill("SIGTERM");
    await exited;
    rmSync(data, { recursive: true, force: true });
    throw new Error(`gpupool ${argv.join(" ")} did not start`);
  }
  const origin = readFileSync(urlFile, "utf8").trim();
  const token = readFileSync(join(data, "d", "admin.token"), "utf8").trim();
  const api = async (method, path, body, bearer = token) => {
    const r = await fetch(origin + path, {
      method,
      headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    try {
      return JSON.parse(text);
    } catch {
      return { status: r.status, text };
    }
  };
  const jobs = [];
  const submit = async (spec) => {
    const job = await api("POST", "/api/v1/jobs", spec);
    if (job.id !== undefined) jobs.push(job);
    return job;
  };
  const stop = async () => {
    // The jobs keep running after the service stops, by design: cancel them first.
    for (const j of jobs) await api("DELETE", `/api/v1/jobs/${j.id}`).catch(() => {});
    server.kill("SIGTERM");
    await exited;
    rmSync(data, { recursive: true, force: true });
  };
  return { origin, base: origin + (basePath ? basePath + "/" : "/"), token, api, submit, stop, dataDir: join(data, "d") };
}

// Polls `fn` until it returns a truthy value (returned) or `ms` pass (null).
export async function until(fn, ms = 10000, every = 100) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(every)) {
    const v = await fn();
    if (v) return v;
  }
  return null;
}

export async function launch(chromiumPath) {
  return chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu"] });
}

// A page that records its console errors and uncaught exceptions in `errors`.
export async function newPage(browser) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, errors };
}

// Signs in with `token` at `base` and waits until the stream (or, with `live: false`, anything
// after the form) is up.
export async function signIn(page, base, token, { live = true } = {}) {
  await page.goto(base);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  if (live) await page.waitForSelector(".conn-live", { timeout: 10000 });
  else await page.waitForSelector("main:not(:has(form.signin))", { timeout: 10000 });
}

// Runs `body({ check, failures })`, then `cleanup()`; exits 1 if a check failed or it threw.
export async function run(body, cleanup = async () => {}) {
  const { check, failures } = checker();
  try {
    await body({ check, failures });
  } catch (e) {
    failures.push(String(e));
    console.error(e);
  } finally {
    await cleanup().catch((e) => console.error(e));
  }
  process.exit(failures.length ? 1 : 0);
}

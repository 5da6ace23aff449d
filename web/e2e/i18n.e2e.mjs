// The Chinese dashboard has no untranslated string: every page of the navigation (and a job's
// page, a pending one) is opened in Chinese and its visible text is read. Words in Latin letters
// are allowed only inside elements marked translate="no" (data: the scheduler's quoted sentences,
// times, names), inside <code> or <pre>, when they are the pool's own names (nodes, GPU models,
// jobs, users, queues, read from the API), or names the Chinese text uses as they are (GPU,
// NVLink, ...: ALLOWED below). Screenshots in Chinese go to OUT.
import { join } from "node:path";
import { launch, newPage, options, run, signIn, startServe, until } from "./harness.mjs";

// Names written the same in Chinese technical text.
const ALLOWED = new Set(["GPU", "GPUs", "CPU", "NVML", "NVLink", "MIG", "UUID", "API", "ID", "MiB", "GiB", "TiB", "KB",
  "MB", "GB", "TB", "W", "gpupool", "Token", "token", "FP", "FP8", "FP16", "BF16", "INT8", "INT4", "TFLOP", "TFLOPs", "SSE",
  "PCIe", "InfiniBand", "RoCE", "HBM", "KV", "TP", "PP", "DP", "EP", "JSON", "URL", "stdout", "h", "d", "s", "ms", "min", "C"]);

const { gpupool, out, chromiumPath } = options("i18n.e2e");
const serve = await startServe(gpupool);
let browser;
await run(async ({ check }) => {
  // A running job and one that waits (more A100s than the demo pool has free).
  await serve.submit({ name: "runs", gpus: 8, gpu_models: ["A100"], command: ["sleep", "60"] });
  await serve.submit({ name: "runs-too", gpus: 8, gpu_models: ["A100"], command: ["sleep", "60"] });
  const waits = await serve.submit({ name: "waits", gpus: 8, gpu_models: ["A100"], command: ["sleep", "60"] });
  await until(async () => (await serve.api("GET", `/api/v1/jobs/${waits.id}`)).pending?.reasons?.length > 0);

  // The pool's own names (nodes, GPU models, jobs, users, queues) are data, not text to translate,
  // wherever they appear (a tooltip cannot mark them): their words are allowed too.
  const names = [];
  for (const n of (await serve.api("GET", "/api/v1/nodes")).nodes) {
    names.push(n.name, n.gpu_model ?? "", ...n.gpus.map((g) => `${g.model} ${g.uuid}`));
  }
  for (const j of (await serve.api("GET", "/api/v1/jobs?limit=1000")).jobs) names.push(j.name ?? "", j.user ?? "", j.queue ?? "");
  for (const w of names.join(" ").match(/[A-Za-z][A-Za-z0-9]*/g) ?? []) ALLOWED.add(w);

  browser = await launch(chromiumPath);
  const { page, errors } = await newPage(browser);
  await page.addInitScript(() => localStorage.setItem("gpupool.lang", "zh"));
  await signIn(page, serve.base, serve.token);
  const hashes = await page.$$eval("header nav a", (els) => els.map((e) => e.getAttribute("href")));
  hashes.push(`#/jobs/${waits.id}`);
  for (const hash of hashes) {
    await page.goto(serve.base + hash);
    await page.waitForFunction(() => {
      const m = document.querySelector("main");
      return m && m.textContent.trim().length > 0 && !m.textContent.includes("加载中");
    }, null, { timeout: 10000 }).catch(() => {});
    await page.waitForTimeout(300);
    const words = await page.evaluate(() => {
      const found = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!el || el.closest('[translate="no"], code, pre, script, style, noscript, option')) continue;
        const style = getComputedStyle(el);
        if (style.display === "none" || style.visibility === "hidden") continue;
        for (const w of n.textContent.match(/[A-Za-z][A-Za-z0-9]*/g) ?? []) found.push(w);
      }
      for (const el of document.querySelectorAll("[title], [aria-label], [placeholder]")) {
        if (el.closest('[translate="no"]')) continue;
        for (const a of ["title", "aria-label", "placeholder"]) {
          for (const w of (el.getAttribute(a) ?? "").match(/[A-Za-z][A-Za-z0-9]*/g) ?? []) found.push(w);
        }
      }
      return found;
    });
    const stray = [...new Set(words.filter((w) => !ALLOWED.has(w)))];
    check(stray.length === 0, `zh ${hash}: no untranslated words${stray.length ? ": " + stray.join(", ") : ""}`);
    await page.screenshot({ path: join(out, `zh-${hash.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "")}.png`), fullPage: true });
  }
  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
}, async () => {
  await browser?.close();
  await serve.stop();
});

// The Nodes and GPUs pages, the confirmed actions and the jobs list's sort and columns, in
// Debian's Chromium against a real `gpupool serve`:
//   - on the demo inventory: the nodes page renders with no console error and its nodes hold
//     the GPUs of /api/v1/pool; a simulated node's NVML figures say unknown; Escape closes a
//     dialog and changes nothing; a cordon confirmed in the dialog (by keyboard) cordons the node
//     (read back through the API) and an uncordon undoes it; a cancel confirmed in the dialog
//     cancels (job page and jobs list); a click on a header sorts on the server (the URL and the
//     order are the API's); the column chooser's choice is in the URL;
//   - as a user: no node actions; another user's job is not found; their own job's cancel is
//     refused by the server once their token is revoked, and the page says so;
//   - on the fake NVML (`--fake-nvml LIB`, tests/discovery's fake libnvidia-ml): `gpupool serve`
//     without an inventory discovers the fake GPUs, and the node page shows NVML's utilization,
//     power and temperature.
// Screenshots go to OUT. Runs as e2e/harness.mjs says.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { arg, launch, newPage, options, run, signIn, startServe, until } from "./harness.mjs";

const { gpupool, out, chromiumPath } = options("nodes.e2e");
const fakeNvml = arg("--fake-nvml");
const serve = await startServe(gpupool);
const { api, submit, token, base } = serve;
const tmp = mkdtempSync(join(tmpdir(), "gpupool-nodes-e2e-"));
let nvmlServe = null;
let browser;
let userJob = null; // submitted with a user's token: cancelled at the end whatever happens

const nodeOf = async (name) => (await api("GET", "/api/v1/nodes")).nodes.find((n) => n.name === name);
const stateOf = async (id) => (await api("GET", `/api/v1/jobs/${id}`)).state;
const dialogOpen = (page) => page.$("dialog[open]").then((d) => d !== null);

await run(async ({ check }) => {
  const pool = await api("GET", "/api/v1/pool");
  const apiNodes = (await api("GET", "/api/v1/nodes")).nodes;
  browser = await launch(chromiumPath);
  const { page, errors } = await newPage(browser);
  await signIn(page, base, token);

  // The list: one row per node, holding the pool's GPUs.
  await page.goto(base + "#/nodes");
  await page.waitForSelector("table.nodes tbody tr");
  const rows = await page.$$eval("table.nodes tbody tr", (els) => els.map((e) => Number(e.dataset.gpus)));
  const sum = rows.reduce((a, b) => a + b, 0);
  check(rows.length === apiNodes.length && sum === pool.gpus.total,
    `nodes page: ${rows.length} nodes, ${sum} GPUs; /api/v1/pool: ${pool.gpus.total} GPUs, /api/v1/nodes: ${apiNodes.length} nodes`);
  await page.screenshot({ path: join(out, "nodes.png"), fullPage: true });

  // A simulated node: its GPUs as /api/v1/pool lists them, NVML's figures unknown (never 0).
  const name = apiNodes[0].name;
  await page.goto(base + `#/nodes/${encodeURIComponent(name)}`);
  await page.waitForSelector("table.gpus tbody tr");
  const gpuRows = await page.$$eval("table.gpus tbody tr", (els) => els.length);
  const listed = pool.gpu_list.filter((g) => g.node === name).length;
  check(gpuRows === listed, `node ${name}: ${gpuRows} GPU rows, /api/v1/pool lists ${listed}`);
  const utils = await page.$$eval("[data-testid=gpu-util]", (els) => els.map((e) => e.textContent));
  const temps = await page.$$eval("[data-testid=gpu-temp]", (els) => els.map((e) => e.textContent));
  check(utils.length === listed && [...utils, ...temps].every((s) => s === "unknown"),
    `simulated node: utilization and temperature unknown (${utils[0]}, ${temps[0]})`);

  // Cordon: Escape first (nothing changes), then confirmed with the keyboard.
  await page.click(`[data-testid="cordon-${name}"]`);
  await page.waitForSelector("dialog[open]");
  const focused = await page.evaluate(() => document.activeElement?.dataset?.testid);
  check(focused === "keep", `the dialog opens with focus on "keep" (${focused})`);
  await page.keyboard.press("Escape");
  await until(async () => !(await dialogOpen(page)), 3000);
  check(!(await dialogOpen(page)) && (await nodeOf(name)).condition === "ready", "Escape closes the dialog; the node stays ready");
  await page.click(`[data-testid="cordon-${name}"]`);
  await page.waitForSelector("dialog[open]");
  const text = await page.textContent("dialog[open]");
  check(text.includes(name) && text.includes("No new job"), `the dialog says what will happen: ${text.slice(0, 80)}…`);
  await page.screenshot({ path: join(out, "nodes-cordon-dialog.png") });
  await page.keyboard.press("Shift+Tab"); // from "keep" to the action
  await page.keyboard.press("Enter");
  const cordoned = await until(async () => (await nodeOf(name)).condition === "cordoned", 5000);
  check(!!cordoned, `cordon through the dialog: the API says ${(await nodeOf(name)).condition}`);
  await page.waitForSelector("h2#node-title .cond-cordoned", { timeout: 10000 });
  // The filter in the URL: the cordoned nodes.
  await page.goto(base + "#/nodes?condition=cordoned");
  await page.waitForSelector("table.nodes tbody tr");
  const shown = await page.$$eval("table.nodes tbody tr", (els) => els.map((e) => e.dataset.node));
  check(shown.join() === name, `#/nodes?condition=cordoned lists ${shown.join()}`);
  await page.click(`[data-testid="uncordon-${name}"]`);
  await page.click("dialog[open] [data-testid=confirm]");
  check(!!(await until(async () => (await nodeOf(name)).condition === "ready", 5000)), "uncordon through the dialog: ready again");

  // Cancel on the job page, and from the jobs list.
  const a = await submit({ name: "cancel-me", gpus: 1, command: ["sleep", "60"] });
  const b = await submit({ name: "cancel-from-list", gpus: 1, command: ["sleep", "60"] });
  await until(async () => (await stateOf(b.id)) === "running", 10000);
  await page.goto(base + `#/jobs/${a.id}`);
  await page.click(`[data-testid="cancel-${a.id}"]`);
  await page.waitForSelector("dialog[open]");
  await page.click("dialog[open] [data-testid=confirm]");
  check(!!(await until(async () => (await stateOf(a.id)) === "cancelled", 10000)), `job ${a.id}: cancelled through the dialog (${await stateOf(a.id)})`);
  await page.goto(base + "#/jobs");
  await page.click(`[data-testid="cancel-${b.id}"]`);
  await page.click("dialog[open] [data-testid=confirm]");
  check(!!(await until(async () => (await stateOf(b.id)) === "cancelled", 10000)), `job ${b.id}: cancelled from the jobs list (${await stateOf(b.id)})`);

  // Sort by a header click: the URL says so and the rows are in the API's order.
  for (const [i, nm] of ["b", "a", "c", "a"].entries()) await submit({ name: `sort-${nm}`, gpus: 0, command: ["sleep", "60"], priority: i });
  await page.goto(base + "#/jobs");
  await page.waitForSelector("table.jobs tbody tr");
  await page.click('th[data-col=name] a');
  await page.waitForFunction(() => location.hash.includes("sort=name"));
  const hash = await page.evaluate(() => location.hash);
  check(hash.includes("sort=name") && hash.includes("order=asc"), `a click on Name: ${hash}`);
  const want = (await api("GET", "/api/v1/jobs?sort=name&order=asc&limit=50")).jobs.map((j) => j.id).join();
  const got = await until(async () => {
    const ids = (await page.$$eval("table.jobs tbody tr", (els) => els.map((e) => e.dataset.id))).join();
    return ids === want ? ids : null;
  }, 10000);
  check(got === want, `name ascending: page ${got}, API ${want}`);
  await page.click('th[data-col=name] a');
  await page.waitForFunction(() => location.hash.includes("order=desc"));
  const wantDesc = (await api("GET", "/api/v1/jobs?sort=name&order=desc&limit=50")).jobs.map((j) => j.id).join();
  const gotDesc = await until(async () => {
    const ids = (await page.$$eval("table.jobs tbody tr", (els) => els.map((e) => e.dataset.id))).join();
    return ids === wantDesc ? ids : null;
  }, 10000);
  check(gotDesc === wantDesc, `a second click: name descending, page ${gotDesc}, API ${wantDesc}`);
  // The column chooser: Priority shown, in the URL.
  await page.click("details.columns summary");
  await page.click('details.columns input[value=priority]');
  await page.waitForFunction(() => location.hash.includes("cols="));
  const colsHash = await page.evaluate(() => location.hash);
  await page.waitForSelector("th[data-col=priority]");
  check(/cols=[^&]*priority/.test(decodeURIComponent(colsHash)), `column chooser: ${decodeURIComponent(colsHash)}`);
  await page.screenshot({ path: join(out, "jobs-sorted-columns.png"), fullPage: true });
  // In Chinese: the node page's headings, figures and source tags have no English left (names
  // and units such as GPU, UUID, NVML, CPU, GiB stay).
  await page.selectOption("#lang", "zh");
  await page.goto(base + `#/nodes/${encodeURIComponent(name)}`);
  await page.waitForSelector("table.gpus th");
  const labels = await page.$$eval("main th, main .figure .label, main h2, main h3, main p, main button",
    (els) => els.map((e) => e.textContent));
  const latin = labels.map((l) => l.replace(/GPU|UUID|NVML|CPU|GiB|h100-\d|[#\d]/g, "")).filter((l) => /[A-Za-z]/.test(l));
  check(latin.length === 0, `zh node page: no untranslated text${latin.length ? ": " + latin.join(" | ") : ""}`);
  await page.screenshot({ path: join(out, "node-zh.png"), fullPage: true });
  await page.selectOption("#lang", "en");
  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);

  // A user: sees the pool's totals and their own jobs, no node actions, not another's job.
  const alice = await api("POST", "/api/v1/tokens", { user: "alice", queues: ["default"] });
  const own = await api("POST", "/api/v1/jobs", { name: "alices", gpus: 1, command: ["sleep", "60"] }, alice.token);
  userJob = own.id;
  const user = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(user, base, alice.token);
  await user.waitForSelector(".figure .value");
  const total = await user.$eval(".figure .value", (e) => e.textContent);
  check(total.endsWith(`/ ${pool.gpus.total}`), `user: the pool's totals (${total})`);
  await user.goto(base + "#/nodes");
  await user.waitForSelector("table.nodes tbody tr");
  check((await user.$$("[data-testid^=cordon-], [data-testid^=drain-]")).length === 0, "user: no node actions");
  await user.goto(base + `#/jobs/${b.id}`);
  await user.waitForSelector("main [role=alert]");
  check((await user.textContent("main")).includes("not found"), `user: another user's job is not found (${await user.textContent("main [role=alert]")})`);
  await user.goto(base + "#/jobs");
  await user.waitForSelector(`table.jobs tbody tr[data-id="${own.id}"]`);
  const listedIds = await user.$$eval("table.jobs tbody tr", (els) => els.map((e) => e.dataset.id));
  check(listedIds.join() === String(own.id), `user: only their own job listed (${listedIds.join()})`);
  // Their token revoked while the page is open: the server refuses the cancel; the page says why.
  await api("DELETE", `/api/v1/tokens/${alice.id}`);
  await user.click(`[data-testid="cancel-${own.id}"]`);
  await user.click("dialog[open] [data-testid=confirm]");
  await user.waitForSelector(".action-error[role=alert]", { timeout: 5000 });
  const refusal = await user.textContent(".action-error[role=alert]");
  check(refusal.startsWith("Refused:") && (await stateOf(own.id)) !== "cancelled", `the server's refusal is shown: ${refusal}`);
  await user.screenshot({ path: join(out, "jobs-refused.png"), fullPage: true });

  // The fake NVML: a host's GPUs discovered, NVML's figures shown.
  if (!fakeNvml) {
    console.log("SKIP the fake NVML run: no --fake-nvml LIB (tests/web/CMakeLists.txt passes it)");
    return;
  }
  const script = join(tmp, "nvml.json");
  writeFileSync(script, JSON.stringify({ gpus: [
    { name: "NVIDIA H100 80GB HBM3", uuid: "GPU-e2e-0", bus_id: "00000000:18:00.0", memory_total_mib: 81559,
      memory_used_mib: 30000, util: [37, 20], temp: 61, power_mw: 212500, power_limit_mw: 700000 },
    { name: "NVIDIA H100 80GB HBM3", uuid: "GPU-e2e-1", bus_id: "00000000:2A:00.0", memory_total_mib: 81559,
      util: [0, 0], temp: 45, unsupported: ["nvmlDeviceGetPowerUsage"] },
  ] }));
  nvmlServe = await startServe(gpupool, { inventory: null, env: { GPUPOOL_NVML_LIBRARY: fakeNvml, FAKE_NVML_SCRIPT: script } });
  const host = (await nvmlServe.api("GET", "/api/v1/nodes")).nodes;
  check(host.length === 1 && host[0].simulated === false && host[0].gpus.length === 2,
    `fake NVML: one discovered node, ${host[0]?.gpus.length} GPUs, simulated ${host[0]?.simulated}`);
  const hp = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const hostErrors = [];
  hp.on("console", (m) => m.type() === "error" && hostErrors.push(m.text()));
  await signIn(hp, nvmlServe.base, nvmlServe.token);
  await hp.goto(nvmlServe.base + `#/nodes/${encodeURIComponent(host[0].name)}`);
  const figures = await until(async () => {
    const u = await hp.$$eval("[data-testid=gpu-util]", (els) => els.map((e) => e.textContent));
    return u[0] === "37 %" ? u : null;
  }, 10000);
  const power = await hp.$$eval("[data-testid=gpu-power]", (els) => els.map((e) => e.textContent));
  const temp = await hp.$$eval("[data-testid=gpu-temp]", (els) => els.map((e) => e.textContent));
  const mem = await hp.$$eval("[data-testid=gpu-mem-used]", (els) => els.map((e) => e.textContent));
  // The script's figures: 37 %, 212500 mW of 700000 mW, 61 C, 30000 MiB = 29.3 GiB; GPU 1: 0 %
  // (a real 0), its power unsupported (unknown), 45 C.
  check(figures?.join() === "37 %,0 %", `NVML utilization: ${figures?.join()}`);
  check(power.join() === "212.5 W / 700 W,unknown", `NVML power: ${power.join()}`);
  check(temp.join() === "61 °C,45 °C", `NVML temperature: ${temp.join()}`);
  check(mem[0] === "29.3 GiB", `NVML memory in use: ${mem[0]}`);
  await hp.screenshot({ path: join(out, "node-nvml.png"), fullPage: true });
  check(hostErrors.length === 0, `fake NVML page: no console errors${hostErrors.length ? ": " + hostErrors.join(" | ") : ""}`);
  console.log(`screenshots in ${out}`);
}, async () => {
  await browser?.close();
  if (userJob !== null) await api("DELETE", `/api/v1/jobs/${userJob}`).catch(() => {});
  await serve.stop();
  await nvmlServe?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

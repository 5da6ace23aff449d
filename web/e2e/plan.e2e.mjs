// The Queues, Submit, Plan and Experiments pages in a real browser against a real `gpupool serve`
// on the demo inventory, with a queue file and an experiments folder written here. Each page
// renders with no console error; the queue tree matches /api/v1/queues (names, parents, depth,
// guarantees); a job submitted through the form appears in /api/v1/jobs; a bad member is shown
// next to its field; the plan page's GPU count equals POST /api/v1/plan's; "Submit this plan"
// fills the form with the plan's resources; a `gpupool sim fill --json` output shows as charts;
// a preemption is linked both ways (Queues page, victim's and preemptor's job pages). Screenshots
// go to OUT. Runs as e2e/harness.mjs says.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, newPage, options, run, signIn, startServe, until } from "./harness.mjs";

const { gpupool, out, chromiumPath } = options("plan.e2e");
const tmp = mkdtempSync(join(tmpdir(), "gpupool-plan-e2e-"));
const queueFile = join(tmp, "queues.yaml");
// org (8 guaranteed) with two children; default at the top level.
writeFileSync(queueFile, [
  "queues:",
  "  - name: default",
  "  - name: org",
  "    guaranteed: 8",
  "    limit: 24",
  "  - name: research",
  "    parent: org",
  "    guaranteed: 4",
  "    weight: 2",
  "  - name: prod",
  "    parent: org",
  "    guaranteed: 4",
  "",
].join("\n"));
const expDir = join(tmp, "experiments");
mkdirSync(expDir);
// A real fill output (one seed of two policies: a fraction of a second), written as a user would.
const fill = spawnSync(gpupool, ["sim", "fill", "--policy", "fgd,bestfit", "--seeds", "42", "--json"], { encoding: "utf8" });
if (fill.status !== 0) throw new Error(`gpupool sim fill failed: ${fill.stderr}`);
writeFileSync(join(expDir, "fill-small.json"), fill.stdout);
const fillData = JSON.parse(fill.stdout);
// A real replay output (the Philly trace on a quarter of its nodes, two orders: about 2 s).
const replay = spawnSync(gpupool, ["sim", "replay", "--policy", "fifo,sjf", "--scale", "0.25", "--json"], { encoding: "utf8" });
if (replay.status !== 0) throw new Error(`gpupool sim replay failed: ${replay.stderr}`);
writeFileSync(join(expDir, "replay-philly.json"), replay.stdout);
const replayData = JSON.parse(replay.stdout);
writeFileSync(join(expDir, "broken.json"), JSON.stringify({ trace: "t", policies: [{ policy: 7 }] }));

const serve = await startServe(gpupool, { args: ["--queues", queueFile, "--experiments", expDir] });
const { api, token, base } = serve;
// Preemption on a second service without queues: with queues and --preempt the service today
// preempts the same jobs again and again (a livelock reported separately), which this test is
// not about.
let preempting = null;
let browser;
await run(async ({ check }) => {
  browser = await launch(chromiumPath);
  const { page, errors } = await newPage(browser);
  await signIn(page, base, token);

  // ---- Queues: the tree as /api/v1/queues gives it.
  const queues = (await api("GET", "/api/v1/queues")).queues;
  await page.goto(base + "#/queues");
  await page.waitForSelector("[data-testid=queue-tree] tbody tr[data-queue]");
  const rows = await page.$$eval("[data-testid=queue-tree] tbody tr[data-queue]", (els) =>
    els.map((e) => ({ name: e.dataset.queue, parent: e.dataset.parent, depth: Number(e.dataset.depth),
      guaranteed: Number(e.children[1].textContent) })));
  const want = queues.map((q) => ({ name: q.name, parent: q.parent ?? "", guaranteed: q.guaranteed }));
  const got = rows.map(({ name, parent, guaranteed }) => ({ name, parent, guaranteed }));
  const byName = (a, b) => (a.name < b.name ? -1 : 1);
  check(JSON.stringify([...got].sort(byName)) === JSON.stringify([...want].sort(byName)),
    `queues: the tree's rows are /api/v1/queues' (${got.map((r) => r.name).join(",")})`);
  // Children after their parent, one level deeper (research and prod under org, by name).
  const order = rows.map((r) => `${r.depth}:${r.name}`).join(",");
  check(order === "0:default,0:org,1:prod,1:research", `queues: hierarchy order ${order}`);
  await page.screenshot({ path: join(out, "queues.png"), fullPage: true });

  // ---- Submit: a bad member is named next to its field; a good job appears in /api/v1/jobs.
  await page.goto(base + "#/submit");
  await page.waitForSelector("[data-testid=submit-form]");
  await page.fill("#f-command", "sleep\n60");
  await page.fill("#f-name", "from-the-form");
  await page.fill("#f-gpus", "-1");
  await page.click("[data-testid=submit-form] button[type=submit]");
  const gpusError = await page.waitForSelector("[data-testid=error-gpus]", { timeout: 5000 }).then((e) => e.textContent(), () => null);
  check(!!gpusError && gpusError.startsWith("gpus:"), `submit: the server's error is shown at gpus (${gpusError})`);
  await page.fill("#f-gpus", "1");
  await page.click("[data-testid=submit-form] button[type=submit]");
  await page.waitForSelector("[data-testid=submitted] a", { timeout: 5000 });
  const href = await page.$eval("[data-testid=submitted] a", (a) => a.getAttribute("href"));
  const id = Number(href.split("/").pop());
  const listed = await until(async () => (await api("GET", "/api/v1/jobs")).jobs.find((j) => j.id === id), 5000);
  check(!!listed && listed.name === "from-the-form" && JSON.stringify(listed.command) === '["sleep","60"]',
    `submit: job ${id} from the form is in /api/v1/jobs (${listed?.name}, ${JSON.stringify(listed?.command)})`);
  if (listed) await api("DELETE", `/api/v1/jobs/${id}`);
  await page.screenshot({ path: join(out, "submit.png"), fullPage: true });

  // ---- Plan: the page's GPU count is the endpoint's; submit-from-plan fills the form.
  const request = { model: "llama-3-70b", gpu: "H100", precision: "bf16", context: 8192 };
  const answer = await api("POST", "/api/v1/plan", request);
  await page.goto(base + "#/plan?model=llama-3-70b&gpu=H100&precision=bf16&context=8192");
  await page.waitForSelector("[data-testid=plan-gpus]", { timeout: 10000 });
  const shownGpus = Number(await page.textContent("[data-testid=plan-gpus]"));
  check(shownGpus === answer.gpus, `plan: the page shows ${shownGpus} GPUs, POST /api/v1/plan says ${answer.gpus}`);
  const parts = await page.$$eval("[data-testid=memory-chart] rect[data-part]", (els) => els.length);
  check(parts === 5, `plan: the memory chart has ${parts} parts`);
  const nodesShown = await page.$$eval("[data-testid=plan-nodes] tr", (els) =>
    Object.fromEntries(els.map((e) => [e.dataset.verdict, Number(e.children[1].textContent)])));
  const nodesApi = {};
  for (const n of answer.nodes) nodesApi[n.verdict] = (nodesApi[n.verdict] ?? 0) + 1;
  check(["now", "after_preemption", "later", "never"].every((v) => (nodesApi[v] ?? 0) === nodesShown[v]),
    `plan: nodes per verdict ${JSON.stringify(nodesShown)} = the endpoint's ${JSON.stringify(nodesApi)}`);
  await page.screenshot({ path: join(out, "plan.png"), fullPage: true });
  await page.click("[data-testid=submit-plan]");
  await page.waitForSelector("[data-testid=submit-form]");
  const filled = await page.$eval("[data-testid=submit-form]", (f) => ({
    gpus: f.querySelector("#f-gpus").value, gpu_models: f.querySelector("#f-gpu_models").value,
    gpu_memory_mib: f.querySelector("#f-gpu_memory_mib").value, replicas: f.querySelector("#f-replicas").value }));
  const s = answer.submit;
  check(filled.gpus === String(s.gpus) && filled.gpu_models === s.gpu_models.join(",") &&
    filled.gpu_memory_mib === String(s.gpu_memory_mib) && filled.replicas === String(s.replicas),
    `plan: "Submit this plan" fills the form ${JSON.stringify(filled)} from ${JSON.stringify(s)}`);
  await page.screenshot({ path: join(out, "submit-from-plan.png"), fullPage: true });
  // Bad input is named by member.
  await page.goto(base + "#/plan");
  await page.waitForSelector("[data-testid=plan-form]");
  await page.fill("#p-gpu", "Z9000");
  await page.click("[data-testid=plan-form] button[type=submit]");
  const gpuError = await page.waitForSelector("[data-testid=plan-error-gpu]", { timeout: 5000 }).then((e) => e.textContent(), () => null);
  check(!!gpuError && gpuError.startsWith("gpu:"), `plan: a bad GPU is named at gpu (${gpuError})`);

  // ---- Experiments: the list names the broken file's error; the fill output shows as charts.
  await page.goto(base + "#/experiments");
  await page.waitForSelector("[data-testid=experiments] li");
  const listText = await page.textContent("[data-testid=experiments]");
  check(listText.includes("broken.json: policies[0].policy: must be a string"), "experiments: the bad file is named with its member");
  await page.click("a[href='#/experiments?name=fill-small.json']");
  await page.waitForSelector("[data-testid=experiment][data-kind=fill] [data-testid=fill-bars] rect");
  const bars = await page.$$eval("[data-testid=fill-bars] rect", (els) => els.map((e) => Number(e.dataset.value)));
  const means = fillData.policies.map((p) => p.unallocated_at_100.mean);
  check(JSON.stringify(bars) === JSON.stringify(means), `experiments: unallocated bars ${JSON.stringify(bars)} = the file's ${JSON.stringify(means)}`);
  const curves = await page.$$eval("[data-testid=fill-curves] path[data-policy]", (els) => els.length);
  check(curves === 2, `experiments: ${curves} curves`);
  await page.screenshot({ path: join(out, "experiments.png"), fullPage: true });
  await page.click("a[href='#/experiments?name=replay-philly.json']");
  await page.waitForSelector("[data-testid=experiment][data-kind=replay] [data-testid=replay-avg_jct_seconds] rect");
  const jct = await page.$$eval("[data-testid=replay-avg_jct_seconds] rect", (els) => els.map((e) => Number(e.dataset.value)));
  const jctFile = replayData.policies.map((p) => p.avg_jct_seconds);
  check(JSON.stringify(jct) === JSON.stringify(jctFile), `experiments: replay JCT bars ${JSON.stringify(jct)} = the file's ${JSON.stringify(jctFile)}`);
  await page.screenshot({ path: join(out, "experiments-replay.png"), fullPage: true });

  // ---- Who preempted whom, linked both ways: two preemptible jobs fill the 16 H100s, a job of
  // a higher priority preempts one of them.
  preempting = await startServe(gpupool, { args: ["--preempt"] });
  const low = [];
  for (const name of ["low-a", "low-b"]) {
    low.push(await preempting.submit({ name, gpus: 8, gpu_models: ["H100"], preemptible: true, command: ["sleep", "120"] }));
  }
  await until(async () => (await preempting.api("GET", "/api/v1/pool")).jobs.running === 2, 10000);
  const high = await preempting.submit({ name: "high", gpus: 8, gpu_models: ["H100"], priority: 5, command: ["sleep", "120"] });
  await until(async () => (await preempting.api("GET", `/api/v1/jobs/${high.id}`)).state === "running", 10000);
  const all = (await preempting.api("GET", "/api/v1/queues")).preemptions ?? [];
  const pre = all[0];
  check(all.length === 1 && pre.by === high.id && low.some((j) => j.id === pre.victim),
    `preemption: ${JSON.stringify(all.map((p) => [p.victim, p.by]))} (high is ${high.id})`);
  if (pre) {
    await signIn(page, preempting.base, preempting.token);
    await page.goto(preempting.base + "#/queues");
    await page.waitForSelector("[data-testid=preemptions] tbody tr");
    const links = await page.$$eval("[data-testid=preemptions] tbody tr:first-child a", (as) => as.map((a) => a.getAttribute("href")));
    check(JSON.stringify(links) === JSON.stringify([`#/jobs/${pre.victim}`, `#/jobs/${pre.by}`]), `queues: the preemption links ${links.join(" ")}`);
    await page.screenshot({ path: join(out, "queues-preemption.png"), fullPage: true });
    await page.click(`[data-testid=preemptions] a[href="#/jobs/${pre.victim}"]`);
    const back = await page.waitForSelector(`[data-testid=preempted-by] a[href="#/jobs/${pre.by}"]`, { timeout: 5000 }).then(() => true, () => false);
    check(back, `job ${pre.victim}: links to its preemptor ${pre.by}`);
    await page.click(`[data-testid=preempted-by] a[href="#/jobs/${pre.by}"]`);
    const fwd = await page.waitForSelector(`[data-testid=victims] a[href="#/jobs/${pre.victim}"]`, { timeout: 5000 }).then(() => true, () => false);
    check(fwd, `job ${pre.by}: links to its victim ${pre.victim}`);
    await page.screenshot({ path: join(out, "job-preemptor.png"), fullPage: true });
  }

  // The two bad requests above (gpus -1, GPU Z9000) are the only failed loads the browser logs.
  const unexpected = errors.filter((e) => !e.includes("the server responded with a status of 400"));
  check(unexpected.length === 0 && errors.length === 2,
    `no console errors but the two deliberate 400s${errors.length ? ": " + errors.join(" | ") : ""}`);
  console.log(`screenshots in ${out}`);
}, async () => {
  await browser?.close();
  await preempting?.stop();
  await serve.stop();
  rmSync(tmp, { recursive: true, force: true });
});

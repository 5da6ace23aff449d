// MIG GPUs on the heat map, in Debian's Chromium against a real `gpupool serve` on
// web/e2e/mig-inventory.yaml (one 4-GPU A100 node, GPU 1 in MIG mode: 3g.40gb, 2g.20gb, 1g.10gb,
// 1g.10gb):
//   - through the API: /api/v1/nodes gives GPU 1's instances and why it takes no work; four
//     one-GPU jobs: three run, on GPUs 0, 2 and 3, and the fourth waits (no job lands on GPU 1);
//   - the heat map draws GPU 1 as a MIG cell holding its four instances, left to right, widths
//     3:2:1:1 of the cell (7 slices), its hover naming the profiles; the legend has the MIG
//     entry; the node's name sits inside translate="no"; the same in Chinese; no console error.
// Screenshots go to OUT. Runs as e2e/harness.mjs says.
import { join } from "node:path";
import { launch, newPage, options, run, signIn, startServe, until } from "./harness.mjs";

const { gpupool, out, chromiumPath } = options("mig.e2e");
const serve = await startServe(gpupool, { inventory: "web/e2e/mig-inventory.yaml" });
const { api, submit, token, base } = serve;
let browser;

await run(async ({ check }) => {
  // The API: GPU 1's instances and its reason; its neighbours take work.
  const node = (await api("GET", "/api/v1/nodes")).nodes[0];
  const profiles = (g) => (g.mig?.instances ?? []).map((m) => m.profile).join(",");
  check(node.name === "a100-mig" && node.gpus.length === 4, `one node of 4 GPUs (${node.name}, ${node.gpus.length})`);
  check(profiles(node.gpus[1]) === "3g.40gb,2g.20gb,1g.10gb,1g.10gb",
    `GPU 1's MIG instances: ${profiles(node.gpus[1])}`);
  check(node.gpus[1].no_work_reason === "MIG mode: gpupool does not place jobs on MIG instances yet",
    `GPU 1's reason: ${node.gpus[1].no_work_reason}`);
  check([0, 2, 3].every((g) => node.gpus[g].mig === null && node.gpus[g].no_work_reason === null),
    "GPUs 0, 2, 3: no MIG, no reason");

  // Four whole-GPU jobs: three run on GPUs 0, 2, 3; the fourth waits.
  const jobs = [];
  for (let i = 0; i < 4; i++) jobs.push(await submit({ name: `whole-${i}`, gpus: 1, command: ["sleep", "60"] }));
  const placed = await until(async () => {
    const got = await Promise.all(jobs.map((j) => api("GET", `/api/v1/jobs/${j.id}`)));
    return got.filter((j) => j.placement?.length > 0).length === 3 ? got : null;
  }, 10000);
  check(placed !== null, "three of the four jobs are placed");
  const gpusTaken = (placed ?? []).flatMap((j) => (j.placement ?? []).flatMap((r) => r.gpus.map((g) => g.uuid))).sort();
  check(JSON.stringify(gpusTaken) === JSON.stringify(["GPU-sim-a100-mig-0", "GPU-sim-a100-mig-2", "GPU-sim-a100-mig-3"]),
    `the jobs hold GPUs 0, 2, 3, never the MIG GPU 1: ${gpusTaken.join(", ")}`);
  // The fourth waits with the scheduler's reason: GPU 1 is not counted free.
  const waitingId = (placed ?? []).find((j) => !(j.placement?.length > 0))?.id;
  const waiting = await until(async () => {
    const j = await api("GET", `/api/v1/jobs/${waitingId}`);
    return j.reason?.startsWith("not now") ? j : null;
  }, 10000);
  check(waiting?.state === "pending" && waiting?.reason === "not now: needs 1 GPU(s) free, the pool has 0 free",
    `the fourth job waits: ${waiting?.state}: ${waiting?.reason}`);
  const after = (await api("GET", "/api/v1/nodes")).nodes[0];
  check(after.gpus[1].jobs.length === 0, `GPU 1 holds no job (${JSON.stringify(after.gpus[1].jobs)})`);

  // The heat map.
  browser = await launch(chromiumPath);
  const { page, errors } = await newPage(browser);
  await signIn(page, base, token);
  await page.goto(base + "#/heatmap");
  await page.waitForSelector("g.cell-mig rect.mig-instance");
  await until(async () => (await page.$$("g.cell-whole")).length === 3, 10000);
  const kinds = await page.$$eval("svg g.cell", (els) => els.map((e) => e.getAttribute("class").replace("cell ", "")));
  check(JSON.stringify(kinds) === JSON.stringify(["cell-whole", "cell-mig", "cell-whole", "cell-whole"]),
    `the cells: ${kinds.join(", ")}`);
  const slots = await page.$$eval("g.cell-mig rect.mig-instance", (els) => els.map((e) => ({
    profile: e.dataset.profile, x: Number(e.getAttribute("x")), width: Number(e.getAttribute("width")),
  })));
  check(slots.map((s) => s.profile).join(",") === "3g.40gb,2g.20gb,1g.10gb,1g.10gb",
    `the MIG cell's instances, left to right: ${slots.map((s) => s.profile).join(", ")}`);
  // Widths 3:2:1:1 of one cell, side by side: each starts where the one before ends.
  const unit = slots[3]?.width ?? 0;
  const ratios = slots.map((s) => Math.round((s.width / unit) * 100) / 100);
  check(unit > 0 && JSON.stringify(ratios) === "[3,2,1,1]", `instance widths in 1g units: ${ratios.join(":")}`);
  check(slots.every((s, i) => i === 0 ? s.x === 0 : Math.abs(s.x - (slots[i - 1].x + slots[i - 1].width)) < 1e-6),
    "the instances sit side by side from the cell's left edge");
  const hover = await page.$eval("g.cell-mig > title", (e) => e.textContent);
  check(hover.includes("3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb") && hover.includes("MIG mode"),
    `the MIG cell's hover: ${hover}`);
  const legend = await page.$eval("ul.legend", (e) => e.textContent);
  check((await page.$("ul.legend .swatch-mig")) !== null && legend.includes("MIG"), "the legend has the MIG entry");
  const label = await page.$eval("text.node-label", (e) => [e.textContent, e.closest("[translate]")?.getAttribute("translate")]);
  check(label[0] === "a100-mig" && label[1] === "no", `the node's name is data, not translated: ${label.join(" ")}`);
  await page.screenshot({ path: join(out, "heatmap-mig.png"), fullPage: true });

  // In Chinese: the legend and the hover in the Chinese table's words, the profiles as they are.
  const zh = await newPage(browser);
  await zh.page.addInitScript(() => localStorage.setItem("gpupool.lang", "zh"));
  await signIn(zh.page, base, token);
  await zh.page.goto(base + "#/heatmap");
  await zh.page.waitForSelector("g.cell-mig rect.mig-instance");
  const zhLegend = await zh.page.$eval("ul.legend", (e) => e.textContent);
  const zhHover = await zh.page.$eval("g.cell-mig > title", (e) => e.textContent);
  check(zhLegend.includes("MIG 模式（显示其实例；不接受作业）"), `zh legend: ${zhLegend}`);
  check(zhHover.includes("MIG 实例：3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb") && zhHover.includes("暂不在 MIG 实例上放置作业"),
    `zh hover: ${zhHover}`);
  await zh.page.screenshot({ path: join(out, "heatmap-mig-zh.png"), fullPage: true });
  errors.push(...zh.errors);
  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
}, async () => {
  await browser?.close();
  await serve.stop();
});

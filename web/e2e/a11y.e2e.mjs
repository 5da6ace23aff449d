// Labels and contrast on every page of the navigation, in the light and the dark theme: every
// visible text has a contrast ratio of at least 4.5:1 against the background it is drawn on (3:1
// for large text: 24 px, or 18.67 px bold), by WCAG 2.2's definition of relative luminance; every
// input, select, textarea and button has an accessible name; the pages can be reached with the
// keyboard alone (Tab reaches every navigation link). Screenshots of the dark theme go to OUT.
import { join } from "node:path";
import { launch, newPage, options, run, signIn, startServe } from "./harness.mjs";

const { gpupool, out, chromiumPath } = options("a11y.e2e");
const serve = await startServe(gpupool);
let browser;

// In the page: every visible text node's element whose contrast is below its threshold, and every
// control without a name.
function audit() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1,
  });
  // The opaque background behind `el`: its ancestors' backgrounds composed, the page's at the end.
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) layers.push(c);
      if (c && c.a === 1) break;
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.textContent.trim() || el.closest("svg, option, script, style")) continue;
    seen.add(el);
    const s = getComputedStyle(el);
    if (s.display === "none" || s.visibility === "hidden" || Number(s.opacity) === 0) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    const bg = background(el);
    const fg = over(parse(s.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const px = parseFloat(s.fontSize);
    const large = px >= 24 || (px >= 18.66 && Number(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) low.push(`"${n.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
  }
  const unnamed = [];
  for (const el of document.querySelectorAll("input, select, textarea, button")) {
    if (el.type === "hidden") continue;
    const named = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.title ||
      (el.labels && el.labels.length > 0) || (el.tagName === "BUTTON" && el.textContent.trim());
    if (!named) unnamed.push(el.outerHTML.slice(0, 60));
  }
  return { low, unnamed };
}

await run(async ({ check }) => {
  await serve.submit({ name: "runs", gpus: 8, gpu_models: ["A100"], command: ["sleep", "60"] });
  await serve.submit({ name: "shares", gpus: 0.5, command: ["sleep", "60"] });
  browser = await launch(chromiumPath);
  const { page, errors } = await newPage(browser);
  await signIn(page, serve.base, serve.token);
  const hashes = await page.$$eval("header nav a", (els) => els.map((e) => e.getAttribute("href")));
  // The keyboard: from the top of the page, Tab reaches every navigation link.
  await page.goto(serve.base + "#/");
  const reached = new Set();
  for (let i = 0; i < 40 && reached.size < hashes.length; i++) {
    await page.keyboard.press("Tab");
    const href = await page.evaluate(() => document.activeElement?.closest("nav")
      ? document.activeElement.getAttribute("href") : null);
    if (href) reached.add(href);
  }
  check(reached.size === hashes.length, `keyboard: Tab reaches ${reached.size} of ${hashes.length} navigation links`);
  for (const theme of ["light", "dark"]) {
    await page.evaluate((t) => { localStorage.setItem("gpupool.theme", t); }, theme);
    for (const hash of hashes) {
      await page.goto(serve.base + hash);
      await page.reload();
      await page.waitForSelector("main h2", { timeout: 10000 }).catch(() => {});
      await page.waitForTimeout(300);
      const { low, unnamed } = await page.evaluate(audit);
      check(low.length === 0, `${theme} ${hash}: contrast${low.length ? " below the threshold: " + low.slice(0, 8).join("; ") : " at least 4.5:1 (3:1 large)"}`);
      check(unnamed.length === 0, `${theme} ${hash}: every control named${unnamed.length ? "; not: " + unnamed.join(" | ") : ""}`);
      if (theme === "dark") {
        await page.screenshot({ path: join(out, `dark-${hash.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "")}.png`), fullPage: true });
      }
    }
  }
  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
}, async () => {
  await browser?.close();
  await serve.stop();
});

// Bundles the dashboard: src/main.tsx (Preact + TypeScript) and src/style.css with esbuild into
// OUT/assets/ with content-hashed names, OUT/index.html from index.html naming them, and a gzip
// variant (FILE.gz) of each for `gpupool serve`. Then checks the budget: every file gzipped, 150 KB
// in all (the figure is printed; over it, the build fails).
//   node build.mjs --out DIR
// CMake runs it (src/server/CMakeLists.txt) and embeds DIR into the binary.
import * as esbuild from "esbuild";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const BUDGET_BYTES = 150 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
if (outIndex < 0 || !args[outIndex + 1]) {
  console.error("usage: node build.mjs --out DIR");
  process.exit(2);
}
const out = args[outIndex + 1];
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, "src/main.tsx") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((p) => relative(out, p));
const js = outputs.find((p) => p.endsWith(".js"));
const css = outputs.find((p) => p.endsWith(".css"));
if (!js || !css) throw new Error(`build.mjs: expected one .js and one .css, got ${outputs}`);
const html = readFileSync(join(here, "index.html"), "utf8")
  .replace("%APP_JS%", js)
  .replace("%APP_CSS%", css);
writeFileSync(join(out, "index.html"), html);

let total = 0;
const walk = (dir) =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
for (const file of walk(out)) {
  const gz = gzipSync(readFileSync(file), { level: 9 });
  total += gz.length;
  if (!file.endsWith(".html")) writeFileSync(file + ".gz", gz);
}
console.log(`web bundle: ${outputs.length + 1} files, ${total} bytes gzipped (budget ${BUDGET_BYTES})`);
if (total > BUDGET_BYTES) {
  console.error(`web bundle: ${total} bytes gzipped is over the budget of ${BUDGET_BYTES}`);
  process.exit(1);
}

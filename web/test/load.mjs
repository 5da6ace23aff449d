// Compiles a TypeScript module of src/ (with what it imports) to one ES module in a temporary
// folder with esbuild, and imports it: node --test runs the view logic as the page does.
import * as esbuild from "esbuild";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

export async function load(name) {
  const r = await esbuild.build({
    entryPoints: [join(src, name)],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "error",
  });
  const file = join(mkdtempSync(join(tmpdir(), "gpupool-web-")), name.replace(/\.tsx?$/, ".mjs"));
  writeFileSync(file, r.outputFiles[0].text);
  return import(pathToFileURL(file).href);
}

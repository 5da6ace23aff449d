// The bundle budget, checked on the files that are embedded: every file of DIST gzipped (its .gz
// variant where the build wrote one), 150 KB in all. Prints the figure; exit 1 over the budget.
//   node check-budget.mjs DIST
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 150 * 1024;
const dist = process.argv[2];
if (!dist || !existsSync(join(dist, "index.html"))) {
  console.error(`check-budget: ${dist}: no bundle (index.html) there`);
  process.exit(2);
}
const walk = (d) => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
let total = 0;
for (const f of walk(dist).filter((f) => !f.endsWith(".gz"))) {
  const size = existsSync(f + ".gz") ? statSync(f + ".gz").size : gzipSync(readFileSync(f), { level: 9 }).length;
  console.log(`${size}\t${f.slice(dist.length + 1)}`);
  total += size;
}
console.log(`total ${total} bytes gzipped, budget ${BUDGET}`);
process.exit(total > BUDGET ? 1 : 0);

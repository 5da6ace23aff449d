// The jobs list's columns and sort, pure (node --test runs it): which columns show (the hash's
// `cols`), which server sort key each column has (GET /api/v1/jobs?sort=KEY&order=asc|desc), and
// what a click on a header asks for. The server sorts and pages; the page shows its order.

export const JOB_COLUMNS = [
  "id", "name", "user", "queue", "state", "gpus", "node", "priority", "submitted", "started", "finished", "reason",
] as const;
export type JobColumn = (typeof JOB_COLUMNS)[number];
export const DEFAULT_COLUMNS: JobColumn[] = ["id", "name", "user", "queue", "state", "gpus", "node", "reason"];

// The API's sort key of a column (docs/api.md); absent: the column is not sortable. Submitted
// sorts by id: ids are given in submission order.
export const SORT_KEY: Partial<Record<JobColumn, string>> = {
  id: "id", submitted: "id", name: "name", user: "user", queue: "queue", state: "state",
  priority: "priority", started: "started", finished: "finished",
};
const TEXT_KEYS = new Set(["name", "user", "queue", "state"]);

export type Order = "asc" | "desc";
export interface Sort {
  key: string;
  order: Order;
}
export const DEFAULT_SORT: Sort = { key: "id", order: "desc" };

// The columns of the hash's `cols` ("id,name,state"), in the table's order; unknown names are
// dropped; none left: the default columns.
export function parseColumns(param: string | undefined): JobColumn[] {
  const want = new Set((param ?? "").split(",").map((s) => s.trim()));
  const cols = JOB_COLUMNS.filter((c) => want.has(c));
  return cols.length ? cols : [...DEFAULT_COLUMNS];
}

// The `cols` value for a choice: null for the default one (the URL stays short).
export function columnsParam(cols: JobColumn[]): string | null {
  const ordered = JOB_COLUMNS.filter((c) => cols.includes(c));
  if (ordered.join(",") === DEFAULT_COLUMNS.join(",")) return null;
  return ordered.join(",");
}

// Shows or hides a column; the last one shown stays.
export function toggleColumn(cols: JobColumn[], col: JobColumn): JobColumn[] {
  if (cols.includes(col)) return cols.length > 1 ? cols.filter((c) => c !== col) : cols;
  return JOB_COLUMNS.filter((c) => c === col || cols.includes(c));
}

// The sort of the hash's `sort` and `order`, as the API reads them: an unknown or missing key is
// id, an unknown or missing order desc.
export function parseSort(params: Record<string, string>): Sort {
  const keys = new Set(Object.values(SORT_KEY));
  const key = params.sort && keys.has(params.sort) ? params.sort : DEFAULT_SORT.key;
  const order: Order = params.order === "asc" ? "asc" : "desc";
  return { key, order };
}

// A new key starts ascending for text (A to Z) and descending for numbers and times (largest,
// latest first).
export function defaultOrder(key: string): Order {
  return TEXT_KEYS.has(key) ? "asc" : "desc";
}

// The sort after a click on the header of `col`: the same key turns around, another starts in
// its default order. null: the column is not sortable.
export function nextSort(current: Sort, col: JobColumn): Sort | null {
  const key = SORT_KEY[col];
  if (!key) return null;
  if (key === current.key) return { key, order: current.order === "asc" ? "desc" : "asc" };
  return { key, order: defaultOrder(key) };
}

// The hash's `sort` and `order` for a sort (both null for the default).
export function sortParams(s: Sort): { sort: string | null; order: string | null } {
  if (s.key === DEFAULT_SORT.key && s.order === DEFAULT_SORT.order) return { sort: null, order: null };
  return { sort: s.key, order: s.order };
}

// aria-sort of a column's header.
export function ariaSort(current: Sort, col: JobColumn): "ascending" | "descending" | undefined {
  if (SORT_KEY[col] !== current.key) return undefined;
  // id and submitted share a key: only the id column says so.
  if (col === "submitted" && current.key === "id") return undefined;
  return current.order === "asc" ? "ascending" : "descending";
}

// Hash routing under the base path: "#/jobs?state=pending&user=alice". The hash keeps every page's
// filters, so a URL can be shared; the server only ever serves the base path's index.

export interface Route {
  page: string; // "overview", "heatmap", "jobs", "job", "nodes", "node"
  id: string | null; // the job of "#/jobs/ID", the node of "#/nodes/NAME"
  params: Record<string, string>;
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, "");
  const [path, query = ""] = h.split("?", 2);
  const parts = path.split("/").filter(Boolean);
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  if (parts.length === 0) return { page: "overview", id: null, params };
  if (parts[0] === "jobs" && parts.length === 2) return { page: "job", id: parts[1], params };
  // Nodes and GPUs: "#/nodes/NAME" is a node (its name URI-encoded).
  if (parts[0] === "nodes" && parts.length === 2) return { page: "node", id: decodeURIComponent(parts[1]), params };
  return { page: parts[0], id: null, params };
}

// The hash of a page with its filters; empty values are left out, keys in a stable order.
export function routeHash(page: string, params: Record<string, string | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const k of Object.keys(params).sort()) {
    const v = params[k];
    if (v !== null && v !== undefined && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return `#/${page}${s ? "?" + s : ""}`;
}

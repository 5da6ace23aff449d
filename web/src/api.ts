// The service's REST API as the page calls it: under the base path `gpupool serve` wrote into the
// page (--base-path), with the session's token. Errors carry the API's message.

export function basePath(): string {
  const meta = document.querySelector('meta[name="gpupool-base-path"]');
  const v = meta?.getAttribute("content") ?? "";
  return v.startsWith("__") ? "" : v.replace(/\/+$/, "");
}

const TOKEN_KEY = "gpupool.token";
export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public member = "", // the request member the API names as at fault ("" none)
  ) {
    super(message);
  }
}

export async function api<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const res = await fetch(basePath() + path, { ...init, headers });
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) throw new ApiError(res.status, body?.error?.message ?? `HTTP ${res.status}`, body?.error?.member ?? "");
  return body as T;
}

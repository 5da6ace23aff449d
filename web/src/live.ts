// The pool's live state for every page: the service's event stream (GET /api/v1/events/stream,
// read with fetch so that it carries the token), resumed with Last-Event-ID after a drop; when
// the stream cannot connect, the page polls /api/v1/pool and /api/v1/nodes every few seconds and
// keeps trying the stream. The connection state is always known (and shown by the page).
import { api, basePath, getToken } from "./api";
import { SseParser } from "./sse";
import { applyDelta, type NodeInfo, type StreamState } from "./view";

export type Connection = "connecting" | "live" | "polling" | "signed-out";

export interface Live {
  connection: Connection;
  state: StreamState | null;
  updatedAt: number | null; // ms, the last change or heartbeat seen
  error: string | null;
}

const POLL_MS = 5000;
const RETRY_MS = 10000;
const SILENCE_MS = 45000; // three heartbeats missed: the stream is dead

export class LiveFeed {
  private live: Live = { connection: "connecting", state: null, updatedAt: null, error: null };
  private listeners = new Set<(l: Live) => void>();
  private lastId: string | null = null;
  private abort: AbortController | null = null;
  private pollTimer: number | null = null;
  private retryTimer: number | null = null;
  private stopped = false;

  subscribe(fn: (l: Live) => void): () => void {
    this.listeners.add(fn);
    fn(this.live);
    return () => this.listeners.delete(fn);
  }

  private set(patch: Partial<Live>) {
    this.live = { ...this.live, ...patch };
    for (const fn of this.listeners) fn(this.live);
  }

  start() {
    this.stopped = false;
    void this.connect();
  }

  stop() {
    this.stopped = true;
    this.abort?.abort();
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.pollTimer = this.retryTimer = null;
  }

  private async connect() {
    if (this.stopped) return;
    if (!getToken()) return this.set({ connection: "signed-out" });
    this.abort = new AbortController();
    const headers: Record<string, string> = { Authorization: `Bearer ${getToken()}`, Accept: "text/event-stream" };
    if (this.lastId) headers["Last-Event-ID"] = this.lastId;
    let watchdog: number | null = null;
    try {
      const res = await fetch(basePath() + "/api/v1/events/stream", { headers, signal: this.abort.signal });
      if (res.status === 401) {
        this.stop();
        return this.set({ connection: "signed-out", error: "401" });
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      const kick = () => {
        if (watchdog !== null) clearTimeout(watchdog);
        watchdog = setTimeout(() => this.abort?.abort(), SILENCE_MS) as unknown as number;
      };
      kick();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        kick();
        for (const ev of parser.feed(decoder.decode(value, { stream: true }))) this.onEvent(ev.event, ev.id, ev.data);
      }
    } catch (e) {
      this.set({ error: String(e) });
    } finally {
      if (watchdog !== null) clearTimeout(watchdog);
    }
    if (this.stopped) return;
    this.fallBack();
  }

  private onEvent(event: string, id: string | null, data: string) {
    const now = Date.now();
    if (event === "snapshot") {
      const s = JSON.parse(data);
      this.set({ connection: "live", state: { pool: s.pool, nodes: s.nodes ?? {}, head: s.head ?? null }, updatedAt: now, error: null });
    } else if (event === "delta" && this.live.state) {
      this.set({ connection: "live", state: applyDelta(this.live.state, JSON.parse(data)), updatedAt: now });
    } else if (event === "heartbeat") {
      this.set({ connection: "live", updatedAt: now });
    }
    if (id !== null) this.lastId = id;
    if (this.pollTimer !== null) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
  }

  // The stream dropped or never came: poll until it comes back.
  private fallBack() {
    this.set({ connection: "polling" });
    if (this.pollTimer === null) {
      void this.poll();
      this.pollTimer = setInterval(() => void this.poll(), POLL_MS) as unknown as number;
    }
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, RETRY_MS) as unknown as number;
  }

  private async poll() {
    try {
      const [pool, nodes] = await Promise.all([
        api<Record<string, unknown>>("/api/v1/pool"), api<{ nodes: NodeInfo[] }>("/api/v1/nodes")]);
      const byName: Record<string, NodeInfo> = {};
      for (const n of nodes.nodes) byName[n.name] = n;
      const head = pool.head ?? null;
      if (this.live.connection !== "live") this.set({ state: { pool, nodes: byName, head }, updatedAt: Date.now() });
    } catch (e) {
      this.set({ error: String(e) });
    }
  }
}

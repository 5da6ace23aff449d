// The dashboard's shell: sign-in, the header (pages, the connection state, language, dark mode)
// and the page of the URL's hash. Pages: pages.tsx.
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, getToken, setToken } from "./api";
import { type Key, type Lang, languages, translate } from "./i18n";
import { LiveFeed, type Live } from "./live";
import { HeatmapPage, JobPage, JobsPage, OverviewPage } from "./pages";
import { NodePage, NodesPage } from "./pages/nodes";
import { ExperimentsPage } from "./pages/experiments";
import { PlanPage } from "./pages/plan";
import { QueuesPage } from "./pages/queues";
import { SubmitPage } from "./pages/submit";
import { parseRoute } from "./route";
import "./style.css";

export type T = (key: Key, args?: Record<string, string | number>) => string;

function initialLang(): Lang {
  const saved = localStorage.getItem("gpupool.lang");
  if (saved === "en" || saved === "zh") return saved;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh" : "en";
}

function SignIn({ t, onDone }: { t: T; onDone: () => void }) {
  const [token, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setToken(token.trim());
    try {
      await api("/api/v1/whoami");
      onDone();
    } catch (err) {
      setToken(null);
      setError(t("sign_in_failed", { message: (err as Error).message }));
    }
  };
  return (
    <form class="card signin" onSubmit={submit}>
      <h1>{t("sign_in")}</h1>
      <label for="token">{t("token_label")}</label>
      <input id="token" type="password" autoComplete="off" value={token} autoFocus
        onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
      <p class="muted">{t("token_help")}</p>
      {error && <p role="alert" class="error">{error}</p>}
      <button type="submit">{t("sign_in")}</button>
    </form>
  );
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [hash, setHash] = useState(location.hash);
  const [signedIn, setSignedIn] = useState(!!getToken());
  const [live, setLive] = useState<Live | null>(null);
  const feed = useMemo(() => new LiveFeed(), []);
  const t: T = (key, args) => translate(lang, key, args);

  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    localStorage.setItem("gpupool.lang", lang);
  }, [lang]);
  useEffect(() => {
    if (!signedIn) return;
    const off = feed.subscribe((l) => {
      setLive(l);
      if (l.connection === "signed-out") {
        setToken(null);
        setSignedIn(false);
      }
    });
    feed.start();
    return () => {
      off();
      feed.stop();
    };
  }, [signedIn]);

  const toggleTheme = () => {
    const root = document.documentElement;
    const dark = root.dataset.theme ? root.dataset.theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("gpupool.theme", root.dataset.theme);
  };

  const route = parseRoute(hash);
  const conn = live?.connection ?? "connecting";
  const connText = t(conn === "signed-out" ? "conn_signed_out" : (("conn_" + conn) as Key));
  const nav: [string, Key][] = [["overview", "nav_overview"], ["heatmap", "nav_heatmap"], ["jobs", "nav_jobs"]];
  nav.push(["nodes", "nav_nodes"]); // Nodes and GPUs (pages/nodes.tsx)
  // web-plan's pages
  nav.push(["queues", "nav_queues"], ["submit", "nav_submit"], ["plan", "nav_plan"], ["experiments", "nav_experiments"]);
  const current = route.page === "job" ? "jobs" : route.page === "node" ? "nodes" : route.page;

  let page;
  if (!signedIn) page = <SignIn t={t} onDone={() => setSignedIn(true)} />;
  else if (route.page === "overview") page = <OverviewPage t={t} live={live} params={route.params} />;
  else if (route.page === "heatmap") page = <HeatmapPage t={t} live={live} params={route.params} />;
  else if (route.page === "jobs") page = <JobsPage t={t} live={live} params={route.params} />;
  else if (route.page === "job" && route.id) page = <JobPage t={t} id={route.id} live={live} />;
  else if (route.page === "nodes") page = <NodesPage t={t} live={live} params={route.params} />;
  else if (route.page === "node" && route.id) page = <NodePage t={t} live={live} name={route.id} />;
  // web-plan's pages
  else if (route.page === "queues") page = <QueuesPage t={t} live={live} />;
  else if (route.page === "submit") page = <SubmitPage key={hash} t={t} params={route.params} />;
  else if (route.page === "plan") page = <PlanPage t={t} params={route.params} />;
  else if (route.page === "experiments") page = <ExperimentsPage t={t} params={route.params} />;
  else page = <p>{t("not_found")}</p>;

  return (
    <>
      <header>
        <strong>{t("app_title")}</strong>
        <nav aria-label={t("nav_pages")}>
          {nav.map(([p, k]) => (
            <a href={`#/${p}`} aria-current={current === p ? "page" : undefined}>{t(k)}</a>
          ))}
        </nav>
        <span class={`conn conn-${conn}`} role="status" aria-live="polite" data-testid="connection">
          {connText}
          {live?.updatedAt ? " · " + t("updated", { time: new Date(live.updatedAt).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en") }) : ""}
        </span>
        <label class="sr-only" for="lang">{t("language")}</label>
        <select id="lang" value={lang} onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}>
          {Object.keys(languages).map((l) => <option value={l}>{l === "zh" ? "中文" : "English"}</option>)}
        </select>
        <button type="button" onClick={toggleTheme} aria-label={t("theme_toggle")} title={t("theme_toggle")}>◐</button>
        {signedIn && (
          <button type="button" onClick={() => { setToken(null); setSignedIn(false); }}>{t("sign_out")}</button>
        )}
      </header>
      <main>{page}</main>
    </>
  );
}

const theme = localStorage.getItem("gpupool.theme");
if (theme === "dark" || theme === "light") document.documentElement.dataset.theme = theme;
render(<App />, document.getElementById("app")!);

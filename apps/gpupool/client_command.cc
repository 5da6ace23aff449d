// The service's client commands: submit, jobs, job, cancel, checkpoint, logs, nodes, top, queues,
// token, whoami. Thin: flags -> client_request (body), api_client (HTTP), client_format (text).
// Each takes --server, --token and --data-dir (client_connection.h) and prints one line on stderr
// on failure.
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api_client.h"
#include "client_connection.h"
#include "client_format.h"
#include "client_request.h"
#include "commands.h"

namespace gpupool::app {
namespace {

using json = nlohmann::json;

volatile std::sig_atomic_t g_interrupted = 0;

void OnInterrupt(int) { g_interrupted = 1; }

// Ctrl-C ends a follow loop cleanly (exit 0) at its next check instead of killing the process in
// the middle of a write.
void CatchInterrupt() {
  g_interrupted = 0;
  std::signal(SIGINT, OnInterrupt);
}

// Sleeps `seconds` in short steps; false when interrupted.
bool SleepUnlessInterrupted(double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (g_interrupted != 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return g_interrupted == 0;
}

int Fail(std::string_view command, const Status& s) {
  std::cerr << "gpupool " << command << ": " << s.message() << "\n";
  return s.ExitCode();
}

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Columns to fit a table into: the terminal's, else $COLUMNS, else 0 (no truncation, for pipes).
int TerminalWidth() {
  if (isatty(STDOUT_FILENO) != 0) {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  }
  if (const char* c = std::getenv("COLUMNS")) {
    const int n = std::atoi(c);
    if (n > 0) return n;
  }
  return 0;
}

void AddConnectionFlags(CLI::App* cmd, ConnectionFlags& f) {
  cmd->add_option(
         "--server", f.server,
         std::string("Service URL (default: $GPUPOOL_SERVER, else ") + kDefaultServer + ")")
      ->group("Connection");
  cmd->add_option("--token", f.token,
                  "Bearer token (default: $GPUPOOL_TOKEN, else DATA_DIR/admin.token)")
      ->group("Connection");
  cmd->add_option("--data-dir", f.data_dir,
                  std::string("Where `gpupool serve` keeps its data, for the admin token (default: "
                              "./") +
                      kDefaultDataDir + ")")
      ->group("Connection");
}

Result<std::unique_ptr<ApiClient>> Connect(const ConnectionFlags& f) {
  auto c = ResolveConnection(f, ProcessEnv());
  if (!c) return Error(c.error());
  return std::make_unique<ApiClient>(c->server, c->token);
}

// A scalar member for printing: strings unquoted, others as JSON.
std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// A member of an answer, null when absent or when the answer is not an object (never throws: the
// server may be newer or broken, the client still says something sensible).
json Field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? json() : *it;
}

json ArrayField(const json& j, const char* key) {
  json v = Field(j, key);
  return v.is_array() ? v : json::array();
}

void PrintJson(const json& j) { std::cout << j.dump(2) << "\n"; }

std::string JobPath(std::int64_t id) { return "/api/v1/jobs/" + std::to_string(id); }

// --- submit ----------------------------------------------------------------------------------
struct SubmitArgs {
  ConnectionFlags conn;
  SubmitFlags flags;
  std::string plan;
  std::int64_t replicas = 1;
  std::int64_t priority = 0;
  CLI::Option* replicas_opt = nullptr;
  CLI::Option* priority_opt = nullptr;
  bool json = false;
  bool dry_run = false;
};

int RunSubmit(SubmitArgs& a) {
  constexpr std::string_view kCmd = "submit";
  if (a.replicas_opt->count() > 0) a.flags.replicas = a.replicas;
  if (a.priority_opt->count() > 0) a.flags.priority = a.priority;
  json base = json::object();
  if (!a.plan.empty()) {
    auto plan = LoadPlanFile(a.plan);
    if (!plan) return Fail(kCmd, plan.error());
    base = *plan;
  }
  std::error_code ec;
  const std::filesystem::path cwd = std::filesystem::current_path(ec);
  auto body = BuildSubmitBody(a.flags, base, cwd);
  if (!body) return Fail(kCmd, body.error());
  if (a.dry_run) {
    PrintJson(*body);
    return 0;
  }
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  auto job = (*client)->Post("/api/v1/jobs", *body);
  if (!job) {
    // Point at the flag (or the plan file) that set the member the server refused.
    const std::string& m = job.error().message();
    const std::string flag = FlagForMember(m.substr(0, m.find(':')));
    if (flag.empty()) return Fail(kCmd, job.error());
    std::string where = flag;
    if (!a.plan.empty() && base.contains(m.substr(0, m.find_first_of(".[:")))) {
      where += " or " + a.plan;
    }
    return Fail(kCmd, Status(job.error().code(), m + " (" + where + ")"));
  }
  if (a.json) {
    PrintJson(*job);
  } else {
    std::cout << Text(Field(*job, "id")) << "\n";
  }
  return 0;
}

void AddSubmit(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<SubmitArgs>();
  auto* cmd = app.add_subcommand(
      "submit",
      "Submit a job to the service; prints its id (e.g. `id=$(gpupool submit --gpus 1 -- "
      "python3 train.py)`)");
  auto& f = a->flags;
  cmd->add_option(
      "--gpus", f.gpus,
      "GPUs per replica: a whole count (2) or a share of one GPU (0.5, steps of 0.001)");
  cmd->add_option("--gpu-memory", f.gpu_memory,
                  "GPU memory per GPU: 20G (= 20Gi = 20480 MiB), 512M; a plain number is MiB");
  cmd->add_option("--model", f.models,
                  "Allowed GPU model (H100, A100-80GB, ...); repeat or give a comma list")
      ->allow_extra_args(false);
  a->replicas_opt =
      cmd->add_option("--replicas", a->replicas, "Replicas, placed together (a gang)");
  cmd->add_option("--queue", f.queue, "Queue (default: the server's)");
  a->priority_opt = cmd->add_option("--priority", a->priority, "Priority (higher goes first)");
  cmd->add_option("--time", f.time,
                  "Time limit: 90s, 30m, 2h, 1d, 1h30m; a plain number is seconds");
  cmd->add_option("--name", f.name, "Job name");
  cmd->add_option("--cpu", f.cpu, "CPUs per replica: 4, 0.5 or 500m");
  cmd->add_option("--memory", f.memory,
                  "Memory per replica: 16G (= 16384 MiB), 512M; a plain number is MiB");
  cmd->add_option("--env", f.env, "Environment variable KEY=VALUE for the job (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--workdir", f.workdir,
                  "Working directory of the job (relative to here; default: the server's)");
  cmd->add_flag("--preemptible", f.preemptible, "The job may be preempted by higher priority");
  cmd->add_flag("--requeue", f.requeue, "Requeue the job when it is preempted or its node lost");
  cmd->add_flag("--nvlink", f.nvlink,
                "Each replica's GPUs inside one NVLink island, or wait (topology \"nvlink\")");
  cmd->add_option("--plan", a->plan,
                  "Resources from FILE, the request `gpupool plan ... --emit-request` writes; "
                  "flags given too override it");
  cmd->add_flag("--json", a->json, "Print the new job (JSON) instead of its id");
  cmd->add_flag("--dry-run", a->dry_run,
                "Print the request body (JSON) that would be sent, and send nothing");
  cmd->add_option("command", f.command, "The command and its arguments, after --");
  AddConnectionFlags(cmd, a->conn);
  cmd->callback([a, &exit_code] { exit_code = RunSubmit(*a); });
}

// --- jobs, job, cancel -----------------------------------------------------------------------
struct JobsArgs {
  ConnectionFlags conn;
  std::string state, user, queue;
  int limit = 0;
  bool all = false;
  bool json = false;
};

int RunJobs(const JobsArgs& a) {
  constexpr std::string_view kCmd = "jobs";
  if (a.limit < 0 || a.limit > 1000) {
    return Fail(kCmd, Status::InvalidArgument("--limit: must be between 1 and 1000"));
  }
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  QueryParams query;
  if (!a.state.empty()) query.emplace_back("state", a.state);
  if (!a.user.empty()) query.emplace_back("user", a.user);
  if (!a.queue.empty()) query.emplace_back("queue", a.queue);
  if (a.limit > 0) query.emplace_back("limit", std::to_string(a.limit));
  json jobs = json::array();
  json last;
  for (std::string cursor;;) {
    QueryParams q = query;
    if (!cursor.empty()) q.emplace_back("cursor", cursor);
    auto page = (*client)->Get("/api/v1/jobs", q);
    if (!page) return Fail(kCmd, page.error());
    last = *page;
    if (last.contains("jobs") && last["jobs"].is_array()) {
      for (auto& j : last["jobs"]) jobs.push_back(std::move(j));
    }
    const json next = Field(last, "next_cursor");
    if (!a.all || !next.is_string() || next.get<std::string>().empty()) break;
    cursor = next.get<std::string>();
  }
  if (a.json) {
    if (!a.all) {
      last["jobs"] = jobs;
      PrintJson(last);
    } else {
      PrintJson({{"jobs", jobs}, {"next_cursor", nullptr}, {"total", Field(last, "total")}});
    }
    return 0;
  }
  std::cout << FormatJobsTable(jobs, NowSeconds(), TerminalWidth());
  const json next = Field(last, "next_cursor");
  if (!a.all && next.is_string()) {
    std::cerr << "(" << jobs.size() << " of " << Text(Field(last, "total"))
              << " shown; --all for every page)\n";
  }
  return 0;
}

struct JobArgs {
  ConnectionFlags conn;
  std::string id;
  bool json = false;
};

int RunJob(const JobArgs& a) {
  constexpr std::string_view kCmd = "job";
  auto id = ParseJobId(a.id, "ID");
  if (!id) return Fail(kCmd, id.error());
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  auto job = (*client)->Get(JobPath(*id));
  if (!job) return Fail(kCmd, job.error());
  if (a.json) {
    PrintJson(*job);
    return 0;
  }
  auto events = (*client)->Get(JobPath(*id) + "/events");
  if (!events) return Fail(kCmd, events.error());
  std::cout << FormatJobDetail(*job, ArrayField(*events, "events"), NowSeconds());
  return 0;
}

struct CancelArgs {
  ConnectionFlags conn;
  std::vector<std::string> ids;
};

int RunCancel(const CancelArgs& a) {
  constexpr std::string_view kCmd = "cancel";
  std::vector<std::int64_t> ids;
  for (const auto& text : a.ids) {
    auto id = ParseJobId(text, "ID");
    if (!id) return Fail(kCmd, id.error());
    ids.push_back(*id);
  }
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  int code = 0;
  for (std::int64_t id : ids) {
    auto job = (*client)->Delete(JobPath(id));
    if (!job) {
      // Go on with the other ids; the exit code is the worst one.
      const Status s(job.error().code(),
                     "job " + std::to_string(id) + ": " + job.error().message());
      code = std::max(code, Fail(kCmd, s));
      if (s.code() == StatusCode::kUnavailable) break;
      continue;
    }
    std::cout << "cancelled " << id << " (" << Text(Field(*job, "state")) << ")\n";
  }
  return code;
}

struct CheckpointArgs {
  ConnectionFlags conn;
  std::string id;
};

// A running job reports that it has just saved its state (POST /api/v1/jobs/ID/checkpoint): a
// job may run `gpupool checkpoint "$GPUPOOL_JOB_ID"` after each save, with GPUPOOL_SERVER and
// GPUPOOL_TOKEN in its environment.
int RunCheckpoint(const CheckpointArgs& a) {
  constexpr std::string_view kCmd = "checkpoint";
  auto id = ParseJobId(a.id, "ID");
  if (!id) return Fail(kCmd, id.error());
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  auto job = (*client)->Post(JobPath(*id) + "/checkpoint", nlohmann::json::object());
  if (!job) {
    return Fail(kCmd, Status(job.error().code(),
                             "job " + std::to_string(*id) + ": " + job.error().message()));
  }
  std::cout << "checkpoint of job " << *id << " at " << Text(Field(*job, "checkpoint_at")) << "\n";
  return 0;
}

// --- logs ------------------------------------------------------------------------------------
struct LogsArgs {
  ConnectionFlags conn;
  std::string id;
  bool stderr_stream = false;
  bool follow = false;
};

int RunLogs(const LogsArgs& a) {
  constexpr std::string_view kCmd = "logs";
  auto id = ParseJobId(a.id, "ID");
  if (!id) return Fail(kCmd, id.error());
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  if (a.follow) CatchInterrupt();
  std::int64_t offset = 0;
  const std::string stream = a.stderr_stream ? "stderr" : "stdout";
  while (true) {
    auto page = (*client)->Get(JobPath(*id) + "/logs",
                               {{"stream", stream}, {"offset", std::to_string(offset)}});
    if (!page) return Fail(kCmd, page.error());
    const json data = Field(*page, "data");
    const std::string text = data.is_string() ? data.get<std::string>() : std::string();
    std::cout << text << std::flush;
    const json next = Field(*page, "offset");
    if (next.is_number_integer()) offset = next.get<std::int64_t>();
    if (Field(*page, "eof") == true) break;
    if (text.empty()) {
      if (!a.follow) break;  // what is there so far was printed
      if (!SleepUnlessInterrupted(0.5)) break;
    } else if (g_interrupted != 0) {
      break;
    }
  }
  return 0;
}

// --- nodes, top ------------------------------------------------------------------------------
struct NodesArgs {
  ConnectionFlags conn;
  bool json = false;
};

int RunNodes(const NodesArgs& a) {
  constexpr std::string_view kCmd = "nodes";
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  auto nodes = (*client)->Get("/api/v1/nodes");
  if (!nodes) return Fail(kCmd, nodes.error());
  if (a.json) {
    PrintJson(*nodes);
  } else {
    std::cout << FormatNodesTable(ArrayField(*nodes, "nodes"));
  }
  return 0;
}

struct TopArgs {
  ConnectionFlags conn;
  double interval = 1.0;
  bool once = false;
};

int RunTop(const TopArgs& a) {
  constexpr std::string_view kCmd = "top";
  if (!(a.interval >= 0.1)) {
    return Fail(kCmd, Status::InvalidArgument("--interval: must be at least 0.1 seconds"));
  }
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  const bool redraw = !a.once && isatty(STDOUT_FILENO) != 0;
  if (!a.once) CatchInterrupt();
  while (true) {
    auto pool = (*client)->Get("/api/v1/pool");
    if (!pool) return Fail(kCmd, pool.error());
    auto nodes = (*client)->Get("/api/v1/nodes");
    if (!nodes) return Fail(kCmd, nodes.error());
    const std::time_t t = std::time(nullptr);
    char clock[32];
    std::strftime(clock, sizeof clock, "%H:%M:%S", std::localtime(&t));
    std::string title = "gpupool top   " + (*client)->server() + "   " + clock;
    if (!a.once)
      title += "   (every " + FormatDuration(static_cast<std::int64_t>(a.interval)) + ")";
    if (redraw) std::cout << "\033[H\033[2J";
    std::cout << FormatTopFrame(*pool, ArrayField(*nodes, "nodes"), title) << std::flush;
    if (a.once || !SleepUnlessInterrupted(a.interval)) break;
    if (!redraw) std::cout << "\n";
  }
  return 0;
}

// --- queues ----------------------------------------------------------------------------------
struct QueuesArgs {
  ConnectionFlags conn;
  std::string file;
  bool json = false;
};

int RunQueues(const QueuesArgs& a) {
  constexpr std::string_view kCmd = "queues";
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  auto queues = (*client)->Get("/api/v1/queues");
  if (!queues) return Fail(kCmd, queues.error());
  if (a.json) {
    PrintJson(*queues);
  } else {
    std::cout << FormatQueues(*queues);
  }
  return 0;
}

int RunQueuesSet(const QueuesArgs& a) {
  constexpr std::string_view kCmd = "queues set";
  std::ifstream in(a.file, std::ios::binary);
  if (!in) return Fail(kCmd, Status::NotFound(a.file + ": cannot read the queue file"));
  std::ostringstream text;
  text << in.rdbuf();
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  auto answer = (*client)->Put("/api/v1/queues", text.str(), "application/yaml");
  if (!answer) {
    // The server names the body "request body" in its FILE:LINE errors: here it is the file.
    std::string m = answer.error().message();
    constexpr std::string_view kBody = "request body:";
    if (m.starts_with(kBody)) m = a.file + ":" + m.substr(kBody.size());
    return Fail(kCmd, Status(answer.error().code(), m));
  }
  if (a.json) {
    PrintJson(*answer);
  } else {
    std::cout << FormatQueuesChange(*answer);
  }
  return 0;
}

// --- token, whoami ---------------------------------------------------------------------------
struct TokenArgs {
  ConnectionFlags conn;
  std::string user;
  std::vector<std::string> queues;
  bool admin = false;
  std::string id;
  bool json = false;
};

int RunTokenCreate(const TokenArgs& a) {
  constexpr std::string_view kCmd = "token create";
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  json body = {{"user", a.user}, {"admin", a.admin}};
  if (!a.queues.empty()) body["queues"] = a.queues;
  auto token = (*client)->Post("/api/v1/tokens", body);
  if (!token) return Fail(kCmd, token.error());
  if (a.json) {
    PrintJson(*token);
    return 0;
  }
  // The token alone on stdout (for scripts); what it is on stderr.
  std::cout << Text(Field(*token, "token")) << "\n";
  std::cerr << "token " << Text(Field(*token, "id")) << " for " << Text(Field(*token, "user"))
            << (Field(*token, "admin") == true ? " (admin)" : "")
            << "; it is shown only this once, keep it\n";
  return 0;
}

int RunTokenList(const TokenArgs& a) {
  constexpr std::string_view kCmd = "token list";
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  auto tokens = (*client)->Get("/api/v1/tokens");
  if (!tokens) return Fail(kCmd, tokens.error());
  if (a.json) {
    PrintJson(*tokens);
  } else {
    std::cout << FormatTokensTable(ArrayField(*tokens, "tokens"));
  }
  return 0;
}

int RunTokenRevoke(const TokenArgs& a) {
  constexpr std::string_view kCmd = "token revoke";
  auto id = ParseJobId(a.id, "ID");
  if (!id) {
    return Fail(kCmd, Status::InvalidArgument("ID: '" + a.id + "' is not a token id"));
  }
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  auto r = (*client)->Delete("/api/v1/tokens/" + std::to_string(*id));
  if (!r) return Fail(kCmd, r.error());
  std::cout << "revoked token " << *id << "\n";
  return 0;
}

int RunWhoami(const TokenArgs& a) {
  constexpr std::string_view kCmd = "whoami";
  auto client = Connect(a.conn);
  if (!client) return Fail(kCmd, client.error());
  auto who = (*client)->Get("/api/v1/whoami");
  if (!who) return Fail(kCmd, who.error());
  if (a.json) {
    PrintJson(*who);
  } else {
    std::cout << FormatWhoami(*who);
  }
  return 0;
}

}  // namespace

void AddClientCommands(CLI::App& app, int& exit_code) {
  AddSubmit(app, exit_code);

  auto jobs_args = std::make_shared<JobsArgs>();
  auto* jobs = app.add_subcommand("jobs", "List jobs of the service, newest first");
  jobs->add_option("--state", jobs_args->state,
                   "Only this state: pending, running, succeeded, failed, cancelled, timed_out, "
                   "lost");
  jobs->add_option("--user", jobs_args->user, "Only this user's jobs");
  jobs->add_option("--queue", jobs_args->queue, "Only this queue's jobs");
  jobs->add_option("--limit", jobs_args->limit,
                   "Jobs per page, 1-1000 (default: the server's, 100)");
  jobs->add_flag("--all", jobs_args->all, "Follow next_cursor and list every page");
  jobs->add_flag("--json", jobs_args->json, "Print the server's JSON");
  AddConnectionFlags(jobs, jobs_args->conn);
  jobs->callback([jobs_args, &exit_code] { exit_code = RunJobs(*jobs_args); });

  auto job_args = std::make_shared<JobArgs>();
  auto* job = app.add_subcommand("job", "One job: every field, placement, reason, events");
  job->add_option("ID", job_args->id, "Job id")->required();
  job->add_flag("--json", job_args->json, "Print the server's JSON");
  AddConnectionFlags(job, job_args->conn);
  job->callback([job_args, &exit_code] { exit_code = RunJob(*job_args); });

  auto cancel_args = std::make_shared<CancelArgs>();
  auto* cancel = app.add_subcommand("cancel", "Cancel jobs (SIGTERM, then SIGKILL after grace)");
  cancel->add_option("ID", cancel_args->ids, "Job ids")->required();
  AddConnectionFlags(cancel, cancel_args->conn);
  cancel->callback([cancel_args, &exit_code] { exit_code = RunCancel(*cancel_args); });

  auto checkpoint_args = std::make_shared<CheckpointArgs>();
  auto* checkpoint = app.add_subcommand(
      "checkpoint",
      "Report that a running job has just saved its state (preemption then loses only the work "
      "after it; docs/serve.md)");
  checkpoint->add_option("ID", checkpoint_args->id, "Job id")->required();
  AddConnectionFlags(checkpoint, checkpoint_args->conn);
  checkpoint->callback(
      [checkpoint_args, &exit_code] { exit_code = RunCheckpoint(*checkpoint_args); });

  auto logs_args = std::make_shared<LogsArgs>();
  auto* logs = app.add_subcommand("logs", "A job's output (stdout, or --stderr)");
  logs->add_option("ID", logs_args->id, "Job id")->required();
  logs->add_flag("--stderr", logs_args->stderr_stream, "Show the job's stderr instead of stdout");
  logs->add_flag("-f,--follow", logs_args->follow,
                 "Keep printing new output until the job ends (Ctrl-C stops)");
  AddConnectionFlags(logs, logs_args->conn);
  logs->callback([logs_args, &exit_code] { exit_code = RunLogs(*logs_args); });

  auto nodes_args = std::make_shared<NodesArgs>();
  auto* nodes = app.add_subcommand("nodes", "Nodes of the service's pool and what they hold");
  nodes->add_flag("--json", nodes_args->json, "Print the server's JSON");
  AddConnectionFlags(nodes, nodes_args->conn);
  nodes->callback([nodes_args, &exit_code] { exit_code = RunNodes(*nodes_args); });

  auto top_args = std::make_shared<TopArgs>();
  auto* top = app.add_subcommand(
      "top", "Live view of the pool: totals, fragmentation and a GPU bar per node");
  top->add_option("--interval", top_args->interval, "Seconds between redraws")
      ->capture_default_str();
  top->add_flag("--once", top_args->once, "Print one frame and exit");
  AddConnectionFlags(top, top_args->conn);
  top->callback([top_args, &exit_code] { exit_code = RunTop(*top_args); });

  auto queues_args = std::make_shared<QueuesArgs>();
  auto* queues = app.add_subcommand(
      "queues", "The queues: settings, GPUs used and borrowed, jobs (set: change them, admin)");
  queues->add_flag("--json", queues_args->json, "Print the server's JSON");
  AddConnectionFlags(queues, queues_args->conn);
  queues->callback([queues, queues_args, &exit_code] {
    if (queues->get_subcommands().empty()) exit_code = RunQueues(*queues_args);
  });
  auto* queues_set = queues->add_subcommand(
      "set",
      "Replace the queues with a queue file (YAML, as `gpupool serve --queues`; admin): checked "
      "whole, applied at once, kept across restarts (docs/serve.md)");
  queues_set->add_option("FILE", queues_args->file, "The queue file")->required();
  queues_set->add_flag("--json", queues_args->json, "Print the server's JSON");
  AddConnectionFlags(queues_set, queues_args->conn);
  queues_set->callback([queues_args, &exit_code] { exit_code = RunQueuesSet(*queues_args); });

  auto token_args = std::make_shared<TokenArgs>();
  auto* token = app.add_subcommand("token", "API tokens (admin): create, list, revoke");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "Create a token; prints it (shown only once)");
  create->add_option("--user", token_args->user, "The user the token belongs to")->required();
  create->add_option("--queue", token_args->queues, "A queue the user may submit to (repeatable)")
      ->allow_extra_args(false);
  create->add_flag("--admin", token_args->admin, "An admin token (may do everything)");
  create->add_flag("--json", token_args->json, "Print the server's JSON");
  AddConnectionFlags(create, token_args->conn);
  create->callback([token_args, &exit_code] { exit_code = RunTokenCreate(*token_args); });
  auto* list = token->add_subcommand("list", "List tokens");
  list->add_flag("--json", token_args->json, "Print the server's JSON");
  AddConnectionFlags(list, token_args->conn);
  list->callback([token_args, &exit_code] { exit_code = RunTokenList(*token_args); });
  auto* revoke = token->add_subcommand("revoke", "Revoke a token");
  revoke->add_option("ID", token_args->id, "Token id")->required();
  AddConnectionFlags(revoke, token_args->conn);
  revoke->callback([token_args, &exit_code] { exit_code = RunTokenRevoke(*token_args); });

  auto* whoami = app.add_subcommand("whoami", "The user, admin flag and queues of your token");
  whoami->add_flag("--json", token_args->json, "Print the server's JSON");
  AddConnectionFlags(whoami, token_args->conn);
  whoami->callback([token_args, &exit_code] { exit_code = RunWhoami(*token_args); });
}

}  // namespace gpupool::app

// `gpupool serve`: the GPU pool as a service (src/server/). Thin: flags, the inventory (this host's
// GPUs through NVML, else --inventory FILE, else the bundled demo), then serve until SIGINT or
// SIGTERM. Running jobs keep running when the service stops; the next start adopts them.
#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "common/data_dir.h"
#include "discovery/cluster_inventory.h"
#include "discovery/node_inventory.h"
#include "discovery/nvml_discovery.h"
#include "discovery/nvml_library.h"
#include "executor/gpu_shim.h"
#include "executor/local_executor.h"
#include "placement/policy_registry.h"
#include "scheduler/job_order.h"
#include "server/http_server.h"
#include "server/pool_service.h"
#include "server/queue_file.h"
#include "server/web_ui.h"

namespace gpupool::app {
namespace {

// Writes `url` and a newline to `file` through a temporary file and a rename, so that a reader
// sees the old content or the new, never a part.
Status WriteUrlFile(const std::filesystem::path& file, const std::string& url) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << url << "\n";
    if (!out.flush()) return Status::IoError(tmp.string() + ": cannot write the server address");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec)
    return Status::IoError(file.string() + ": cannot write the server address: " + ec.message());
  return Status::Ok();
}

struct ServeFlags {
  std::string listen = "127.0.0.1:8080";
  std::string base_path;
  std::string data_dir = "gpupool-data";
  std::string experiments;  // "" = DATA_DIR/experiments
  std::string inventory;
  std::string policy = "fgd-window";
  int window = 0;
  std::uint64_t seed = 42;
  std::string sync = "full";
  int max_connections = 128;
  int stop_grace_s = 10;
  int history_interval_s = 10;
  std::string queues;  // the queue file; "" = the queues stored in the database, if any
  bool queues_reset = false;
  std::string order = "priority";
  bool preempt = false;
  int preempt_grace_s = 30;
  int min_run_s = 0;
  bool preempt_grace_set = false;  // given on the command line (only with --preempt)
  bool min_run_set = false;
  bool gang_reservation = false;
  int max_reservations = 4;
  bool no_wide_reservation = false;
  std::string backfill = "none";  // with --strict: none or easy
  int reservation_timeout_s = 0;
  bool reservation_timeout_set = false;  // given on the command line (only with the above)
  bool order_set = false;                // --order given on the command line
  bool strict = false;
};

Result<std::pair<std::string, int>> ParseListen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error(Status::InvalidArgument("--listen: '" + s + "' is not HOST:PORT"));
  }
  const std::string host = s.substr(0, colon);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return Error(Status::InvalidArgument("--listen: '" + s.substr(colon + 1) + "' is not a port"));
  }
  return std::make_pair(host, port);
}

int RunServe(const ServeFlags& f) {
  const auto fail = [](const Status& s) {
    std::fprintf(stderr, "gpupool serve: %s\n", s.message().c_str());
    return s.ExitCode();
  };
  auto listen = ParseListen(f.listen);
  if (!listen) return fail(listen.error());
  auto base_path = server::NormalizeBasePath(f.base_path, "--base-path");
  if (!base_path) return fail(base_path.error());
  if (f.sync != "full" && f.sync != "normal") {
    return fail(Status::InvalidArgument("--sync: '" + f.sync + "' is not full or normal"));
  }
  if (auto policy = placement::MakePolicy(f.policy, {}); !policy) return fail(policy.error());
  auto order = scheduler::MakeJobOrder(f.order);
  if (!order) return fail(Status::InvalidArgument("--order: " + order.error().message()));
  if (!f.preempt && (f.preempt_grace_set || f.min_run_set)) {
    return fail(
        Status::InvalidArgument(std::string(f.min_run_set ? "--min-run" : "--preempt-grace") +
                                ": applies to preemption only; add --preempt"));
  }
  if (f.strict && f.gang_reservation) {
    return fail(Status::InvalidArgument(
        "--gang-reservation: not with --strict (no job passes the head of a strict order)"));
  }
  if (f.backfill == "easy" && !f.strict) {
    return fail(Status::InvalidArgument(
        "--backfill easy: applies to a strict order; add --strict (without it every job that "
        "fits starts)"));
  }
  if (!f.gang_reservation && f.no_wide_reservation) {
    return fail(Status::InvalidArgument(
        "--no-wide-reservation: applies to gang reservations only; add --gang-reservation"));
  }
  if (!f.gang_reservation && f.backfill != "easy" && f.reservation_timeout_set) {
    return fail(Status::InvalidArgument(
        "--reservation-timeout: applies to reservations only; add --gang-reservation or "
        "--strict --backfill easy"));
  }
  // --preempt with an order that never preempts needs queues, from --queues or stored in the
  // database (set through the API earlier): the service checks once it knows them.

  server::ServiceOptions opt;
  opt.data_dir = f.data_dir;
  opt.scheduler.policy = f.policy;
  opt.scheduler.window = f.window;
  opt.scheduler.seed = f.seed;
  opt.scheduler.order = f.order;
  opt.order_given = f.order_set;
  opt.scheduler.strict_order = f.strict;
  // Preemption: by the order (priority: a strictly higher priority) and, with queues, to reclaim
  // a guarantee; the victims that lose the least work first, none before its minimum run time.
  opt.scheduler.preemption = f.preempt;
  opt.scheduler.min_run_s = f.min_run_s;
  opt.scheduler.victim_choice = scheduler::VictimChoice::kLeastLostWork;
  opt.preempt_grace = std::chrono::seconds(f.preempt_grace_s);
  // A gang that does not fit holds a reservation (EASY's rule for the jobs behind it), lapsing
  // after the timeout.
  opt.scheduler.gang_reservation = f.gang_reservation;
  opt.scheduler.max_reservations = f.max_reservations;
  opt.scheduler.reserve_wide_jobs = !f.no_wide_reservation;
  // EASY backfill behind the strict order's heads (with queues, each queue's head reserves).
  opt.scheduler.easy_backfill = f.backfill == "easy";
  opt.scheduler.reservation_timeout_s = f.reservation_timeout_s;
  if (!f.queues.empty()) {
    // Limits and fair share hold in the service; reclaiming a guarantee needs --preempt.
    auto config = server::LoadQueueConfig(f.queues);
    if (!config) return fail(config.error());
    opt.scheduler.queues = std::move(config->queues);
    opt.queues_order = config->order;
    opt.queues_file = f.queues;
    opt.queues_reset = f.queues_reset;
  } else if (f.queues_reset) {
    return fail(Status::InvalidArgument("--queues-reset: needs --queues FILE (the queues to use)"));
  }
  opt.synchronous_full = f.sync == "full";
  opt.stop_grace = std::chrono::seconds(f.stop_grace_s);
  opt.history_interval = std::chrono::seconds(f.history_interval_s);

  // The inventory: a file, else this host's GPUs, else the demo.
  std::unique_ptr<discovery::NvmlLibrary> nvml;
  std::string nvml_note;
  if (!f.inventory.empty()) {
    auto inv = discovery::ReadClusterInventory(f.inventory);
    if (!inv) return fail(inv.error());
    opt.nodes = inv->nodes;
    opt.simulated = inv->simulated;
    opt.inventory_source = f.inventory;
  } else {
    auto lib = discovery::NvmlLibrary::Open();
    if (lib) {
      auto node = discovery::DiscoverNode(**lib);
      if (node && !node->gpus.empty()) {
        opt.nodes = {discovery::ToNodeSpec(*node)};
        opt.simulated = false;
        opt.inventory_source = "this host (NVML)";
        nvml = std::move(*lib);
      } else {
        nvml_note = node ? "NVML lists no GPU" : node.error().message();
      }
    } else {
      nvml_note = lib.error().message();
    }
    if (opt.nodes.empty()) {
      const auto demo = DataDir() / "inventory" / "demo.yaml";
      auto inv = discovery::ReadClusterInventory(demo);
      if (!inv) return fail(inv.error());
      opt.nodes = inv->nodes;
      opt.simulated = true;
      opt.inventory_source = "demo (" + demo.string() + ")";
    }
  }
  opt.nvml = nvml.get();
  // The shim that makes fractions hold (docs/shim.md); without it they are only booked.
  std::string shim_note;
  if (auto shim = executor::FindGpuShim(); shim) {
    opt.gpu_shim = *shim;
    shim_note = *shim + " (preloaded into jobs with a fraction of a GPU or a memory cap)";
  } else {
    shim_note =
        "not found, so GPU fractions and memory caps are not enforced: " + shim.error().message();
  }

  std::ifstream openapi_file(DataDir() / "api" / "openapi.json");
  if (!openapi_file) {
    return fail(Status::IoError((DataDir() / "api" / "openapi.json").string() + ": cannot read"));
  }
  std::stringstream openapi;
  openapi << openapi_file.rdbuf();

  // Signals are taken by sigwait below, never by another thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string admin_token;
  auto service =
      server::PoolService::Start(opt, std::make_unique<executor::LocalExecutor>(), &admin_token);
  if (!service) return fail(service.error());
  server::HttpOptions http;
  http.host = listen->first;
  http.port = listen->second;
  http.max_connections = f.max_connections;
  http.openapi_json = openapi.str();
  http.base_path = *base_path;
  http.experiments_dir = f.experiments.empty()
                             ? (std::filesystem::path(f.data_dir) / "experiments").string()
                             : f.experiments;
  server::HttpServer httpd(**service, http);
  if (Status st = httpd.Start(); !st.ok()) return fail(st);

  int gpus = 0;
  for (const auto& n : opt.nodes) gpus += static_cast<int>(n.gpus.size());
  const std::string url = fmt::format("http://{}:{}", http.host, httpd.port());
  const auto token_file = std::filesystem::path(f.data_dir) / "admin.token";
  // The address as bound (with --listen HOST:0, the port the system chose), for the client
  // commands of this data directory and for scripts: written whole (a rename), removed on a clean
  // stop.
  const auto url_file = std::filesystem::path(f.data_dir) / "server.url";
  if (Status st = WriteUrlFile(url_file, url); !st.ok()) return fail(st);
  std::printf(
      "gpupool serve: listening on %s (dashboard at %s/, REST API under %s/api/v1, metrics at "
      "/metrics)\n",
      url.c_str(), (url + *base_path).c_str(), base_path->c_str());
  if (!server::WebUiBuilt()) {
    std::printf(
        "  dashboard: not built (needs node and `npm ci` in web/: scripts/install-deps.sh)\n");
  }
  std::printf("  inventory: %s: %zu node(s), %d GPU(s)%s\n", opt.inventory_source.c_str(),
              opt.nodes.size(), gpus,
              opt.simulated ? ", simulated (commands run on this host)" : "");
  if (!nvml_note.empty() && f.inventory.empty()) std::printf("  NVML: %s\n", nvml_note.c_str());
  std::printf("  GPU shim: %s\n", shim_note.c_str());
  std::printf("  data: %s (SQLite gpupool.db, job logs in jobs/)\n", f.data_dir.c_str());
  // The new token itself only on a terminal: under systemd stdout goes to the journal, which
  // more users may read than the 0600 file.
  if (!admin_token.empty() && isatty(STDOUT_FILENO) == 1) {
    std::printf("  admin token (shown once, kept in %s, mode 0600): %s\n", token_file.c_str(),
                admin_token.c_str());
  } else if (!admin_token.empty()) {
    std::printf("  admin token: new, in %s (mode 0600)\n", token_file.c_str());
  } else {
    std::printf("  admin token: in %s\n", token_file.c_str());
  }
  std::printf(
      "  try: gpupool submit --server %s --gpus 0.5 -- sh -c 'echo $CUDA_VISIBLE_DEVICES'\n",
      url.c_str());
  std::printf("  policy %s, order %s, %s; Ctrl-C stops the service (running jobs keep running)\n",
              f.policy.c_str(), f.order.c_str(),
              f.preempt ? fmt::format("preemption on (grace {} s, minimum run {} s)",
                                      f.preempt_grace_s, f.min_run_s)
                              .c_str()
                        : "no preemption");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  std::printf("gpupool serve: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
  std::fflush(stdout);
  httpd.Stop();
  std::error_code ec;
  std::filesystem::remove(url_file, ec);
  service->reset();
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Run the GPU pool as a service: REST API, scheduler, job execution, metrics. Inventory: "
      "--inventory FILE, else this host's GPUs (NVML), else the bundled demo (simulated).");
  cmd->add_option("--listen", flags->listen, "Address to listen on, HOST:PORT")
      ->capture_default_str();
  cmd->add_option("--base-path", flags->base_path,
                  "Also serve everything under this path (e.g. /gpupool), for a reverse proxy; "
                  "the dashboard's API calls go under it");
  cmd->add_option("--data-dir", flags->data_dir, "Database, job logs and the admin token live here")
      ->capture_default_str();
  cmd->add_option("--experiments", flags->experiments,
                  "Folder of `sim fill --json` / `sim replay --json` outputs (*.json) that the "
                  "dashboard's Experiments page shows (default DATA_DIR/experiments)");
  cmd->add_option("--inventory", flags->inventory,
                  "Cluster inventory (YAML: nodes, GPU models and counts, CPU, memory, NVLink "
                  "islands); see data/inventory/demo.yaml");
  cmd->add_option("--policy", flags->policy,
                  "Placement policy (random, dotprod, clustering, packing, bestfit, fgd, "
                  "fgd-window)")
      ->capture_default_str();
  cmd->add_option("--queues", flags->queues,
                  "Queue file (YAML: name, guaranteed, limit, weight, parent per queue): jobs name "
                  "their queue; limits and fair share across queues hold. Changes through the "
                  "API (gpupool queues set) are kept in the database and used at the next start "
                  "without --queues (docs/serve.md)");
  cmd->add_flag("--queues-reset", flags->queues_reset,
                "With --queues: replace the queues changed through the API with the file (a "
                "file that differs from them is refused otherwise)");
  cmd->add_option("--window", flags->window,
                  "Jobs per scheduling window; 0 = the policy's own (fgd-window: 64)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", flags->seed, "Seed of the node order (tie-breaks)")
      ->capture_default_str();
  cmd->add_option("--sync", flags->sync,
                  "full: fsync every commit (survives a machine crash); normal: survives a "
                  "crash of the service only")
      ->capture_default_str();
  cmd->add_option("--max-connections", flags->max_connections,
                  "Concurrent HTTP connections; more are answered 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--history-interval", flags->history_interval_s,
                  "Seconds between two samples of the pool's figures for its history "
                  "(GET /api/v1/pool/history, the dashboard's trends)")
      ->capture_default_str()
      ->check(CLI::Range(1, 60));
  cmd->add_option("--stop-grace", flags->stop_grace_s,
                  "Seconds between SIGTERM and SIGKILL when a job is cancelled or times out")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  cmd->add_option_function<std::string>(
      "--order",
      [flags](const std::string& o) {
        flags->order = o;
        flags->order_set = true;
      },
      "Which waiting job goes first: priority, fifo, sjf, qssf, srtf, las, las:T1,T2,..., drf "
      "(with --queues: the queue with the smallest weighted dominant share first), gittins "
      "(default priority; a queue file's `order:` sets it too)");
  cmd->add_flag("--strict", flags->strict,
                "Strict order: no job starts before the first waiting job of its queue (of the "
                "pool, without queues) that does not fit; no backfill unless --backfill easy");
  cmd->add_option("--backfill", flags->backfill,
                  "With --strict: none, or easy (EASY backfill: each blocked head, one per queue, "
                  "holds a reservation on named nodes, and a job behind starts only if it delays "
                  "none of them; time limits say when running jobs end)")
      ->check(CLI::IsMember({"none", "easy"}))
      ->capture_default_str();
  cmd->add_flag("--preempt", flags->preempt,
                "Preempt running preemptible jobs: for a strictly higher priority (the order's "
                "rule) and for a queue reclaiming its guarantee (docs/serve.md)");
  cmd->add_option_function<int>(
         "--preempt-grace",
         [flags](const int& s) {
           flags->preempt_grace_s = s;
           flags->preempt_grace_set = true;
         },
         "Seconds between SIGTERM and SIGKILL for a preempted job (default 30)")
      ->check(CLI::Range(0, 3600));
  cmd->add_option_function<int>(
         "--min-run",
         [flags](const int& s) {
           flags->min_run_s = s;
           flags->min_run_set = true;
         },
         "Seconds a job runs before it may be preempted (default 0)")
      ->check(CLI::Range(0, 7 * 24 * 3600));
  cmd->add_flag("--gang-reservation", flags->gang_reservation,
                "Up to --max-reservations gangs (replicas > 1) that do not fit, and single jobs "
                "wider than any node's free GPUs, hold a reservation: the earliest time each fits "
                "once running jobs end by their time limits, and the nodes it will take; a job "
                "ranked behind starts only if it delays none (EASY backfill)");
  cmd->add_flag("--no-wide-reservation", flags->no_wide_reservation,
                "With --gang-reservation: only gangs reserve, not single jobs wider than any "
                "node's free GPUs");
  cmd->add_option("--max-reservations", flags->max_reservations,
                  "With --gang-reservation: how many gangs may hold a reservation at once, each "
                  "against the pool as the earlier ones leave it")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option_function<int>(
         "--reservation-timeout",
         [flags](const int& s) {
           flags->reservation_timeout_s = s;
           flags->reservation_timeout_set = true;
         },
         "Seconds after which a reservation (a gang's, an EASY head's) lapses if its job has not "
         "started; it then "
         "waits as long again without one (the next gang may reserve) and may reserve again. "
         "0: never lapses (default). Set it above the longest time limit (docs/serve.md)")
      ->check(CLI::Range(0, 30 * 24 * 3600));
  cmd->callback([flags, &exit_code] { exit_code = RunServe(*flags); });
}

}  // namespace gpupool::app

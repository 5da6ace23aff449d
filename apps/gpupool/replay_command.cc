// `gpupool sim replay`: a job trace replayed through the pool's scheduler in simulated time
// (src/sim/replay.h), one run per job order; prints JCT and queueing per order, or JSON.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "common/data_dir.h"
#include "common/strings.h"
#include "scheduler/job_order.h"
#include "server/queue_file.h"
#include "sim/fill_experiment.h"
#include "sim/philly_trace.h"
#include "sim/replay.h"
#include "sim/replay_report.h"
#include "sim/tiresias_trace.h"

namespace gpupool::app {
namespace {

struct ReplayArgs {
  std::string trace;
  std::string vcs;
  std::string cluster = "vcs";
  std::string format = "philly";  // of --trace: philly or tiresias
  double scale = 1.0;
  std::string policy = "fifo,sjf,qssf";
  bool policy_set = false;  // --policy given on the command line
  std::string placement = "bestfit";
  std::string estimator = "auto";
  std::string backfill = "none";
  bool strict = false;  // --strict: with --queues, strict order per queue
  bool preempt = false;
  bool gang_reservation = false;
  int max_reservations = 4;
  bool no_wide_reservation = false;
  double reservation_timeout_s = 0;
  std::uint64_t seed = 42;
  int threads = 0;
  bool json = false;
  std::string out;
  // openb mode: pods with their creation and deletion times on an openb node list.
  std::string openb;
  std::string nodes;
  std::int64_t sample_s = -1;  // -1: 3600 in openb mode, none otherwise
  std::string queues;          // "", "vcs", "vcs-hard" or a queue file
};

// The openb pods with their real times as jobs: submitted at creation_time, running for
// deletion_time - scheduled_time (deletion - creation for a pod that was never scheduled), at
// least 1 s; one pool of the node list. InvalidArgument names a pod without times.
Result<std::pair<std::vector<sim::TraceJob>, std::vector<sim::ReplayPool>>> LoadOpenbJobs(
    const ReplayArgs& a) {
  auto in = sim::LoadFillInput(a.nodes, a.openb);
  if (!in) return Error(in.error());
  std::vector<sim::TraceJob> jobs;
  for (const auto& p : in->pods) {
    if (p.creation_s < 0 || p.deletion_s < 0) {
      return Error(Status::InvalidArgument(a.openb + ":" + std::to_string(p.line) +
                                           ": creation_time and deletion_time are needed to "
                                           "replay (the 11-column pod list)"));
    }
    sim::TraceJob j;
    j.submit_s = p.creation_s;
    j.duration_s = std::max<std::int64_t>(
        1,
        p.deletion_s - (p.scheduled_s >= 0 ? std::max(p.scheduled_s, p.creation_s) : p.creation_s));
    j.num_gpus = p.request.num_gpu;
    j.request = p.request;
    j.line = p.line;
    jobs.push_back(std::move(j));
  }
  std::stable_sort(jobs.begin(), jobs.end(), [](const sim::TraceJob& x, const sim::TraceJob& y) {
    return x.submit_s < y.submit_s;
  });
  for (std::size_t i = 0; i < jobs.size(); ++i) jobs[i].id = static_cast<std::int64_t>(i) + 1;
  sim::ReplayPool pool;
  // --scale: every (1/scale)-th node of the list, spread over it so the model mix stays.
  const auto n = static_cast<double>(in->nodes.size());
  const auto keep = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(n * a.scale)));
  for (std::size_t i = 0; i < keep; ++i) {
    pool.specs.push_back(in->nodes[static_cast<std::size_t>(static_cast<double>(i) * n /
                                                            static_cast<double>(keep))]);
  }
  pool.nodes = static_cast<int>(pool.specs.size());
  return std::pair{std::move(jobs), std::vector<sim::ReplayPool>{std::move(pool)}};
}

Status WriteSamplesCsv(const std::string& path, const sim::ReplayRun& r) {
  std::ofstream f(path);
  if (!f) return Status::IoError(path + ": cannot write");
  f << "t_s,allocated_pct,fragmented_pct,pending_gpus\n";
  for (const auto& s : r.samples) {
    f << s.t_s << ',' << s.allocated_pct << ',' << s.fragmented_pct << ',' << s.pending_gpus
      << '\n';
  }
  f.close();
  if (!f) return Status::IoError(path + ": write failed");
  return Status::Ok();
}

// "vcs" (one pool per VC of the VC file) or NODESxGPUS (one pool).
Result<std::vector<sim::ReplayPool>> ParseCluster(const ReplayArgs& a) {
  if (a.scale <= 0 || a.scale > 100) {
    return Error(
        Status::InvalidArgument("--scale: " + std::to_string(a.scale) + " is not in (0, 100]"));
  }
  if (a.cluster == "vcs") {
    auto vcs = sim::LoadVcNodes(a.vcs);
    if (!vcs) return Error(vcs.error());
    return sim::VcPools(*vcs, a.scale);
  }
  const std::size_t x = a.cluster.find('x');
  int nodes = 0;
  int gpus = 0;
  try {
    std::size_t used = 0;
    if (x == std::string::npos) throw std::invalid_argument(a.cluster);
    nodes = std::stoi(a.cluster.substr(0, x), &used);
    if (used != x) throw std::invalid_argument(a.cluster);
    gpus = std::stoi(a.cluster.substr(x + 1), &used);
    if (used != a.cluster.size() - x - 1) throw std::invalid_argument(a.cluster);
  } catch (const std::exception&) {
    return Error(Status::InvalidArgument("--cluster: '" + a.cluster +
                                         "' is not 'vcs' or NODESxGPUS such as 352x8"));
  }
  if (nodes < 1 || gpus < 1 || gpus > 8) {
    return Error(Status::InvalidArgument("--cluster: " + a.cluster +
                                         ": needs at least one node and 1 to 8 GPUs per node"));
  }
  const int scaled = std::max(1, static_cast<int>(std::lround(nodes * a.scale)));
  return std::vector<sim::ReplayPool>{sim::ReplayPool{"", scaled, gpus, {}}};
}

nlohmann::json RunJson(const sim::ReplayRun& r) {
  nlohmann::json q = nlohmann::json::array();
  for (const auto& s : r.queues) {
    q.push_back({{"queue", s.queue},
                 {"jobs", s.jobs},
                 {"avg_jct_seconds", s.avg_jct_s},
                 {"avg_queue_seconds", s.avg_queue_s},
                 {"gpu_seconds", s.gpu_seconds},
                 {"avg_slowdown", s.avg_slowdown}});
  }
  return {{"policy", r.order},
          {"placement", r.placement},
          {"strict_order", r.strict_order},
          {"oracles", r.oracles},
          {"jobs", r.jobs},
          {"never", r.never},
          {"avg_jct_seconds", r.avg_jct_s},
          {"median_jct_seconds", r.median_jct_s},
          {"p95_jct_seconds", r.p95_jct_s},
          {"avg_queue_seconds", r.avg_queue_s},
          {"makespan_seconds", r.makespan_s},
          {"utilization", r.utilization},
          {"preemptions", r.preemptions},
          {"mean_fragmented_pct", r.mean_fragmented_pct},
          {"mean_pending_gpus", r.mean_pending_gpus},
          {"seconds", r.seconds},
          {"queues", q},
          {"queue_fairness", r.queue_fairness}};
}

Status WriteJobsCsv(const std::string& path, const sim::ReplayRun& r) {
  std::ofstream f(path);
  if (!f) return Status::IoError(path + ": cannot write");
  f << "id,queue,num_gpus,submit_s,start_s,end_s,run_s,queue_s,jct_s\n";
  for (const auto& j : r.outcomes) {
    f << j.id << ',' << j.queue << ',' << j.num_gpus << ',' << j.submit_s << ',' << j.start_s << ','
      << j.end_s << ',' << j.run_s << ',' << (j.end_s - j.submit_s - j.run_s) << ','
      << (j.end_s - j.submit_s) << '\n';
  }
  f.close();
  if (!f) return Status::IoError(path + ": write failed");
  return Status::Ok();
}

int RunReplayCommand(const ReplayArgs& a) {
  auto fail = [](const Status& s) {
    std::cerr << "gpupool sim replay: " << s.message() << "\n";
    return s.ExitCode();
  };
  const auto wall_start = std::chrono::steady_clock::now();
  std::optional<std::vector<sim::ReplayPool>> pools;
  std::optional<std::vector<sim::TraceJob>> jobs;
  if (!a.openb.empty()) {
    auto loaded = LoadOpenbJobs(a);
    if (!loaded) return fail(loaded.error());
    jobs = std::move(loaded->first);
    pools = std::move(loaded->second);
  } else {
    if (a.format == "tiresias") {
      if (a.cluster == "vcs" || !a.queues.empty()) {
        return fail(Status::InvalidArgument(
            "--format tiresias: the file has no virtual clusters; give --cluster NODESxGPUS "
            "(its n32g4.csv is 32x4) and no --queues"));
      }
    }
    auto parsed = ParseCluster(a);
    if (!parsed) return fail(parsed.error());
    pools = std::move(*parsed);
    if (!a.queues.empty() && a.cluster == "vcs") {
      // Queues share one pool: as many nodes as the VCs have together.
      int nodes = 0;
      for (const auto& p : *pools) nodes += p.nodes;
      pools = std::vector<sim::ReplayPool>{sim::ReplayPool{"", nodes, 8, {}}};
    }
    // The VC file names the VCs the trace filter keeps (the Helios setting); a single pool keeps
    // the VCs of the file too, so both settings replay the same jobs.
    if (a.format == "tiresias") {
      auto loaded = sim::LoadTiresiasJobs(a.trace);
      if (!loaded) return fail(loaded.error());
      jobs = std::move(*loaded);
    } else {
      auto vcs = sim::LoadVcNodes(a.vcs);
      if (!vcs) return fail(vcs.error());
      auto loaded = sim::LoadPhillyJobs(a.trace, *vcs);
      if (!loaded) return fail(loaded.error());
      jobs = std::move(*loaded);
    }
  }
  // Samples by default where they are shown: openb mode and the figures of --out.
  const std::int64_t sample_s =
      a.sample_s >= 0 ? a.sample_s : (a.openb.empty() && a.out.empty() ? 0 : 3600);
  if (!a.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.out, ec);
    if (ec) return fail(Status::IoError(a.out + ": cannot create directory: " + ec.message()));
  }
  // --queues: one queue per VC, guaranteed its (scaled) nodes' GPUs; vcs-hard also limits it
  // to them (the VCs' nodes as a hard limit, in one shared pool).
  std::vector<queue::QueueSpec> queues;
  std::string policy = a.policy;
  if (!a.queues.empty()) {
    if (!a.openb.empty()) return fail(Status::InvalidArgument("--queues: not with --openb"));
    if (a.queues == "vcs" || a.queues == "vcs-hard") {
      auto vcs = sim::LoadVcNodes(a.vcs);
      if (!vcs) return fail(vcs.error());
      for (const auto& p : sim::VcPools(*vcs, a.scale)) {
        const double gpus = static_cast<double>(p.nodes) * p.gpus_per_node;
        queues.push_back(queue::QueueSpec{
            p.name, "", gpus,
            a.queues == "vcs-hard" ? gpus : std::numeric_limits<double>::infinity(), 1});
      }
    } else {
      // The service's queue file: its queues, and its order unless --policy names the orders.
      auto config = server::LoadQueueConfig(a.queues);
      if (!config) return fail(config.error());
      queues = std::move(config->queues);
      if (!config->order.empty()) {
        if (a.policy_set && a.policy != config->order) {
          return fail(Status::InvalidArgument("--policy " + a.policy + ": the queue file " +
                                              a.queues + " names the order '" + config->order +
                                              "'; give one of them"));
        }
        policy = config->order;
      }
      // Every job's queue (its VC) must be a queue of the file, as the service requires.
      std::map<std::string, std::int64_t> missing;
      for (const auto& j : *jobs) {
        if (std::none_of(queues.begin(), queues.end(),
                         [&](const queue::QueueSpec& q) { return q.name == j.queue; })) {
          ++missing[j.queue];
        }
      }
      if (!missing.empty()) {
        return fail(Status::InvalidArgument(fmt::format(
            "--queues {}: the trace's VC '{}' ({} job(s)) is not a queue of the file{}", a.queues,
            missing.begin()->first, missing.begin()->second,
            missing.size() > 1 ? fmt::format(" (nor are {} other VC(s))", missing.size() - 1)
                               : "")));
      }
    }
  }
  // --strict: strict order per queue (a queue's first job that does not fit blocks that queue
  // only, as `gpupool serve --strict`); without queues the order is strict already unless
  // --backfill any.
  if (a.strict && queues.empty()) {
    return fail(Status::InvalidArgument(
        "--strict: applies to --queues (without queues the order is strict unless --backfill "
        "any)"));
  }
  if (a.strict && a.backfill == "any") {
    return fail(Status::InvalidArgument(
        "--strict: not with --backfill any (a job that does not fit would be skipped)"));
  }
  nlohmann::json policies = nlohmann::json::array();
  std::vector<sim::ReplayRun> runs;
  for (const std::string_view order_name : Split(policy, ',')) {
    const std::string order(order_name);
    for (const std::string_view placement_name : Split(a.placement, ',')) {
      const std::string placement(placement_name);
      sim::ReplayOptions opt;
      opt.order = order;
      opt.placement = placement;
      opt.sample_every_s = sample_s;
      opt.skip_never = !a.openb.empty();  // a pod of a GPU model the scaled pool lacks
      // The orders whose rank follows the service received never block (the artifact's SRTF does
      // not, nor does Tiresias' LAS) and preempt as ranks cross.
      auto made = scheduler::MakeJobOrder(order);
      if (!made) return fail(Status::InvalidArgument("--policy: " + made.error().message()));
      const bool preemptive = (*made)->rank_follows_service();
      // none: strict order; easy: strict with EASY backfill (time limits: the actual durations,
      // as sjf reads them); any: a job that does not fit is skipped, no reservation. With queues
      // the order is strict (per queue) only with --strict.
      opt.strict_order = a.backfill != "any" && !preemptive && (queues.empty() || a.strict);
      opt.easy_backfill = a.backfill == "easy" && opt.strict_order;
      // Without strict order (backfill any, srtf, las, queues without --strict): a gang that does
      // not fit may hold a reservation; every reservation may lapse.
      opt.gang_reservation = a.gang_reservation && !opt.strict_order;
      opt.reservation_timeout_s = a.reservation_timeout_s;
      opt.max_reservations = a.max_reservations;
      opt.reserve_wide_jobs = !a.no_wide_reservation;
      opt.preemption = a.preempt || preemptive || !queues.empty();  // reclaim preempts
      opt.queues = queues;
      opt.estimator =
          a.estimator == "auto" ? (order == "qssf" ? "philly-noise" : "none") : a.estimator;
      opt.seed = a.seed;
      opt.threads = a.threads;
      auto run = sim::Replay(*jobs, *pools, opt);
      if (!run)
        return fail(Status::InvalidArgument("--policy " + order + ": " + run.error().message()));
      if (!a.out.empty()) {
        const std::string stem =
            order + (a.placement.find(',') == std::string::npos ? std::string() : "_" + placement);
        if (Status s = WriteJobsCsv(a.out + "/jobs_" + stem + ".csv", *run); !s.ok())
          return fail(s);
        if (!run->samples.empty()) {
          if (Status s = WriteSamplesCsv(a.out + "/samples_" + stem + ".csv", *run); !s.ok()) {
            return fail(s);
          }
        }
      }
      policies.push_back(RunJson(*run));
      runs.push_back(std::move(*run));
    }
  }
  if (!a.out.empty()) {
    std::vector<std::string> labels;
    const bool placements = a.placement.find(',') != std::string::npos;
    for (const auto& r : runs) labels.push_back(placements ? r.order + "/" + r.placement : r.order);
    std::string warning;
    if (Status s = sim::WriteReplayPlots(a.out, runs, labels, &warning); !s.ok()) return fail(s);
    if (!warning.empty()) std::cerr << "gpupool sim replay: warning: " << warning << "\n";
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  int gpus = 0;
  for (const auto& p : *pools) {
    if (p.specs.empty()) {
      gpus += p.nodes * p.gpus_per_node;
    } else {
      for (const auto& n : p.specs) gpus += static_cast<int>(n.gpus.size());
    }
  }
  if (a.json) {
    nlohmann::json out = {{"trace", a.trace}, {"jobs", jobs->size()}, {"pools", pools->size()},
                          {"gpus", gpus},     {"policies", policies}, {"wall_seconds", wall}};
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::string reservations;
  if (a.gang_reservation) {
    reservations += fmt::format("; gangs reserve where the order is not strict (up to {} at once)",
                                a.max_reservations);
  }
  if (a.reservation_timeout_s > 0) {
    reservations += fmt::format("; reservations lapse after {} s", a.reservation_timeout_s);
  }
  std::cout << fmt::format(
      "{} jobs, {} pool(s), {} GPUs; placement {}; {}{}\n", jobs->size(), pools->size(), gpus,
      a.placement,
      a.backfill == "any" || (!queues.empty() && !a.strict)
          ? "backfill any (a job that does not fit is skipped)"
      : a.backfill == "easy" ? fmt::format("strict order{} with EASY backfill for fifo, sjf, qssf; "
                                           "srtf and las preempt, never block",
                                           queues.empty() ? "" : " per queue")
                             : fmt::format("strict order{} for fifo, sjf, qssf (no job overtakes "
                                           "one that does not fit); srtf and las preempt, never "
                                           "block",
                                           queues.empty() ? "" : " per queue"),
      reservations);
  const bool sampled = !runs.empty() && !runs[0].samples.empty();
  std::cout << fmt::format("{:<8} {:<10} {:>11} {:>10} {:>11} {:>11} {:>6} {:>7}", "policy",
                           "placement", "avg JCT s", "median s", "p95 s", "avg queue s", "util",
                           "preempt");
  if (sampled) std::cout << fmt::format(" {:>7} {:>9}", "frag %", "pend GPU");
  const bool several_queues = !runs.empty() && runs[0].queues.size() > 1;
  if (several_queues) std::cout << fmt::format(" {:>5}", "fair");
  std::cout << "\n";
  for (const auto& r : runs) {
    std::cout << fmt::format("{:<8} {:<10} {:>11.0f} {:>10.0f} {:>11.0f} {:>11.0f} {:>5.1f}% {:>7}",
                             r.order, r.placement, r.avg_jct_s, r.median_jct_s, r.p95_jct_s,
                             r.avg_queue_s, 100 * r.utilization, r.preemptions);
    if (sampled) {
      std::cout << fmt::format(" {:>7.2f} {:>9.1f}", r.mean_fragmented_pct, r.mean_pending_gpus);
    }
    if (several_queues) std::cout << fmt::format(" {:>5.2f}", r.queue_fairness);
    std::cout << "\n";
  }
  if (sampled) {
    std::cout << "frag %: FGD's expected fragment of the pool against the learned workload, % of "
                 "GPU capacity; pend GPU: GPUs the waiting jobs ask for; both averaged over "
              << runs[0].samples.size() << " samples, one every " << sample_s
              << " s of simulated time\n";
  }
  if (several_queues) {
    std::cout << "fair: Jain's index over the queues' (VCs') mean slowdown, JCT / run time (1: "
                 "every queue slowed alike); per queue figures in --json\n";
  }
  for (const auto& r : runs) {
    for (const auto& o : r.oracles) std::cout << "oracle (" << r.order << "): " << o << "\n";
  }
  std::cout << fmt::format("{:.2f} s wall\n", wall);
  return 0;
}

}  // namespace

void AddReplayCommand(CLI::App& sim, int& exit_code) {
  auto args = std::make_shared<ReplayArgs>();
  const std::string philly = (DataDir() / "traces" / "philly").string();
  args->trace = philly + "/philly.csv";
  args->vcs = philly + "/vc_nodes.csv";
  auto* cmd = sim.add_subcommand(
      "replay",
      "Replay a job trace through the scheduler in simulated time (the Philly trace by default, "
      "one pool per virtual cluster as the Helios artifact): average, median, p95 JCT and "
      "queueing per job order");
  cmd->add_option("--trace", args->trace,
                  "Job trace (Philly CSV: timestamp,duration,num_gpus,"
                  "gpu_time,cluster)")
      ->capture_default_str();
  cmd->add_option("--format", args->format,
                  "Format of --trace: philly, or tiresias (the Tiresias simulator's job CSV: "
                  "job_id,num_gpu,submit_time,iterations,model_name,duration,interval; with "
                  "--cluster NODESxGPUS)")
      ->check(CLI::IsMember({"philly", "tiresias"}))
      ->capture_default_str();
  cmd->add_option("--vcs", args->vcs, "Virtual clusters and their nodes (vc,nodes CSV)")
      ->capture_default_str();
  cmd->add_option("--cluster", args->cluster,
                  "vcs (one pool per VC, its nodes a hard limit) or NODESxGPUS (one pool)")
      ->capture_default_str();
  cmd->add_option("--scale", args->scale, "Multiply every pool's node count (0.25: a quarter)")
      ->capture_default_str();
  cmd->add_option_function<std::string>(
      "--policy",
      [args](const std::string& p) {
        args->policy = p;
        args->policy_set = true;
      },
      "Job orders, comma-separated: fifo, sjf, qssf, srtf, las, las:T1,T2,... (thresholds in "
      "GPU-seconds), gittins (the project's own: the Gittins index of the job's class, learned "
      "from finished jobs), priority (default fifo,sjf,qssf; a --queues file's order: too)");
  cmd->add_option("--placement", args->placement, "Placement policy (sim fill's names)")
      ->capture_default_str();
  cmd->add_option("--estimator", args->estimator,
                  "Duration estimates: auto (philly-noise for qssf), none, learned (from the jobs "
                  "that finished before, no oracle), philly-noise (the Helios artifact's oracle: "
                  "actual duration with its random error)")
      ->capture_default_str();
  cmd->add_option("--backfill", args->backfill,
                  "none (strict order, as the anchor), easy (EASY: jobs pass the head only if they "
                  "cannot delay its reservation; with --queues --strict each queue's head "
                  "reserves; time limits are the actual durations, an oracle) "
                  "or any (a job that does not fit is skipped, no reservation)")
      ->check(CLI::IsMember({"none", "easy", "any"}))
      ->capture_default_str();
  cmd->add_flag("--gang-reservation", args->gang_reservation,
                "Where the order is not strict (--backfill any, srtf, las, --queues without "
                "--strict): up to --max-reservations gangs (jobs over one node) that do not fit, "
                "and single jobs wider than any node's free GPUs, hold a reservation (a time and "
                "nodes), and a job ranked behind starts only if it delays none (EASY's rule)");
  cmd->add_flag("--no-wide-reservation", args->no_wide_reservation,
                "With --gang-reservation: only gangs reserve, not single jobs wider than any "
                "node's free GPUs");
  cmd->add_option("--max-reservations", args->max_reservations,
                  "With --gang-reservation: how many gangs may hold a reservation at once, each "
                  "against the pool as the earlier ones leave it")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--reservation-timeout", args->reservation_timeout_s,
                  "Simulated seconds after which a reservation (EASY's head's, a gang's) lapses "
                  "if its job has not started; the job then waits as long again without one and "
                  "may reserve again. 0: never")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--preempt", args->preempt,
                "Let waiting jobs preempt running ones the order ranks below them (always on for "
                "las); a preempted job resumes with a checkpoint cost of 7/30/60 s");
  cmd->add_option("--seed", args->seed, "Seed of the estimator's draws and the placer")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Pools replayed in parallel (0 = one per core)")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Write a per-job CSV per policy into this directory");
  cmd->add_flag("--json", args->json, "Print one JSON object on stdout instead of the table");
  cmd->add_option("--queues", args->queues,
                  "vcs: the VCs as queues of one shared pool, each guaranteed its nodes' GPUs "
                  "(idle ones lent, reclaimed by preemption); vcs-hard: also limited to them; "
                  "or FILE, a queue file as `gpupool serve --queues` takes (each VC a queue of "
                  "it; its order: is the policy unless --policy is given). Jobs then never block "
                  "(backfill any) unless --strict");
  cmd->add_flag("--strict", args->strict,
                "With --queues: strict order per queue, as `gpupool serve --strict` (Kueue's "
                "StrictFIFO): a queue's first job that does not fit blocks the later jobs of its "
                "queue only; --backfill easy then lets them pass when they delay no reservation");
  cmd->add_option("--openb", args->openb,
                  "Replay an openb pod list (11-column form) with its real creation and deletion "
                  "times on --nodes instead of the Philly trace: pods arrive and leave, and the "
                  "run reports fragmentation and pending GPU demand over time");
  args->nodes = (DataDir() / "traces" / "openb" / "openb_node_list_gpu_node.csv").string();
  cmd->add_option("--nodes", args->nodes, "openb node list for --openb")->capture_default_str();
  cmd->add_option("--sample", args->sample_s,
                  "Sample fragmentation and pending demand every this many simulated seconds "
                  "(default: 3600 with --openb, none otherwise)");
  cmd->callback([args, &exit_code] { exit_code = RunReplayCommand(*args); });
}

}  // namespace gpupool::app

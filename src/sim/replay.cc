#include "sim/replay.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <queue>
#include <random>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "common/check.h"
#include "scheduler/duration_estimator.h"
#include "scheduler/scheduler.h"

namespace gpupool::sim {

namespace {

// The request of a job of `gpus` GPUs on nodes of `per_node` GPUs (see the header).
scheduler::JobRequest RequestFor(int gpus, int per_node) {
  scheduler::JobRequest r;
  const int size = gpus <= per_node ? gpus : std::gcd(gpus, per_node);
  r.replica.num_gpu = size;
  r.replica.gpu_milli = size > 0 ? 1000 : 0;
  r.replicas = gpus <= per_node ? 1 : gpus / size;
  return r;
}

// GPU milli of a whole job.
double JobMilli(const TraceJob& j) {
  return j.request ? static_cast<double>(j.request->total_gpu_milli())
                   : 1000.0 * static_cast<double>(j.num_gpus);
}

// A pool's totals at a sample time (summed over pools before they become percentages).
struct RawSample {
  double capacity_milli = 0;
  double allocated_milli = 0;
  double fragmented_milli = 0;
  double pending_milli = 0;
};

struct PoolInput {
  const ReplayPool* pool = nullptr;
  std::vector<std::size_t> jobs;  // indices into the trace, in trace order
};

// Helios' checkpoint cost of a preemption: 7 s for 1 GPU, 30 s up to 8, 60 s above.
std::int64_t CheckpointCost(int gpus) { return gpus <= 1 ? 7 : gpus <= 8 ? 30 : 60; }

// Replays one pool; writes start, end and run time of its jobs into `out` (indexed like the
// trace) and counts its preemptions.
Status ReplayPoolJobs(const std::vector<TraceJob>& trace, const PoolInput& in,
                      const std::vector<std::int64_t>& estimates, const ReplayOptions& opt,
                      std::vector<ReplayedJob>& out, std::int64_t& preemptions,
                      std::vector<RawSample>& samples) {
  std::vector<cluster::NodeSpec> nodes = in.pool->specs;
  if (nodes.empty()) nodes.resize(static_cast<std::size_t>(in.pool->nodes));
  for (std::size_t i = 0; i < nodes.size() && in.pool->specs.empty(); ++i) {
    nodes[i].name =
        (in.pool->name.empty() ? std::string("node") : in.pool->name) + "-" + std::to_string(i);
    nodes[i].cpu_milli = 64000;
    nodes[i].memory_mib = std::int64_t{512} * 1024;
    nodes[i].gpus.assign(static_cast<std::size_t>(in.pool->gpus_per_node),
                         cluster::GpuSpec{"gpu", 0, "", -1});
  }
  scheduler::SchedulerOptions so;
  so.policy = opt.placement;
  // The policy's own window and the service's deferral (fgd-window lets a share wait one cycle
  // for a partner; the replay runs that cycle one simulated second later, as the service a tick
  // later); strict order places one job at a time.
  so.window = 0;
  so.seed = opt.seed;
  so.order = opt.order;
  so.strict_order = opt.strict_order;
  so.preemption = opt.preemption;
  so.easy_backfill = opt.easy_backfill;
  so.gang_reservation = opt.gang_reservation;
  so.reservation_timeout_s = opt.reservation_timeout_s;
  so.max_reservations = opt.max_reservations;
  so.reserve_wide_jobs = opt.reserve_wide_jobs;
  so.queues = opt.queues;
  so.placer.index_order = true;  // ties to the lowest node index, as the artifact's placer
  auto created = scheduler::Scheduler::Create(nodes, so);
  if (!created) return created.error();
  scheduler::Scheduler& s = **created;

  // What the jobs of this pool that have finished tell of a new one, at its submission: its
  // expected run time (--estimator learned) and its class's Gittins profile (`gittins`).
  const bool learned = opt.estimator == "learned";
  const bool profiles = s.order().reads_service_profile();
  scheduler::DurationEstimator estimator;
  // Per job (indexed like the trace): run time still to go, when its current run began, how
  // long it has run in all, and a generation that outdates the events of an earlier run.
  std::unordered_map<std::size_t, std::int64_t> remaining, run_start, ran;
  std::unordered_map<std::size_t, int> generation;
  // (time, job = trace index + 1, generation): ends of runs and LAS level crossings.
  using Event = std::tuple<std::int64_t, scheduler::JobId, int>;
  using Heap = std::priority_queue<Event, std::vector<Event>, std::greater<>>;
  Heap ends;
  Heap crossings;
  std::int64_t running_count = 0;
  // A level crossing of a running job: when its attained GPU time reaches the order's next
  // boundary (a cycle then runs, so that waiting jobs of the level it leaves may preempt it).
  auto push_crossing = [&](scheduler::JobId id, std::int64_t t) {
    const auto k = static_cast<std::size_t>(id - 1);
    const auto boundary = s.order().NextBoundary(s.Attained(id));
    if (!boundary) return;
    const double gpus = trace[k].num_gpus;
    const auto dt =
        static_cast<std::int64_t>(std::ceil((*boundary - s.Attained(id)) / std::max(gpus, 1.0)));
    const std::int64_t when = t + std::max<std::int64_t>(dt, 1);
    if (when < run_start[k] + remaining[k]) crossings.emplace(when, id, generation[k]);
  };
  auto stale = [&](const Event& e) {
    const auto k = static_cast<std::size_t>(std::get<1>(e) - 1);
    return std::get<2>(e) != generation[k];
  };
  double pending_milli = 0;    // what the waiting jobs ask for
  std::int64_t retry_at = -1;  // a cycle one second after one that deferred a job
  // A cycle when a reservation lapses or a lapsed one may come back (reservation_timeout_s).
  std::int64_t reservation_at = -1;
  std::int64_t next_sample = 0;
  auto sample_until = [&](std::int64_t t) {  // the state since the last event holds until t
    if (opt.sample_every_s <= 0) return;
    for (; next_sample < t; next_sample += opt.sample_every_s) {
      const scheduler::PoolTotals totals = s.Totals();
      const auto k = static_cast<std::size_t>(next_sample / opt.sample_every_s);
      if (samples.size() <= k) samples.resize(k + 1);
      samples[k] = RawSample{static_cast<double>(totals.capacity_milli),
                             static_cast<double>(totals.allocated_milli), totals.fragmented_milli,
                             pending_milli};
    }
  };
  std::size_t next = 0;
  const std::size_t n = in.jobs.size();
  while (next < n || running_count > 0 || retry_at >= 0) {
    while (!ends.empty() && stale(ends.top())) ends.pop();
    while (!crossings.empty() && stale(crossings.top())) crossings.pop();
    std::int64_t t = next < n ? trace[in.jobs[next]].submit_s : INT64_MAX;
    if (!ends.empty()) t = std::min(t, std::get<0>(ends.top()));
    if (!crossings.empty()) t = std::min(t, std::get<0>(crossings.top()));
    if (retry_at >= 0) t = std::min(t, retry_at);
    if (reservation_at >= 0) t = std::min(t, reservation_at);
    retry_at = -1;
    sample_until(t);
    s.SetClock(static_cast<double>(t));
    while (!ends.empty() && std::get<0>(ends.top()) == t) {
      const auto [when, id, gen] = ends.top();
      ends.pop();
      const auto k = static_cast<std::size_t>(id - 1);
      if (gen != generation[k]) continue;
      const Status released = s.Release(id);
      GP_CHECK(released.ok());
      ran[k] += t - run_start[k];
      out[k].end_s = t;
      ++generation[k];
      --running_count;
      estimator.Observe(trace[k].user, trace[k].queue, trace[k].num_gpus, trace[k].duration_s,
                        JobMilli(trace[k]) / 1000.0);
    }
    bool crossed = false;  // a running job changed level: every waiting job is tried again
    while (!crossings.empty() && std::get<0>(crossings.top()) == t) {
      const auto [when, id, gen] = crossings.top();
      crossings.pop();
      if (gen != generation[static_cast<std::size_t>(id - 1)]) continue;
      crossed = true;
      push_crossing(id, t);
    }
    for (; next < n && trace[in.jobs[next]].submit_s == t; ++next) {
      const std::size_t k = in.jobs[next];
      const TraceJob& j = trace[k];
      scheduler::JobRequest r = RequestFor(j.num_gpus, in.pool->gpus_per_node);
      if (j.request) r.replica = *j.request;
      if (!opt.queues.empty()) r.queue = j.queue;
      r.time_limit_s = j.duration_s;  // the oracle sjf and srtf read (the trace has no limits)
      r.preemptible = opt.preemption;
      if (!estimates.empty()) r.duration_estimate_s = estimates[k];
      estimator.Inform(j.user, j.queue, j.num_gpus, learned, profiles, r);
      if (const Status feasible = s.CheckFeasible(r); !feasible.ok()) {
        if (opt.skip_never) {
          out[k].start_s = out[k].end_s = -2;  // left out
          continue;
        }
        return Status::InvalidArgument(
            "trace line " + std::to_string(j.line) + ": job of " + std::to_string(j.num_gpus) +
            " GPUs can never run in pool '" + in.pool->name + "': " + feasible.message());
      }
      remaining[k] = j.duration_s;
      pending_milli += JobMilli(j);
      GP_RETURN_IF_ERROR(s.AddPending(static_cast<scheduler::JobId>(k) + 1, r));
    }
    const scheduler::CycleResult cycle = s.RunCycle(/*full=*/crossed);
    if (cycle.deferred > 0) retry_at = t + 1;
    const std::optional<double> change = s.reservation_change_at();
    reservation_at = change ? static_cast<std::int64_t>(std::ceil(*change)) : -1;
    for (const scheduler::Reservation& r : s.reservations()) {
      if (!std::isfinite(r.at)) continue;
      std::int64_t& reserved = out[static_cast<std::size_t>(r.job - 1)].reserved_s;
      if (reserved < 0) reserved = std::llround(r.at);
    }
    for (const scheduler::JobId id : cycle.preempted) {
      const auto k = static_cast<std::size_t>(id - 1);
      const std::int64_t run = t - run_start[k];
      ran[k] += run;
      remaining[k] -= run;
      remaining[k] += CheckpointCost(trace[k].num_gpus);
      ++generation[k];
      --running_count;
      ++preemptions;
      pending_milli += JobMilli(trace[k]);
    }
    for (const auto& [id, placement] : cycle.placed) {
      const auto k = static_cast<std::size_t>(id - 1);
      if (out[k].start_s < 0) {
        out[k].start_s = t;
        for (const cluster::Allocation& a : placement) {
          ReplayedReplica& replica = out[k].placement.emplace_back();
          replica.node = s.node_spec(a.node).name;
          for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
            replica.gpus.push_back(std::countr_zero(m));
          }
        }
      }
      pending_milli -= JobMilli(trace[k]);
      run_start[k] = t;
      ++running_count;
      ends.emplace(t + remaining[k], id, generation[k]);
      push_crossing(id, t);
    }
  }
  for (const std::size_t k : in.jobs) out[k].run_s = ran[k];
  return Status::Ok();
}

double NearestRank(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

std::vector<ReplayPool> VcPools(const std::vector<std::pair<std::string, int>>& vcs, double scale,
                                int gpus_per_node) {
  std::vector<ReplayPool> pools;
  for (const auto& [vc, nodes] : vcs) {
    const int scaled =
        std::max(1, static_cast<int>(std::lround(static_cast<double>(nodes) * scale)));
    pools.push_back(ReplayPool{vc, scaled, gpus_per_node, {}});
  }
  return pools;
}

std::vector<std::int64_t> PhillyNoiseEstimates(const std::vector<TraceJob>& jobs,
                                               std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::int64_t> out;
  out.reserve(jobs.size());
  for (const TraceJob& j : jobs) {
    const double u = unit(rng);
    double e = 0;
    if (u <= 0.1) {
      e = (2 * unit(rng) - 1) * 0.1;
    } else {
      double lo = 10;
      double hi = 100;
      if (u <= 0.5) {
        lo = 0.1, hi = 0.5;
      } else if (u <= 0.7) {
        lo = 0.5, hi = 1;
      } else if (u <= 0.9) {
        lo = 1, hi = 10;
      }
      const double sign = unit(rng) < 0.5 ? -1.0 : 1.0;
      e = sign * (lo + (hi - lo) * unit(rng));
    }
    const auto x = static_cast<double>(j.duration_s);
    out.push_back(static_cast<std::int64_t>(x + x * e));  // truncated toward zero
  }
  return out;
}

Result<ReplayRun> Replay(const std::vector<TraceJob>& jobs, const std::vector<ReplayPool>& pools,
                         const ReplayOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  if (opt.estimator != "none" && opt.estimator != "philly-noise" && opt.estimator != "learned") {
    return Error(Status::InvalidArgument("estimator: unknown '" + opt.estimator +
                                         "'; known: none, learned, philly-noise"));
  }
  auto order = scheduler::MakeJobOrder(opt.order);
  if (!order) return Error(Status::InvalidArgument(order.error().message()));
  // Which pool takes each job.
  std::vector<PoolInput> inputs(pools.size());
  std::unordered_map<std::string, std::size_t> by_name;
  for (std::size_t p = 0; p < pools.size(); ++p) {
    if (pools[p].nodes < 1 || pools[p].gpus_per_node < 1) {
      return Error(Status::InvalidArgument("pool '" + pools[p].name + "': no nodes or no GPUs"));
    }
    inputs[p].pool = &pools[p];
    by_name.emplace(pools[p].name, p);
  }
  const auto any = by_name.find("");
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    auto it = by_name.find(jobs[k].queue);
    if (it == by_name.end()) it = any;
    if (it == by_name.end()) {
      return Error(Status::InvalidArgument("trace line " + std::to_string(jobs[k].line) +
                                           ": no pool takes queue '" + jobs[k].queue + "'"));
    }
    inputs[it->second].jobs.push_back(k);
  }
  const std::vector<std::int64_t> estimates = opt.estimator == "philly-noise"
                                                  ? PhillyNoiseEstimates(jobs, opt.seed)
                                                  : std::vector<std::int64_t>{};

  std::vector<ReplayedJob> out(jobs.size());
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    out[k] = ReplayedJob{
        jobs[k].id, jobs[k].queue, jobs[k].num_gpus, jobs[k].submit_s, -1, -1, 0, -1, {}};
  }
  // Pools are independent: biggest first over the threads.
  std::vector<std::size_t> todo(pools.size());
  std::iota(todo.begin(), todo.end(), 0);
  std::sort(todo.begin(), todo.end(), [&](std::size_t a, std::size_t b) {
    return inputs[a].jobs.size() > inputs[b].jobs.size();
  });
  std::vector<Status> status(pools.size());
  std::vector<std::int64_t> pool_preemptions(pools.size(), 0);
  std::vector<std::vector<RawSample>> pool_samples(pools.size());
  std::atomic<std::size_t> cursor{0};
  auto work = [&] {
    for (std::size_t i = cursor++; i < todo.size(); i = cursor++) {
      status[todo[i]] = ReplayPoolJobs(jobs, inputs[todo[i]], estimates, opt, out,
                                       pool_preemptions[todo[i]], pool_samples[todo[i]]);
    }
  };
  const int threads = std::max(
      1, std::min<int>(
             opt.threads > 0 ? opt.threads : static_cast<int>(std::thread::hardware_concurrency()),
             static_cast<int>(pools.size())));
  std::vector<std::thread> pool_threads;
  for (int i = 1; i < threads; ++i) pool_threads.emplace_back(work);
  work();
  for (auto& th : pool_threads) th.join();
  for (const Status& s : status) {
    if (!s.ok()) return Error(s);
  }

  ReplayRun run;
  run.order = opt.order;
  run.placement = opt.placement;
  run.strict_order = opt.strict_order;
  if (opt.easy_backfill && opt.order != "sjf" && opt.order != "srtf") {
    run.oracles.push_back("EASY backfill reads each job's actual duration as its time limit");
  }
  if (opt.order == "sjf" || opt.order == "srtf") {
    run.oracles.push_back(opt.order +
                          " reads each job's actual duration as its time limit (the trace has no "
                          "time limits), as the published replay does");
  }
  if (opt.estimator == "philly-noise") {
    run.oracles.push_back(
        "the duration estimate is the actual duration with the Helios "
        "artifact's random error (its Philly estimator)");
  }
  for (const std::int64_t p : pool_preemptions) run.preemptions += p;
  std::vector<double> jct;
  jct.reserve(jobs.size());
  double sum_jct = 0;
  double sum_queue = 0;
  double gpu_time = 0;
  std::int64_t first = INT64_MAX;
  std::int64_t last = 0;
  std::map<std::string, ReplayQueueStats> queues;
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    const ReplayedJob& o = out[k];
    if (o.start_s == -2) {  // left out: it could never run (skip_never)
      ++run.never;
      continue;
    }
    ++run.jobs;
    jct.push_back(static_cast<double>(o.end_s - o.submit_s));
    // Queueing: every second of its life the job did not run (before its first start and
    // between preemption and restart); the runs include the checkpoint costs.
    const auto queued = static_cast<double>(o.end_s - o.submit_s - o.run_s);
    sum_jct += jct.back();
    sum_queue += queued;
    gpu_time += static_cast<double>(o.run_s) * JobMilli(jobs[k]) / 1000.0;
    first = std::min(first, o.submit_s);
    last = std::max(last, o.end_s);
    ReplayQueueStats& q = queues[o.queue];
    q.queue = o.queue;
    ++q.jobs;
    q.avg_jct_s += jct.back();
    q.avg_queue_s += queued;
    q.gpu_seconds += static_cast<double>(o.run_s) * JobMilli(jobs[k]) / 1000.0;
    q.avg_slowdown += jct.back() / static_cast<double>(std::max<std::int64_t>(o.run_s, 1));
  }
  if (run.jobs > 0) {
    run.avg_jct_s = sum_jct / static_cast<double>(run.jobs);
    run.avg_queue_s = sum_queue / static_cast<double>(run.jobs);
    run.median_jct_s = NearestRank(jct, 0.5);
    run.p95_jct_s = NearestRank(jct, 0.95);
    run.makespan_s = last - first;
    double gpus = 0;
    for (const ReplayPool& p : pools) {
      if (p.specs.empty()) {
        gpus += static_cast<double>(p.nodes) * p.gpus_per_node;
      } else {
        for (const auto& spec : p.specs) gpus += static_cast<double>(spec.gpus.size());
      }
    }
    if (run.makespan_s > 0)
      run.utilization = gpu_time / (gpus * static_cast<double>(run.makespan_s));
  }
  double sum_slowdown = 0;
  double sum_slowdown_sq = 0;
  for (auto& [name, q] : queues) {
    q.avg_jct_s /= static_cast<double>(q.jobs);
    q.avg_queue_s /= static_cast<double>(q.jobs);
    q.avg_slowdown /= static_cast<double>(q.jobs);
    sum_slowdown += q.avg_slowdown;
    sum_slowdown_sq += q.avg_slowdown * q.avg_slowdown;
    run.queues.push_back(q);
  }
  if (run.queues.size() > 1 && sum_slowdown_sq > 0) {
    run.queue_fairness =
        sum_slowdown * sum_slowdown / (static_cast<double>(run.queues.size()) * sum_slowdown_sq);
  }
  // Samples: the pools' totals summed per sample time (a pool that has finished holds nothing but
  // its capacity, which stays).
  std::size_t num_samples = 0;
  for (const auto& ps : pool_samples) num_samples = std::max(num_samples, ps.size());
  double sum_frag = 0;
  double sum_pending = 0;
  for (std::size_t k = 0; k < num_samples; ++k) {
    RawSample total;
    for (std::size_t p = 0; p < pools.size(); ++p) {
      const auto& ps = pool_samples[p];
      if (k < ps.size()) {
        total.capacity_milli += ps[k].capacity_milli;
        total.allocated_milli += ps[k].allocated_milli;
        total.fragmented_milli += ps[k].fragmented_milli;
        total.pending_milli += ps[k].pending_milli;
      } else if (!ps.empty()) {
        total.capacity_milli += ps.back().capacity_milli;
      }
    }
    ReplaySample sample;
    sample.t_s = static_cast<std::int64_t>(k) * opt.sample_every_s;
    if (total.capacity_milli > 0) {
      sample.allocated_pct = 100.0 * total.allocated_milli / total.capacity_milli;
      sample.fragmented_pct = 100.0 * total.fragmented_milli / total.capacity_milli;
    }
    sample.pending_gpus = total.pending_milli / 1000.0;
    sum_frag += sample.fragmented_pct;
    sum_pending += sample.pending_gpus;
    run.samples.push_back(sample);
  }
  if (num_samples > 0) {
    run.mean_fragmented_pct = sum_frag / static_cast<double>(num_samples);
    run.mean_pending_gpus = sum_pending / static_cast<double>(num_samples);
  }
  run.outcomes = std::move(out);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace gpupool::sim

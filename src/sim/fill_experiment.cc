#include "sim/fill_experiment.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/check.h"
#include "common/rng.h"
#include "placement/fragmentation.h"
#include "placement/placer.h"
#include "placement/policy_registry.h"
#include "placement/window.h"
#include "placement/workload_learner.h"
#include "scheduler/scheduler.h"

namespace gpupool::sim {

Result<FillInput> LoadFillInput(const std::string& nodes_path, const std::string& pods_path) {
  FillInput in;
  auto nodes = LoadOpenbNodes(nodes_path);
  if (!nodes) return Error(nodes.error());
  in.nodes = std::move(*nodes);
  // Intern the cluster's models first so pod constraints can be checked against them.
  auto state = cluster::ClusterState::Build(in.nodes, in.models);
  if (!state) return Error(Status::InvalidArgument(nodes_path + ": " + state.error().message()));
  if (state->num_gpus() == 0)
    return Error(Status::InvalidArgument(nodes_path + ": the nodes hold no GPU"));
  auto pods = LoadOpenbPods(pods_path, in.models);
  if (!pods) return Error(pods.error());
  in.pods = std::move(*pods);
  std::vector<placement::WorkloadPod> wp;
  wp.reserve(in.pods.size());
  for (const auto& p : in.pods) wp.push_back({p.request, p.spec_key});
  in.workload = placement::Workload::FromPods(wp);
  std::string stem = std::filesystem::path(pods_path).stem().string();
  const std::string prefix = "openb_pod_list_";
  if (stem.rfind(prefix, 0) == 0) stem = stem.substr(prefix.size());
  in.trace_name = stem;
  return in;
}

std::vector<int> ArrivalOrder(const FillInput& in, std::uint64_t seed, double tune) {
  Rng rng(seed);
  std::vector<int> order(in.pods.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  rng.Shuffle(order);
  std::int64_t capacity = 0;
  for (const auto& n : in.nodes) capacity += 1000 * static_cast<std::int64_t>(n.gpus.size());
  const double target = tune * static_cast<double>(capacity);
  double total = 0;
  for (const int i : order)
    total += static_cast<double>(in.pods[static_cast<std::size_t>(i)].request.total_gpu_milli());
  if (total < target) {
    while (true) {
      const int draw = static_cast<int>(rng.Uniform(in.pods.size()));
      const auto& r = in.pods[static_cast<std::size_t>(draw)].request;
      // The spec's stop rule: the first draw whose per-GPU milli would take the total past target.
      if (total + r.gpu_milli > target) break;
      order.push_back(draw);
      total += static_cast<double>(r.total_gpu_milli());
    }
  } else {
    while (total > target && !order.empty()) {
      const auto k = static_cast<std::size_t>(rng.Uniform(order.size()));
      total -= static_cast<double>(
          in.pods[static_cast<std::size_t>(order[k])].request.total_gpu_milli());
      order.erase(order.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  return order;
}

std::vector<double> BinMeans(const std::vector<double>& arrived_fraction,
                             const std::vector<double>& values, int max_bin) {
  const auto bins = static_cast<std::size_t>(max_bin) + 1;
  std::vector<double> sum(bins, 0.0);
  std::vector<int> count(bins, 0);
  for (std::size_t i = 0; i < arrived_fraction.size(); ++i) {
    const double b = std::nearbyint(100.0 * arrived_fraction[i]);  // default rounding: half to even
    if (b < 0 || b > max_bin) continue;
    sum[static_cast<std::size_t>(b)] += values[i];
    ++count[static_cast<std::size_t>(b)];
  }
  std::vector<double> out(bins, std::nan(""));
  for (std::size_t x = 0; x < bins; ++x) {
    if (count[x] > 0) {
      out[x] = sum[x] / count[x];
      continue;
    }
    double s = 0;
    int c = 0;
    for (std::size_t y = (x == 0 ? 0 : x - 1); y <= x + 1 && y < bins; ++y) {
      s += sum[y];
      c += count[y];
    }
    if (c > 0) out[x] = s / c;
  }
  return out;
}

Result<FillRun> RunFill(const FillInput& in, const std::string& policy_name, std::uint64_t seed,
                        const FillOptions& opt) {
  // The paper's fixed node normalisers: the published figures assume them.
  placement::PolicyContext ctx{in.workload, /*paper_normalisers=*/true};
  auto policy = placement::MakePolicy(policy_name, ctx);
  if (!policy) return Error(policy.error());
  cluster::ModelTable models;
  auto built = cluster::ClusterState::Build(in.nodes, models);
  if (!built) return Error(built.error());
  cluster::ClusterState state = std::move(*built);
  const std::vector<int> order = ArrivalOrder(in, seed, opt.tune);

  const auto start = std::chrono::steady_clock::now();
  placement::Placer placer(**policy, state.num_nodes(), seed);
  std::vector<cluster::PodRequest> requests;
  std::vector<int> shapes;
  requests.reserve(order.size());
  shapes.reserve(order.size());
  for (const int i : order) {
    requests.push_back(in.pods[static_cast<std::size_t>(i)].request);
    shapes.push_back(placer.ShapeId(requests.back()));
  }

  // Fragmentation, kept incrementally: F of each node, updated when the node changes.
  std::vector<double> node_frag(static_cast<std::size_t>(state.num_nodes()));
  double frag_total = 0;
  for (int n = 0; n < state.num_nodes(); ++n) {
    node_frag[static_cast<std::size_t>(n)] = placement::NodeFragment(in.workload, state.node(n));
    frag_total += node_frag[static_cast<std::size_t>(n)];
  }
  const double capacity = static_cast<double>(state.gpu_capacity_milli());

  std::vector<double> arrived(order.size()), alloc(order.size()), frag_amount(order.size()),
      frag_ratio(order.size());
  FillRun run;
  run.policy = policy_name;
  run.seed = seed;
  double requested = 0;
  run.window = opt.batch > 0 ? opt.batch : (*policy)->default_window();
  std::vector<std::optional<cluster::Allocation>> decisions;
  // The window: the pods waiting to be placed (indices into `requests`, arrival order), and the
  // same as spans for PlaceWindow.
  std::vector<std::size_t> waiting;
  std::vector<cluster::PodRequest> win_requests;
  std::vector<int> win_shapes;
  std::vector<int> win_waited;
  std::vector<std::size_t> still_waiting;
  auto commit = [&](std::size_t /*index*/, const cluster::Allocation& a) {
    // Placement found it to fit: an error here is a bug.
    const Status committed = state.Allocate(a);
    GP_CHECK(committed.ok());
    const auto n = static_cast<std::size_t>(a.node);
    const double f = placement::NodeFragment(in.workload, state.node(a.node));
    frag_total += f - node_frag[n];
    node_frag[n] = f;
    ++run.pods_placed;
  };
  // --workload learned: the service's learner and re-derivation rule, with its defaults.
  const scheduler::SchedulerOptions service;
  placement::WorkloadLearner learner(service.workload_half_life);
  std::int64_t learned_at = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    requested += static_cast<double>(requests[i].total_gpu_milli());
    const bool last = (i + 1 == order.size());
    if (opt.learned_workload) learner.Observe(requests[i]);
    // Every arrival is a call: the policy places what it will and defers the rest (placement/
    // window.h). Deferred pods count as arrived and not allocated.
    waiting.push_back(i);
    if (opt.learned_workload && learner.Stale(learned_at, service.relearn_every)) {
      (*policy)->SetWorkload(learner.Current());
      placer.InvalidateScores();
      learned_at = learner.observed();
    }
    win_requests.clear();
    win_shapes.clear();
    win_waited.clear();
    for (const std::size_t k : waiting) {
      win_requests.push_back(requests[k]);
      win_shapes.push_back(shapes[k]);
      win_waited.push_back(static_cast<int>(i - k));
    }
    still_waiting.clear();
    placement::PlaceWindow(placer, win_requests, win_shapes,
                           placement::WindowTiming{win_waited, run.window, last}, state, commit,
                           [&](std::size_t index) { still_waiting.push_back(waiting[index]); });
    std::sort(still_waiting.begin(), still_waiting.end());
    waiting.swap(still_waiting);
    arrived[i] = requested / capacity;
    alloc[i] = 100.0 * static_cast<double>(state.gpu_allocated_milli()) / capacity;
    frag_amount[i] = 100.0 * frag_total / capacity;
    const double idle = capacity - static_cast<double>(state.gpu_allocated_milli());
    frag_ratio[i] = idle > 0 ? 100.0 * frag_total / idle : 0.0;
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.pods_arrived = static_cast<std::int64_t>(order.size());

  const int max_bin = static_cast<int>(std::lround(100.0 * opt.tune));
  run.curve.allocation_pct = BinMeans(arrived, alloc, max_bin);
  run.curve.frag_amount_pct = BinMeans(arrived, frag_amount, max_bin);
  run.curve.frag_ratio_pct = BinMeans(arrived, frag_ratio, max_bin);
  auto at = [](const std::vector<double>& v, int b) {
    return b < static_cast<int>(v.size()) ? v[static_cast<std::size_t>(b)] : std::nan("");
  };
  run.unallocated_at_100 = 100.0 - at(run.curve.allocation_pct, 100);
  run.allocation_at_130 = at(run.curve.allocation_pct, max_bin);
  run.frag_amount_at_100 = at(run.curve.frag_amount_pct, 100);
  run.frag_ratio_at_100 = at(run.curve.frag_ratio_pct, 100);
  return run;
}

Result<std::vector<FillRun>> RunFillGrid(const FillInput& in,
                                         const std::vector<std::string>& policies,
                                         const std::vector<std::uint64_t>& seeds,
                                         const FillOptions& opt, int threads,
                                         const std::function<void(int, int)>& progress) {
  struct Job {
    std::string policy;
    std::uint64_t seed;
  };
  std::vector<Job> jobs;
  for (const auto& p : policies) {
    for (auto s : seeds) jobs.push_back({p, s});
  }
  std::vector<FillRun> runs(jobs.size());
  std::vector<Status> errors(jobs.size());
  std::atomic<std::size_t> next{0};
  std::atomic<int> done{0};
  std::mutex progress_mu;
  if (threads <= 0) threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  auto worker = [&] {
    for (std::size_t j = next++; j < jobs.size(); j = next++) {
      auto r = RunFill(in, jobs[j].policy, jobs[j].seed, opt);
      if (r) {
        runs[j] = std::move(*r);
      } else {
        errors[j] = r.error();
      }
      const int d = ++done;
      if (progress) {
        std::lock_guard<std::mutex> lock(progress_mu);
        progress(d, static_cast<int>(jobs.size()));
      }
    }
  };
  std::vector<std::thread> pool;
  const int n = std::min<int>(threads, static_cast<int>(jobs.size()));
  for (int t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (const auto& e : errors) {
    if (!e.ok()) return Error(e);
  }
  return runs;
}

}  // namespace gpupool::sim

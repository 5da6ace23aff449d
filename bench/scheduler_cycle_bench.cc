// One scheduling cycle of the service's scheduler (src/scheduler/) with 10,000 pending jobs on
// 1,000 nodes (8 GPUs each, 4 GPU models). The jobs mix shares and whole GPUs in the proportions
// of the openb default trace (about 60 % shares of 100-900 milli, 30 % one whole GPU, 10 % 2, 4
// or 8 GPUs), drawn with a fixed seed.
//
//   BM_CycleFromEmpty   the pool is empty: most jobs are placed in the one cycle measured.
//   BM_CycleWhenFull    the pool was filled by an earlier cycle: the 10,000 pending jobs are all
//                       considered again (a full cycle) and none fits (a busy pool after a job
//                       ended somewhere; when nothing was freed the cycle tries new arrivals only).
//
//   build/bench/scheduler_cycle_bench
#include <benchmark/benchmark.h>

#include <random>

#include "scheduler/scheduler.h"

namespace {

using gpupool::scheduler::JobRequest;
using gpupool::scheduler::Scheduler;

std::vector<gpupool::cluster::NodeSpec> Nodes(int count) {
  const char* models[] = {"H100-SXM", "A100-SXM-80GB", "L40S", "V100"};
  std::vector<gpupool::cluster::NodeSpec> out;
  for (int i = 0; i < count; ++i) {
    gpupool::cluster::NodeSpec n;
    n.name = "node-" + std::to_string(i);
    n.cpu_milli = 128000;
    n.memory_mib = 1024 * 1024;
    for (int g = 0; g < 8; ++g) n.gpus.push_back({models[i % 4], 81920, "", -1});
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<JobRequest> Jobs(int count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<JobRequest> out;
  for (int i = 0; i < count; ++i) {
    JobRequest r;
    r.replica.cpu_milli = 4000;
    r.replica.memory_mib = 16384;
    const auto u = rng() % 100;
    if (u < 60) {
      r.replica.num_gpu = 1;
      r.replica.gpu_milli = 100 * static_cast<int>(1 + rng() % 9);
    } else if (u < 90) {
      r.replica.num_gpu = 1;
      r.replica.gpu_milli = 1000;
    } else {
      r.replica.num_gpu = 1 << (1 + rng() % 3);
      r.replica.gpu_milli = 1000;
    }
    r.priority = static_cast<int>(rng() % 3);
    out.push_back(r);
  }
  return out;
}

std::unique_ptr<Scheduler> Make(const std::vector<gpupool::cluster::NodeSpec>& nodes,
                                const std::vector<JobRequest>& jobs, std::int64_t first_id) {
  gpupool::scheduler::SchedulerOptions opt;
  auto s = std::move(*Scheduler::Create(nodes, opt));
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    (void)s->AddPending(first_id + static_cast<std::int64_t>(i), jobs[i]);
  }
  return s;
}

void BM_CycleFromEmpty(benchmark::State& state) {
  const auto nodes = Nodes(1000);
  const auto jobs = Jobs(10000, 42);
  std::size_t placed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto s = Make(nodes, jobs, 1);
    state.ResumeTiming();
    placed = s->RunCycle().placed.size();
    state.PauseTiming();
    s.reset();
    state.ResumeTiming();
  }
  state.counters["placed"] = static_cast<double>(placed);
}
BENCHMARK(BM_CycleFromEmpty)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_CycleWhenFull(benchmark::State& state) {
  const auto nodes = Nodes(1000);
  auto s = Make(nodes, Jobs(20000, 7), 1);
  s->RunCycle();  // fills the pool; what did not fit leaves the queue
  for (std::int64_t id = 1; id <= 20000; ++id) {
    if (s->is_pending(id)) (void)s->RemovePending(id);
  }
  for (const auto& r : Jobs(10000, 42)) {
    static std::int64_t id = 100000;
    (void)s->AddPending(id++, r);
  }
  std::size_t considered = 0;
  for (auto _ : state) {
    considered = static_cast<std::size_t>(s->RunCycle(/*full=*/true).considered);
  }
  state.counters["pending"] = static_cast<double>(considered);
}
BENCHMARK(BM_CycleWhenFull)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

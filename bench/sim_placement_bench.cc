// Google Benchmark of the placement decision (Placer::Place) inside the openb fill experiment,
// at the trace's 1,213 nodes and at 10,000 nodes (the node list repeated, pods resampled to the
// same 130 % of the larger capacity). Each benchmark iteration is one whole fill run; every
// decision is timed on its own and the counters report p50 and p99 in microseconds.
//
//   build/bench/sim_placement_bench [--benchmark_filter=fgd]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/data_dir.h"
#include "placement/placer.h"
#include "placement/policy_registry.h"
#include "sim/fill_experiment.h"

namespace gpupool {
namespace {

const sim::FillInput& Input(int copies) {
  static std::vector<std::unique_ptr<sim::FillInput>> cache(16);
  auto& slot = cache[static_cast<std::size_t>(copies)];
  if (!slot) {
    const std::string dir = (DataDir() / "traces" / "openb").string() + "/";
    auto in = sim::LoadFillInput(dir + "openb_node_list_gpu_node.csv",
                                 dir + "openb_pod_list_default.csv");
    if (!in) {
      std::fprintf(stderr, "%s\n", in.error().ToString().c_str());
      std::abort();
    }
    const auto base = in->nodes;
    in->nodes.clear();
    for (int c = 0; c < copies; ++c) {
      for (auto n : base) {
        n.name += "-" + std::to_string(c);
        in->nodes.push_back(n);
        if (copies > 1 && in->nodes.size() == 10000) break;
      }
    }
    slot = std::make_unique<sim::FillInput>(std::move(*in));
  }
  return *slot;
}

void BM_PlaceDecision(benchmark::State& state, const std::string& policy_name, int copies) {
  const sim::FillInput& in = Input(copies);
  placement::PolicyContext ctx{in.workload, /*paper_normalisers=*/true};
  auto policy = placement::MakePolicy(policy_name, ctx);
  std::vector<double> micros;
  std::uint64_t seed = 42;
  for (auto _ : state) {
    state.PauseTiming();
    cluster::ModelTable models;
    auto cs = cluster::ClusterState::Build(in.nodes, models);
    const auto order = sim::ArrivalOrder(in, seed, 1.3);
    placement::Placer placer(**policy, cs->num_nodes(), seed);
    ++seed;
    state.ResumeTiming();
    for (const int i : order) {
      const auto& r = in.pods[static_cast<std::size_t>(i)].request;
      const auto t0 = std::chrono::steady_clock::now();
      auto a = placer.Place(r, *cs);
      const auto t1 = std::chrono::steady_clock::now();
      micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      if (a && !cs->Allocate(*a).ok()) std::abort();
    }
  }
  std::sort(micros.begin(), micros.end());
  auto pct = [&](double p) {
    return micros.empty()
               ? 0.0
               : micros[static_cast<std::size_t>(p * static_cast<double>(micros.size() - 1))];
  };
  state.counters["nodes"] = static_cast<double>(in.nodes.size());
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["decisions"] =
      benchmark::Counter(static_cast<double>(micros.size()), benchmark::Counter::kIsRate);
}

void Register() {
  for (const std::string p : {"fgd", "bestfit", "packing"}) {
    benchmark::RegisterBenchmark(("place/" + p + "/1213_nodes").c_str(), BM_PlaceDecision, p, 1)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    benchmark::RegisterBenchmark(("place/" + p + "/10000_nodes").c_str(), BM_PlaceDecision, p, 9)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
  }
}

}  // namespace
}  // namespace gpupool

int main(int argc, char** argv) {
  gpupool::Register();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

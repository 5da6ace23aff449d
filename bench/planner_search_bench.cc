// Layout search speed: every layout of a 70B model on 1,024 H100 (goal: under 100 ms), and one
// training estimate. GPU figures are written out here (H100 SXM from ../shared/specs/hardware.md)
// so the benchmark does not depend on the catalog files.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "common/data_dir.h"

#include "planner/layout_search.h"
#include "planner/model_loader.h"

namespace {

using namespace gpupool;
using namespace gpupool::planner;

hw::GpuModel H100() {
  hw::GpuModel g;
  g.name = "H100-SXM";
  g.memory_gib.value = 80;
  g.memory_bandwidth_gbs.value = 3350;
  g.scale_up_bandwidth_gbs.value = 900;
  g.dense_tflops[hw::Precision::kBf16].value = 989;
  g.dense_tflops[hw::Precision::kFp16].value = 989;
  g.dense_tflops[hw::Precision::kFp8].value = 1979;
  return g;
}

ModelProfile Llama70b() {
  auto m = LoadModel("Llama-3-70B", DataDir() / "models");
  return MakeProfile(m.value());
}

SearchOptions Options() {
  SearchOptions so;
  so.base.seq = 4096;
  so.base.fabric.scale_up = LinkTier{"NVLink4", 450, 5, 0.8};
  so.base.fabric.scale_out = LinkTier{"IB-NDR", 50, 10, 0.9};
  so.base.fabric.gpus_per_node = 8;
  return so;
}

void BM_SearchLayouts70bOn1024(benchmark::State& state) {
  const ModelProfile p = Llama70b();
  const hw::GpuModel g = H100();
  const SearchOptions so = Options();
  int64_t evaluated = 0;
  for (auto _ : state) {
    SearchResult r = SearchLayouts(p, g, 1024, so);
    evaluated = r.evaluated;
    benchmark::DoNotOptimize(r);
  }
  state.counters["layouts"] = static_cast<double>(evaluated);
}
BENCHMARK(BM_SearchLayouts70bOn1024)->Unit(benchmark::kMillisecond);

void BM_EstimateTraining70b(benchmark::State& state) {
  const ModelProfile p = Llama70b();
  const hw::GpuModel g = H100();
  TrainOptions o = Options().base;
  o.gpus = 1024;
  o.layout.tp = 8;
  o.layout.pp = 4;
  for (auto _ : state) benchmark::DoNotOptimize(EstimateTraining(p, g, o));
}
BENCHMARK(BM_EstimateTraining70b)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

// Layout search speed: every layout of a 70B model on 1,024 H100 (goal: under 100 ms), and one
// training estimate. The GPU and the fabric (NVLink inside a node, InfiniBand NDR between nodes)
// come from the bundled hardware catalog, as `gpupool plan --gpu H100-SXM` takes them.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <stdexcept>

#include "common/data_dir.h"
#include "hw/catalog.h"
#include "planner/fabric.h"
#include "planner/kernel_efficiency.h"
#include "planner/layout_search.h"
#include "planner/model_loader.h"

namespace {

using namespace gpupool;
using namespace gpupool::planner;

const hw::GpuModel& H100() {
  static const hw::GpuModel* g = [] {
    auto catalog = hw::Catalog::Default();
    if (!catalog) throw std::runtime_error(catalog.error().ToString());
    auto gpu = (*catalog)->FindGpu("H100-SXM");
    if (!gpu) throw std::runtime_error(gpu.error().ToString());
    return *gpu;
  }();
  return *g;
}

ModelProfile Llama70b() {
  auto m = LoadModel("Llama-3-70B", DataDir() / "models");
  return MakeProfile(m.value());
}

SearchOptions Options() {
  SearchOptions so;
  so.base.seq = 4096;
  auto fabric = CatalogFabric(**hw::Catalog::Default(), H100(), "IB-NDR");
  if (!fabric) throw std::runtime_error(fabric.error().ToString());
  so.base.fabric = *fabric;
  auto kernels = LoadKernelEfficiency((DataDir() / kKernelEfficiencyFile).string());
  if (!kernels) throw std::runtime_error(kernels.error().ToString());
  so.base.kernels = KernelEfficiencyFor(*kernels, H100());
  return so;
}

void BM_SearchLayouts70bOn1024(benchmark::State& state) {
  const ModelProfile p = Llama70b();
  const hw::GpuModel& g = H100();
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
  const hw::GpuModel& g = H100();
  TrainOptions o = Options().base;
  o.gpus = 1024;
  o.layout.tp = 8;
  o.layout.pp = 4;
  for (auto _ : state) benchmark::DoNotOptimize(EstimateTraining(p, g, o));
}
BENCHMARK(BM_EstimateTraining70b)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

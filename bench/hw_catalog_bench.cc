// Costs of the hardware catalog: loading data/hw (once per process in practice), a name look-up
// (the planner does one per command), and checking every catalog server against a 20-line sheet.
// Not run as a test; numbers go in docs/hw.md when they matter.
#include <benchmark/benchmark.h>

#include <string>

#include "common/data_dir.h"
#include "hw/catalog.h"
#include "hw/requirements.h"

namespace {

using gpupool::hw::Catalog;

const std::string& CatalogDir() {
  static const std::string dir = (gpupool::DataDir() / "hw").string();
  return dir;
}

void BM_LoadCatalog(benchmark::State& state) {
  for (auto _ : state) {
    auto c = Catalog::Load(CatalogDir());
    if (!c) state.SkipWithError(c.error().ToString().c_str());
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_LoadCatalog)->Unit(benchmark::kMillisecond);

void BM_FindGpu(benchmark::State& state) {
  auto c = Catalog::Load(CatalogDir());
  if (!c) {
    state.SkipWithError(c.error().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    auto g = c->FindGpu("a100-sxm4-80gb");
    benchmark::DoNotOptimize(g);
  }
}
BENCHMARK(BM_FindGpu);

constexpr const char* kSheet = R"(name: bench
requirements:
  - cpu.arch == x86
  - cpu.sockets >= 2
  - cpu.cores_per_socket >= 48
  - cpu.base_ghz >= 2.1
  - memory.gb >= 2048
  - memory.type == DDR5
  - memory.dimms >= 32
  - memory.dimm_gb >= 64
  - memory.mhz >= 4800
  - drives[sata-ssd, 480GB] >= 2
  - drives[nvme, 7.68TB] >= 2
  - nics[ib, 400G] >= 4
  - nics[ib, 200G] >= 2
  - gpu.count >= 8
  - gpu.fp32_tflops >= 60
  - gpu.fp16_tflops >= 1900
  - gpu.memory_gb >= 80
  - gpu.p2p_gbs >= 900
  - nics[ethernet, 25G, 2-port] >= 1
  - psus.hot_swap >= 4
)";

void BM_CheckServers(benchmark::State& state) {
  auto c = Catalog::Load(CatalogDir());
  auto sheet = gpupool::hw::ParseRequirementSheet(kSheet, "bench.yaml");
  if (!c || !sheet) {
    state.SkipWithError("catalog or sheet failed to load");
    return;
  }
  for (auto _ : state) {
    auto checks = gpupool::hw::CheckServers(*c, *sheet);
    benchmark::DoNotOptimize(checks);
  }
}
BENCHMARK(BM_CheckServers)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

// What the CUDA shim adds to a driver call, against the fake driver (tests/shim/fake_cuda.cc):
// the same entry point called in the fake directly (the baseline) and through
// libgpupool-cuda.so, loaded with dlopen in this process and pointed at the fake with
// GPUPOOL_SHIM_CUDA_LIBRARY.
//
// The shim reads its configuration once per process, so the share is chosen by the environment
// of the run (defaults below): GPUPOOL_GPU_MILLI=500 (launches paced; the kernel "k0" runs 0 ns,
// so its cost is 0 and the pacer never waits: this is the paced path's own overhead) or
// GPUPOOL_GPU_MILLI=1000 (a whole GPU: launches not paced), e.g.
//   build/bench/shim_overhead_bench
//   GPUPOOL_GPU_MILLI=1000 build/bench/shim_overhead_bench --benchmark_filter=Launch
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "shim/cuda_api.h"
#include "shim/shared_region.h"

namespace {

struct Api {
  decltype(&cuMemAlloc_v2) alloc = nullptr;
  decltype(&cuMemFree_v2) free = nullptr;
  decltype(&cuLaunchKernel) launch = nullptr;
  decltype(&cuMemGetInfo_v2) info = nullptr;
};

Api g_fake;
Api g_shim;
CUfunction g_kernel = nullptr;

template <typename Fn>
void Resolve(void* h, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(h, name));
  if (out == nullptr) {
    std::fprintf(stderr, "%s: %s\n", name, dlerror());
    std::exit(1);
  }
}

void Load() {
  setenv("GPUPOOL_SHIM_CUDA_LIBRARY", FAKE_CUDA_LIBRARY, 1);
  setenv("GPUPOOL_JOB_ID", std::to_string(900000000 + getpid()).c_str(), 1);
  setenv("GPUPOOL_GPU_MILLI", "500", 0);
  setenv("GPUPOOL_GPU_MEMORY_MIB", "8192", 0);
  void* fake = dlopen(FAKE_CUDA_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  void* shim = dlopen(SHIM_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  if (fake == nullptr || shim == nullptr) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    std::exit(1);
  }
  for (auto [h, api] : {std::pair{fake, &g_fake}, std::pair{shim, &g_shim}}) {
    Resolve(h, "cuMemAlloc_v2", api->alloc);
    Resolve(h, "cuMemFree_v2", api->free);
    Resolve(h, "cuLaunchKernel", api->launch);
    Resolve(h, "cuMemGetInfo_v2", api->info);
  }
  decltype(&cuModuleGetFunction) get_function = nullptr;
  Resolve(fake, "cuModuleGetFunction", get_function);
  get_function(&g_kernel, nullptr, "k0");
}

void AllocFree(benchmark::State& state, const Api& api) {
  for (auto _ : state) {
    CUdeviceptr p = 0;
    if (api.alloc(&p, 1 << 20) != CUDA_SUCCESS || api.free(p) != CUDA_SUCCESS) {
      state.SkipWithError("alloc/free failed");
      break;
    }
  }
}

void Launch(benchmark::State& state, const Api& api) {
  for (auto _ : state) {
    if (api.launch(g_kernel, 132, 1, 1, 128, 1, 1, 0, nullptr, nullptr, nullptr) != CUDA_SUCCESS) {
      state.SkipWithError("launch failed");
      break;
    }
  }
}

void GetInfo(benchmark::State& state, const Api& api) {
  for (auto _ : state) {
    std::size_t free_bytes = 0;
    std::size_t total = 0;
    benchmark::DoNotOptimize(api.info(&free_bytes, &total));
  }
}

void BM_AllocFreeFake(benchmark::State& s) { AllocFree(s, g_fake); }
void BM_AllocFreeShim(benchmark::State& s) { AllocFree(s, g_shim); }
void BM_LaunchFake(benchmark::State& s) { Launch(s, g_fake); }
void BM_LaunchShim(benchmark::State& s) { Launch(s, g_shim); }
void BM_MemGetInfoFake(benchmark::State& s) { GetInfo(s, g_fake); }
void BM_MemGetInfoShim(benchmark::State& s) { GetInfo(s, g_shim); }

BENCHMARK(BM_AllocFreeFake);
BENCHMARK(BM_AllocFreeShim);
BENCHMARK(BM_AllocFreeShim)->Threads(2);
BENCHMARK(BM_LaunchFake);
BENCHMARK(BM_LaunchShim);
BENCHMARK(BM_LaunchShim)->Threads(2);
BENCHMARK(BM_MemGetInfoFake);
BENCHMARK(BM_MemGetInfoShim);

}  // namespace

int main(int argc, char** argv) {
  Load();
  std::printf("GPUPOOL_GPU_MILLI=%s GPUPOOL_GPU_MEMORY_MIB=%s\n", getenv("GPUPOOL_GPU_MILLI"),
              getenv("GPUPOOL_GPU_MEMORY_MIB"));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const char* job = getenv("GPUPOOL_JOB_ID");
  gpupool::shim::SharedRegion::Unlink(gpupool::shim::SharedRegion::RegionName(
      std::atoll(job), 0, "GPU-fa4ec0da-0000-0000-0000-000000000000"));
  return 0;
}

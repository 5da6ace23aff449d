// shim_gpu_check: the CUDA shim on a real GPU (bench/shim_gpu_check.sh runs it). Needs no CUDA to
// build: the driver is declared by shim/cuda_api.h and loaded with dlopen, as a program that
// finds the driver at run time does (so with the shim preloaded, its dlsym and cuGetProcAddress
// routes are the ones exercised), and the kernel is PTX text handed to cuModuleLoadData.
//
// Modes (one per run: the shim reads its share once per process):
//   memory <path>...   with GPUPOOL_GPU_MEMORY_MIB set: on each path, allocates 64 MiB pieces until
//                      refused and prints "memory <path> granted=<MiB> cap=<MiB> info_total=<MiB>
//                      info_free_after=<MiB>"; then frees them and checks info free again. Paths:
//                      alloc pitch managed async pool array array3d mipmap vmm
//   share <kernel_us> <seconds>   launches a full-GPU kernel of about kernel_us microseconds for
//                      about `seconds` and prints "share kernel_us=<us> measured_us=<us>
//                      launches=<n> gpu_s=<s> wall_s=<s> share=<gpu_s / wall_s>" (the kernel's
//                      length measured alone first, with events)
//   overhead <n>       n launches of an empty one-block kernel, host time per launch:
//                      "overhead launches=<n> ns_per_launch=<ns>"
// Exit code 0 when every call it needed worked; the figures are for the caller to judge.
#include <dlfcn.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "shim/cuda_api.h"

namespace {

// The spin kernel: runs until %globaltimer (nanoseconds) has advanced by `ns`. sm_70 PTX, which
// the driver compiles for any newer GPU.
constexpr const char* kPtx = R"(
.version 7.0
.target sm_70
.address_size 64
.visible .entry spin(.param .u64 ns)
{
  .reg .pred %p;
  .reg .b64 %rd<5>;
  ld.param.u64 %rd1, [ns];
  mov.u64 %rd2, %globaltimer;
LOOP:
  mov.u64 %rd3, %globaltimer;
  sub.u64 %rd4, %rd3, %rd2;
  setp.lt.u64 %p, %rd4, %rd1;
  @%p bra LOOP;
  ret;
}
)";

constexpr std::size_t kMiB = std::size_t{1} << 20;

struct Cuda {
#define GP_FN(name) decltype(&::name) name = nullptr;  // NOLINT(bugprone-macro-parentheses)
  GP_FN(cuInit)
  GP_FN(cuDeviceGet)
  GP_FN(cuDeviceGetAttribute)
  GP_FN(cuDevicePrimaryCtxRetain)
  GP_FN(cuCtxSetCurrent)
  GP_FN(cuCtxSynchronize)
  GP_FN(cuDeviceGetDefaultMemPool)
  GP_FN(cuMemGetAllocationGranularity)
  GP_FN(cuMemAddressReserve)
  GP_FN(cuMemAddressFree)
  GP_FN(cuMemMap)
  GP_FN(cuMemUnmap)
  GP_FN(cuModuleLoadData)
  GP_FN(cuModuleGetFunction)
  GP_FN(cuEventCreate)
  GP_FN(cuEventRecord)
  GP_FN(cuEventSynchronize)
  GP_FN(cuEventElapsedTime)
  GP_FN(cuStreamSynchronize)
  // Hooked by the shim: resolved through cuGetProcAddress (CUDA 12 signature), as the runtime does.
  GP_FN(cuMemAlloc_v2)
  GP_FN(cuMemAllocPitch_v2)
  GP_FN(cuMemAllocManaged)
  GP_FN(cuMemAllocAsync)
  GP_FN(cuMemAllocFromPoolAsync)
  GP_FN(cuMemFree_v2)
  GP_FN(cuMemFreeAsync)
  GP_FN(cuMemGetInfo_v2)
  GP_FN(cuArrayCreate_v2)
  GP_FN(cuArray3DCreate_v2)
  GP_FN(cuArrayDestroy)
  GP_FN(cuMipmappedArrayCreate)
  GP_FN(cuMipmappedArrayDestroy)
  GP_FN(cuMemCreate)
  GP_FN(cuMemRelease)
  GP_FN(cuLaunchKernel)
#undef GP_FN
};

Cuda g;

void Check(CUresult rc, const char* what) {
  if (rc != CUDA_SUCCESS) {
    std::fprintf(stderr, "%s failed: CUDA error %d\n", what, rc);
    std::exit(1);
  }
}

bool Load() {
  void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    std::fprintf(stderr, "cannot load libcuda.so.1: %s\n", dlerror());
    return false;
  }
#define GP_DLSYM(name) g.name = reinterpret_cast<decltype(g.name)>(dlsym(h, #name));
  GP_DLSYM(cuInit)
  GP_DLSYM(cuDeviceGet)
  GP_DLSYM(cuDeviceGetAttribute)
  GP_DLSYM(cuDevicePrimaryCtxRetain)
  GP_DLSYM(cuCtxSetCurrent)
  GP_DLSYM(cuCtxSynchronize)
  GP_DLSYM(cuDeviceGetDefaultMemPool)
  GP_DLSYM(cuMemGetAllocationGranularity)
  GP_DLSYM(cuMemAddressReserve)
  GP_DLSYM(cuMemAddressFree)
  GP_DLSYM(cuMemMap)
  GP_DLSYM(cuMemUnmap)
  GP_DLSYM(cuModuleLoadData)
  GP_DLSYM(cuModuleGetFunction)
  GP_DLSYM(cuEventCreate)
  GP_DLSYM(cuEventRecord)
  GP_DLSYM(cuEventSynchronize)
  GP_DLSYM(cuEventElapsedTime)
  GP_DLSYM(cuStreamSynchronize)
#undef GP_DLSYM
  auto get = reinterpret_cast<decltype(&cuGetProcAddress_v2)>(dlsym(h, "cuGetProcAddress_v2"));
  if (get == nullptr) {
    std::fprintf(stderr, "the driver has no cuGetProcAddress_v2 (CUDA 12 driver needed)\n");
    return false;
  }
#define GP_PROC(field, name)                                             \
  {                                                                      \
    void* p = nullptr;                                                   \
    CUdriverProcAddressQueryResult st = 0;                               \
    Check(get(name, &p, 12000, CU_GET_PROC_ADDRESS_DEFAULT, &st), name); \
    g.field = reinterpret_cast<decltype(g.field)>(p);                    \
  }
  GP_PROC(cuMemAlloc_v2, "cuMemAlloc")
  GP_PROC(cuMemAllocPitch_v2, "cuMemAllocPitch")
  GP_PROC(cuMemAllocManaged, "cuMemAllocManaged")
  GP_PROC(cuMemAllocAsync, "cuMemAllocAsync")
  GP_PROC(cuMemAllocFromPoolAsync, "cuMemAllocFromPoolAsync")
  GP_PROC(cuMemFree_v2, "cuMemFree")
  GP_PROC(cuMemFreeAsync, "cuMemFreeAsync")
  GP_PROC(cuMemGetInfo_v2, "cuMemGetInfo")
  GP_PROC(cuArrayCreate_v2, "cuArrayCreate")
  GP_PROC(cuArray3DCreate_v2, "cuArray3DCreate")
  GP_PROC(cuArrayDestroy, "cuArrayDestroy")
  GP_PROC(cuMipmappedArrayCreate, "cuMipmappedArrayCreate")
  GP_PROC(cuMipmappedArrayDestroy, "cuMipmappedArrayDestroy")
  GP_PROC(cuMemCreate, "cuMemCreate")
  GP_PROC(cuMemRelease, "cuMemRelease")
  GP_PROC(cuLaunchKernel, "cuLaunchKernel")
#undef GP_PROC
  Check(g.cuInit(0), "cuInit");
  CUdevice dev = 0;
  Check(g.cuDeviceGet(&dev, 0), "cuDeviceGet");
  CUcontext ctx = nullptr;
  Check(g.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
  Check(g.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  return true;
}

std::int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// One 64 MiB piece on `path`; false when refused (any error: the shim's is out of memory).
struct Piece {
  CUdeviceptr ptr = 0;
  CUarray array = nullptr;
  CUmipmappedArray mipmap = nullptr;
  CUmemGenericAllocationHandle handle = 0;
};

CUresult Take(const std::string& path, Piece* p) {
  constexpr std::size_t kBytes = 64 * kMiB;
  if (path == "alloc") return g.cuMemAlloc_v2(&p->ptr, kBytes);
  if (path == "pitch") {
    std::size_t pitch = 0;
    return g.cuMemAllocPitch_v2(&p->ptr, &pitch, kMiB, 64, 4);  // 64 rows of 1 MiB
  }
  if (path == "managed") return g.cuMemAllocManaged(&p->ptr, kBytes, CU_MEM_ATTACH_GLOBAL);
  if (path == "async") return g.cuMemAllocAsync(&p->ptr, kBytes, nullptr);
  if (path == "pool") {
    CUmemoryPool pool = nullptr;
    Check(g.cuDeviceGetDefaultMemPool(&pool, 0), "cuDeviceGetDefaultMemPool");
    return g.cuMemAllocFromPoolAsync(&p->ptr, kBytes, pool, nullptr);
  }
  if (path == "array") {  // 4096 x 4096 floats = 64 MiB
    const CUDA_ARRAY_DESCRIPTOR d{4096, 4096, CU_AD_FORMAT_FLOAT, 1};
    return g.cuArrayCreate_v2(&p->array, &d);
  }
  if (path == "array3d") {  // 256 x 256 x 256 floats = 64 MiB
    const CUDA_ARRAY3D_DESCRIPTOR d{256, 256, 256, CU_AD_FORMAT_FLOAT, 1, 0};
    return g.cuArray3DCreate_v2(&p->array, &d);
  }
  if (path == "mipmap") {
    const CUDA_ARRAY3D_DESCRIPTOR d{4096, 4096, 0, CU_AD_FORMAT_FLOAT, 1, 0};
    return g.cuMipmappedArrayCreate(&p->mipmap, &d, 1);
  }
  if (path == "vmm") {
    CUmemAllocationProp prop{};
    prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    prop.location.id = 0;
    const CUresult rc = g.cuMemCreate(&p->handle, kBytes, &prop, 0);
    if (rc != CUDA_SUCCESS) return rc;
    Check(g.cuMemAddressReserve(&p->ptr, kBytes, 0, 0, 0), "cuMemAddressReserve");
    Check(g.cuMemMap(p->ptr, kBytes, 0, p->handle, 0), "cuMemMap");
    return CUDA_SUCCESS;
  }
  std::fprintf(stderr, "unknown path %s\n", path.c_str());
  std::exit(2);
}

void Give(const std::string& path, const Piece& p) {
  constexpr std::size_t kBytes = 64 * kMiB;
  if (path == "array" || path == "array3d") {
    Check(g.cuArrayDestroy(p.array), "cuArrayDestroy");
  } else if (path == "mipmap") {
    Check(g.cuMipmappedArrayDestroy(p.mipmap), "cuMipmappedArrayDestroy");
  } else if (path == "vmm") {
    Check(g.cuMemUnmap(p.ptr, kBytes), "cuMemUnmap");
    Check(g.cuMemAddressFree(p.ptr, kBytes), "cuMemAddressFree");
    Check(g.cuMemRelease(p.handle), "cuMemRelease");
  } else if (path == "async" || path == "pool") {
    Check(g.cuMemFreeAsync(p.ptr, nullptr), "cuMemFreeAsync");
    Check(g.cuStreamSynchronize(nullptr), "cuStreamSynchronize");
  } else {
    Check(g.cuMemFree_v2(p.ptr), "cuMemFree");
  }
}

int Memory(const std::vector<std::string>& paths) {
  const char* cap_env = std::getenv("GPUPOOL_GPU_MEMORY_MIB");
  const long cap = cap_env != nullptr ? std::strtol(cap_env, nullptr, 10) : 0;
  for (const std::string& path : paths) {
    std::vector<Piece> pieces;
    for (int i = 0; i < 100000; ++i) {
      Piece p;
      if (Take(path, &p) != CUDA_SUCCESS) break;
      pieces.push_back(p);
    }
    std::size_t free_bytes = 0;
    std::size_t total = 0;
    Check(g.cuMemGetInfo_v2(&free_bytes, &total), "cuMemGetInfo");
    std::printf("memory %s granted=%zu cap=%ld info_total=%zu info_free_after=%zu", path.c_str(),
                pieces.size() * 64, cap, total / kMiB, free_bytes / kMiB);
    for (const Piece& p : pieces) Give(path, p);
    Check(g.cuMemGetInfo_v2(&free_bytes, &total), "cuMemGetInfo");
    std::printf(" info_free_freed=%zu\n", free_bytes / kMiB);
  }
  return 0;
}

CUfunction Spin() {
  CUmodule module = nullptr;
  Check(g.cuModuleLoadData(&module, kPtx), "cuModuleLoadData");
  CUfunction f = nullptr;
  Check(g.cuModuleGetFunction(&f, module, "spin"), "cuModuleGetFunction");
  return f;
}

int Share(double kernel_us, double seconds) {
  CUfunction f = Spin();
  int sms = 0;
  Check(g.cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0), "SM count");
  auto ns = static_cast<std::uint64_t>(kernel_us * 1000);
  void* params[] = {&ns};
  const auto blocks = static_cast<unsigned>(sms);  // one block per SM: the whole GPU
  // The kernel's length alone, with events (the mean of 20, after a warm-up).
  CUevent a = nullptr;
  CUevent b = nullptr;
  Check(g.cuEventCreate(&a, CU_EVENT_DEFAULT), "cuEventCreate");
  Check(g.cuEventCreate(&b, CU_EVENT_DEFAULT), "cuEventCreate");
  Check(g.cuLaunchKernel(f, blocks, 1, 1, 32, 1, 1, 0, nullptr, params, nullptr), "launch");
  Check(g.cuCtxSynchronize(), "sync");
  float total_ms = 0;
  for (int i = 0; i < 20; ++i) {
    Check(g.cuEventRecord(a, nullptr), "record");
    Check(g.cuLaunchKernel(f, blocks, 1, 1, 32, 1, 1, 0, nullptr, params, nullptr), "launch");
    Check(g.cuEventRecord(b, nullptr), "record");
    Check(g.cuEventSynchronize(b), "sync");
    float ms = 0;
    Check(g.cuEventElapsedTime(&ms, a, b), "elapsed");
    total_ms += ms;
  }
  const double measured_s = static_cast<double>(total_ms) / 20 / 1000;
  const std::int64_t t0 = NowNs();
  const auto until = t0 + static_cast<std::int64_t>(seconds * 1e9);
  long launches = 0;
  while (NowNs() < until) {
    Check(g.cuLaunchKernel(f, blocks, 1, 1, 32, 1, 1, 0, nullptr, params, nullptr), "launch");
    ++launches;
  }
  Check(g.cuCtxSynchronize(), "sync");
  const double wall_s = static_cast<double>(NowNs() - t0) / 1e9;
  const double gpu_s = measured_s * static_cast<double>(launches);
  std::printf(
      "share kernel_us=%.0f measured_us=%.1f launches=%ld gpu_s=%.3f wall_s=%.3f share=%.3f\n",
      kernel_us, measured_s * 1e6, launches, gpu_s, wall_s, gpu_s / wall_s);
  return 0;
}

int Overhead(long n) {
  CUfunction f = Spin();
  std::uint64_t ns = 0;
  void* params[] = {&ns};
  Check(g.cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, nullptr, params, nullptr), "launch");
  Check(g.cuCtxSynchronize(), "sync");
  // In batches of 1000 with a synchronisation between, so the launch queue never fills (a full
  // queue would make the launch wait for the GPU, which is not overhead).
  std::int64_t host_ns = 0;
  for (long done = 0; done < n; done += 1000) {
    const std::int64_t t0 = NowNs();
    for (int i = 0; i < 1000; ++i) {
      Check(g.cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, nullptr, params, nullptr), "launch");
    }
    host_ns += NowNs() - t0;
    Check(g.cuCtxSynchronize(), "sync");
  }
  std::printf("overhead launches=%ld ns_per_launch=%.0f\n", n,
              static_cast<double>(host_ns) / static_cast<double>(n));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: shim_gpu_check memory PATH... | share KERNEL_US SECONDS | overhead N\n");
    return 2;
  }
  if (!Load()) return 1;
  const std::string mode = argv[1];
  if (mode == "memory") return Memory(std::vector<std::string>(argv + 2, argv + argc));
  if (mode == "share" && argc == 4) return Share(std::atof(argv[2]), std::atof(argv[3]));
  if (mode == "overhead" && argc == 3) return Overhead(std::atol(argv[2]));
  std::fprintf(stderr, "bad arguments\n");
  return 2;
}

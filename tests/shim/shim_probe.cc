// shim_probe: the program the shim tests run with the shim preloaded over the fake driver
// (hooks_test.cc). It is linked against the fake libcuda.so.1, so its direct calls reach the shim
// as a program's calls to the driver do; it also reaches the driver through dlopen + dlsym and
// through cuGetProcAddress, as the CUDA runtime does.
//
// Each argument is one step, done in order; each step prints one line:
//   alloc:<path>:<MiB>   allocate; prints "alloc <path> <MiB> ok", "... oom" or "... error <rc>".
//                        Paths: direct, dlsym, proc11 (cuGetProcAddress, CUDA 11.3 signature),
//                        proc12 (cuGetProcAddress_v2, CUDA 12), pitch, managed, async, async_ptsz,
//                        pool, array, array3d, mipmap, vmm
//   free:<n>             frees the n-th allocation made (from 0) with its matching call
//   info                 cuMemGetInfo: "info free=<MiB> total=<MiB>" (whole MiB, rounded down)
//   driver               what the fake driver holds: "driver used=<MiB>"
//   sym:<name>           "sym <name> dlsym=<same|hooked> proc=<same|hooked>": whether dlsym and
//                        cuGetProcAddress gave the fake's own function or another (the shim's)
//   launch:<path>:<ns>:<blocks>:<count>   launches a kernel of <ns> ns <count> times, then
//                        synchronises; "launch busy=<fake GPU ns> wall=<ns>". Paths: kernel,
//                        ex, coop, proc (cuLaunchKernel through cuGetProcAddress), graph
//                        (cuGraphLaunch; the fake takes the kernel handle as a graph)
//   nvml:<libnvidia-ml path>   NVML's memory query for GPU 0, through dlsym: "nvml total=<MiB>
//                        used=<MiB> free=<MiB> v2 total=<MiB> used=<MiB> free=<MiB>"
//   touch:<file> / wait:<file>   create a file / wait until it exists (at most 30 s)
//   hang                 sleep until killed
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "discovery/nvml_api.h"
#include "shim/cuda_api.h"

extern "C" void* FakeCudaAddress(const char* name);
extern "C" std::uint64_t FakeCudaUsedBytes(int dev);
extern "C" std::int64_t FakeCudaBusyNs(int dev);

namespace {

constexpr std::size_t kMiB = std::size_t{1024} * 1024;

struct Allocation {
  std::string path;
  CUdeviceptr ptr = 0;
  CUarray array = nullptr;
  CUmipmappedArray mipmap = nullptr;
  CUmemGenericAllocationHandle handle = 0;
  std::size_t bytes = 0;
};

std::vector<Allocation> g_allocs;

void* Driver() {
  static void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  return h;
}

template <typename Fn>
Fn Dlsym(const char* name) {
  return reinterpret_cast<Fn>(dlsym(Driver(), name));
}

template <typename Fn>
Fn Proc(const char* name, int version, cuuint64_t flags) {
  void* p = nullptr;
  if (version >= 12000) {
    auto get = Dlsym<decltype(&cuGetProcAddress_v2)>("cuGetProcAddress_v2");
    CUdriverProcAddressQueryResult status = 0;
    if (get(name, &p, version, flags, &status) != CUDA_SUCCESS) return nullptr;
  } else {
    auto get = Dlsym<decltype(&cuGetProcAddress)>("cuGetProcAddress");
    if (get(name, &p, version, flags) != CUDA_SUCCESS) return nullptr;
  }
  return reinterpret_cast<Fn>(p);
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (;;) {
    const std::size_t colon = s.find(':', from);
    parts.push_back(s.substr(from, colon - from));
    if (colon == std::string::npos) return parts;
    from = colon + 1;
  }
}

CUresult Alloc(const std::string& path, std::size_t mib, Allocation* a) {
  const std::size_t bytes = mib * kMiB;
  a->path = path;
  a->bytes = bytes;
  if (path == "direct") return cuMemAlloc_v2(&a->ptr, bytes);
  if (path == "dlsym") return Dlsym<decltype(&cuMemAlloc_v2)>("cuMemAlloc_v2")(&a->ptr, bytes);
  if (path == "proc11")
    return Proc<decltype(&cuMemAlloc_v2)>("cuMemAlloc", 11030, 0)(&a->ptr, bytes);
  if (path == "proc12")
    return Proc<decltype(&cuMemAlloc_v2)>("cuMemAlloc", 12040, 0)(&a->ptr, bytes);
  if (path == "pitch") {
    std::size_t pitch = 0;
    return cuMemAllocPitch_v2(&a->ptr, &pitch, kMiB, mib, 4);  // mib rows of 1 MiB
  }
  if (path == "managed") return cuMemAllocManaged(&a->ptr, bytes, CU_MEM_ATTACH_GLOBAL);
  if (path == "async") return cuMemAllocAsync(&a->ptr, bytes, nullptr);
  if (path == "async_ptsz") {
    return Proc<decltype(&cuMemAllocAsync)>(
        "cuMemAllocAsync", 12040, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM)(&a->ptr, bytes,
                                                                                 nullptr);
  }
  if (path == "pool") {
    CUmemoryPool pool = nullptr;
    cuDeviceGetDefaultMemPool(&pool, 0);
    return cuMemAllocFromPoolAsync(&a->ptr, bytes, pool, nullptr);
  }
  // Arrays: rows of 262144 floats (1 MiB).
  if (path == "array") {
    const CUDA_ARRAY_DESCRIPTOR d{262144, mib, CU_AD_FORMAT_FLOAT, 1};
    return cuArrayCreate_v2(&a->array, &d);
  }
  if (path == "array3d") {
    const CUDA_ARRAY3D_DESCRIPTOR d{262144, 1, mib, CU_AD_FORMAT_FLOAT, 1, 0};
    return cuArray3DCreate_v2(&a->array, &d);
  }
  if (path == "mipmap") {
    const CUDA_ARRAY3D_DESCRIPTOR d{262144, mib, 0, CU_AD_FORMAT_FLOAT, 1, 0};
    return cuMipmappedArrayCreate(&a->mipmap, &d, 1);
  }
  if (path == "vmm") {
    CUmemAllocationProp prop{};
    prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    prop.location.id = 0;
    CUresult rc = cuMemCreate(&a->handle, bytes, &prop, 0);
    if (rc != CUDA_SUCCESS) return rc;
    cuMemAddressReserve(&a->ptr, bytes, 0, 0, 0);
    return cuMemMap(a->ptr, bytes, 0, a->handle, 0);
  }
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult Free(const Allocation& a) {
  if (a.path == "array" || a.path == "array3d") return cuArrayDestroy(a.array);
  if (a.path == "mipmap") return cuMipmappedArrayDestroy(a.mipmap);
  if (a.path == "vmm") {
    cuMemUnmap(a.ptr, a.bytes);
    cuMemAddressFree(a.ptr, a.bytes);
    return cuMemRelease(a.handle);
  }
  if (a.path == "async" || a.path == "pool") return cuMemFreeAsync(a.ptr, nullptr);
  if (a.path == "dlsym") return Dlsym<decltype(&cuMemFree_v2)>("cuMemFree_v2")(a.ptr);
  if (a.path == "proc12") return Proc<decltype(&cuMemFree_v2)>("cuMemFree", 12040, 0)(a.ptr);
  return cuMemFree_v2(a.ptr);
}

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

CUresult LaunchOnce(const std::string& path, CUfunction f, unsigned blocks) {
  if (path == "kernel")
    return cuLaunchKernel(f, blocks, 1, 1, 128, 1, 1, 0, nullptr, nullptr, nullptr);
  if (path == "coop") {
    return cuLaunchCooperativeKernel(f, blocks, 1, 1, 128, 1, 1, 0, nullptr, nullptr);
  }
  if (path == "ex") {
    CUlaunchConfig c{};
    c.gridDimX = blocks;
    c.gridDimY = c.gridDimZ = 1;
    c.blockDimX = 128;
    c.blockDimY = c.blockDimZ = 1;
    return cuLaunchKernelEx(&c, f, nullptr, nullptr);
  }
  if (path == "graph") return cuGraphLaunch(reinterpret_cast<CUgraphExec>(f), nullptr);
  static auto proc = Proc<decltype(&cuLaunchKernel)>("cuLaunchKernel", 12040, 0);
  return proc(f, blocks, 1, 1, 128, 1, 1, 0, nullptr, nullptr, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (cuInit(0) != CUDA_SUCCESS) {
    printf("init failed\n");
    return 3;
  }
  CUcontext ctx = nullptr;
  cuDevicePrimaryCtxRetain(&ctx, 0);
  cuCtxSetCurrent(ctx);
  for (int i = 1; i < argc; ++i) {
    const std::vector<std::string> p = Split(argv[i]);
    const std::string& op = p[0];
    if (op == "alloc" && p.size() == 3) {
      Allocation a;
      const CUresult rc = Alloc(p[1], std::stoul(p[2]), &a);
      if (rc == CUDA_SUCCESS) {
        g_allocs.push_back(a);
        printf("alloc %s %s ok\n", p[1].c_str(), p[2].c_str());
      } else if (rc == CUDA_ERROR_OUT_OF_MEMORY) {
        g_allocs.push_back(Allocation{});  // keeps the numbering of allocations by step
        printf("alloc %s %s oom\n", p[1].c_str(), p[2].c_str());
      } else {
        g_allocs.push_back(Allocation{});
        printf("alloc %s %s error %d\n", p[1].c_str(), p[2].c_str(), rc);
      }
    } else if (op == "free" && p.size() == 2) {
      const CUresult rc = Free(g_allocs.at(std::stoul(p[1])));
      printf("free %s %s\n", p[1].c_str(), rc == CUDA_SUCCESS ? "ok" : "error");
    } else if (op == "info") {
      std::size_t free_bytes = 0;
      std::size_t total = 0;
      cuMemGetInfo_v2(&free_bytes, &total);
      printf("info free=%zu total=%zu\n", free_bytes / kMiB, total / kMiB);
    } else if (op == "driver") {
      printf("driver used=%llu\n", static_cast<unsigned long long>(FakeCudaUsedBytes(0) / kMiB));
    } else if (op == "sym" && p.size() == 2) {
      void* own = FakeCudaAddress(p[1].c_str());
      void* via_dlsym = dlsym(Driver(), p[1].c_str());
      void* via_proc = Proc<void*>(p[1].c_str(), 12040, 0);
      printf("sym %s dlsym=%s proc=%s\n", p[1].c_str(), via_dlsym == own ? "same" : "hooked",
             via_proc == own ? "same" : "hooked");
    } else if (op == "launch" && p.size() == 5) {
      CUmodule m = nullptr;
      CUfunction f = nullptr;
      cuModuleLoadData(&m, "");
      cuModuleGetFunction(&f, m, ("k" + p[2]).c_str());
      const auto blocks = static_cast<unsigned>(std::stoul(p[3]));
      const long count = std::stol(p[4]);
      const std::int64_t busy0 = FakeCudaBusyNs(0);
      const std::int64_t t0 = NowNs();
      for (long n = 0; n < count; ++n) {
        if (LaunchOnce(p[1], f, blocks) != CUDA_SUCCESS) {
          printf("launch error\n");
          return 1;
        }
      }
      cuCtxSynchronize();
      printf("launch busy=%lld wall=%lld\n", static_cast<long long>(FakeCudaBusyNs(0) - busy0),
             static_cast<long long>(NowNs() - t0));
    } else if (op == "nvml" && p.size() == 2) {
      void* h = dlopen(p[1].c_str(), RTLD_NOW | RTLD_LOCAL);
      if (h == nullptr) {
        printf("nvml %s\n", dlerror());
        return 1;
      }
      auto init = reinterpret_cast<decltype(&nvmlInit_v2)>(dlsym(h, "nvmlInit_v2"));
      auto get = reinterpret_cast<decltype(&nvmlDeviceGetHandleByIndex_v2)>(
          dlsym(h, "nvmlDeviceGetHandleByIndex_v2"));
      auto info =
          reinterpret_cast<decltype(&nvmlDeviceGetMemoryInfo)>(dlsym(h, "nvmlDeviceGetMemoryInfo"));
      auto info2 = reinterpret_cast<decltype(&nvmlDeviceGetMemoryInfo_v2)>(
          dlsym(h, "nvmlDeviceGetMemoryInfo_v2"));
      nvmlDevice_t dev = nullptr;
      nvmlMemory_t m{};
      nvmlMemory_v2_t m2{};
      m2.version = kNvmlMemoryV2Version;
      if (init() != NVML_SUCCESS || get(0, &dev) != NVML_SUCCESS || info(dev, &m) != NVML_SUCCESS ||
          info2(dev, &m2) != NVML_SUCCESS) {
        printf("nvml error\n");
        return 1;
      }
      printf("nvml total=%llu used=%llu free=%llu v2 total=%llu used=%llu free=%llu\n",
             m.total / kMiB, m.used / kMiB, m.free / kMiB, m2.total / kMiB, m2.used / kMiB,
             m2.free / kMiB);
    } else if (op == "touch" && p.size() == 2) {
      const int fd = open(p[1].c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      if (fd >= 0) close(fd);
      printf("touch\n");
    } else if (op == "wait" && p.size() == 2) {
      for (int n = 0; n < 3000 && access(p[1].c_str(), F_OK) != 0; ++n) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      printf("wait\n");
    } else if (op == "hang") {
      for (;;) pause();
    } else {
      printf("bad step %s\n", argv[i]);
      return 2;
    }
  }
  return 0;
}

// The entry points of libgpupool-cuda.so: the CUDA driver API calls that take device memory,
// free it, report it or launch kernels, NVML's memory query, cuGetProcAddress and dlsym. Each hook
// does its accounting and calls the real driver; everything else in the driver is never touched.
// How an entry point reaches a program, and how the shim catches it (docs/shim.md):
//   - linked against libcuda.so.1: the preloaded library's symbol of the same name wins;
//   - dlopen + dlsym: the shim's dlsym returns its hook for a hooked name, the driver's symbol
//     otherwise;
//   - cuGetProcAddress (the CUDA runtime since 11.3): the shim's cuGetProcAddress asks the driver,
//     keeps what it returned as the real function of the matching hook and returns the hook.
// Each hook variant (cuLaunchKernel and cuLaunchKernel_ptsz are two) has its own slot for the
// real function, filled from whichever route came first; they are the same function.
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "discovery/nvml_api.h"
#include "shim/cuda_api.h"
#include "shim/pacer.h"
#include "shim/shared_region.h"
#include "shim/shim_config.h"
#include "shim/shim_info.h"

#define GP_EXPORT extern "C" __attribute__((visibility("default")))

namespace gpupool::shim {
namespace {

// ------------------------------------------------------------------ the hooked entry points

// X(symbol, name given to cuGetProcAddress, lowest CUDA version that name resolves to symbol,
//   per-thread-default-stream variant)
#define GP_SHIM_HOOKS(X)                                                  \
  X(cuInit, "cuInit", 0, false)                                           \
  X(cuMemAlloc_v2, "cuMemAlloc", 3020, false)                             \
  X(cuMemAllocPitch_v2, "cuMemAllocPitch", 3020, false)                   \
  X(cuMemAllocManaged, "cuMemAllocManaged", 0, false)                     \
  X(cuMemAllocAsync, "cuMemAllocAsync", 0, false)                         \
  X(cuMemAllocAsync_ptsz, "cuMemAllocAsync", 0, true)                     \
  X(cuMemAllocFromPoolAsync, "cuMemAllocFromPoolAsync", 0, false)         \
  X(cuMemAllocFromPoolAsync_ptsz, "cuMemAllocFromPoolAsync", 0, true)     \
  X(cuMemFree_v2, "cuMemFree", 3020, false)                               \
  X(cuMemFreeAsync, "cuMemFreeAsync", 0, false)                           \
  X(cuMemFreeAsync_ptsz, "cuMemFreeAsync", 0, true)                       \
  X(cuMemGetInfo_v2, "cuMemGetInfo", 3020, false)                         \
  X(cuArrayCreate_v2, "cuArrayCreate", 3020, false)                       \
  X(cuArray3DCreate_v2, "cuArray3DCreate", 3020, false)                   \
  X(cuArrayDestroy, "cuArrayDestroy", 0, false)                           \
  X(cuMipmappedArrayCreate, "cuMipmappedArrayCreate", 0, false)           \
  X(cuMipmappedArrayDestroy, "cuMipmappedArrayDestroy", 0, false)         \
  X(cuMemCreate, "cuMemCreate", 0, false)                                 \
  X(cuMemRelease, "cuMemRelease", 0, false)                               \
  X(cuLaunchKernel, "cuLaunchKernel", 0, false)                           \
  X(cuLaunchKernel_ptsz, "cuLaunchKernel", 0, true)                       \
  X(cuLaunchKernelEx, "cuLaunchKernelEx", 0, false)                       \
  X(cuLaunchKernelEx_ptsz, "cuLaunchKernelEx", 0, true)                   \
  X(cuLaunchCooperativeKernel, "cuLaunchCooperativeKernel", 0, false)     \
  X(cuLaunchCooperativeKernel_ptsz, "cuLaunchCooperativeKernel", 0, true) \
  X(cuGraphLaunch, "cuGraphLaunch", 0, false)                             \
  X(cuGraphLaunch_ptsz, "cuGraphLaunch", 0, true)                         \
  X(cuGetProcAddress, "cuGetProcAddress", 0, false)                       \
  X(cuGetProcAddress_v2, "cuGetProcAddress", 12000, false)

enum HookId : int {
#define GP_ENUM(sym, name, version, ptsz) kHook_##sym,
  GP_SHIM_HOOKS(GP_ENUM)
#undef GP_ENUM
      kHookCount
};

struct HookEntry {
  const char* symbol;
  const char* name;
  int min_version;
  bool ptsz;
  void* hook;
};

const HookEntry kHooks[kHookCount] = {
#define GP_ENTRY(sym, name, version, ptsz) \
  {#sym, name, version, ptsz, reinterpret_cast<void*>(&::sym)},
    GP_SHIM_HOOKS(GP_ENTRY)
#undef GP_ENTRY
};

std::atomic<void*> g_real[kHookCount];

// NVML: the memory query, and the UUID query it needs to know which GPU a handle is.
std::atomic<void*> g_nvml_memory;
std::atomic<void*> g_nvml_memory_v2;
std::atomic<void*> g_nvml_uuid;

// ------------------------------------------------------------------ process state

using DlsymFn = void* (*)(void*, const char*);

// The driver calls the shim makes itself.
struct Driver {
  void* handle = nullptr;
  decltype(&::cuCtxGetDevice) CtxGetDevice = nullptr;
  decltype(&::cuDeviceGetUuid) DeviceGetUuid = nullptr;
  decltype(&::cuDeviceTotalMem_v2) DeviceTotalMem = nullptr;
  decltype(&::cuDeviceGetAttribute) DeviceGetAttribute = nullptr;
  decltype(&::cuEventCreate) EventCreate = nullptr;
  decltype(&::cuEventRecord) EventRecord = nullptr;
  decltype(&::cuEventRecord) EventRecordPtsz = nullptr;
  decltype(&::cuEventQuery) EventQuery = nullptr;
  decltype(&::cuEventSynchronize) EventSynchronize = nullptr;
  decltype(&::cuEventElapsedTime) EventElapsedTime = nullptr;
};

constexpr int kMaxDevices = 64;

struct DeviceState {
  std::atomic<int> ready{0};  // 0 not yet, 1 ready, -1 failed (unaccounted)
  int generation = 0;         // g_generation when attached (a forked child re-attaches)
  SharedRegion* region = nullptr;
  int slot = -1;
  std::uint64_t cap = 0;
  int sm_count = 0;
  char uuid[48] = {};
};

enum class Kind { kPointer, kArray, kHandle };
struct Held {
  std::uint64_t bytes;
  int device;
};

struct State {
  ShimConfig config;
  std::string config_error;
  DlsymFn real_dlsym = nullptr;
  Driver driver;
  std::string library_path;
  DeviceState devices[kMaxDevices];
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;   // device attach, the allocation maps
  std::unordered_map<std::uint64_t, Held> held[3];  // by Kind, guarded by mu
  std::atomic<int> generation{0};
  int pid = 0;
  std::int64_t start_ticks = 0;
};

State& S() {
  static State* state = new State();  // never destroyed: hooks may run during exit
  return *state;
}

void Log(const char* format, ...) __attribute__((format(printf, 1, 2)));
void Log(const char* format, ...) {
  char line[768];
  const int prefix = snprintf(line, sizeof(line), "gpupool-cuda[%d]: ", getpid());
  va_list args;
  va_start(args, format);
  vsnprintf(line + prefix, sizeof(line) - static_cast<std::size_t>(prefix) - 1, format, args);
  va_end(args);
  std::size_t n = strlen(line);
  line[n++] = '\n';
  (void)!write(STDERR_FILENO, line, n);
}

void AfterForkInChild() {
  State& s = S();
  pthread_mutex_init(&s.mu, nullptr);
  s.pid = getpid();
  s.start_ticks = ProcessStartTicks(s.pid);
  s.generation.fetch_add(1, std::memory_order_acq_rel);
  for (auto& map : s.held) map.clear();  // the parent's allocations are not the child's
}

DlsymFn RealDlsym() {
  // glibc 2.34 moved dlsym into libc (GLIBC_2.34); older ones export GLIBC_2.2.5.
  static DlsymFn fn = [] {
    void* p = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (p == nullptr) p = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
    return reinterpret_cast<DlsymFn>(p);
  }();
  return fn;
}

template <typename Fn>
void Resolve(void* handle, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(RealDlsym()(handle, name));
}

void InitOnce() {
  State& s = S();
  s.pid = getpid();
  s.start_ticks = ProcessStartTicks(s.pid);
  ShimConfigResult parsed =
      ParseShimConfig([](const char* var) -> const char* { return getenv(var); });
  s.config = parsed.config;
  s.config_error = parsed.error;
  if (!s.config_error.empty()) {
    Log("%s: CUDA refused in this process (fix the variable; docs/shim.md)",
        s.config_error.c_str());
  }
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&InitOnce), &info) != 0 && info.dli_fname != nullptr) {
    s.library_path = info.dli_fname;
  }
  const char* lib = getenv(kCudaLibraryEnv);
  const char* name = lib != nullptr && *lib != '\0' ? lib : "libcuda.so.1";
  s.driver.handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  // No driver: every hook fails as the missing driver would (GpupoolShimQuery reports it).
  if (s.driver.handle != nullptr) {
    Driver& d = s.driver;
    Resolve(d.handle, "cuCtxGetDevice", d.CtxGetDevice);
    Resolve(d.handle, "cuDeviceGetUuid_v2", d.DeviceGetUuid);
    if (d.DeviceGetUuid == nullptr) Resolve(d.handle, "cuDeviceGetUuid", d.DeviceGetUuid);
    Resolve(d.handle, "cuDeviceTotalMem_v2", d.DeviceTotalMem);
    Resolve(d.handle, "cuDeviceGetAttribute", d.DeviceGetAttribute);
    Resolve(d.handle, "cuEventCreate", d.EventCreate);
    Resolve(d.handle, "cuEventRecord", d.EventRecord);
    Resolve(d.handle, "cuEventRecord_ptsz", d.EventRecordPtsz);
    if (d.EventRecordPtsz == nullptr) d.EventRecordPtsz = d.EventRecord;
    Resolve(d.handle, "cuEventQuery", d.EventQuery);
    Resolve(d.handle, "cuEventSynchronize", d.EventSynchronize);
    Resolve(d.handle, "cuEventElapsedTime", d.EventElapsedTime);
    for (int i = 0; i < kHookCount; ++i) {
      void* p = RealDlsym()(d.handle, kHooks[i].symbol);
      if (p == kHooks[i].hook) p = nullptr;  // never call ourselves
      void* none = nullptr;
      g_real[i].compare_exchange_strong(none, p);
    }
  }
  pthread_atfork(nullptr, nullptr, &AfterForkInChild);
}

State& Init() {
  static std::once_flag once;
  std::call_once(once, &InitOnce);
  return S();
}

template <typename Fn>
Fn Real(HookId id) {
  Init();
  return reinterpret_cast<Fn>(g_real[id].load(std::memory_order_acquire));
}

#define REAL(sym) Real<decltype(&::sym)>(kHook_##sym)
// Calls the real entry point, or fails as a missing driver would.
#define CALL_REAL(sym, ...)                                      \
  do {                                                           \
    auto real_fn__ = REAL(sym);                                  \
    if (real_fn__ == nullptr) return CUDA_ERROR_NOT_INITIALIZED; \
    return real_fn__(__VA_ARGS__);                               \
  } while (0)

std::string UuidText(const CUuuid& u) {
  const auto* b = reinterpret_cast<const unsigned char*>(u.bytes);
  char text[48];
  snprintf(text, sizeof(text),
           "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
  return text;
}

// Attaches `ds` (device index `dev`) to its region under s.mu: total memory, SMs, UUID, region.
void AttachLocked(State& s, DeviceState& ds, CUdevice dev, const char* uuid_override,
                  std::uint64_t total_override) {
  std::string uuid;
  std::uint64_t total = total_override;
  if (uuid_override != nullptr) {
    uuid = uuid_override;
  } else {
    CUuuid u{};
    std::size_t bytes = 0;
    if (s.driver.DeviceGetUuid == nullptr || s.driver.DeviceGetUuid(&u, dev) != CUDA_SUCCESS ||
        s.driver.DeviceTotalMem == nullptr ||
        s.driver.DeviceTotalMem(&bytes, dev) != CUDA_SUCCESS) {
      ds.ready.store(-1, std::memory_order_release);
      return;
    }
    uuid = UuidText(u);
    total = bytes;
    int sms = 0;
    if (s.driver.DeviceGetAttribute != nullptr &&
        s.driver.DeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) ==
            CUDA_SUCCESS) {
      ds.sm_count = sms;
    }
  }
  if (ds.region == nullptr) {
    std::string error;
    const std::string name = SharedRegion::RegionName(s.config.job_id, s.pid, uuid);
    // Kept for the life of the process: hooks may run during exit, after static destructors.
    ds.region = SharedRegion::Open(name, s.config.MemoryCapBytes(total), &error).release();
    if (ds.region == nullptr) {
      Log("%s: GPU %s is not accounted", error.c_str(), uuid.c_str());
      ds.ready.store(-1, std::memory_order_release);
      return;
    }
  }
  snprintf(ds.uuid, sizeof(ds.uuid), "%s", uuid.c_str());
  ds.cap = ds.region->cap();
  ds.slot = ds.region->Attach(s.pid, s.start_ticks);
  if (ds.slot < 0) {
    Log("GPU %s: %d processes of this job already hold records; allocations are refused", ds.uuid,
        SharedRegion::kMaxProcesses);
  }
  ds.generation = s.generation.load(std::memory_order_acquire);
  ds.ready.store(1, std::memory_order_release);
}

// The device state of CUDA device `dev`, attached on first use; nullptr when the shim has
// nothing to account for it.
DeviceState* Device(CUdevice dev) {
  if (dev < 0 || dev >= kMaxDevices) return nullptr;
  State& s = Init();
  DeviceState& ds = s.devices[dev];
  const int ready = ds.ready.load(std::memory_order_acquire);
  if (ready == 1 && ds.generation == s.generation.load(std::memory_order_relaxed)) return &ds;
  if (ready == -1) return nullptr;
  pthread_mutex_lock(&s.mu);
  if (ds.ready.load(std::memory_order_acquire) != 1 ||
      ds.generation != s.generation.load(std::memory_order_relaxed)) {
    AttachLocked(s, ds, dev, nullptr, 0);
  }
  pthread_mutex_unlock(&s.mu);
  return ds.ready.load(std::memory_order_acquire) == 1 ? &ds : nullptr;
}

DeviceState* CurrentDevice(int* index) {
  State& s = Init();
  CUdevice dev = -1;
  if (s.driver.CtxGetDevice == nullptr || s.driver.CtxGetDevice(&dev) != CUDA_SUCCESS) {
    return nullptr;
  }
  *index = dev;
  return Device(dev);
}

bool ConfigBroken() { return !Init().config_error.empty(); }

double Mib(std::uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kMiB); }

// Reserves `bytes` on device `dev` for the call `what`; false (with the log line) when over the
// cap. An unaccounted device or an uncapped job always succeeds.
bool Reserve(const char* what, int dev, std::uint64_t bytes) {
  State& s = Init();
  if (!s.config.enforces()) return true;  // nothing capped
  DeviceState* ds = Device(dev);
  if (ds == nullptr || ds->cap == 0) return true;
  std::uint64_t used = 0;
  if (ds->region->Reserve(ds->slot, bytes, &used)) return true;
  Log("job %lld: %s of %.1f MiB refused on %s: the job holds %.1f MiB of its %.1f MiB cap (%s)",
      static_cast<long long>(s.config.job_id), what, Mib(bytes), ds->uuid, Mib(used), Mib(ds->cap),
      s.config.memory_mib > 0 ? "GPUPOOL_GPU_MEMORY_MIB" : "GPUPOOL_GPU_MILLI share of memory");
  return false;
}

void Unreserve(int dev, std::uint64_t bytes) {
  DeviceState* ds = Device(dev);
  if (ds != nullptr && ds->cap != 0) ds->region->Release(ds->slot, bytes);
}

void Track(Kind kind, std::uint64_t key, int dev, std::uint64_t bytes) {
  State& s = S();
  pthread_mutex_lock(&s.mu);
  s.held[static_cast<int>(kind)][key] = Held{bytes, dev};
  pthread_mutex_unlock(&s.mu);
}

// Removes the record of `key`; true with *out when there was one.
bool Untrack(Kind kind, std::uint64_t key, Held* out) {
  State& s = Init();
  pthread_mutex_lock(&s.mu);
  auto& map = s.held[static_cast<int>(kind)];
  const auto it = map.find(key);
  const bool found = it != map.end();
  if (found) {
    *out = it->second;
    map.erase(it);
  }
  pthread_mutex_unlock(&s.mu);
  return found;
}

// The allocation pattern: reserve, call the driver, give the reservation back if it failed, else
// remember what the new object holds.
template <typename Call>
CUresult Allocate(const char* what, int dev, std::uint64_t bytes, Kind kind, Call call) {
  if (ConfigBroken()) return CUDA_ERROR_NOT_INITIALIZED;
  if (!Reserve(what, dev, bytes)) return CUDA_ERROR_OUT_OF_MEMORY;
  std::uint64_t key = 0;
  const CUresult rc = call(&key);
  if (rc != CUDA_SUCCESS) {
    Unreserve(dev, bytes);
    return rc;
  }
  Track(kind, key, dev, bytes);
  return rc;
}

template <typename Call>
CUresult AllocateOnCurrent(const char* what, std::uint64_t bytes, Kind kind, Call call) {
  if (ConfigBroken()) return CUDA_ERROR_NOT_INITIALIZED;
  int dev = -1;
  if (!S().config.enforces() || CurrentDevice(&dev) == nullptr) {
    // No context (the driver will say so) or an unaccounted device: nothing to count.
    std::uint64_t key = 0;
    return call(&key);
  }
  return Allocate(what, dev, bytes, kind, call);
}

// The free pattern: call the driver, and only when it succeeded give the bytes back.
template <typename Call>
CUresult Free(Kind kind, std::uint64_t key, Call call) {
  const CUresult rc = call();
  Held held{};
  if (rc == CUDA_SUCCESS && S().config.enforces() && Untrack(kind, key, &held)) {
    Unreserve(held.device, held.bytes);
  }
  return rc;
}

std::uint64_t ElementBytes(int format) {
  switch (format) {
    case CU_AD_FORMAT_UNSIGNED_INT8:
    case CU_AD_FORMAT_SIGNED_INT8:
      return 1;
    case CU_AD_FORMAT_UNSIGNED_INT16:
    case CU_AD_FORMAT_SIGNED_INT16:
    case CU_AD_FORMAT_HALF:
      return 2;
    default:
      return 4;  // 32-bit formats, and the rare formats the shim does not list
  }
}

std::uint64_t ArrayBytes(std::uint64_t w, std::uint64_t h, std::uint64_t d, int format,
                         unsigned channels) {
  return ElementBytes(format) * (channels == 0 ? 1 : channels) * (w == 0 ? 1 : w) *
         (h == 0 ? 1 : h) * (d == 0 ? 1 : d);
}

// ------------------------------------------------------------------ compute pacing

// Per-process measured lengths, by kernel function or graph, in a fixed open-addressed table
// (lock-free).
constexpr int kKernelSlots = 1024;
struct KernelTime {
  std::atomic<const void*> fn{nullptr};
  std::atomic<std::int64_t> ns{0};
  std::atomic<std::uint32_t> launches{0};
};
KernelTime g_kernels[kKernelSlots];

KernelTime* KernelSlot(const void* f) {
  auto h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(f));
  h = (h >> 4) * 0x9E3779B97F4A7C15ULL;
  for (int probe = 0; probe < 16; ++probe) {
    KernelTime& k = g_kernels[((h >> 54) + static_cast<std::uint64_t>(probe)) & (kKernelSlots - 1)];
    const void* cur = k.fn.load(std::memory_order_acquire);
    if (cur == f) return &k;
    if (cur == nullptr && k.fn.compare_exchange_strong(cur, f)) return &k;
    if (cur == f) return &k;
  }
  return nullptr;  // full around this hash: launches of f go unmeasured (cost 0)
}

// Measurements in flight: a start and an end event around one sampled launch.
constexpr int kPending = 16;
struct Pending {
  bool busy = false;
  CUevent start = nullptr;
  CUevent end = nullptr;
  KernelTime* kernel = nullptr;
};
Pending g_pending[kPending];
pthread_mutex_t g_pending_mu = PTHREAD_MUTEX_INITIALIZER;
std::atomic<int> g_pending_count{0};
constexpr std::uint32_t kSampleEvery = 64;  // one launch in 64 of each kernel is timed

void HarvestLocked(const Driver& d) {
  for (Pending& p : g_pending) {
    if (!p.busy || d.EventQuery(p.end) != CUDA_SUCCESS) continue;
    float ms = 0;
    if (d.EventElapsedTime(&ms, p.start, p.end) == CUDA_SUCCESS && ms >= 0) {
      const auto ns = static_cast<std::int64_t>(static_cast<double>(ms) * 1e6);
      const std::int64_t old = p.kernel->ns.load(std::memory_order_relaxed);
      // Moving average, new sample a quarter: follows a kernel whose length changes.
      p.kernel->ns.store(old == 0 ? ns : (3 * old + ns) / 4, std::memory_order_relaxed);
    }
    p.busy = false;
    g_pending_count.fetch_sub(1, std::memory_order_relaxed);
  }
}

std::int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Paces and performs one launch of `f` (a kernel function or a graph) with `blocks` blocks on
// `stream`; `launch` does the call.
template <typename Launch>
CUresult Paced(const void* f, std::uint64_t blocks, CUstream stream, bool ptsz, Launch launch) {
  State& s = Init();
  if (!s.config.paced()) {
    if (!s.config_error.empty()) return CUDA_ERROR_NOT_INITIALIZED;
    return launch();
  }
  int dev = -1;
  DeviceState* ds = CurrentDevice(&dev);
  KernelTime* k = KernelSlot(f);
  const Driver& d = s.driver;
  if (ds == nullptr || k == nullptr || d.EventCreate == nullptr) return launch();
  if (g_pending_count.load(std::memory_order_relaxed) > 0) {
    pthread_mutex_lock(&g_pending_mu);
    if (k->ns.load(std::memory_order_relaxed) == 0 && d.EventSynchronize != nullptr) {
      // A kernel not measured yet whose first timed launch is in flight: wait for it once, or a
      // program that queues launches faster than they run would queue them all unpaced.
      for (Pending& p : g_pending) {
        if (p.busy && p.kernel == k) d.EventSynchronize(p.end);
      }
    }
    HarvestLocked(d);
    pthread_mutex_unlock(&g_pending_mu);
  }
  PaceParams params;
  params.milli = s.config.gpu_milli;
  const std::int64_t cost = KernelCost(k->ns.load(std::memory_order_relaxed), blocks, ds->sm_count);
  const std::int64_t wait = ds->region->Pace(NowNs(), cost, params);
  if (wait > 0) {
    const timespec ts{static_cast<time_t>(wait / 1'000'000'000),
                      static_cast<long>(wait % 1'000'000'000)};
    nanosleep(&ts, nullptr);
  }
  if (k->launches.fetch_add(1, std::memory_order_relaxed) % kSampleEvery != 0) return launch();
  // Timed launch: events around it on the same stream.
  Pending* slot = nullptr;
  pthread_mutex_lock(&g_pending_mu);
  for (Pending& p : g_pending) {
    if (!p.busy) {
      slot = &p;
      break;
    }
  }
  if (slot != nullptr && slot->start == nullptr) {
    if (d.EventCreate(&slot->start, CU_EVENT_DEFAULT) != CUDA_SUCCESS ||
        d.EventCreate(&slot->end, CU_EVENT_DEFAULT) != CUDA_SUCCESS) {
      slot->start = slot->end = nullptr;
      slot = nullptr;
    }
  }
  if (slot != nullptr) {
    slot->busy = true;
    slot->kernel = k;
    g_pending_count.fetch_add(1, std::memory_order_relaxed);
  }
  pthread_mutex_unlock(&g_pending_mu);
  if (slot == nullptr) return launch();
  auto record = ptsz ? d.EventRecordPtsz : d.EventRecord;
  record(slot->start, stream);
  const CUresult rc = launch();
  record(slot->end, stream);
  return rc;
}

std::uint64_t Blocks(unsigned x, unsigned y, unsigned z) {
  return static_cast<std::uint64_t>(x) * y * z;
}

// ------------------------------------------------------------------ entry-point lookup

// The hook for what the driver resolved `name` to at `version` with `flags`; nullptr when the
// shim does not hook that (an unknown name, or an older ABI such as the 32-bit cuMemAlloc of
// CUDA < 3.2).
int HookFor(const char* name, int version, cuuint64_t flags) {
  for (int i = 0; i < kHookCount; ++i) {
    if (strcmp(kHooks[i].symbol, name) == 0) return i;  // asked by its exported name
  }
  const bool want_ptsz = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;
  bool has_ptsz = false;
  for (const HookEntry& h : kHooks) {
    if (h.ptsz && strcmp(h.name, name) == 0) has_ptsz = true;
  }
  int best = -1;
  for (int i = 0; i < kHookCount; ++i) {
    const HookEntry& h = kHooks[i];
    if (strcmp(h.name, name) != 0 || h.ptsz != (want_ptsz && has_ptsz) || version < h.min_version) {
      continue;
    }
    if (best < 0 || h.min_version > kHooks[best].min_version) best = i;
  }
  return best;
}

// Given what the driver returned for (name, version, flags), what the caller gets.
void* Substitute(const char* name, int version, cuuint64_t flags, void* real) {
  if (real == nullptr || name == nullptr) return real;
  const int id = HookFor(name, version, flags);
  if (id < 0 || real == kHooks[id].hook) return real;
  g_real[id].store(real, std::memory_order_release);
  return kHooks[id].hook;
}

// ------------------------------------------------------------------ NVML

using NvmlUuidFn = decltype(&::nvmlDeviceGetUUID);

// The cap and use of the GPU named by an NVML handle, when this job holds it: true with the
// values; false to leave the driver's answer alone.
bool NvmlShare(nvmlDevice_t device, std::uint64_t* cap, std::uint64_t* used, std::uint64_t total) {
  State& s = Init();
  if (!s.config.enforces() || !s.config_error.empty()) return false;
  auto uuid_fn = reinterpret_cast<NvmlUuidFn>(g_nvml_uuid.load(std::memory_order_acquire));
  if (uuid_fn == nullptr) {
    uuid_fn = reinterpret_cast<NvmlUuidFn>(RealDlsym()(RTLD_NEXT, "nvmlDeviceGetUUID"));
  }
  char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
  if (uuid_fn == nullptr || uuid_fn(device, uuid, sizeof(uuid)) != NVML_SUCCESS) return false;
  // Only the GPUs the job was given (CUDA_VISIBLE_DEVICES lists their UUIDs).
  if (const char* visible = getenv("CUDA_VISIBLE_DEVICES"); visible != nullptr && *visible) {
    if (strstr(visible, uuid) == nullptr) return false;
  }
  // The same region the CUDA side uses, found by the UUID: device slots past the CUDA ones.
  pthread_mutex_lock(&s.mu);
  DeviceState* ds = nullptr;
  for (DeviceState& d : s.devices) {
    if (d.region != nullptr && strcmp(d.uuid, uuid) == 0) {
      ds = &d;
      break;
    }
  }
  if (ds == nullptr) {
    for (int i = kMaxDevices - 1; i >= 0; --i) {
      DeviceState& d = s.devices[i];
      if (d.ready.load(std::memory_order_acquire) == 0 && d.region == nullptr) {
        // Reserved from the top so that CUDA ordinals (from 0) do not meet it in practice.
        d.ready.store(-1, std::memory_order_release);  // never attached by CUDA ordinal
        AttachLocked(s, d, i, uuid, total);
        if (d.ready.load(std::memory_order_acquire) == 1) {
          d.ready.store(-1, std::memory_order_release);
          ds = &d;
        }
        break;
      }
    }
  }
  pthread_mutex_unlock(&s.mu);
  if (ds == nullptr || ds->region == nullptr || ds->cap == 0) return false;
  *cap = ds->cap;
  *used = ds->region->Used();
  return true;
}

}  // namespace
}  // namespace gpupool::shim

using namespace gpupool::shim;  // NOLINT(google-build-using-namespace): the C entry points below

// ------------------------------------------------------------------ exported entry points

GP_EXPORT CUresult cuInit(unsigned int flags) {
  if (ConfigBroken()) return CUDA_ERROR_NOT_INITIALIZED;
  CALL_REAL(cuInit, flags);
}

GP_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* dptr, std::size_t bytes) {
  auto real = REAL(cuMemAlloc_v2);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return AllocateOnCurrent("cuMemAlloc", bytes, Kind::kPointer, [&](std::uint64_t* key) {
    const CUresult rc = real(dptr, bytes);
    if (rc == CUDA_SUCCESS) *key = *dptr;
    return rc;
  });
}

GP_EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr* dptr, std::size_t* pitch, std::size_t width,
                                      std::size_t height, unsigned int element_size) {
  auto real = REAL(cuMemAllocPitch_v2);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  if (ConfigBroken()) return CUDA_ERROR_NOT_INITIALIZED;
  int dev = -1;
  if (!S().config.enforces() || CurrentDevice(&dev) == nullptr) {
    return real(dptr, pitch, width, height, element_size);
  }
  // The pitch is known only afterwards: reserve the widest it can be (rows padded to 512 bytes,
  // more than the driver's alignment), then give back what the real pitch leaves over.
  const std::uint64_t reserved = (static_cast<std::uint64_t>(width) + 511) / 512 * 512 * height;
  const CUresult rc =
      Allocate("cuMemAllocPitch", dev, reserved, Kind::kPointer, [&](std::uint64_t* key) {
        const CUresult r = real(dptr, pitch, width, height, element_size);
        if (r == CUDA_SUCCESS) *key = *dptr;
        return r;
      });
  if (rc != CUDA_SUCCESS) return rc;
  const std::uint64_t actual = static_cast<std::uint64_t>(*pitch) * height;
  if (actual < reserved) {
    Unreserve(dev, reserved - actual);
    Track(Kind::kPointer, *dptr, dev, actual);
  } else if (actual > reserved) {
    if (!Reserve("cuMemAllocPitch", dev, actual - reserved)) {
      cuMemFree_v2(*dptr);
      return CUDA_ERROR_OUT_OF_MEMORY;
    }
    Track(Kind::kPointer, *dptr, dev, actual);
  }
  return rc;
}

GP_EXPORT CUresult cuMemAllocManaged(CUdeviceptr* dptr, std::size_t bytes, unsigned int flags) {
  auto real = REAL(cuMemAllocManaged);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return AllocateOnCurrent("cuMemAllocManaged", bytes, Kind::kPointer, [&](std::uint64_t* key) {
    const CUresult rc = real(dptr, bytes, flags);
    if (rc == CUDA_SUCCESS) *key = *dptr;
    return rc;
  });
}

namespace {

template <typename Fn>
CUresult AllocAsync(const char* what, Fn real, CUdeviceptr* dptr, std::size_t bytes,
                    CUstream stream) {
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return AllocateOnCurrent(what, bytes, Kind::kPointer, [&](std::uint64_t* key) {
    const CUresult rc = real(dptr, bytes, stream);
    if (rc == CUDA_SUCCESS) *key = *dptr;
    return rc;
  });
}

template <typename Fn>
CUresult AllocFromPool(Fn real, CUdeviceptr* dptr, std::size_t bytes, CUmemoryPool pool,
                       CUstream stream) {
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return AllocateOnCurrent("cuMemAllocFromPoolAsync", bytes, Kind::kPointer,
                           [&](std::uint64_t* key) {
                             const CUresult rc = real(dptr, bytes, pool, stream);
                             if (rc == CUDA_SUCCESS) *key = *dptr;
                             return rc;
                           });
}

}  // namespace

GP_EXPORT CUresult cuMemAllocAsync(CUdeviceptr* dptr, std::size_t bytes, CUstream stream) {
  return AllocAsync("cuMemAllocAsync", REAL(cuMemAllocAsync), dptr, bytes, stream);
}
GP_EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr* dptr, std::size_t bytes, CUstream stream) {
  return AllocAsync("cuMemAllocAsync", REAL(cuMemAllocAsync_ptsz), dptr, bytes, stream);
}
GP_EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr* dptr, std::size_t bytes, CUmemoryPool pool,
                                           CUstream stream) {
  return AllocFromPool(REAL(cuMemAllocFromPoolAsync), dptr, bytes, pool, stream);
}
GP_EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr* dptr, std::size_t bytes,
                                                CUmemoryPool pool, CUstream stream) {
  return AllocFromPool(REAL(cuMemAllocFromPoolAsync_ptsz), dptr, bytes, pool, stream);
}

GP_EXPORT CUresult cuMemFree_v2(CUdeviceptr dptr) {
  auto real = REAL(cuMemFree_v2);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Free(Kind::kPointer, dptr, [&] { return real(dptr); });
}
// Asynchronous frees give the bytes back at once, before the stream reaches the free.
GP_EXPORT CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream stream) {
  auto real = REAL(cuMemFreeAsync);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Free(Kind::kPointer, dptr, [&] { return real(dptr, stream); });
}
GP_EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream stream) {
  auto real = REAL(cuMemFreeAsync_ptsz);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Free(Kind::kPointer, dptr, [&] { return real(dptr, stream); });
}

GP_EXPORT CUresult cuMemGetInfo_v2(std::size_t* free_bytes, std::size_t* total_bytes) {
  auto real = REAL(cuMemGetInfo_v2);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  if (ConfigBroken()) return CUDA_ERROR_NOT_INITIALIZED;
  const CUresult rc = real(free_bytes, total_bytes);
  int dev = -1;
  DeviceState* ds = rc == CUDA_SUCCESS ? CurrentDevice(&dev) : nullptr;
  if (ds == nullptr || ds->cap == 0) return rc;
  // The share: total = the cap, free = what the cap leaves (no more than the GPU has free).
  const std::uint64_t used = ds->region->Used();
  const std::uint64_t left = used < ds->cap ? ds->cap - used : 0;
  if (free_bytes != nullptr) *free_bytes = left < *free_bytes ? left : *free_bytes;
  if (total_bytes != nullptr) *total_bytes = ds->cap;
  return rc;
}

GP_EXPORT CUresult cuArrayCreate_v2(CUarray* array, const CUDA_ARRAY_DESCRIPTOR* desc) {
  auto real = REAL(cuArrayCreate_v2);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  if (desc == nullptr) return real(array, desc);
  const std::uint64_t bytes =
      ArrayBytes(desc->Width, desc->Height, 1, desc->Format, desc->NumChannels);
  return AllocateOnCurrent("cuArrayCreate", bytes, Kind::kArray, [&](std::uint64_t* key) {
    const CUresult rc = real(array, desc);
    if (rc == CUDA_SUCCESS) *key = reinterpret_cast<std::uintptr_t>(*array);
    return rc;
  });
}

GP_EXPORT CUresult cuArray3DCreate_v2(CUarray* array, const CUDA_ARRAY3D_DESCRIPTOR* desc) {
  auto real = REAL(cuArray3DCreate_v2);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  if (desc == nullptr) return real(array, desc);
  const std::uint64_t bytes =
      ArrayBytes(desc->Width, desc->Height, desc->Depth, desc->Format, desc->NumChannels);
  return AllocateOnCurrent("cuArray3DCreate", bytes, Kind::kArray, [&](std::uint64_t* key) {
    const CUresult rc = real(array, desc);
    if (rc == CUDA_SUCCESS) *key = reinterpret_cast<std::uintptr_t>(*array);
    return rc;
  });
}

GP_EXPORT CUresult cuArrayDestroy(CUarray array) {
  auto real = REAL(cuArrayDestroy);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Free(Kind::kArray, reinterpret_cast<std::uintptr_t>(array), [&] { return real(array); });
}

GP_EXPORT CUresult cuMipmappedArrayCreate(CUmipmappedArray* array,
                                          const CUDA_ARRAY3D_DESCRIPTOR* desc,
                                          unsigned int levels) {
  auto real = REAL(cuMipmappedArrayCreate);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  if (desc == nullptr) return real(array, desc, levels);
  // Every level halves each dimension (not below 1).
  std::uint64_t bytes = 0;
  std::uint64_t w = desc->Width;
  std::uint64_t h = desc->Height;
  std::uint64_t d = desc->Depth;
  for (unsigned i = 0; i < (levels == 0 ? 1 : levels); ++i) {
    bytes += ArrayBytes(w, h, d, desc->Format, desc->NumChannels);
    w = w > 1 ? w / 2 : w;
    h = h > 1 ? h / 2 : h;
    d = d > 1 ? d / 2 : d;
  }
  return AllocateOnCurrent("cuMipmappedArrayCreate", bytes, Kind::kArray, [&](std::uint64_t* key) {
    const CUresult rc = real(array, desc, levels);
    if (rc == CUDA_SUCCESS) *key = reinterpret_cast<std::uintptr_t>(*array);
    return rc;
  });
}

GP_EXPORT CUresult cuMipmappedArrayDestroy(CUmipmappedArray array) {
  auto real = REAL(cuMipmappedArrayDestroy);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Free(Kind::kArray, reinterpret_cast<std::uintptr_t>(array), [&] { return real(array); });
}

// Virtual memory management: the physical memory is what cuMemCreate takes; mapping it
// (cuMemMap) takes no more, so the bytes are counted at cuMemCreate, on the device the
// allocation's location names, and given back at cuMemRelease.
GP_EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle* handle, std::size_t bytes,
                               const CUmemAllocationProp* prop, unsigned long long flags) {
  auto real = REAL(cuMemCreate);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  auto call = [&](std::uint64_t* key) {
    const CUresult rc = real(handle, bytes, prop, flags);
    if (rc == CUDA_SUCCESS) *key = *handle;
    return rc;
  };
  if (prop != nullptr && prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE &&
      S().config.enforces()) {
    return Allocate("cuMemCreate", prop->location.id, bytes, Kind::kHandle, call);
  }
  if (ConfigBroken()) return CUDA_ERROR_NOT_INITIALIZED;
  std::uint64_t key = 0;
  return call(&key);  // host or other locations, or nothing capped: not counted
}

GP_EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle handle) {
  auto real = REAL(cuMemRelease);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Free(Kind::kHandle, handle, [&] { return real(handle); });
}

GP_EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                  unsigned by, unsigned bz, unsigned shared, CUstream stream,
                                  void** params, void** extra) {
  auto real = REAL(cuLaunchKernel);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Paced(f, Blocks(gx, gy, gz), stream, false,
               [&] { return real(f, gx, gy, gz, bx, by, bz, shared, stream, params, extra); });
}
GP_EXPORT CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                       unsigned bx, unsigned by, unsigned bz, unsigned shared,
                                       CUstream stream, void** params, void** extra) {
  auto real = REAL(cuLaunchKernel_ptsz);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Paced(f, Blocks(gx, gy, gz), stream, true,
               [&] { return real(f, gx, gy, gz, bx, by, bz, shared, stream, params, extra); });
}
GP_EXPORT CUresult cuLaunchKernelEx(const CUlaunchConfig* config, CUfunction f, void** params,
                                    void** extra) {
  auto real = REAL(cuLaunchKernelEx);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  if (config == nullptr) return real(config, f, params, extra);
  return Paced(f, Blocks(config->gridDimX, config->gridDimY, config->gridDimZ), config->hStream,
               false, [&] { return real(config, f, params, extra); });
}
GP_EXPORT CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig* config, CUfunction f, void** params,
                                         void** extra) {
  auto real = REAL(cuLaunchKernelEx_ptsz);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  if (config == nullptr) return real(config, f, params, extra);
  return Paced(f, Blocks(config->gridDimX, config->gridDimY, config->gridDimZ), config->hStream,
               true, [&] { return real(config, f, params, extra); });
}
GP_EXPORT CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                             unsigned bx, unsigned by, unsigned bz, unsigned shared,
                                             CUstream stream, void** params) {
  auto real = REAL(cuLaunchCooperativeKernel);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Paced(f, Blocks(gx, gy, gz), stream, false,
               [&] { return real(f, gx, gy, gz, bx, by, bz, shared, stream, params); });
}
GP_EXPORT CUresult cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned gx, unsigned gy,
                                                  unsigned gz, unsigned bx, unsigned by,
                                                  unsigned bz, unsigned shared, CUstream stream,
                                                  void** params) {
  auto real = REAL(cuLaunchCooperativeKernel_ptsz);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Paced(f, Blocks(gx, gy, gz), stream, true,
               [&] { return real(f, gx, gy, gz, bx, by, bz, shared, stream, params); });
}

// A graph is paced as one kernel that fills the GPU: its measured length, no SM scaling (the
// nodes' grids are not known to the shim).
GP_EXPORT CUresult cuGraphLaunch(CUgraphExec graph, CUstream stream) {
  auto real = REAL(cuGraphLaunch);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Paced(graph, UINT64_MAX, stream, false, [&] { return real(graph, stream); });
}
GP_EXPORT CUresult cuGraphLaunch_ptsz(CUgraphExec graph, CUstream stream) {
  auto real = REAL(cuGraphLaunch_ptsz);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  return Paced(graph, UINT64_MAX, stream, true, [&] { return real(graph, stream); });
}

GP_EXPORT CUresult cuGetProcAddress(const char* symbol, void** pfn, int version, cuuint64_t flags) {
  auto real = REAL(cuGetProcAddress);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  const CUresult rc = real(symbol, pfn, version, flags);
  if (rc == CUDA_SUCCESS && pfn != nullptr) *pfn = Substitute(symbol, version, flags, *pfn);
  return rc;
}

GP_EXPORT CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int version,
                                       cuuint64_t flags, CUdriverProcAddressQueryResult* status) {
  auto real = REAL(cuGetProcAddress_v2);
  if (real == nullptr) return CUDA_ERROR_NOT_INITIALIZED;
  const CUresult rc = real(symbol, pfn, version, flags, status);
  if (rc == CUDA_SUCCESS && pfn != nullptr) *pfn = Substitute(symbol, version, flags, *pfn);
  return rc;
}

namespace {

// NVML's memory query, both versions: the real one (`slot` once known, else the next library's
// `name`), then the job's share in place of the GPU's (total = the cap), as cuMemGetInfo does.
template <typename Memory>
nvmlReturn_t NvmlMemoryWithShare(std::atomic<void*>& slot, const char* name, nvmlDevice_t device,
                                 Memory* memory) {
  using Fn = nvmlReturn_t (*)(nvmlDevice_t, Memory*);
  auto real = reinterpret_cast<Fn>(slot.load(std::memory_order_acquire));
  if (real == nullptr) {
    real = reinterpret_cast<Fn>(RealDlsym()(RTLD_NEXT, name));
    if (real == nullptr) return NVML_ERROR_UNINITIALIZED;
  }
  const nvmlReturn_t rc = real(device, memory);
  std::uint64_t cap = 0;
  std::uint64_t used = 0;
  if (rc == NVML_SUCCESS && memory != nullptr && NvmlShare(device, &cap, &used, memory->total)) {
    memory->total = cap;
    if constexpr (requires { memory->reserved; }) memory->reserved = 0;
    memory->used = used < cap ? used : cap;
    memory->free = cap - memory->used;
  }
  return rc;
}

}  // namespace

// NVML's memory query reports the share, as cuMemGetInfo does.
GP_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  return NvmlMemoryWithShare(g_nvml_memory, "nvmlDeviceGetMemoryInfo", device, memory);
}

GP_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t* memory) {
  return NvmlMemoryWithShare(g_nvml_memory_v2, "nvmlDeviceGetMemoryInfo_v2", device, memory);
}

// dlsym: a hooked name gets the hook (the real function is kept from the caller's handle); any
// other name goes to the real dlsym untouched. dlsym(RTLD_NEXT, ...) is answered as if from the
// shim (glibc gives no way to search after the caller instead), which differs only for names the
// shim itself defines.
GP_EXPORT void* dlsym(void* handle, const char* name) {
  const DlsymFn real_dlsym = RealDlsym();
  void* p = real_dlsym(handle, name);
  if (p == nullptr) return p;  // a null name (declared nonnull) fails in the real dlsym
  if (name[0] == 'c' && name[1] == 'u') {
    for (int i = 0; i < kHookCount; ++i) {
      if (strcmp(kHooks[i].symbol, name) == 0) {
        if (p != kHooks[i].hook) g_real[i].store(p, std::memory_order_release);
        return kHooks[i].hook;
      }
    }
  } else if (strncmp(name, "nvmlDeviceGetMemoryInfo", 23) == 0) {
    const bool v2 = strcmp(name, "nvmlDeviceGetMemoryInfo_v2") == 0;
    if (!v2 && strcmp(name, "nvmlDeviceGetMemoryInfo") != 0) return p;
    void* hook = v2 ? reinterpret_cast<void*>(&nvmlDeviceGetMemoryInfo_v2)
                    : reinterpret_cast<void*>(&nvmlDeviceGetMemoryInfo);
    if (p == hook) return p;
    (v2 ? g_nvml_memory_v2 : g_nvml_memory).store(p, std::memory_order_release);
    if (void* uuid = real_dlsym(handle, "nvmlDeviceGetUUID"); uuid != nullptr) {
      g_nvml_uuid.store(uuid, std::memory_order_release);
    }
    return hook;
  }
  return p;
}

GP_EXPORT int GpupoolShimQuery(GpupoolShimInfo* info) {
  if (info == nullptr) return -1;
  const State& s = Init();
  GpupoolShimInfo out{};
  out.size = sizeof(GpupoolShimInfo);
  out.config_ok = s.config_error.empty() ? 1 : 0;
  out.job_id = s.config.job_id;
  out.gpu_milli = s.config.gpu_milli;
  out.paced = s.config.paced() ? 1 : 0;
  out.memory_mib = s.config.memory_mib;
  out.memory_capped = s.config.memory_mib > 0 || s.config.paced() ? 1 : 0;
  out.driver_loaded = s.driver.handle != nullptr ? 1 : 0;
  snprintf(out.error, sizeof(out.error), "%s", s.config_error.c_str());
  snprintf(out.library, sizeof(out.library), "%s", s.library_path.c_str());
  const std::uint32_t n = info->size < out.size && info->size != 0 ? info->size : out.size;
  memcpy(info, &out, n);
  return 0;
}

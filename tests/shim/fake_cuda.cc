// A fake libcuda.so.1 for the shim's tests and benchmark: exports the driver entry points of
// shim/cuda_api.h and simulates a machine's GPUs well enough for the shim to account and pace.
//
// Simulated, per process (the fake holds no state shared between processes, as the driver holds
// none a job can see; the shim's region is what the processes share):
//   - devices: FAKE_CUDA_DEVICES (default 1), each with FAKE_CUDA_MEMORY_MIB of memory (default
//     16384), FAKE_CUDA_SMS SMs (default 132) and UUID GPU-fa4ec0da-0000-0000-0000-0000000000NN
//     (NN the ordinal); the current device is 0 until cuCtxSetCurrent((CUcontext)(ordinal + 1));
//   - memory: every allocation path takes its size from the device's memory (the driver's own
//     out-of-memory when it has none left); pitches are rounded up to 512 bytes; the VMM calls
//     (2 MiB granularity) take memory at cuMemCreate;
//   - kernels: cuModuleGetFunction(f, m, "k<ns>") is a kernel that runs <ns> nanoseconds (cast to
//     CUgraphExec, it is also a graph for cuGraphLaunch); launches
//     run one after the other on a device timeline in real (steady) time, without sleeping:
//     a launch at t starts at max(t, the end of the previous one); events record the time the
//     timeline reaches them, cuEventQuery says whether that time has passed, and
//     cuEventSynchronize / cuCtxSynchronize sleep until then;
//   - cuGetProcAddress (both signatures): the exported function that cuda.h's name resolves to for
//     the version and flags (name_v2 from CUDA 3.2 where one exists, name_ptsz with the
//     per-thread-default-stream flag where one exists, cuGetProcAddress_v2 from CUDA 12);
//   - hang: an allocation of exactly FAKE_CUDA_HANG_BYTES bytes creates the file
//     FAKE_CUDA_HANG_FILE and never returns (a process killed mid-allocation).
// Test hooks (not driver API): FakeCudaUsedBytes(dev), FakeCudaBusyNs(dev),
// FakeCudaLaunches(), FakeCudaAddress(name) (this library's own function of that name).
// Thread-safe: one mutex over the state.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "shim/cuda_api.h"

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr std::uint64_t kMiB = 1024ULL * 1024ULL;
constexpr std::uint64_t kGranularity = 2 * kMiB;

std::int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void SleepUntil(std::int64_t t) {
  const std::int64_t now = NowNs();
  if (t <= now) return;
  const std::int64_t d = t - now;
  const timespec ts{static_cast<time_t>(d / 1'000'000'000), static_cast<long>(d % 1'000'000'000)};
  nanosleep(&ts, nullptr);
}

long EnvInt(const char* name, long fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? std::strtol(v, nullptr, 10) : fallback;
}

struct Device {
  std::uint64_t total = 0;
  std::uint64_t used = 0;
  std::int64_t busy_until = 0;
  std::int64_t busy_ns = 0;
};

struct Alloc {
  int device;
  std::uint64_t bytes;
};

struct State {
  std::mutex mu;
  int count = 1;
  int sms = 132;
  Device devices[8];
  std::map<std::uint64_t, Alloc> allocs;  // pointers, arrays, handles: one key space
  std::uint64_t next = 0x7f0000000000ULL;
  std::uint64_t launches = 0;
  State() {
    count = static_cast<int>(EnvInt("FAKE_CUDA_DEVICES", 1));
    if (count < 1 || count > 8) count = 1;
    sms = static_cast<int>(EnvInt("FAKE_CUDA_SMS", 132));
    for (Device& d : devices) {
      d.total = static_cast<std::uint64_t>(EnvInt("FAKE_CUDA_MEMORY_MIB", 16384)) * kMiB;
    }
  }
};

State& S() {
  static State state;
  return state;
}

thread_local int t_current = 0;

// The fake's contexts, pools, arrays are numbers dressed as the driver's handle types.
template <typename Handle>
Handle AsHandle(std::uint64_t n) {
  return reinterpret_cast<Handle>(n);  // NOLINT(performance-no-int-to-ptr): handles are numbers
}

struct FakeFunction {
  std::int64_t ns;
};
struct FakeEvent {
  std::int64_t t = 0;
};

void MaybeHang(std::uint64_t bytes) {
  const long hang = EnvInt("FAKE_CUDA_HANG_BYTES", -1);
  if (hang < 0 || static_cast<std::uint64_t>(hang) != bytes) return;
  if (const char* file = getenv("FAKE_CUDA_HANG_FILE"); file != nullptr) {
    const int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
  }
  for (;;) pause();
}

// Takes `bytes` from device `dev`; the new key in *key.
CUresult Take(int dev, std::uint64_t bytes, unsigned long long* key) {
  MaybeHang(bytes);
  State& s = S();
  std::lock_guard lock(s.mu);
  if (dev < 0 || dev >= s.count) return CUDA_ERROR_INVALID_VALUE;
  if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  Device& d = s.devices[dev];
  if (bytes > d.total - d.used) return CUDA_ERROR_OUT_OF_MEMORY;
  d.used += bytes;
  *key = s.next;
  s.next += (bytes + kGranularity - 1) / kGranularity * kGranularity;
  s.allocs[*key] = Alloc{dev, bytes};
  return CUDA_SUCCESS;
}

CUresult Give(std::uint64_t key) {
  State& s = S();
  std::lock_guard lock(s.mu);
  const auto it = s.allocs.find(key);
  if (it == s.allocs.end()) return CUDA_ERROR_INVALID_VALUE;
  s.devices[it->second.device].used -= it->second.bytes;
  s.allocs.erase(it);
  return CUDA_SUCCESS;
}

CUresult Launch(CUfunction f) {
  if (f == nullptr) return CUDA_ERROR_INVALID_HANDLE;
  State& s = S();
  std::lock_guard lock(s.mu);
  Device& d = s.devices[t_current];
  const std::int64_t ns = reinterpret_cast<FakeFunction*>(f)->ns;
  const std::int64_t start = d.busy_until > NowNs() ? d.busy_until : NowNs();
  d.busy_until = start + ns;
  d.busy_ns += ns;
  ++s.launches;
  return CUDA_SUCCESS;
}

std::uint64_t ArrayBytes(std::size_t w, std::size_t h, std::size_t d, int format, unsigned ch) {
  const std::uint64_t elem =
      format == CU_AD_FORMAT_UNSIGNED_INT8 || format == CU_AD_FORMAT_SIGNED_INT8 ? 1
      : format == CU_AD_FORMAT_UNSIGNED_INT16 || format == CU_AD_FORMAT_SIGNED_INT16 ||
              format == CU_AD_FORMAT_HALF
          ? 2
          : 4;
  return elem * (ch == 0 ? 1 : ch) * (w == 0 ? 1 : w) * (h == 0 ? 1 : h) * (d == 0 ? 1 : d);
}

}  // namespace

FAKE_EXPORT CUresult cuInit(unsigned int) { return CUDA_SUCCESS; }
FAKE_EXPORT CUresult cuDriverGetVersion(int* v) {
  *v = 12040;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuGetErrorString(CUresult, const char** text) {
  *text = "fake error";
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuDeviceGet(CUdevice* d, int ordinal) {
  if (ordinal < 0 || ordinal >= S().count) return CUDA_ERROR_INVALID_VALUE;
  *d = ordinal;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuDeviceGetCount(int* n) {
  *n = S().count;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuDeviceGetName(char* name, int length, CUdevice d) {
  snprintf(name, static_cast<std::size_t>(length), "Fake GPU %d", d);
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuDeviceGetUuid_v2(CUuuid* u, CUdevice d) {
  if (d < 0 || d >= S().count) return CUDA_ERROR_INVALID_VALUE;
  const unsigned char bytes[16] = {0xfa, 0x4e, 0xc0, 0xda, 0, 0, 0, 0,
                                   0,    0,    0,    0,    0, 0, 0, static_cast<unsigned char>(d)};
  memcpy(u->bytes, bytes, 16);
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuDeviceGetUuid(CUuuid* u, CUdevice d) { return cuDeviceGetUuid_v2(u, d); }
FAKE_EXPORT CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice) {
  if (attribute != CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT) return CUDA_ERROR_INVALID_VALUE;
  *value = S().sms;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuDeviceTotalMem_v2(std::size_t* bytes, CUdevice d) {
  if (d < 0 || d >= S().count) return CUDA_ERROR_INVALID_VALUE;
  *bytes = S().devices[d].total;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext* c, CUdevice d) {
  *c = AsHandle<CUcontext>(static_cast<std::uint64_t>(d) + 1);
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice) { return CUDA_SUCCESS; }
FAKE_EXPORT CUresult cuDeviceGetDefaultMemPool(CUmemoryPool* pool, CUdevice d) {
  *pool = AsHandle<CUmemoryPool>(static_cast<std::uint64_t>(d) + 0x100);
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuCtxSetCurrent(CUcontext c) {
  t_current = static_cast<int>(reinterpret_cast<std::uintptr_t>(c)) - 1;
  if (t_current < 0) t_current = 0;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuCtxGetDevice(CUdevice* d) {
  *d = t_current;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuCtxSynchronize() {
  std::int64_t until = 0;
  {
    std::lock_guard lock(S().mu);
    until = S().devices[t_current].busy_until;
  }
  SleepUntil(until);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* p, std::size_t bytes) {
  return Take(t_current, bytes, p);
}
FAKE_EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr* p, std::size_t* pitch, std::size_t width,
                                        std::size_t height, unsigned int) {
  *pitch = (width + 511) / 512 * 512;
  return Take(t_current, *pitch * height, p);
}
FAKE_EXPORT CUresult cuMemAllocManaged(CUdeviceptr* p, std::size_t bytes, unsigned int) {
  return Take(t_current, bytes, p);
}
FAKE_EXPORT CUresult cuMemAllocAsync(CUdeviceptr* p, std::size_t bytes, CUstream) {
  return Take(t_current, bytes, p);
}
FAKE_EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr* p, std::size_t bytes, CUstream) {
  return Take(t_current, bytes, p);
}
FAKE_EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr* p, std::size_t bytes, CUmemoryPool,
                                             CUstream) {
  return Take(t_current, bytes, p);
}
FAKE_EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr* p, std::size_t bytes, CUmemoryPool,
                                                  CUstream) {
  return Take(t_current, bytes, p);
}
FAKE_EXPORT CUresult cuMemFree_v2(CUdeviceptr p) { return Give(p); }
FAKE_EXPORT CUresult cuMemFreeAsync(CUdeviceptr p, CUstream) { return Give(p); }
FAKE_EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr p, CUstream) { return Give(p); }
FAKE_EXPORT CUresult cuMemGetInfo_v2(std::size_t* free_bytes, std::size_t* total_bytes) {
  std::lock_guard lock(S().mu);
  const Device& d = S().devices[t_current];
  *free_bytes = d.total - d.used;
  *total_bytes = d.total;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr, const void*, std::size_t) { return CUDA_SUCCESS; }
FAKE_EXPORT CUresult cuArrayCreate_v2(CUarray* a, const CUDA_ARRAY_DESCRIPTOR* desc) {
  unsigned long long key = 0;
  const CUresult rc = Take(
      t_current, ArrayBytes(desc->Width, desc->Height, 1, desc->Format, desc->NumChannels), &key);
  if (rc == CUDA_SUCCESS) *a = AsHandle<CUarray>(key);
  return rc;
}
FAKE_EXPORT CUresult cuArray3DCreate_v2(CUarray* a, const CUDA_ARRAY3D_DESCRIPTOR* desc) {
  unsigned long long key = 0;
  const CUresult rc = Take(
      t_current,
      ArrayBytes(desc->Width, desc->Height, desc->Depth, desc->Format, desc->NumChannels), &key);
  if (rc == CUDA_SUCCESS) *a = AsHandle<CUarray>(key);
  return rc;
}
FAKE_EXPORT CUresult cuArrayDestroy(CUarray a) { return Give(reinterpret_cast<std::uintptr_t>(a)); }
FAKE_EXPORT CUresult cuMipmappedArrayCreate(CUmipmappedArray* a,
                                            const CUDA_ARRAY3D_DESCRIPTOR* desc,
                                            unsigned int levels) {
  std::uint64_t bytes = 0;
  std::size_t w = desc->Width;
  std::size_t h = desc->Height;
  std::size_t d = desc->Depth;
  for (unsigned i = 0; i < (levels == 0 ? 1 : levels); ++i) {
    bytes += ArrayBytes(w, h, d, desc->Format, desc->NumChannels);
    w = w > 1 ? w / 2 : w;
    h = h > 1 ? h / 2 : h;
    d = d > 1 ? d / 2 : d;
  }
  unsigned long long key = 0;
  const CUresult rc = Take(t_current, bytes, &key);
  if (rc == CUDA_SUCCESS) *a = AsHandle<CUmipmappedArray>(key);
  return rc;
}
FAKE_EXPORT CUresult cuMipmappedArrayDestroy(CUmipmappedArray a) {
  return Give(reinterpret_cast<std::uintptr_t>(a));
}

FAKE_EXPORT CUresult cuMemGetAllocationGranularity(std::size_t* g, const CUmemAllocationProp*,
                                                   int) {
  *g = kGranularity;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle* handle, std::size_t bytes,
                                 const CUmemAllocationProp* prop, unsigned long long) {
  if (prop == nullptr || bytes % kGranularity != 0) return CUDA_ERROR_INVALID_VALUE;
  return Take(prop->location.id, bytes, handle);
}
FAKE_EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle handle) { return Give(handle); }
FAKE_EXPORT CUresult cuMemAddressReserve(CUdeviceptr* p, std::size_t bytes, std::size_t,
                                         CUdeviceptr, unsigned long long) {
  std::lock_guard lock(S().mu);
  *p = S().next;
  S().next += (bytes + kGranularity - 1) / kGranularity * kGranularity;
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuMemAddressFree(CUdeviceptr, std::size_t) { return CUDA_SUCCESS; }
FAKE_EXPORT CUresult cuMemMap(CUdeviceptr, std::size_t, std::size_t, CUmemGenericAllocationHandle,
                              unsigned long long) {
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuMemUnmap(CUdeviceptr, std::size_t) { return CUDA_SUCCESS; }
FAKE_EXPORT CUresult cuMemSetAccess(CUdeviceptr, std::size_t, const CUmemAccessDesc*, std::size_t) {
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuModuleLoadData(CUmodule* m, const void*) {
  *m = reinterpret_cast<CUmodule>(new int(0));
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuModuleGetFunction(CUfunction* f, CUmodule, const char* name) {
  if (name == nullptr || name[0] != 'k') return CUDA_ERROR_NOT_FOUND;
  *f = reinterpret_cast<CUfunction>(new FakeFunction{std::strtoll(name + 1, nullptr, 10)});
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuModuleUnload(CUmodule) { return CUDA_SUCCESS; }
FAKE_EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned, unsigned, unsigned, unsigned, unsigned,
                                    unsigned, unsigned, CUstream, void**, void**) {
  return Launch(f);
}
FAKE_EXPORT CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned, unsigned, unsigned, unsigned,
                                         unsigned, unsigned, unsigned, CUstream, void**, void**) {
  return Launch(f);
}
FAKE_EXPORT CUresult cuLaunchKernelEx(const CUlaunchConfig*, CUfunction f, void**, void**) {
  return Launch(f);
}
FAKE_EXPORT CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig*, CUfunction f, void**, void**) {
  return Launch(f);
}
FAKE_EXPORT CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned, unsigned, unsigned, unsigned,
                                               unsigned, unsigned, unsigned, CUstream, void**) {
  return Launch(f);
}
FAKE_EXPORT CUresult cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned, unsigned, unsigned,
                                                    unsigned, unsigned, unsigned, unsigned,
                                                    CUstream, void**) {
  return Launch(f);
}
// A graph here is a kernel handle (from cuModuleGetFunction) cast to CUgraphExec: one launch of it
// runs that kernel's length.
FAKE_EXPORT CUresult cuGraphLaunch(CUgraphExec g, CUstream) {
  return Launch(reinterpret_cast<CUfunction>(g));
}
FAKE_EXPORT CUresult cuGraphLaunch_ptsz(CUgraphExec g, CUstream) {
  return Launch(reinterpret_cast<CUfunction>(g));
}
FAKE_EXPORT CUresult cuStreamCreate(CUstream* s, unsigned int) {
  *s = reinterpret_cast<CUstream>(new int(0));
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuStreamSynchronize(CUstream) { return cuCtxSynchronize(); }
FAKE_EXPORT CUresult cuStreamDestroy_v2(CUstream) { return CUDA_SUCCESS; }
FAKE_EXPORT CUresult cuEventCreate(CUevent* e, unsigned int) {
  *e = reinterpret_cast<CUevent>(new FakeEvent());
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuEventRecord(CUevent e, CUstream) {
  std::lock_guard lock(S().mu);
  const std::int64_t busy = S().devices[t_current].busy_until;
  reinterpret_cast<FakeEvent*>(e)->t = busy > NowNs() ? busy : NowNs();
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuEventRecord_ptsz(CUevent e, CUstream s) { return cuEventRecord(e, s); }
FAKE_EXPORT CUresult cuEventQuery(CUevent e) {
  return reinterpret_cast<FakeEvent*>(e)->t <= NowNs() ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}
FAKE_EXPORT CUresult cuEventSynchronize(CUevent e) {
  SleepUntil(reinterpret_cast<FakeEvent*>(e)->t);
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
  const std::int64_t d =
      reinterpret_cast<FakeEvent*>(end)->t - reinterpret_cast<FakeEvent*>(start)->t;
  *ms = static_cast<float>(static_cast<double>(d) / 1e6);
  return CUDA_SUCCESS;
}
FAKE_EXPORT CUresult cuEventDestroy_v2(CUevent e) {
  delete reinterpret_cast<FakeEvent*>(e);
  return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ cuGetProcAddress

namespace {

// clang-format off
#define FAKE_SYMBOLS(X) \
  X(cuInit) X(cuDriverGetVersion) X(cuGetErrorString) X(cuDeviceGet) \
  X(cuDeviceGetCount) X(cuDeviceGetName) X(cuDeviceGetUuid) X(cuDeviceGetUuid_v2) \
  X(cuDeviceGetAttribute) X(cuDeviceTotalMem_v2) X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease_v2) \
  X(cuDeviceGetDefaultMemPool) X(cuCtxSetCurrent) X(cuCtxGetDevice) X(cuCtxSynchronize) \
  X(cuMemAlloc_v2) X(cuMemAllocPitch_v2) X(cuMemAllocAsync) X(cuMemAllocAsync_ptsz) \
  X(cuMemAllocFromPoolAsync) X(cuMemAllocFromPoolAsync_ptsz) X(cuMemFree_v2) X(cuMemFreeAsync_ptsz) \
  X(cuMemGetInfo_v2) X(cuMemcpyHtoD_v2) X(cuArrayCreate_v2) X(cuArray3DCreate_v2) \
  X(cuArrayDestroy) X(cuMipmappedArrayDestroy) X(cuMemGetAllocationGranularity) X(cuMemCreate) \
  X(cuMemRelease) X(cuMemAddressFree) X(cuMemMap) X(cuMemUnmap) \
  X(cuMemSetAccess) X(cuModuleLoadData) X(cuModuleGetFunction) X(cuLaunchKernel) \
  X(cuLaunchKernel_ptsz) X(cuLaunchKernelEx) X(cuLaunchKernelEx_ptsz) X(cuLaunchCooperativeKernel_ptsz) X(cuGraphLaunch) X(cuGraphLaunch_ptsz) \
  X(cuStreamCreate) X(cuStreamSynchronize) X(cuStreamDestroy_v2) X(cuEventCreate) \
  X(cuEventRecord) X(cuEventRecord_ptsz) X(cuEventQuery) X(cuEventSynchronize) \
  X(cuEventElapsedTime) X(cuEventDestroy_v2) X(cuGetProcAddress) X(cuGetProcAddress_v2)
// clang-format on

struct Symbol {
  const char* name;
  void* address;
};

}  // namespace

extern "C" CUresult cuGetProcAddress_v2(const char*, void**, int, cuuint64_t,
                                        CUdriverProcAddressQueryResult*);

namespace {

const Symbol kSymbols[] = {
#define FAKE_ENTRY(sym) \
  {#sym, reinterpret_cast<void*>(&sym)},  // NOLINT(bugprone-macro-parentheses)
    FAKE_SYMBOLS(FAKE_ENTRY)
#undef FAKE_ENTRY
};

void* Own(const std::string& name) {
  for (const Symbol& s : kSymbols) {
    if (name == s.name) return s.address;
  }
  return nullptr;
}

}  // namespace

FAKE_EXPORT void* FakeCudaAddress(const char* name) { return Own(name); }
FAKE_EXPORT std::uint64_t FakeCudaUsedBytes(int dev) {
  std::lock_guard lock(S().mu);
  return S().devices[dev].used;
}
FAKE_EXPORT std::int64_t FakeCudaBusyNs(int dev) {
  std::lock_guard lock(S().mu);
  return S().devices[dev].busy_ns;
}
FAKE_EXPORT std::uint64_t FakeCudaLaunches() {
  std::lock_guard lock(S().mu);
  return S().launches;
}

FAKE_EXPORT CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int version,
                                         cuuint64_t flags, CUdriverProcAddressQueryResult* status) {
  if (symbol == nullptr || pfn == nullptr) return CUDA_ERROR_INVALID_VALUE;
  const std::string name = symbol;
  void* p = nullptr;
  if ((flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0) p = Own(name + "_ptsz");
  if (p == nullptr && name == "cuGetProcAddress" && version >= 12000) p = Own(name + "_v2");
  if (p == nullptr && name != "cuGetProcAddress" && version >= 3020) p = Own(name + "_v2");
  if (p == nullptr) p = Own(name);
  *pfn = p;
  if (status != nullptr) {
    *status = p != nullptr ? CU_GET_PROC_ADDRESS_SUCCESS : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  }
  return p != nullptr ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
}

FAKE_EXPORT CUresult cuGetProcAddress(const char* symbol, void** pfn, int version,
                                      cuuint64_t flags) {
  return cuGetProcAddress_v2(symbol, pfn, version, flags, nullptr);
}

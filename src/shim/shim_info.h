// What the shim tells a program that asks whether it is active: `gpupool doctor` looks up
// kShimQuerySymbol in its own process with dlsym(RTLD_DEFAULT, ...) and, when the shim is loaded
// (preloaded by the executor), calls it. Plain C layout; `size` lets a newer reader see an older
// shim's shorter struct.
#pragma once

#include <cstdint>

extern "C" {

struct GpupoolShimInfo {
  std::uint32_t size;          // sizeof(GpupoolShimInfo) of the shim that filled it
  std::int32_t config_ok;      // 0: a bad variable; `error` says which
  std::int64_t job_id;         // GPUPOOL_JOB_ID, 0 = unset (per-process accounting)
  std::int32_t gpu_milli;      // GPUPOOL_GPU_MILLI as read, 0 = unset
  std::int32_t paced;          // kernel launches are paced to gpu_milli
  std::int64_t memory_mib;     // GPUPOOL_GPU_MEMORY_MIB as read, 0 = unset
  std::int32_t memory_capped;  // allocations are capped (explicit or the share of the memory)
  std::int32_t driver_loaded;  // the real libcuda.so.1 was found
  char error[256];             // the configuration error, "" when none
  char library[256];           // the shim's own path
};

// int GpupoolShimQuery(GpupoolShimInfo* info): fills *info (info->size must be set by the
// caller to the size it knows); returns 0.
typedef int (*GpupoolShimQueryFn)(GpupoolShimInfo* info);
inline constexpr const char* kShimQuerySymbol = "GpupoolShimQuery";

}  // extern "C"

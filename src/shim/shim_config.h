// ShimConfig: what the shim enforces in a job, read from the variables the executor sets
// (src/server/pool_service.h lists them): GPUPOOL_JOB_ID, GPUPOOL_GPU_MILLI (per GPU, 1000 = a
// whole GPU, 0 = no GPU share given) and GPUPOOL_GPU_MEMORY_MIB (per GPU, 0 = no explicit cap).
//
// Rules (docs/shim.md):
//   - memory: a GPU's cap is GPUPOOL_GPU_MEMORY_MIB when above 0; otherwise, for a fractional job
//     (0 < milli < 1000), the job's share of the GPU's memory, milli/1000 of it rounded down to the
//     MiB; otherwise none.
//   - compute: launches are paced when 0 < milli < 1000.
//   - GPUPOOL_JOB_ID names the accounting region shared by the job's processes; unset, each process
//     accounts alone.
//
// Errors: a variable that is set but is not a decimal integer in its range gives an error naming
// the variable, its value and the range; the shim then refuses CUDA (docs/shim.md). Pure: the
// environment is read through the function given. Thread safety: no state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace gpupool::shim {

inline constexpr const char* kJobIdEnv = "GPUPOOL_JOB_ID";
inline constexpr const char* kGpuMilliEnv = "GPUPOOL_GPU_MILLI";
inline constexpr const char* kGpuMemoryMibEnv = "GPUPOOL_GPU_MEMORY_MIB";
// Where the shim finds the driver when not "libcuda.so.1" (tests, benchmarks, odd installs).
inline constexpr const char* kCudaLibraryEnv = "GPUPOOL_SHIM_CUDA_LIBRARY";

inline constexpr std::uint64_t kMiB = 1024ULL * 1024ULL;

struct ShimConfig {
  std::int64_t job_id = 0;      // 0: not set
  int gpu_milli = 0;            // 0..1000; 0: not set
  std::int64_t memory_mib = 0;  // 0: not set

  bool paced() const { return gpu_milli > 0 && gpu_milli < 1000; }
  // The memory cap of a GPU with `total_bytes` of memory, in bytes; 0 = no cap.
  std::uint64_t MemoryCapBytes(std::uint64_t total_bytes) const;
  // Whether the shim has anything to enforce (a fraction or a memory cap).
  bool enforces() const { return paced() || memory_mib > 0; }
};

struct ShimConfigResult {
  ShimConfig config;
  std::string error;  // empty: config is valid
};

// Reads the three variables through `get` (getenv's contract: nullptr when unset).
using EnvLookup = std::function<const char*(const char* name)>;
ShimConfigResult ParseShimConfig(const EnvLookup& get);

}  // namespace gpupool::shim

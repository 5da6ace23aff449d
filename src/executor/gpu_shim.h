// Which jobs run with the CUDA shim (libgpupool-cuda.so, src/shim/, docs/shim.md) preloaded, and
// where the executor finds it.
//
// A job gets the shim when it holds a fraction of a GPU or a memory cap, by the shim's own rule
// (shim::ShimConfig::enforces, from GPUPOOL_GPU_MILLI and GPUPOOL_GPU_MEMORY_MIB): a job of whole
// GPUs runs without it. MakeLaunchPlan (launch_plan.h) applies this when LaunchSpec::gpu_shim
// names the library: LD_PRELOAD becomes the shim followed by whatever LD_PRELOAD the job had.
//
// Thread safety: pure functions, except FindGpuShim, which reads the environment and the file
// system.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace gpupool::executor {

// Overrides where the shim is looked for (FindGpuShim).
inline constexpr const char* kGpuShimEnv = "GPUPOOL_CUDA_SHIM";

// Whether a job whose environment is `env` ("NAME=value" strings, the last of a name wins) needs
// the shim. InvalidArgument, naming the variable, for a GPUPOOL_* share that is not a number in
// its range.
Result<bool> NeedsGpuShim(const std::vector<std::string>& env);

// The LD_PRELOAD value with `shim` first and the job's own `existing` list (':' or ' '
// separated) after it; the shim is not repeated when already listed.
std::string PreloadWithShim(const std::string& shim, std::string_view existing);

// Where the shim is: $GPUPOOL_CUDA_SHIM when set (it must exist); else the install layout
// (libgpupool-cuda.so in lib/gpupool/ of the prefix the running binary's bin/ belongs to); else,
// for a binary inside its build tree, the build tree's library. NotFound listing the places
// looked at.
Result<std::string> FindGpuShim();

}  // namespace gpupool::executor

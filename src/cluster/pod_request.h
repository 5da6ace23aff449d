// PodRequest: what one job (pod) asks of one node. Integer units: milli-CPU, MiB, milli-GPU.
//
// The four shapes the scheduler knows:
//   CPU-only      num_gpu == 0, gpu_milli == 0
//   shared GPU    num_gpu == 1, 0 < gpu_milli < 1000 (a share of one GPU's compute and memory)
//   whole GPUs    num_gpu == k >= 1, gpu_milli == 1000
// plus an optional GPU-model constraint (a set of allowed models; empty = any) and an optional
// amount of GPU memory per GPU (a fractional job sized by memory, as the planner emits it).
#pragma once

#include <cstdint>

#include "cluster/model_table.h"
#include "cluster/node_spec.h"
#include "common/status.h"

namespace gpupool::cluster {

enum class PodShape { kCpuOnly, kSharedGpu, kWholeGpus };

struct PodRequest {
  std::int64_t cpu_milli = 0;
  std::int64_t memory_mib = 0;
  std::int32_t num_gpu = 0;
  std::int32_t gpu_milli = 0;       // per GPU
  std::int64_t gpu_memory_mib = 0;  // GPU memory per GPU; 0 = not asked (the share of milli only)
  ModelMask allowed_models = kAnyModel;

  PodShape shape() const {
    if (num_gpu == 0) return PodShape::kCpuOnly;
    return gpu_milli < 1000 ? PodShape::kSharedGpu : PodShape::kWholeGpus;
  }
  // Total GPU milli asked for: num_gpu x gpu_milli.
  std::int64_t total_gpu_milli() const { return std::int64_t{num_gpu} * gpu_milli; }
  // Clustering tag: bit 0 for a shared GPU, bit k for k whole GPUs, 0 for CPU-only.
  std::uint32_t tag() const {
    if (num_gpu == 0) return 0;
    return shape() == PodShape::kSharedGpu ? 1U : (1U << num_gpu);
  }

  friend bool operator==(const PodRequest&, const PodRequest&) = default;
};

// Checks the shape rules above; the message names the field at fault ("gpu_milli: 1200 is over
// 1000").
Status ValidatePodRequest(const PodRequest& r);

}  // namespace gpupool::cluster

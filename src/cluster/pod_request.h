// PodRequest: what one job (pod) asks of one node. Integer units: milli-CPU, MiB, milli-GPU.
//
// The four shapes the scheduler knows:
//   CPU-only      num_gpu == 0, gpu_milli == 0
//   shared GPU    num_gpu == 1, 0 < gpu_milli < 1000 (a share of one GPU's compute and memory)
//   whole GPUs    num_gpu == k >= 1, gpu_milli == 1000
// plus an optional GPU-model constraint (a set of allowed models; empty = any), an optional
// amount of GPU memory per GPU (a fractional job sized by memory, as the planner emits it) and an
// optional topology rule.
//
// Topology (require_nvlink): the pod's GPUs must all lie inside ONE NVLink island of its node
// (NodeState::island_masks), as tensor parallelism wants. Rules:
//   - a pod of at most one GPU always meets it (one GPU needs no interconnect), on any node;
//   - a pod of k > 1 GPUs fits a node only when one island has k GPUs that fit it; a node whose
//     islands are unknown (num_islands == 0, e.g. every openb node) never meets it;
//   - false (the default) keeps islands a preference only (placement/policy.h DefaultGpuChoice).
// It is part of the request's shape: two requests that differ only in it are different shapes
// for every cache keyed by request (operator== below, the Placer's and the scheduler's hashes).
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
  bool require_nvlink = false;  // the GPUs inside one NVLink island (see the header comment)

  // True when the topology rule constrains this pod: require_nvlink with more than one GPU.
  bool needs_one_island() const { return require_nvlink && num_gpu > 1; }

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

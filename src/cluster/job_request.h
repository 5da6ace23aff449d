// The job request as JSON: what `gpupool plan ... --emit-request` prints and what the scheduler
// reads (later the service's submit endpoint too). A request is a gang: `replicas` identical pods,
// each asking the members below of one node.
//
//   {"num_gpu": 8, "gpu_milli": 1000, "gpu_models": ["H100-SXM"], "gpu_memory_mib": 19769,
//    "cpu_milli": 32000, "memory_mib": 262144, "replicas": 8}
//
// Every member is optional except num_gpu; gpu_milli defaults to 1000 when num_gpu > 0;
// gpu_models empty or absent = any model; replicas absent = 1 (the single-pod request of before
// gangs, read exactly as it was). num_gpu, gpu_milli, gpu_memory_mib, cpu_milli and memory_mib are
// PER REPLICA: the gang above asks for 8 x 8 = 64 GPUs in all. Errors name the member
// ("gpu_models[1]: unknown GPU model 'H300' (the cluster has: ...)", "replicas: 0 is not between
// 1 and 4096") and nothing is returned on error.
//
// Thread safety: stateless functions over plain values.
#pragma once

#include <nlohmann/json.hpp>

#include "cluster/model_table.h"
#include "cluster/pod_request.h"
#include "common/status.h"

namespace gpupool::cluster {

// Most replicas one request may ask for.
inline constexpr int kMaxReplicas = 4096;

// `replicas` pods of the shape `replica`, placed on distinct nodes or not at all (gang semantics
// are the queue's and the scheduler's business; this type only carries the request).
struct GangRequest {
  PodRequest replica;
  int replicas = 1;

  // GPUs asked for in all: replicas x num_gpu.
  std::int64_t total_gpus() const { return std::int64_t{replicas} * replica.num_gpu; }

  friend bool operator==(const GangRequest&, const GangRequest&) = default;
};

Result<GangRequest> ParseJobRequest(const nlohmann::json& j, const ModelTable& models);

// How a job of `gpus` GPUs splits into replicas of one node each, on nodes of `gpus_per_node`.
struct GangShape {
  int replicas = 1;
  int gpus_per_replica = 0;

  friend bool operator==(const GangShape&, const GangShape&) = default;
};

// The split the planner's --emit-request uses. gpus <= gpus_per_node: one replica of `gpus`.
// Otherwise gpus_per_replica is the largest d <= gpus_per_node that divides `gpus` and is a
// multiple of min(keep_together, gpus_per_node), so that a group of GPUs that must share a node
// (the tensor-parallel group) is never cut by a node boundary; when no such d exists (a group that
// itself does not divide evenly), the largest divisor of `gpus` not above gpus_per_node.
// Examples: (64, 8, 8) -> 8 x 8; (12, 8, 4) -> 3 x 4 (6 would cut a TP group of 4);
// (16, 8, 16) -> 2 x 8.
// Errors (INVALID_ARGUMENT): gpus < 1, keep_together < 1, gpus_per_node not in
// 1..kMaxGpusPerNode, more than kMaxReplicas replicas.
Result<GangShape> SplitIntoGang(int gpus, int gpus_per_node, int keep_together);

}  // namespace gpupool::cluster

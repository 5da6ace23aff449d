// ClusterState: the accounting state of the pool, the one thing placement reads and the
// scheduler commits to. Per node: CPU and memory left, milli-GPU left on each GPU, the node's GPU
// model, the tags of the GPU pods it holds, and a version that changes on every commit (so
// placement can cache per-node scores and recompute only nodes that changed).
//
// Every amount is an integer; Allocate() checks that nothing is overcommitted (CPU, memory, each
// GPU's milli) and aborts on a violation: callers place only what placement found to fit.
//
// Thread safety: none; one scheduler thread owns it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "cluster/model_table.h"
#include "cluster/node_spec.h"
#include "cluster/pod_request.h"
#include "common/status.h"

namespace gpupool::cluster {

// Hot-path view of one node; fixed size, no allocation.
struct NodeState {
  std::int64_t cpu_left = 0;
  std::int64_t memory_left = 0;
  std::int64_t cpu_capacity = 0;
  std::int64_t memory_capacity = 0;
  std::array<std::int32_t, kMaxGpusPerNode> gpu_left{};  // milli left per GPU, 0..1000
  // GPU memory left per GPU, MiB; a GPU whose memory is unknown (traces) has 0 and fits only
  // requests that ask for no GPU memory.
  std::array<std::int32_t, kMaxGpusPerNode> gpu_memory_left{};
  std::int32_t gpu_left_sum = 0;  // sum of gpu_left
  std::int32_t num_gpus = 0;
  std::int32_t num_free_gpus = 0;  // GPUs with all 1000 milli left
  ModelId model = 0;               // the node's GPU model (meaningless when num_gpus == 0)
  std::uint32_t gpu_tags = 0;      // OR of PodRequest::tag() of the GPU pods on the node
  std::uint32_t version = 1;       // bumped by every Allocate/Release
};

// Where one pod goes: a node, the GPUs it takes (bit g = GPU g) and the milli on each.
struct Allocation {
  int node = -1;
  std::uint32_t gpu_mask = 0;
  std::int32_t gpu_milli = 0;       // per GPU in gpu_mask
  std::int32_t gpu_memory_mib = 0;  // per GPU in gpu_mask
  std::int64_t cpu_milli = 0;
  std::int64_t memory_mib = 0;
  std::uint32_t tag = 0;
};

// True when `r` fits node `n` now: CPU, memory, model constraint and GPUs.
bool Fits(const PodRequest& r, const NodeState& n);

// True when GPU `g` of `n` can take one GPU's worth of `r`: milli (a whole-GPU request needs all
// 1000) and GPU memory.
inline bool GpuFits(const PodRequest& r, const NodeState& n, int g) {
  const auto i = static_cast<std::size_t>(g);
  return n.gpu_left[i] >= r.gpu_milli &&
         (r.gpu_memory_mib == 0 || n.gpu_memory_left[i] >= r.gpu_memory_mib);
}

// The allocation of `r` on node `node` with the GPUs of `gpu_mask`.
Allocation MakeAllocation(const PodRequest& r, int node, std::uint32_t gpu_mask);

class ClusterState {
 public:
  // Builds the state from node descriptions; GPU models are interned into `models` (a node must
  // hold one GPU model). InvalidArgument names the node at fault.
  static Result<ClusterState> Build(const std::vector<NodeSpec>& nodes, ModelTable& models);

  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  const NodeState& node(int i) const { return nodes_[static_cast<std::size_t>(i)]; }
  const std::vector<NodeState>& nodes() const { return nodes_; }

  // Commits / undoes a placement. Aborts (GP_CHECK) when it would overcommit.
  void Allocate(const Allocation& a);
  void Release(const Allocation& a);

  std::int64_t gpu_capacity_milli() const { return gpu_capacity_milli_; }
  std::int64_t gpu_allocated_milli() const { return gpu_allocated_milli_; }
  int num_gpus() const { return num_gpus_; }

 private:
  std::vector<NodeState> nodes_;
  std::int64_t gpu_capacity_milli_ = 0;
  std::int64_t gpu_allocated_milli_ = 0;
  int num_gpus_ = 0;
};

}  // namespace gpupool::cluster

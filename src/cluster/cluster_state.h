// ClusterState: the accounting state of the pool, the one thing placement reads and the
// scheduler commits to. Per node: CPU and memory left, milli-GPU left on each GPU, the node's GPU
// model, the tags of the GPU pods it holds, its NVLink islands, whether it takes new work, and a
// version that changes on every change of the node (so placement can cache per-node scores and
// recompute only nodes that changed).
//
// Every amount is an integer. Allocate() and Release() check the whole change first and either
// apply all of it or nothing:
//   Allocate: InvalidArgument for a malformed allocation (a node index out of range, a negative
//     amount, more than 1000 milli per GPU, a GPU mask naming a GPU the node does not have);
//     FailedPrecondition when it does not fit now (CPU, memory, a GPU's milli or memory
//     overcommitted, an unhealthy GPU, a cordoned or removed node).
//   Release: the same InvalidArgument cases; FailedPrecondition when it gives back more than is
//     allocated (CPU, memory, a GPU's milli or memory, a pod tag the node does not hold).
// Messages name the node (index and name), the GPU and the amounts. A scheduler that commits only
// what placement found treats an error as a bug (GP_CHECK at the call site).
//
// Release() is the exact inverse of Allocate(): the node's NodeState afterwards equals the one
// before the Allocate, version excepted (gpu_tags is recomputed from per-tag pod counts).
//
// Versions are drawn from one process-wide counter, so two nodes never share a version unless one
// is a copy of the other with the same contents: a copy of a ClusterState used for a what-if
// (preemption, backfill) and the original can share one Placer and its score cache.
//
// Change journal: every change of a node's version also appends the node's index to the state's
// journal, so a Placer can re-score the nodes that changed since its last decision instead of
// checking every node. Journal positions are absolute and belong to one ClusterState value: a
// copy (or a copy-assignment) gets a new journal id and an empty journal, and a moved-from state
// a new id, so a position never carries over to another value. The journal keeps at most about
// 4 x nodes entries; older ones are dropped (journal_begin() moves), and a reader that is further
// behind checks every node instead.
//
// Nodes come and go without a rebuild: AddNode() appends (indices are stable), SetSchedulable()
// cordons, SetGpuHealthy() takes one GPU out of service, RemoveNode() leaves a tombstone (an empty
// node that never fits) in the slot. A cordoned node or an unhealthy GPU keeps its allocations,
// which can be released as usual. An unhealthy GPU reads 0 milli and 0 MiB left in NodeState
// (it offers nothing to new work; the scorers and the fragmentation measure see it as full); its
// true use is kept apart (gpu_used_milli()) and comes back into view when it is healthy again.
// A GPU in MIG mode (GpuSpec::mig_enabled) is kept out of new work the same way, for as long as the
// node is in the pool, whatever its health: gpupool does not place jobs on MIG instances yet.
//
// Thread safety: none; one scheduler thread owns it. Copies are independent values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/model_table.h"
#include "cluster/node_spec.h"
#include "cluster/pod_request.h"
#include "common/status.h"

namespace gpupool::cluster {

// Most NVLink islands one node may declare.
inline constexpr int kMaxIslandsPerNode = 8;

// Hot-path view of one node; fixed size, no allocation.
struct NodeState {
  std::int64_t cpu_left = 0;
  std::int64_t memory_left = 0;
  std::int64_t cpu_capacity = 0;
  std::int64_t memory_capacity = 0;
  // Milli left per GPU, 0..1000, for new work: an unhealthy GPU reads 0.
  std::array<std::int32_t, kMaxGpusPerNode> gpu_left{};
  // GPU memory left per GPU, MiB; a GPU whose memory is unknown (traces) has 0 and fits only
  // requests that ask for no GPU memory. An unhealthy GPU reads 0.
  std::array<std::int32_t, kMaxGpusPerNode> gpu_memory_left{};
  // NVLink islands: bit g of island_masks[i] = GPU g is in island i; num_islands == 0 means the
  // topology is unknown (every openb node).
  std::array<std::uint32_t, kMaxIslandsPerNode> island_masks{};
  std::int32_t num_islands = 0;
  std::int32_t gpu_left_sum = 0;  // sum of gpu_left
  std::int32_t num_gpus = 0;
  std::int32_t num_free_gpus = 0;    // GPUs with all 1000 milli left (healthy ones only)
  std::uint32_t unhealthy_gpus = 0;  // bit g = GPU g takes no new work (unhealthy or MIG mode)
  ModelId model = 0;                 // the node's GPU model (meaningless when num_gpus == 0)
  bool schedulable = true;           // false: cordoned (or removed); takes no new work
  bool removed = false;              // a tombstone: empty, never fits
  std::uint32_t gpu_tags = 0;        // OR of PodRequest::tag() of the GPU pods on the node
  // Drawn from a process-wide counter at every change; >= 1 for a node of a ClusterState (0 is
  // a hand-built value's).
  std::uint64_t version = 0;

  friend bool operator==(const NodeState&, const NodeState&) = default;
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

  friend bool operator==(const Allocation&, const Allocation&) = default;
};

// Why `r` does not fit node `n` now, the first of Fits' checks that fails, in this order.
enum class Misfit {
  kFits,            // it fits
  kNotSchedulable,  // cordoned, draining, unhealthy or removed
  kCpu,             // not enough CPU left
  kMemory,          // not enough host memory left
  kTooFewGpus,      // the node has fewer GPUs than one replica asks for
  kModel,           // the node's GPU model is not one the pod allows
  kIsland,          // not enough fitting GPUs inside one NVLink island
  kGpus,            // not enough GPUs with the milli (and GPU memory) the pod asks for
};
Misfit WhyNotFits(const PodRequest& r, const NodeState& n);
// The API's name of a Misfit: "fits", "not_schedulable", "cpu", "memory", "too_few_gpus",
// "model", "island", "gpus".
std::string_view MisfitName(Misfit m);

// True when `r` fits node `n` now: the node takes work (schedulable, not removed), CPU, memory,
// model constraint and GPUs; for a pod that needs one NVLink island (PodRequest::needs_one_island),
// one island of `n` with num_gpu GPUs that fit (never on a node with unknown islands).
inline bool Fits(const PodRequest& r, const NodeState& n) {
  return WhyNotFits(r, n) == Misfit::kFits;
}

// GPUs of island `island` of `n` that can take one GPU's worth of `r` (GpuFits), as a mask.
std::uint32_t IslandFitting(const PodRequest& r, const NodeState& n, int island);

// The most GPUs that fit `r` (GpuFits) inside one NVLink island of `n`; 0 when the islands are
// unknown.
int MostFittingInOneIsland(const PodRequest& r, const NodeState& n);

// True when GPU `g` of `n` can take one GPU's worth of `r`: milli (a whole-GPU request needs all
// 1000) and GPU memory. An unhealthy GPU has 0 milli left, so it never fits a GPU request.
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
  // hold one GPU model). NodeSpec::nvlink_islands become NodeState::island_masks. InvalidArgument
  // names the node at fault (also for an island naming a GPU the node does not have, a GPU in two
  // islands, an empty island, or more than kMaxIslandsPerNode islands).
  static Result<ClusterState> Build(const std::vector<NodeSpec>& nodes, ModelTable& models);

  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  const NodeState& node(int i) const { return nodes_[static_cast<std::size_t>(i)]; }
  const std::vector<NodeState>& nodes() const { return nodes_; }
  const std::string& node_name(int i) const { return books_[static_cast<std::size_t>(i)].name; }
  // GPU `gpu` of node `node` is healthy (SetGpuHealthy), whether or not it is in MIG mode.
  bool gpu_healthy(int node, int gpu) const {
    return ((books_[static_cast<std::size_t>(node)].down_gpus >> gpu) & 1U) == 0;
  }
  // GPU `gpu` of node `node` is in MIG mode (from its NodeSpec): it takes no new work.
  bool gpu_in_mig_mode(int node, int gpu) const {
    return ((books_[static_cast<std::size_t>(node)].mig_gpus >> gpu) & 1U) != 0;
  }
  // Milli allocated on GPU `gpu` of node `node`, healthy or not.
  std::int32_t gpu_used_milli(int node, int gpu) const {
    return books_[static_cast<std::size_t>(node)].gpu_used_milli[static_cast<std::size_t>(gpu)];
  }

  // Commits / undoes a placement; all or nothing, errors as in the header comment.
  Status Allocate(const Allocation& a);
  Status Release(const Allocation& a);

  // Appends a node (validated as in Build) and returns its index; nothing changes on error.
  // A Placer that serves this state must be told (Placer::OnNodeAdded).
  Result<int> AddNode(const NodeSpec& spec, ModelTable& models);
  // Cordons (false) or uncordons (true) a node. FailedPrecondition for a removed node.
  Status SetSchedulable(int node, bool schedulable);
  // Takes GPU `gpu` of `node` out of service (false) or back (true); a GPU in MIG mode stays out
  // of new work when back. FailedPrecondition for a removed node.
  Status SetGpuHealthy(int node, int gpu, bool healthy);
  // Leaves a tombstone in the slot: FailedPrecondition while anything is allocated on the node or
  // when it is removed already. The node's GPUs leave the capacity totals.
  Status RemoveNode(int node);

  // Totals over the nodes that are not removed (unhealthy GPUs included).
  std::int64_t gpu_capacity_milli() const { return gpu_capacity_milli_; }
  std::int64_t gpu_allocated_milli() const { return gpu_allocated_milli_; }
  int num_gpus() const { return num_gpus_; }

  // The change journal (see the header comment): its id (unique in the process), the positions
  // it holds now ([journal_begin(), journal_end())) and the node changed at position `pos`.
  std::uint64_t journal_id() const { return journal_.id; }
  std::uint64_t journal_begin() const { return journal_.begin; }
  std::uint64_t journal_end() const { return journal_.begin + journal_.nodes.size(); }
  int journal_node(std::uint64_t pos) const {
    return journal_.nodes[static_cast<std::size_t>(pos - journal_.begin)];
  }

 private:
  // The journal as a value whose copies are new journals (a new id, no entries) and whose
  // moved-from side gets a new id.
  struct Journal {
    Journal();
    Journal(const Journal&);
    Journal& operator=(const Journal&);
    Journal(Journal&& other) noexcept;
    Journal& operator=(Journal&& other) noexcept;
    ~Journal() = default;
    // Appends `node`; drops the older half when longer than `bound`.
    void Note(int node, std::size_t bound);

    std::uint64_t id;
    std::uint64_t begin = 0;
    std::vector<int> nodes;
  };
  // A new version for node `node` (every change of a node goes through here).
  void Touch(int node);

  // The exact per-node books placement never reads: true GPU use (an unhealthy GPU reads 0 left
  // in NodeState), GPU memory capacity, and the count of pods per tag bit.
  struct NodeBook {
    std::string name;
    std::array<std::int32_t, kMaxGpusPerNode> gpu_used_milli{};
    std::array<std::int32_t, kMaxGpusPerNode> gpu_memory_used{};
    std::array<std::int32_t, kMaxGpusPerNode> gpu_memory_capacity{};
    std::array<std::int32_t, 32> tag_count{};
    std::uint32_t down_gpus = 0;  // bit g = GPU g is unhealthy (SetGpuHealthy)
    std::uint32_t mig_gpus = 0;   // bit g = GPU g is in MIG mode (GpuSpec::mig_enabled)
  };

  // Validates `spec` and makes its node view and books.
  static Result<std::pair<NodeState, NodeBook>> MakeNode(const NodeSpec& spec, ModelTable& models);
  Status CheckNodeIndex(int node) const;
  Status CheckAllocationShape(const Allocation& a, const char* what) const;
  std::string NodeLabel(int node) const;
  // Sets GPU g's view (gpu_left, gpu_memory_left, num_free_gpus, gpu_left_sum) from the books.
  void RefreshGpuView(int node, int g);

  std::vector<NodeState> nodes_;
  std::vector<NodeBook> books_;
  std::int64_t gpu_capacity_milli_ = 0;
  std::int64_t gpu_allocated_milli_ = 0;
  int num_gpus_ = 0;
  Journal journal_;
};

}  // namespace gpupool::cluster

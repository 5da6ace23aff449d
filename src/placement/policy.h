// Policy: how placement ranks the nodes where a pod fits, as a Kubernetes-style filter + scorer
// plug-in. The feasibility filter is shared (cluster::Fits: CPU, memory, GPU model, GPUs); a
// policy scores each feasible node 0-100 (integers, truncated from its formula) and names the
// GPUs it would use there. The Placer (placement/placer.h) takes the highest score, ties going to
// the node with the best priority in one seeded node order (see placer.h).
//
// Contract: Score() is a pure function of (request, node state): no clock, no I/O, no hidden
// state, no allocation. That purity is what lets the Placer cache a node's score per request
// shape until the node changes.
#pragma once

#include <cstdint>
#include <string_view>

#include "cluster/cluster_state.h"
#include "cluster/pod_request.h"
#include "placement/workload.h"

namespace gpupool::placement {

using cluster::NodeState;
using cluster::PodRequest;

// A node's score for a pod and the GPUs the pod would take there (bit g = GPU g).
inline constexpr int kMaxNodeScore = 32767;

struct NodeScore {
  // Higher is better: 0..100 for the published policies; the Placer takes 0..kMaxNodeScore (its
  // cache keeps 16 bits): fgd-window with pack_near_ties scores FGD x 20 + best fit, 0..2,100.
  int score = 0;
  std::uint32_t gpu_mask = 0;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;

  // Score of feasible node `n` for `r` (the caller has checked cluster::Fits(r, n)).
  virtual NodeScore Score(const PodRequest& r, const NodeState& n) const = 0;

  // Optional split of Score() for policies whose score needs a term of the node alone (FGD: the
  // node's fragment before placement). When uses_node_base(), the Placer computes NodeBase(n)
  // once per node version, for every request shape, and calls ScoreWithBase(r, n, NodeBase(n)),
  // which must equal Score(r, n) exactly. Both are pure, as Score().
  virtual bool uses_node_base() const { return false; }
  virtual double NodeBase(const NodeState& /*n*/) const { return 0; }
  virtual NodeScore ScoreWithBase(const PodRequest& r, const NodeState& n, double /*base*/) const {
    return Score(r, n);
  }

  // True for policies that ignore scores and draw a uniformly random feasible node and a random
  // fitting GPU (the Random baseline); the Placer then uses its Rng instead of Score().
  virtual bool random_choice() const { return false; }

  // The scheduling window (pods placed together) this policy is meant to run with when the
  // scheduler is not told one: 1 (online, one pod at a time) for the published policies.
  virtual int default_window() const { return 1; }

  // The target workload changed (a service that learns it, placement/workload_learner.h): a
  // policy that scores against a workload (fgd, fgd-window) takes the new one; the others ignore
  // it. Scores change, so every Placer that uses this policy must be told
  // (Placer::InvalidateScores) before its next decision. Not thread-safe against Score().
  virtual void SetWorkload(const Workload& /*w*/) {}
};

// The default choice of GPUs inside a node, shared by the baselines: a shared-GPU pod goes to the
// fitting GPU with the least milli left (lowest index on ties); whole-GPU pods take the
// lowest-index fully free GPUs; CPU-only pods take none. Requires Fits(r, n).
// NVLink islands: a pod of k > 1 whole GPUs on a node with known islands takes the k lowest-index
// free GPUs of ONE island when some island has k free: the island with the fewest free GPUs that
// still holds k (lowest island index on ties), which keeps the bigger free islands whole for
// bigger pods. When no island has k free, or the node's islands are unknown, the rule above.
// A pod that requires NVLink (PodRequest::needs_one_island) fits only where some island has k
// free (cluster::Fits), so it always gets the island choice: its GPUs lie in one island.
std::uint32_t DefaultGpuChoice(const PodRequest& r, const NodeState& n);

}  // namespace gpupool::placement

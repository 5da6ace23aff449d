// Placer: the placement decision. For a pod, filter the nodes where it fits (cluster::Fits),
// score them with the policy, and take the highest score; ties go to the node that comes first in
// ONE seeded node order drawn when the Placer is built (the rule of the published simulator: each
// node gets a random priority once per seed, not a fresh draw per decision; see
// ../shared/specs/openb-fill.md). The Random policy draws a feasible node and GPU from the
// Placer's own seeded Rng instead.
//
// Hot path: no allocation per candidate node. A node's score for a request shape is cached with
// the node's version and recomputed only when the node changed since (policies are pure
// functions of request and node state, placement/policy.h).
//
// Thread safety: one Placer per scheduler thread.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "cluster/cluster_state.h"
#include "common/rng.h"
#include "placement/policy.h"

namespace gpupool::placement {

class Placer {
 public:
  Placer(const Policy& policy, int num_nodes, std::uint64_t seed);

  // Interns a request shape: equal requests get equal ids (the key of the score cache).
  int ShapeId(const PodRequest& r);

  // Where `r` goes on `state` now, or nullopt when it fits nowhere. `shape_id` must come from
  // ShapeId(r) on this Placer.
  std::optional<cluster::Allocation> Place(const PodRequest& r, int shape_id,
                                           const cluster::ClusterState& state);
  std::optional<cluster::Allocation> Place(const PodRequest& r,
                                           const cluster::ClusterState& state) {
    return Place(r, ShapeId(r), state);
  }

  // Score of node `n` for `r` (-1 when it does not fit), through the cache.
  NodeScore ScoreNode(const PodRequest& r, int shape_id, const cluster::ClusterState& state, int n);

  // Node indices, best tie-break priority first.
  const std::vector<int>& node_order() const { return order_; }
  // Position of each node in node_order() (0 = best).
  const std::vector<int>& node_rank() const { return rank_; }
  const Policy& policy() const { return policy_; }
  // Score evaluations actually computed (cache misses), for benchmarks.
  std::uint64_t evaluations() const { return evaluations_; }

 private:
  struct CacheEntry {
    std::uint32_t version = 0;  // node version the entry was computed at; 0 = never
    std::int16_t score = -1;    // -1 = does not fit
    std::uint32_t gpu_mask = 0;
  };
  struct ShapeHash {
    std::size_t operator()(const PodRequest& r) const;
  };

  std::optional<cluster::Allocation> PlaceRandom(const PodRequest& r,
                                                 const cluster::ClusterState& state);

  const Policy& policy_;
  std::vector<int> order_;
  std::vector<int> rank_;
  Rng rng_;
  std::unordered_map<PodRequest, int, ShapeHash> shape_ids_;
  std::vector<std::vector<CacheEntry>> cache_;  // [shape][node]
  std::vector<int> feasible_scratch_;
  std::uint64_t evaluations_ = 0;
};

}  // namespace gpupool::placement

// Placer: the placement decision. For a pod, filter the nodes where it fits (cluster::Fits),
// score them with the policy, and take the highest score; ties go to the node that comes first in
// ONE seeded node order drawn when the Placer is built (the rule of the published simulator: each
// node gets a random priority once per seed, not a fresh draw per decision; see
// ../shared/specs/openb-fill.md). The Random policy draws a feasible node and GPU from the
// Placer's own seeded Rng instead.
//
// Hot path: no allocation per candidate node. A node's score for a request shape is cached with
// the node's version and recomputed only when the node changed since (policies are pure
// functions of request and node state, placement/policy.h). Node versions are unique across
// copies of a ClusterState (cluster_state.h), so one Placer may serve the original and what-if
// copies in turn and never returns a score computed for other contents. A policy with a node
// base (Policy::NodeBase: FGD's fragment of the node before placement) has it computed once per
// node version for all shapes.
//
// Where the best node is: each shape's row is kept in the node order, cut into blocks of
// kBlock nodes, with the first best position of each block. A decision re-scores only the nodes
// the state's change journal lists since the shape's last decision on the same state
// (cluster_state.h), recomputes those nodes' blocks, and takes the first best block: the first
// node of the highest score in the node order, as a scan of every node would. A decision on a
// different state (a what-if copy), after more unread changes than there are nodes (the journal
// always keeps more than that), or after OnNodeAdded / InvalidateScores / an eviction checks
// every node instead. A ScoreNode() on another state than the shape's last decision marks the
// row for such a check (its entry may now hold the other state's score).
//
// The cache is bounded: at most PlacerOptions::max_cached_shapes request shapes keep a row of
// one entry per node; interning a shape beyond the bound evicts the least recently used shape
// (the one interned or placed least recently) and reuses its row. Memory ceiling: one entry is
// 16 bytes, so 16 x nodes x max_cached_shapes = 16 x 10,000 x 256 = 40,960,000 bytes (about
// 41 MB) at 10,000 nodes with the default bound (16 x 1,213 x 256 = 5.0 MB on the openb
// cluster), plus one PodRequest, one hash-map entry and nodes / 64 block bests per shape, and
// 16 bytes per node for the node bases.
//
// Shape ids: a shape id is a hint, not a handle. It names its shape until an eviction reuses its
// row; Place() and ScoreNode() check that the id still names `r` and re-intern `r` transparently
// when it does not, so a stale id costs a re-score, never a wrong answer. The fill experiment's
// shapes (at most 151 distinct pods per openb trace, plus fgd-window's groups) fit the default
// bound or cost a re-score when a rare one was evicted.
//
// Nodes added to the ClusterState (ClusterState::AddNode) must be announced with OnNodeAdded():
// the node takes a place in the seeded node order drawn from the seed and the node's index,
// without moving the others relative to each other, and every cached row grows by one entry.
// (A Placer built later on the grown state draws one shuffle over all nodes instead.)
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

struct PlacerOptions {
  // Most request shapes whose per-node scores are cached (least recently used evicted beyond
  // it); values below 1 count as 1.
  int max_cached_shapes = 256;
  // Ties to the lowest node index instead of a seeded order (for replaying simulators whose
  // placers do so, sim/replay.h); added nodes go last.
  bool index_order = false;
};

class Placer {
 public:
  Placer(const Policy& policy, int num_nodes, std::uint64_t seed, PlacerOptions options = {});

  // Interns a request shape: equal requests (PodRequest::operator==, so require_nvlink included)
  // get equal ids (the key of the score cache) while the shape stays cached; may evict the least
  // recently used shape (see "Shape ids" above).
  int ShapeId(const PodRequest& r);

  // Where `r` goes on `state` now, or nullopt when it fits nowhere. `shape_id` should come from
  // ShapeId(r) on this Placer; when it no longer names `r` (evicted), `r` is re-interned.
  std::optional<cluster::Allocation> Place(const PodRequest& r, int shape_id,
                                           const cluster::ClusterState& state);
  std::optional<cluster::Allocation> Place(const PodRequest& r,
                                           const cluster::ClusterState& state) {
    return Place(r, ShapeId(r), state);
  }

  // Score of node `n` for `r` (-1 when it does not fit), through the cache (re-interning `r` as
  // Place() does).
  NodeScore ScoreNode(const PodRequest& r, int shape_id, const cluster::ClusterState& state, int n);

  // Node `node` was appended to the ClusterState; it must be num_nodes() of this Placer (checked).
  // It is inserted into the node order at a position drawn from the seed and `node`; the other
  // nodes keep their relative order and every cached shape keeps its scores.
  void OnNodeAdded(int node);

  // Forgets every cached score (the shapes stay interned): call after the policy's parameters
  // changed, e.g. Policy::SetWorkload.
  void InvalidateScores();

  // Node indices, best tie-break priority first.
  const std::vector<int>& node_order() const { return order_; }
  // Position of each node in node_order() (0 = best).
  const std::vector<int>& node_rank() const { return rank_; }
  int num_nodes() const { return static_cast<int>(order_.size()); }
  const Policy& policy() const { return policy_; }
  const PlacerOptions& options() const { return options_; }
  // Score evaluations actually computed (cache misses), for benchmarks and tests.
  std::uint64_t evaluations() const { return evaluations_; }
  // Shapes with a cached row now (at most max_cached_shapes) and evictions so far.
  int cached_shapes() const { return static_cast<int>(slots_.size()); }
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct CacheEntry {
    std::uint64_t version = 0;  // node version the entry was computed at; 0 = never
    std::uint32_t gpu_mask = 0;
    std::int16_t score = -1;  // -1 = does not fit
  };
  static_assert(sizeof(CacheEntry) == 16, "the memory ceiling above assumes 16-byte entries");
  struct ShapeSlot {
    PodRequest request;
    std::uint64_t last_used = 0;
    // The state whose journal the row and its blocks are current with, up to `synced_pos`
    // (0 = none: check every node at the next decision).
    std::uint64_t synced_journal = 0;
    std::uint64_t synced_pos = 0;
  };
  static constexpr std::size_t kBlock = 64;
  struct ShapeHash {
    std::size_t operator()(const PodRequest& r) const;
  };

  // `shape_id` when it names `r` (marked used), else ShapeId(r).
  int Resolve(const PodRequest& r, int shape_id);
  // The score of node `n`, from `e` (its entry in the shape's row) when still valid.
  NodeScore ScoreCached(const PodRequest& r, CacheEntry& e, const cluster::ClusterState& state,
                        int n);
  // Brings the row of `slot` and its block bests up to date with `state` (see "Where the best
  // node is").
  void Sync(const PodRequest& r, int slot, const cluster::ClusterState& state);
  // The first position of the highest score in block `b` of `row` (-1 when nothing fits there).
  int BlockBest(const std::vector<CacheEntry>& row, std::size_t b) const;
  std::optional<cluster::Allocation> PlaceRandom(const PodRequest& r,
                                                 const cluster::ClusterState& state);

  const Policy& policy_;
  PlacerOptions options_;
  std::uint64_t seed_;
  std::vector<int> order_;
  std::vector<int> rank_;
  Rng rng_;
  std::unordered_map<PodRequest, int, ShapeHash> shape_ids_;
  std::vector<ShapeSlot> slots_;
  // The policy's node base (Policy::NodeBase) per node, with the node version it is for; used
  // when uses_node_base_.
  struct BaseEntry {
    std::uint64_t version = 0;  // 0 = never
    double base = 0;
  };
  bool uses_node_base_ = false;
  std::vector<BaseEntry> bases_;                // [node]
  std::vector<std::vector<CacheEntry>> cache_;  // [slot][rank_[node]]: in order_'s order
  std::vector<std::vector<int>> block_best_;    // [slot][block]: BlockBest of the row
  std::vector<char> dirty_scratch_;             // blocks touched by one Sync
  std::uint64_t tick_ = 0;
  std::vector<int> feasible_scratch_;
  std::uint64_t evaluations_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace gpupool::placement

#include "placement/placer.h"

#include <algorithm>
#include <numeric>

#include "common/check.h"

namespace gpupool::placement {

std::size_t Placer::ShapeHash::operator()(const PodRequest& r) const {
  std::uint64_t h = static_cast<std::uint64_t>(r.cpu_milli) * 0x9e3779b97f4a7c15ULL;
  h ^= static_cast<std::uint64_t>(r.memory_mib) + 0x7f4a7c159e3779b9ULL + (h << 6) + (h >> 2);
  h ^= (static_cast<std::uint64_t>(r.num_gpu) << 32 | static_cast<std::uint32_t>(r.gpu_milli)) +
       (h << 6) + (h >> 2);
  h ^= r.allowed_models + (h << 6) + (h >> 2);
  h ^= static_cast<std::uint64_t>(r.gpu_memory_mib) + (h << 6) + (h >> 2);
  return static_cast<std::size_t>(h);
}

Placer::Placer(const Policy& policy, int num_nodes, std::uint64_t seed, PlacerOptions options)
    : policy_(policy), options_(options), seed_(seed), rng_(seed ^ 0x5bd1e9955bd1e995ULL) {
  if (options_.max_cached_shapes < 1) options_.max_cached_shapes = 1;
  order_.resize(static_cast<std::size_t>(num_nodes));
  std::iota(order_.begin(), order_.end(), 0);
  Rng order_rng(seed);
  order_rng.Shuffle(order_);
  rank_.resize(order_.size());
  for (std::size_t i = 0; i < order_.size(); ++i)
    rank_[static_cast<std::size_t>(order_[i])] = static_cast<int>(i);
  feasible_scratch_.reserve(order_.size());
}

int Placer::ShapeId(const PodRequest& r) {
  if (auto it = shape_ids_.find(r); it != shape_ids_.end()) {
    slots_[static_cast<std::size_t>(it->second)].last_used = ++tick_;
    return it->second;
  }
  int slot = static_cast<int>(slots_.size());
  if (slot < options_.max_cached_shapes) {
    slots_.push_back(ShapeSlot{r, ++tick_});
    cache_.emplace_back(order_.size());
  } else {
    // Evict the least recently used shape; a linear scan, paid only when a new shape arrives
    // (which then scores every node anyway).
    slot = 0;
    for (std::size_t i = 1; i < slots_.size(); ++i) {
      if (slots_[i].last_used < slots_[static_cast<std::size_t>(slot)].last_used)
        slot = static_cast<int>(i);
    }
    const auto si = static_cast<std::size_t>(slot);
    shape_ids_.erase(slots_[si].request);
    slots_[si] = ShapeSlot{r, ++tick_};
    std::fill(cache_[si].begin(), cache_[si].end(), CacheEntry{});
    ++evictions_;
  }
  shape_ids_.emplace(r, slot);
  return slot;
}

int Placer::Resolve(const PodRequest& r, int shape_id) {
  if (shape_id >= 0 && shape_id < cached_shapes()) {
    ShapeSlot& s = slots_[static_cast<std::size_t>(shape_id)];
    if (s.request == r) {
      s.last_used = ++tick_;
      return shape_id;
    }
  }
  return ShapeId(r);
}

void Placer::OnNodeAdded(int node) {
  GP_CHECK(node == num_nodes());
  // The position depends only on the seed and the node's index, so replaying the same adds
  // gives the same order.
  Rng pos_rng(seed_ ^ (0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(node) + 1)));
  const auto pos = static_cast<std::size_t>(pos_rng.Uniform(order_.size() + 1));
  order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(pos), node);
  rank_.push_back(0);
  for (std::size_t i = pos; i < order_.size(); ++i)
    rank_[static_cast<std::size_t>(order_[i])] = static_cast<int>(i);
  for (auto& row : cache_) row.emplace_back();
  feasible_scratch_.reserve(order_.size());
}

void Placer::InvalidateScores() {
  for (auto& row : cache_) std::fill(row.begin(), row.end(), CacheEntry{});
}

NodeScore Placer::ScoreCached(const PodRequest& r, int slot, const cluster::ClusterState& state,
                              int n) {
  CacheEntry& e = cache_[static_cast<std::size_t>(slot)][static_cast<std::size_t>(n)];
  const cluster::NodeState& node = state.node(n);
  if (e.version != node.version) {
    ++evaluations_;
    e.version = node.version;
    if (cluster::Fits(r, node)) {
      const NodeScore s = policy_.Score(r, node);
      GP_CHECK(s.score >= 0 && s.score <= 100);
      e.score = static_cast<std::int16_t>(s.score);
      e.gpu_mask = s.gpu_mask;
    } else {
      e.score = -1;
      e.gpu_mask = 0;
    }
  }
  return {e.score, e.gpu_mask};
}

NodeScore Placer::ScoreNode(const PodRequest& r, int shape_id, const cluster::ClusterState& state,
                            int n) {
  GP_CHECK(state.num_nodes() == num_nodes());
  return ScoreCached(r, Resolve(r, shape_id), state, n);
}

std::optional<cluster::Allocation> Placer::Place(const PodRequest& r, int shape_id,
                                                 const cluster::ClusterState& state) {
  GP_CHECK(state.num_nodes() == num_nodes());
  if (policy_.random_choice()) return PlaceRandom(r, state);
  const int slot = Resolve(r, shape_id);
  int best_score = -1;
  int best_node = -1;
  std::uint32_t best_mask = 0;
  for (const int n : order_) {
    const NodeScore s = ScoreCached(r, slot, state, n);
    if (s.score > best_score) {
      best_score = s.score;
      best_node = n;
      best_mask = s.gpu_mask;
      if (best_score == 100) break;  // nothing beats 100, and later nodes lose ties
    }
  }
  if (best_node < 0) return std::nullopt;
  return cluster::MakeAllocation(r, best_node, best_mask);
}

std::optional<cluster::Allocation> Placer::PlaceRandom(const PodRequest& r,
                                                       const cluster::ClusterState& state) {
  feasible_scratch_.clear();
  for (int n = 0; n < state.num_nodes(); ++n) {
    if (cluster::Fits(r, state.node(n))) feasible_scratch_.push_back(n);
  }
  if (feasible_scratch_.empty()) return std::nullopt;
  const int n = feasible_scratch_[static_cast<std::size_t>(rng_.Uniform(feasible_scratch_.size()))];
  const cluster::NodeState& node = state.node(n);
  std::uint32_t mask = DefaultGpuChoice(r, node);
  if (r.shape() == cluster::PodShape::kSharedGpu) {
    int fitting[cluster::kMaxGpusPerNode];
    int count = 0;
    for (int g = 0; g < node.num_gpus; ++g) {
      if (cluster::GpuFits(r, node, g)) fitting[count++] = g;
    }
    mask = 1U << fitting[rng_.Uniform(static_cast<std::uint64_t>(count))];
  }
  return cluster::MakeAllocation(r, n, mask);
}

}  // namespace gpupool::placement

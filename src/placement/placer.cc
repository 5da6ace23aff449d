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
  // The topology rule is part of the shape (pod_request.h): mixed in only when set, so the
  // hashes of every request without it are what they were.
  if (r.require_nvlink) h ^= 0x6a09e667f3bcc909ULL + (h << 6) + (h >> 2);
  return static_cast<std::size_t>(h);
}

Placer::Placer(const Policy& policy, int num_nodes, std::uint64_t seed, PlacerOptions options)
    : policy_(policy), options_(options), seed_(seed), rng_(seed ^ 0x5bd1e9955bd1e995ULL) {
  if (options_.max_cached_shapes < 1) options_.max_cached_shapes = 1;
  order_.resize(static_cast<std::size_t>(num_nodes));
  std::iota(order_.begin(), order_.end(), 0);
  if (!options_.index_order) {
    Rng order_rng(seed);
    order_rng.Shuffle(order_);
  }
  rank_.resize(order_.size());
  for (std::size_t i = 0; i < order_.size(); ++i)
    rank_[static_cast<std::size_t>(order_[i])] = static_cast<int>(i);
  feasible_scratch_.reserve(order_.size());
  uses_node_base_ = policy_.uses_node_base();
  if (uses_node_base_) bases_.resize(order_.size());
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
    block_best_.emplace_back();
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
    slots_[si] = ShapeSlot{r, ++tick_};  // not synced: the next decision checks every node
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
  const auto pos = options_.index_order
                       ? order_.size()
                       : static_cast<std::size_t>(pos_rng.Uniform(order_.size() + 1));
  order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(pos), node);
  rank_.push_back(0);
  for (std::size_t i = pos; i < order_.size(); ++i)
    rank_[static_cast<std::size_t>(order_[i])] = static_cast<int>(i);
  // Rows are in order_'s order: the new node's entry goes to its position.
  for (auto& row : cache_) row.insert(row.begin() + static_cast<std::ptrdiff_t>(pos), CacheEntry{});
  for (auto& s : slots_) s.synced_journal = 0;  // the blocks moved
  if (uses_node_base_) bases_.emplace_back();
  feasible_scratch_.reserve(order_.size());
}

void Placer::InvalidateScores() {
  for (auto& row : cache_) std::fill(row.begin(), row.end(), CacheEntry{});
  std::fill(bases_.begin(), bases_.end(), BaseEntry{});
  for (auto& s : slots_) s.synced_journal = 0;
}

NodeScore Placer::ScoreCached(const PodRequest& r, CacheEntry& e,
                              const cluster::ClusterState& state, int n) {
  const cluster::NodeState& node = state.node(n);
  if (e.version != node.version) {
    ++evaluations_;
    e.version = node.version;
    if (cluster::Fits(r, node)) {
      NodeScore s;
      if (uses_node_base_) {
        BaseEntry& b = bases_[static_cast<std::size_t>(n)];
        if (b.version != node.version) b = {node.version, policy_.NodeBase(node)};
        s = policy_.ScoreWithBase(r, node, b.base);
      } else {
        s = policy_.Score(r, node);
      }
      GP_CHECK(s.score >= 0 && s.score <= kMaxNodeScore);
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
  const auto slot = static_cast<std::size_t>(Resolve(r, shape_id));
  const auto pos = static_cast<std::size_t>(rank_[static_cast<std::size_t>(n)]);
  const NodeScore s = ScoreCached(r, cache_[slot][pos], state, n);
  ShapeSlot& shape = slots_[slot];
  if (shape.synced_journal != state.journal_id()) {
    shape.synced_journal = 0;  // the entry may now be another state's
  } else if (!block_best_[slot].empty()) {
    block_best_[slot][pos / kBlock] = BlockBest(cache_[slot], pos / kBlock);
  }
  return s;
}

int Placer::BlockBest(const std::vector<CacheEntry>& row, std::size_t b) const {
  const std::size_t end = std::min(row.size(), (b + 1) * kBlock);
  int best = -1;
  int best_score = -1;
  for (std::size_t pos = b * kBlock; pos < end; ++pos) {
    if (row[pos].score > best_score) {
      best_score = row[pos].score;
      best = static_cast<int>(pos);
    }
  }
  return best;
}

void Placer::Sync(const PodRequest& r, int slot, const cluster::ClusterState& state) {
  const auto si = static_cast<std::size_t>(slot);
  ShapeSlot& shape = slots_[si];
  std::vector<CacheEntry>& row = cache_[si];
  std::vector<int>& blocks = block_best_[si];
  const std::size_t num_blocks = (order_.size() + kBlock - 1) / kBlock;
  const std::uint64_t end = state.journal_end();
  const bool incremental = shape.synced_journal == state.journal_id() &&
                           shape.synced_pos >= state.journal_begin() &&
                           blocks.size() == num_blocks && end - shape.synced_pos <= order_.size();
  if (incremental) {
    dirty_scratch_.assign(num_blocks, 0);
    for (std::uint64_t p = shape.synced_pos; p < end; ++p) {
      const int n = state.journal_node(p);
      const auto pos = static_cast<std::size_t>(rank_[static_cast<std::size_t>(n)]);
      ScoreCached(r, row[pos], state, n);
      dirty_scratch_[pos / kBlock] = 1;
    }
    for (std::size_t b = 0; b < num_blocks; ++b) {
      if (dirty_scratch_[b]) blocks[b] = BlockBest(row, b);
    }
  } else {
    for (std::size_t pos = 0; pos < order_.size(); ++pos)
      ScoreCached(r, row[pos], state, order_[pos]);
    blocks.resize(num_blocks);
    for (std::size_t b = 0; b < num_blocks; ++b) blocks[b] = BlockBest(row, b);
  }
  shape.synced_journal = state.journal_id();
  shape.synced_pos = end;
}

std::optional<cluster::Allocation> Placer::Place(const PodRequest& r, int shape_id,
                                                 const cluster::ClusterState& state) {
  GP_CHECK(state.num_nodes() == num_nodes());
  if (policy_.random_choice()) return PlaceRandom(r, state);
  const int slot = Resolve(r, shape_id);
  Sync(r, slot, state);
  const std::vector<CacheEntry>& row = cache_[static_cast<std::size_t>(slot)];
  // The first best block holds the first node of the highest score in the node order.
  int best = -1;
  int best_score = -1;
  for (const int pos : block_best_[static_cast<std::size_t>(slot)]) {
    if (pos >= 0 && row[static_cast<std::size_t>(pos)].score > best_score) {
      best_score = row[static_cast<std::size_t>(pos)].score;
      best = pos;
    }
  }
  if (best < 0) return std::nullopt;
  return cluster::MakeAllocation(r, order_[static_cast<std::size_t>(best)],
                                 row[static_cast<std::size_t>(best)].gpu_mask);
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

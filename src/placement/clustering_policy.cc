#include "placement/clustering_policy.h"

#include <algorithm>

namespace gpupool::placement {

NodeScore ClusteringPolicy::Score(const PodRequest& r, const NodeState& n) const {
  const std::uint32_t mask = DefaultGpuChoice(r, n);
  if (r.num_gpu == 0) return {0, mask};
  // With the paper's 8000, G can exceed it on a node with more than 8 GPUs; b then floors at 0.
  const int cap = paper_ ? 8000 : 1000 * n.num_gpus;
  const int b = cap > 0 ? std::max(0, 25 * (cap - n.gpu_left_sum) / cap) : 0;
  const std::uint32_t tag = r.tag();
  int bonus = 0;
  if (n.gpu_tags == 0) {
    bonus = 25;
  } else if (n.gpu_tags == tag) {
    bonus = 75;
  } else if ((n.gpu_tags & tag) != 0) {
    bonus = 50;
  }
  return {std::min(100, b + bonus), mask};
}

}  // namespace gpupool::placement

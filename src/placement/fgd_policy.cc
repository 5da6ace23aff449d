#include "placement/fgd_policy.h"

#include <bit>
#include <cmath>

#include "placement/fragmentation.h"

namespace gpupool::placement {

int FgdScoreFromDelta(double delta_milli) {
  const double s = 1.0 / (1.0 + std::exp(-delta_milli / 1000.0));
  return static_cast<int>(100.0 * s);
}

double FgdPolicy::FragmentDelta(const PodRequest& r, const NodeState& n,
                                std::uint32_t gpu_mask) const {
  const double before = NodeBase(n);
  std::int32_t after[cluster::kMaxGpusPerNode];
  for (int g = 0; g < n.num_gpus; ++g) after[g] = n.gpu_left[static_cast<std::size_t>(g)];
  for (std::uint32_t m = gpu_mask; m != 0; m &= m - 1) after[std::countr_zero(m)] -= r.gpu_milli;
  return before - NodeFragment(workload_, n.cpu_left - r.cpu_milli, after, n.num_gpus, n.model);
}

double FgdPolicy::NodeBase(const NodeState& n) const { return NodeFragment(workload_, n); }

NodeScore FgdPolicy::ScoreWithBase(const PodRequest& r, const NodeState& n, double before) const {
  std::int32_t after[cluster::kMaxGpusPerNode];
  for (int g = 0; g < n.num_gpus; ++g) after[g] = n.gpu_left[static_cast<std::size_t>(g)];
  if (r.num_gpu == 0 || r.gpu_milli >= 1000) {
    const std::uint32_t mask = DefaultGpuChoice(r, n);
    for (std::uint32_t m = mask; m != 0; m &= m - 1) after[std::countr_zero(m)] -= r.gpu_milli;
    return {FgdScoreFromDelta(before - NodeFragment(workload_, n.cpu_left - r.cpu_milli, after,
                                                    n.num_gpus, n.model)),
            mask};
  }
  // Shared GPU: try each fitting GPU. GPUs with the same milli left give the same after-state
  // (F depends on the multiset of lefts), so each distinct value is evaluated once.
  std::int32_t seen_left[cluster::kMaxGpusPerNode];
  int seen_score[cluster::kMaxGpusPerNode];
  int num_seen = 0;
  NodeScore best{-1, 0};
  for (int g = 0; g < n.num_gpus; ++g) {
    const std::int32_t left = after[g];
    if (!cluster::GpuFits(r, n, g)) continue;
    int score = -1;
    for (int i = 0; i < num_seen; ++i) {
      if (seen_left[i] == left) score = seen_score[i];
    }
    if (score < 0) {
      after[g] = left - r.gpu_milli;
      score = FgdScoreFromDelta(
          before - NodeFragment(workload_, n.cpu_left - r.cpu_milli, after, n.num_gpus, n.model));
      after[g] = left;
      seen_left[num_seen] = left;
      seen_score[num_seen] = score;
      ++num_seen;
    }
    if (score > best.score) best = {score, 1U << g};
  }
  return best;
}

}  // namespace gpupool::placement

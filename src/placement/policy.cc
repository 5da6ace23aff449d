#include "placement/policy.h"

#include <bit>

namespace gpupool::placement {

namespace {

// The k lowest-index fitting GPUs of the fullest island that has k fitting; 0 when none has.
std::uint32_t IslandChoice(const PodRequest& r, const NodeState& n) {
  std::uint32_t best_fitting = 0;
  int best_count = cluster::kMaxGpusPerNode + 1;
  for (int i = 0; i < n.num_islands; ++i) {
    const std::uint32_t fitting = cluster::IslandFitting(r, n, i);
    const int count = std::popcount(fitting);
    if (count >= r.num_gpu && count < best_count) {
      best_count = count;
      best_fitting = fitting;
    }
  }
  std::uint32_t mask = 0;
  for (int taken = 0; taken < r.num_gpu && best_fitting != 0; ++taken) {
    mask |= best_fitting & (~best_fitting + 1);  // lowest set bit
    best_fitting &= best_fitting - 1;
  }
  return mask;
}

}  // namespace

std::uint32_t DefaultGpuChoice(const PodRequest& r, const NodeState& n) {
  if (r.num_gpu == 0) return 0;
  if (r.gpu_milli < 1000) {
    int best = -1;
    for (int g = 0; g < n.num_gpus; ++g) {
      const auto left = n.gpu_left[static_cast<std::size_t>(g)];
      if (cluster::GpuFits(r, n, g) &&
          (best < 0 || left < n.gpu_left[static_cast<std::size_t>(best)]))
        best = g;
    }
    return best < 0 ? 0U : (1U << best);
  }
  if (r.num_gpu > 1 && n.num_islands > 0) {
    if (const std::uint32_t in_island = IslandChoice(r, n); in_island != 0) return in_island;
  }
  std::uint32_t mask = 0;
  int taken = 0;
  for (int g = 0; g < n.num_gpus && taken < r.num_gpu; ++g) {
    if (cluster::GpuFits(r, n, g)) {
      mask |= 1U << g;
      ++taken;
    }
  }
  return mask;
}

}  // namespace gpupool::placement

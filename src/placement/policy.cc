#include "placement/policy.h"

namespace gpupool::placement {

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

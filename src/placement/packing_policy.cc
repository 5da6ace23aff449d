#include "placement/packing_policy.h"

#include <algorithm>
#include <bit>

namespace gpupool::placement {

NodeScore PackingPolicy::Score(const PodRequest& r, const NodeState& n) const {
  const std::uint32_t mask = DefaultGpuChoice(r, n);
  if (r.num_gpu == 0) return {0, mask};
  if (n.num_free_gpus == n.num_gpus) {
    return {std::max(33 - n.num_free_gpus, n.num_free_gpus), mask};
  }
  // The first num_gpu fitting GPUs by ascending milli left: for a shared pod that is the
  // least-left fitting GPU (DefaultGpuChoice); whole-GPU pods fit only on free GPUs.
  int free_used = 0;
  int tenths = 0;
  for (std::uint32_t m = mask; m != 0; m &= m - 1) {
    const int left = n.gpu_left[static_cast<std::size_t>(std::countr_zero(m))];
    if (left == 1000) ++free_used;
    tenths += left * 100 / 1000;
  }
  if (free_used > 0) return {std::max(50 - free_used, 33), mask};
  return {std::max(100 - tenths / 10, 50), mask};
}

}  // namespace gpupool::placement

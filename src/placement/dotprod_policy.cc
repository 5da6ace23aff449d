#include "placement/dotprod_policy.h"

namespace gpupool::placement {

NodeScore DotProdPolicy::Score(const PodRequest& r, const NodeState& n) const {
  const double dot =
      (static_cast<double>(n.cpu_left) / 128000.0) * (static_cast<double>(r.cpu_milli) / 128000.0) +
      (static_cast<double>(n.gpu_left_sum) / 8000.0) *
          (static_cast<double>(r.total_gpu_milli()) / 8000.0);
  const int score = static_cast<int>(100.0 * (1.0 - dot / 2.0));
  return {score < 0 ? 0 : (score > 100 ? 100 : score), DefaultGpuChoice(r, n)};
}

}  // namespace gpupool::placement

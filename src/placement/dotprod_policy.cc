#include "placement/dotprod_policy.h"

namespace gpupool::placement {

NodeScore DotProdPolicy::Score(const PodRequest& r, const NodeState& n) const {
  // The same division in both modes, so the paper's mode gives the published figures bit for bit.
  const double cpu_norm = paper_ ? 128000.0 : static_cast<double>(n.cpu_capacity);
  const double gpu_norm = paper_ ? 8000.0 : 1000.0 * static_cast<double>(n.num_gpus);
  const double cpu_term = cpu_norm > 0 ? (static_cast<double>(n.cpu_left) / cpu_norm) *
                                             (static_cast<double>(r.cpu_milli) / cpu_norm)
                                       : 0.0;
  const double gpu_term = gpu_norm > 0 ? (static_cast<double>(n.gpu_left_sum) / gpu_norm) *
                                             (static_cast<double>(r.total_gpu_milli()) / gpu_norm)
                                       : 0.0;
  const double dot = cpu_term + gpu_term;
  const int score = static_cast<int>(100.0 * (1.0 - dot / 2.0));
  return {score < 0 ? 0 : (score > 100 ? 100 : score), DefaultGpuChoice(r, n)};
}

}  // namespace gpupool::placement

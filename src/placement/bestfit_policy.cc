#include "placement/bestfit_policy.h"

#include <algorithm>

namespace gpupool::placement {

NodeScore BestFitPolicy::Score(const PodRequest& r, const NodeState& n) const {
  // The same division in both modes, so the paper's mode gives the published figures bit for bit.
  const double cpu_norm = paper_ ? 128000.0 : static_cast<double>(n.cpu_capacity);
  const double gpu_norm = paper_ ? 8000.0 : 1000.0 * static_cast<double>(n.num_gpus);
  const double cpu_after =
      cpu_norm > 0 ? static_cast<double>(n.cpu_left - r.cpu_milli) / cpu_norm : 0.0;
  const double gpu_after =
      gpu_norm > 0 ? static_cast<double>(n.gpu_left_sum - r.total_gpu_milli()) / gpu_norm : 0.0;
  const int score = static_cast<int>(100.0 * (1.0 - (0.5 * cpu_after + 0.5 * gpu_after)));
  return {std::clamp(score, 0, 100), DefaultGpuChoice(r, n)};
}

void NormalizeScores(std::span<int> scores) {
  if (scores.empty()) return;
  const auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
  const int min = *lo;
  const int max = *hi;
  for (int& s : scores) s = (max == min) ? 100 : (s - min) * 100 / (max - min);
}

}  // namespace gpupool::placement

#include "placement/bestfit_policy.h"

#include <algorithm>

namespace gpupool::placement {

NodeScore BestFitPolicy::Score(const PodRequest& r, const NodeState& n) const {
  const double cpu_after = static_cast<double>(n.cpu_left - r.cpu_milli) / 128000.0;
  const double gpu_after = static_cast<double>(n.gpu_left_sum - r.total_gpu_milli()) / 8000.0;
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

#include "placement/workload_learner.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gpupool::placement {

WorkloadLearner::WorkloadLearner(double half_life)
    : growth_(std::isfinite(half_life) && half_life > 0 ? std::exp2(1.0 / half_life) : 1.0) {}

void WorkloadLearner::Observe(const cluster::PodRequest& r) {
  // Decaying every old weight by d is the same as weighing the new one by 1/d more: weights are
  // stored multiplied by unit_ = (1/d)^t, and rescaled before they could overflow.
  unit_ *= growth_;
  if (unit_ > 1e200) {
    for (auto& [key, e] : classes_) e.scaled_weight /= unit_;
    unit_ = 1.0;
  }
  const Key key{r.cpu_milli, r.gpu_milli, r.num_gpu,
                r.num_gpu == 0 ? cluster::kAnyModel : r.allowed_models};
  auto [it, inserted] = classes_.try_emplace(key, Entry{0, 0, observed_});
  it->second.scaled_weight += unit_;
  ++it->second.count;
  ++observed_;
}

Workload WorkloadLearner::Current(double coverage) const {
  struct Ranked {
    const Key* key;
    const Entry* entry;
  };
  std::vector<Ranked> sorted;
  sorted.reserve(classes_.size());
  double total = 0;
  for (const auto& [key, e] : classes_) {
    sorted.push_back({&key, &e});
    total += e.scaled_weight;
  }
  std::sort(sorted.begin(), sorted.end(), [](const Ranked& a, const Ranked& b) {
    if (a.entry->scaled_weight != b.entry->scaled_weight)
      return a.entry->scaled_weight > b.entry->scaled_weight;
    return a.entry->first_seen < b.entry->first_seen;
  });
  Workload w;
  w.total_pods = observed_;
  const double needed = coverage * total;
  double covered = 0;
  for (const Ranked& c : sorted) {
    if (covered >= needed) break;
    const auto& [cpu, gpu_milli, num_gpu, models] = *c.key;
    w.classes.push_back(
        TaskClass{cpu, num_gpu, gpu_milli, models, c.entry->scaled_weight, c.entry->count});
    covered += c.entry->scaled_weight;
    w.covered_pods += c.entry->count;
  }
  for (auto& c : w.classes) c.weight /= covered;
  return w;
}

}  // namespace gpupool::placement

// WorkloadLearner: the target workload of a long-running service, learned online from the
// requests that have arrived (never from requests still to come). FGD (placement/fgd_policy.h)
// measures fragmentation against a workload; the fill experiment takes it from the whole trace
// (Workload::FromPods), a service has no trace and learns it as it goes.
//
// A decaying histogram of request classes. The class key is Workload's: (cpu_milli, gpu_milli,
// num_gpu, allowed model mask; the mask counts only for GPU requests). Every Observe() first
// multiplies every class's weight by d = 2^(-1 / half_life) and then adds 1 to the observed
// request's class, so an observation's weight halves every `half_life` observations.
// Current() builds a Workload the way Workload::FromPods does: classes by weight (descending; ties
// by first appearance), taken until they cover >= `coverage` of the total weight, p_m = weight_m /
// covered weight. TaskClass::count is the class's raw number of observations; total_pods is
// observed() and covered_pods the raw count of the classes taken.
//
// half_life is in observed requests; a value that is not > 0 (or not finite) means no decay
// (plain counts). Weights are kept in a rescaled form (one multiply per observation, not one per
// class); O(log classes) per Observe, O(classes log classes) per Current.
//
// Thread safety: none; one owner (the scheduler thread).
#pragma once

#include <cstdint>
#include <map>
#include <tuple>

#include "cluster/pod_request.h"
#include "placement/workload.h"

namespace gpupool::placement {

class WorkloadLearner {
 public:
  explicit WorkloadLearner(double half_life = 1000.0 /* in observed requests */);

  void Observe(const cluster::PodRequest& r);
  Workload Current(double coverage = 0.95) const;
  std::int64_t observed() const { return observed_; }

  // When a workload derived after `learned_at` observations should be derived again: after
  // `every` more observations, and while the history is short whenever it has doubled (after 1,
  // 2, 4, ... observations), so the first requests do not stand for the workload for long. The
  // one rule of the scheduler's cycle and of `sim fill --workload learned`.
  bool Stale(std::int64_t learned_at, std::int64_t every) const {
    return observed_ != learned_at &&
           (observed_ - learned_at >= every || observed_ >= 2 * learned_at);
  }

 private:
  // (cpu_milli, gpu_milli, num_gpu, allowed models). Not require_nvlink (nor gpu_memory_mib): the
  // learned workload feeds FGD's fragmentation measure, which counts GPUs and milli per node and
  // knows no islands, so an NVLink job is the same class as its shape without the rule.
  using Key = std::tuple<std::int64_t, std::int32_t, std::int32_t, cluster::ModelMask>;
  struct Entry {
    double scaled_weight = 0;  // weight x unit_
    std::int64_t count = 0;
    std::int64_t first_seen = 0;
  };

  double growth_;      // 2^(1 / half_life): the next observation weighs this much more
  double unit_ = 1.0;  // the scaled weight of an observation made now
  std::map<Key, Entry> classes_;
  std::int64_t observed_ = 0;
};

}  // namespace gpupool::placement

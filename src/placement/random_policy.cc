#include "placement/random_policy.h"

namespace gpupool::placement {

// Every feasible node scores the same; the Placer draws among them.
NodeScore RandomPolicy::Score(const PodRequest& r, const NodeState& n) const {
  return {0, DefaultGpuChoice(r, n)};
}

}  // namespace gpupool::placement

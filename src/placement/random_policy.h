// RandomPolicy ("random"): a uniformly random feasible node, and inside it a uniformly random
// fitting GPU for a shared-GPU pod (whole-GPU pods take the lowest-index free GPUs).
// Source: the Random-fit baseline of Weng et al., "Beware of Fragmentation", USENIX ATC '23, and
// ../shared/specs/openb-fill.md. The draw comes from the Placer's seeded Rng.
#pragma once

#include "placement/policy.h"

namespace gpupool::placement {

class RandomPolicy final : public Policy {
 public:
  std::string_view name() const override { return "random"; }
  NodeScore Score(const PodRequest& r, const NodeState& n) const override;
  bool random_choice() const override { return true; }
};

}  // namespace gpupool::placement

// PackingPolicy ("packing"): GPU packing - share a used GPU first, then use the free GPUs of a
// used node, then open an empty node (small empty nodes first). Source: the GPU Packing baseline
// of Weng et al., ATC '23 (after Gandiva/Antman-style packing), as defined in
// ../shared/specs/openb-fill.md:
//   CPU-only pod: 0 on every node.
//   node entirely free:        max(33 - n_free, n_free)            (n_free = fully free GPUs)
//   else take the first num_gpu fitting GPUs in ascending order of milli left L:
//     one of them fully free:  max(50 - (fully free GPUs used), 33)
//     none fully free:         max(100 - (sum of floor(L x 100 / 1000)) / 10, 50)   (integer /)
// GPU inside the node: those same GPUs (for a shared pod, the least-left fitting GPU, lowest
// index on ties; whole-GPU pods the lowest-index free GPUs).
#pragma once

#include "placement/policy.h"

namespace gpupool::placement {

class PackingPolicy final : public Policy {
 public:
  std::string_view name() const override { return "packing"; }
  NodeScore Score(const PodRequest& r, const NodeState& n) const override;
};

}  // namespace gpupool::placement

// DotProdPolicy ("dotprod"): Tetris-style alignment of the pod's demand with the node's free
// resources. Source: Grandl et al., "Multi-Resource Packing for Cluster Schedulers", SIGCOMM '14,
// as parameterised in Weng et al., ATC '23 and ../shared/specs/openb-fill.md:
//   v = (c / 128000, G / 8000)       node's CPU milli left, GPU milli left (summed over GPUs)
//   u = (c_p / 128000, G_p / 8000)   the pod's CPU milli, num_gpu x gpu_milli
//   score = int(100 (1 - v.u / 2))
// A small dot product (the pod uses what the node has little of) scores high. GPU inside the
// node: DefaultGpuChoice.
#pragma once

#include "placement/policy.h"

namespace gpupool::placement {

class DotProdPolicy final : public Policy {
 public:
  std::string_view name() const override { return "dotprod"; }
  NodeScore Score(const PodRequest& r, const NodeState& n) const override;
};

}  // namespace gpupool::placement

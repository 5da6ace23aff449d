// DotProdPolicy ("dotprod"): Tetris-style alignment of the pod's demand with the node's free
// resources. Source: Grandl et al., "Multi-Resource Packing for Cluster Schedulers", SIGCOMM '14,
// as parameterised in Weng et al., ATC '23 and ../shared/specs/openb-fill.md:
//   v = (c / C, G / G_cap)       node's CPU milli left, GPU milli left (summed over GPUs)
//   u = (c_p / C, G_p / G_cap)   the pod's CPU milli, num_gpu x gpu_milli
//   score = int(100 (1 - v.u / 2))
// normalised by the node's own capacity: C = its cpu_capacity, G_cap = 1000 x its num_gpus (a
// term whose capacity is 0 counts 0), as Tetris normalises by the machine. With
// paper_normalisers every node is the paper's fixed one, C = 128000 and G_cap = 8000 (the fill
// experiment, whose published figures assume it).
// A small dot product (the pod uses what the node has little of) scores high. GPU inside the
// node: DefaultGpuChoice.
#pragma once

#include "placement/policy.h"

namespace gpupool::placement {

class DotProdPolicy final : public Policy {
 public:
  explicit DotProdPolicy(bool paper_normalisers = false) : paper_(paper_normalisers) {}
  std::string_view name() const override { return "dotprod"; }
  NodeScore Score(const PodRequest& r, const NodeState& n) const override;

 private:
  bool paper_;
};

}  // namespace gpupool::placement

// ClusteringPolicy ("clustering"): keep pods of the same kind together. Source: the GPU
// Clustering baseline of Weng et al., ATC '23, as defined in ../shared/specs/openb-fill.md.
// A GPU pod's tag is "share" (one GPU, gpu_milli < 1000) or "k-gpu" (k whole GPUs):
//   b = floor(25 (8000 - G) / 8000)           G = node's GPU milli left (sum)
//   score = b + 75   node holds only GPU pods of this tag
//           b + 50   node holds this tag among others
//           b + 25   node holds no GPU pods
//           b        otherwise
// CPU-only pods score 0 everywhere. GPU inside the node: DefaultGpuChoice.
#pragma once

#include "placement/policy.h"

namespace gpupool::placement {

class ClusteringPolicy final : public Policy {
 public:
  std::string_view name() const override { return "clustering"; }
  NodeScore Score(const PodRequest& r, const NodeState& n) const override;
};

}  // namespace gpupool::placement

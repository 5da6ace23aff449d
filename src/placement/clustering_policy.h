// ClusteringPolicy ("clustering"): keep pods of the same kind together. Source: the GPU
// Clustering baseline of Weng et al., ATC '23, as defined in ../shared/specs/openb-fill.md.
// A GPU pod's tag is "share" (one GPU, gpu_milli < 1000) or "k-gpu" (k whole GPUs):
//   b = floor(25 (G_cap - G) / G_cap)         G = node's GPU milli left (sum)
// with G_cap = 1000 x the node's num_gpus (b = 0 on a node without GPUs), or the paper's fixed
// 8000 with paper_normalisers (the fill experiment; b then floors at 0 on bigger nodes).
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
  explicit ClusteringPolicy(bool paper_normalisers = false) : paper_(paper_normalisers) {}
  std::string_view name() const override { return "clustering"; }
  NodeScore Score(const PodRequest& r, const NodeState& n) const override;

 private:
  bool paper_;
};

}  // namespace gpupool::placement

// BestFitPolicy ("bestfit"): the node left with the least free CPU and GPU after placement.
// Source: the Best-fit baseline of Weng et al., ATC '23 and ../shared/specs/openb-fill.md:
//   raw = int(100 (1 - [0.5 (c - c_p) / C + 0.5 (G - G_p) / G_cap]))
// with the node's own capacity C = cpu_capacity and G_cap = 1000 x num_gpus (a term whose
// capacity is 0 counts 0); with paper_normalisers the paper's fixed node, C = 128000 and
// G_cap = 8000 (the fill experiment). Then min-max normalised to 0-100 over the feasible nodes:
// (raw - min) x 100 / (max - min). The normalisation is monotone and maps exactly the raw maximum
// to 100, so it keeps the winner and the set of tied nodes; the Placer ranks raw scores and
// NormalizeScores() gives the normalised figure for explanations. GPU inside the node:
// DefaultGpuChoice.
#pragma once

#include <span>

#include "placement/policy.h"

namespace gpupool::placement {

class BestFitPolicy final : public Policy {
 public:
  explicit BestFitPolicy(bool paper_normalisers = false) : paper_(paper_normalisers) {}
  std::string_view name() const override { return "bestfit"; }
  NodeScore Score(const PodRequest& r, const NodeState& n) const override;

 private:
  bool paper_;
};

// Min-max normalisation (integer, truncated) of scores in place; all equal -> all 100.
void NormalizeScores(std::span<int> scores);

}  // namespace gpupool::placement

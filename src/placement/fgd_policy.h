// FgdPolicy ("fgd"): Fragmentation Gradient Descent. Source: Weng et al., "Beware of
// Fragmentation: Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent",
// USENIX ATC '23, Sec. 4.2, as specified in ../shared/specs/openb-fill.md.
// Place the pod where the node's expected fragment F_n (placement/fragmentation.h) grows least:
//   score = int(100 x sigmoid((F_n(before) - F_n(after)) / 1000)),  sigmoid(x) = 1/(1+e^-x)
// A shared-GPU pod tries every fitting GPU (fully free ones included); the node's score is the
// best over them and that GPU is the one used (lowest index on ties). Whole-GPU pods take the
// lowest-index fully free GPUs; CPU-only pods only subtract CPU.
#pragma once

#include "placement/policy.h"
#include "placement/workload.h"

namespace gpupool::placement {

class FgdPolicy final : public Policy {
 public:
  explicit FgdPolicy(Workload w) : workload_(std::move(w)) {}
  std::string_view name() const override { return "fgd"; }
  NodeScore Score(const PodRequest& r, const NodeState& n) const override {
    return ScoreWithBase(r, n, NodeBase(n));
  }
  // The node base is F_n before placement.
  bool uses_node_base() const override { return true; }
  double NodeBase(const NodeState& n) const override;
  NodeScore ScoreWithBase(const PodRequest& r, const NodeState& n, double base) const override;

  void SetWorkload(const Workload& w) override { workload_ = w; }
  const Workload& workload() const { return workload_; }

  // The fragment decrease F(before) - F(after) in milli-GPU for placing `r` on `n` with the GPUs
  // of `gpu_mask` (exposed for tests and for the project's own policies).
  double FragmentDelta(const PodRequest& r, const NodeState& n, std::uint32_t gpu_mask) const;

 private:
  Workload workload_;
};

// int(100 x sigmoid(delta / 1000)).
int FgdScoreFromDelta(double delta_milli);

}  // namespace gpupool::placement

// PlaceWindow: places the pods that wait in one scheduling window, committing each decision
// through `commit` before the next pod is placed (so later pods see earlier ones). A policy that
// implements WindowPolicy chooses the order (and may pair pods); every other policy places the
// window in arrival order, which for a window of one pod is plain online placement.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "cluster/cluster_state.h"
#include "placement/placer.h"

namespace gpupool::placement {

// Commits the allocation of the pod at position `index` of the window's `requests`.
using CommitFn = std::function<void(std::size_t index, const cluster::Allocation&)>;

// Optional interface of a Policy that plans a window of pods together.
class WindowPolicy {
 public:
  virtual ~WindowPolicy() = default;
  // Places `requests` (with their Placer shape ids) on `state`, calling `commit` once for each pod
  // that is placed, with its index in `requests`; pods that fit nowhere are dropped (no call).
  virtual void PlaceWindow(Placer& placer, std::span<const cluster::PodRequest> requests,
                           std::span<const int> shapes, const cluster::ClusterState& state,
                           const CommitFn& commit) const = 0;
};

void PlaceWindow(Placer& placer, std::span<const cluster::PodRequest> requests,
                 std::span<const int> shapes, const cluster::ClusterState& state,
                 const CommitFn& commit);

}  // namespace gpupool::placement

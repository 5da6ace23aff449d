#include "placement/window.h"

namespace gpupool::placement {

void PlaceWindow(Placer& placer, std::span<const cluster::PodRequest> requests,
                 std::span<const int> shapes, const WindowTiming& timing,
                 const cluster::ClusterState& state, const CommitFn& commit, const DeferFn& defer) {
  if (const auto* wp = dynamic_cast<const WindowPolicy*>(&placer.policy())) {
    wp->PlaceWindow(placer, requests, shapes, timing, state, commit, defer);
    return;
  }
  // A batch: wait until the window is full (its oldest pod's wait is up), then place it whole.
  if (!requests.empty() && !timing.MustPlace(0) &&
      static_cast<int>(requests.size()) < timing.max_wait) {
    for (std::size_t i = 0; i < requests.size(); ++i) defer(i);
    return;
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (auto a = placer.Place(requests[i], shapes[i], state)) commit(i, *a);
  }
}

}  // namespace gpupool::placement

#include "placement/window.h"

namespace gpupool::placement {

void PlaceWindow(Placer& placer, std::span<const cluster::PodRequest> requests,
                 std::span<const int> shapes, const cluster::ClusterState& state,
                 const CommitFn& commit) {
  if (const auto* wp = dynamic_cast<const WindowPolicy*>(&placer.policy())) {
    wp->PlaceWindow(placer, requests, shapes, state, commit);
    return;
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (auto a = placer.Place(requests[i], shapes[i], state)) commit(i, *a);
  }
}

}  // namespace gpupool::placement

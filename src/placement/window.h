// PlaceWindow: places the pods that wait in one scheduling window, committing each decision
// through `commit` before the next pod is placed (so later pods see earlier ones), and names the
// pods it lets wait longer through `defer`.
//
// The window is whatever waits: the pods that arrived since the last call plus the ones deferred
// before. The caller says how long each has waited, in arrivals (WindowTiming). The rule for how
// long a pod may wait is the policy's: a policy that implements WindowPolicy decides pod by pod
// (the project's `fgd-window` lets only the pods wait that a group could take); every other policy
// waits until the window holds `max_wait` pods (or flush) and then places it whole, in arrival
// order, which with max_wait = 1 is plain online placement. One mechanism for the simulator (a
// call per arrival) and the service (a call per scheduling cycle).
//
// Contract: every pod of the window gets exactly one outcome: commit (placed), defer (waits), or
// neither (fits nowhere now). With timing.flush, or for a pod whose waited >= max_wait - 1, defer
// is never called.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "cluster/cluster_state.h"
#include "placement/placer.h"

namespace gpupool::placement {

// Commits the allocation of the pod at position `index` of the window's `requests`.
using CommitFn = std::function<void(std::size_t index, const cluster::Allocation&)>;
// The pod at position `index` waits for a later call.
using DeferFn = std::function<void(std::size_t index)>;

// What the caller knows about the window besides its pods.
struct WindowTiming {
  // Arrivals each pod has waited since its own (0: it arrived just now); empty = all 0.
  std::span<const int> waited;
  // Longest a pod may wait, in arrivals counting its own: at waited = max_wait - 1 it is placed
  // (or fails) now. 1 = no waiting.
  int max_wait = 1;
  // Nothing more will arrive (the end of a trace): place every pod now.
  bool flush = false;

  int Waited(std::size_t i) const { return waited.empty() ? 0 : waited[i]; }
  bool MustPlace(std::size_t i) const { return flush || Waited(i) >= max_wait - 1; }
};

// Optional interface of a Policy that plans a window of pods together.
class WindowPolicy {
 public:
  virtual ~WindowPolicy() = default;
  // Places `requests` (with their Placer shape ids) on `state` as the header says.
  virtual void PlaceWindow(Placer& placer, std::span<const cluster::PodRequest> requests,
                           std::span<const int> shapes, const WindowTiming& timing,
                           const cluster::ClusterState& state, const CommitFn& commit,
                           const DeferFn& defer) const = 0;
};

void PlaceWindow(Placer& placer, std::span<const cluster::PodRequest> requests,
                 std::span<const int> shapes, const WindowTiming& timing,
                 const cluster::ClusterState& state, const CommitFn& commit, const DeferFn& defer);

}  // namespace gpupool::placement

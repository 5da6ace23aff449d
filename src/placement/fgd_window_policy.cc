#include "placement/fgd_window_policy.h"

#include <algorithm>
#include <numeric>
#include <optional>

namespace gpupool::placement {

namespace {

// Intersection of two model constraints (kAnyModel = no constraint); nullopt when they exclude
// each other.
std::optional<cluster::ModelMask> Intersect(cluster::ModelMask a, cluster::ModelMask b) {
  if (a == cluster::kAnyModel) return b;
  if (b == cluster::kAnyModel) return a;
  if ((a & b) == 0) return std::nullopt;
  return a & b;
}

}  // namespace

WindowGroups FormGroups(std::span<const cluster::PodRequest> window, const FgdWindowOptions& opt) {
  WindowGroups out;
  out.group.assign(window.size(), -1);
  std::vector<int> share;
  int unit = 0;  // gcd of the milli of the candidates: the knapsack's step
  for (std::size_t i = 0; i < window.size(); ++i) {
    const auto& r = window[i];
    if (r.shape() == cluster::PodShape::kSharedGpu && r.gpu_milli >= opt.min_member_milli) {
      share.push_back(static_cast<int>(i));
      unit = std::gcd(unit, r.gpu_milli);
    }
  }
  if (share.size() < 2) return out;
  // Descending milli, arrival order on ties (stable): the best-fit-decreasing order.
  std::stable_sort(share.begin(), share.end(), [&](int a, int b) {
    return window[static_cast<std::size_t>(a)].gpu_milli >
           window[static_cast<std::size_t>(b)].gpu_milli;
  });
  auto at = [&](std::size_t k) -> const cluster::PodRequest& {
    return window[static_cast<std::size_t>(share[k])];
  };
  std::vector<char> used(share.size(), 0);
  // Knapsack tables, indexed by the sum of the partners in units: the partner that first
  // reached the sum (kUnreached: none yet; kAnchor: the empty set) and how many partners.
  constexpr int kUnreached = -2;
  constexpr int kAnchor = -1;
  std::vector<int> reached_by;
  std::vector<int> partners;
  std::vector<std::size_t> members;
  for (std::size_t a = 0; a < share.size(); ++a) {
    if (used[a]) continue;
    used[a] = 1;
    cluster::PodRequest g = at(a);
    const int room = (1000 - g.gpu_milli) / unit;
    reached_by.assign(static_cast<std::size_t>(room) + 1, kUnreached);
    partners.assign(static_cast<std::size_t>(room) + 1, 0);
    reached_by[0] = kAnchor;
    // 0/1 knapsack over the later pods, in descending milli: a sum keeps the first set that
    // reached it, so larger (earlier) pods are preferred among equal fills.
    for (std::size_t b = a + 1; b < share.size(); ++b) {
      if (used[b] || !Intersect(g.allowed_models, at(b).allowed_models)) continue;
      const int w = at(b).gpu_milli / unit;
      for (int x = room; x >= w; --x) {
        const auto xi = static_cast<std::size_t>(x);
        const auto from = static_cast<std::size_t>(x - w);
        if (reached_by[xi] == kUnreached && reached_by[from] != kUnreached &&
            partners[from] + 2 <= opt.max_members) {
          reached_by[xi] = static_cast<int>(b);
          partners[xi] = partners[from] + 1;
        }
      }
    }
    int best = room;
    while (reached_by[static_cast<std::size_t>(best)] == kUnreached) --best;
    members.assign(1, a);
    for (int x = best; x > 0;) {
      const auto b = static_cast<std::size_t>(reached_by[static_cast<std::size_t>(x)]);
      x -= at(b).gpu_milli / unit;
      // Constraints were checked against the anchor only; a partner that empties the
      // intersection of the set is left out (the group then fills less, or is not kept).
      const auto models = Intersect(g.allowed_models, at(b).allowed_models);
      if (!models) continue;
      g.gpu_milli += at(b).gpu_milli;
      g.cpu_milli += at(b).cpu_milli;
      g.memory_mib += at(b).memory_mib;
      g.allowed_models = *models;
      g.gpu_memory_mib += at(b).gpu_memory_mib;
      members.push_back(b);
    }
    if (members.size() < 2 || 1000 - g.gpu_milli > opt.pair_slack_milli) continue;
    // A group of exactly 1000 milli is a whole-GPU request, which is what it needs.
    for (const std::size_t m : members) {
      used[m] = 1;
      out.group[static_cast<std::size_t>(share[m])] = static_cast<int>(out.requests.size());
    }
    out.requests.push_back(g);
  }
  return out;
}

void FgdWindowPolicy::PlaceWindow(Placer& placer, std::span<const cluster::PodRequest> requests,
                                  std::span<const int> shapes, const cluster::ClusterState& state,
                                  const CommitFn& commit) const {
  const WindowGroups groups = FormGroups(requests, opt_);
  auto place_alone = [&](std::size_t i) {
    if (auto a = placer.Place(requests[i], shapes[i], state)) commit(i, *a);
  };
  std::vector<char> group_done(groups.requests.size(), 0);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const int g = groups.group[i];
    if (g < 0) {
      place_alone(i);
      continue;
    }
    if (group_done[static_cast<std::size_t>(g)]) continue;
    group_done[static_cast<std::size_t>(g)] = 1;
    const cluster::PodRequest& gr = groups.requests[static_cast<std::size_t>(g)];
    const auto where = placer.Place(gr, placer.ShapeId(gr), state);
    for (std::size_t j = i; j < requests.size(); ++j) {
      if (groups.group[j] != g) continue;
      if (where) {
        commit(j, cluster::MakeAllocation(requests[j], where->node, where->gpu_mask));
      } else {
        place_alone(j);  // the group fits nowhere as one: its members may still fit apart
      }
    }
  }
}

}  // namespace gpupool::placement

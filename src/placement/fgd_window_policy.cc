#include "placement/fgd_window_policy.h"

#include <algorithm>
#include <array>
#include <bit>
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

// True when a pod of mask `b` may not join a group of mask `a` because one of them is
// unconstrained and the other runs only on reserved models.
bool Mixes(cluster::ModelMask a, cluster::ModelMask b, cluster::ModelMask reserved) {
  if ((a == cluster::kAnyModel) == (b == cluster::kAnyModel)) return false;
  const cluster::ModelMask tied = a == cluster::kAnyModel ? b : a;
  return (tied & ~reserved) == 0;
}

}  // namespace

WindowGroups FormGroups(std::span<const cluster::PodRequest> window, const FgdWindowOptions& opt,
                        cluster::ModelMask reserved) {
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
  // (std::sort with the index as the tie-break: the stable order without stable_sort's buffer.)
  std::sort(share.begin(), share.end(), [&](int a, int b) {
    const int ma = window[static_cast<std::size_t>(a)].gpu_milli;
    const int mb = window[static_cast<std::size_t>(b)].gpu_milli;
    return ma != mb ? ma > mb : a < b;
  });
  auto at = [&](std::size_t k) -> const cluster::PodRequest& {
    return window[static_cast<std::size_t>(share[k])];
  };
  std::vector<char> used(share.size(), 0);
  std::vector<int> weight(share.size());  // milli in units
  for (std::size_t k = 0; k < share.size(); ++k) weight[k] = at(k).gpu_milli / unit;
  // Knapsack tables, indexed by the sum of the partners in units: the partner that first
  // reached the sum (kUnreached: none yet; kAnchor: the empty set) and how many partners.
  constexpr int kUnreached = -2;
  constexpr int kAnchor = -1;
  // Sized once for the largest room (1000 milli in units); after each anchor only the reached
  // entries (`sums`) are reset.
  std::vector<int> reached_by(static_cast<std::size_t>(1000 / unit) + 1, kUnreached);
  std::vector<int> partners(reached_by.size(), 0);
  std::vector<int> sums;  // the sums reached so far, in the order they were reached
  std::vector<std::size_t> members;
  for (std::size_t a = 0; a < share.size(); ++a) {
    if (used[a]) continue;
    used[a] = 1;
    cluster::PodRequest g = at(a);
    const int room = (1000 - g.gpu_milli) / unit;
    for (const int x : sums) reached_by[static_cast<std::size_t>(x)] = kUnreached;
    reached_by[0] = kAnchor;
    partners[0] = 0;
    sums.assign(1, 0);
    // 0/1 knapsack over the later pods, in descending milli: a sum keeps the first set that
    // reached it, so larger (earlier) pods are preferred among equal fills. Pod b extends only
    // the sums reached before it (the first `known` of `sums`); each new sum is reached once.
    for (std::size_t b = a + 1; b < share.size(); ++b) {
      // A sum is never re-reached, so once the whole room is reached its set is final.
      if (reached_by[static_cast<std::size_t>(room)] != kUnreached) break;
      if (used[b] || !Intersect(g.allowed_models, at(b).allowed_models)) continue;
      if (Mixes(g.allowed_models, at(b).allowed_models, reserved)) continue;
      const int w = weight[b];
      const std::size_t known = sums.size();
      for (std::size_t k = 0; k < known; ++k) {
        const int from = sums[k];
        const int x = from + w;
        if (x > room) continue;
        const auto xi = static_cast<std::size_t>(x);
        const auto fi = static_cast<std::size_t>(from);
        if (reached_by[xi] == kUnreached && partners[fi] + 2 <= opt.max_members) {
          reached_by[xi] = static_cast<int>(b);
          partners[xi] = partners[fi] + 1;
          sums.push_back(x);
        }
      }
    }
    const int best = *std::max_element(sums.begin(), sums.end());  // the fullest fill
    members.assign(1, a);
    for (int x = best; x > 0;) {
      const auto b = static_cast<std::size_t>(reached_by[static_cast<std::size_t>(x)]);
      x -= weight[b];
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

bool Groupable(const cluster::PodRequest& r, const FgdWindowOptions& opt) {
  return r.shape() == cluster::PodShape::kSharedGpu && r.gpu_milli >= opt.min_member_milli &&
         r.gpu_milli <= 1000 - opt.min_member_milli;
}

void FgdWindowPolicy::UpdateReserved(const cluster::ClusterState& state) const {
  if (reserved_for_nodes_ == state.num_nodes() &&
      reserved_for_capacity_ == state.gpu_capacity_milli())
    return;
  reserved_for_nodes_ = state.num_nodes();
  reserved_for_capacity_ = state.gpu_capacity_milli();
  std::array<std::int64_t, cluster::ModelTable::kMaxModels> gpus{};
  std::int64_t total = 0;
  for (int n = 0; n < state.num_nodes(); ++n) {
    const cluster::NodeState& node = state.node(n);
    gpus[node.model] += node.num_gpus;
    total += node.num_gpus;
  }
  cluster::ModelMask tied = 0;  // models some constrained class of the workload names
  for (const auto& c : fgd_.workload().classes) tied |= c.allowed_models;
  reserved_ = 0;
  pool_models_ = 0;
  for (std::size_t m = 0; m < gpus.size(); ++m) {
    if (gpus[m] == 0) continue;
    const cluster::ModelMask bit = cluster::ModelMask{1} << m;
    pool_models_ |= bit;
    if ((tied & bit) != 0 &&
        static_cast<double>(gpus[m]) < opt_.minority_share * static_cast<double>(total))
      reserved_ |= bit;
  }
}

void FgdWindowPolicy::PlaceWindow(Placer& placer, std::span<const cluster::PodRequest> requests,
                                  std::span<const int> shapes, const WindowTiming& timing,
                                  const cluster::ClusterState& state, const CommitFn& commit,
                                  const DeferFn& defer) const {
  UpdateReserved(state);
  // Groups depend only on the candidates (the groupable pods, in window order) and the
  // reserved models. Most arrivals add no candidate and place none, so the last call's groups are
  // reused when both are unchanged.
  std::vector<int> cand_index(requests.size(), -1);
  std::vector<cluster::PodRequest> cand;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!Groupable(requests[i], opt_)) continue;  // (a share over 1000 - min never pairs)
    cand_index[i] = static_cast<int>(cand.size());
    cand.push_back(requests[i]);
  }
  if (cand != memo_candidates_ || reserved_ != memo_reserved_) {
    memo_groups_ = FormGroups(cand, opt_, reserved_);
    memo_candidates_ = std::move(cand);
    memo_reserved_ = reserved_;
  }
  const WindowGroups& groups = memo_groups_;
  auto group_of = [&](std::size_t i) {
    return cand_index[i] < 0 ? -1 : groups.group[static_cast<std::size_t>(cand_index[i])];
  };
  auto place_alone = [&](std::size_t i) {
    if (auto a = placer.Place(requests[i], shapes[i], state)) commit(i, *a);
  };
  // Step 2: a pod that just arrived and completes a partly used GPU goes now.
  auto fills_a_hole = [&](std::size_t i) {
    const auto a = placer.Place(requests[i], shapes[i], state);
    if (!a) return false;
    const int gpu = std::countr_zero(a->gpu_mask);
    const int left =
        state.node(a->node).gpu_left[static_cast<std::size_t>(gpu)] - requests[i].gpu_milli;
    if (left > opt_.hole_fill_slack_milli) return false;
    commit(i, *a);
    return true;
  };
  std::vector<char> group_done(groups.requests.size(), 0);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const int g = group_of(i);
    if (g < 0) {
      if (!Groupable(requests[i], opt_) || timing.MustPlace(i)) {
        place_alone(i);  // step 1 (or its wait is up: step 5)
      } else if (timing.Waited(i) > 0 || !fills_a_hole(i)) {
        defer(i);
      }
      continue;
    }
    if (group_done[static_cast<std::size_t>(g)]) continue;
    group_done[static_cast<std::size_t>(g)] = 1;
    cluster::PodRequest gr = groups.requests[static_cast<std::size_t>(g)];
    // Step 4; pod i is the group's oldest member (arrival order).
    const bool due = timing.MustPlace(i) || 1000 - gr.gpu_milli <= opt_.early_group_slack_milli;
    // An unconstrained group keeps off the reserved models when the pool has others.
    if (gr.allowed_models == cluster::kAnyModel && (pool_models_ & ~reserved_) != 0 &&
        reserved_ != 0)
      gr.allowed_models = pool_models_ & ~reserved_;
    std::optional<cluster::Allocation> where;
    if (due) where = placer.Place(gr, placer.ShapeId(gr), state);
    for (std::size_t j = i; j < requests.size(); ++j) {
      if (group_of(j) != g) continue;
      if (where) {
        commit(j, cluster::MakeAllocation(requests[j], where->node, where->gpu_mask));
      } else if (due && timing.MustPlace(j)) {
        place_alone(j);  // the group fits nowhere as one: its members may still fit apart
      } else {
        defer(j);
      }
    }
  }
}

}  // namespace gpupool::placement

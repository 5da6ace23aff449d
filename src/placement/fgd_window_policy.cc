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

// Per-GPU memory, where the request type carries it (the field is optional in PodRequest and
// Allocation); generic so the code compiles with and without it.
template <typename Req>
void AddGpuMemory(Req& sum, const Req& r) {
  if constexpr (requires { sum.gpu_memory_mib; }) sum.gpu_memory_mib += r.gpu_memory_mib;
}

template <typename Alloc, typename Req>
void SetGpuMemory(Alloc& a, const Req& r) {
  if constexpr (requires { a.gpu_memory_mib; }) {
    a.gpu_memory_mib =
        static_cast<decltype(a.gpu_memory_mib)>(r.num_gpu == 0 ? 0 : r.gpu_memory_mib);
  }
}

// Allocation of member `r` on the node and GPU its group was given.
cluster::Allocation MemberAllocation(const cluster::PodRequest& r,
                                     const cluster::Allocation& group) {
  cluster::Allocation a;
  a.node = group.node;
  a.gpu_mask = group.gpu_mask;
  a.gpu_milli = r.gpu_milli;
  a.cpu_milli = r.cpu_milli;
  a.memory_mib = r.memory_mib;
  a.tag = r.tag();
  SetGpuMemory(a, r);
  return a;
}

}  // namespace

WindowGroups FormGroups(std::span<const cluster::PodRequest> window, const FgdWindowOptions& opt) {
  WindowGroups out;
  out.group.assign(window.size(), -1);
  std::vector<int> share;
  for (std::size_t i = 0; i < window.size(); ++i) {
    const auto& r = window[i];
    if (r.shape() == cluster::PodShape::kSharedGpu && r.gpu_milli >= opt.min_member_milli) {
      share.push_back(static_cast<int>(i));
    }
  }
  // Descending milli, arrival order on ties (stable): the best-fit-decreasing order.
  std::stable_sort(share.begin(), share.end(), [&](int a, int b) {
    return window[static_cast<std::size_t>(a)].gpu_milli >
           window[static_cast<std::size_t>(b)].gpu_milli;
  });
  std::vector<char> used(share.size(), 0);
  std::vector<std::size_t> members;
  for (std::size_t a = 0; a < share.size(); ++a) {
    if (used[a]) continue;
    used[a] = 1;
    cluster::PodRequest g = window[static_cast<std::size_t>(share[a])];
    members.assign(1, a);
    for (std::size_t b = a + 1; b < share.size() && g.gpu_milli < 1000; ++b) {
      if (used[b] || static_cast<int>(members.size()) >= opt.max_members) continue;
      const auto& rb = window[static_cast<std::size_t>(share[b])];
      if (g.gpu_milli + rb.gpu_milli > 1000) continue;
      const auto models = Intersect(g.allowed_models, rb.allowed_models);
      if (!models) continue;
      g.gpu_milli += rb.gpu_milli;
      g.cpu_milli += rb.cpu_milli;
      g.memory_mib += rb.memory_mib;
      g.allowed_models = *models;
      AddGpuMemory(g, rb);
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
    if (auto a = placer.Place(requests[i], shapes[i], state)) commit(*a);
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
        commit(MemberAllocation(requests[j], *where));
      } else {
        place_alone(j);  // the group fits nowhere as one: its members may still fit apart
      }
    }
  }
}

}  // namespace gpupool::placement

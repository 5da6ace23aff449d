#include "cluster/cluster_state.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <string>
#include <utility>

namespace gpupool::cluster {

namespace {

// One counter for the whole process: a version names one node content, whichever ClusterState
// (or copy of one) it lives in.
constinit std::atomic<std::uint64_t> next_version{1};

std::uint64_t NextVersion() { return next_version.fetch_add(1, std::memory_order_relaxed); }

constinit std::atomic<std::uint64_t> next_journal_id{1};

std::uint64_t NextJournalId() { return next_journal_id.fetch_add(1, std::memory_order_relaxed); }

std::string Str(std::int64_t v) { return std::to_string(v); }

}  // namespace

ClusterState::Journal::Journal() : id(NextJournalId()) {}

ClusterState::Journal::Journal(const Journal& /*other*/) : id(NextJournalId()) {}

ClusterState::Journal& ClusterState::Journal::operator=(const Journal& other) {
  if (this != &other) {
    id = NextJournalId();
    begin = 0;
    nodes.clear();
  }
  return *this;
}

ClusterState::Journal::Journal(Journal&& other) noexcept
    : id(other.id), begin(other.begin), nodes(std::move(other.nodes)) {
  other.id = NextJournalId();
  other.begin = 0;
  other.nodes.clear();
}

ClusterState::Journal& ClusterState::Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    id = other.id;
    begin = other.begin;
    nodes = std::move(other.nodes);
    other.id = NextJournalId();
    other.begin = 0;
    other.nodes.clear();
  }
  return *this;
}

void ClusterState::Journal::Note(int node, std::size_t bound) {
  nodes.push_back(node);
  if (nodes.size() > bound) {
    const std::size_t drop = nodes.size() / 2;
    nodes.erase(nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(drop));
    begin += drop;
  }
}

void ClusterState::Touch(int node) {
  nodes_[static_cast<std::size_t>(node)].version = NextVersion();
  journal_.Note(node, 4 * nodes_.size() + 64);
}

// Interns the model last, so nothing is interned for a node that is refused.
Result<std::pair<NodeState, ClusterState::NodeBook>> ClusterState::MakeNode(const NodeSpec& spec,
                                                                            ModelTable& models) {
  const std::string who = "node " + spec.name + ": ";
  if (spec.cpu_milli < 0 || spec.memory_mib < 0) {
    return Error(Status::InvalidArgument(who + "negative CPU or memory"));
  }
  if (spec.gpus.size() > static_cast<std::size_t>(kMaxGpusPerNode)) {
    return Error(Status::InvalidArgument(who + Str(static_cast<std::int64_t>(spec.gpus.size())) +
                                         " GPUs, at most " + Str(kMaxGpusPerNode) + " supported"));
  }
  NodeState n;
  NodeBook b;
  b.name = spec.name;
  n.cpu_left = n.cpu_capacity = spec.cpu_milli;
  n.memory_left = n.memory_capacity = spec.memory_mib;
  n.num_gpus = static_cast<std::int32_t>(spec.gpus.size());
  n.num_free_gpus = n.num_gpus;
  for (int g = 0; g < n.num_gpus; ++g) {
    const auto gi = static_cast<std::size_t>(g);
    const auto& gpu = spec.gpus[gi];
    if (gpu.memory_mib < 0 || gpu.memory_mib > INT32_MAX) {
      return Error(Status::InvalidArgument(who + "GPU " + Str(g) +
                                           ": memory_mib out of range: " + Str(gpu.memory_mib)));
    }
    if (gpu.model != spec.gpus[0].model) {
      return Error(Status::InvalidArgument(who + "mixes GPU models " + spec.gpus[0].model +
                                           " and " + gpu.model +
                                           "; one model per node is supported"));
    }
    b.gpu_memory_capacity[gi] = static_cast<std::int32_t>(gpu.memory_mib);
    if (gpu.mig_enabled) {
      // Offers nothing to new work, like an unhealthy GPU (RefreshGpuView's rule).
      b.mig_gpus |= 1U << g;
      n.unhealthy_gpus |= 1U << g;
      --n.num_free_gpus;
      continue;
    }
    n.gpu_left[gi] = 1000;
    n.gpu_memory_left[gi] = b.gpu_memory_capacity[gi];
    n.gpu_left_sum += 1000;
  }
  if (spec.nvlink_islands.size() > static_cast<std::size_t>(kMaxIslandsPerNode)) {
    return Error(Status::InvalidArgument(
        who + Str(static_cast<std::int64_t>(spec.nvlink_islands.size())) +
        " NVLink islands, at most " + Str(kMaxIslandsPerNode) + " supported"));
  }
  std::uint32_t seen = 0;
  for (std::size_t i = 0; i < spec.nvlink_islands.size(); ++i) {
    const auto& island = spec.nvlink_islands[i];
    if (island.empty()) {
      return Error(
          Status::InvalidArgument(who + "NVLink island " + Str(std::int64_t(i)) + " is empty"));
    }
    std::uint32_t mask = 0;
    for (const int g : island) {
      if (g < 0 || g >= n.num_gpus) {
        return Error(Status::InvalidArgument(who + "NVLink island " + Str(std::int64_t(i)) +
                                             " names GPU " + Str(g) + "; the node has " +
                                             Str(n.num_gpus) + " GPUs"));
      }
      if (((seen >> g) & 1U) != 0) {
        return Error(
            Status::InvalidArgument(who + "GPU " + Str(g) + " is in more than one NVLink island"));
      }
      seen |= 1U << g;
      mask |= 1U << g;
    }
    n.island_masks[i] = mask;
  }
  n.num_islands = static_cast<std::int32_t>(spec.nvlink_islands.size());
  if (!spec.gpus.empty()) {
    auto id = models.Intern(spec.gpus[0].model);
    if (!id) return Error(Status::InvalidArgument(who + id.error().message()));
    n.model = *id;
  }
  n.version = NextVersion();
  return std::pair<NodeState, NodeBook>{n, std::move(b)};
}

Misfit WhyNotFits(const PodRequest& r, const NodeState& n) {
  if (!n.schedulable) return Misfit::kNotSchedulable;
  if (r.cpu_milli > n.cpu_left) return Misfit::kCpu;
  if (r.memory_mib > n.memory_left) return Misfit::kMemory;
  if (r.num_gpu == 0) return Misfit::kFits;
  if (n.num_gpus < r.num_gpu) return Misfit::kTooFewGpus;
  if (!ModelAllowed(r.allowed_models, n.model)) return Misfit::kModel;
  if (r.needs_one_island()) {
    return MostFittingInOneIsland(r, n) >= r.num_gpu ? Misfit::kFits : Misfit::kIsland;
  }
  if (r.gpu_milli >= 1000 && r.gpu_memory_mib == 0) {
    return n.num_free_gpus >= r.num_gpu ? Misfit::kFits : Misfit::kGpus;
  }
  int fitting = 0;
  for (int g = 0; g < n.num_gpus; ++g) {
    if (GpuFits(r, n, g) && ++fitting == r.num_gpu) return Misfit::kFits;
  }
  return Misfit::kGpus;
}

std::string_view MisfitName(Misfit m) {
  switch (m) {
    case Misfit::kFits:
      return "fits";
    case Misfit::kNotSchedulable:
      return "not_schedulable";
    case Misfit::kCpu:
      return "cpu";
    case Misfit::kMemory:
      return "memory";
    case Misfit::kTooFewGpus:
      return "too_few_gpus";
    case Misfit::kModel:
      return "model";
    case Misfit::kIsland:
      return "island";
    case Misfit::kGpus:
      return "gpus";
  }
  return "fits";
}

std::uint32_t IslandFitting(const PodRequest& r, const NodeState& n, int island) {
  std::uint32_t fitting = 0;
  for (std::uint32_t m = n.island_masks[static_cast<std::size_t>(island)]; m != 0; m &= m - 1) {
    const int g = std::countr_zero(m);
    if (GpuFits(r, n, g)) fitting |= 1U << g;
  }
  return fitting;
}

int MostFittingInOneIsland(const PodRequest& r, const NodeState& n) {
  int most = 0;
  for (int i = 0; i < n.num_islands; ++i)
    most = std::max(most, std::popcount(IslandFitting(r, n, i)));
  return most;
}

Allocation MakeAllocation(const PodRequest& r, int node, std::uint32_t gpu_mask) {
  return Allocation{node,
                    gpu_mask,
                    r.num_gpu == 0 ? 0 : r.gpu_milli,
                    static_cast<std::int32_t>(r.gpu_memory_mib),
                    r.cpu_milli,
                    r.memory_mib,
                    r.tag()};
}

Result<ClusterState> ClusterState::Build(const std::vector<NodeSpec>& nodes, ModelTable& models) {
  ClusterState s;
  s.nodes_.reserve(nodes.size());
  s.books_.reserve(nodes.size());
  for (const NodeSpec& spec : nodes) {
    auto added = s.AddNode(spec, models);
    if (!added) return Error(added.error());
  }
  return s;
}

Result<int> ClusterState::AddNode(const NodeSpec& spec, ModelTable& models) {
  auto made = MakeNode(spec, models);
  if (!made) return Error(made.error());
  gpu_capacity_milli_ += 1000 * std::int64_t{made->first.num_gpus};  // MIG-mode GPUs included
  num_gpus_ += made->first.num_gpus;
  nodes_.push_back(made->first);
  books_.push_back(std::move(made->second));
  return num_nodes() - 1;
}

std::string ClusterState::NodeLabel(int node) const {
  return "node " + Str(node) + " (" + node_name(node) + ")";
}

Status ClusterState::CheckNodeIndex(int node) const {
  if (node < 0 || node >= num_nodes()) {
    return Status::InvalidArgument("node " + Str(node) + " out of range (the cluster has " +
                                   Str(num_nodes()) + " nodes)");
  }
  return Status::Ok();
}

Status ClusterState::CheckAllocationShape(const Allocation& a, const char* what) const {
  // Messages are built only on error: this runs on every commit.
  auto who = [&] { return std::string(what) + " on " + NodeLabel(a.node) + ": "; };
  if (a.cpu_milli < 0 || a.memory_mib < 0 || a.gpu_milli < 0 || a.gpu_memory_mib < 0) {
    return Status::InvalidArgument(who() + "negative amount (cpu_milli " + Str(a.cpu_milli) +
                                   ", memory_mib " + Str(a.memory_mib) + ", gpu_milli " +
                                   Str(a.gpu_milli) + ", gpu_memory_mib " + Str(a.gpu_memory_mib) +
                                   ")");
  }
  if (a.gpu_milli > 1000) {
    return Status::InvalidArgument(who() + "gpu_milli " + Str(a.gpu_milli) +
                                   " is over 1000 (one whole GPU)");
  }
  const NodeState& n = node(a.node);
  if (n.num_gpus < 32 && (a.gpu_mask >> n.num_gpus) != 0) {
    return Status::InvalidArgument(who() + "GPU mask names GPU " +
                                   Str(31 - std::countl_zero(a.gpu_mask)) + "; the node has " +
                                   Str(n.num_gpus) + " GPUs");
  }
  return Status::Ok();
}

void ClusterState::RefreshGpuView(int node, int g) {
  NodeState& n = nodes_[static_cast<std::size_t>(node)];
  const NodeBook& b = books_[static_cast<std::size_t>(node)];
  const auto gi = static_cast<std::size_t>(g);
  const bool healthy = ((n.unhealthy_gpus >> g) & 1U) == 0;
  const std::int32_t old_left = n.gpu_left[gi];
  const std::int32_t new_left = healthy ? 1000 - b.gpu_used_milli[gi] : 0;
  n.gpu_left_sum += new_left - old_left;
  if (old_left == 1000) --n.num_free_gpus;
  if (new_left == 1000) ++n.num_free_gpus;
  n.gpu_left[gi] = new_left;
  n.gpu_memory_left[gi] = healthy ? b.gpu_memory_capacity[gi] - b.gpu_memory_used[gi] : 0;
}

Status ClusterState::Allocate(const Allocation& a) {
  GP_RETURN_IF_ERROR(CheckNodeIndex(a.node));
  GP_RETURN_IF_ERROR(CheckAllocationShape(a, "allocation"));
  const auto ni = static_cast<std::size_t>(a.node);
  NodeState& n = nodes_[ni];
  NodeBook& b = books_[ni];
  auto who = [&] { return "allocation on " + NodeLabel(a.node) + ": "; };
  if (n.removed) return Status::FailedPrecondition(who() + "the node is removed");
  if (!n.schedulable) return Status::FailedPrecondition(who() + "the node is cordoned");
  if (a.cpu_milli > n.cpu_left) {
    return Status::FailedPrecondition(who() + Str(a.cpu_milli) + " milli-CPU asked, " +
                                      Str(n.cpu_left) + " left");
  }
  if (a.memory_mib > n.memory_left) {
    return Status::FailedPrecondition(who() + Str(a.memory_mib) + " MiB of memory asked, " +
                                      Str(n.memory_left) + " left");
  }
  for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
    const int g = std::countr_zero(m);
    const auto gi = static_cast<std::size_t>(g);
    if (((b.mig_gpus >> g) & 1U) != 0) {
      return Status::FailedPrecondition(who() + "GPU " + Str(g) + " is in MIG mode");
    }
    if (((n.unhealthy_gpus >> g) & 1U) != 0) {
      return Status::FailedPrecondition(who() + "GPU " + Str(g) + " is unhealthy");
    }
    if (a.gpu_milli > n.gpu_left[gi]) {
      return Status::FailedPrecondition(who() + "GPU " + Str(g) + ": " + Str(a.gpu_milli) +
                                        " milli asked, " + Str(n.gpu_left[gi]) + " left");
    }
    if (a.gpu_memory_mib > n.gpu_memory_left[gi]) {
      return Status::FailedPrecondition(who() + "GPU " + Str(g) + ": " + Str(a.gpu_memory_mib) +
                                        " MiB of GPU memory asked, " + Str(n.gpu_memory_left[gi]) +
                                        " left");
    }
  }
  n.cpu_left -= a.cpu_milli;
  n.memory_left -= a.memory_mib;
  for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
    const int g = std::countr_zero(m);
    b.gpu_used_milli[static_cast<std::size_t>(g)] += a.gpu_milli;
    b.gpu_memory_used[static_cast<std::size_t>(g)] += a.gpu_memory_mib;
    RefreshGpuView(a.node, g);
    gpu_allocated_milli_ += a.gpu_milli;
  }
  for (std::uint32_t t = a.tag; t != 0; t &= t - 1) ++b.tag_count[std::countr_zero(t)];
  n.gpu_tags |= a.tag;
  Touch(a.node);
  return Status::Ok();
}

Status ClusterState::Release(const Allocation& a) {
  GP_RETURN_IF_ERROR(CheckNodeIndex(a.node));
  GP_RETURN_IF_ERROR(CheckAllocationShape(a, "release"));
  const auto ni = static_cast<std::size_t>(a.node);
  NodeState& n = nodes_[ni];
  NodeBook& b = books_[ni];
  auto who = [&] { return "release on " + NodeLabel(a.node) + ": "; };
  if (n.removed) return Status::FailedPrecondition(who() + "the node is removed");
  if (a.cpu_milli > n.cpu_capacity - n.cpu_left) {
    return Status::FailedPrecondition(who() + Str(a.cpu_milli) + " milli-CPU given back, " +
                                      Str(n.cpu_capacity - n.cpu_left) + " allocated");
  }
  if (a.memory_mib > n.memory_capacity - n.memory_left) {
    return Status::FailedPrecondition(who() + Str(a.memory_mib) + " MiB of memory given back, " +
                                      Str(n.memory_capacity - n.memory_left) + " allocated");
  }
  for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
    const int g = std::countr_zero(m);
    const auto gi = static_cast<std::size_t>(g);
    if (a.gpu_milli > b.gpu_used_milli[gi]) {
      return Status::FailedPrecondition(who() + "GPU " + Str(g) + ": " + Str(a.gpu_milli) +
                                        " milli given back, " + Str(b.gpu_used_milli[gi]) +
                                        " allocated");
    }
    if (a.gpu_memory_mib > b.gpu_memory_used[gi]) {
      return Status::FailedPrecondition(who() + "GPU " + Str(g) + ": " + Str(a.gpu_memory_mib) +
                                        " MiB of GPU memory given back, " +
                                        Str(b.gpu_memory_used[gi]) + " allocated");
    }
  }
  for (std::uint32_t t = a.tag; t != 0; t &= t - 1) {
    const int bit = std::countr_zero(t);
    if (b.tag_count[static_cast<std::size_t>(bit)] == 0) {
      return Status::FailedPrecondition(who() + "no pod of tag bit " + Str(bit) +
                                        " is allocated on the node");
    }
  }
  n.cpu_left += a.cpu_milli;
  n.memory_left += a.memory_mib;
  for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
    const int g = std::countr_zero(m);
    b.gpu_used_milli[static_cast<std::size_t>(g)] -= a.gpu_milli;
    b.gpu_memory_used[static_cast<std::size_t>(g)] -= a.gpu_memory_mib;
    RefreshGpuView(a.node, g);
    gpu_allocated_milli_ -= a.gpu_milli;
  }
  // The tags the node holds are those with a pod left: clustering then sees the node as if the
  // released pod had never come.
  std::uint32_t tags = 0;
  for (std::uint32_t t = a.tag; t != 0; t &= t - 1) --b.tag_count[std::countr_zero(t)];
  for (int bit = 0; bit < 32; ++bit) {
    if (b.tag_count[static_cast<std::size_t>(bit)] > 0) tags |= 1U << bit;
  }
  n.gpu_tags = tags;
  Touch(a.node);
  return Status::Ok();
}

Status ClusterState::SetSchedulable(int node, bool schedulable) {
  GP_RETURN_IF_ERROR(CheckNodeIndex(node));
  NodeState& n = nodes_[static_cast<std::size_t>(node)];
  if (n.removed) return Status::FailedPrecondition(NodeLabel(node) + " is removed");
  if (n.schedulable != schedulable) {
    n.schedulable = schedulable;
    Touch(node);
  }
  return Status::Ok();
}

Status ClusterState::SetGpuHealthy(int node, int gpu, bool healthy) {
  GP_RETURN_IF_ERROR(CheckNodeIndex(node));
  NodeState& n = nodes_[static_cast<std::size_t>(node)];
  if (n.removed) return Status::FailedPrecondition(NodeLabel(node) + " is removed");
  if (gpu < 0 || gpu >= n.num_gpus) {
    return Status::InvalidArgument(NodeLabel(node) + ": GPU " + Str(gpu) + " out of range (" +
                                   Str(n.num_gpus) + " GPUs)");
  }
  NodeBook& b = books_[static_cast<std::size_t>(node)];
  const bool is_healthy = ((b.down_gpus >> gpu) & 1U) == 0;
  if (is_healthy == healthy) return Status::Ok();
  b.down_gpus ^= 1U << gpu;
  n.unhealthy_gpus = b.down_gpus | b.mig_gpus;
  RefreshGpuView(node, gpu);
  Touch(node);
  return Status::Ok();
}

Status ClusterState::RemoveNode(int node) {
  GP_RETURN_IF_ERROR(CheckNodeIndex(node));
  NodeState& n = nodes_[static_cast<std::size_t>(node)];
  NodeBook& b = books_[static_cast<std::size_t>(node)];
  if (n.removed) return Status::FailedPrecondition(NodeLabel(node) + " is removed already");
  std::int64_t gpu_used = 0;
  for (int g = 0; g < n.num_gpus; ++g) {
    gpu_used += b.gpu_used_milli[static_cast<std::size_t>(g)] +
                b.gpu_memory_used[static_cast<std::size_t>(g)];
  }
  std::int32_t pods = 0;
  for (const std::int32_t c : b.tag_count) pods += c;
  if (n.cpu_left != n.cpu_capacity || n.memory_left != n.memory_capacity || gpu_used != 0 ||
      pods != 0) {
    return Status::FailedPrecondition(NodeLabel(node) + " still holds allocations (" +
                                      Str(n.cpu_capacity - n.cpu_left) + " milli-CPU, " +
                                      Str(n.memory_capacity - n.memory_left) +
                                      " MiB allocated); release them " + "first");
  }
  gpu_capacity_milli_ -= 1000 * std::int64_t{n.num_gpus};
  num_gpus_ -= n.num_gpus;
  n = NodeState{};
  n.schedulable = false;
  n.removed = true;
  Touch(node);
  std::string name = std::move(b.name);
  b = NodeBook{};
  b.name = std::move(name);
  return Status::Ok();
}

}  // namespace gpupool::cluster

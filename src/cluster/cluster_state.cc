#include "cluster/cluster_state.h"

#include <bit>
#include <string>

#include "common/check.h"

namespace gpupool::cluster {

bool Fits(const PodRequest& r, const NodeState& n) {
  if (r.cpu_milli > n.cpu_left || r.memory_mib > n.memory_left) return false;
  if (r.num_gpu == 0) return true;
  if (n.num_gpus < r.num_gpu || !ModelAllowed(r.allowed_models, n.model)) return false;
  if (r.gpu_milli >= 1000 && r.gpu_memory_mib == 0) return n.num_free_gpus >= r.num_gpu;
  int fitting = 0;
  for (int g = 0; g < n.num_gpus; ++g) {
    if (GpuFits(r, n, g) && ++fitting == r.num_gpu) return true;
  }
  return false;
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
  for (const NodeSpec& spec : nodes) {
    if (spec.cpu_milli < 0 || spec.memory_mib < 0) {
      return Error(Status::InvalidArgument("node " + spec.name + ": negative CPU or memory"));
    }
    if (spec.gpus.size() > static_cast<std::size_t>(kMaxGpusPerNode)) {
      return Error(Status::InvalidArgument("node " + spec.name + ": " +
                                           std::to_string(spec.gpus.size()) + " GPUs, at most " +
                                           std::to_string(kMaxGpusPerNode) + " supported"));
    }
    NodeState n;
    n.cpu_left = n.cpu_capacity = spec.cpu_milli;
    n.memory_left = n.memory_capacity = spec.memory_mib;
    n.num_gpus = static_cast<std::int32_t>(spec.gpus.size());
    n.num_free_gpus = n.num_gpus;
    for (int g = 0; g < n.num_gpus; ++g) {
      const auto& gpu = spec.gpus[static_cast<std::size_t>(g)];
      if (gpu.memory_mib < 0 || gpu.memory_mib > INT32_MAX) {
        return Error(Status::InvalidArgument(
            "node " + spec.name + ": GPU " + std::to_string(g) +
            ": memory_mib out of range: " + std::to_string(gpu.memory_mib)));
      }
      n.gpu_left[static_cast<std::size_t>(g)] = 1000;
      n.gpu_memory_left[static_cast<std::size_t>(g)] = static_cast<std::int32_t>(gpu.memory_mib);
    }
    n.gpu_left_sum = 1000 * n.num_gpus;
    if (!spec.gpus.empty()) {
      auto id = models.Intern(spec.gpus[0].model);
      if (!id) return Error(id.error());
      for (const auto& gpu : spec.gpus) {
        if (gpu.model != spec.gpus[0].model) {
          return Error(Status::InvalidArgument("node " + spec.name + ": mixes GPU models " +
                                               spec.gpus[0].model + " and " + gpu.model +
                                               "; one model per node is supported"));
        }
      }
      n.model = *id;
    }
    s.gpu_capacity_milli_ += n.gpu_left_sum;
    s.num_gpus_ += n.num_gpus;
    s.nodes_.push_back(n);
  }
  return s;
}

void ClusterState::Allocate(const Allocation& a) {
  GP_CHECK(a.node >= 0 && a.node < num_nodes());
  NodeState& n = nodes_[static_cast<std::size_t>(a.node)];
  GP_CHECK(a.cpu_milli <= n.cpu_left && a.memory_mib <= n.memory_left);
  GP_CHECK((a.gpu_mask >> n.num_gpus) == 0);
  n.cpu_left -= a.cpu_milli;
  n.memory_left -= a.memory_mib;
  for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
    const auto g = static_cast<std::size_t>(std::countr_zero(m));
    auto& left = n.gpu_left[g];
    GP_CHECK(left >= a.gpu_milli && n.gpu_memory_left[g] >= a.gpu_memory_mib);
    n.gpu_memory_left[g] -= a.gpu_memory_mib;
    if (left == 1000) --n.num_free_gpus;
    left -= a.gpu_milli;
    n.gpu_left_sum -= a.gpu_milli;
    gpu_allocated_milli_ += a.gpu_milli;
  }
  n.gpu_tags |= a.tag;
  ++n.version;
}

void ClusterState::Release(const Allocation& a) {
  GP_CHECK(a.node >= 0 && a.node < num_nodes());
  NodeState& n = nodes_[static_cast<std::size_t>(a.node)];
  n.cpu_left += a.cpu_milli;
  n.memory_left += a.memory_mib;
  GP_CHECK(n.cpu_left <= n.cpu_capacity && n.memory_left <= n.memory_capacity);
  for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
    const auto g = static_cast<std::size_t>(std::countr_zero(m));
    auto& left = n.gpu_left[g];
    n.gpu_memory_left[g] += a.gpu_memory_mib;
    left += a.gpu_milli;
    GP_CHECK(left <= 1000);
    if (left == 1000) ++n.num_free_gpus;
    n.gpu_left_sum += a.gpu_milli;
    gpu_allocated_milli_ -= a.gpu_milli;
  }
  // Tags are sticky in the fill experiment (pods never leave); a service that releases pods
  // recomputes them from its pod list. Conservative: keep them.
  ++n.version;
}

}  // namespace gpupool::cluster

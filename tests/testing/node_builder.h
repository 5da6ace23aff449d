// NodeBuilder: hand-built cluster::NodeState values for tests.
//   NodeBuilder().Cpu(64000).Gpus(4).UsedMilli({1000, 500}).Build()
// UsedMilli lists the milli already taken on GPUs 0, 1, ... (the rest are free).
#pragma once

#include <array>
#include <initializer_list>

#include "cluster/cluster_state.h"

namespace gpupool::testing {

class NodeBuilder {
 public:
  NodeBuilder& Cpu(std::int64_t milli) {
    cpu_ = milli;
    cpu_left_ = milli;
    return *this;
  }
  NodeBuilder& CpuLeft(std::int64_t milli) {
    cpu_left_ = milli;
    return *this;
  }
  NodeBuilder& Memory(std::int64_t mib) {
    mem_ = mib;
    return *this;
  }
  NodeBuilder& Gpus(int n) {
    gpus_ = n;
    return *this;
  }
  NodeBuilder& Model(cluster::ModelId m) {
    model_ = m;
    return *this;
  }
  NodeBuilder& UsedMilli(std::initializer_list<int> used) {
    used_ = used;
    return *this;
  }
  NodeBuilder& Tags(std::uint32_t t) {
    tags_ = t;
    return *this;
  }
  // NVLink islands as GPU masks: Islands({0x0F, 0xF0}) = GPUs 0-3 and 4-7.
  NodeBuilder& Islands(std::initializer_list<std::uint32_t> masks) {
    num_islands_ = 0;
    for (std::uint32_t m : masks) islands_[static_cast<std::size_t>(num_islands_++)] = m;
    return *this;
  }

  cluster::NodeState Build() const {
    cluster::NodeState n;
    n.cpu_capacity = cpu_;
    n.cpu_left = cpu_left_;
    n.memory_capacity = n.memory_left = mem_;
    n.num_gpus = gpus_;
    n.model = model_;
    n.gpu_tags = tags_;
    n.island_masks = islands_;
    n.num_islands = num_islands_;
    std::size_t i = 0;
    for (int g = 0; g < gpus_; ++g) n.gpu_left[static_cast<std::size_t>(g)] = 1000;
    for (int u : used_) n.gpu_left[i++] -= u;
    n.gpu_left_sum = 0;
    n.num_free_gpus = 0;
    for (int g = 0; g < gpus_; ++g) {
      n.gpu_left_sum += n.gpu_left[static_cast<std::size_t>(g)];
      if (n.gpu_left[static_cast<std::size_t>(g)] == 1000) ++n.num_free_gpus;
    }
    return n;
  }

 private:
  std::int64_t cpu_ = 64000, cpu_left_ = 64000, mem_ = 262144;
  int gpus_ = 0;
  cluster::ModelId model_ = 0;
  std::initializer_list<int> used_ = {};
  std::uint32_t tags_ = 0;
  std::array<std::uint32_t, cluster::kMaxIslandsPerNode> islands_{};
  int num_islands_ = 0;
};

inline cluster::PodRequest Pod(std::int64_t cpu, int num_gpu, int gpu_milli,
                               std::int64_t mem = 1024) {
  cluster::PodRequest r;
  r.cpu_milli = cpu;
  r.memory_mib = mem;
  r.num_gpu = num_gpu;
  r.gpu_milli = gpu_milli;
  return r;
}

}  // namespace gpupool::testing

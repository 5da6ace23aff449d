#include "cluster/cluster_state.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::cluster {
namespace {
using testing::NodeBuilder;
using testing::Pod;

NodeSpec Spec(const std::string& name, std::int64_t cpu, int gpus, const std::string& model) {
  NodeSpec n;
  n.name = name;
  n.cpu_milli = cpu;
  n.memory_mib = 65536;
  for (int g = 0; g < gpus; ++g) n.gpus.push_back(GpuSpec{model, 0, "", -1});
  return n;
}

TEST(ClusterStateTest, BuildCountsCapacity) {
  ModelTable models;
  auto s = ClusterState::Build(
      {Spec("a", 32000, 2, "T4"), Spec("b", 96000, 8, "V100"), Spec("c", 8000, 0, "")}, models);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->num_gpus(), 10);
  EXPECT_EQ(s->gpu_capacity_milli(), 10000);
  EXPECT_EQ(s->node(1).num_free_gpus, 8);
  EXPECT_EQ(models.Name(s->node(1).model), "V100");
}

TEST(ClusterStateTest, RefusesMixedModelsOnANode) {
  ModelTable models;
  NodeSpec n = Spec("mixed", 1000, 1, "T4");
  n.gpus.push_back(GpuSpec{"V100", 0, "", -1});
  auto s = ClusterState::Build({n}, models);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("mixed"), std::string::npos);
}

TEST(ClusterStateTest, AllocateAndReleaseKeepAggregates) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  const auto v0 = s->node(0).version;
  Allocation share{.node = 0,
                   .gpu_mask = 0b10,
                   .gpu_milli = 300,
                   .cpu_milli = 4000,
                   .memory_mib = 1024,
                   .tag = 1};
  s->Allocate(share);
  // GPU1: 1000 - 300 = 700 left; sum 1700; one fully free GPU; CPU 32000 - 4000.
  EXPECT_EQ(s->node(0).gpu_left[1], 700);
  EXPECT_EQ(s->node(0).gpu_left_sum, 1700);
  EXPECT_EQ(s->node(0).num_free_gpus, 1);
  EXPECT_EQ(s->node(0).cpu_left, 28000);
  EXPECT_EQ(s->gpu_allocated_milli(), 300);
  EXPECT_NE(s->node(0).version, v0);
  s->Release(share);
  EXPECT_EQ(s->node(0).gpu_left_sum, 2000);
  EXPECT_EQ(s->node(0).num_free_gpus, 2);
  EXPECT_EQ(s->gpu_allocated_milli(), 0);
}

TEST(ClusterStateDeathTest, OvercommitAborts) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 1, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  s->Allocate(
      Allocation{.node = 0, .gpu_mask = 0b1, .gpu_milli = 800, .cpu_milli = 1000, .tag = 1});
  // 800 + 300 > 1000 milli on GPU0; 1000 + 40000 > 32000 milli-CPU.
  EXPECT_DEATH(s->Allocate(Allocation{
                   .node = 0, .gpu_mask = 0b1, .gpu_milli = 300, .cpu_milli = 1000, .tag = 1}),
               "check failed");
  EXPECT_DEATH(s->Allocate(Allocation{.node = 0, .cpu_milli = 40000}), "check failed");
}

TEST(FitsTest, ChecksEveryResourceAndTheModel) {
  const NodeState n = NodeBuilder().Cpu(8000).Gpus(2).Model(1).UsedMilli({1000, 400}).Build();
  // GPU0 full, GPU1 has 600 left; no fully free GPU.
  EXPECT_TRUE(Fits(Pod(8000, 1, 600), n));
  EXPECT_FALSE(Fits(Pod(8000, 1, 601), n));
  EXPECT_FALSE(Fits(Pod(8001, 0, 0), n));         // CPU
  EXPECT_FALSE(Fits(Pod(100, 1, 1000), n));       // no free GPU
  EXPECT_FALSE(Fits(Pod(100, 0, 0, 300000), n));  // memory
  PodRequest constrained = Pod(100, 1, 100);
  constrained.allowed_models = 0b01;  // only model 0; the node is model 1
  EXPECT_FALSE(Fits(constrained, n));
  constrained.allowed_models = 0b10;
  EXPECT_TRUE(Fits(constrained, n));
}

}  // namespace
}  // namespace gpupool::cluster

namespace gpupool::cluster {
namespace {

TEST(GpuMemoryTest, RequestsCountGpuMemoryPerGpu) {
  ModelTable models;
  NodeSpec spec;
  spec.name = "h100";
  spec.cpu_milli = 64000;
  spec.memory_mib = 65536;
  spec.gpus.assign(2, GpuSpec{"H100", 81920, "", -1});  // 80 GiB each
  auto s = ClusterState::Build({spec}, models);
  ASSERT_TRUE(s.has_value());
  PodRequest r = testing::Pod(1000, 1, 300);
  r.gpu_memory_mib = 50000;
  ASSERT_TRUE(Fits(r, s->node(0)));
  s->Allocate(MakeAllocation(r, 0, 0b01));
  // GPU0 has 81920 - 50000 = 31920 MiB left: a second 50000 MiB share fits only GPU1, though GPU0
  // has 700 milli left.
  EXPECT_FALSE(GpuFits(r, s->node(0), 0));
  EXPECT_TRUE(GpuFits(r, s->node(0), 1));
  s->Allocate(MakeAllocation(r, 0, 0b10));
  EXPECT_FALSE(Fits(r, s->node(0)));
  // A request without GPU memory still fits on the milli left.
  EXPECT_TRUE(Fits(testing::Pod(1000, 1, 700), s->node(0)));
  // Two whole GPUs of 40000 MiB: no GPU is free any more.
  PodRequest whole = testing::Pod(1000, 2, 1000);
  whole.gpu_memory_mib = 40000;
  EXPECT_FALSE(Fits(whole, s->node(0)));
}

TEST(GpuMemoryTest, UnknownGpuMemoryFitsOnlyRequestsWithoutMemory) {
  const NodeState n = testing::NodeBuilder().Gpus(1).Build();  // gpu_memory_left = 0 (unknown)
  PodRequest r = testing::Pod(1000, 1, 1000);
  EXPECT_TRUE(Fits(r, n));
  r.gpu_memory_mib = 1;
  EXPECT_FALSE(Fits(r, n));
}

}  // namespace
}  // namespace gpupool::cluster

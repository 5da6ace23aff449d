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
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4"), Spec("b", 96000, 8, "V100"), Spec("c", 8000, 0, "")}, models);
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
  Allocation share{0, 0b10, 300, 4000, 1024, 1};
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
  s->Allocate(Allocation{0, 0b1, 800, 1000, 0, 1});
  EXPECT_DEATH(s->Allocate(Allocation{0, 0b1, 300, 1000, 0, 1}), "check failed");
  EXPECT_DEATH(s->Allocate(Allocation{0, 0, 0, 40000, 0, 0}), "check failed");
}

TEST(FitsTest, ChecksEveryResourceAndTheModel) {
  const NodeState n = NodeBuilder().Cpu(8000).Gpus(2).Model(1).UsedMilli({1000, 400}).Build();
  // GPU0 full, GPU1 has 600 left; no fully free GPU.
  EXPECT_TRUE(Fits(Pod(8000, 1, 600), n));
  EXPECT_FALSE(Fits(Pod(8000, 1, 601), n));
  EXPECT_FALSE(Fits(Pod(8001, 0, 0), n));            // CPU
  EXPECT_FALSE(Fits(Pod(100, 1, 1000), n));          // no free GPU
  EXPECT_FALSE(Fits(Pod(100, 0, 0, 300000), n));     // memory
  PodRequest constrained = Pod(100, 1, 100);
  constrained.allowed_models = 0b01;                  // only model 0; the node is model 1
  EXPECT_FALSE(Fits(constrained, n));
  constrained.allowed_models = 0b10;
  EXPECT_TRUE(Fits(constrained, n));
}

}  // namespace
}  // namespace gpupool::cluster

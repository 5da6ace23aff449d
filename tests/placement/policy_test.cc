#include "placement/policy.h"

#include <gtest/gtest.h>

#include <bit>

#include "placement/placer.h"
#include "placement/policy_registry.h"
#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::NodeBuilder;
using testing::Pod;

TEST(DefaultGpuChoiceTest, SharedPodTakesLeastLeftFittingGpu) {
  // lefts: 1000, 300, 600, 300 -> a 250 pod fits all; least left is 300 at GPU1 and GPU3 -> GPU1.
  const auto n = NodeBuilder().Gpus(4).UsedMilli({0, 700, 400, 700}).Build();
  EXPECT_EQ(DefaultGpuChoice(Pod(0, 1, 250), n), 1u << 1);
  // a 500 pod fits GPU0 (1000) and GPU2 (600) -> GPU2.
  EXPECT_EQ(DefaultGpuChoice(Pod(0, 1, 500), n), 1u << 2);
}

TEST(DefaultGpuChoiceTest, WholePodsTakeLowestIndexFreeGpus) {
  const auto n = NodeBuilder().Gpus(4).UsedMilli({0, 700, 0, 0}).Build();
  EXPECT_EQ(DefaultGpuChoice(Pod(0, 2, 1000), n), 0b101u);  // GPU0 and GPU2
  EXPECT_EQ(DefaultGpuChoice(Pod(0, 0, 0), n), 0u);
}

// An 8-GPU node of two NVLink islands, GPUs 0-3 and 4-7.
cluster::NodeState TwoIslands(std::initializer_list<int> used) {
  auto b = NodeBuilder().Gpus(8).Islands({0x0F, 0xF0});
  b.UsedMilli(used);
  return b.Build();
}

TEST(DefaultGpuChoiceTest, MultiGpuPodsStayInsideTheFullestIslandThatHoldsThem) {
  struct Case {
    const char* what;
    cluster::NodeState node;
    int k;
    std::uint32_t mask;
  } cases[] = {
      // Both islands have 4 free: tie -> island 0, its lowest GPUs 0, 1.
      {"empty, 2", TwoIslands({}), 2, 0b11},
      // GPU0 shared: island 0 has 3 free (1, 2, 3), island 1 has 4 -> island 0 for 2 and 3 GPUs,
      // island 1 (the only one with 4) for 4.
      {"GPU0 shared, 2", TwoIslands({300}), 2, 0b0110},
      {"GPU0 shared, 3", TwoIslands({300}), 3, 0b1110},
      {"GPU0 shared, 4", TwoIslands({300}), 4, 0xF0},
      // GPUs 0, 1, 4 used: island 0 has {2, 3}, island 1 has {5, 6, 7}.
      {"0,1,4 used, 2", TwoIslands({1000, 1000, 0, 0, 1000}), 2, 0b1100},
      {"0,1,4 used, 3", TwoIslands({1000, 1000, 0, 0, 1000}), 3, 0xE0},
      // GPUs 0, 1, 2, 4, 5 used: island 0 has {3}, island 1 has {6, 7}. 2 -> island 1; 3 fits no
      // island -> today's rule, the lowest free GPUs 3, 6, 7.
      {"0,1,2,4,5 used, 2", TwoIslands({1000, 1000, 1000, 0, 1000, 1000}), 2, 0xC0},
      {"0,1,2,4,5 used, 3", TwoIslands({1000, 1000, 1000, 0, 1000, 1000}), 3, 0xC8},
      // One GPU: today's rule (lowest free), islands or not.
      {"GPU0 shared, 1", TwoIslands({300}), 1, 0b10},
      // No islands: the lowest free GPUs 3 and 6.
      {"no islands, 2", NodeBuilder().Gpus(8).UsedMilli({1000, 1000, 1000, 0, 1000, 1000}).Build(),
       2, 0x48},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(DefaultGpuChoice(Pod(0, c.k, 1000), c.node), c.mask) << c.what;
  }
}

TEST(DefaultGpuChoiceTest, EveryPolicyUsesTheIslandChoice) {
  // GPUs 0, 1, 2, 4, 5 used: a 2-GPU pod goes to island 1's GPUs 6 and 7 under every policy.
  const auto n = TwoIslands({1000, 1000, 1000, 0, 1000, 1000});
  PolicyContext ctx;
  ctx.workload.classes.push_back(TaskClass{0, 2, 1000, cluster::kAnyModel, 1.0, 1});
  for (const auto& name : PolicyNames()) {
    auto p = MakePolicy(name, ctx);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ((*p)->Score(Pod(0, 2, 1000), n).gpu_mask, 0xC0u) << name;
  }
}

TEST(DefaultGpuChoiceTest, EveryPolicyPutsARequiredNvlinkPodInsideOneIsland) {
  // a: islands {0-3}, {4-7}, GPUs 0, 1, 4, 5 taken -> 4 free, 2 + 2 (no island holds 4).
  // b: the same islands, GPUs 0, 1, 2 taken -> island 0 has {3}, island 1 has {4-7}.
  // c: 8 free GPUs, islands unknown (never meets the rule).
  // A 4-GPU pod that requires NVLink fits only b, on island 1: mask 0xF0, under every policy and
  // seed. Without the rule it fits all three (a's 4 free: 2, 3, 6, 7 = 0xCC).
  cluster::ModelTable models;
  std::vector<cluster::NodeSpec> specs(3);
  const char* names[] = {"a", "b", "c"};
  for (std::size_t i = 0; i < specs.size(); ++i) {
    specs[i].name = names[i];
    specs[i].cpu_milli = 64000;
    specs[i].memory_mib = 65536;
    specs[i].gpus.assign(8, cluster::GpuSpec{"G", 0, "", -1});
    if (i < 2) specs[i].nvlink_islands = {{0, 1, 2, 3}, {4, 5, 6, 7}};
  }
  auto state = cluster::ClusterState::Build(specs, models);
  ASSERT_TRUE(state.has_value());
  ASSERT_TRUE(state->Allocate(cluster::MakeAllocation(Pod(0, 4, 1000), 0, 0x33)).ok());
  ASSERT_TRUE(state->Allocate(cluster::MakeAllocation(Pod(0, 3, 1000), 1, 0x07)).ok());
  PodRequest nvlink = Pod(1000, 4, 1000);
  nvlink.require_nvlink = true;
  PolicyContext ctx;
  ctx.workload.classes.push_back(TaskClass{0, 4, 1000, cluster::kAnyModel, 1.0, 1});
  for (const auto& name : PolicyNames()) {
    auto p = MakePolicy(name, ctx);
    ASSERT_TRUE(p.has_value());
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      Placer placer(**p, state->num_nodes(), seed);
      const auto a = placer.Place(nvlink, placer.ShapeId(nvlink), *state);
      ASSERT_TRUE(a.has_value()) << name;
      EXPECT_EQ(a->node, 1) << name << " seed " << seed;
      EXPECT_EQ(a->gpu_mask, 0xF0U) << name << " seed " << seed;
      // The same shape without the rule is another shape: it may go anywhere with 4 free.
      const PodRequest plain = Pod(1000, 4, 1000);
      EXPECT_NE(placer.ShapeId(plain), placer.ShapeId(nvlink)) << name;
      const auto b = placer.Place(plain, placer.ShapeId(plain), *state);
      ASSERT_TRUE(b.has_value()) << name;
      EXPECT_EQ(std::popcount(b->gpu_mask), 4) << name;
    }
  }
}

}  // namespace
}  // namespace gpupool::placement

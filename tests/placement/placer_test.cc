#include "placement/placer.h"

#include <gtest/gtest.h>

#include <set>

#include "placement/bestfit_policy.h"
#include "placement/packing_policy.h"
#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::Pod;

cluster::ClusterState Identical(int n, cluster::ModelTable& models) {
  std::vector<cluster::NodeSpec> specs(static_cast<std::size_t>(n));
  for (auto& s : specs) {
    s.name = "n";
    s.cpu_milli = 64000;
    s.memory_mib = 65536;
    s.gpus.assign(8, cluster::GpuSpec{"G2", 0, "", -1});
  }
  return *cluster::ClusterState::Build(specs, models);
}

TEST(PlacerTest, TiesGoToTheFirstNodeOfTheSeedsOrder) {
  cluster::ModelTable models;
  auto state = Identical(50, models);
  PackingPolicy policy;
  std::set<int> firsts;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Placer placer(policy, state.num_nodes(), seed);
    // Every node is empty and identical: all tie at 25, so the winner is the best-priority node.
    auto a = placer.Place(Pod(1000, 1, 1000), state);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->node, placer.node_order()[0]);
    EXPECT_EQ(placer.node_rank()[static_cast<std::size_t>(a->node)], 0);
    firsts.insert(a->node);
  }
  EXPECT_GT(firsts.size(), 5u);  // the order depends on the seed
}

TEST(PlacerTest, TheOrderIsFixedPerSeedNotDrawnPerDecision) {
  cluster::ModelTable models;
  auto state = Identical(20, models);
  BestFitPolicy policy;
  Placer placer(policy, state.num_nodes(), 3);
  // BestFit prefers the fullest node, so the first pod's node keeps winning while it has room:
  // 8 whole-GPU pods of 1000 CPU all land on node_order()[0].
  for (int i = 0; i < 8; ++i) {
    auto a = placer.Place(Pod(1000, 1, 1000), state);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->node, placer.node_order()[0]);
    state.Allocate(*a);
  }
  // The ninth no longer fits there (no free GPU): it goes to the next node in the same order.
  auto a = placer.Place(Pod(1000, 1, 1000), state);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->node, placer.node_order()[1]);
}

TEST(PlacerTest, HigherScoreBeatsPriority) {
  cluster::ModelTable models;
  auto state = Identical(10, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 5);
  const int last = placer.node_order().back();
  // A shared pod on the worst-priority node makes it the only used node: packing scores it 95+.
  state.Allocate(cluster::Allocation{
      .node = last, .gpu_mask = 1, .gpu_milli = 500, .cpu_milli = 1000, .tag = 1});
  auto a = placer.Place(Pod(1000, 1, 300), state);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->node, last);
  EXPECT_EQ(a->gpu_mask, 1u);
}

TEST(PlacerTest, NothingFitsGivesNoPlacement) {
  cluster::ModelTable models;
  auto state = Identical(3, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 1);
  EXPECT_FALSE(placer.Place(Pod(1000, 9, 1000), state).has_value());    // 9 GPUs on 8-GPU nodes
  EXPECT_FALSE(placer.Place(Pod(100000, 1, 1000), state).has_value());  // CPU
}

TEST(PlacerTest, CacheRecomputesOnlyChangedNodes) {
  cluster::ModelTable models;
  auto state = Identical(10, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 1);
  const auto pod = Pod(1000, 1, 300);
  auto a = placer.Place(pod, state);
  ASSERT_TRUE(a.has_value());
  // The first decision scores all 10 nodes (packing never reaches 100, so no early stop).
  const auto first = placer.evaluations();
  EXPECT_EQ(first, 10u);
  state.Allocate(*a);
  placer.Place(pod, state);
  // The second decision re-scores only the node that changed.
  EXPECT_EQ(placer.evaluations() - first, 1u);
}

}  // namespace
}  // namespace gpupool::placement

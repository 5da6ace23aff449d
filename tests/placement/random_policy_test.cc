#include "placement/random_policy.h"

#include <gtest/gtest.h>

#include <set>

#include "placement/placer.h"
#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::Pod;

cluster::ClusterState ThreeNodes(cluster::ModelTable& models) {
  std::vector<cluster::NodeSpec> specs(3);
  for (int i = 0; i < 3; ++i) {
    specs[static_cast<std::size_t>(i)].name = "n" + std::to_string(i);
    specs[static_cast<std::size_t>(i)].cpu_milli = 64000;
    specs[static_cast<std::size_t>(i)].memory_mib = 65536;
    specs[static_cast<std::size_t>(i)].gpus.assign(4, cluster::GpuSpec{"T4", 0, "", -1});
  }
  specs[2].cpu_milli = 1000;  // too little CPU for the test pod
  return *cluster::ClusterState::Build(specs, models);
}

TEST(RandomPolicyTest, DrawsOnlyFeasibleNodesAndSpreads) {
  cluster::ModelTable models;
  auto state = ThreeNodes(models);
  RandomPolicy policy;
  Placer placer(policy, state.num_nodes(), 7);
  std::set<int> nodes, gpus;
  for (int i = 0; i < 200; ++i) {
    auto a = placer.Place(Pod(2000, 1, 300), state);
    ASSERT_TRUE(a.has_value());
    EXPECT_NE(a->node, 2);  // node 2 has 1000 CPU < 2000
    nodes.insert(a->node);
    gpus.insert(a->gpu_mask);
  }
  EXPECT_EQ(nodes.size(), 2u);  // both feasible nodes are drawn (P(miss) = 2^-199)
  EXPECT_EQ(gpus.size(), 4u);   // and every GPU inside them
}

}  // namespace
}  // namespace gpupool::placement

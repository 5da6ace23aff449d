#include "placement/fragmentation.h"

#include <gtest/gtest.h>

#include "sim/fill_experiment.h"
#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::NodeBuilder;

TEST(NodeFragmentTest, CasesByHand) {
  // Classes: 50 % shared 500 milli, 50 % one whole GPU; no CPU asked.
  Workload w;
  w.classes.push_back(TaskClass{0, 1, 500, cluster::kAnyModel, 0.5, 1});
  w.classes.push_back(TaskClass{0, 1, 1000, cluster::kAnyModel, 0.5, 1});
  // lefts [1000, 300]: share fits (GPU0), f = 300; whole fits (GPU0), f = 300 -> F = 300
  EXPECT_DOUBLE_EQ(NodeFragment(w, NodeBuilder().Gpus(2).UsedMilli({0, 700}).Build()), 300.0);
  // lefts [600, 300]: share fits, f = 300; whole does not fit, f = 900 -> F = 600
  EXPECT_DOUBLE_EQ(NodeFragment(w, NodeBuilder().Gpus(2).UsedMilli({400, 700}).Build()), 600.0);
  // model not allowed for either class: f = L = 1300 for both
  w.classes[0].allowed_models = w.classes[1].allowed_models = 0b10;
  EXPECT_DOUBLE_EQ(NodeFragment(w, NodeBuilder().Gpus(2).Model(0).UsedMilli({0, 700}).Build()),
                   1300.0);
}

TEST(NodeFragmentTest, CpuOnlyClassCountsAllIdleGpu) {
  Workload w;
  w.classes.push_back(TaskClass{1000, 0, 0, cluster::kAnyModel, 1.0, 1});
  EXPECT_DOUBLE_EQ(NodeFragment(w, NodeBuilder().Gpus(4).UsedMilli({1000, 500}).Build()), 2500.0);
}

// The published figure: F summed over the empty default cluster is about 13.9-14.0 % of capacity
// (../shared/specs/openb-fill.md).
TEST(NodeFragmentTest, EmptyDefaultClusterMatchesThePublishedFigure) {
  const std::string dir = std::string(GPUPOOL_SOURCE_DATA_DIR) + "/traces/openb/";
  auto in =
      sim::LoadFillInput(dir + "openb_node_list_gpu_node.csv", dir + "openb_pod_list_default.csv");
  ASSERT_TRUE(in.has_value()) << in.error().ToString();
  cluster::ModelTable models;
  auto state = cluster::ClusterState::Build(in->nodes, models);
  ASSERT_TRUE(state.has_value());
  double total = 0;
  for (const auto& n : state->nodes()) total += NodeFragment(in->workload, n);
  const double pct = 100.0 * total / static_cast<double>(state->gpu_capacity_milli());
  EXPECT_GE(pct, 13.9);
  EXPECT_LE(pct, 14.0);
}

}  // namespace
}  // namespace gpupool::placement

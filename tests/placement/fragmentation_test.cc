#include "placement/fragmentation.h"

#include <gtest/gtest.h>

#include <random>

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

// The header's formula GPU by GPU, as written there (the implementation sorts the GPUs instead).
double FragmentByTheFormula(const Workload& w, std::int64_t cpu_left,
                            const std::vector<std::int32_t>& left, cluster::ModelId model) {
  std::int64_t total = 0;
  for (const std::int32_t l : left) total += l;
  if (total == 0) return 0.0;
  double f = 0;
  for (const TaskClass& m : w.classes) {
    std::int64_t frag = total;
    if (m.num_gpu > 0 && cpu_left >= m.cpu_milli &&
        cluster::ModelAllowed(m.allowed_models, model)) {
      int fitting = 0;
      std::int64_t below = 0;
      for (const std::int32_t l : left) {
        if (l >= m.gpu_milli) {
          ++fitting;
        } else {
          below += l;
        }
      }
      if (fitting >= m.num_gpu) frag = below;
    }
    f += m.weight * static_cast<double>(frag);
  }
  return f;
}

TEST(NodeFragmentTest, AgreesWithTheFormulaOnRandomNodes) {
  std::mt19937_64 rng(7);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 2000; ++trial) {
    Workload w;
    const int classes = pick(1, 12);
    for (int c = 0; c < classes; ++c) {
      // Shares, whole and multi-GPU classes, CPU-only ones, some tied to model 1.
      const int num_gpu = pick(0, 8);
      const int milli = num_gpu == 1 ? 50 * pick(1, 20) : (num_gpu == 0 ? 0 : 1000);
      w.classes.push_back(TaskClass{1000 * pick(0, 8), num_gpu, milli,
                                    pick(0, 3) == 0 ? cluster::ModelMask{0b10} : cluster::kAnyModel,
                                    pick(1, 100) / 97.0, 1});
    }
    const int gpus = pick(0, 8);
    std::vector<std::int32_t> left;
    // Lefts on a coarse grid so that ties and exact fits are common; 0 = a full (or unhealthy) GPU.
    for (int g = 0; g < gpus; ++g) left.push_back(100 * pick(0, 10));
    const std::int64_t cpu = 1000 * pick(0, 8);
    const auto model = static_cast<cluster::ModelId>(pick(0, 1));
    // Exactly equal: the same integer fragments, summed over the classes in the same order.
    EXPECT_EQ(NodeFragment(w, cpu, left.data(), gpus, model),
              FragmentByTheFormula(w, cpu, left, model))
        << "trial " << trial;
  }
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

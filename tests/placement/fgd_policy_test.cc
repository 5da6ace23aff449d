#include "placement/fgd_policy.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::NodeBuilder;
using testing::Pod;

// One class: shared pods of 500 milli, no CPU, p = 1.
Workload HalfGpuWorkload() {
  Workload w;
  w.classes.push_back(TaskClass{0, 1, 500, cluster::kAnyModel, 1.0, 1});
  w.total_pods = w.covered_pods = 1;
  return w;
}

TEST(FgdScoreTest, SigmoidTruncated) {
  EXPECT_EQ(FgdScoreFromDelta(0), 50);     // sigmoid(0) = 0.5
  EXPECT_EQ(FgdScoreFromDelta(-400), 40);  // 1 / (1 + e^0.4) = 0.4013
  EXPECT_EQ(FgdScoreFromDelta(1000), 73);  // 1 / (1 + e^-1) = 0.7311
  EXPECT_EQ(FgdScoreFromDelta(-5000), 0);  // 0.0067 -> 0
}

TEST(FgdPolicyTest, PrefersThePlacementThatKeepsTheClassFitting) {
  FgdPolicy p(HalfGpuWorkload());
  const auto free_gpu = NodeBuilder().Gpus(1).Build();
  // before: 1000 >= 500 fits, fragment 0. A 600 pod leaves 400 < 500: f = L = 400, delta -400
  // -> 40.
  EXPECT_EQ(p.Score(Pod(0, 1, 600), free_gpu).score, 40);
  // A 500 pod leaves 500: still fits, fragment 0, delta 0 -> 50.
  EXPECT_EQ(p.Score(Pod(0, 1, 500), free_gpu).score, 50);
}

TEST(FgdPolicyTest, SharedPodTriesEveryGpuAndKeepsTheBest) {
  FgdPolicy p(HalfGpuWorkload());
  // lefts [1000, 700], a 300 pod:
  //   on GPU0 -> [700, 700]: fits, f = 0, delta 0 -> 50
  //   on GPU1 -> [1000, 400]: fits on GPU0, f = 400 (GPU1 < 500), delta -400 -> 40
  const auto n = NodeBuilder().Gpus(2).UsedMilli({0, 300}).Build();
  const NodeScore s = p.Score(Pod(0, 1, 300), n);
  EXPECT_EQ(s.score, 50);
  EXPECT_EQ(s.gpu_mask, 1u << 0);
  // a 200 pod: GPU0 -> [800, 700] delta 0 -> 50; GPU1 -> [1000, 500] delta 0 -> 50: tie, lowest
  // index.
  EXPECT_EQ(p.Score(Pod(0, 1, 200), n).gpu_mask, 1u << 0);
}

TEST(FgdPolicyTest, CpuOnlyPodStarvingTheGpuScoresLow) {
  // Class: 1 whole GPU with 8000 CPU, p = 1. Node: 1 free GPU, 10000 CPU left.
  Workload w;
  w.classes.push_back(TaskClass{8000, 1, 1000, cluster::kAnyModel, 1.0, 1});
  FgdPolicy p(w);
  const auto n = NodeBuilder().Cpu(10000).Gpus(1).Build();
  // before: fits, f = 0. A CPU-only pod of 4000 leaves 6000 < 8000: the GPU is stranded,
  // f = L = 1000, delta -1000 -> 1 / (1 + e) = 0.2689 -> 26.
  EXPECT_EQ(p.Score(Pod(4000, 0, 0), n).score, 26);
  // 2000 leaves 8000: still fits -> 50.
  EXPECT_EQ(p.Score(Pod(2000, 0, 0), n).score, 50);
}

}  // namespace
}  // namespace gpupool::placement

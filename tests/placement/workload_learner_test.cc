#include "placement/workload_learner.h"

#include <gtest/gtest.h>

#include <cmath>

#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::Pod;

TEST(WorkloadLearnerTest, DecaysOlderObservations) {
  // Half-life 1: d = 2^-1 = 0.5 per observation.
  WorkloadLearner learner(1.0);
  const auto a = Pod(4000, 1, 500), b = Pod(8000, 1, 1000);
  learner.Observe(a);  // a = 1
  learner.Observe(a);  // a = 0.5 + 1 = 1.5
  learner.Observe(b);  // a = 0.75, b = 1
  EXPECT_EQ(learner.observed(), 3);
  // Total 1.75; 95 % = 1.6625: b (1) < 1.6625, then a -> both. p_b = 1 / 1.75 = 0.5714,
  // p_a = 0.75 / 1.75 = 0.4286; the newer class comes first although it was seen less.
  const Workload w = learner.Current();
  ASSERT_EQ(w.classes.size(), 2u);
  EXPECT_EQ(w.classes[0].gpu_milli, 1000);
  EXPECT_EQ(w.classes[0].cpu_milli, 8000);
  EXPECT_NEAR(w.classes[0].weight, 1.0 / 1.75, 1e-12);
  EXPECT_EQ(w.classes[0].count, 1);
  EXPECT_EQ(w.classes[1].gpu_milli, 500);
  EXPECT_NEAR(w.classes[1].weight, 0.75 / 1.75, 1e-12);
  EXPECT_EQ(w.classes[1].count, 2);
  EXPECT_EQ(w.total_pods, 3);
  EXPECT_EQ(w.covered_pods, 3);
  // Coverage 0.5: b alone covers 1 of 1.75 = 57 % >= 50 %.
  const Workload half = learner.Current(0.5);
  ASSERT_EQ(half.classes.size(), 1u);
  EXPECT_DOUBLE_EQ(half.classes[0].weight, 1.0);
  EXPECT_EQ(half.covered_pods, 1);
}

TEST(WorkloadLearnerTest, ALongHalfLifeCountsLikeFromPods) {
  // Half-life 1000: after 3 observations the weights are within 0.2 % of plain counts.
  // 6 x A, 3 x B, 1 x C (CPU-only): counts 6, 3, 1 of 10 -> 95 % needs 9.5 -> all three;
  // p = 0.6, 0.3, 0.1 (approximately, older ones slightly less).
  WorkloadLearner learner;
  for (int i = 0; i < 6; ++i) learner.Observe(Pod(4000, 1, 500));
  for (int i = 0; i < 3; ++i) learner.Observe(Pod(8000, 2, 1000));
  learner.Observe(Pod(2000, 0, 0));
  const Workload w = learner.Current();
  ASSERT_EQ(w.classes.size(), 3u);
  EXPECT_NEAR(w.classes[0].weight, 0.6, 0.003);
  EXPECT_EQ(w.classes[0].num_gpu, 1);
  EXPECT_NEAR(w.classes[1].weight, 0.3, 0.003);
  EXPECT_EQ(w.classes[1].num_gpu, 2);
  EXPECT_NEAR(w.classes[2].weight, 0.1, 0.003);
  EXPECT_EQ(w.classes[2].num_gpu, 0);
}

TEST(WorkloadLearnerTest, KeysAsWorkloadDoes) {
  WorkloadLearner learner(0);  // no decay: plain counts
  // Memory is not in the key; the model mask is, for GPU pods only.
  learner.Observe(Pod(4000, 1, 500, 100));
  learner.Observe(Pod(4000, 1, 500, 200));
  auto constrained = Pod(4000, 1, 500);
  constrained.allowed_models = 0b10;
  learner.Observe(constrained);
  auto cpu = Pod(1000, 0, 0);
  learner.Observe(cpu);
  cpu.allowed_models = 0b1;  // ignored for a CPU-only pod
  learner.Observe(cpu);
  // Classes: (4000, 500, any) x 2, (1000, CPU) x 2, (4000, 500, {1}) x 1. Ties by first
  // appearance: the 500 any-model class first. 95 % of 5 = 4.75 -> all three.
  const Workload w = learner.Current();
  ASSERT_EQ(w.classes.size(), 3u);
  EXPECT_EQ(w.classes[0].allowed_models, cluster::kAnyModel);
  EXPECT_EQ(w.classes[0].num_gpu, 1);
  EXPECT_DOUBLE_EQ(w.classes[0].weight, 0.4);
  EXPECT_EQ(w.classes[1].num_gpu, 0);
  EXPECT_DOUBLE_EQ(w.classes[1].weight, 0.4);
  EXPECT_EQ(w.classes[2].allowed_models, 0b10u);
  EXPECT_DOUBLE_EQ(w.classes[2].weight, 0.2);
}

TEST(WorkloadLearnerTest, KnowsOnlyWhatHasArrived) {
  WorkloadLearner learner;
  EXPECT_TRUE(learner.Current().classes.empty());
  EXPECT_EQ(learner.observed(), 0);
  learner.Observe(Pod(1000, 1, 1000));
  const Workload w = learner.Current();
  ASSERT_EQ(w.classes.size(), 1u);
  EXPECT_DOUBLE_EQ(w.classes[0].weight, 1.0);
}

TEST(WorkloadLearnerTest, StaysFiniteOverManyObservations) {
  // Half-life 10: 2^(100000 / 10) would overflow a double without the rescaling.
  WorkloadLearner learner(10);
  for (int i = 0; i < 100000; ++i) learner.Observe(Pod(1000, 1, i % 2 == 0 ? 500 : 1000));
  const Workload w = learner.Current(1.0);
  ASSERT_EQ(w.classes.size(), 2u);
  // The last was a 1000 (i = 99999): weights 1 + d^2 + ... vs d + d^3 + ...: ratio 1 : d, so
  // p = 1 / (1 + d) with d = 2^-0.1 = 0.93303 -> 0.51731.
  EXPECT_EQ(w.classes[0].gpu_milli, 1000);
  EXPECT_NEAR(w.classes[0].weight, 1.0 / (1.0 + std::exp2(-0.1)), 1e-9);
}

}  // namespace
}  // namespace gpupool::placement

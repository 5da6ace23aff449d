#include "placement/policy.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace gpupool::placement

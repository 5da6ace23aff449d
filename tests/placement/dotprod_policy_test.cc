#include "placement/dotprod_policy.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::NodeBuilder;
using testing::Pod;

TEST(DotProdPolicyTest, ScoresByHand) {
  DotProdPolicy p;
  // v = (64000/128000, 4000/8000) = (0.5, 0.5); u = (8000/128000, 1000/8000) = (0.0625, 0.125)
  // v.u = 0.03125 + 0.0625 = 0.09375; 100 (1 - 0.046875) = 95.3 -> 95
  EXPECT_EQ(p.Score(Pod(8000, 1, 1000), NodeBuilder().Cpu(64000).Gpus(4).Build()).score, 95);
  // v = (1, 1), u = (1, 1) -> v.u = 2 -> 100 (1 - 1) = 0
  EXPECT_EQ(p.Score(Pod(128000, 8, 1000), NodeBuilder().Cpu(128000).Gpus(8).Build()).score, 0);
  // v = (0.25, 0.125), u = (0.125, 0.0625): 0.03125 + 0.0078125 = 0.0390625 -> 98.05 -> 98
  EXPECT_EQ(p.Score(Pod(16000, 1, 500), NodeBuilder().Cpu(32000).Gpus(1).Build()).score, 98);
}

TEST(DotProdPolicyTest, PrefersNodeWithLessOfWhatThePodNeeds) {
  DotProdPolicy p;
  const auto pod = Pod(4000, 1, 1000);
  const int big = p.Score(pod, NodeBuilder().Cpu(96000).Gpus(8).Build())
                      .score;  // (0.75,1).(1/32,1/8)=0.1484 -> 92
  const int small =
      p.Score(pod, NodeBuilder().Cpu(32000).Gpus(2).Build()).score;  // (0.25,.25).(..)=0.0391 -> 98
  EXPECT_EQ(big, 92);
  EXPECT_EQ(small, 98);
}

}  // namespace
}  // namespace gpupool::placement

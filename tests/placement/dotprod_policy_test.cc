#include "placement/dotprod_policy.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::NodeBuilder;
using testing::Pod;

TEST(DotProdPolicyTest, ScoresByHandWithThePapersNode) {
  DotProdPolicy p(/*paper_normalisers=*/true);
  // v = (64000/128000, 4000/8000) = (0.5, 0.5); u = (8000/128000, 1000/8000) = (0.0625, 0.125)
  // v.u = 0.03125 + 0.0625 = 0.09375; 100 (1 - 0.046875) = 95.3 -> 95
  EXPECT_EQ(p.Score(Pod(8000, 1, 1000), NodeBuilder().Cpu(64000).Gpus(4).Build()).score, 95);
  // v = (1, 1), u = (1, 1) -> v.u = 2 -> 100 (1 - 1) = 0
  EXPECT_EQ(p.Score(Pod(128000, 8, 1000), NodeBuilder().Cpu(128000).Gpus(8).Build()).score, 0);
  // v = (0.25, 0.125), u = (0.125, 0.0625): 0.03125 + 0.0078125 = 0.0390625 -> 98.05 -> 98
  EXPECT_EQ(p.Score(Pod(16000, 1, 500), NodeBuilder().Cpu(32000).Gpus(1).Build()).score, 98);
}

TEST(DotProdPolicyTest, ScoresByHandWithEachNodesCapacity) {
  DotProdPolicy p;
  // v = (64000/64000, 4000/4000) = (1, 1); u = (8000/64000, 1000/4000) = (0.125, 0.25)
  // v.u = 0.375; 100 (1 - 0.1875) = 81.25 -> 81
  EXPECT_EQ(p.Score(Pod(8000, 1, 1000), NodeBuilder().Cpu(64000).Gpus(4).Build()).score, 81);
  // v = (1, 1), u = (16000/32000, 500/1000) = (0.5, 0.5) -> v.u = 1 -> 50
  EXPECT_EQ(p.Score(Pod(16000, 1, 500), NodeBuilder().Cpu(32000).Gpus(1).Build()).score, 50);
  // No GPUs: the GPU term counts 0. v.u = 1 x 8000/32000 = 0.25 -> 100 (1 - 0.125) = 87.5 -> 87
  EXPECT_EQ(p.Score(Pod(8000, 0, 0), NodeBuilder().Cpu(32000).Gpus(0).Build()).score, 87);
  // Half the node's CPU left: v = (0.5, 1), u = (0.125, 0.25): 0.0625 + 0.25 = 0.3125 -> 84.375
  EXPECT_EQ(
      p.Score(Pod(8000, 1, 1000), NodeBuilder().Cpu(64000).CpuLeft(32000).Gpus(4).Build()).score,
      84);
  // Relative to each node, the big node is the one the pod hardly dents:
  // 96000/8: u = (4000/96000, 1000/8000) = (0.0417, 0.125), v.u = 0.1667 -> 91.67 -> 91
  // 32000/2: u = (0.125, 0.5), v.u = 0.625 -> 68.75 -> 68
  const auto pod = Pod(4000, 1, 1000);
  EXPECT_EQ(p.Score(pod, NodeBuilder().Cpu(96000).Gpus(8).Build()).score, 91);
  EXPECT_EQ(p.Score(pod, NodeBuilder().Cpu(32000).Gpus(2).Build()).score, 68);
}

TEST(DotProdPolicyTest, PrefersNodeWithLessOfWhatThePodNeeds) {
  DotProdPolicy p(/*paper_normalisers=*/true);
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

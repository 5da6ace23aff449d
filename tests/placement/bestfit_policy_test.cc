#include "placement/bestfit_policy.h"

#include <gtest/gtest.h>

#include <vector>

#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::NodeBuilder;
using testing::Pod;

TEST(BestFitPolicyTest, ScoresByHandWithEachNodesCapacity) {
  BestFitPolicy p;
  // 0.5 (56000/64000) + 0.5 (3000/4000) = 0.4375 + 0.375 = 0.8125 -> 100 x 0.1875 = 18.75 -> 18
  EXPECT_EQ(p.Score(Pod(8000, 1, 1000), NodeBuilder().Cpu(64000).Gpus(4).Build()).score, 18);
  // node left exactly full after the pod: 0 + 0 -> 100
  EXPECT_EQ(p.Score(Pod(32000, 2, 1000), NodeBuilder().Cpu(32000).Gpus(2).Build()).score, 100);
  // The paper's node itself (128000, 8 GPUs): as with the paper's normalisers, 6 (below).
  EXPECT_EQ(p.Score(Pod(8000, 1, 500), NodeBuilder().Cpu(128000).Gpus(8).Build()).score, 6);
  // 0.5 (8000/16000) + 0.5 (0/1000) = 0.25 -> 75
  EXPECT_EQ(p.Score(Pod(8000, 1, 1000), NodeBuilder().Cpu(16000).Gpus(1).Build()).score, 75);
}

TEST(BestFitPolicyTest, ScoresByHandWithThePapersNode) {
  BestFitPolicy p(/*paper_normalisers=*/true);
  // 0.5 (56000/128000) + 0.5 (3000/8000) = 0.21875 + 0.1875 = 0.40625 -> 100 x 0.59375 = 59
  EXPECT_EQ(p.Score(Pod(8000, 1, 1000), NodeBuilder().Cpu(64000).Gpus(4).Build()).score, 59);
  // node left exactly full after the pod: 0 + 0 -> 100
  EXPECT_EQ(p.Score(Pod(32000, 2, 1000), NodeBuilder().Cpu(32000).Gpus(2).Build()).score, 100);
  // 0.5 (120000/128000) + 0.5 (7500/8000) = 0.46875 + 0.46875 = 0.9375 -> 6.25 -> 6
  EXPECT_EQ(p.Score(Pod(8000, 1, 500), NodeBuilder().Cpu(128000).Gpus(8).Build()).score, 6);
}

TEST(BestFitPolicyTest, NormalisationKeepsTheWinnersAndMapsToRange) {
  std::vector<int> s = {6, 59, 100, 59};
  NormalizeScores(s);
  // (x - 6) x 100 / 94: 0, 5300/94 = 56, 100, 56
  EXPECT_EQ(s, (std::vector<int>{0, 56, 100, 56}));
  std::vector<int> same = {7, 7};
  NormalizeScores(same);
  EXPECT_EQ(same, (std::vector<int>{100, 100}));
}

}  // namespace
}  // namespace gpupool::placement

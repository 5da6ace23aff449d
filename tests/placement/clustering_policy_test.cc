#include "placement/clustering_policy.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::NodeBuilder;
using testing::Pod;

TEST(ClusteringPolicyTest, TableByHandWithEachNodesCapacity) {
  ClusteringPolicy p;
  const std::uint32_t share = 1, one_gpu = 1u << 1;
  struct Case {
    const char* what;
    cluster::NodeState node;
    cluster::PodRequest pod;
    int score;
  } cases[] = {
      // G = 8000 of 8000 -> b = 0; no GPU pods -> +25
      {"empty 8-GPU node", NodeBuilder().Gpus(8).Build(), Pod(0, 1, 500), 25},
      // G = 7500 of 8000 -> b = floor(25 x 500 / 8000) = 1; only share pods -> +75
      {"share-only node, share pod", NodeBuilder().Gpus(8).UsedMilli({500}).Tags(share).Build(),
       Pod(0, 1, 300), 76},
      // G = 2000 of 4000 -> b = floor(25 x 2000 / 4000) = 12; mixed tags -> +50
      {"mixed node", NodeBuilder().Gpus(4).UsedMilli({1000, 1000}).Tags(share | one_gpu).Build(),
       Pod(0, 1, 1000), 62},
      // G = 1000 of 2000 -> b = 12; only 1-GPU pods -> +75
      {"1-GPU-only 2-GPU node", NodeBuilder().Gpus(2).UsedMilli({1000}).Tags(one_gpu).Build(),
       Pod(0, 1, 1000), 87},
      // G = 4000 of 16000 -> b = floor(25 x 12000 / 16000) = 18; no tags -> +25
      {"16-GPU node, 12 used",
       NodeBuilder()
           .Gpus(16)
           .UsedMilli({1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000})
           .Build(),
       Pod(0, 1, 1000), 43},
  };
  for (const auto& c : cases) EXPECT_EQ(p.Score(c.pod, c.node).score, c.score) << c.what;
  // The paper's fixed 8000: 1-GPU-only node b = floor(25 x 7000 / 8000) = 21 -> 96; the 16-GPU
  // node b = floor(25 x 4000 / 8000) = 12 -> 37.
  ClusteringPolicy paper(/*paper_normalisers=*/true);
  EXPECT_EQ(paper.Score(cases[3].pod, cases[3].node).score, 96);
  EXPECT_EQ(paper.Score(cases[4].pod, cases[4].node).score, 37);
}

TEST(ClusteringPolicyTest, TableByHandWithThePapersNode) {
  ClusteringPolicy p(/*paper_normalisers=*/true);
  const std::uint32_t share = 1, one_gpu = 1u << 1;
  struct Case {
    const char* what;
    cluster::NodeState node;
    cluster::PodRequest pod;
    int score;
  } cases[] = {
      // G = 8000 -> b = 0; no GPU pods -> +25
      {"empty 8-GPU node", NodeBuilder().Gpus(8).Build(), Pod(0, 1, 500), 25},
      // G = 7500 -> b = floor(25 x 500 / 8000) = floor(1.56) = 1; only share pods -> +75
      {"share-only node, share pod", NodeBuilder().Gpus(8).UsedMilli({500}).Tags(share).Build(),
       Pod(0, 1, 300), 76},
      {"share-only node, 1-GPU pod", NodeBuilder().Gpus(8).UsedMilli({500}).Tags(share).Build(),
       Pod(0, 1, 1000), 1},
      // G = 2000 (2 GPUs free... of 4 with 2 used) -> b = floor(25 x 6000 / 8000) = 18; mixed tags
      // -> +50
      {"mixed node", NodeBuilder().Gpus(4).UsedMilli({1000, 1000}).Tags(share | one_gpu).Build(),
       Pod(0, 1, 1000), 68},
      {"CPU-only pod", NodeBuilder().Gpus(4).Build(), Pod(1000, 0, 0), 0},
  };
  for (const auto& c : cases) EXPECT_EQ(p.Score(c.pod, c.node).score, c.score) << c.what;
}

}  // namespace
}  // namespace gpupool::placement

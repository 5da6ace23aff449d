#include "placement/clustering_policy.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::NodeBuilder;
using testing::Pod;

TEST(ClusteringPolicyTest, TableByHand) {
  ClusteringPolicy p;
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

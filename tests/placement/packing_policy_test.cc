#include "placement/packing_policy.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::NodeBuilder;
using testing::Pod;

TEST(PackingPolicyTest, TableByHand) {
  PackingPolicy p;
  struct Case {
    const char* what;
    cluster::NodeState node;
    cluster::PodRequest pod;
    int score;
  } cases[] = {
      // empty nodes: max(33 - n_free, n_free)
      {"empty 8-GPU node: max(25, 8)", NodeBuilder().Gpus(8).Build(), Pod(0, 1, 1000), 25},
      {"empty 1-GPU node: max(32, 1)", NodeBuilder().Gpus(1).Build(), Pod(0, 1, 300), 32},
      {"empty 2-GPU node: max(31, 2)", NodeBuilder().Gpus(2).Build(), Pod(0, 2, 1000), 31},
      // used node, pod takes free GPUs: max(50 - free used, 33)
      {"1 free GPU of a used node: 49", NodeBuilder().Gpus(4).UsedMilli({500}).Build(),
       Pod(0, 1, 1000), 49},
      {"2 free GPUs of a used node: 48", NodeBuilder().Gpus(4).UsedMilli({500}).Build(),
       Pod(0, 2, 1000), 48},
      {"share pod only fits a free GPU: 49", NodeBuilder().Gpus(2).UsedMilli({500}).Build(),
       Pod(0, 1, 600), 49},
      // share a used GPU: max(100 - floor(L x 100/1000) / 10, 50); L = 500 -> 100 - 50/10 = 95
      {"share GPU with 500 left: 95", NodeBuilder().Gpus(2).UsedMilli({500}).Build(),
       Pod(0, 1, 300), 95},
      // L = 190 -> floor(19) / 10 = 1 -> 99
      {"share GPU with 190 left: 99", NodeBuilder().Gpus(1).UsedMilli({810}).Build(),
       Pod(0, 1, 160), 99},
      {"CPU-only pod: 0", NodeBuilder().Gpus(2).UsedMilli({500}).Build(), Pod(1000, 0, 0), 0},
  };
  for (const auto& c : cases) EXPECT_EQ(p.Score(c.pod, c.node).score, c.score) << c.what;
}

}  // namespace
}  // namespace gpupool::placement

#include "planner/comm_model.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gpupool::planner {
namespace {

LinkTier Link(double gbs, double latency_us, double frac = 1.0) {
  return LinkTier{"test", gbs, latency_us, frac};
}

TEST(CommModelTest, RingAllReduceByHand) {
  // S = 1 GB, n = 8, B = 100 GB/s, alpha = 10 us:
  // 2 x 7/8 x 1e9 / 1e11 = 17.5 ms; 2 x 7 x 10 us = 0.14 ms -> 17.64 ms.
  EXPECT_NEAR(RingAllReduceSeconds(1e9, 8, Link(100, 10)), 0.01764, 1e-9);
  // Achievable fraction 0.8 stretches the bandwidth term only: 17.5 / 0.8 + 0.14 = 22.015 ms.
  EXPECT_NEAR(RingAllReduceSeconds(1e9, 8, Link(100, 10, 0.8)), 0.022015, 1e-9);
  EXPECT_EQ(RingAllReduceSeconds(1e9, 1, Link(100, 10)), 0.0);
}

TEST(CommModelTest, TreeAllReduceByHand) {
  // 2 S/B + 2 log2(n) alpha: 2 x 1e9/1e11 = 20 ms + 2 x 3 x 10 us = 20.06 ms.
  EXPECT_NEAR(TreeAllReduceSeconds(1e9, 8, Link(100, 10)), 0.02006, 1e-9);
}

TEST(CommModelTest, AllReducePicksTreeForSmallRingForLarge) {
  Fabric f;
  f.scale_up = Link(100, 10);
  f.scale_out = Link(50, 10);
  f.gpus_per_node = 8;
  // 1 KB on 8 ranks: ring 140 us (latency-bound) vs tree 60 us + 0.02 us -> tree.
  EXPECT_NEAR(CollectiveSeconds(Collective::kAllReduce, 1e3, 8, 1, f),
              TreeAllReduceSeconds(1e3, 8, f.scale_up), 1e-12);
  // 1 GB: ring 17.64 ms vs tree 20.06 ms -> ring.
  EXPECT_NEAR(CollectiveSeconds(Collective::kAllReduce, 1e9, 8, 1, f), 0.01764, 1e-9);
}

TEST(CommModelTest, GroupsSpanningNodesUseScaleOut) {
  Fabric f;
  f.scale_up = Link(400, 0);
  f.scale_out = Link(50, 0);
  f.gpus_per_node = 8;
  EXPECT_FALSE(SpansNodes(8, 1, f));  // ranks 0..7
  EXPECT_TRUE(SpansNodes(16, 1, f));  // ranks 0..15
  EXPECT_TRUE(SpansNodes(2, 8, f));   // ranks 0 and 8
  EXPECT_FALSE(SpansNodes(4, 2, f));  // ranks 0, 2, 4, 6
  // All-gather of 1 GB over 16 ranks across nodes: 15/16 x 1e9 / 50e9 = 18.75 ms.
  EXPECT_NEAR(CollectiveSeconds(Collective::kAllGather, 1e9, 16, 1, f), 0.01875, 1e-9);
  // Same in a node (8 ranks): 7/8 x 1e9 / 400e9 = 2.1875 ms.
  EXPECT_NEAR(CollectiveSeconds(Collective::kAllGather, 1e9, 8, 1, f), 0.0021875, 1e-9);
  // Send/recv: S/B.
  EXPECT_NEAR(CollectiveSeconds(Collective::kSendRecv, 1e9, 2, 8, f), 0.02, 1e-9);
}

TEST(CommModelTest, NvlinkSharpAllReduce) {
  // NCCL's model (src/graph/tuning.cc): NVLS moves an all-reduce at 5/6 of the bus bandwidth with
  // 23 us of latency; busbw = 5/6 x 2(n-1)/n x B = 1.458 x the ring's at n = 8.
  LinkTier nvl = Link(450, 5);
  nvl.achievable_fraction = 0.8;
  nvl.nvls = true;
  const double b = 8.0 * 1024 * 1024 * 1024;
  EXPECT_NEAR(NvlsAllReduceSeconds(b, 8, nvl), b / (360e9 * 5.0 / 6.0) + 23e-6, 1e-12);
  const CollectiveTiming t = TimeCollective(Collective::kAllReduce, b, 8, nvl);
  EXPECT_EQ(t.algorithm, "nvls");
  EXPECT_NEAR(t.busbw_gbs, 360.0 * 5.0 / 6.0 * 1.75, 0.5);  // the 23 us shave 0.4 GB/s
  // Forced: the ring gives the link's bus bandwidth.
  const CollectiveTiming ring =
      TimeCollective(Collective::kAllReduce, b, 8, nvl, AllReduceAlgorithm::kRing);
  EXPECT_EQ(ring.algorithm, "ring");
  EXPECT_NEAR(ring.busbw_gbs, 360.0, 0.7);  // 14 steps x 5 us shave 0.6 GB/s
  // A small message on 2 ranks: the ring's 2 x 5 us beats NVLS's 23 us.
  EXPECT_EQ(CollectiveAlgorithm(Collective::kAllReduce, 1024, 2, nvl), "ring");
  // Without NVLS (NVLink3), no NVLS: infinite when forced, never picked.
  LinkTier a100 = nvl;
  a100.nvls = false;
  EXPECT_TRUE(std::isinf(NvlsAllReduceSeconds(b, 8, a100)));
  EXPECT_EQ(TimeCollective(Collective::kAllReduce, b, 8, a100).algorithm, "ring");
  // CollectiveSeconds keeps ring and tree (an SP "all-reduce" is a reduce-scatter + all-gather),
  // AllReduceSeconds over a fabric takes NVLS inside a node and never across nodes.
  Fabric f;
  f.scale_up = nvl;
  f.scale_out = Link(50, 10);
  f.gpus_per_node = 8;
  EXPECT_NEAR(CollectiveSeconds(Collective::kAllReduce, b, 8, 1, f),
              RingAllReduceSeconds(b, 8, nvl), 1e-12);
  EXPECT_NEAR(AllReduceSeconds(b, 8, 1, f), NvlsAllReduceSeconds(b, 8, nvl), 1e-12);
  EXPECT_NEAR(AllReduceSeconds(b, 16, 1, f),
              CollectiveOnLinkSeconds(Collective::kAllReduce, b, 16, f.scale_out), 1e-12);
}

}  // namespace
}  // namespace gpupool::planner

// `gpupool plan comm`'s core: sizes and ops parsed as nccl-tests reads them, bus bandwidth by
// nccl-tests' definition (doc/PERFORMANCE.md), worked by hand on an invented link.
#include "planner/comm_benchmark.h"

#include <gtest/gtest.h>

namespace gpupool::planner {
namespace {

LinkTier Link(double gbs, double latency_us, double frac = 1.0) {
  return LinkTier{"test", gbs, latency_us, frac};
}

TEST(CommBenchmarkTest, BusBandwidthFactorsAreNcclTests) {
  // all-reduce 2(n-1)/n: n=8 -> 14/8 = 1.75; n=2 -> 1. Others (n-1)/n: n=8 -> 0.875.
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kAllReduce, 8), 1.75);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kAllReduce, 2), 1.0);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kAllGather, 8), 0.875);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kReduceScatter, 4), 0.75);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kAllToAll, 16), 0.9375);
}

TEST(CommBenchmarkTest, LargeAllReduceBusBandwidthByHand) {
  // 1e9 B on 8 ranks, 100 GB/s, 10 us: ring 2 x 7/8 x 10 ms + 14 x 10 us = 17.64 ms (tree 20.06).
  // algbw = 1e9 / 17.64e-3 / 1e9 = 56.689 GB/s; busbw = 1.75 x 56.689 = 99.206 GB/s, just under
  // the link's 100 because of the 0.14 ms of latency.
  const CollectiveTiming t = TimeCollective(Collective::kAllReduce, 1e9, 8, Link(100, 10));
  EXPECT_NEAR(t.seconds, 17.64e-3, 1e-12);
  EXPECT_NEAR(t.algbw_gbs, 56.689, 0.001);
  EXPECT_NEAR(t.busbw_gbs, 99.206, 0.001);
  EXPECT_EQ(t.algorithm, "ring");
}

TEST(CommBenchmarkTest, AllGatherAndAllToAllBusBandwidthByHand) {
  // 1e9 B gathered over 8 ranks at 100 GB/s x 0.8 = 80 GB/s, 5 us:
  // 7/8 x 1e9 / 8e10 = 10.9375 ms + 7 x 5 us = 10.9725 ms; algbw 1e9 / 10.9725e-3 = 91.137 GB/s;
  // busbw 0.875 x 91.137 = 79.745.
  for (Collective c : {Collective::kAllGather, Collective::kAllToAll, Collective::kReduceScatter}) {
    const CollectiveTiming t = TimeCollective(c, 1e9, 8, Link(100, 5, 0.8));
    EXPECT_NEAR(t.seconds, 10.9725e-3, 1e-12) << CollectiveName(c);
    EXPECT_NEAR(t.algbw_gbs, 91.137, 0.001);
    EXPECT_NEAR(t.busbw_gbs, 79.745, 0.001);
  }
}

TEST(CommBenchmarkTest, SmallAllReduceIsLatencyBound) {
  // 8 B on 8 ranks, 100 GB/s, 5 us: tree 2 x 8 / 1e11 + 2 x 3 x 5 us = 30.00016 us beats the
  // ring's 14 x 5 = 70 us; busbw = 1.75 x 8 / 30.00016e-6 / 1e9 = 4.667e-4 GB/s.
  const CollectiveTiming t = TimeCollective(Collective::kAllReduce, 8, 8, Link(100, 5));
  EXPECT_NEAR(t.seconds * 1e6, 30.00016, 1e-6);
  EXPECT_EQ(t.algorithm, "tree");
  EXPECT_NEAR(t.busbw_gbs, 4.6667e-4, 1e-7);
}

TEST(CommBenchmarkTest, ParsesSizesAsNcclTestsDoes) {
  EXPECT_EQ(ParseByteSize("8").value_or(0), 8.0);
  EXPECT_EQ(ParseByteSize("64K").value_or(0), 65536.0);
  EXPECT_EQ(ParseByteSize("8m").value_or(0), 8388608.0);
  EXPECT_EQ(ParseByteSize("8G").value_or(0), 8589934592.0);
  for (const char* bad : {"", "0", "-1", "1.5G", "8X", "G", "12345678901234567"}) {
    auto r = ParseByteSize(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().message().find("--bytes"), std::string::npos) << r.error().message();
  }
  auto range = ParseByteRange("8:8G");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->min_bytes, 8.0);
  EXPECT_EQ(range->max_bytes, 8589934592.0);
  EXPECT_FALSE(ParseByteRange("8G:8").has_value());
  EXPECT_FALSE(ParseByteRange("8:").has_value());
}

TEST(CommBenchmarkTest, ParsesOpsAndNamesTheFlagOnError) {
  EXPECT_EQ(ParseCollective("all-reduce").value_or(Collective::kSendRecv), Collective::kAllReduce);
  EXPECT_EQ(ParseCollective("All_Gather").value_or(Collective::kSendRecv), Collective::kAllGather);
  EXPECT_EQ(ParseCollective("reducescatter").value_or(Collective::kSendRecv),
            Collective::kReduceScatter);
  EXPECT_EQ(ParseCollective("all-to-all").value_or(Collective::kSendRecv), Collective::kAllToAll);
  auto bad = ParseCollective("broadcast");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("--op 'broadcast'"), std::string::npos);
}

TEST(CommBenchmarkTest, SweepsLikeNcclTests) {
  // -b 8 -e 64 -f 2: 8, 16, 32, 64.
  CommSweepOptions o;
  o.bytes = {8, 64};
  auto rows = SweepCollective(o, Link(100, 5));
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0].bytes, 8.0);
  EXPECT_EQ((*rows)[3].bytes, 64.0);
  // Time grows with size; one size gives one row.
  EXPECT_LT((*rows)[0].seconds, (*rows)[3].seconds);
  o.bytes = {1024, 1024};
  EXPECT_EQ(SweepCollective(o, Link(100, 5))->size(), 1u);
}

TEST(CommBenchmarkTest, RefusesBadSweeps) {
  CommSweepOptions o;
  o.bytes = {8, 64};
  o.gpus = 1;
  auto r = SweepCollective(o, Link(100, 5));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("--gpus"), std::string::npos);
  o.gpus = 8;
  o.factor = 1;
  r = SweepCollective(o, Link(100, 5));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("--factor"), std::string::npos);
  o.factor = 1.0001;
  o.bytes = {8, 8e12};
  r = SweepCollective(o, Link(100, 5));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("more than 200"), std::string::npos);
}

TEST(CommBenchmarkTest, JsonStatesModelledAndAssumed) {
  CommSweepOptions o;
  o.bytes = {1e9, 1e9};
  auto rows = SweepCollective(o, Link(100, 10));
  ASSERT_TRUE(rows.has_value());
  const nlohmann::json j = CommSweepJson(o, Link(100, 10), *rows);
  EXPECT_EQ(j["op"], "all-reduce");
  EXPECT_EQ(j["rows"].size(), 1u);
  EXPECT_NEAR(j["rows"][0]["busbw_gbs"].get<double>(), 99.206, 0.001);
  EXPECT_FALSE(j["modelled"].empty());
  EXPECT_FALSE(j["assumptions"].empty());
}

}  // namespace
}  // namespace gpupool::planner

#include "sim/fill_report.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gpupool::sim {
namespace {

TEST(SummarizeTest, MeanMedianSampleSd) {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, median (4 + 5) / 2 = 4.5, sum of squares 32, sd sqrt(32/7)
  Stat s = Summarize({9, 2, 4, 4, 5, 4, 5, 7});
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_DOUBLE_EQ(s.median, 4.5);
  EXPECT_DOUBLE_EQ(s.sd, std::sqrt(32.0 / 7.0));
  EXPECT_DOUBLE_EQ(s.min, 2.0);
  EXPECT_DOUBLE_EQ(s.max, 9.0);
}

TEST(FillReportTest, JsonHasTheDocumentedMembers) {
  FillRun a;
  a.policy = "fgd";
  a.seed = 1;
  a.unallocated_at_100 = 4.0;
  a.allocation_at_130 = 95.0;
  a.pods_arrived = 1000;
  a.seconds = 0.01;
  FillRun b = a;
  b.seed = 2;
  b.unallocated_at_100 = 6.0;
  auto rows = SummarizeRuns({a, b}, {"fgd"});
  auto j = ToJson("default", rows, 0.5, FillOptions{});
  EXPECT_EQ(j["trace"], "default");
  ASSERT_EQ(j["policies"].size(), 1u);
  const auto& p = j["policies"][0];
  EXPECT_EQ(p["policy"], "fgd");
  EXPECT_EQ(p["seeds"], 2);
  EXPECT_EQ(p["batch"], 1);
  EXPECT_DOUBLE_EQ(p["unallocated_at_100"]["mean"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(p["unallocated_at_100"]["median"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(p["unallocated_at_100"]["sd"].get<double>(), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(p["allocation_at_130"]["mean"].get<double>(), 95.0);
  EXPECT_TRUE(p.contains("frag_amount_at_100"));
  EXPECT_DOUBLE_EQ(p["pods_per_second"].get<double>(), 2000.0 / 0.02);
  EXPECT_DOUBLE_EQ(j["wall_seconds"].get<double>(), 0.5);
}

// The mean unallocated curve in the JSON: per bin x, mean over seeds of x - allocation%:
// bin 0: (0 + 0) / 2 = 0; bin 1: ((1 - 0.5) + (1 - 1)) / 2 = 0.25; bin 2: no seed reached it: null.
TEST(FillReportTest, JsonCarriesTheMeanUnallocatedCurveWithNullForBinsNoSeedReached) {
  FillRun a;
  a.policy = "fgd";
  a.seed = 1;
  a.curve.allocation_pct = {0.0, 0.5, std::nan("")};
  FillRun b = a;
  b.seed = 2;
  b.curve.allocation_pct = {0.0, 1.0, std::nan("")};
  const auto j = ToJson("default", SummarizeRuns({a, b}, {"fgd"}), 0.5, FillOptions{});
  const auto& c = j["policies"][0]["unallocated_curve"];
  ASSERT_EQ(c.size(), 3u);
  EXPECT_DOUBLE_EQ(c[0].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(c[1].get<double>(), 0.25);
  EXPECT_TRUE(c[2].is_null());
}

}  // namespace
}  // namespace gpupool::sim

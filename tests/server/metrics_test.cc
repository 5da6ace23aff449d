#include "server/metrics.h"

#include <gtest/gtest.h>

namespace gpupool::server {
namespace {

TEST(HistogramTest, BucketsAreCumulativeWithSumAndCount) {
  Histogram h({0.01, 0.1});
  h.Observe(0.005);  // <= 0.01
  h.Observe(0.01);   // <= 0.01 (bounds are inclusive)
  h.Observe(0.05);   // <= 0.1
  h.Observe(2.0);    // +Inf
  // cumulative: 2, 3, 4; sum 0.005 + 0.01 + 0.05 + 2 = 2.065
  EXPECT_EQ(h.Format("x_seconds", "Help."),
            "# HELP x_seconds Help.\n# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"0.01\"} 2\nx_seconds_bucket{le=\"0.1\"} 3\n"
            "x_seconds_bucket{le=\"+Inf\"} 4\nx_seconds_sum 2.065\nx_seconds_count 4\n");
}

}  // namespace
}  // namespace gpupool::server

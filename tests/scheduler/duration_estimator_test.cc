#include "scheduler/duration_estimator.h"

#include <gtest/gtest.h>

namespace gpupool::scheduler {
namespace {

TEST(DurationEstimatorTest, NothingFinishedMeansNoEstimate) {
  const DurationEstimator e;
  EXPECT_FALSE(e.Estimate("", "vc", 1).has_value());
}

TEST(DurationEstimatorTest, TheMostSpecificClassWithEnoughHistoryIsUsed) {
  DurationEstimator e(/*min_history=*/2, /*window=*/100);
  e.Observe("", "vc", 1, 100);
  // One job: no class has 2 yet, so the mean of every job seen: 100.
  EXPECT_EQ(e.Estimate("", "vc", 1), 100);
  e.Observe("", "vc", 1, 300);
  e.Observe("", "vc", 4, 1000);
  e.Observe("", "other", 8, 5000);
  // (vc, 1 GPU) has 100 and 300: 200.
  EXPECT_EQ(e.Estimate("", "vc", 1), 200);
  // (vc, 4 GPUs) has one: the queue's mean, (100 + 300 + 1000) / 3 = 466 (integer).
  EXPECT_EQ(e.Estimate("", "vc", 4), 466);
  // An unknown queue: the mean of all, (100 + 300 + 1000 + 5000) / 4 = 1600.
  EXPECT_EQ(e.Estimate("", "new", 1), 1600);
  // A user with two finished jobs overrides the queue.
  e.Observe("ann", "vc", 1, 10);
  e.Observe("ann", "vc", 1, 30);
  EXPECT_EQ(e.Estimate("ann", "vc", 1), 20);
  // A user without history falls back to (vc, 1 GPU): 100, 300, 10, 30 -> 110.
  EXPECT_EQ(e.Estimate("bob", "vc", 1), 110);
}

TEST(DurationEstimatorTest, EachClassKeepsItsLastWindowOfJobs) {
  DurationEstimator e(/*min_history=*/1, /*window=*/2);
  e.Observe("", "vc", 1, 1000);
  e.Observe("", "vc", 1, 10);
  e.Observe("", "vc", 1, 30);  // 1000 leaves the window
  EXPECT_EQ(e.Estimate("", "vc", 1), 20);
}

TEST(DurationEstimatorTest, InformSetsOnlyWhatTheOrderReads) {
  DurationEstimator e(/*min_history=*/1, /*window=*/100);
  JobRequest r;
  r.replica.num_gpu = 2;
  r.replicas = 3;
  EXPECT_EQ(JobGpuCount(r), 6);
  e.Inform("ann", "vc", JobGpuCount(r), true, true, r);  // nothing ended yet: neither
  EXPECT_FALSE(r.duration_estimate_s.has_value());
  EXPECT_EQ(r.service_profile, nullptr);
  e.Observe("ann", "vc", 6, 40);
  e.Inform("ann", "vc", 6, /*estimate=*/true, /*profile=*/false, r);
  EXPECT_EQ(r.duration_estimate_s, 40);
  EXPECT_EQ(r.service_profile, nullptr);
  e.Observe("ann", "vc", 6, 80);
  e.Inform("ann", "vc", 6, /*estimate=*/false, /*profile=*/true, r);
  EXPECT_EQ(r.duration_estimate_s, 40);  // left as it was
  ASSERT_NE(r.service_profile, nullptr);
  EXPECT_EQ(r.service_profile, e.Profile("ann", "vc", 6));
  EXPECT_EQ(r.service_profile->samples, 2);
}

}  // namespace
}  // namespace gpupool::scheduler

#include "scheduler/gittins.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "scheduler/duration_estimator.h"

namespace gpupool::scheduler {
namespace {

TEST(GittinsIndexTest, WorkedOutByHand) {
  // Service 1, 2, 10 GPU-s. At 0: serving to 1 finishes 1 job for 1 + 1 + 1 = 3 GPU-s (1/3);
  // to 2 finishes 2 for 1 + 2 + 2 = 5 (2/5); to 10 finishes 3 for 13 (3/13). Index 0.4.
  const std::vector<double> s = {1, 2, 10};
  EXPECT_DOUBLE_EQ(GittinsIndex(s, 0), 0.4);
  // At 1.5 the survivors are 2 and 10: to 2 finishes 1 for 0.5 + 0.5 (1.0); to 10, 2 for 9.
  EXPECT_DOUBLE_EQ(GittinsIndex(s, 1.5), 1.0);
  // At 10 and beyond nothing is left to finish.
  EXPECT_DOUBLE_EQ(GittinsIndex(s, 10), 0.0);
  EXPECT_DOUBLE_EQ(GittinsIndex({}, 0), 0.0);
  // Equal values: 2, 2, 4 at 0: to 2 finishes 2 for 2 + 2 + 2 = 6 (1/3); to 4, 3 for 8 (3/8).
  EXPECT_DOUBLE_EQ(GittinsIndex(std::vector<double>{2, 2, 4}, 0), 0.375);
}

TEST(GittinsIndexTest, GridDoublesFromOneGpuMinute) {
  EXPECT_EQ(GridLevel(0), 0);
  EXPECT_EQ(GridLevel(59.9), 0);
  EXPECT_EQ(GridLevel(60), 1);
  EXPECT_EQ(GridLevel(119), 1);
  EXPECT_EQ(GridLevel(120), 2);
  EXPECT_EQ(GridLevel(240), 3);
  EXPECT_EQ(GridLevel(1e30), kGridPoints - 1);
  EXPECT_DOUBLE_EQ(GridPoint(0), 0);
  EXPECT_DOUBLE_EQ(GridPoint(4), 480);
  const GittinsOrder order;
  EXPECT_EQ(order.NextBoundary(0), 60);
  EXPECT_EQ(order.NextBoundary(130), 240);
  EXPECT_FALSE(order.NextBoundary(1e30).has_value());
}

TEST(GittinsIndexTest, ProfileReadsTheIndexAtTheGridPointBelow) {
  // Service 100, 1000 GPU-s, unsorted on input. At 0: to 100 finishes 1 for 100 + 100 (1/200);
  // to 1000, 2 for 1100: index 1/200. At 60 (60..119): survivors both: 1/(40 + 40) = 1/80.
  // At 120 (120..239): only 1000 is left: 1/880.
  const ServiceProfile p = ServiceProfile::Build({1000, 100});
  EXPECT_EQ(p.samples, 2);
  EXPECT_DOUBLE_EQ(p.At(0), 1.0 / 200);
  EXPECT_DOUBLE_EQ(p.At(59), 1.0 / 200);
  EXPECT_DOUBLE_EQ(p.At(60), 1.0 / 80);
  EXPECT_DOUBLE_EQ(p.At(119), 1.0 / 80);
  EXPECT_DOUBLE_EQ(p.At(150), 1.0 / 880);
}

PendingJob Pending(JobId id, std::shared_ptr<const ServiceProfile> profile, double attained) {
  PendingJob j;
  j.id = id;
  j.seq = id;
  j.request.service_profile = std::move(profile);
  j.attained_gpu_s = attained;
  return j;
}

TEST(GittinsOrderTest, ShortClassFirstAndAJobThatOutlivesItsClassFallsBehind) {
  // Class A: 10 and 1000 GPU-s (index at 0: 1/20; from 60: 1/940). Class B: 100, 100, 100
  // (index at 0: 3/300 = 1/100; from 60: 3/120). Job 1 of A new, job 2 of B new, job 3 of A
  // that has run 70 GPU-s, job 4 without history: 4 (infinite), 1 (1/20), 2 (1/100), 3 (1/940).
  const auto a = std::make_shared<const ServiceProfile>(ServiceProfile::Build({10, 1000}));
  const auto b = std::make_shared<const ServiceProfile>(ServiceProfile::Build({100, 100, 100}));
  const std::vector<PendingJob> jobs = {Pending(1, a, 0), Pending(2, b, 0), Pending(3, a, 70),
                                        Pending(4, nullptr, 0)};
  std::vector<const PendingJob*> order = {&jobs[2], &jobs[1], &jobs[3], &jobs[0]};
  const GittinsOrder g;
  g.Sort(order);
  std::vector<JobId> ids;
  for (const auto* j : order) ids.push_back(j->id);
  EXPECT_EQ(ids, (std::vector<JobId>{4, 1, 2, 3}));
  // A new B job preempts the A job past its class's short mode, not a new A job.
  EXPECT_TRUE(g.Preempts(jobs[1], jobs[2]));
  EXPECT_FALSE(g.Preempts(jobs[1], jobs[0]));
  // Nothing preempts a job without history, and it preempts every job with one.
  EXPECT_FALSE(g.Preempts(jobs[0], jobs[3]));
  EXPECT_TRUE(g.Preempts(jobs[3], jobs[0]));
  // Equal index: no preemption (ties in submission order).
  EXPECT_FALSE(g.Preempts(Pending(5, a, 0), jobs[0]));
  EXPECT_TRUE(MakeJobOrder("gittins").has_value());
}

TEST(GittinsOrderTest, TheEstimatorBuildsAClassProfileFromGpuTimeAndSharesIt) {
  DurationEstimator e(/*min_history=*/2, /*window=*/100);
  EXPECT_EQ(e.Profile("", "vc", 2), nullptr);
  e.Observe("", "vc", 2, 50);   // 100 GPU-s
  e.Observe("", "vc", 2, 500);  // 1000 GPU-s
  const auto p = e.Profile("", "vc", 2);
  ASSERT_NE(p, nullptr);
  // The profile of {100, 1000} GPU-s, as worked out above.
  EXPECT_DOUBLE_EQ(p->At(0), 1.0 / 200);
  EXPECT_EQ(e.Profile("", "vc", 2), p);  // shared until the class changes
  e.Observe("", "vc", 2, 50);
  const auto q = e.Profile("", "vc", 2);
  EXPECT_NE(q, p);
  EXPECT_EQ(q->samples, 3);
  // A share of a GPU counts what it held: half a GPU for 100 s is 50 GPU-s, index 1/50 at 0.
  DurationEstimator shares(/*min_history=*/1, /*window=*/100);
  shares.Observe("", "vc", 1, 100, 0.5);
  EXPECT_DOUBLE_EQ(shares.Profile("", "vc", 1)->At(0), 1.0 / 50);
}

}  // namespace
}  // namespace gpupool::scheduler

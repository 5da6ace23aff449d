#include "scheduler/job_order.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace gpupool::scheduler {
namespace {

TEST(PriorityOrderTest, HigherPriorityFirstThenSubmissionOrder) {
  // (id, priority, seq): 1 (0, 1), 2 (5, 2), 3 (0, 3), 4 (5, 4) -> 2, 4, 1, 3.
  std::vector<PendingJob> jobs(4);
  const int prio[] = {0, 5, 0, 5};
  for (int i = 0; i < 4; ++i) {
    jobs[static_cast<std::size_t>(i)].id = i + 1;
    jobs[static_cast<std::size_t>(i)].request.priority = prio[i];
    jobs[static_cast<std::size_t>(i)].seq = i + 1;
  }
  std::vector<const PendingJob*> order = {&jobs[3], &jobs[0], &jobs[2], &jobs[1]};
  PriorityOrder().Sort(order);
  std::vector<JobId> ids;
  for (const auto* j : order) ids.push_back(j->id);
  EXPECT_EQ(ids, (std::vector<JobId>{2, 4, 1, 3}));
  // Preemptive across priorities only: 5 over 0, never 5 over 5 or 0 over 5.
  const PriorityOrder o;
  EXPECT_TRUE(o.preemptive());
  EXPECT_TRUE(o.Preempts(jobs[1], jobs[0]));
  EXPECT_FALSE(o.Preempts(jobs[3], jobs[1]));
  EXPECT_FALSE(o.Preempts(jobs[0], jobs[1]));
}

TEST(PriorityOrderTest, UnknownOrderListsTheKnownOnes) {
  auto o = MakeJobOrder("lottery");
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().message(),
            "unknown job order 'lottery'; known orders: priority, fifo, sjf, qssf, srtf, las, "
            "las:T1,T2,..., gittins, drf");
  EXPECT_TRUE(MakeJobOrder("priority").has_value());
}

// Jobs submitted in this order (seq 1, 2, ...) with GPUs, time limit and duration estimate; the
// ids in the order `name` considers them (the input handed over reversed).
struct Spec {
  int gpus;
  std::int64_t limit;
  std::optional<std::int64_t> estimate;
};

std::vector<JobId> Ordered(const std::string& name, const std::vector<Spec>& specs) {
  std::vector<PendingJob> jobs(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    jobs[i].id = static_cast<JobId>(i) + 1;
    jobs[i].seq = static_cast<std::int64_t>(i) + 1;
    jobs[i].request.replica.num_gpu = specs[i].gpus;
    jobs[i].request.replica.gpu_milli = 1000;
    jobs[i].request.time_limit_s = specs[i].limit;
    jobs[i].request.duration_estimate_s = specs[i].estimate;
  }
  std::vector<const PendingJob*> order;
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) order.push_back(&*it);
  auto made = MakeJobOrder(name);
  EXPECT_TRUE(made.has_value());
  (*made)->Sort(order);
  std::vector<JobId> ids;
  for (const auto* j : order) ids.push_back(j->id);
  return ids;
}

// Job 1: 2 GPUs, limit 300, estimate 100 (GPU time 200); job 2: 1 GPU, 100, 500 (500); job 3:
// 1 GPU, no limit, -50 (an estimator's negative guess: -50); job 4: 4 GPUs, 100, none; job 5:
// 1 GPU, 300, 200 (200, ties job 1 but fewer GPUs).
const std::vector<Spec> kJobs = {
    {2, 300, 100}, {1, 100, 500}, {1, 0, -50}, {4, 100, std::nullopt}, {1, 300, 200}};

TEST(JobOrderTest, FifoIsSubmissionOrder) {
  EXPECT_EQ(Ordered("fifo", kJobs), (std::vector<JobId>{1, 2, 3, 4, 5}));
}

TEST(JobOrderTest, SjfIsShortestLimitFirstAndNoLimitLast) {
  // limits 300, 100, none, 100, 300 -> 100 (2, 4 by submission), 300 (1, 5), none (3).
  EXPECT_EQ(Ordered("sjf", kJobs), (std::vector<JobId>{2, 4, 1, 5, 3}));
}

TEST(JobOrderTest, QssfIsSmallestExpectedGpuTimeFirst) {
  // GPU time: 200, 500, -50, none, 200 -> 3 (-50), 5 (200, 1 GPU), 1 (200, 2 GPUs), 2 (500),
  // 4 (no estimate).
  EXPECT_EQ(Ordered("qssf", kJobs), (std::vector<JobId>{3, 5, 1, 2, 4}));
}

TEST(JobOrderTest, LasRanksByLevelThenSubmission) {
  auto made = MakeJobOrder("las:100,1000");
  ASSERT_TRUE(made.has_value());
  const JobOrder& las = **made;
  // (seq, attained GPU-s): 1 (1, 150) level 1; 2 (2, 50) level 0; 3 (3, 2000) level 2;
  // 4 (4, 99) level 0 -> 2, 4, 1, 3.
  std::vector<PendingJob> jobs(4);
  const double attained[] = {150, 50, 2000, 99};
  for (std::size_t i = 0; i < 4; ++i) {
    jobs[i].id = static_cast<JobId>(i) + 1;
    jobs[i].seq = static_cast<std::int64_t>(i) + 1;
    jobs[i].attained_gpu_s = attained[i];
  }
  std::vector<const PendingJob*> order = {&jobs[0], &jobs[1], &jobs[2], &jobs[3]};
  las.Sort(order);
  std::vector<JobId> ids;
  for (const auto* j : order) ids.push_back(j->id);
  EXPECT_EQ(ids, (std::vector<JobId>{2, 4, 1, 3}));
  EXPECT_TRUE(las.Preempts(jobs[1], jobs[0]));   // level 0 over level 1
  EXPECT_FALSE(las.Preempts(jobs[3], jobs[1]));  // the same level
  EXPECT_FALSE(las.Preempts(jobs[0], jobs[1]));
  EXPECT_EQ(las.NextBoundary(50), 100.0);
  EXPECT_EQ(las.NextBoundary(100), 1000.0);  // at 100 the job is in level 1 already
  EXPECT_FALSE(las.NextBoundary(1000).has_value());
  // Orders without levels never preempt and have no boundary.
  EXPECT_FALSE((*MakeJobOrder("fifo"))->Preempts(jobs[1], jobs[0]));
  EXPECT_FALSE((*MakeJobOrder("fifo"))->NextBoundary(0).has_value());
}

TEST(JobOrderTest, LasThresholdsMustBePositiveAndIncreasing) {
  EXPECT_TRUE(MakeJobOrder("las").has_value());
  for (const char* bad : {"las:100,50", "las:0", "las:abc", "las:", "las:10,,20"}) {
    const auto o = MakeJobOrder(bad);
    ASSERT_FALSE(o.has_value()) << bad;
    EXPECT_EQ(o.error().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(JobOrderTest, SrtfRanksByTimeLeftAndPreemptsLongerOnes) {
  auto made = MakeJobOrder("srtf");
  ASSERT_TRUE(made.has_value());
  const JobOrder& srtf = **made;
  // (GPUs, limit, attained GPU-s) -> time left: 1 (2, 1000, 1200) 400; 2 (1, 500, 0) 500;
  // 3 (4, 300, 0) 300; 4 (1, none) infinite -> 3, 1, 2, 4.
  std::vector<PendingJob> jobs(4);
  const int gpus[] = {2, 1, 4, 1};
  const std::int64_t limit[] = {1000, 500, 300, 0};
  const double attained[] = {1200, 0, 0, 0};
  for (std::size_t i = 0; i < 4; ++i) {
    jobs[i].id = static_cast<JobId>(i) + 1;
    jobs[i].seq = static_cast<std::int64_t>(i) + 1;
    jobs[i].request.replica.num_gpu = gpus[i];
    jobs[i].request.replica.gpu_milli = 1000;
    jobs[i].request.time_limit_s = limit[i];
    jobs[i].attained_gpu_s = attained[i];
  }
  std::vector<const PendingJob*> order = {&jobs[0], &jobs[1], &jobs[2], &jobs[3]};
  srtf.Sort(order);
  std::vector<JobId> ids;
  for (const auto* j : order) ids.push_back(j->id);
  EXPECT_EQ(ids, (std::vector<JobId>{3, 1, 2, 4}));
  EXPECT_TRUE(srtf.Preempts(jobs[2], jobs[0]));   // 300 left against 400
  EXPECT_FALSE(srtf.Preempts(jobs[1], jobs[0]));  // 500 against 400
  EXPECT_FALSE(srtf.NextBoundary(0).has_value());
}

// drf: the smallest queue share first, then higher priority, then submission order.
TEST(JobOrderTest, DrfRanksByQueueShareThenPriorityThenSubmission) {
  // (share, priority) of jobs 1-4: (0.5, 0), (0.2, 0), (0.5, 3), (0.2, 0) -> 2, 4, 3, 1.
  std::vector<PendingJob> jobs(4);
  const double share[] = {0.5, 0.2, 0.5, 0.2};
  const int prio[] = {0, 0, 3, 0};
  for (int i = 0; i < 4; ++i) {
    auto& j = jobs[static_cast<std::size_t>(i)];
    j.id = i + 1;
    j.seq = i + 1;
    j.queue_share = share[i];
    j.request.priority = prio[i];
  }
  std::vector<const PendingJob*> order = {&jobs[0], &jobs[1], &jobs[2], &jobs[3]};
  auto drf = MakeJobOrder("drf");
  ASSERT_TRUE(drf.has_value());
  (*drf)->Sort(order);
  std::vector<JobId> ids;
  for (const auto* j : order) ids.push_back(j->id);
  EXPECT_EQ(ids, (std::vector<JobId>{2, 4, 3, 1}));
  EXPECT_TRUE((*drf)->ranks_queues());
  EXPECT_FALSE((*drf)->preemptive());
}

// The orders whose rank moves with the service received are the ones a simulator never blocks
// for; priority preempts across fixed priorities only.
TEST(JobOrderTest, RankFollowsServiceForSrtfLasAndGittinsOnly) {
  for (const char* name : {"srtf", "las", "gittins"}) {
    EXPECT_TRUE((*MakeJobOrder(name))->rank_follows_service()) << name;
  }
  for (const char* name : {"priority", "fifo", "sjf", "qssf", "drf"}) {
    EXPECT_FALSE((*MakeJobOrder(name))->rank_follows_service()) << name;
  }
  EXPECT_TRUE((*MakeJobOrder("priority"))->preemptive());
  // Only gittins ranks by the finished jobs' profiles (the replay builds them only for it).
  EXPECT_TRUE((*MakeJobOrder("gittins"))->reads_service_profile());
  EXPECT_FALSE((*MakeJobOrder("las"))->reads_service_profile());
}

}  // namespace
}  // namespace gpupool::scheduler

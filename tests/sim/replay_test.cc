#include "sim/replay.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sim/replay_report.h"
#include "testing/temp_dir.h"

namespace gpupool::sim {
namespace {

TraceJob Job(std::int64_t submit, std::int64_t duration, int gpus, const std::string& queue = "") {
  static int line = 1;
  TraceJob j;
  j.submit_s = submit;
  j.duration_s = duration;
  j.num_gpus = gpus;
  j.queue = queue;
  j.line = ++line;
  return j;
}

ReplayPool Pool(const std::string& name, int nodes, int gpus_per_node) {
  ReplayPool p;
  p.name = name;
  p.nodes = nodes;
  p.gpus_per_node = gpus_per_node;
  return p;
}

std::vector<TraceJob> Numbered(std::vector<TraceJob> jobs) {
  for (std::size_t i = 0; i < jobs.size(); ++i) jobs[i].id = static_cast<std::int64_t>(i) + 1;
  return jobs;
}

ReplayRun ReplayOf(const std::vector<TraceJob>& jobs, const std::vector<ReplayPool>& pools,
                   const std::string& order, bool strict = true) {
  ReplayOptions opt;
  opt.order = order;
  opt.strict_order = strict;
  opt.threads = 1;
  auto run = Replay(jobs, pools, opt);
  EXPECT_TRUE(run.has_value()) << (run ? "" : run.error().ToString());
  return run ? *run : ReplayRun{};
}

// One node of 8 GPUs. A: t 0, 100 s, 7 GPUs; B: t 10, 50 s, 4; C: t 20, 10 s, 4; D: t 20, 5 s, 1.
const std::vector<TraceJob> kSmall =
    Numbered({Job(0, 100, 7), Job(10, 50, 4), Job(20, 10, 4), Job(20, 5, 1)});
const std::vector<ReplayPool> kOneNode = {Pool("", 1, 8)};

std::vector<std::int64_t> Jcts(const ReplayRun& r) {
  std::vector<std::int64_t> out;
  for (const auto& o : r.outcomes) out.push_back(o.end_s - o.submit_s);
  return out;
}

TEST(ReplayTest, FifoInStrictOrderByHand) {
  // t 0: A runs (1 GPU free). t 10: B (4) does not fit: the head. t 20: C and D wait behind B,
  // although D would fit. t 100: A ends; B (to 150) and C (to 110) start; D finds 0 free.
  // t 110: D starts, ends 115. JCT: 100, 140, 90, 95 (mean 106.25); queueing 0, 90, 80, 90.
  const ReplayRun r = ReplayOf(kSmall, kOneNode, "fifo");
  EXPECT_EQ(Jcts(r), (std::vector<std::int64_t>{100, 140, 90, 95}));
  EXPECT_DOUBLE_EQ(r.avg_jct_s, 106.25);
  EXPECT_DOUBLE_EQ(r.avg_queue_s, 65.0);
  EXPECT_EQ(r.makespan_s, 150);
  // GPU time 700 + 200 + 40 + 5 = 945 over 8 GPUs x 150 s.
  EXPECT_DOUBLE_EQ(r.utilization, 945.0 / 1200.0);
  EXPECT_TRUE(r.oracles.empty());
}

TEST(ReplayTest, FifoWithBackfillLetsTheSmallJobPass) {
  // As above, but at t 20 D (1 GPU) starts in the free GPU (ends 25). JCT 100, 140, 90, 5.
  const ReplayRun r = ReplayOf(kSmall, kOneNode, "fifo", /*strict=*/false);
  EXPECT_EQ(Jcts(r), (std::vector<std::int64_t>{100, 140, 90, 5}));
  EXPECT_DOUBLE_EQ(r.avg_queue_s, 42.5);
}

TEST(ReplayTest, RecordsWhereEachJobFirstStarted) {
  // kSmall in strict FIFO (above): A (7) at t 0 takes the lowest GPUs [0-6]; at t 100 B (4)
  // [0-3] and C (4) [4-7]; at t 110 C has ended and D (1) takes the lowest free GPU, 4.
  const ReplayRun r = ReplayOf(kSmall, kOneNode, "fifo");
  ASSERT_EQ(r.outcomes.size(), 4u);
  const auto on_node0 = [](std::vector<int> gpus) {
    return std::vector<ReplayedReplica>{{"node-0", std::move(gpus)}};
  };
  EXPECT_EQ(r.outcomes[0].placement, on_node0({0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r.outcomes[1].placement, on_node0({0, 1, 2, 3}));
  EXPECT_EQ(r.outcomes[2].placement, on_node0({4, 5, 6, 7}));
  EXPECT_EQ(r.outcomes[3].placement, on_node0({4}));
  // A job of 16 GPUs on two nodes of 8: a gang of two 8-GPU replicas, one per node.
  const ReplayRun gang = ReplayOf(Numbered({Job(0, 10, 16)}), {Pool("", 2, 8)}, "fifo");
  ASSERT_EQ(gang.outcomes.size(), 1u);
  const std::vector<int> all = {0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(gang.outcomes[0].placement,
            (std::vector<ReplayedReplica>{{"node-0", all}, {"node-1", all}}));
}

TEST(ReplayTest, SjfByHandSaysItUsesAnOracle) {
  // Durations as limits. t 10: B alone, does not fit. t 20: D (5) first, fits, ends 25; then C
  // (10) does not fit: the head. t 100: C (to 110), B (to 150). JCT 100, 140, 90, 5.
  const ReplayRun r = ReplayOf(kSmall, kOneNode, "sjf");
  EXPECT_EQ(Jcts(r), (std::vector<std::int64_t>{100, 140, 90, 5}));
  ASSERT_EQ(r.oracles.size(), 1u);
  EXPECT_NE(r.oracles[0].find("actual duration"), std::string::npos);
}

TEST(ReplayTest, QssfWithoutEstimatesTakesFewerGpusFirst) {
  // No estimate: fewer GPUs first, then submission. t 20: D (1 GPU) first, fits; B (4) does not:
  // the head. t 100: B (to 150), then C (to 110). JCT 100, 140, 90, 5.
  const ReplayRun r = ReplayOf(kSmall, kOneNode, "qssf");
  EXPECT_EQ(Jcts(r), (std::vector<std::int64_t>{100, 140, 90, 5}));
}

TEST(ReplayTest, MultiNodeJobsTakeWholeNodesAndBlockTheQueue) {
  // Two 8-GPU nodes. E: t 0, 100 s, 16 GPUs (2 whole nodes); F: t 0, 10 s, 1 GPU waits for E;
  // G: t 200, 30 s, 12 GPUs (three 4-GPU replicas) on the empty pool.
  const auto jobs = Numbered({Job(0, 100, 16), Job(0, 10, 1), Job(200, 30, 12)});
  const ReplayRun r = ReplayOf(jobs, {Pool("", 2, 8)}, "fifo");
  EXPECT_EQ(Jcts(r), (std::vector<std::int64_t>{100, 110, 30}));
}

TEST(ReplayTest, PoolsAreSeparateClusters) {
  // Queue x has one 8-GPU node, y one 8-GPU node: an 8-GPU job in each runs at once; a second in
  // x waits for the first.
  const auto jobs = Numbered({Job(0, 100, 8, "x"), Job(0, 100, 8, "y"), Job(5, 10, 8, "x")});
  const ReplayRun r = ReplayOf(jobs, {Pool("x", 1, 8), Pool("y", 1, 8)}, "fifo");
  EXPECT_EQ(Jcts(r), (std::vector<std::int64_t>{100, 100, 105}));
  ASSERT_EQ(r.queues.size(), 2u);
  EXPECT_EQ(r.queues[0].queue, "x");
  EXPECT_DOUBLE_EQ(r.queues[0].avg_jct_s, 102.5);
  // x: slowdowns 100 / 100 and 105 / 10, mean 5.75; 800 + 80 GPU-s. y: 1; 800 GPU-s.
  EXPECT_DOUBLE_EQ(r.queues[0].avg_slowdown, 5.75);
  EXPECT_DOUBLE_EQ(r.queues[0].gpu_seconds, 880);
  EXPECT_DOUBLE_EQ(r.queues[1].avg_slowdown, 1);
  EXPECT_DOUBLE_EQ(r.queues[1].gpu_seconds, 800);
  // Jain over (5.75, 1): 6.75^2 / (2 x (33.0625 + 1)) = 45.5625 / 68.125.
  EXPECT_DOUBLE_EQ(r.queue_fairness, 45.5625 / 68.125);
}

TEST(ReplayTest, AJobNoPoolCanRunIsAnErrorNamingItsLine) {
  auto jobs = Numbered({Job(0, 10, 1, "x"), Job(0, 10, 16, "x")});
  jobs[1].line = 7;
  ReplayOptions opt;
  auto r = Replay(jobs, {Pool("x", 1, 8)}, opt);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("trace line 7: job of 16 GPUs can never run in pool 'x'"),
            std::string::npos)
      << r.error().message();
  jobs[1].queue = "nowhere";
  r = Replay(jobs, {Pool("x", 1, 8)}, opt);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("trace line 7: no pool takes queue 'nowhere'"),
            std::string::npos);
  opt.order = "lottery";
  EXPECT_FALSE(Replay(jobs, {Pool("x", 1, 8)}, opt).has_value());
}

TEST(ReplayTest, VcPoolsScaleTheNodeCounts) {
  const auto pools = VcPools({{"a", 64}, {"b", 8}, {"c", 2}}, 0.25);
  ASSERT_EQ(pools.size(), 3u);
  EXPECT_EQ(pools[0].nodes, 16);
  EXPECT_EQ(pools[1].nodes, 2);
  EXPECT_EQ(pools[2].nodes, 1);  // round(0.5) = 1, and never below 1
}

// The estimator's bands: P(|e| <= 0.1) = 0.1, P(0.1 < |e| <= 0.5) = 0.4, (0.5, 1] 0.2, (1, 10]
// 0.2, (10, 100] 0.1; the estimate is negative when e < -1: probability 0.2 x 0.5 + 0.1 x 0.5 =
// 0.15. Each share within 4 binomial standard deviations over 100,000 jobs.
TEST(ReplayTest, PhillyNoiseEstimatesFollowTheArtifactsBands) {
  std::vector<TraceJob> jobs(100000);
  for (auto& j : jobs) j.duration_s = 1000000;
  const auto est = PhillyNoiseEstimates(jobs, 7);
  ASSERT_EQ(est.size(), jobs.size());
  double bands[5] = {0, 0, 0, 0, 0};
  double negative = 0;
  for (const std::int64_t e : est) {
    const double rel = std::fabs(static_cast<double>(e) / 1e6 - 1.0);
    const int b = rel <= 0.1 ? 0 : rel <= 0.5 ? 1 : rel <= 1.0 ? 2 : rel <= 10.0 ? 3 : 4;
    ++bands[b];
    if (e < 0) ++negative;
  }
  const double n = static_cast<double>(est.size());
  auto near = [&](double count, double p) {
    return std::fabs(count / n - p) <= 4 * std::sqrt(p * (1 - p) / n);
  };
  const double expected[5] = {0.1, 0.4, 0.2, 0.2, 0.1};
  for (int b = 0; b < 5; ++b) EXPECT_TRUE(near(bands[b], expected[b])) << b << " " << bands[b];
  EXPECT_TRUE(near(negative, 0.15)) << negative;
  EXPECT_EQ(PhillyNoiseEstimates(jobs, 7), est);  // reproducible
  EXPECT_NE(PhillyNoiseEstimates(jobs, 8), est);
}

// LAS with one threshold of 100 GPU-seconds on one 1-GPU node. A: t 0, 300 s; B: t 50, 20 s.
// t 0: A runs. t 50: B waits (both at level 0: no preemption). t 100: A's attained reaches 100
// (level 1), so B (level 0) preempts it: A has 200 s left plus the 7 s checkpoint cost. B runs
// 100-120. t 120: A resumes, ends 120 + 207 = 327. JCT A 327, B 70; queueing (life minus runs):
// A 327 - (100 + 207) = 20, B 70 - 20 = 50; one preemption.
TEST(ReplayTest, LasPreemptsAJobThatCrossesItsThresholdByHand) {
  const auto jobs = Numbered({Job(0, 300, 1), Job(50, 20, 1)});
  ReplayOptions opt;
  opt.order = "las:100";
  opt.strict_order = false;
  opt.preemption = true;
  opt.threads = 1;
  auto r = Replay(jobs, {Pool("", 1, 1)}, opt);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Jcts(*r), (std::vector<std::int64_t>{327, 70}));
  EXPECT_EQ(r->outcomes[0].run_s, 307);
  EXPECT_EQ(r->outcomes[1].start_s, 100);
  EXPECT_DOUBLE_EQ(r->avg_queue_s, (20.0 + 50.0) / 2);
  EXPECT_EQ(r->preemptions, 1);
  // Without preemption B waits for A: JCT 300 and 270.
  opt.preemption = false;
  r = Replay(jobs, {Pool("", 1, 1)}, opt);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Jcts(*r), (std::vector<std::int64_t>{300, 270}));
  EXPECT_EQ(r->preemptions, 0);
}

// gittins on one 1-GPU node, its profiles learned from the jobs that finished before.
TEST(ReplayTest, GittinsPreemptsAJobThatOutlivedItsClassByHand) {
  // A (t 0, 10 s) and B (t 0, 10 s) have no history: first come first served, A 0-10, B 10-20.
  // C (t 30, 200 s) is submitted after both ended: its class (fewer than 3 jobs in its queue,
  // so every job seen) is {10, 10} GPU-s, index 2 / 20 = 0.1 at 0. C runs from 30 and crosses
  // 60 GPU-s at t 90, past every job of its class: index 0. D (t 100, 10 s) has index 0.1 and
  // preempts C (ran 70 s; 130 s left + 7 s checkpoint), runs 100-110; C resumes 110-247.
  // JCT: 10, 20, 217, 10.
  const auto jobs = Numbered({Job(0, 10, 1), Job(0, 10, 1), Job(30, 200, 1), Job(100, 10, 1)});
  ReplayOptions opt;
  opt.order = "gittins";
  opt.strict_order = false;
  opt.preemption = true;
  opt.threads = 1;
  auto r = Replay(jobs, {Pool("", 1, 1)}, opt);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Jcts(*r), (std::vector<std::int64_t>{10, 20, 217, 10}));
  EXPECT_EQ(r->outcomes[2].run_s, 207);
  EXPECT_EQ(r->preemptions, 1);
  EXPECT_TRUE(r->oracles.empty());
  // LAS (levels at 1 and 10 GPU-hours) keeps C running: D waits until 230. JCT 10, 20, 200, 140.
  opt.order = "las";
  r = Replay(jobs, {Pool("", 1, 1)}, opt);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Jcts(*r), (std::vector<std::int64_t>{10, 20, 200, 140}));
}

// The learned estimator sees only finished jobs: the first jobs of a pool get no estimate.
TEST(ReplayTest, LearnedEstimatesComeOnlyFromFinishedJobs) {
  // qssf on one 1-GPU node. A (t 0, 100 s) runs. B (t 10, 500 s) and C (t 20, 50 s) wait; at
  // t 100 nothing has finished before their submission, so both have no estimate and go in
  // submission order: B 100-600, C 600-650. (With oracle estimates C would go first.)
  const auto jobs = Numbered({Job(0, 100, 1), Job(10, 500, 1), Job(20, 50, 1)});
  ReplayOptions opt;
  opt.order = "qssf";
  opt.estimator = "learned";
  opt.threads = 1;
  auto r = Replay(jobs, {Pool("", 1, 1)}, opt);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Jcts(*r), (std::vector<std::int64_t>{100, 590, 630}));
  EXPECT_TRUE(r->oracles.empty());
}

// EASY backfill never delays the reservation: on random traces (FIFO, so no newcomer takes the
// head's place; jobs end exactly at their limits, the actual durations), every job that held a
// reservation starts no later than the time first reserved for it. Backfill happens (some job
// starts before one submitted earlier) and the run differs from strict FIFO.
TEST(ReplayTest, EasyBackfillNeverDelaysAReservationOnRandomTraces) {
  std::mt19937_64 rng(11);
  int reservations = 0;
  int overtakes = 0;
  for (int trial = 0; trial < 30; ++trial) {
    std::vector<TraceJob> jobs;
    std::int64_t t = 0;
    for (int k = 0; k < 60; ++k) {
      t += static_cast<std::int64_t>(rng() % 40);
      const int sizes[] = {1, 1, 2, 4, 8, 16};
      jobs.push_back(Job(t, 1 + static_cast<std::int64_t>(rng() % 400), sizes[rng() % 6]));
    }
    jobs = Numbered(jobs);
    ReplayOptions opt;
    opt.order = "fifo";
    opt.easy_backfill = true;
    opt.threads = 1;
    auto r = Replay(jobs, {Pool("", 3, 8)}, opt);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    for (const auto& o : r->outcomes) {
      if (o.reserved_s < 0) continue;
      ++reservations;
      EXPECT_LE(o.start_s, o.reserved_s) << "trial " << trial << " job " << o.id;
    }
    for (std::size_t a = 0; a + 1 < r->outcomes.size(); ++a) {
      if (r->outcomes[a + 1].start_s < r->outcomes[a].start_s) ++overtakes;
    }
  }
  EXPECT_GT(reservations, 30);
  EXPECT_GT(overtakes, 30);
}

// A gang's reservation without strict order, by hand. Two 8-GPU nodes, fifo, a job that does not
// fit is skipped (no strict order). A: t 0, 100 s, 8 GPUs (node-0); B: t 0, 50 s, 4 (node-1);
// G: t 10, 30 s, 16 (a gang of 2 x 8); S1: t 20, 100 s, 4; S2: t 20, 30 s, 4.
//   No reservation: t 20 S1 takes node-1's 4 free (to 120); S2 waits; t 50 B ends, S2 runs to
//     80; t 100 A ends, but S1 holds node-1 to 120: G runs 120-150. JCT 100 50 140 100 60.
//   Gang reservation: t 10 G reserved for t 100 (A ends 100, B 50: both nodes free). t 20 S1
//     would run to 120 > 100 and hold 4 of node-1 then: waits; S2 ends by 50 <= 100: runs 20-50.
//     t 50: S1 would end at 150 > 100: still waits. t 100: G runs 100-130; S1 130-230.
//     JCT 100 50 120 210 30.
//   Timeout 50 s: G's reservation (first made at t 10) lapses at 60 and may come back at 110. t
//     60 (a cycle for the lapse alone): S1 starts, to 160. t 110: G reserves again, for t 160
//     (S1's end); G runs 160-190. JCT 100 50 180 140 30.
TEST(ReplayTest, AGangsReservationWithoutStrictOrderByHand) {
  const auto jobs =
      Numbered({Job(0, 100, 8), Job(0, 50, 4), Job(10, 30, 16), Job(20, 100, 4), Job(20, 30, 4)});
  const auto run = [&](bool reserve, double timeout_s) {
    ReplayOptions opt;
    opt.order = "fifo";
    opt.strict_order = false;
    opt.gang_reservation = reserve;
    opt.reservation_timeout_s = timeout_s;
    opt.threads = 1;
    auto r = Replay(jobs, {Pool("", 2, 8)}, opt);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().ToString());
    return r ? *r : ReplayRun{};
  };
  EXPECT_EQ(Jcts(run(false, 0)), (std::vector<std::int64_t>{100, 50, 140, 100, 60}));
  const ReplayRun reserved = run(true, 0);
  EXPECT_EQ(Jcts(reserved), (std::vector<std::int64_t>{100, 50, 120, 210, 30}));
  ASSERT_EQ(reserved.outcomes.size(), 5u);
  EXPECT_EQ(reserved.outcomes[2].reserved_s, 100);
  EXPECT_EQ(reserved.outcomes[2].start_s, 100);  // at the reserved time, not later
  const ReplayRun lapsing = run(true, 50);
  EXPECT_EQ(Jcts(lapsing), (std::vector<std::int64_t>{100, 50, 180, 140, 30}));
  ASSERT_EQ(lapsing.outcomes.size(), 5u);
  EXPECT_EQ(lapsing.outcomes[3].start_s, 60);
}

// Strict order with queues (the scheduler's, as the service runs it): a queue's head blocks its
// own queue only. One pool of 2 x 8 GPUs; queues a and b, each guaranteed and limited to 8 GPUs.
//   t 0:   1 (a, 6 GPUs, 100 s) starts on node-0.
//   t 10:  2 (a, 4, 50 s) would take a to 10 > 8: its limit holds it, the head of queue a.
//   t 20:  b is furthest below its guarantee: 4 (b, 8, 30 s) starts on node-1 (a's head holds
//          back a's jobs only); 3 (a, 1, 10 s) fits under a's limit (7) but waits behind 2.
//   t 100: 1 ends: 2 (a: 4) and 3 (a: 5) start.
// JCT 100, 140, 90, 30. Without strict order 3 starts at t 20 on node-0 (JCT 10).
TEST(ReplayTest, StrictOrderWithQueuesBlocksOnlyTheHeadsQueueByHand) {
  const auto jobs = Numbered(
      {Job(0, 100, 6, "a"), Job(10, 50, 4, "a"), Job(20, 10, 1, "a"), Job(20, 30, 8, "b")});
  const auto run = [&](bool strict) {
    ReplayOptions opt;
    opt.order = "fifo";
    opt.strict_order = strict;
    opt.preemption = true;  // reclaim, as `sim replay --queues` runs (none borrows here)
    opt.queues = {queue::QueueSpec{"a", "", 8, 8, 1}, queue::QueueSpec{"b", "", 8, 8, 1}};
    opt.threads = 1;
    auto r = Replay(jobs, {Pool("", 2, 8)}, opt);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().ToString());
    return r ? *r : ReplayRun{};
  };
  const ReplayRun strict = run(true);
  EXPECT_EQ(Jcts(strict), (std::vector<std::int64_t>{100, 140, 90, 30}));
  EXPECT_EQ(strict.preemptions, 0);
  EXPECT_EQ(Jcts(run(false)), (std::vector<std::int64_t>{100, 140, 10, 30}));
}

// Jobs with their own requests (openb pods: shares of a GPU) on listed nodes, sampled over time.
// One node of 1 GPU. A: t 0, 100 s, 600 milli; B: t 10, 50 s, 600 milli (does not fit beside A:
// waits until 100, runs to 150); C: t 20, 30 s, 400 milli (fits beside A at once, to 50).
// Samples every 40 s: t 0 (A: 60 % allocated, nothing pending), t 40 (A + C: 100 %, B pending
// 0.6 GPU), t 80 (A: 60 %, B 0.6), t 120 (B: 60 %, nothing pending).
TEST(ReplayTest, JobsWithTheirOwnRequestsAndSamplesOverTime) {
  auto share = [](std::int64_t submit, std::int64_t duration, int milli) {
    TraceJob j = Job(submit, duration, 1);
    cluster::PodRequest r;
    r.num_gpu = 1;
    r.gpu_milli = milli;
    j.request = r;
    return j;
  };
  const auto jobs = Numbered({share(0, 100, 600), share(10, 50, 600), share(20, 30, 400)});
  ReplayPool pool;
  cluster::NodeSpec node;
  node.name = "n";
  node.cpu_milli = 8000;
  node.memory_mib = 8192;
  node.gpus.push_back(cluster::GpuSpec{"T4", 0, "", -1});
  pool.specs = {node};
  pool.nodes = 1;
  ReplayOptions opt;
  opt.order = "fifo";
  opt.strict_order = false;
  opt.placement = "bestfit";
  opt.sample_every_s = 40;
  opt.threads = 1;
  auto r = Replay(jobs, {pool}, opt);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Jcts(*r), (std::vector<std::int64_t>{100, 140, 30}));
  ASSERT_GE(r->samples.size(), 4u);
  const double allocated[] = {60, 100, 60, 60};
  const double pending[] = {0, 0.6, 0.6, 0};
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(r->samples[k].t_s, static_cast<std::int64_t>(40 * k));
    EXPECT_NEAR(r->samples[k].allocated_pct, allocated[k], 1e-9) << k;
    EXPECT_NEAR(r->samples[k].pending_gpus, pending[k], 1e-9) << k;
  }
  // GPU time 0.6 x 100 + 0.6 x 50 + 0.4 x 30 = 102 GPU-seconds over 1 GPU x 150 s.
  EXPECT_NEAR(r->utilization, 102.0 / 150.0, 1e-12);
}

// The JCT table of the figures: nearest-rank percentiles of the replayed jobs. The strict FIFO
// run by hand above has JCTs 100, 140, 90, 95: sorted 90, 95, 100, 140, so percentile 0 and 25
// give 90 (rank 1), 26 and 50 give 95 (ranks 2), 100 gives 140.
TEST(ReplayTest, FiguresTabulateTheJctPercentiles) {
  const ReplayRun r = ReplayOf(kSmall, kOneNode, "fifo");
  testing::TempDir dir;
  std::string warning;
  ASSERT_TRUE(WriteReplayPlots(dir.path().string(), {r}, {"fifo's"}, &warning).ok());
  std::ifstream in(dir.File("jct_cdf.csv"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 102u);
  EXPECT_EQ(lines[0], "percentile,fifo's");
  EXPECT_EQ(lines[1], "0,90");
  EXPECT_EQ(lines[26], "25,90");
  EXPECT_EQ(lines[27], "26,95");
  EXPECT_EQ(lines[51], "50,95");
  EXPECT_EQ(lines[101], "100,140");
  // The label reaches the script as a gnuplot literal, its quote doubled.
  std::ifstream gp(dir.File("jct_cdf.gp"));
  const std::string script((std::istreambuf_iterator<char>(gp)), std::istreambuf_iterator<char>());
  EXPECT_NE(script.find("title 'fifo''s' noenhanced"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.File("over_time.csv")));  // no samples
}

}  // namespace
}  // namespace gpupool::sim

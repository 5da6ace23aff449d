// The service and the replay give the same schedule for the same trace: `gpupool serve`
// (PoolService, on a fake clock, with a scripted executor whose jobs end when the test says) and
// `gpupool sim replay` (sim::Replay) drive the same scheduler, so for one small trace they must
// start every job at the same time on the same node and GPUs.
//
// The service is driven event by event in simulated time, as the replay runs: at each instant of
// the trace the jobs whose end has come are finished first, then the jobs that arrive are
// submitted (PoolService::Submit, as the HTTP layer calls it), then the scheduling thread runs one
// pass (the scripted executor's lockstep: exits, one cycle, the launches). One pass per instant,
// as the replay runs one cycle per instant: a cycle after each submission could give GPUs to a
// job that waited before a shorter one submitted at the same instant ranks ahead of it (sjf). A
// job's start is the time of its launch on the test's clock; its node and GPUs are those of
// GPUPOOL_PLACEMENT. The clock is the service's too (ServiceOptions::now_ms): its time limits
// (the durations) and its records of each run (started_at, finished_at) are in simulated time.
//
// Configured alike on both sides: the order, the placement policy (bestfit, which never defers a
// job; fgd-window lets a share wait one cycle for a partner, a tick later in the service and one
// simulated second later in the replay, which this test does not model), the seed, strict order
// and EASY backfill, and node ties to the lowest index (the replay's placer.index_order, an
// option of the service's SchedulerOptions). Jobs ask for no CPU or memory, as the replay's do,
// and for sjf their time limit is their duration, which the replay reads as the limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "server/pool_service.h"
#include "sim/replay.h"
#include "testing/scripted_executor.h"
#include "testing/temp_dir.h"

namespace gpupool::server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using sim::ReplayedReplica;
using testing::ScriptedExecutor;
using testing::TempDir;

// The fake clock's t = 0 (2026-12-01T00:00:00Z; the service shows times from the epoch).
constexpr std::int64_t kEpochMs = 1'796'083'200'000;

sim::TraceJob Job(std::int64_t submit_s, std::int64_t duration_s, int gpus) {
  sim::TraceJob j;
  j.submit_s = submit_s;
  j.duration_s = duration_s;
  j.num_gpus = gpus;
  return j;
}

// The trace, in submission order, ids 1.. as the replay numbers them; for 2 nodes x 8 GPUs.
std::vector<sim::TraceJob> Trace() {
  std::vector<sim::TraceJob> t = {
      Job(0, 120, 8),  // 1
      Job(0, 40, 2),   // 2
      Job(0, 60, 2),   // 3
      Job(0, 150, 4),  // 4
      Job(10, 50, 4),  // 5
      Job(20, 10, 1),  // 6
      Job(30, 30, 8),  // 7
      Job(70, 20, 4),  // 8
      Job(80, 5, 2),   // 9
  };
  for (std::size_t k = 0; k < t.size(); ++k) {
    t[k].id = static_cast<std::int64_t>(k) + 1;
    t[k].line = static_cast<int>(k) + 2;
  }
  return t;
}

struct Config {
  std::string order = "fifo";
  std::string estimator = "none";  // the replay's; the service learns for qssf and gittins
  std::string placement = "bestfit";
  bool strict_order = false;
  bool easy_backfill = false;
  std::uint64_t seed = 42;
  std::vector<queue::QueueSpec> queues;  // each job goes to its trace queue; empty: none
};

// One job's first start: when, and where (per replica, the node and its GPU indices).
struct Start {
  std::int64_t t_s = -1;
  std::vector<ReplayedReplica> placement;

  friend bool operator==(const Start&, const Start&) = default;
};

std::string Show(const Start& s) {
  std::string out = "t " + std::to_string(s.t_s) + ":";
  for (const auto& r : s.placement) {
    out += " " + r.node + "[";
    for (std::size_t g = 0; g < r.gpus.size(); ++g) {
      out += (g > 0 ? "," : "") + std::to_string(r.gpus[g]);
    }
    out += "]";
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Start& s) { return os << Show(s); }

Start At(std::int64_t t, const std::string& node, std::vector<int> gpus) {
  return Start{t, {ReplayedReplica{node, std::move(gpus)}}};
}

std::vector<Start> ReplaySchedule(const std::vector<sim::TraceJob>& trace, const Config& c) {
  sim::ReplayOptions opt;
  opt.order = c.order;
  opt.placement = c.placement;
  opt.strict_order = c.strict_order;
  opt.easy_backfill = c.easy_backfill;
  opt.seed = c.seed;
  opt.estimator = c.estimator;
  opt.queues = c.queues;
  opt.threads = 1;
  auto run = sim::Replay(trace, {sim::ReplayPool{"", 2, 8, {}}}, opt);
  EXPECT_TRUE(run.has_value()) << (run ? "" : run.error().ToString());
  std::vector<Start> out;
  if (!run) return out;
  for (const auto& o : run->outcomes) out.push_back(Start{o.start_s, o.placement});
  return out;
}

// The replay's nodes ("node-0", "node-1": 64 CPUs, 512 GiB, 8 GPUs), with UUIDs the job's
// environment can name.
std::vector<cluster::NodeSpec> Nodes() {
  std::vector<cluster::NodeSpec> nodes(2);
  for (int i = 0; i < 2; ++i) {
    auto& n = nodes[static_cast<std::size_t>(i)];
    n.name = "node-" + std::to_string(i);
    n.cpu_milli = 64000;
    n.memory_mib = std::int64_t{512} * 1024;
    for (int g = 0; g < 8; ++g) {
      n.gpus.push_back({"gpu", 0, n.name + "-gpu-" + std::to_string(g), -1});
    }
  }
  return nodes;
}

// GPUPOOL_PLACEMENT ("node-1:node-1-gpu-0,node-1-gpu-1;...") as replicas of GPU indices.
std::vector<ReplayedReplica> FromPlacementVariable(const std::string& value) {
  std::vector<ReplayedReplica> out;
  for (const std::string_view replica : Split(value, ';')) {
    const auto colon = replica.find(':');
    ReplayedReplica r;
    r.node = std::string(replica.substr(0, colon));
    for (const std::string_view uuid : Split(replica.substr(colon + 1), ',')) {
      r.gpus.push_back(std::stoi(std::string(uuid.substr(uuid.rfind('-') + 1))));
    }
    out.push_back(std::move(r));
  }
  return out;
}

struct ServiceRun {
  std::vector<Start> starts;
  std::vector<std::int64_t> stopped;  // jobs the service asked the executor to stop
  // Every job as the service reports it at the end: state, started_at, finished_at.
  std::vector<std::string> states;
  std::vector<std::string> started_at;
  std::vector<std::string> finished_at;
};

// The job object's time of simulated second t ("2026-12-01T00:02:10.000Z" for t 130).
std::string TimeOf(std::int64_t t) {
  const std::int64_t s = kEpochMs / 1000 + t;
  const std::int64_t m = s / 60 % 60;
  const std::int64_t h = s / 3600 % 24;
  const auto two = [](std::int64_t x) { return (x < 10 ? "0" : "") + std::to_string(x); };
  return "2026-12-01T" + two(h) + ":" + two(m) + ":" + two(s % 60) + ".000Z";
}

ServiceRun ServiceSchedule(const std::vector<sim::TraceJob>& trace, const Config& c) {
  ServiceRun out;
  out.starts.resize(trace.size());
  TempDir dir;
  std::atomic<std::int64_t> now_ms{kEpochMs};
  const auto clock = [&now_ms] { return now_ms.load(); };
  auto executor = std::make_unique<ScriptedExecutor>(clock, /*lockstep=*/true);
  ScriptedExecutor& x = *executor;
  ServiceOptions opt;
  opt.data_dir = dir.path();
  opt.nodes = Nodes();
  opt.scheduler.order = c.order;
  opt.scheduler.policy = c.placement;
  opt.scheduler.seed = c.seed;
  opt.scheduler.strict_order = c.strict_order;
  opt.scheduler.easy_backfill = c.easy_backfill;
  opt.scheduler.queues = c.queues;
  opt.scheduler.placer.index_order = true;  // as the replay's placer
  opt.tick = 1ms;
  opt.synchronous_full = false;
  opt.now_ms = clock;
  std::string token;
  auto started = PoolService::Start(opt, std::move(executor), &token);
  if (!started) {
    ADD_FAILURE() << started.error().ToString();
    return out;
  }
  std::unique_ptr<PoolService> service = std::move(*started);
  const testing::RunFreelyAtExit release(x);
  const auto admin = service->Authenticate("Bearer " + token);
  if (!admin) {
    ADD_FAILURE() << admin.error().message;
    return out;
  }
  // The trace's users, each with a token of their own (a job without one: the admin's).
  std::map<std::string, Principal> users;
  for (const sim::TraceJob& j : trace) {
    if (j.user.empty() || users.contains(j.user)) continue;
    auto created = service->CreateToken(*admin, {{"user", j.user}, {"queues", {"default"}}});
    auto user = created ? service->Authenticate("Bearer " + (*created)["token"].get<std::string>())
                        : ApiResult<Principal>(Fail(created.error()));
    if (!user) {
      ADD_FAILURE() << j.user << ": " << user.error().message;
      return out;
    }
    users.emplace(j.user, *user);
  }

  std::multimap<std::int64_t, std::int64_t> ends;  // end time -> job id
  std::size_t next = 0;                            // the next job to arrive
  std::size_t launches = 0;                        // launches recorded so far
  while (next < trace.size() || !ends.empty()) {
    std::int64_t t = next < trace.size() ? trace[next].submit_s : INT64_MAX;
    if (!ends.empty()) t = std::min(t, ends.begin()->first);
    now_ms = kEpochMs + t * 1000;
    // Ends before arrivals, as the replay.
    for (; !ends.empty() && ends.begin()->first == t; ends.erase(ends.begin())) {
      EXPECT_TRUE(x.Finish(ends.begin()->second, 0)) << "job " << ends.begin()->second;
    }
    for (; next < trace.size() && trace[next].submit_s == t; ++next) {
      json body = {{"name", "job" + std::to_string(next + 1)},
                   {"command", {"true"}},
                   {"gpus", trace[next].num_gpus},
                   {"cpu_milli", 0},
                   {"memory_mib", 0}};
      // The replay reads the duration as the time limit (sjf); the service kills at the limit.
      body["time_limit_s"] = trace[next].duration_s;
      const sim::TraceJob& j = trace[next];
      if (!c.queues.empty()) body["queue"] = j.queue;
      auto job = service->Submit(j.user.empty() ? *admin : users.at(j.user), body);
      if (!job) {
        ADD_FAILURE() << "submit job " << next + 1 << ": " << job.error().message;
        return out;
      }
      // Ids follow the submissions, as the replay's follow the trace.
      EXPECT_EQ((*job)["id"], static_cast<std::int64_t>(next) + 1);
    }
    if (!x.Step()) {
      ADD_FAILURE() << "the scheduling thread did not finish its pass at t " << t;
      return out;
    }
    const auto launched = x.launched();
    for (; launches < launched.size(); ++launches) {
      const auto& l = launched[launches];
      const auto k = static_cast<std::size_t>(l.job_id - 1);
      EXPECT_EQ(out.starts[k].t_s, -1) << "job " << l.job_id << " launched twice";
      out.starts[k].t_s = (l.at_ms - kEpochMs) / 1000;
      out.starts[k].placement = FromPlacementVariable(l.Env("GPUPOOL_PLACEMENT"));
      ends.emplace(out.starts[k].t_s + trace[k].duration_s, l.job_id);
    }
  }
  x.RunFreely();
  out.stopped = x.stopped();
  EXPECT_TRUE(service->WaitIdle(30s));
  for (std::size_t k = 0; k < trace.size(); ++k) {
    auto job = service->GetJob(*admin, static_cast<std::int64_t>(k) + 1);
    if (!job) {
      ADD_FAILURE() << "job " << k + 1 << ": " << job.error().message;
      continue;
    }
    out.states.push_back((*job)["state"]);
    out.started_at.push_back((*job)["started_at"].is_string() ? (*job)["started_at"] : "null");
    out.finished_at.push_back((*job)["finished_at"].is_string() ? (*job)["finished_at"] : "null");
  }
  return out;
}

// Both schedules, job by job.
void ExpectSameSchedule(const std::vector<Start>& replay, const std::vector<Start>& service) {
  ASSERT_EQ(replay.size(), service.size());
  for (std::size_t k = 0; k < replay.size(); ++k) {
    EXPECT_EQ(replay[k], service[k])
        << "job " << k + 1 << ": replay " << Show(replay[k]) << ", service " << Show(service[k]);
  }
}

// Every job ran to its end (none stopped, also not at its time limit, which it reaches as it
// ends), and the service's own record of its run is on the simulated clock.
void ExpectEveryJobSucceeded(const std::vector<sim::TraceJob>& trace, const ServiceRun& run) {
  EXPECT_EQ(run.stopped, std::vector<std::int64_t>{});
  ASSERT_EQ(run.states.size(), trace.size());
  for (std::size_t k = 0; k < trace.size(); ++k) {
    EXPECT_EQ(run.states[k], "succeeded") << "job " << k + 1;
    const std::int64_t start = run.starts[k].t_s;
    EXPECT_EQ(run.started_at[k], TimeOf(start)) << "job " << k + 1;
    EXPECT_EQ(run.finished_at[k], TimeOf(start + trace[k].duration_s)) << "job " << k + 1;
  }
}

TEST(ReplayEqualityTest, FifoWithBackfillGivesTheScheduleWorkedOutByHand) {
  // bestfit: the node left with the fewest free GPUs (ties to node-0); whole GPUs: the lowest
  // free indices. Not strict: a job that fits starts even when one ahead of it waits.
  // t 0:   1 (8) node-0 [0-7]; 2 (2) node-1 [0,1]; 3 (2) node-1 [2,3]; 4 (4) node-1 [4-7].
  // t 10, 20, 30: 5 (4), 6 (1), 7 (8) wait: nothing is free.
  // t 40:  2 ends: node-1 [0,1] free. 5 (4) and 7 (8) do not fit; 6 (1) passes them: [0].
  // t 50:  6 ends: [0,1] free, still too few for 5.
  // t 60:  3 ends: [0-3] free; 5 starts there: it waited for two ends (2 and 3).
  // t 70, 80: 8 (4), 9 (2) wait.
  // t 110: 5 ends: node-1 [0-3]. 7 (8) does not fit; 8 (4) passes it: [0-3]; 9 (2) finds none.
  // t 120: 1 ends: 7 starts on node-0 [0-7]; 9 still finds none.
  // t 130: 8 ends: 9 starts on node-1 [0,1].
  const std::vector<Start> by_hand = {
      At(0, "node-0", {0, 1, 2, 3, 4, 5, 6, 7}),
      At(0, "node-1", {0, 1}),
      At(0, "node-1", {2, 3}),
      At(0, "node-1", {4, 5, 6, 7}),
      At(60, "node-1", {0, 1, 2, 3}),
      At(40, "node-1", {0}),
      At(120, "node-0", {0, 1, 2, 3, 4, 5, 6, 7}),
      At(110, "node-1", {0, 1, 2, 3}),
      At(130, "node-1", {0, 1}),
  };
  const Config fifo;
  const std::vector<Start> replay = ReplaySchedule(Trace(), fifo);
  ExpectSameSchedule(by_hand, replay);
  const ServiceRun service = ServiceSchedule(Trace(), fifo);
  ExpectSameSchedule(replay, service.starts);
  ExpectEveryJobSucceeded(Trace(), service);
}

TEST(ReplayEqualityTest, SjfByTimeLimitsGivesTheScheduleWorkedOutByHand) {
  // Shortest time limit first (limits = durations), then submission.
  // t 0:   2 (40 s), 3 (60), 1 (120), 4 (150). 2 (2): both nodes left 6, node-0 [0,1]; 3 (2):
  //        node-0 left 4 beats node-1 left 6: node-0 [2,3]; 1 (8): node-1 [0-7]; 4: node-0 [4-7].
  // t 40:  2 ends: node-0 [0,1]. 6 (10 s, 1) [0]; 7 (30 s, 8) and 5 (50 s, 4) do not fit.
  // t 60:  3 ends (6 ended at 50): node-0 [0-3]: 5 starts there.
  // t 110: 5 ends: node-0 [0-3]. 9 (5 s, 2) [0,1] first; 8 (20 s, 4) now finds 2 free; 7 no.
  // t 115: 9 ends: 8 starts on node-0 [0-3] (fifo started 8 at 110 and 9 at 130).
  // t 120: 1 ends: 7 starts on node-1 [0-7].
  const std::vector<Start> by_hand = {
      At(0, "node-1", {0, 1, 2, 3, 4, 5, 6, 7}),
      At(0, "node-0", {0, 1}),
      At(0, "node-0", {2, 3}),
      At(0, "node-0", {4, 5, 6, 7}),
      At(60, "node-0", {0, 1, 2, 3}),
      At(40, "node-0", {0}),
      At(120, "node-1", {0, 1, 2, 3, 4, 5, 6, 7}),
      At(115, "node-0", {0, 1, 2, 3}),
      At(110, "node-0", {0, 1}),
  };
  Config sjf;
  sjf.order = "sjf";
  const std::vector<Start> replay = ReplaySchedule(Trace(), sjf);
  ExpectSameSchedule(by_hand, replay);
  const ServiceRun service = ServiceSchedule(Trace(), sjf);
  ExpectSameSchedule(replay, service.starts);
  ExpectEveryJobSucceeded(Trace(), service);
}

TEST(ReplayEqualityTest, StrictFifoWithEasyBackfillGivesTheSameScheduleInBoth) {
  // Strict order: the head that does not fit holds a reservation, the earliest time it fits
  // when the running jobs end by their time limits (on the scheduler's clock: the service's
  // fake one); a job behind it starts only if that cannot delay the reservation. t 40: 5 is
  // reserved t 60 (when 3 ends), and 6 (ends 50) passes it; t 110: 7 is reserved t 120 on node-0,
  // and 8 (4 GPUs, ends 130) passes it on node-1, which 7 does not need.
  Config easy;
  easy.strict_order = true;
  easy.easy_backfill = true;
  const std::vector<Start> replay = ReplaySchedule(Trace(), easy);
  ASSERT_EQ(replay.size(), 9U);
  EXPECT_EQ(replay[5], At(40, "node-1", {0}));
  EXPECT_EQ(replay[7], At(110, "node-1", {0, 1, 2, 3}));
  const ServiceRun service = ServiceSchedule(Trace(), easy);
  ExpectSameSchedule(replay, service.starts);
  ExpectEveryJobSucceeded(Trace(), service);
}

// Strict order per queue with EASY backfill, in both: each queue's head that cannot start holds a
// reservation (in rank order, against the pool as the earlier ones leave it, on named nodes), and
// a job behind, in any queue, starts only if it delays none. Queues a and b without guarantees:
// the queue using fewer GPUs goes first (ties: submission order). bestfit, ties to node-0.
//   t 0:   1 (a, 6, 100 s) node-0 [0-5]; 2 (b, 6, 200 s) node-1 [0-5]. Free: [6,7] of each.
//   t 10:  3 (a, 8, 50 s) does not fit: a's head, reserved t 100 (1 ends) on node-0. 4 (b, 2,
//          300 s) fits on node-0 [6,7] (bestfit's tie), but would hold them at t 100: b's head,
//          reserved t 100 on node-1 [6,7] (beside 3).
//   t 20:  5 (a, 2, 40 s) behind 3, fits on node-0 [6,7] and ends by 60 <= 100: starts.
//   t 30:  a uses 8, b 6: b first. 4 fits on node-1 [6,7] (no reservation ahead of it): starts.
//          6 (b, 2, 30 s) finds nothing free: b's head, reserved t 60 (5 ends) on node-0 [6,7];
//          3 reserved t 100 again.
//   t 40:  7 (a, 4, 20 s) waits behind 3.
//   t 60:  5 ends. a uses 6, b 8: 3 first, its reservation t 100; 6 ends by 90 <= 100: starts on
//          node-0 [6,7]; 7 finds 2 free: behind 3.
//   t 100: 1 ends (6 ended at 90): 3 starts on node-0 [0-7]; 7 (a's head now) is reserved t 150.
//   t 150: 3 ends: 7 starts on node-0 [0-3].
TEST(ReplayEqualityTest, StrictQueuesWithEasyBackfillGiveTheScheduleWorkedOutByHand) {
  const auto job = [](std::int64_t submit, std::int64_t duration, int gpus, const char* q) {
    sim::TraceJob j = Job(submit, duration, gpus);
    j.queue = q;
    return j;
  };
  std::vector<sim::TraceJob> trace = {
      job(0, 100, 6, "a"), job(0, 200, 6, "b"), job(10, 50, 8, "a"), job(10, 300, 2, "b"),
      job(20, 40, 2, "a"), job(30, 30, 2, "b"), job(40, 20, 4, "a")};
  for (std::size_t k = 0; k < trace.size(); ++k) {
    trace[k].id = static_cast<std::int64_t>(k) + 1;
    trace[k].line = static_cast<int>(k) + 2;
  }
  const std::vector<Start> by_hand = {
      At(0, "node-0", {0, 1, 2, 3, 4, 5}),
      At(0, "node-1", {0, 1, 2, 3, 4, 5}),
      At(100, "node-0", {0, 1, 2, 3, 4, 5, 6, 7}),
      At(30, "node-1", {6, 7}),
      At(20, "node-0", {6, 7}),
      At(60, "node-0", {6, 7}),
      At(150, "node-0", {0, 1, 2, 3}),
  };
  Config easy;
  easy.strict_order = true;
  easy.easy_backfill = true;
  easy.queues = {queue::QueueSpec{"a", "", 0, std::numeric_limits<double>::infinity(), 1},
                 queue::QueueSpec{"b", "", 0, std::numeric_limits<double>::infinity(), 1}};
  const std::vector<Start> replay = ReplaySchedule(trace, easy);
  ExpectSameSchedule(by_hand, replay);
  const ServiceRun service = ServiceSchedule(trace, easy);
  ExpectSameSchedule(replay, service.starts);
  ExpectEveryJobSucceeded(trace, service);
}

// What the learning orders rank by is the same in both: the service counts each job that ends (its
// user, queue, GPUs, run time and GPU time) into the replay's estimator and gives a job what it
// says at its submission (scheduler::DurationEstimator::Inform). On the nine-job trace above the
// learning decides nothing (the few jobs that wait once something has ended share one class), so
// these run a trace of users on which it does. No end falls on an arrival: the service sees an end
// in the pass after the submissions of that instant, the replay before them.
TEST(ReplayEqualityTest, GittinsAndLearnedQssfGiveTheScheduleWorkedOutByHand) {
  // 8 GPUs each (one whole node). ann's first three jobs run 10 s (80 GPU-s), bob's 100 s
  // (800 GPU-s), all before t 230, each alone on a free node. At t 230 cat's 7 (50 s) and 8
  // (200 s) take both nodes; bob submits 9 at t 240, ann 10 at t 250. At t 280 7 ends and frees
  // node-0 for one of them:
  //   gittins: G(0) = P(S <= d) / E[min(S, d)] at its best d: ann {80, 80, 80} -> 1/80, bob
  //            {800, 800, 800} -> 1/800: 10 first (fifo would start 9);
  //   qssf:    estimate x GPUs: ann 10 s x 8 = 80, bob 100 s x 8 = 800: 10 first.
  // 10 ends at 290 and 9 starts then, on node-0 again.
  const auto job = [](std::int64_t submit, std::int64_t duration, const std::string& user) {
    sim::TraceJob j = Job(submit, duration, 8);
    j.user = user;
    j.queue = "default";
    return j;
  };
  std::vector<sim::TraceJob> trace = {
      job(0, 10, "ann"),    job(0, 100, "bob"),   job(20, 10, "ann"),  job(40, 10, "ann"),
      job(110, 100, "bob"), job(120, 100, "bob"), job(230, 50, "cat"), job(230, 200, "cat"),
      job(240, 100, "bob"), job(250, 10, "ann"),
  };
  for (std::size_t k = 0; k < trace.size(); ++k) {
    trace[k].id = static_cast<std::int64_t>(k) + 1;
    trace[k].line = static_cast<int>(k) + 2;
  }
  const std::vector<int> all = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<Start> by_hand = {
      At(0, "node-0", all),   At(0, "node-1", all),   At(20, "node-0", all),
      At(40, "node-0", all),  At(110, "node-0", all), At(120, "node-1", all),
      At(230, "node-0", all), At(230, "node-1", all), At(290, "node-0", all),
      At(280, "node-0", all),
  };
  Config gittins;
  gittins.order = "gittins";
  Config qssf;
  qssf.order = "qssf";
  qssf.estimator = "learned";
  for (const Config& c : {gittins, qssf}) {
    SCOPED_TRACE(c.order);
    const std::vector<Start> replay = ReplaySchedule(trace, c);
    ExpectSameSchedule(by_hand, replay);
    const ServiceRun service = ServiceSchedule(trace, c);
    ExpectSameSchedule(replay, service.starts);
    ExpectEveryJobSucceeded(trace, service);
  }
}

}  // namespace
}  // namespace gpupool::server

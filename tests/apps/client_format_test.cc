// Text views of the service's JSON: the jobs table from a hand-written GET /api/v1/jobs answer
// (column widths and the REASON cut worked out by hand), one job, the nodes table, a top frame.
#include "client_format.h"

#include <gtest/gtest.h>

namespace gpupool::app {
namespace {

using json = nlohmann::json;

// 2026-11-30T10:05:00Z: 20787 days since 1970-01-01 x 86400 + 10 x 3600 + 5 x 60.
constexpr std::int64_t kNow = 1796033100;

const json kJobs = json::parse(R"json([
  {"id": 12, "name": "train", "user": "alice", "queue": "default", "priority": 0,
   "state": "running", "reason": null,
   "resources": {"gpus": 2, "num_gpu": 2, "gpu_milli": 1000, "replicas": 1},
   "submitted_at": "2026-11-30T10:00:00.000Z",
   "placement": [{"replica": 0, "node": "h100-a", "gpus": []}]},
  {"id": 11, "name": "notebook", "user": "bob", "queue": "interactive", "priority": 0,
   "state": "pending",
   "reason": "not now: fits in total but fragmented (no GPU has 500 milli free)",
   "resources": {"gpus": 0.5, "num_gpu": 1, "gpu_milli": 500, "replicas": 1},
   "submitted_at": "2026-11-30T09:58:30Z", "placement": []
},
  {"id": 9, "name": "sweep", "user": "alice", "queue": "default", "priority": 5,
   "state": "running", "reason": "",
   "resources": {"gpus": 4, "num_gpu": 4, "gpu_milli": 1000, "replicas": 2},
   "submitted_at": "2026-11-29T10:00:00.000Z",
   "placement": [{"replica": 0, "node": "h100-a"}, {"replica": 1, "node": "h100-b"}]}
])json");

TEST(ClientFormatTest, TimestampsAgesDurations) {
  EXPECT_EQ(ParseTimestamp("2026-11-30T10:05:00Z"), kNow);
  EXPECT_EQ(ParseTimestamp("2026-11-30T10:05:00.123Z"), kNow);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:01:00Z"), 60);
  EXPECT_EQ(ParseTimestamp("yesterday"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2026-11-30T10:05:00+02:00"), std::nullopt);  // UTC only
  EXPECT_EQ(FormatAge(45), "45s");
  EXPECT_EQ(FormatAge(390), "6m");  // 6.5 minutes, rounded down
  EXPECT_EQ(FormatAge(7199), "1h");
  EXPECT_EQ(FormatAge(86700), "1d");  // 1 day 5 minutes
  EXPECT_EQ(FormatDuration(7200), "2h");
  EXPECT_EQ(FormatDuration(5400), "1h30m");
  EXPECT_EQ(FormatDuration(90), "1m30s");
  EXPECT_EQ(FormatDuration(93600), "1d2h");
}

TEST(ClientFormatTest, JobGpus) {
  EXPECT_EQ(FormatJobGpus(kJobs[0]), "2");
  EXPECT_EQ(FormatJobGpus(kJobs[1]), "0.5");
  EXPECT_EQ(FormatJobGpus(kJobs[2]), "4x2");  // 2 replicas of 4
  EXPECT_EQ(FormatJobGpus(json::object()), "-");
}

TEST(ClientFormatTest, JobsTableFitsTheWidth) {
  // Widths: ID 2, NAME 8, USER 5, QUEUE 11, STATE 7, GPUS 4, NODE 8, AGE 3; with two spaces each
  // REASON starts at 4+10+7+13+9+6+10+5 = 64; 80 columns leave 16: 13 characters and "...".
  // Ages: 10:05:00 - 10:00:00 = 5m; - 09:58:30 = 390 s = 6m; - a day before = 1d.
  const std::string expected =
      "ID  NAME      USER   QUEUE        STATE    GPUS  NODE      AGE  REASON\n"
      "12  train     alice  default      running  2     h100-a    5m\n"
      "11  notebook  bob    interactive  pending  0.5   -         6m   not now: fits...\n"
      "9   sweep     alice  default      running  4x2   h100-a+1  1d\n";
  EXPECT_EQ(FormatJobsTable(kJobs, kNow, 80), expected);
}

TEST(ClientFormatTest, JobsTableWithoutWidthKeepsTheWholeReason) {
  const std::string table = FormatJobsTable(kJobs, kNow, 0);
  EXPECT_NE(table.find("6m   not now: fits in total but fragmented (no GPU has 500 milli free)\n"),
            std::string::npos)
      << table;
}

TEST(ClientFormatTest, NarrowTerminalStillShowsTenReasonCharacters) {
  const std::string table = FormatJobsTable(kJobs, kNow, 40);
  EXPECT_NE(table.find("6m   not now..."), std::string::npos) << table;  // 7 + "..."
}

TEST(ClientFormatTest, EmptyListIsTheHeader) {
  EXPECT_EQ(FormatJobsTable(json::array(), kNow, 80),
            "ID  NAME  USER  QUEUE  STATE  GPUS  NODE  AGE  REASON\n");
}

TEST(ClientFormatTest, PendingJobShowsItsReasonOnItsOwnLineThenEvents) {
  json job = kJobs[1];
  job["command"] = {"jupyter", "lab", "--ip", "0.0.0.0", "it's"};
  job["env"] = {{"A", "1"}};
  job["time_limit_s"] = 5400;
  job["started_at"] = nullptr;
  job["exit_code"] = nullptr;
  job["future_member"] = "kept";
  const json events = json::parse(R"([
    {"time": "2026-11-30T09:58:30.000Z", "state": "pending", "reason": "not now: busy"}])");
  const std::string text = FormatJobDetail(job, events, kNow);
  EXPECT_NE(text.find("\nstate:        pending\n"
                      "reason:       not now: fits in total but fragmented (no GPU has 500 milli "
                      "free)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("command:      jupyter lab --ip 0.0.0.0 'it'\\''s'\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("env:          A=1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("time_limit_s: 1h30m (5400 s)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("submitted_at: 2026-11-30T09:58:30Z (6m ago)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("started_at:   -\n"), std::string::npos) << text;
  EXPECT_NE(text.find("future_member: kept\n"), std::string::npos) << text;
  EXPECT_NE(text.find("placement:    -\n"), std::string::npos) << text;
  EXPECT_NE(text.find("events:\n  2026-11-30T09:58:30.000Z  pending  not now: busy\n"),
            std::string::npos)
      << text;
}

TEST(ClientFormatTest, PendingJobListsEachReasonAndItsPlaceInTheQueue) {
  json job = kJobs[1];
  job["reason"] =
      "not now: queue 'interactive' is at its limit (4 of 4 GPUs in use); fits in "
      "total but fragmented: 2 GPUs free in the pool, at most 1 free on one node "
      "(needs 2)";
  job["pending"] = json::parse(R"json({
    "reasons": [
      {"code": "over_limit", "message": "queue 'interactive' is at its limit (4 of 4 GPUs in use)",
       "queue": "interactive", "used_gpus": 4.0, "limit_gpus": 4.0, "job_gpus": 2.0},
      {"code": "fragmentation", "resource": "gpus", "needed": 2, "free": 2, "most_on_one": 1,
       "message": "fits in total but fragmented: 2 GPUs free in the pool, at most 1 free on one node (needs 2)"}],
    "position": {"queue": "interactive", "in_queue": 3, "of": 7}})json");
  const std::string text = FormatJobDetail(job, json::array(), kNow);
  EXPECT_NE(text.find("\npending:      position 3 of 7 in queue interactive\n"
                      "  over_limit: queue 'interactive' is at its limit (4 of 4 GPUs in use)\n"
                      "  fragmentation: fits in total but fragmented: 2 GPUs free in the pool, at "
                      "most 1 free on one node (needs 2)\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("{\"reasons\""), std::string::npos) << text;  // not again as a flat member
  // Without queues, and before any cycle ranked it.
  job["pending"]["position"]["queue"] = "";
  EXPECT_NE(FormatJobDetail(job, json::array(), kNow).find("position 3 of 7 in the pool\n"),
            std::string::npos);
  job["pending"] = {{"reasons", json::array()}, {"position", nullptr}};
  EXPECT_NE(FormatJobDetail(job, json::array(), kNow).find("\npending:      not ranked yet\n"),
            std::string::npos);
}

TEST(ClientFormatTest, RunningJobShowsPlacementPerReplicaWithGpuUuids) {
  json job = kJobs[2];
  job["placement"] = json::parse(R"([
    {"replica": 0, "node": "h100-a", "cpu_milli": 8000, "memory_mib": 65536,
     "gpus": [{"index": 0, "uuid": "GPU-aaaa", "milli": 1000, "memory_mib": 0},
              {"index": 1, "uuid": "GPU-bbbb", "milli": 500, "memory_mib": 20480}]},
    {"replica": 1, "node": "h100-b", "cpu_milli": 8000, "memory_mib": 65536, "gpus": []}])");
  const std::string text = FormatJobDetail(job, json::array(), kNow);
  EXPECT_NE(text.find("placement:\n"
                      "  replica 0 on h100-a: cpu 8, memory 65536 MiB\n"
                      "    GPU 0  GPU-aaaa  1 GPU\n"
                      "    GPU 1  GPU-bbbb  0.5 GPU, 20480 MiB\n"
                      "  replica 1 on h100-b: cpu 8, memory 65536 MiB\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("reason:"), std::string::npos) << text;  // running, empty reason
  EXPECT_NE(text.find("events:\n  -\n"), std::string::npos) << text;
}

const json kNodes = json::parse(R"([
  {"name": "h100-a", "simulated": false, "condition": "ready", "gpu_model": "H100-SXM",
   "cpu_milli": 64000, "cpu_used_milli": 12500, "memory_mib": 524288, "memory_used_mib": 102400,
   "jobs": [12, 9],
   "gpus": [{"index": 0, "milli_used": 1000, "healthy": true},
            {"index": 1, "milli_used": 500, "healthy": true},
            {"index": 2, "milli_used": 0, "healthy": true},
            {"index": 3, "milli_used": 0, "healthy": false}]},
  {"name": "sim-0", "simulated": true, "condition": "cordoned", "gpu_model": "A100",
   "cpu_milli": 32000, "cpu_used_milli": 0, "memory_mib": 262144, "memory_used_mib": 0,
   "jobs": [], "gpus": [{"index": 0, "milli_used": 0}, {"index": 1, "milli_used": 0}]}
])");

TEST(ClientFormatTest, NodesTable) {
  // h100-a: 2 of 4 GPUs in use, 1000 + 500 milli; 12.5 of 64 cores; 102400 MiB = 100 GiB of 512.
  const std::string expected =
      "NAME    CONDITION  MODEL     GPUS  MILLI      CPU      MEM       JOBS\n"
      "h100-a  ready      H100-SXM  2/4   1500/4000  12.5/64  100/512G  2\n"
      "sim-0*  cordoned   A100      0/2   0/2000     0/32     0/256G    0\n"
      "* simulated node (no processes run there)\n";
  EXPECT_EQ(FormatNodesTable(kNodes), expected);
}

TEST(ClientFormatTest, TopFrame) {
  const json pool =
      json::parse(R"({"simulated": true, "milli": {"capacity": 6000, "allocated": 1500,
                                    "free": 4500}, "fragmented_milli": 499.6,
                                    "fragmentation_pct": 11.1,
                                    "jobs": {"pending": 3, "running": 2},
                                    "by_model": [{"model": "H100-SXM", "gpus": 4, "free_gpus": 1,
                                                  "allocated_milli": 1500, "capacity_milli": 4000}],
                                    "gpu_list": [{"node": "h100-a"}]})");
  const std::string text = FormatTopFrame(pool, kNodes, "gpupool top");
  // 1500 of 6 x 1000 milli = 25 %; idle (healthy, unused): GPU 2 of h100-a and both of sim-0 = 3;
  // shared: GPU 1 of h100-a; GPU 3 of h100-a is unhealthy ('x').
  EXPECT_NE(text.find("GPUs   1.5/6 allocated (25 %), 3 idle, 1 shared, 2 node(s)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("CPU    12.5/96 cores   MEM 100/768 GiB\n"), std::string::npos) << text;
  // 499.6 milli rounds to 500 = 0.5 GPU; 4500 free = 4.5.
  EXPECT_NE(text.find("FRAG   0.5 of 4.5 free GPUs unusable by the learned workload (11.1 %)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("JOBS   2 running, 3 pending\n"), std::string::npos) << text;
  EXPECT_NE(text.find("MODEL     GPUS  FREE  ALLOCATED\nH100-SXM  4     1     1.5\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("gpu_list"), std::string::npos) << text;
  EXPECT_NE(text.find("h100-a  ready     [#+.x]  1.5/4 GPU  cpu 12.5/64  mem 100/512G  jobs 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sim-0*  cordoned  [..]    0/2 GPU"), std::string::npos) << text;
}

TEST(ClientFormatTest, TokensAndWhoami) {
  const json tokens = json::parse(R"([
    {"id": 1, "user": "admin", "queues": [], "admin": true, "created_at": "2026-11-30T09:00:00Z",
     "revoked": false},
    {"id": 3, "user": "alice", "queues": ["default", "gpu"], "admin": false,
     "created_at": "2026-11-30T09:30:00Z", "revoked": true}])");
  EXPECT_EQ(FormatTokensTable(tokens),
            "ID  USER   QUEUES       ADMIN  CREATED               REVOKED\n"
            "1   admin  -            true   2026-11-30T09:00:00Z  false\n"
            "3   alice  default,gpu  false  2026-11-30T09:30:00Z  true\n");
  EXPECT_EQ(FormatWhoami(json::parse(R"({"user": "alice", "admin": false, "queues": ["a"]})")),
            "alice\nqueues: a\n");
  EXPECT_EQ(FormatWhoami(json::parse(R"({"user": "root", "admin": true, "queues": []})")),
            "root (admin)\nqueues: -\n");
}

TEST(ClientFormatTest, QueuesAndAChange) {
  const json answer = json::parse(R"({
    "queues": [
      {"name": "org", "parent": null, "guaranteed": 16.0, "limit": null, "weight": 1.0,
       "used": 6.5, "borrowed": 0.0, "pending": 0, "running": 2},
      {"name": "vision", "parent": "org", "guaranteed": 0.0, "limit": 4.0, "weight": 2.5,
       "used": 6.5, "borrowed": 6.5, "pending": 3, "running": 2}],
    "order": "las", "order_source": "configuration",
    "applied_at": "2026-12-07T03:40:00.000Z", "applied_by": "admin", "source": "api",
    "changes": ["'vision': limit 8 -> 4"],
    "warnings": ["queue 'vision' uses 6.5 GPUs, above its limit of 4: ..."]})");
  const std::string table =
      "NAME    PARENT  GUARANTEED  LIMIT  WEIGHT  USED  BORROWED  PENDING  RUNNING\n"
      "org     -       16          -      1       6.5   0         0        2\n"
      "vision  org     0           4      2.5     6.5   6.5       3        2\n"
      "order las (configuration)\n"
      "applied 2026-12-07T03:40:00.000Z by admin (api)\n";
  EXPECT_EQ(FormatQueues(answer), table);
  EXPECT_EQ(FormatQueuesChange(answer),
            "changed: 'vision': limit 8 -> 4\n"
            "warning: queue 'vision' uses 6.5 GPUs, above its limit of 4: ...\n" +
                table);
  EXPECT_EQ(FormatQueuesChange(json::parse(
                R"({"queues": [], "applied_at": null, "applied_by": null, "source": null,
                    "changes": [], "warnings": []})")),
            "no change\nno queues: jobs of any queue are accepted, no limits or guarantees\n");
}

// Per GPU model shares: a second table, one row per queue and model.
TEST(ClientFormatTest, QueuesWithPerModelShares) {
  const json answer = json::parse(R"({
    "queues": [
      {"name": "a", "parent": null, "guaranteed": 8.0, "limit": null, "weight": 1.0,
       "used": 6.0, "borrowed": 0.0, "pending": 0, "running": 2,
       "models": {"A100": {"guaranteed": 0.0, "limit": null, "used": 2.0, "borrowed": 0.0},
                  "H100": {"guaranteed": 4.0, "limit": 6.0, "used": 4.0, "borrowed": 0.0}}},
      {"name": "b", "parent": null, "guaranteed": 0.0, "limit": null, "weight": 1.0,
       "used": 0.0, "borrowed": 0.0, "pending": 0, "running": 0, "models": {}}],
    "applied_at": null, "applied_by": null, "source": null})");
  EXPECT_EQ(FormatQueues(answer),
            "NAME  PARENT  GUARANTEED  LIMIT  WEIGHT  USED  BORROWED  PENDING  RUNNING\n"
            "a     -       8           -      1       6     0         0        2\n"
            "b     -       0           -      1       0     0         0        0\n"
            "QUEUE  MODEL  GUARANTEED  LIMIT  USED  BORROWED\n"
            "a      A100   0           -      2     0\n"
            "a      H100   4           6      4     0\n");
}

}  // namespace
}  // namespace gpupool::app

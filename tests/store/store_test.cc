#include "store/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "store/job_sort.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "store/temp_dir.h"

namespace gpupool::store {
namespace {

using testing::TempDir;

std::unique_ptr<Store> OpenOrDie(const std::filesystem::path& file, StoreOptions options = {}) {
  auto store = Store::Open(file, options);
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  return store ? std::move(*store) : nullptr;
}

JobRow Job(std::string user, std::string state, std::string queue, std::string name = "j") {
  JobRow row;
  row.user = std::move(user);
  row.state = std::move(state);
  row.queue = std::move(queue);
  row.name = std::move(name);
  row.spec_json = R"({"command":["true"]})";
  return row;
}

EventRow Event(std::int64_t time_ms, std::string state, std::string reason = "") {
  return EventRow{0, time_ms, std::move(state), std::move(reason)};
}

JobQuery Query(std::optional<std::string> user, std::optional<std::string> state,
               std::optional<std::string> queue, std::int64_t before_id, int limit) {
  JobQuery q;
  q.user = std::move(user);
  q.state = std::move(state);
  q.queue = std::move(queue);
  q.before_id = before_id;
  q.limit = limit;
  return q;
}

std::vector<std::int64_t> Ids(const std::vector<JobRow>& jobs) {
  std::vector<std::int64_t> ids;
  for (const JobRow& j : jobs) ids.push_back(j.id);
  return ids;
}

// ---- Round trips ----

TEST(StoreTest, JobRoundTripsEveryField) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  JobRow row;
  row.id = 999;  // ignored by InsertJob
  row.user = "alice";
  row.queue = "gpu";
  row.name = "train \"big\" \xc3\xa9";  // quotes and UTF-8 pass through
  row.state = "running";
  row.priority = -5;
  row.submitted_ms = 1'764'496'800'000;
  row.started_ms = 1'764'496'801'234;
  row.finished_ms = 1'764'496'899'999;
  row.reason = "not now: fragmented";
  row.spec_json = R"({"command":["python3","train.py"],"env":{"K":"v"}})";
  row.placement_json = R"([{"node":"h100-a","gpus":[0,1]}])";
  row.runtime_json = R"({"pids":[123,456]})";
  row.history_json = R"({"restarts":2})";
  row.exit_code = -9;
  auto id = store->InsertJob(row, Event(1'764'496'800'000, "pending", "submitted"));
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(*id, 1);

  JobRow expected = row;
  expected.id = 1;
  auto got = store->GetJob(1);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, expected);

  auto events = store->ListEvents(1);
  ASSERT_TRUE(events.has_value());
  EXPECT_EQ(*events, (std::vector<EventRow>{{1, 1'764'496'800'000, "pending", "submitted"}}));
}

TEST(StoreTest, NullExitCodeAndEmptyTextsRoundTrip) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  JobRow row;  // every text empty, exit_code unset
  auto id = store->InsertJob(row, EventRow{});
  ASSERT_TRUE(id.has_value());
  auto got = store->GetJob(*id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  row.id = *id;
  EXPECT_EQ(**got, row);
  EXPECT_FALSE((*got)->exit_code.has_value());
}

TEST(StoreTest, GetJobOfUnknownIdIsEmpty) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto got = store->GetJob(42);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->has_value());
}

TEST(StoreTest, UpdateReplacesMutableColumnsOnlyAndAppendsEvents) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  JobRow row = Job("alice", "pending", "default", "n1");
  row.priority = 3;
  row.submitted_ms = 100;
  auto id = store->InsertJob(row, Event(100, "pending"));
  ASSERT_TRUE(id.has_value());

  JobRow update;
  update.id = *id;
  update.user = "mallory";  // immutable columns: must not change
  update.queue = "other";
  update.name = "renamed";
  update.priority = 99;
  update.submitted_ms = 1;
  update.spec_json = "{}";
  update.state = "succeeded";
  update.reason = "exit 0";
  update.started_ms = 200;
  update.finished_ms = 300;
  update.placement_json = R"([{"node":"a"}])";
  update.runtime_json = R"({"pid":7})";
  update.history_json = R"({"restarts":1})";
  update.exit_code = 0;
  // Events out of time order on purpose; ListEvents sorts by time.
  Status st = store->UpdateJob(
      update, {EventRow{*id, 300, "succeeded", "exit 0"}, Event(200, "running", "placed")});
  ASSERT_TRUE(st.ok()) << st.ToString();

  JobRow expected = row;
  expected.id = *id;
  expected.state = "succeeded";
  expected.reason = "exit 0";
  expected.started_ms = 200;
  expected.finished_ms = 300;
  expected.placement_json = R"([{"node":"a"}])";
  expected.runtime_json = R"({"pid":7})";
  expected.history_json = R"({"restarts":1})";
  expected.exit_code = 0;
  auto got = store->GetJob(*id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, expected);

  auto events = store->ListEvents(*id);
  ASSERT_TRUE(events.has_value());
  EXPECT_EQ(*events, (std::vector<EventRow>{{*id, 100, "pending", ""},
                                            {*id, 200, "running", "placed"},
                                            {*id, 300, "succeeded", "exit 0"}}));
}

TEST(StoreTest, EventsWithEqualTimesKeepWriteOrder) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto id = store->InsertJob(Job("a", "pending", "q"), Event(5, "pending", "first"));
  ASSERT_TRUE(id.has_value());
  JobRow row = Job("a", "running", "q");
  row.id = *id;
  ASSERT_TRUE(store->UpdateJob(row, {Event(5, "running", "second")}).ok());
  ASSERT_TRUE(store->UpdateJob(row, {Event(5, "running", "third")}).ok());
  auto events = store->ListEvents(*id);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].reason, "first");
  EXPECT_EQ((*events)[1].reason, "second");
  EXPECT_EQ((*events)[2].reason, "third");
}

TEST(StoreTest, UpdateOfUnknownJobIsNotFound) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  JobRow row = Job("a", "running", "q");
  row.id = 7;
  Status st = store->UpdateJob(row, {Event(1, "running")});
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("job 7"), std::string::npos) << st.message();
  auto events = store->ListEvents(7);
  ASSERT_TRUE(events.has_value());
  EXPECT_TRUE(events->empty());
}

TEST(StoreTest, UpdateWithEventOfAnotherJobIsRefused) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto id = store->InsertJob(Job("a", "pending", "q"), Event(1, "pending"));
  ASSERT_TRUE(id.has_value());
  JobRow row = Job("a", "running", "q");
  row.id = *id;
  Status st = store->UpdateJob(row, {EventRow{*id + 1, 2, "running", ""}});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  auto got = store->GetJob(*id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->state, "pending");
}

TEST(StoreTest, TokensRoundTripAndRevoke) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  TokenRow admin{0, "admin", "aa11", {}, true, 1000, false};
  TokenRow alice{0, "alice", "bb22", {"gpu", "default", "batch"}, false, 2000, false};
  auto a = store->InsertToken(admin);
  auto b = store->InsertToken(alice);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(*a, 1);
  EXPECT_EQ(*b, 2);
  ASSERT_TRUE(store->RevokeToken(2).ok());
  ASSERT_TRUE(store->RevokeToken(2).ok());  // twice is fine
  EXPECT_EQ(store->RevokeToken(3).code(), StatusCode::kNotFound);

  auto tokens = store->LoadTokens();
  ASSERT_TRUE(tokens.has_value()) << tokens.error().ToString();
  admin.id = 1;
  alice.id = 2;
  alice.revoked = true;
  EXPECT_EQ(*tokens, (std::vector<TokenRow>{admin, alice}));
}

TEST(StoreTest, DuplicateTokenHashIsRefused) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertToken(TokenRow{0, "a", "same", {"q"}, false, 1, false}).has_value());
  auto dup = store->InsertToken(TokenRow{0, "b", "same", {"r"}, false, 2, false});
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), StatusCode::kFailedPrecondition);
  auto tokens = store->LoadTokens();
  ASSERT_TRUE(tokens.has_value());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ(tokens->front().queues, std::vector<std::string>{"q"});
}

TEST(StoreTest, NodeConditionsReadyDeletes) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->SetNodeCondition("a", "cordoned").ok());
  ASSERT_TRUE(store->SetNodeCondition("b", "draining").ok());
  ASSERT_TRUE(store->SetNodeCondition("a", "unhealthy").ok());  // replaces
  ASSERT_TRUE(store->SetNodeCondition("b", "ready").ok());      // deletes
  ASSERT_TRUE(store->SetNodeCondition("c", "ready").ok());      // nothing to delete: fine
  EXPECT_EQ(store->SetNodeCondition("", "cordoned").code(), StatusCode::kInvalidArgument);
  auto conditions = store->LoadNodeConditions();
  ASSERT_TRUE(conditions.has_value());
  EXPECT_EQ(*conditions, (std::map<std::string, std::string>{{"a", "unhealthy"}}));
}

TEST(StoreTest, MetaSetGetAndReservedKey) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->SetMeta("cluster_id", "c1").ok());
  ASSERT_TRUE(store->SetMeta("cluster_id", "c2").ok());
  auto v = store->GetMeta("cluster_id");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, std::optional<std::string>("c2"));
  auto missing = store->GetMeta("nope");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(store->SetMeta("schema_version", "99").code(), StatusCode::kInvalidArgument);
  auto version = store->GetMeta("schema_version");
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, std::optional<std::string>(std::to_string(kSchemaVersion)));
}

// The latest configuration is the one in force; the earlier ones stay (their ids keep growing),
// and a write that fails with it stores neither.
TEST(StoreTest, QueueConfigsKeepTheirOrderAndTheLatestWins) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto none = store->LatestQueueConfig();
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  QueueConfigRow first{0, 10, "", "file q.yaml", "queues:\n  - name: a\n"};
  QueueConfigRow second{0, 20, "admin", "api", "queues: []\n"};
  auto id1 = store->InsertQueueConfig(first);
  auto id2 = store->InsertQueueConfig(second);
  ASSERT_TRUE(id1.has_value() && id2.has_value());
  EXPECT_LT(*id1, *id2);
  second.id = *id2;
  auto latest = store->LatestQueueConfig();
  ASSERT_TRUE(latest.has_value() && latest->has_value());
  EXPECT_EQ(**latest, second);
  // With an op that fails in the same Write, the configuration is not stored.
  std::vector<WriteOp> ops;
  ops.emplace_back(InsertQueueConfigOp{{0, 30, "admin", "api", "queues: [x]"}});
  ops.emplace_back(RevokeTokenOp{999});
  EXPECT_EQ(store->Write(std::move(ops)).error().code(), StatusCode::kNotFound);
  latest = store->LatestQueueConfig();
  ASSERT_TRUE(latest.has_value() && latest->has_value());
  EXPECT_EQ(**latest, second);
}

// The finished runs come back in seq order from any point, and a run is stored with its job's
// last update or not at all.
TEST(StoreTest, FinishedRunsComeBackInFinishOrderAndCommitWithTheJob) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto none = store->LastFinishedRunSeq();
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, 0);
  const FinishedRunRow a{1, 7, 1000, "ann", "q", 2, 2000, 60000};
  const FinishedRunRow b{2, 5, 1000, "", "default", 1, 500, 1500};
  const FinishedRunRow c{3, 9, 2000, "bob", "q", 0, 0, 10};
  // Stored out of order: read back by seq.
  ASSERT_TRUE(store->InsertFinishedRun(c).ok());
  ASSERT_TRUE(store->InsertFinishedRun(a).ok());
  ASSERT_TRUE(store->InsertFinishedRun(b).ok());
  EXPECT_EQ(store->InsertFinishedRun(b).code(), StatusCode::kFailedPrecondition);
  auto last = store->LastFinishedRunSeq();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 3);
  std::vector<FinishedRunRow> all;
  ASSERT_TRUE(
      store->ForEachFinishedRun(0, [&](const FinishedRunRow& r) { all.push_back(r); }).ok());
  EXPECT_EQ(all, (std::vector<FinishedRunRow>{a, b, c}));
  std::vector<FinishedRunRow> after_one;
  ASSERT_TRUE(
      store->ForEachFinishedRun(1, [&](const FinishedRunRow& r) { after_one.push_back(r); }).ok());
  EXPECT_EQ(after_one, (std::vector<FinishedRunRow>{b, c}));
  // With an op that fails in the same Write, the run is not stored.
  std::vector<WriteOp> ops;
  ops.emplace_back(InsertFinishedRunOp{{4, 11, 3000, "ann", "q", 1, 1000, 5}});
  ops.emplace_back(RevokeTokenOp{999});
  EXPECT_EQ(store->Write(std::move(ops)).error().code(), StatusCode::kNotFound);
  last = store->LastFinishedRunSeq();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 3);
}

// ---- Ids ----

// A pool sample at `t_ms` (scope "" unless given) with `allocated` milli-GPU and in use `in_use`.
PoolSampleRow Sample(std::int64_t t_ms, double allocated, std::optional<double> in_use,
                     std::string scope = "") {
  PoolSampleRow r;
  r.time_ms = t_ms;
  r.scope = std::move(scope);
  r.gpus = 8;
  r.capacity_milli = 8000;
  r.allocated_milli = allocated;
  r.in_use_milli = in_use;
  r.reporting_gpus = in_use ? 8 : 0;
  r.jobs_running = allocated / 1000;
  return r;
}

std::vector<double> Allocated(const std::vector<PoolSampleRow>& rows) {
  std::vector<double> out;
  for (const auto& r : rows) out.push_back(r.allocated_milli);
  return out;
}

// Downsampling worked out by hand. Tier 1 is 1 min, tier 2 5 min (rows.h: kHistoryTiers).
TEST(StoreTest, PoolSamplesRollUpIntoCoarserTiersByTheMeanOfTheRawSamples) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("h.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(kHistoryTiers[1].resolution_ms, 60000);
  ASSERT_EQ(kHistoryTiers[2].resolution_ms, 300000);
  // Minute 0: allocated 1000, 2000, 6000; in use unknown, 500, 1500. An L40S scope beside.
  ASSERT_TRUE(
      store->InsertPoolSamples({Sample(0, 1000, std::nullopt), Sample(0, 10, 5, "L40S")}, 0).ok());
  ASSERT_TRUE(store->InsertPoolSamples({Sample(20000, 2000, 500)}, 20000).ok());
  ASSERT_TRUE(store->InsertPoolSamples({Sample(40000, 6000, 1500)}, 40000).ok());
  // Nothing rolled up while minute 0 is open.
  EXPECT_TRUE(store->LoadPoolSamples(1, "", 0)->empty());
  // The sample of 60 s closes minute 0: its row is the mean of its 3 samples.
  ASSERT_TRUE(store->InsertPoolSamples({Sample(60000, 4000, 1000)}, 60000).ok());
  auto minute = store->LoadPoolSamples(1, "", 0);
  ASSERT_TRUE(minute.has_value()) << minute.error().ToString();
  ASSERT_EQ(minute->size(), 1U);
  const PoolSampleRow& m0 = (*minute)[0];
  EXPECT_EQ(m0.tier, 1);
  EXPECT_EQ(m0.time_ms, 0);
  EXPECT_EQ(m0.samples, 3);
  EXPECT_DOUBLE_EQ(m0.allocated_milli, 3000);  // (1000 + 2000 + 6000) / 3
  ASSERT_TRUE(m0.in_use_milli.has_value());
  EXPECT_DOUBLE_EQ(*m0.in_use_milli, 1000);       // (500 + 1500) / 2: the unknown one is left out
  EXPECT_DOUBLE_EQ(m0.reporting_gpus, 16.0 / 3);  // (0 + 8 + 8) / 3
  EXPECT_FALSE(m0.jobs_pending.has_value());      // unknown in every sample: unknown
  EXPECT_DOUBLE_EQ(m0.capacity_milli, 8000);
  // The L40S scope rolls up on its own (one sample, no later one needed: the bucket passed).
  auto l40s = store->LoadPoolSamples(1, "L40S", 0);
  ASSERT_EQ(l40s->size(), 1U);
  EXPECT_DOUBLE_EQ((*l40s)[0].allocated_milli, 10);
  EXPECT_EQ((*l40s)[0].samples, 1);
  // At 300 s the 5-minute bucket [0, 300 s) closes. Its tier-1 rows: minute 0 (3 samples, mean
  // 3000) and minute 1 (the one sample of 60 s, 4000); weighted by samples it is the mean of the 4
  // raw samples, (1000 + 2000 + 6000 + 4000) / 4 = 3250 (the mean of the two means would be 3500).
  ASSERT_TRUE(store->InsertPoolSamples({Sample(300000, 0, 0)}, 300000).ok());
  EXPECT_EQ(Allocated(*store->LoadPoolSamples(1, "", 0)), (std::vector<double>{3000, 4000}));
  auto five = store->LoadPoolSamples(2, "", 0);
  ASSERT_EQ(five->size(), 1U);
  EXPECT_EQ((*five)[0].time_ms, 0);
  EXPECT_EQ((*five)[0].samples, 4);
  EXPECT_DOUBLE_EQ((*five)[0].allocated_milli, 3250);
  EXPECT_DOUBLE_EQ(*(*five)[0].in_use_milli, 1000);  // (500 + 1500 + 1000) / 3 known
  // Tier 0 keeps 61 minutes: at 61 min 40 s the samples before 40 s are gone, the rest stay, and
  // the coarser tiers keep what was rolled up (plus the minute of the 300 s sample).
  const std::int64_t later = 61 * 60000 + 40000;
  ASSERT_TRUE(store->InsertPoolSamples({Sample(later, 8000, 8000)}, later).ok());
  EXPECT_EQ(Allocated(*store->LoadPoolSamples(0, "", 0)),
            (std::vector<double>{6000, 4000, 0, 8000}));
  EXPECT_EQ(Allocated(*store->LoadPoolSamples(1, "", 0)), (std::vector<double>{3000, 4000, 0}));
  EXPECT_EQ(Allocated(*store->LoadPoolSamples(0, "", 60000)), (std::vector<double>{4000, 0, 8000}));
  // A sample of the same time and scope again is refused; a bad tier is named.
  EXPECT_EQ(store->InsertPoolSamples({Sample(later, 1, 1)}, later).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->LoadPoolSamples(5, "", 0).error().code(), StatusCode::kInvalidArgument);
  // Durable: a store opened again reads the same rows.
  store.reset();
  store = OpenOrDie(dir.File("h.db"));
  EXPECT_EQ(Allocated(*store->LoadPoolSamples(1, "", 0)), (std::vector<double>{3000, 4000, 0}));
}

// Every tier stays bounded however long the service samples: 31 days at one sample every 10 minutes
// (the bound holds at any rate: one row per bucket).
TEST(StoreTest, PoolHistoryStaysBoundedOverAMonth) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("b.db"), StoreOptions{.synchronous_full = false});
  ASSERT_NE(store, nullptr);
  const std::int64_t step = 10 * 60000;
  const std::int64_t end = 31LL * 24 * 60 * 60000;
  for (std::int64_t t = 0; t <= end; t += step) {
    ASSERT_TRUE(store->InsertPoolSamples({Sample(t, 1000, std::nullopt)}, t).ok());
  }
  for (int tier = 0; tier < kHistoryTierCount; ++tier) {
    const auto rows = store->LoadPoolSamples(tier, "", 0);
    ASSERT_TRUE(rows.has_value());
    const HistoryTier& h = kHistoryTiers[tier];
    // At most one row per resolution (per sample at tier 0) over the tier's keep, plus one.
    const std::int64_t res = std::max(step, h.resolution_ms);
    EXPECT_LE(static_cast<std::int64_t>(rows->size()), h.keep_ms / res + 1) << "tier " << tier;
    EXPECT_GE(rows->front().time_ms, end - h.keep_ms) << "tier " << tier;
  }
  // The 30-day tier covers 30 days: 360 buckets of 2 h.
  EXPECT_GE(store->LoadPoolSamples(4, "", end - 30LL * 24 * 60 * 60000)->size(), 359U);
}

TEST(StoreTest, IdsIncreaseAndAreNeverReusedAfterDeletesAndRestarts) {
  TempDir dir;
  auto file = dir.File("s.db");
  {
    auto store = OpenOrDie(file);
    ASSERT_NE(store, nullptr);
    for (std::int64_t want = 1; want <= 3; ++want) {
      auto id = store->InsertJob(Job("a", "pending", "q"), Event(1, "pending"));
      ASSERT_TRUE(id.has_value());
      EXPECT_EQ(*id, want);
    }
    ASSERT_TRUE(store->DeleteJob(3).ok());  // the newest: plain ROWID would hand 3 out again
    ASSERT_TRUE(store->DeleteJob(2).ok());
    EXPECT_EQ(store->DeleteJob(2).code(), StatusCode::kNotFound);
    auto id = store->InsertJob(Job("a", "pending", "q"), Event(1, "pending"));
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(*id, 4);
    ASSERT_TRUE(store->DeleteJob(4).ok());
    auto events = store->ListEvents(4);
    ASSERT_TRUE(events.has_value());
    EXPECT_TRUE(events->empty());  // deleted with the job
  }
  auto store = OpenOrDie(file);
  ASSERT_NE(store, nullptr);
  auto id = store->InsertJob(Job("a", "pending", "q"), Event(1, "pending"));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, 5);
  auto t1 = store->InsertToken(TokenRow{0, "u", "h1", {}, false, 0, false});
  ASSERT_TRUE(t1.has_value());
  EXPECT_EQ(*t1, 1);
}

// ---- Group commit and batches ----

TEST(StoreTest, GroupCommitGivesEveryConcurrentCallerItsOwnId) {
  TempDir dir;
  auto file = dir.File("s.db");
  constexpr int kThreads = 64;
  constexpr int kPerThread = 50;
  std::vector<std::vector<std::int64_t>> ids(kThreads);
  std::atomic<int> failures{0};
  {
    auto store = OpenOrDie(file);
    ASSERT_NE(store, nullptr);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string name = std::to_string(t) + "/" + std::to_string(i);
          auto id = store->InsertJob(Job("u" + std::to_string(t), "pending", "q", name),
                                     Event(i, "pending"));
          if (!id) {
            ++failures;
            continue;
          }
          ids[t].push_back(*id);
          // A read beside the writer sees the acknowledged row.
          auto got = store->GetJob(*id);
          if (!got || !got->has_value() || (*got)->name != name) ++failures;
        }
      });
    }
    for (std::thread& th : threads) th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  std::set<std::int64_t> distinct;
  for (int t = 0; t < kThreads; ++t) {
    // One caller's ids increase: each of its inserts committed after the previous one.
    EXPECT_TRUE(std::is_sorted(ids[t].begin(), ids[t].end()));
    distinct.insert(ids[t].begin(), ids[t].end());
  }
  ASSERT_EQ(distinct.size(), 3200u);
  EXPECT_EQ(*distinct.begin(), 1);
  EXPECT_EQ(*distinct.rbegin(), 3200);

  auto store = OpenOrDie(file);
  ASSERT_NE(store, nullptr);
  auto all = store->LoadJobsInStates({"pending"});
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 3200u);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const JobRow& row = (*all)[static_cast<std::size_t>(ids[t][i] - 1)];
      EXPECT_EQ(row.name, std::to_string(t) + "/" + std::to_string(i));
    }
  }
}

TEST(StoreTest, OneBadUpdateAmongConcurrentWritesFailsAlone) {
  TempDir dir;
  // max_batch large and many callers at once, so that the bad update shares transactions with
  // good ones; the outcome asserted holds however the writer happens to batch them.
  auto store = OpenOrDie(dir.File("s.db"), StoreOptions{true, 1024, 5000});
  ASSERT_NE(store, nullptr);
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(store->InsertJob(Job("a", "pending", "q"), Event(1, "pending")).has_value());
  }
  for (int round = 0; round < 5; ++round) {
    std::vector<Status> results(kJobs + 1);
    std::vector<std::thread> threads;
    for (int i = 0; i <= kJobs; ++i) {
      threads.emplace_back([&, i] {
        JobRow row = Job("a", "running", "q");
        row.reason = "round " + std::to_string(round);
        if (i < kJobs) {
          row.id = i + 1;
          results[i] = store->UpdateJob(row, {Event(10 + round, "running", row.reason)});
          return;
        }
        // The bad caller: an update of job 1 that must be undone, then one of a job that
        // does not exist.
        JobRow first = row;
        first.id = 1;
        first.reason = "bad";
        JobRow ghost = row;
        ghost.id = 1000 + round;
        std::vector<WriteOp> ops;
        ops.emplace_back(UpdateJobOp{first, {Event(10 + round, "running", "bad")}});
        ops.emplace_back(UpdateJobOp{ghost, {Event(10 + round, "running", "bad")}});
        auto result = store->Write(std::move(ops));
        results[i] = result ? Status::Ok() : result.error();
      });
    }
    for (std::thread& th : threads) th.join();
    for (int i = 0; i < kJobs; ++i) EXPECT_TRUE(results[i].ok()) << results[i].ToString();
    EXPECT_EQ(results[kJobs].code(), StatusCode::kNotFound);
    auto got = store->GetJob(1000 + round);
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(got->has_value());
    auto events = store->ListEvents(1000 + round);
    ASSERT_TRUE(events.has_value());
    EXPECT_TRUE(events->empty());
  }
  for (int i = 1; i <= kJobs; ++i) {
    auto got = store->GetJob(i);
    ASSERT_TRUE(got.has_value() && got->has_value());
    EXPECT_EQ((*got)->reason, "round 4");
    auto events = store->ListEvents(i);
    ASSERT_TRUE(events.has_value());
    EXPECT_EQ(events->size(), 6u);  // the first one + one per round
    for (const EventRow& e : *events) EXPECT_NE(e.reason, "bad");
  }
}

TEST(StoreTest, AtomicWriteWithOneBadOpChangesNothing) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto id = store->InsertJob(Job("a", "pending", "q"), Event(1, "pending"));
  ASSERT_TRUE(id.has_value());

  JobRow start = Job("a", "running", "q");
  start.id = *id;
  JobRow ghost = Job("a", "running", "q");
  ghost.id = 77;
  std::vector<WriteOp> ops;
  ops.emplace_back(InsertJobOp{Job("b", "pending", "q"), Event(2, "pending")});
  ops.emplace_back(UpdateJobOp{start, {Event(3, "running")}});
  ops.emplace_back(SetMetaOp{"k", "v"});
  ops.emplace_back(SetNodeConditionOp{"n", "cordoned"});
  ops.emplace_back(UpdateJobOp{ghost, {}});  // fails: no job 77
  auto result = store->Write(std::move(ops));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), StatusCode::kNotFound);

  auto counts = store->CountJobsByState();
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(*counts, (std::map<std::string, std::int64_t>{{"pending", 1}}));
  auto got = store->GetJob(*id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->state, "pending");
  auto events = store->ListEvents(*id);
  ASSERT_TRUE(events.has_value());
  EXPECT_EQ(events->size(), 1u);
  auto meta = store->GetMeta("k");
  ASSERT_TRUE(meta.has_value());
  EXPECT_FALSE(meta->has_value());
  auto nodes = store->LoadNodeConditions();
  ASSERT_TRUE(nodes.has_value());
  EXPECT_TRUE(nodes->empty());
}

TEST(StoreTest, AtomicWriteCommitsAllAndReturnsIdsPerOp) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  std::vector<WriteOp> ops;
  for (int i = 0; i < 50; ++i) {
    ops.emplace_back(InsertJobOp{Job("a", "pending", "q"), Event(i, "pending")});
  }
  ops.emplace_back(SetMetaOp{"cycle", "1"});
  ops.emplace_back(InsertTokenOp{TokenRow{0, "t", "h", {}, false, 0, false}});
  auto result = store->Write(std::move(ops));
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  std::vector<std::int64_t> expected;
  for (int i = 1; i <= 50; ++i) expected.push_back(i);
  expected.push_back(0);  // SetMetaOp
  expected.push_back(1);  // the first token
  EXPECT_EQ(*result, expected);

  // The whole cycle's updates in one Write, larger than max_batch (256): goes alone, atomically.
  std::vector<WriteOp> updates;
  for (int i = 1; i <= 50; ++i) {
    for (int k = 0; k < 6; ++k) {
      JobRow row = Job("a", "running", "q");
      row.id = i;
      row.reason = std::to_string(k);
      updates.emplace_back(UpdateJobOp{row, {}});
    }
  }
  auto updated = store->Write(std::move(updates));
  ASSERT_TRUE(updated.has_value()) << updated.error().ToString();
  EXPECT_EQ(updated->size(), 300u);
  auto counts = store->CountJobsByState();
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(*counts, (std::map<std::string, std::int64_t>{{"running", 50}}));

  auto empty = store->Write({});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

// ---- Queries ----

class StoreQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenOrDie(dir_.File("q.db"));
    ASSERT_NE(store_, nullptr);
    // id user   state      queue
    //  1 alice  pending    default
    //  2 bob    running    default
    //  3 alice  running    gpu
    //  4 alice  pending    gpu
    //  5 bob    pending    default
    //  6 carol  succeeded  default
    //  7 alice  pending    default
    //  8 bob    failed     gpu
    //  9 alice  running    default
    // 10 alice  pending    gpu
    const char* rows[][3] = {{"alice", "pending", "default"}, {"bob", "running", "default"},
                             {"alice", "running", "gpu"},     {"alice", "pending", "gpu"},
                             {"bob", "pending", "default"},   {"carol", "succeeded", "default"},
                             {"alice", "pending", "default"}, {"bob", "failed", "gpu"},
                             {"alice", "running", "default"}, {"alice", "pending", "gpu"}};
    for (const auto& r : rows) {
      ASSERT_TRUE(store_->InsertJob(Job(r[0], r[1], r[2]), Event(1, r[1])).has_value());
    }
  }

  JobPage List(JobQuery q) {
    auto page = store_->ListJobs(q);
    EXPECT_TRUE(page.has_value()) << page.error().ToString();
    return page ? *page : JobPage{};
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreQueryTest, UnfilteredPagesNewestFirst) {
  JobPage p1 = List(Query({}, {}, {}, 0, 4));
  EXPECT_EQ(Ids(p1.jobs), (std::vector<std::int64_t>{10, 9, 8, 7}));
  EXPECT_EQ(p1.next_before_id, 7);
  EXPECT_EQ(p1.total, 10);
  JobPage p2 = List(Query({}, {}, {}, 7, 4));
  EXPECT_EQ(Ids(p2.jobs), (std::vector<std::int64_t>{6, 5, 4, 3}));
  EXPECT_EQ(p2.next_before_id, 3);
  JobPage p3 = List(Query({}, {}, {}, 3, 4));
  EXPECT_EQ(Ids(p3.jobs), (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(p3.next_before_id, 0);
  EXPECT_EQ(p3.total, 10);  // total counts all pages
}

TEST_F(StoreQueryTest, PageThatEndsExactlyAtTheLastJobHasNoNext) {
  // alice + pending: 1, 4, 7, 10.
  JobPage p1 = List(Query(std::string("alice"), std::string("pending"), {}, 0, 2));
  EXPECT_EQ(Ids(p1.jobs), (std::vector<std::int64_t>{10, 7}));
  EXPECT_EQ(p1.next_before_id, 7);
  EXPECT_EQ(p1.total, 4);
  JobPage p2 = List(Query(std::string("alice"), std::string("pending"), {}, 7, 2));
  EXPECT_EQ(Ids(p2.jobs), (std::vector<std::int64_t>{4, 1}));
  EXPECT_EQ(p2.next_before_id, 0);
}

TEST_F(StoreQueryTest, Filters) {
  // user alice: 1, 3, 4, 7, 9, 10.
  JobPage alice = List(Query(std::string("alice"), {}, {}, 0, 4));
  EXPECT_EQ(Ids(alice.jobs), (std::vector<std::int64_t>{10, 9, 7, 4}));
  EXPECT_EQ(alice.next_before_id, 4);
  EXPECT_EQ(alice.total, 6);
  // pending in gpu: 4, 10.
  JobPage pending_gpu = List(Query({}, std::string("pending"), std::string("gpu"), 0, 100));
  EXPECT_EQ(Ids(pending_gpu.jobs), (std::vector<std::int64_t>{10, 4}));
  EXPECT_EQ(pending_gpu.total, 2);
  // all three: alice, pending, default: 1, 7.
  JobPage three =
      List(Query(std::string("alice"), std::string("pending"), std::string("default"), 0, 100));
  EXPECT_EQ(Ids(three.jobs), (std::vector<std::int64_t>{7, 1}));
  // running: 2, 3, 9; before 5 leaves 3, 2; total still counts 9.
  JobPage running = List(Query({}, std::string("running"), {}, 5, 100));
  EXPECT_EQ(Ids(running.jobs), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(running.total, 3);
  // nobody.
  JobPage dave = List(Query(std::string("dave"), {}, {}, 0, 100));
  EXPECT_TRUE(dave.jobs.empty());
  EXPECT_EQ(dave.total, 0);
  EXPECT_EQ(dave.next_before_id, 0);
}

// Sorted pages: the order by hand from the table above, ties broken by id in the sort's direction,
// and the next page starting after the last row's (key, id), so that a tie spans two pages.
JobQuery Sorted(JobSortKey key, bool descending, int limit, std::optional<JobCursor> after = {}) {
  JobQuery q;
  q.sort = key;
  q.descending = descending;
  q.limit = limit;
  q.after = std::move(after);
  return q;
}

TEST_F(StoreQueryTest, SortedByUserPagesAcrossATieInBothDirections) {
  // user ascending, id ascending within a user: alice 1 3 4 7 9 10, bob 2 5 8, carol 6.
  JobPage p1 = List(Sorted(JobSortKey::kUser, false, 4));
  EXPECT_EQ(Ids(p1.jobs), (std::vector<std::int64_t>{1, 3, 4, 7}));
  EXPECT_EQ(p1.next_before_id, 7);
  EXPECT_EQ(p1.total, 10);
  EXPECT_EQ(CursorAfter(p1.jobs.back(), JobSortKey::kUser), (JobCursor{7, "alice", 0}));
  // A job of alice's added between the pages sorts after (alice, 10) and before bob: the second
  // page shows it in its place, and nothing of the first page comes again.
  ASSERT_TRUE(store_->InsertJob(Job("alice", "pending", "gpu"), Event(2, "pending")).has_value());
  JobPage p2 = List(Sorted(JobSortKey::kUser, false, 4, JobCursor{7, "alice", 0}));
  EXPECT_EQ(Ids(p2.jobs), (std::vector<std::int64_t>{9, 10, 11, 2}));
  JobPage p3 = List(Sorted(JobSortKey::kUser, false, 4, JobCursor{2, "bob", 0}));
  EXPECT_EQ(Ids(p3.jobs), (std::vector<std::int64_t>{5, 8, 6}));
  EXPECT_EQ(p3.next_before_id, 0);
  // user descending, id descending within a user: carol 6, bob 8 5 2, alice 11 10 9 7 4 3 1.
  JobPage d1 = List(Sorted(JobSortKey::kUser, true, 3));
  EXPECT_EQ(Ids(d1.jobs), (std::vector<std::int64_t>{6, 8, 5}));
  JobPage d2 = List(Sorted(JobSortKey::kUser, true, 3, JobCursor{5, "bob", 0}));
  EXPECT_EQ(Ids(d2.jobs), (std::vector<std::int64_t>{2, 11, 10}));
  JobPage d3 = List(Sorted(JobSortKey::kUser, true, 5, JobCursor{10, "alice", 0}));
  EXPECT_EQ(Ids(d3.jobs), (std::vector<std::int64_t>{9, 7, 4, 3, 1}));
  EXPECT_EQ(d3.next_before_id, 0);
}

TEST_F(StoreQueryTest, SortedWithFiltersAndByNumbers) {
  // alice's jobs by state ascending: pending 1 4 7 10, running 3 9.
  JobQuery q = Sorted(JobSortKey::kState, false, 3);
  q.user = "alice";
  JobPage a1 = List(q);
  EXPECT_EQ(Ids(a1.jobs), (std::vector<std::int64_t>{1, 4, 7}));
  EXPECT_EQ(a1.total, 6);
  q.after = CursorAfter(a1.jobs.back(), JobSortKey::kState);
  EXPECT_EQ(Ids(List(q).jobs), (std::vector<std::int64_t>{10, 3, 9}));
  // Priorities (a job's priority is set at its insert): 1 -> 0, 2 -> 5, 3 -> 5, 4 -> 7, 5 -> -1.
  // Descending, ties by id descending: 4 (7), 3 (5), 2 (5), 1 (0), 5 (-1); pages of 2 split the
  // tie of 5.
  auto other = OpenOrDie(dir_.File("p.db"));
  ASSERT_NE(other, nullptr);
  for (const int priority : {0, 5, 5, 7, -1}) {
    JobRow r = Job("dave", "pending", "q");
    r.priority = priority;
    ASSERT_TRUE(other->InsertJob(r, Event(1, "pending")).has_value());
  }
  auto p1 = other->ListJobs(Sorted(JobSortKey::kPriority, true, 2));
  ASSERT_TRUE(p1.has_value());
  EXPECT_EQ(Ids(p1->jobs), (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(CursorAfter(p1->jobs.back(), JobSortKey::kPriority), (JobCursor{3, "", 5}));
  auto p2 = other->ListJobs(Sorted(JobSortKey::kPriority, true, 2, JobCursor{3, "", 5}));
  ASSERT_TRUE(p2.has_value());
  EXPECT_EQ(Ids(p2->jobs), (std::vector<std::int64_t>{2, 1}));
  auto p3 = other->ListJobs(Sorted(JobSortKey::kPriority, true, 2, JobCursor{1, "", 0}));
  ASSERT_TRUE(p3.has_value());
  EXPECT_EQ(Ids(p3->jobs), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(p3->next_before_id, 0);
  // id ascending from after 8: 9, 10.
  EXPECT_EQ(Ids(List(Sorted(JobSortKey::kId, false, 10, JobCursor{8, "", 0})).jobs),
            (std::vector<std::int64_t>{9, 10}));
  // before_id belongs to the newest-first order only.
  JobQuery mixed = Sorted(JobSortKey::kName, true, 10);
  mixed.before_id = 5;
  EXPECT_EQ(store_->ListJobs(mixed).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreQueryTest, BadPageArgumentsAreRefused) {
  EXPECT_EQ(store_->ListJobs(Query({}, {}, {}, 0, 0)).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListJobs(Query({}, {}, {}, 0, kMaxPageLimit + 1)).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListJobs(Query({}, {}, {}, -1, 100)).error().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(StoreQueryTest, LoadJobsInStatesAndCounts) {
  auto active = store_->LoadJobsInStates({"running", "pending"});
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(Ids(*active), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 7, 9, 10}));
  auto none = store_->LoadJobsInStates({});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  auto counts = store_->CountJobsByState();
  ASSERT_TRUE(counts.has_value());
  // pending 1,4,5,7,10; running 2,3,9; succeeded 6; failed 8.
  EXPECT_EQ(*counts, (std::map<std::string, std::int64_t>{
                         {"failed", 1}, {"pending", 5}, {"running", 3}, {"succeeded", 1}}));
}

// ---- Reopening and opening errors ----

TEST(StoreTest, ReopenKeepsEverything) {
  TempDir dir;
  auto file = dir.File("s.db");
  JobRow job = Job("alice", "running", "gpu", "keep");
  job.placement_json = "[1]";
  job.exit_code = 3;
  TokenRow token{0, "alice", "cafe", {"gpu"}, false, 5, false};
  {
    auto store = OpenOrDie(file);
    ASSERT_NE(store, nullptr);
    auto id = store->InsertJob(job, Event(1, "pending"));
    ASSERT_TRUE(id.has_value());
    job.id = *id;
    auto tid = store->InsertToken(token);
    ASSERT_TRUE(tid.has_value());
    token.id = *tid;
    ASSERT_TRUE(store->SetNodeCondition("node-1", "draining").ok());
    ASSERT_TRUE(store->SetMeta("k", "v").ok());
    ASSERT_TRUE(store->InsertQueueConfig({0, 7, "admin", "api", "queues: []"}).has_value());
  }
  auto store = OpenOrDie(file);
  ASSERT_NE(store, nullptr);
  auto got = store->GetJob(job.id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, job);
  auto events = store->ListEvents(job.id);
  ASSERT_TRUE(events.has_value());
  EXPECT_EQ(*events, (std::vector<EventRow>{{job.id, 1, "pending", ""}}));
  auto tokens = store->LoadTokens();
  ASSERT_TRUE(tokens.has_value());
  EXPECT_EQ(*tokens, std::vector<TokenRow>{token});
  auto nodes = store->LoadNodeConditions();
  ASSERT_TRUE(nodes.has_value());
  EXPECT_EQ(*nodes, (std::map<std::string, std::string>{{"node-1", "draining"}}));
  auto meta = store->GetMeta("k");
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(*meta, std::optional<std::string>("v"));
  auto queues = store->LatestQueueConfig();
  ASSERT_TRUE(queues.has_value() && queues->has_value());
  EXPECT_EQ((*queues)->text, "queues: []");
  EXPECT_EQ((*queues)->user, "admin");
  EXPECT_EQ((*queues)->applied_ms, 7);
}

TEST(StoreTest, NewerSchemaVersionIsRefusedNamingTheFile) {
  TempDir dir;
  auto file = dir.File("future.db");
  { ASSERT_NE(OpenOrDie(file), nullptr); }
  {
    auto db = SqliteDb::Open(file, SqliteDb::Mode::kReadWrite, 1000);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE((*db)
                    ->Exec("UPDATE meta SET value = '" + std::to_string(kSchemaVersion + 1) +
                               "' WHERE key = 'schema_version'",
                           "bump")
                    .ok());
  }
  auto store = Store::Open(file);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.error().message().find(file.string()), std::string::npos)
      << store.error().message();
  EXPECT_NE(store.error().message().find("schema version " + std::to_string(kSchemaVersion + 1)),
            std::string::npos)
      << store.error().message();
}

TEST(StoreTest, FileThatIsNotADatabaseIsRefusedNamingIt) {
  TempDir dir;
  auto file = dir.File("junk.db");
  std::ofstream(file) << std::string(8192, 'x');
  auto store = Store::Open(file);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kIoError);
  EXPECT_NE(store.error().message().find(file.string()), std::string::npos)
      << store.error().message();
}

TEST(StoreTest, BadOptionsAreRefused) {
  TempDir dir;
  auto store = Store::Open(dir.File("s.db"), StoreOptions{true, 0, 5000});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
}

// ---- Crash ----

// A child process inserts from 4 threads and reports each acknowledged (id, name) on a pipe; the
// parent SIGKILLs it mid-way, reopens the file and checks that every acknowledged job is there,
// exactly once, under the id it was acknowledged with.
class StoreCrashTest : public ::testing::TestWithParam<bool> {};

TEST_P(StoreCrashTest, EveryAcknowledgedInsertSurvivesSigkill) {
  TempDir dir;
  auto file = dir.File("crash.db");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto store = Store::Open(file, StoreOptions{GetParam(), 256, 5000});
    if (!store) ::_exit(3);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          std::string name = "c" + std::to_string(t) + "-" + std::to_string(i);
          auto id = (*store)->InsertJob(Job("u", "pending", "q", name), Event(i, "pending"));
          if (!id) ::_exit(4);
          std::string line = std::to_string(*id) + " " + name + "\n";
          // Short pipe writes are atomic, so the threads' lines never interleave.
          if (::write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            ::_exit(5);
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  bool killed = false;
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (!killed && std::count(text.begin(), text.end(), '\n') >= 400) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
  }
  ::close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "child ended otherwise (exit " << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) << ")";

  std::map<std::int64_t, std::string> acknowledged;
  std::istringstream lines(text);
  std::int64_t id = 0;
  std::string name;
  while (lines >> id >> name) {
    EXPECT_TRUE(acknowledged.emplace(id, name).second) << "id " << id << " acknowledged twice";
  }
  ASSERT_GE(acknowledged.size(), 400u);

  auto store = OpenOrDie(file);
  ASSERT_NE(store, nullptr);
  auto all = store->LoadJobsInStates({"pending"});
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  std::map<std::string, int> copies;
  std::map<std::int64_t, std::string> stored;
  for (const JobRow& row : *all) {
    ++copies[row.name];
    stored[row.id] = row.name;
  }
  for (const auto& [ack_id, ack_name] : acknowledged) {
    auto it = stored.find(ack_id);
    ASSERT_NE(it, stored.end()) << "acknowledged job " << ack_id << " lost";
    EXPECT_EQ(it->second, ack_name);
    EXPECT_EQ(copies[ack_name], 1) << ack_name;
  }
  // Unacknowledged inserts in flight at the kill may or may not be there, but at most 4 (one
  // per thread) can be in flight.
  EXPECT_LE(stored.size(), acknowledged.size() + 4);
}

INSTANTIATE_TEST_SUITE_P(Synchronous, StoreCrashTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "Full" : "Normal";
                         });

}  // namespace
}  // namespace gpupool::store

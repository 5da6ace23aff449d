#include "store/store.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "store/job_sort.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

namespace gpupool::store {
namespace {

// Read connections kept open between reads; more are opened while more readers run at once and
// closed again when returned beyond this count.
constexpr std::size_t kMaxIdleReaders = 4;

constexpr const char* kJobColumns =
    "id, user, queue, name, state, priority, submitted_ms, started_ms, finished_ms, reason, "
    "spec_json, placement_json, runtime_json, exit_code, history_json";

JobRow ReadJob(const Statement& s) {
  JobRow row;
  row.id = s.ColumnInt64(0);
  row.user = s.ColumnText(1);
  row.queue = s.ColumnText(2);
  row.name = s.ColumnText(3);
  row.state = s.ColumnText(4);
  row.priority = static_cast<std::int32_t>(s.ColumnInt64(5));
  row.submitted_ms = s.ColumnInt64(6);
  row.started_ms = s.ColumnInt64(7);
  row.finished_ms = s.ColumnInt64(8);
  row.reason = s.ColumnText(9);
  row.spec_json = s.ColumnText(10);
  row.placement_json = s.ColumnText(11);
  row.runtime_json = s.ColumnText(12);
  if (!s.ColumnIsNull(13)) row.exit_code = static_cast<int>(s.ColumnInt64(13));
  row.history_json = s.ColumnText(14);
  return row;
}

// Binds `values` to parameters 1, 2, ... in order, then runs the statement; stops at the first
// failure.
template <typename... Values>
Status BindAndRun(Statement& s, const Values&... values) {
  Status st;
  int index = 0;
  ((st = st.ok() ? s.Bind(++index, values) : st), ...);
  return st.ok() ? s.Run() : st;
}

// ---- The ops, applied on the writer connection inside the caller's savepoint. ----

Status InsertEvent(SqliteDb& db, std::int64_t job_id, const EventRow& event) {
  Result<Statement> s =
      db.Prepare("INSERT INTO events(job_id, time_ms, state, reason) VALUES (?1, ?2, ?3, ?4)");
  if (!s) return s.error();
  GP_RETURN_IF_ERROR(s->Bind(1, job_id));
  GP_RETURN_IF_ERROR(s->Bind(2, event.time_ms));
  GP_RETURN_IF_ERROR(s->Bind(3, event.state));
  GP_RETURN_IF_ERROR(s->Bind(4, event.reason));
  return s->Run();
}

Result<std::int64_t> Apply(SqliteDb& db, const InsertJobOp& op) {
  const JobRow& r = op.row;
  {
    Result<Statement> s = db.Prepare(
        "INSERT INTO jobs(user, queue, name, state, priority, submitted_ms, started_ms, "
        "finished_ms, reason, spec_json, placement_json, runtime_json, exit_code, history_json) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    if (!s) return Error(s.error());
    Status st = BindAndRun(*s, r.user, r.queue, r.name, r.state, std::int64_t{r.priority},
                           r.submitted_ms, r.started_ms, r.finished_ms, r.reason, r.spec_json,
                           r.placement_json, r.runtime_json, r.exit_code, r.history_json);
    if (!st.ok()) return Error(st);
  }
  std::int64_t id = db.LastInsertRowId();
  Status event = InsertEvent(db, id, op.first_event);
  if (!event.ok()) return Error(event);
  return id;
}

Result<std::int64_t> Apply(SqliteDb& db, const UpdateJobOp& op) {
  const JobRow& r = op.row;
  for (const EventRow& e : op.events) {
    if (e.job_id != 0 && e.job_id != r.id) {
      return Error(Status::InvalidArgument("update of job " + std::to_string(r.id) +
                                           ": an event names job " + std::to_string(e.job_id)));
    }
  }
  {
    Result<Statement> s = db.Prepare(
        "UPDATE jobs SET state = ?2, reason = ?3, started_ms = ?4, finished_ms = ?5, "
        "placement_json = ?6, runtime_json = ?7, exit_code = ?8, history_json = ?9 WHERE id = ?1");
    if (!s) return Error(s.error());
    Status st = BindAndRun(*s, r.id, r.state, r.reason, r.started_ms, r.finished_ms,
                           r.placement_json, r.runtime_json, r.exit_code, r.history_json);
    if (!st.ok()) return Error(st);
  }
  if (db.Changes() == 0)
    return Error(Status::NotFound("job " + std::to_string(r.id) + " does not exist"));
  for (const EventRow& e : op.events) {
    Status st = InsertEvent(db, r.id, e);
    if (!st.ok()) return Error(st);
  }
  return 0;
}

Result<std::int64_t> Apply(SqliteDb& db, const DeleteJobOp& op) {
  {
    Result<Statement> s = db.Prepare("DELETE FROM jobs WHERE id = ?1");
    if (!s) return Error(s.error());
    Status st = BindAndRun(*s, op.id);
    if (!st.ok()) return Error(st);
  }
  if (db.Changes() == 0) {
    return Error(Status::NotFound("job " + std::to_string(op.id) + " does not exist"));
  }
  Result<Statement> s = db.Prepare("DELETE FROM events WHERE job_id = ?1");
  if (!s) return Error(s.error());
  Status st = BindAndRun(*s, op.id);
  if (!st.ok()) return Error(st);
  return 0;
}

Result<std::int64_t> Apply(SqliteDb& db, const InsertTokenOp& op) {
  const TokenRow& r = op.row;
  {
    Result<Statement> s = db.Prepare(
        "INSERT INTO tokens(user, hash_hex, admin, created_ms, revoked) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!s) return Error(s.error());
    Status run = BindAndRun(*s, r.user, r.hash_hex, std::int64_t{r.admin ? 1 : 0}, r.created_ms,
                            std::int64_t{r.revoked ? 1 : 0});
    if (run.code() == StatusCode::kFailedPrecondition) {
      return Error(
          Status::FailedPrecondition("a token with hash " + r.hash_hex + " already exists"));
    }
    if (!run.ok()) return Error(run);
  }
  std::int64_t id = db.LastInsertRowId();
  for (std::size_t pos = 0; pos < r.queues.size(); ++pos) {
    Result<Statement> s =
        db.Prepare("INSERT INTO token_queues(token_id, pos, queue) VALUES (?1, ?2, ?3)");
    if (!s) return Error(s.error());
    Status st = BindAndRun(*s, id, static_cast<std::int64_t>(pos), r.queues[pos]);
    if (!st.ok()) return Error(st);
  }
  return id;
}

Result<std::int64_t> Apply(SqliteDb& db, const RevokeTokenOp& op) {
  Result<Statement> s = db.Prepare("UPDATE tokens SET revoked = 1 WHERE id = ?1");
  if (!s) return Error(s.error());
  Status st = BindAndRun(*s, op.id);
  if (!st.ok()) return Error(st);
  if (db.Changes() == 0) {
    return Error(Status::NotFound("token " + std::to_string(op.id) + " does not exist"));
  }
  return 0;
}

Result<std::int64_t> Apply(SqliteDb& db, const SetNodeConditionOp& op) {
  if (op.node.empty()) return Error(Status::InvalidArgument("node condition: empty node name"));
  if (op.condition.empty()) {
    return Error(Status::InvalidArgument("node " + op.node + ": empty condition"));
  }
  const bool ready = op.condition == "ready";
  Result<Statement> s =
      ready ? db.Prepare("DELETE FROM node_conditions WHERE node = ?1")
            : db.Prepare("INSERT OR REPLACE INTO node_conditions(node, condition) VALUES (?1, ?2)");
  if (!s) return Error(s.error());
  Status st = s->Bind(1, op.node);
  if (st.ok() && !ready) st = s->Bind(2, op.condition);
  if (st.ok()) st = s->Run();
  if (!st.ok()) return Error(st);
  return 0;
}

Result<std::int64_t> Apply(SqliteDb& db, const SetMetaOp& op) {
  if (op.key == kSchemaVersionKey) {
    return Error(Status::InvalidArgument("meta key '" + op.key + "' is reserved for the store"));
  }
  Result<Statement> s = db.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)");
  if (!s) return Error(s.error());
  Status st = BindAndRun(*s, op.key, op.value);
  if (!st.ok()) return Error(st);
  return 0;
}

Result<std::int64_t> Apply(SqliteDb& db, const InsertQueueConfigOp& op) {
  Result<Statement> s = db.Prepare(
      "INSERT INTO queue_configs(applied_ms, user, source, text) VALUES (?1, ?2, ?3, ?4)");
  if (!s) return Error(s.error());
  Status st = BindAndRun(*s, op.row.applied_ms, op.row.user, op.row.source, op.row.text);
  if (!st.ok()) return Error(st);
  return db.LastInsertRowId();
}

Result<std::int64_t> Apply(SqliteDb& db, const InsertFinishedRunOp& op) {
  const FinishedRunRow& r = op.row;
  Result<Statement> s = db.Prepare(
      "INSERT INTO finished_runs(seq, job_id, finished_ms, user, queue, gpus, gpu_milli, run_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!s) return Error(s.error());
  Status st = BindAndRun(*s, r.seq, r.job_id, r.finished_ms, r.user, r.queue, std::int64_t{r.gpus},
                         r.gpu_milli, r.run_ms);
  if (st.code() == StatusCode::kFailedPrecondition) {
    return Error(
        Status::FailedPrecondition("finished run " + std::to_string(r.seq) + " is already stored"));
  }
  if (!st.ok()) return Error(st);
  return 0;
}

// The pool's history (rows.h: PoolSampleRow, kHistoryTiers).
constexpr const char* kSampleColumns =
    "tier, time_ms, scope, samples, gpus, capacity_milli, allocated_milli, in_use_milli, "
    "reporting_gpus, whole_gpus, shared_gpus, fragmented_milli, nodes_schedulable, "
    "nodes_cordoned, nodes_unhealthy, jobs_running, jobs_pending";

// A bucket's mean of figure `c` over the finer rows that know it (weighted by their samples; NULL
// when none does). REAL columns: no integer division.
std::string MeanOf(const std::string& c) {
  return "SUM(" + c + " * samples) / SUM(CASE WHEN " + c + " IS NULL THEN NULL ELSE samples END)";
}

Result<std::int64_t> Apply(SqliteDb& db, const InsertPoolSamplesOp& op) {
  for (const PoolSampleRow& r : op.rows) {
    // Borrowed per row: a Statement is reset when it is returned.
    Result<Statement> s = db.Prepare(std::string("INSERT INTO pool_samples(") + kSampleColumns +
                                     ") VALUES (0, ?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                     "?11, ?12, ?13, ?14, ?15)");
    if (!s) return Error(s.error());
    {
      Status st = s->Bind(1, r.time_ms);
      if (st.ok()) st = s->Bind(2, r.scope);
      int i = 3;
      for (const std::optional<double> v :
           {std::optional<double>(r.gpus), std::optional<double>(r.capacity_milli),
            std::optional<double>(r.allocated_milli), r.in_use_milli,
            std::optional<double>(r.reporting_gpus), std::optional<double>(r.whole_gpus),
            std::optional<double>(r.shared_gpus), std::optional<double>(r.fragmented_milli),
            std::optional<double>(r.nodes_schedulable), std::optional<double>(r.nodes_cordoned),
            std::optional<double>(r.nodes_unhealthy), std::optional<double>(r.jobs_running),
            r.jobs_pending}) {
        if (st.ok()) st = s->BindReal(i++, v);
      }
      if (st.ok()) st = s->Run();
      if (st.code() == StatusCode::kFailedPrecondition) {
        return Error(Status::FailedPrecondition("a pool sample of time " +
                                                std::to_string(r.time_ms) + " and scope '" +
                                                r.scope + "' is already stored"));
      }
      if (!st.ok()) return Error(st);
    }
  }
  // Each coarser tier, finest first: the buckets that have passed since its newest row, each
  // the mean of the finer tier's rows in it (the finer tier's buckets of this instant are
  // written just before).
  std::string means;
  for (const char* c :
       {"gpus", "capacity_milli", "allocated_milli", "in_use_milli", "reporting_gpus", "whole_gpus",
        "shared_gpus", "fragmented_milli", "nodes_schedulable", "nodes_cordoned", "nodes_unhealthy",
        "jobs_running", "jobs_pending"}) {
    means += ", " + MeanOf(c);
  }
  for (int tier = 1; tier < kHistoryTierCount; ++tier) {
    const std::int64_t res = kHistoryTiers[tier].resolution_ms;
    std::int64_t from = 0;
    {
      Result<Statement> last = db.Prepare("SELECT MAX(time_ms) FROM pool_samples WHERE tier = ?1");
      if (!last) return Error(last.error());
      GP_RETURN_IF_ERROR(last->Bind(1, std::int64_t{tier}));
      Result<bool> row = last->Step();
      if (!row) return Error(row.error());
      if (*row && !last->ColumnIsNull(0)) from = last->ColumnInt64(0) + res;
    }
    const std::int64_t until = op.now_ms / res * res;  // the start of the bucket still open
    if (until <= from) continue;
    Result<Statement> roll = db.Prepare(
        std::string("INSERT INTO pool_samples(") + kSampleColumns +
        ") SELECT ?1, time_ms / ?2 * ?2 AS bucket, scope, SUM(samples)" + means +
        " FROM pool_samples WHERE tier = ?3 AND time_ms >= ?4 AND time_ms < ?5 GROUP BY bucket, "
        "scope");
    if (!roll) return Error(roll.error());
    Status st = BindAndRun(*roll, std::int64_t{tier}, res, std::int64_t{tier - 1}, from, until);
    if (!st.ok()) return Error(st);
  }
  for (int tier = 0; tier < kHistoryTierCount; ++tier) {
    Result<Statement> prune =
        db.Prepare("DELETE FROM pool_samples WHERE tier = ?1 AND time_ms < ?2");
    if (!prune) return Error(prune.error());
    Status st = BindAndRun(*prune, std::int64_t{tier}, op.now_ms - kHistoryTiers[tier].keep_ms);
    if (!st.ok()) return Error(st);
  }
  return 0;
}

// One caller's Write, waiting in the queue.
struct WriteRequest {
  std::vector<WriteOp> ops;
  std::promise<Result<std::vector<std::int64_t>>> done;
};

}  // namespace

struct Store::Impl {
  std::filesystem::path file;
  StoreOptions options;
  std::unique_ptr<SqliteDb> writer;  // used only by the writer thread once it runs

  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<WriteRequest*> queue;  // guarded by queue_mu
  bool stopping = false;            // guarded by queue_mu
  std::thread writer_thread;

  std::mutex readers_mu;
  std::vector<std::unique_ptr<SqliteDb>> idle_readers;  // guarded by readers_mu

  // Checkpoints run on their own connection and thread (PASSIVE: they never block the writer or
  // the readers), instead of SQLite's automatic checkpoint inside a committing transaction, which
  // stalls every caller of that commit while the WAL is copied into the database and synced.
  std::unique_ptr<SqliteDb> checkpointer;
  std::thread checkpoint_thread;
  std::uint64_t commits = 0;              // guarded by queue_mu
  std::condition_variable checkpoint_cv;  // its own: queue_cv's notify_one is for the writer
  void CheckpointLoop();

  void WriterLoop();
  void CommitBatch(const std::vector<WriteRequest*>& batch);
  Result<std::vector<std::int64_t>> ApplyOps(const std::vector<WriteOp>& ops);

  // A read connection, returned to the pool when the lease ends.
  class ReaderLease {
   public:
    ReaderLease(Impl* impl, std::unique_ptr<SqliteDb> db) : impl_(impl), db_(std::move(db)) {}
    ReaderLease(ReaderLease&&) = default;
    ~ReaderLease() {
      if (db_ != nullptr) impl_->ReleaseReader(std::move(db_));
    }
    SqliteDb& db() { return *db_; }

   private:
    Impl* impl_;
    std::unique_ptr<SqliteDb> db_;
  };
  Result<ReaderLease> AcquireReader();
  void ReleaseReader(std::unique_ptr<SqliteDb> db);
};

void Store::Impl::WriterLoop() {
  std::vector<WriteRequest*> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mu);
      queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping, and everything queued is committed
      std::size_t ops = 0;
      const auto max_ops = static_cast<std::size_t>(options.max_batch);
      while (!queue.empty()) {
        std::size_t n = queue.front()->ops.size();
        if (!batch.empty() && ops + n > max_ops) break;
        batch.push_back(queue.front());
        queue.pop_front();
        ops += n;
      }
    }
    CommitBatch(batch);
    batch.clear();
  }
}

Result<std::vector<std::int64_t>> Store::Impl::ApplyOps(const std::vector<WriteOp>& ops) {
  std::vector<std::int64_t> ids;
  ids.reserve(ops.size());
  for (const WriteOp& op : ops) {
    Result<std::int64_t> id = std::visit([&](const auto& o) { return Apply(*writer, o); }, op);
    if (!id) return Error(id.error());
    ids.push_back(*id);
  }
  return ids;
}

void Store::Impl::CommitBatch(const std::vector<WriteRequest*>& batch) {
  std::vector<Result<std::vector<std::int64_t>>> results;
  results.reserve(batch.size());
  // An error that takes the whole transaction down: BEGIN, a savepoint, or an op error after
  // which SQLite has already rolled the transaction back (disk full, I/O error).
  Status batch_error = writer->Exec("BEGIN IMMEDIATE", "starting a write transaction");
  for (std::size_t i = 0; i < batch.size() && batch_error.ok(); ++i) {
    batch_error = writer->Exec("SAVEPOINT op", "starting a savepoint");
    if (!batch_error.ok()) break;
    Result<std::vector<std::int64_t>> result = ApplyOps(batch[i]->ops);
    if (result) {
      batch_error = writer->Exec("RELEASE op", "releasing a savepoint");
    } else if (!writer->InTransaction()) {
      batch_error = result.error();
    } else {
      batch_error = writer->Exec("ROLLBACK TO op; RELEASE op", "rolling back a failed write");
    }
    results.push_back(std::move(result));
  }
  if (batch_error.ok()) batch_error = writer->Exec("COMMIT", "committing");
  if (batch_error.ok()) {
    std::lock_guard lock(queue_mu);
    ++commits;
  }
  if (!batch_error.ok()) {
    if (writer->InTransaction()) {
      (void)writer->Exec("ROLLBACK", "rolling back a failed transaction");
    }
    for (WriteRequest* request : batch) request->done.set_value(Error(batch_error));
    return;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->done.set_value(std::move(results[i]));
}

Result<Store::Impl::ReaderLease> Store::Impl::AcquireReader() {
  {
    std::lock_guard lock(readers_mu);
    if (!idle_readers.empty()) {
      std::unique_ptr<SqliteDb> db = std::move(idle_readers.back());
      idle_readers.pop_back();
      return ReaderLease(this, std::move(db));
    }
  }
  Result<std::unique_ptr<SqliteDb>> db =
      SqliteDb::Open(file, SqliteDb::Mode::kReadWrite, options.busy_timeout_ms);
  if (!db) return Error(db.error());
  Status st = (*db)->Exec("PRAGMA query_only = 1", "opening a read connection");
  if (!st.ok()) return Error(st);
  return ReaderLease(this, std::move(*db));
}

void Store::Impl::ReleaseReader(std::unique_ptr<SqliteDb> db) {
  // A read that failed half-way may leave its snapshot transaction open; end it so the
  // connection does not pin old WAL frames.
  if (db->InTransaction()) (void)db->Exec("ROLLBACK", "ending a read");
  std::lock_guard lock(readers_mu);
  if (idle_readers.size() < kMaxIdleReaders) idle_readers.push_back(std::move(db));
}

// ---- Store ----

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() {
  {
    std::lock_guard lock(impl_->queue_mu);
    impl_->stopping = true;
  }
  impl_->queue_cv.notify_all();
  impl_->checkpoint_cv.notify_all();
  impl_->writer_thread.join();
  if (impl_->checkpoint_thread.joinable()) impl_->checkpoint_thread.join();
}

void Store::Impl::CheckpointLoop() {
  std::uint64_t seen = 0;
  std::unique_lock lock(queue_mu);
  while (!stopping) {
    checkpoint_cv.wait_for(lock, std::chrono::milliseconds(1000));
    if (commits == seen) continue;
    seen = commits;
    lock.unlock();
    (void)checkpointer->Exec("PRAGMA wal_checkpoint(PASSIVE)", "checkpointing");
    lock.lock();
  }
}

Result<std::unique_ptr<Store>> Store::Open(const std::filesystem::path& db_file,
                                           StoreOptions options) {
  if (options.max_batch < 1) {
    return Error(Status::InvalidArgument(db_file.string() + ": max_batch " +
                                         std::to_string(options.max_batch) + " is below 1"));
  }
  if (options.busy_timeout_ms < 0) {
    return Error(Status::InvalidArgument(db_file.string() + ": busy_timeout_ms " +
                                         std::to_string(options.busy_timeout_ms) + " is negative"));
  }
  auto impl = std::make_unique<Impl>();
  impl->file = db_file;
  impl->options = options;
  Result<std::unique_ptr<SqliteDb>> writer =
      SqliteDb::Open(db_file, SqliteDb::Mode::kReadWriteCreate, options.busy_timeout_ms);
  if (!writer) return Error(writer.error());
  impl->writer = std::move(*writer);
  SqliteDb& db = *impl->writer;

  {
    Result<Statement> wal = db.Prepare("PRAGMA journal_mode = WAL");
    if (!wal) return Error(wal.error());
    Result<bool> row = wal->Step();
    if (!row) return Error(row.error());
    std::string mode = *row ? wal->ColumnText(0) : "";
    if (mode != "wal") {
      return Error(Status::IoError(db_file.string() +
                                   ": cannot switch to WAL mode (journal mode '" + mode + "')"));
    }
  }
  Status st = db.Exec(
      options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
      "setting synchronous");
  if (!st.ok()) return Error(st);
  st = EnsureSchema(db);
  if (!st.ok()) return Error(st);

  st = db.Exec("PRAGMA wal_autocheckpoint = 0", "turning off automatic checkpoints");
  if (!st.ok()) return Error(st);
  Result<std::unique_ptr<SqliteDb>> checkpointer =
      SqliteDb::Open(db_file, SqliteDb::Mode::kReadWriteCreate, options.busy_timeout_ms);
  if (!checkpointer) return Error(checkpointer.error());
  impl->checkpointer = std::move(*checkpointer);
  st = impl->checkpointer->Exec(
      options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
      "setting synchronous");
  if (!st.ok()) return Error(st);

  try {
    impl->writer_thread = std::thread([p = impl.get()] { p->WriterLoop(); });
    impl->checkpoint_thread = std::thread([p = impl.get()] { p->CheckpointLoop(); });
  } catch (const std::system_error& e) {
    return Error(
        Status::Unavailable(db_file.string() + ": cannot start the writer thread: " + e.what()));
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

const std::filesystem::path& Store::file() const { return impl_->file; }

Result<std::vector<std::int64_t>> Store::Write(std::vector<WriteOp> ops) {
  if (ops.empty()) return std::vector<std::int64_t>{};
  WriteRequest request{std::move(ops), {}};
  std::future<Result<std::vector<std::int64_t>>> done = request.done.get_future();
  {
    std::lock_guard lock(impl_->queue_mu);
    impl_->queue.push_back(&request);
  }
  impl_->queue_cv.notify_one();
  return done.get();
}

namespace {
// The first element of a one-op Write's result, or its error.
Result<std::int64_t> Single(Result<std::vector<std::int64_t>> result) {
  if (!result) return Error(result.error());
  return result->front();
}
Status Done(Result<std::vector<std::int64_t>> result) {
  return result ? Status::Ok() : result.error();
}
template <typename Op>
std::vector<WriteOp> One(Op op) {
  std::vector<WriteOp> ops;
  ops.emplace_back(std::move(op));
  return ops;
}
}  // namespace

Result<std::int64_t> Store::InsertJob(JobRow row, EventRow first_event) {
  return Single(Write(One(InsertJobOp{std::move(row), std::move(first_event)})));
}
Status Store::UpdateJob(const JobRow& row, std::vector<EventRow> events) {
  return Done(Write(One(UpdateJobOp{row, std::move(events)})));
}
Status Store::DeleteJob(std::int64_t id) { return Done(Write(One(DeleteJobOp{id}))); }
Result<std::int64_t> Store::InsertToken(TokenRow row) {
  return Single(Write(One(InsertTokenOp{std::move(row)})));
}
Status Store::RevokeToken(std::int64_t id) { return Done(Write(One(RevokeTokenOp{id}))); }
Status Store::SetNodeCondition(std::string node, std::string condition) {
  return Done(Write(One(SetNodeConditionOp{std::move(node), std::move(condition)})));
}
Status Store::SetMeta(std::string key, std::string value) {
  return Done(Write(One(SetMetaOp{std::move(key), std::move(value)})));
}
Result<std::int64_t> Store::InsertQueueConfig(QueueConfigRow row) {
  return Single(Write(One(InsertQueueConfigOp{std::move(row)})));
}
Status Store::InsertFinishedRun(FinishedRunRow row) {
  return Done(Write(One(InsertFinishedRunOp{std::move(row)})));
}
Status Store::InsertPoolSamples(std::vector<PoolSampleRow> rows, std::int64_t now_ms) {
  return Done(Write(One(InsertPoolSamplesOp{std::move(rows), now_ms})));
}

// ---- Reads ----

Result<std::optional<JobRow>> Store::GetJob(std::int64_t id) {
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  Result<Statement> s =
      lease->db().Prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?1");
  if (!s) return Error(s.error());
  Status st = s->Bind(1, id);
  if (!st.ok()) return Error(st);
  Result<bool> row = s->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::optional<JobRow>();
  return std::optional<JobRow>(ReadJob(*s));
}

Result<JobPage> Store::ListJobs(const JobQuery& query) {
  if (query.limit < 1 || query.limit > kMaxPageLimit) {
    return Error(Status::InvalidArgument("limit " + std::to_string(query.limit) +
                                         " is outside 1.." + std::to_string(kMaxPageLimit)));
  }
  if (query.before_id < 0) {
    return Error(
        Status::InvalidArgument("before_id " + std::to_string(query.before_id) + " is negative"));
  }
  if (query.before_id > 0 && (query.after || query.sort != JobSortKey::kId || !query.descending)) {
    return Error(Status::InvalidArgument(
        "before_id is for the newest-first order only; use after for another order"));
  }
  std::string where = " WHERE 1";
  std::vector<const std::string*> texts;
  if (query.user) {
    texts.push_back(&*query.user);
    where += " AND user = ?" + std::to_string(texts.size());
  }
  if (query.state) {
    texts.push_back(&*query.state);
    where += " AND state = ?" + std::to_string(texts.size());
  }
  if (query.queue) {
    texts.push_back(&*query.queue);
    where += " AND queue = ?" + std::to_string(texts.size());
  }
  const int n = static_cast<int>(texts.size());
  auto bind_filters = [&](Statement& s) -> Status {
    for (int i = 0; i < n; ++i) GP_RETURN_IF_ERROR(s.Bind(i + 1, *texts[i]));
    return Status::Ok();
  };

  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  SqliteDb& db = lease->db();
  // One snapshot for the count and the page.
  Status st = db.Exec("BEGIN", "starting a read");
  if (!st.ok()) return Error(st);

  JobPage page;
  {
    Result<Statement> count = db.Prepare("SELECT COUNT(*) FROM jobs" + where);
    if (!count) return Error(count.error());
    st = bind_filters(*count);
    if (!st.ok()) return Error(st);
    Result<bool> row = count->Step();
    if (!row) return Error(row.error());
    page.total = *row ? count->ColumnInt64(0) : 0;
  }
  {
    // Keyset paging: the rows after the cursor's (key, id) in the order (row values compare
    // column by column, as the ORDER BY orders them).
    // A key without an index: the page's ids are chosen first, so that SQLite sorts (key, id)
    // pairs rather than whole rows (their specs), then its rows are read by id.
    const std::string column(JobSortColumn(query.sort));
    const char* dir = query.descending ? " DESC" : " ASC";
    const char* after_op = query.descending ? " < " : " > ";
    const bool by_id = query.sort == JobSortKey::kId;
    const std::string order =
        std::string(" ORDER BY ") + (by_id ? "" : column + dir + ", ") + "id" + dir;
    std::string sql = by_id ? std::string("SELECT ") + kJobColumns + " FROM jobs" + where
                            : "SELECT id FROM jobs" + where;
    int next = n + 1;
    if (query.before_id > 0) sql += " AND id < ?" + std::to_string(next++);
    if (query.after) {
      if (by_id) {
        sql += std::string(" AND id") + after_op + "?" + std::to_string(next++);
      } else {
        sql += " AND (" + column + ", id)" + after_op + "(?" + std::to_string(next) + ", ?" +
               std::to_string(next + 1) + ")";
        next += 2;
      }
    }
    sql += order + " LIMIT ?" + std::to_string(next);
    if (!by_id) {
      sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id IN (" + sql + ")" + order;
    }
    Result<Statement> s = db.Prepare(sql);
    if (!s) return Error(s.error());
    st = bind_filters(*s);
    int bind = n + 1;
    if (st.ok() && query.before_id > 0) st = s->Bind(bind++, query.before_id);
    if (st.ok() && query.after) {
      if (!by_id) {
        st = JobSortKeyIsText(query.sort) ? s->Bind(bind++, query.after->text)
                                          : s->Bind(bind++, query.after->number);
      }
      if (st.ok()) st = s->Bind(bind++, query.after->id);
    }
    // One row more than asked says whether another page follows.
    if (st.ok()) st = s->Bind(next, std::int64_t{query.limit} + 1);
    if (!st.ok()) return Error(st);
    for (;;) {
      Result<bool> row = s->Step();
      if (!row) return Error(row.error());
      if (!*row) break;
      if (std::ssize(page.jobs) == query.limit) {
        page.next_before_id = page.jobs.back().id;
        break;
      }
      page.jobs.push_back(ReadJob(*s));
    }
  }
  st = db.Exec("COMMIT", "ending a read");
  if (!st.ok()) return Error(st);
  return page;
}

Result<std::vector<EventRow>> Store::ListEvents(std::int64_t job_id) {
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  Result<Statement> s = lease->db().Prepare(
      "SELECT time_ms, state, reason FROM events WHERE job_id = ?1 ORDER BY time_ms, id");
  if (!s) return Error(s.error());
  Status st = s->Bind(1, job_id);
  if (!st.ok()) return Error(st);
  std::vector<EventRow> events;
  for (;;) {
    Result<bool> row = s->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    events.push_back(EventRow{job_id, s->ColumnInt64(0), s->ColumnText(1), s->ColumnText(2)});
  }
  return events;
}

Result<std::vector<JobRow>> Store::LoadJobsInStates(const std::vector<std::string>& states) {
  std::vector<JobRow> jobs;
  if (states.empty()) return jobs;
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE state IN (";
  for (std::size_t i = 0; i < states.size(); ++i) {
    sql += (i == 0 ? "?" : ", ?") + std::to_string(i + 1);
  }
  sql += ") ORDER BY id";
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  Result<Statement> s = lease->db().Prepare(sql);
  if (!s) return Error(s.error());
  for (std::size_t i = 0; i < states.size(); ++i) {
    Status st = s->Bind(static_cast<int>(i + 1), states[i]);
    if (!st.ok()) return Error(st);
  }
  for (;;) {
    Result<bool> row = s->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    jobs.push_back(ReadJob(*s));
  }
  return jobs;
}

Result<std::map<std::string, std::int64_t>> Store::CountJobsByState() {
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  Result<Statement> s = lease->db().Prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state");
  if (!s) return Error(s.error());
  std::map<std::string, std::int64_t> counts;
  for (;;) {
    Result<bool> row = s->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    counts[s->ColumnText(0)] = s->ColumnInt64(1);
  }
  return counts;
}

Result<std::vector<TokenRow>> Store::LoadTokens() {
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  SqliteDb& db = lease->db();
  Status st = db.Exec("BEGIN", "starting a read");
  if (!st.ok()) return Error(st);
  std::vector<TokenRow> tokens;
  std::unordered_map<std::int64_t, std::size_t> index;
  {
    Result<Statement> s =
        db.Prepare("SELECT id, user, hash_hex, admin, created_ms, revoked FROM tokens ORDER BY id");
    if (!s) return Error(s.error());
    for (;;) {
      Result<bool> row = s->Step();
      if (!row) return Error(row.error());
      if (!*row) break;
      TokenRow t;
      t.id = s->ColumnInt64(0);
      t.user = s->ColumnText(1);
      t.hash_hex = s->ColumnText(2);
      t.admin = s->ColumnInt64(3) != 0;
      t.created_ms = s->ColumnInt64(4);
      t.revoked = s->ColumnInt64(5) != 0;
      index[t.id] = tokens.size();
      tokens.push_back(std::move(t));
    }
  }
  {
    Result<Statement> s =
        db.Prepare("SELECT token_id, queue FROM token_queues ORDER BY token_id, pos");
    if (!s) return Error(s.error());
    for (;;) {
      Result<bool> row = s->Step();
      if (!row) return Error(row.error());
      if (!*row) break;
      auto it = index.find(s->ColumnInt64(0));
      if (it != index.end()) tokens[it->second].queues.push_back(s->ColumnText(1));
    }
  }
  st = db.Exec("COMMIT", "ending a read");
  if (!st.ok()) return Error(st);
  return tokens;
}

Result<std::map<std::string, std::string>> Store::LoadNodeConditions() {
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  Result<Statement> s = lease->db().Prepare("SELECT node, condition FROM node_conditions");
  if (!s) return Error(s.error());
  std::map<std::string, std::string> conditions;
  for (;;) {
    Result<bool> row = s->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    conditions[s->ColumnText(0)] = s->ColumnText(1);
  }
  return conditions;
}

Result<std::optional<QueueConfigRow>> Store::LatestQueueConfig() {
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  Result<Statement> s = lease->db().Prepare(
      "SELECT id, applied_ms, user, source, text FROM queue_configs ORDER BY id DESC LIMIT 1");
  if (!s) return Error(s.error());
  Result<bool> row = s->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::optional<QueueConfigRow>();
  QueueConfigRow q;
  q.id = s->ColumnInt64(0);
  q.applied_ms = s->ColumnInt64(1);
  q.user = s->ColumnText(2);
  q.source = s->ColumnText(3);
  q.text = s->ColumnText(4);
  return std::optional<QueueConfigRow>(std::move(q));
}

Result<std::int64_t> Store::LastFinishedRunSeq() {
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  Result<Statement> s = lease->db().Prepare("SELECT COALESCE(MAX(seq), 0) FROM finished_runs");
  if (!s) return Error(s.error());
  Result<bool> row = s->Step();
  if (!row) return Error(row.error());
  return *row ? s->ColumnInt64(0) : 0;
}

Status Store::ForEachFinishedRun(std::int64_t after_seq,
                                 const std::function<void(const FinishedRunRow&)>& fn) {
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return lease.error();
  Result<Statement> s = lease->db().Prepare(
      "SELECT seq, job_id, finished_ms, user, queue, gpus, gpu_milli, run_ms FROM finished_runs "
      "WHERE seq > ?1 ORDER BY seq");
  if (!s) return s.error();
  GP_RETURN_IF_ERROR(s->Bind(1, after_seq));
  FinishedRunRow r;
  for (;;) {
    Result<bool> row = s->Step();
    if (!row) return row.error();
    if (!*row) break;
    r.seq = s->ColumnInt64(0);
    r.job_id = s->ColumnInt64(1);
    r.finished_ms = s->ColumnInt64(2);
    r.user = s->ColumnText(3);
    r.queue = s->ColumnText(4);
    r.gpus = static_cast<std::int32_t>(s->ColumnInt64(5));
    r.gpu_milli = s->ColumnInt64(6);
    r.run_ms = s->ColumnInt64(7);
    fn(r);
  }
  return Status::Ok();
}

Result<std::vector<PoolSampleRow>> Store::LoadPoolSamples(int tier, const std::string& scope,
                                                          std::int64_t from_ms) {
  if (tier < 0 || tier >= kHistoryTierCount) {
    return Error(Status::InvalidArgument("tier " + std::to_string(tier) + " is outside 0.." +
                                         std::to_string(kHistoryTierCount - 1)));
  }
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  Result<Statement> s = lease->db().Prepare(
      std::string("SELECT ") + kSampleColumns +
      " FROM pool_samples WHERE tier = ?1 AND time_ms >= ?2 AND scope = ?3 ORDER BY time_ms");
  if (!s) return Error(s.error());
  Status st = s->Bind(1, std::int64_t{tier});
  if (st.ok()) st = s->Bind(2, from_ms);
  if (st.ok()) st = s->Bind(3, scope);
  if (!st.ok()) return Error(st);
  std::vector<PoolSampleRow> rows;
  const auto optional = [&](int c) {
    return s->ColumnIsNull(c) ? std::nullopt : std::optional<double>(s->ColumnReal(c));
  };
  for (;;) {
    Result<bool> row = s->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    PoolSampleRow r;
    r.tier = static_cast<int>(s->ColumnInt64(0));
    r.time_ms = s->ColumnInt64(1);
    r.scope = s->ColumnText(2);
    r.samples = s->ColumnInt64(3);
    r.gpus = s->ColumnReal(4);
    r.capacity_milli = s->ColumnReal(5);
    r.allocated_milli = s->ColumnReal(6);
    r.in_use_milli = optional(7);
    r.reporting_gpus = s->ColumnReal(8);
    r.whole_gpus = s->ColumnReal(9);
    r.shared_gpus = s->ColumnReal(10);
    r.fragmented_milli = s->ColumnReal(11);
    r.nodes_schedulable = s->ColumnReal(12);
    r.nodes_cordoned = s->ColumnReal(13);
    r.nodes_unhealthy = s->ColumnReal(14);
    r.jobs_running = s->ColumnReal(15);
    r.jobs_pending = optional(16);
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::optional<std::string>> Store::GetMeta(const std::string& key) {
  Result<Impl::ReaderLease> lease = impl_->AcquireReader();
  if (!lease) return Error(lease.error());
  Result<Statement> s = lease->db().Prepare("SELECT value FROM meta WHERE key = ?1");
  if (!s) return Error(s.error());
  Status st = s->Bind(1, key);
  if (!st.ok()) return Error(st);
  Result<bool> row = s->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(s->ColumnText(0));
}

}  // namespace gpupool::store

// Store: the durable state of `gpupool serve` -- jobs, their events, API tokens, node conditions,
// queue configurations, the jobs that ended, the pool's history and metadata -- in one SQLite
// database file (WAL mode).
//
// Durability. A write returns only after the transaction holding it has committed; with
// StoreOptions::synchronous_full (the default) SQLite fsyncs the write-ahead log before the
// commit returns, so an acknowledged write survives a crash of the process and of the machine.
// With synchronous_full = false it survives a crash of the process only.
//
// Writes (group commit). Every write goes to one writer thread that owns the only writing
// connection. The thread takes everything queued since its last commit (at most
// StoreOptions::max_batch ops; a single Write larger than that goes alone) and applies it in one
// transaction, each caller's ops inside their own SAVEPOINT: a caller whose op fails (say
// UpdateJob of an id that does not exist) gets its error and leaves no trace, and the other
// callers of the batch are not affected. Then one COMMIT (one fsync) acknowledges the whole batch;
// if the COMMIT itself fails, every caller of the batch gets that error and nothing of the batch
// is stored. Each caller blocks until then and gets its own result.
//
// Reads run on a small pool of read-only connections, never the writer's, concurrently with the
// writer and each other; each read sees one committed snapshot (a write acknowledged before the
// read started is visible to it).
//
// Errors. Operational failures come back as Status / Result: kNotFound (no such job or token),
// kInvalidArgument (bad arguments, named in the message), kFailedPrecondition (a constraint, a
// schema newer than this binary), kUnavailable (the database is locked by another process past
// the busy timeout), kIoError (everything else SQLite or the OS reports). Messages of open,
// schema and SQLite failures start with the database file's path; those of domain outcomes
// ("job 12 does not exist", a reserved meta key, a duplicate token hash) do not, so that the
// server may pass them on to a client. Nothing throws.
//
// Thread safety: every method may be called from any thread concurrently, except that no call may
// overlap or follow the destructor. One process should open a given file once (a second Store on
// the same file works, through SQLite's locking, but gains nothing).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/rows.h"
#include "store/write_op.h"

namespace gpupool::store {

struct StoreOptions {
  // true: PRAGMA synchronous=FULL (fsync per commit; survives a machine crash).
  // false: synchronous=NORMAL (survives a process crash; a machine crash may lose the last
  // commits, never corrupts).
  bool synchronous_full = true;
  // Most ops one group commit takes from the queue; >= 1.
  int max_batch = 256;
  // How long a statement waits for a lock held by another connection or process.
  int busy_timeout_ms = 5000;
};

class Store {
 public:
  // Opens `db_file`, creating it (not its directory) when missing, switches it to WAL mode and
  // brings the schema to this binary's version (see schema.h). Errors name the file:
  // kFailedPrecondition for a schema version newer than this binary knows, kInvalidArgument for
  // bad options, kIoError when the file cannot be opened, is not a database or refuses WAL.
  static Result<std::unique_ptr<Store>> Open(const std::filesystem::path& db_file,
                                             StoreOptions options = {});

  // Commits everything queued, stops the writer thread and closes the connections.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // ---- Writes: each blocks until committed; see write_op.h for what every op does. ----

  // Applies `ops` atomically: all commit together or none does (the first failing op's error is
  // returned). Result: one value per op, in order -- the new id for InsertJobOp and
  // InsertTokenOp, 0 for the others. An empty `ops` commits nothing and returns {}.
  Result<std::vector<std::int64_t>> Write(std::vector<WriteOp> ops);

  // Shorthands for a Write of one op.
  Result<std::int64_t> InsertJob(JobRow row, EventRow first_event);
  Status UpdateJob(const JobRow& row, std::vector<EventRow> events);
  Status DeleteJob(std::int64_t id);
  Result<std::int64_t> InsertToken(TokenRow row);
  Status RevokeToken(std::int64_t id);
  Status SetNodeCondition(std::string node, std::string condition);
  Status SetMeta(std::string key, std::string value);
  Result<std::int64_t> InsertQueueConfig(QueueConfigRow row);
  Status InsertFinishedRun(FinishedRunRow row);
  Status InsertPoolSamples(std::vector<PoolSampleRow> rows, std::int64_t now_ms);

  // ---- Reads ----

  // The job, or nullopt when there is no job `id`.
  Result<std::optional<JobRow>> GetJob(std::int64_t id);
  // A page of jobs matching `query`, in its order (newest first unless query.sort and
  // query.descending say otherwise; ties by id, JobSortKey), from after query.after (keyset
  // paging: a page stays correct while rows are added or change). kInvalidArgument when
  // query.limit is outside 1..kMaxPageLimit, query.before_id is negative, or before_id is set
  // with another order or with after.
  Result<JobPage> ListJobs(const JobQuery& query);
  // The job's events in time order (ties in the order they were written); empty when none.
  Result<std::vector<EventRow>> ListEvents(std::int64_t job_id);
  // Every job whose state is one of `states`, by increasing id (for a restart: pending and
  // running jobs). Empty `states` gives an empty result.
  Result<std::vector<JobRow>> LoadJobsInStates(const std::vector<std::string>& states);
  // Number of jobs per state; states without jobs are absent.
  Result<std::map<std::string, std::int64_t>> CountJobsByState();
  // Every token, revoked ones included, by increasing id.
  Result<std::vector<TokenRow>> LoadTokens();
  // node -> condition for every node whose condition is not "ready".
  Result<std::map<std::string, std::string>> LoadNodeConditions();
  // The queue configuration applied last (the largest id), nullopt when none was ever stored.
  Result<std::optional<QueueConfigRow>> LatestQueueConfig();
  // The largest seq of the finished runs; 0 when there is none.
  Result<std::int64_t> LastFinishedRunSeq();
  // Calls `fn` for every finished run with seq > `after_seq`, by increasing seq, one row at a
  // time (memory does not grow with the rows read), in one snapshot. `fn` must not call the
  // store.
  Status ForEachFinishedRun(std::int64_t after_seq,
                            const std::function<void(const FinishedRunRow&)>& fn);
  // The pool's history at `tier` (kHistoryTiers) for `scope` ("" the pool, else a GPU model),
  // every row with time_ms >= from_ms, oldest first. kInvalidArgument for a tier out of range.
  Result<std::vector<PoolSampleRow>> LoadPoolSamples(int tier, const std::string& scope,
                                                     std::int64_t from_ms);
  // The value of a metadata key, nullopt when unset.
  Result<std::optional<std::string>> GetMeta(const std::string& key);

  const std::filesystem::path& file() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpupool::store

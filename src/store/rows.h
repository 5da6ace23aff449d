// The rows of the store: what `gpupool serve` keeps across restarts. The store knows nothing of
// scheduling; job specs, placements and executor handles are opaque text (JSON by convention)
// that it stores and returns byte for byte. Times are Unix milliseconds.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gpupool::store {

struct JobRow {
  std::int64_t id = 0;  // assigned by InsertJob (1, 2, ...; never reused)
  std::string user, queue, name;
  std::string state;  // "pending", "running", "succeeded", ... (opaque text)
  std::int32_t priority = 0;
  std::int64_t submitted_ms = 0, started_ms = 0, finished_ms = 0;  // 0 = not yet
  std::string reason;          // current pending reason or final reason
  std::string spec_json;       // the normalised submission; opaque
  std::string placement_json;  // "" = not placed; opaque
  std::string runtime_json;    // the executor's handle (pids...); opaque
  std::string history_json;    // the service's record of the job's runs ("" = none); opaque
  std::optional<int> exit_code;

  friend bool operator==(const JobRow&, const JobRow&) = default;
};

// One step of a job's history.
struct EventRow {
  std::int64_t job_id = 0;
  std::int64_t time_ms = 0;
  std::string state;
  std::string reason;

  friend bool operator==(const EventRow&, const EventRow&) = default;
};

// An API token. Only the hash of the secret is stored.
struct TokenRow {
  std::int64_t id = 0;  // assigned by InsertToken (1, 2, ...; never reused)
  std::string user;
  std::string hash_hex;             // unique among all tokens, revoked ones included
  std::vector<std::string> queues;  // the queues it may submit to, in the given order
  bool admin = false;
  std::int64_t created_ms = 0;
  bool revoked = false;

  friend bool operator==(const TokenRow&, const TokenRow&) = default;
};

// A queue configuration as it was applied (the service's queue file or a change through its API):
// the configuration in force is the latest row.
struct QueueConfigRow {
  std::int64_t id = 0;  // assigned by InsertQueueConfig (1, 2, ...; never reused)
  std::int64_t applied_ms = 0;
  std::string user;    // who applied it ("" = the service at its start)
  std::string source;  // where it came from ("api", "file q.yaml"); opaque
  std::string text;    // the configuration (the queue file's YAML); opaque

  friend bool operator==(const QueueConfigRow&, const QueueConfigRow&) = default;
};

// A job that ran and ended, as the service learns from it (its duration estimates and Gittins
// profiles: scheduler::DurationEstimator). Kept apart from the job's row so that the service reads
// the history in finish order, without the jobs' specs, and so that it outlives the job's row.
struct FinishedRunRow {
  std::int64_t seq = 0;  // the finish order, given by the service (1, 2, ...; unique)
  std::int64_t job_id = 0;
  std::int64_t finished_ms = 0;
  std::string user, queue;
  std::int32_t gpus = 0;       // the GPUs it asked for, all replicas (a share counts one)
  std::int64_t gpu_milli = 0;  // milli-GPU it held, all replicas (a whole GPU is 1000)
  std::int64_t run_ms = 0;     // how long it ran, all its runs together

  friend bool operator==(const FinishedRunRow&, const FinishedRunRow&) = default;
};

// One sample of the pool's figures over time (the service's history, GET /api/v1/pool/history),
// pool-wide (scope "") or of one GPU model (scope: its name). At tier 0 a sample as taken at
// time_ms (`samples` 1); at a coarser tier (kHistoryTiers) the mean of the `samples` tier-0 samples
// of its bucket [time_ms, time_ms + resolution), each figure averaged over the samples that know
// it. The figures are gauges, opaque here (the service says what each means); nullopt: not known
// in any of them (in use without NVML readings, pending jobs of one model).
struct PoolSampleRow {
  int tier = 0;
  std::int64_t time_ms = 0;
  std::string scope;
  std::int64_t samples = 1;
  double gpus = 0;
  double capacity_milli = 0;
  double allocated_milli = 0;
  std::optional<double> in_use_milli;
  double reporting_gpus = 0;  // GPUs with a reading behind in_use_milli
  double whole_gpus = 0;
  double shared_gpus = 0;
  double fragmented_milli = 0;
  double nodes_schedulable = 0;
  double nodes_cordoned = 0;
  double nodes_unhealthy = 0;
  double jobs_running = 0;
  std::optional<double> jobs_pending;

  friend bool operator==(const PoolSampleRow&, const PoolSampleRow&) = default;
};

// The history's resolutions, finest first. Tier 0 holds the samples as taken (the service samples
// every few seconds); each coarser tier holds one row per scope and bucket of `resolution_ms`,
// the mean of the finer tier's rows in it (weighted by their samples: the mean of the raw samples),
// written once the bucket has passed. A tier's rows are kept for `keep_ms`, long enough for the
// longest range read from it (1 h, 6 h, 24 h, 7 d, 30 d) plus one bucket of the next tier (whose
// open bucket is rolled up from it). Each resolution is a multiple of the one before, so every
// bucket of a tier falls inside one bucket of the next. Rows in all: about 360 per scope per tier
// (30 d at 2 h is 360), some 1,800 per scope whatever the service's age.
struct HistoryTier {
  std::int64_t resolution_ms;  // 0 for tier 0: as sampled
  std::int64_t keep_ms;
};
inline constexpr std::int64_t kMinuteMs = 60000;
inline constexpr HistoryTier kHistoryTiers[] = {
    {0, kMinuteMs * 61},                                            // 1 h, as sampled (10 s: 360)
    {kMinuteMs, kMinuteMs * 60 * 6 + kMinuteMs * 5},                // 6 h at 1 min: 360
    {kMinuteMs * 5, kMinuteMs * 60 * 24 + kMinuteMs * 30},          // 24 h at 5 min: 288
    {kMinuteMs * 30, kMinuteMs * 60 * 24 * 7 + kMinuteMs * 120},    // 7 d at 30 min: 336
    {kMinuteMs * 120, kMinuteMs * 60 * 24 * 30 + kMinuteMs * 120},  // 30 d at 2 h: 360
};
inline constexpr int kHistoryTierCount = 5;

// The orders a page of jobs can come in: one column of `jobs` each (store/job_sort.h). Ties are
// broken by id in the same direction, so the order is total and a row moves between two reads only
// when its key changed. Text keys compare as SQLite's BINARY (bytes); states by their names; a time
// of 0 (not yet) comes before every time.
enum class JobSortKey { kId, kName, kUser, kQueue, kState, kPriority, kStarted, kFinished };

// Where a page starts under a sort: strictly after the row with this key value and id. `text`
// holds the value of a text key (name, user, queue, state), `number` that of a number key
// (priority, started, finished); kId uses `id` only.
struct JobCursor {
  std::int64_t id = 0;
  std::string text;
  std::int64_t number = 0;

  friend bool operator==(const JobCursor&, const JobCursor&) = default;
};

// A filtered, sorted page of jobs. Unset filters match everything; set ones must match exactly.
// The default is newest first (id descending).
struct JobQuery {
  std::optional<std::string> user, state, queue;
  std::int64_t before_id = 0;  // 0 = start from the newest job; else only ids < before_id
                               // (kId descending only; the same as after = {before_id})
  JobSortKey sort = JobSortKey::kId;
  bool descending = true;
  std::optional<JobCursor> after;  // start after this row in the order (see JobCursor)
  int limit = 100;                 // 1 .. kMaxPageLimit
};

struct JobPage {
  std::vector<JobRow> jobs;         // in the query's order
  std::int64_t next_before_id = 0;  // the last row's id when another page follows; 0 = no more
  std::int64_t total = 0;           // jobs matching the filters, all pages together
};

inline constexpr int kMaxPageLimit = 10000;

}  // namespace gpupool::store

#include "store/schema.h"

#include <charconv>
#include <string>

namespace gpupool::store {
namespace {

// kMigrations[v] takes a database from version v to v + 1 (v = 0 is an empty file).
constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user TEXT NOT NULL,
  queue TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  priority INTEGER NOT NULL,
  submitted_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  placement_json TEXT NOT NULL,
  runtime_json TEXT NOT NULL,
  exit_code INTEGER);
CREATE INDEX jobs_state ON jobs(state, id);
CREATE INDEX jobs_user ON jobs(user, id);
CREATE INDEX jobs_queue ON jobs(queue, id);
CREATE INDEX jobs_user_state ON jobs(user, state, id);
CREATE INDEX jobs_user_queue ON jobs(user, queue, id);
CREATE INDEX jobs_state_queue ON jobs(state, queue, id);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL);
CREATE INDEX events_job ON events(job_id, time_ms, id);
CREATE TABLE tokens(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user TEXT NOT NULL,
  hash_hex TEXT NOT NULL UNIQUE,
  admin INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL);
CREATE TABLE token_queues(
  token_id INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  queue TEXT NOT NULL,
  PRIMARY KEY(token_id, pos)) WITHOUT ROWID;
CREATE TABLE node_conditions(node TEXT PRIMARY KEY, condition TEXT NOT NULL) WITHOUT ROWID;
)sql",
    // Version 2: a job's run history as the service keeps it (restarts, GPU time, checkpoints, a
    // preemption in progress); '' for the jobs of version 1.
    R"sql(
ALTER TABLE jobs ADD COLUMN history_json TEXT NOT NULL DEFAULT '';
)sql",
    // Version 3: the queue configurations applied (the queue file at a start, changes through the
    // API), so that a change survives a restart and who made it is kept; none for version 2.
    R"sql(
CREATE TABLE queue_configs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  applied_ms INTEGER NOT NULL,
  user TEXT NOT NULL,
  source TEXT NOT NULL,
  text TEXT NOT NULL);
)sql",
    // Version 4: the jobs that ran and ended, in the order they ended, with what the service
    // learns from them (its duration estimates and Gittins profiles); none for version 3 (their
    // specs are opaque here, so the jobs that ended before are not counted).
    R"sql(
CREATE TABLE finished_runs(
  seq INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  user TEXT NOT NULL,
  queue TEXT NOT NULL,
  gpus INTEGER NOT NULL,
  gpu_milli INTEGER NOT NULL,
  run_ms INTEGER NOT NULL);
)sql",
    // Version 5: the pool's figures over time (the dashboard's trends), at several resolutions
    // (store/rows.h: kHistoryTiers); none for version 4. Keyed by tier and time first: a tier's
    // newest bucket and a range of it are one index range.
    R"sql(
CREATE TABLE pool_samples(
  tier INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  scope TEXT NOT NULL,
  samples INTEGER NOT NULL,
  gpus REAL NOT NULL,
  capacity_milli REAL NOT NULL,
  allocated_milli REAL NOT NULL,
  in_use_milli REAL,
  reporting_gpus REAL NOT NULL,
  whole_gpus REAL NOT NULL,
  shared_gpus REAL NOT NULL,
  fragmented_milli REAL NOT NULL,
  nodes_schedulable REAL NOT NULL,
  nodes_cordoned REAL NOT NULL,
  nodes_unhealthy REAL NOT NULL,
  jobs_running REAL NOT NULL,
  jobs_pending REAL,
  PRIMARY KEY(tier, time_ms, scope)) WITHOUT ROWID;
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// Reads the version; 0 when the database has no meta table or no version row.
Result<std::int64_t> ReadVersion(SqliteDb& db) {
  Result<Statement> has_meta =
      db.Prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'");
  if (!has_meta) return Error(has_meta.error());
  Result<bool> row = has_meta->Step();
  if (!row) return Error(row.error());
  if (!*row) return 0;

  Result<Statement> get = db.Prepare("SELECT value FROM meta WHERE key = ?1");
  if (!get) return Error(get.error());
  Status bound = get->Bind(1, kSchemaVersionKey);
  if (!bound.ok()) return Error(bound);
  row = get->Step();
  if (!row) return Error(row.error());
  if (!*row) return 0;
  std::string text = get->ColumnText(0);
  std::int64_t version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 0) {
    return Error(Status::FailedPrecondition(db.file().string() + ": schema version '" + text +
                                            "' in table meta is not a version number"));
  }
  return version;
}

Status Migrate(SqliteDb& db) {
  Result<std::int64_t> version = ReadVersion(db);
  if (!version) return version.error();
  if (*version > kSchemaVersion) {
    return Status::FailedPrecondition(
        db.file().string() + ": schema version " + std::to_string(*version) +
        " is newer than this gpupool's " + std::to_string(kSchemaVersion) +
        "; the database was written by a later release, use that release or a newer one");
  }
  for (std::int64_t v = *version; v < kSchemaVersion; ++v) {
    GP_RETURN_IF_ERROR(
        db.Exec(kMigrations[v], "migrating the schema to version " + std::to_string(v + 1)));
  }
  if (*version == kSchemaVersion) return Status::Ok();
  Result<Statement> set = db.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)");
  if (!set) return set.error();
  GP_RETURN_IF_ERROR(set->Bind(1, kSchemaVersionKey));
  GP_RETURN_IF_ERROR(set->Bind(2, std::to_string(kSchemaVersion)));
  return set->Run();
}

}  // namespace

Status EnsureSchema(SqliteDb& db) {
  // IMMEDIATE: two processes opening a new file at once must not both create the tables.
  GP_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "starting the schema transaction"));
  Status status = Migrate(db);
  if (status.ok()) status = db.Exec("COMMIT", "committing the schema");
  if (!status.ok() && db.InTransaction()) {
    (void)db.Exec("ROLLBACK", "rolling back the schema");
  }
  return status;
}

}  // namespace gpupool::store

// The store's schema and its versioning.
//
// The schema version lives in the `meta` table under the reserved key kSchemaVersionKey. A new
// database is created at kSchemaVersion; an older one is migrated forward step by step in one
// transaction; a newer one (written by a later gpupool) is refused, because this binary cannot
// know what the later version means.
//
// Tables (version 5; version 2 added jobs.history_json, version 3 queue_configs, version 4
// finished_runs, version 5 pool_samples):
//   meta(key PRIMARY KEY, value)                        service metadata and the schema version
//   jobs(id INTEGER PRIMARY KEY AUTOINCREMENT, ...)     one row per job; AUTOINCREMENT so that an
//                                                       id is never reused, even after deletes
//   events(id, job_id, time_ms, state, reason)          a job's history; id keeps insertion order
//   tokens(id AUTOINCREMENT, user, hash_hex UNIQUE, admin, created_ms, revoked)
//   token_queues(token_id, pos, queue)                  the queues a token may submit to, in order
//   node_conditions(node PRIMARY KEY, condition)        only nodes that are not "ready"
//   queue_configs(id AUTOINCREMENT, applied_ms, user,   every queue configuration applied, the
//                 source, text)                         latest (largest id) in force
//   finished_runs(seq PRIMARY KEY, job_id, finished_ms,  every job that ran and ended, in the
//                 user, queue, gpus, gpu_milli, run_ms)  service's finish order (seq)
//   pool_samples(tier, time_ms, scope, samples,        the pool's figures over time, one row per
//                gpus, ..., PRIMARY KEY(tier,          tier, instant (bucket) and scope (pool or
//                time_ms, scope))                      GPU model); rows.h, kHistoryTiers
// Indexes serve the reads of Store: jobs by (state, id), (user, id), (queue, id), (user, state,
// id), (user, queue, id) and (state, queue, id), so that every combination of ListJobs filters
// finds an index whose equality columns cover at least two of its filters and whose last column
// gives the newest-first order without a sort (SQLite prefers the index with more equality
// columns); events by (job_id, time_ms, id).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "store/sqlite_db.h"

namespace gpupool::store {

inline constexpr std::int64_t kSchemaVersion = 5;
inline constexpr std::string_view kSchemaVersionKey = "schema_version";

// Brings the database behind `db` (the writer connection, no transaction open) to kSchemaVersion.
// Errors: kFailedPrecondition when the file's schema version is newer than kSchemaVersion or is not
// a number (the message names the file and both versions); SQLite failures as SqliteDb reports
// them. Nothing is changed on error.
Status EnsureSchema(SqliteDb& db);

}  // namespace gpupool::store

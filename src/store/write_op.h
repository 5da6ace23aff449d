// WriteOp: one change to the store, the unit that Store::Write applies. Several ops passed to one
// Write call commit together or not at all (e.g. a scheduling cycle that starts 50 jobs).
//
// Per op, what it does and how it can fail (the Write that holds a failing op changes nothing):
//   InsertJobOp        inserts `row` (row.id is ignored; a new id is assigned) and its first
//                      event under the new id (first_event.job_id is ignored). Result: the new id.
//   UpdateJobOp        replaces the mutable columns of job row.id -- state, reason, started_ms,
//                      finished_ms, placement_json, runtime_json, exit_code, history_json -- and
//                      appends `events` under row.id. user, queue, name, priority, submitted_ms and
//                      spec_json are left as inserted. kNotFound if there is no such job;
//                      kInvalidArgument if an event names another job (job_id not 0 or row.id).
//   DeleteJobOp        deletes a job and its events (retention). Its id is never given out again.
//                      kNotFound if there is no such job.
//   InsertTokenOp      inserts a token (row.id ignored). Result: the new id.
//                      kFailedPrecondition if another token has the same hash_hex.
//   RevokeTokenOp      marks token `id` revoked (revoking twice is fine). kNotFound if none.
//   SetNodeConditionOp records a node's condition; "ready" (the default) deletes the record.
//   SetMetaOp          sets a metadata key. kInvalidArgument for the reserved key
//                      "schema_version".
//   InsertQueueConfigOp appends a queue configuration (row.id ignored); the latest one is the
//                      configuration in force, the earlier ones its history. Result: the new id.
//   InsertFinishedRunOp appends the record of a job that ran and ended (row.seq is the caller's
//                      finish order and must be new). kFailedPrecondition if row.seq is taken.
//   InsertPoolSamplesOp adds the samples of one instant (rows at tier 0, each at its time_ms; tier
//                      and samples are ignored), then rolls up every bucket of each coarser tier
//                      that has passed by now_ms and was not yet written (kHistoryTiers, finest
//                      first: a bucket's row is the mean of the finer tier's rows in it), then
//                      deletes each tier's rows older than now_ms - keep_ms. A restart loses
//                      nothing: a bucket that passed while the service was down is rolled up from
//                      the rows it has at the next sample. kFailedPrecondition if a sample of that
//                      time and scope exists.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "store/rows.h"

namespace gpupool::store {

struct InsertJobOp {
  JobRow row;
  EventRow first_event;
};
struct UpdateJobOp {
  JobRow row;
  std::vector<EventRow> events;
};
struct DeleteJobOp {
  std::int64_t id = 0;
};
struct InsertTokenOp {
  TokenRow row;
};
struct RevokeTokenOp {
  std::int64_t id = 0;
};
struct SetNodeConditionOp {
  std::string node;
  std::string condition;
};
struct SetMetaOp {
  std::string key;
  std::string value;
};

struct InsertQueueConfigOp {
  QueueConfigRow row;
};

struct InsertFinishedRunOp {
  FinishedRunRow row;
};

struct InsertPoolSamplesOp {
  std::vector<PoolSampleRow> rows;
  std::int64_t now_ms = 0;
};

using WriteOp = std::variant<InsertJobOp, UpdateJobOp, DeleteJobOp, InsertTokenOp, RevokeTokenOp,
                             SetNodeConditionOp, SetMetaOp, InsertQueueConfigOp,
                             InsertFinishedRunOp, InsertPoolSamplesOp>;

}  // namespace gpupool::store

// Text views of the service's JSON (docs/api.md) for the client commands: the jobs table, one
// job with its placement and events, the nodes table, the `gpupool top` frame, the tokens table.
// Pure functions of (JSON, now): the caller passes the clock reading and the terminal width, so the
// output is the same on every run for the same input. Missing or null members print as "-"; a
// member of an unexpected type never aborts (the server may be newer than the client).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gpupool::app {

// "2026-11-30T10:00:00.000Z" (or without fraction) -> seconds since the Unix epoch, UTC.
std::optional<std::int64_t> ParseTimestamp(std::string_view text);

// Age of something: "45s", "12m", "3h", "2d" (the largest unit, rounded down).
std::string FormatAge(std::int64_t seconds);

// A duration: 7200 -> "2h", 5400 -> "1h30m", 90 -> "1m30s", 45 -> "45s".
std::string FormatDuration(std::int64_t seconds);

// A job's GPUs per replica from its `resources`: "2", "0.5", "0"; with replicas > 1,
// "<per replica>x<replicas>" ("2x4" = 4 replicas of 2 GPUs).
std::string FormatJobGpus(const nlohmann::json& job);

// The `gpupool jobs` table: ID NAME USER QUEUE STATE GPUS NODE AGE REASON, one row per job of
// `jobs` (the array of GET /api/v1/jobs), two spaces between columns. NODE is the first placed
// node, "+N" for N more; AGE counts from submitted_at to `now_s`. `width` > 0 truncates REASON
// (with "...") so that rows fit, keeping at least 10 of its characters; 0 = no truncation.
std::string FormatJobsTable(const nlohmann::json& jobs, std::int64_t now_s, int width);

// `gpupool job ID`: every member of the job, one per line; for a pending job its reason on its own
// line, then (from `pending`) "pending: position 3 of 7 in queue team-a" ("in the pool" without
// queues, "not ranked yet" before a cycle) and each reason as "  code: message"; placement per
// replica with node, CPU, memory and each GPU's index, UUID and share; then
// the events (`events` is the array of GET /api/v1/jobs/{id}/events, may be empty).
std::string FormatJobDetail(const nlohmann::json& job, const nlohmann::json& events,
                            std::int64_t now_s);

// `gpupool nodes`: NAME CONDITION MODEL GPUS (used/total) MILLI (used/total) CPU (cores
// used/total) MEM (GiB used/total) JOBS. A simulated node's name ends in '*', explained in a
// footnote.
std::string FormatNodesTable(const nlohmann::json& nodes);

// One `gpupool top` frame: `title`, the pool totals summed from `nodes`, each member of `pool`
// (GET /api/v1/pool: fragmentation, by model, ...) except its per-GPU list, then per node a bar
// with one character per GPU ('#' fully used, '+' shared, '.' free, 'x' unhealthy).
std::string FormatTopFrame(const nlohmann::json& pool, const nlohmann::json& nodes,
                           std::string_view title);

// `gpupool token list`: ID USER QUEUES ADMIN CREATED REVOKED.
std::string FormatTokensTable(const nlohmann::json& tokens);

// `gpupool queues` (GET /api/v1/queues): NAME PARENT GUARANTEED LIMIT WEIGHT USED BORROWED
// PENDING RUNNING (GPUs to the thousandth; no limit is "-"), then "applied AT by USER (SOURCE)"
// when the answer has it; without queues one line saying so.
std::string FormatQueues(const nlohmann::json& answer);

// `gpupool queues set` (PUT /api/v1/queues): one "changed: ..." line per change ("no change"
// when there is none), one "warning: ..." line per warning, then FormatQueues.
std::string FormatQueuesChange(const nlohmann::json& answer);

// `gpupool whoami`: "alice (admin)\nqueues: default, gpu\n".
std::string FormatWhoami(const nlohmann::json& who);

}  // namespace gpupool::app

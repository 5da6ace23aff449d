// Job: the unit of work the pool schedules, and its lifecycle.
//
//   pending -> running -> succeeded | failed | cancelled | timed_out | lost
//   pending -> cancelled                      (cancelled before it ran)
//   running -> pending                        (lost or preempted, and the job allows a requeue)
//
// Every change of state is an event with its time and reason (the store keeps them); a pending job
// always carries its current reason (the scheduler's own words: "never" is refused at submission,
// so a pending job's reason is always a "not now").
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_state.h"
#include "cluster/pod_request.h"

namespace gpupool::scheduler {

struct ServiceProfile;  // scheduler/gittins.h

// Jobs are numbered by the store from 1 upwards; 0 is "no job".
using JobId = std::int64_t;

enum class JobState { kPending, kRunning, kSucceeded, kFailed, kCancelled, kTimedOut, kLost };

// "pending", "running", "succeeded", "failed", "cancelled", "timed_out", "lost".
std::string_view JobStateName(JobState s);
// The state named `name` (as JobStateName writes it), or nullopt.
std::optional<JobState> ParseJobState(std::string_view name);
// True for the states a job never leaves (succeeded, failed, cancelled, timed_out, lost).
bool IsTerminal(JobState s);

// What the scheduler needs of a job: R replicas, each asking `replica` of one node (whole GPUs,
// a share of one GPU, or none), all placed at once or not at all (a gang when R > 1).
struct JobRequest {
  cluster::PodRequest replica;
  int replicas = 1;
  int priority = 0;  // higher first
  std::string queue = "default";
  bool preemptible = false;
  std::int64_t time_limit_s = 0;  // 0 = none
  // Expected run time in seconds for orders that rank by it (qssf); may be negative or 0 when an
  // estimator says so; nullopt = no estimate. Set by the replay's estimator (sim/replay.h).
  std::optional<std::int64_t> duration_estimate_s;
  // The Gittins index of the job's class at each point of attained service, for `gittins`
  // (scheduler/gittins.h); shared by the jobs of a class; null = no history yet. Set by the
  // replay from the jobs that finished before this one was submitted.
  std::shared_ptr<const ServiceProfile> service_profile;
};

// Milli-GPU of the whole job: all replicas (a share counts its milli).
inline std::int64_t JobGpuMilli(const JobRequest& r) {
  return r.replica.total_gpu_milli() * static_cast<std::int64_t>(r.replicas);
}

// Where a job runs: one allocation per replica, in replica order.
using Placement = std::vector<cluster::Allocation>;

}  // namespace gpupool::scheduler

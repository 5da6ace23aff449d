// WaitReason: one reason why a pending job cannot start now, in words and as data - a stable code,
// the scheduler's message, and the numbers behind it - so that people read the words and tools
// read the numbers (the service's `pending.reasons`, docs/serve.md).
//
// A pending job carries every reason that applies in the cycle that last considered it, not only
// the first: e.g. over its queue's limit AND fragmented. The codes, with the numbers each sets:
//
//   over_limit             the job would take `queue` (the job's or an ancestor) above its limit:
//                          used_gpus, limit_gpus, job_gpus; or above its limit for the GPU model
//                          `models`, on every model the job may run on (one reason per model;
//                          used_gpus and limit_gpus are of that model)
//   over_quota             the job does not fit now and its queue already uses its guarantee or
//                          more, so the whole job would run on borrowed GPUs: it waits for idle
//                          ones and reclaims none: queue, used_gpus, guaranteed_gpus, job_gpus;
//                          with per-model guarantees also `models`, the model it may run on with
//                          the most guarantee left (none left there), as for waiting_to_borrow;
//                          with preemption also a job that may not be preempted and would borrow
//                          (per model: `models` lists those it may run on, none holding it)
//   waiting_to_borrow      the job does not fit now and its queue is below its guarantee, but the
//                          job would cross it (part of it borrowed, so it reclaims none either):
//                          queue, used_gpus, guaranteed_gpus, job_gpus. Neither is given with
//                          over_limit (the limit caps borrowing anyway)
//   nodes_unavailable      every node that could hold it is cordoned, draining or unhealthy: nodes
//   no_gpu_of_model        the job names GPU models and no schedulable node of them has a GPU
//                          free for it: models, needed, free (of the models, 0),
//                          free_other_models (free whole GPUs, or milli for a share)
//   insufficient           a resource is short in the whole pool (or on every node that has the
//                          GPUs, for CPU and memory): resource, needed, free, short_by
//   fragmentation          enough is free in total, but not on one node (or GPU, for a share):
//                          resource, needed, free, most_on_one (node, or GPU for a share)
//   topology               the job requires NVLink (each replica's GPUs inside one island,
//                          PodRequest::require_nvlink) and without that rule more of its replicas
//                          would fit now: replicas, resource "gpus", needed (GPUs per replica, in
//                          one island), most_on_one (the most GPUs free in one island of a ready
//                          node). Also, with replicas only, when the free counts say it fits but
//                          the placement found no room (the counts and the placement disagree:
//                          not expected)
//   gang_incomplete        some but not all replicas of a gang fit now: replicas, replicas_fit
//   behind_higher_priority strict order: behind the head `job`, which does not fit; or
//                          `jobs_ahead` jobs of the same shape, the first `job`, ahead of it
//   reservation_ahead      EASY backfill, or a gang's reservation: starting now would delay
//                          `job`'s reservation at reserved_at_s (absent: it waits for jobs
//                          without a time limit); the first, in rank order, of those it would
//                          delay
//   reserved               the job itself holds a reservation (a gang's, a wide single job's, an
//                          EASY head's): it starts at reserved_at_s (absent:
//                          running jobs without a time limit hold what it needs, no start time is
//                          known) and the reservation lapses at lapses_at_s if it has not started
//                          (absent: no timeout); reserved_nodes: the nodes and GPUs it will take
//                          then, which no backfilled job may hold at that time (absent with no
//                          start time)
//   reservation_lapsed     its reservation lapsed at lapses_at_s without it starting (the
//                          timeout); it waits without one, holding nothing back, and may reserve
//                          again from reserve_again_at_s
//   waiting_for_partner    it fits, but the window policy lets it wait for a job to share its
//                          GPU with (a cycle at most)
//   preempted              stopped to make room for `job`; tried again in the next cycle
//   waiting_for_victims    it preempted `victims` and gets their GPUs once their processes have
//                          stopped (SchedulerOptions::wait_for_victims: the service)
//
// Units: `resource` is "gpus" (whole GPUs), "gpu_milli" (a share), "gpu_memory_mib" (on one
// GPU), "cpu_milli" or "memory_mib" (on one node), and needed / free / short_by / most_on_one count
// in it; queue amounts are GPUs (a share counts its fraction), as queue::QueueSet keeps them.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_state.h"
#include "scheduler/job.h"

namespace gpupool::scheduler {

// In the order a job's reasons are listed: the queue's rules, then resources, then the jobs ahead.
enum class WaitCode {
  kOverLimit,
  kOverQuota,
  kWaitingToBorrow,
  kNodesUnavailable,
  kNoGpuOfModel,
  kInsufficient,
  kFragmentation,
  kTopology,
  kGangIncomplete,
  kBehindHigherPriority,
  kReservationAhead,
  kReserved,
  kReservationLapsed,
  kWaitingForPartner,
  kPreempted,
  kWaitingForVictims,
};

// The stable snake_case name: "over_limit", "over_quota", "waiting_to_borrow",
// "nodes_unavailable", "no_gpu_of_model", "insufficient", "fragmentation", "topology",
// "gang_incomplete", "behind_higher_priority", "reservation_ahead", "reserved",
// "reservation_lapsed", "waiting_for_partner", "preempted", "waiting_for_victims".
std::string_view WaitCodeName(WaitCode c);

// One replica of a reservation: the node it will start on and its GPU indices there.
struct ReservedReplica {
  std::string node;
  std::vector<int> gpus;

  friend bool operator==(const ReservedReplica&, const ReservedReplica&) = default;
};

struct WaitReason {
  WaitCode code = WaitCode::kInsufficient;
  std::string message;   // the scheduler's words, without the "not now: " prefix
  std::string resource;  // insufficient, fragmentation (see Units above)
  std::string queue;     // over_limit, over_quota, waiting_to_borrow
  std::string models;    // no_gpu_of_model: "A100-SXM-80GB|H100-SXM"; per-model quota: "H100"
  std::optional<std::int64_t> needed;
  std::optional<std::int64_t> free;
  std::optional<std::int64_t> short_by;
  std::optional<std::int64_t> most_on_one;
  std::optional<std::int64_t> free_other_models;
  std::optional<double> used_gpus;
  std::optional<double> limit_gpus;
  std::optional<double> guaranteed_gpus;
  std::optional<double> job_gpus;
  std::optional<int> nodes;
  std::optional<int> replicas;
  std::optional<int> replicas_fit;
  std::optional<JobId> job;
  std::optional<int> jobs_ahead;
  std::optional<double> reserved_at_s;
  std::optional<double> lapses_at_s;            // reserved, reservation_lapsed
  std::optional<double> reserve_again_at_s;     // reservation_lapsed
  std::vector<JobId> victims;                   // waiting_for_victims
  std::vector<ReservedReplica> reserved_nodes;  // reserved
};

// The words of a job's reasons: "not now: " and the messages joined by "; "; "" for none.
std::string JoinWaitReasons(const std::vector<WaitReason>& reasons);

// Where a pending job stands in its queue (Scheduler::QueuePosition).
struct PendingPosition {
  std::string queue;  // "" without queues: the whole pool is one queue
  int position = 0;   // 1-based
  int count = 0;      // pending jobs ranked in that queue
};

// GPUs of one node with something free that cannot take a GPU's worth of one replica of a given
// job now (Scheduler::StrandedFor): free capacity stranded for that job.
struct StrandedGpus {
  int node = -1;
  std::uint32_t gpus = 0;  // bit g = GPU g
  // The node's misfit when a replica does not fit the node; kGpus when it does but these GPUs'
  // free share (or GPU memory) is below the replica's ask per GPU.
  cluster::Misfit why = cluster::Misfit::kGpus;
};

}  // namespace gpupool::scheduler

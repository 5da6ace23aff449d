// Replay: a job trace through the pool's scheduler (scheduler::Scheduler, the very code the
// service runs) in simulated time. A discrete-event simulation: the clock jumps from event to
// event (a submission or a job's end), never sleeps. At each instant, as in the Helios artifact's
// simulator (Hu et al., "Characterization and Prediction of Deep Learning Workloads in Large-Scale
// GPU Datacenters", SC '21; github.com/S-Lab-System-Group/HeliosArtifact, "QSSF Service"): the
// jobs that end release their GPUs, the jobs submitted join the queue, then one scheduling cycle
// runs; a job placed at t runs until t + its duration.
//
// Pools: each pool is its own cluster of `nodes` x `gpus_per_node` GPUs and takes the jobs whose
// queue has its name (the Philly setting: one pool per virtual cluster, the VC's nodes as a hard
// limit, VCs never sharing); a single pool with an empty name takes every job. Pools are
// independent, so they run on `threads` threads.
//
// A job of g GPUs asks for one node when g <= gpus_per_node, else for a gang of g / r replicas of
// r = gcd(g, gpus_per_node) GPUs (16 GPUs: 2 whole 8-GPU nodes; 12: three 4-GPU replicas on the
// fewest nodes, where Helios takes one whole node and 4 GPUs of another).
//
// Orders (scheduler/job_order.h): "fifo", "sjf", "qssf", "priority". The trace has no time limits,
// so sjf reads each job's actual duration as its limit: an oracle, as in the published replay, and
// the result says so. qssf needs a duration estimate: `estimator` "philly-noise" is the Helios
// artifact's Philly estimator, the actual duration with a random error drawn per job (an oracle
// too, labelled); "learned" is scheduler::DurationEstimator fed only with the jobs of the pool
// that have finished before the job is submitted (no oracle); "none" gives no estimate (qssf then
// falls back to fewer GPUs first).
//
// Errors: InvalidArgument for an unknown order or estimator, a pool without nodes, or a job that
// no pool takes or that is larger than its pool (naming the job's trace line). Nothing is
// replayed on error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/node_spec.h"
#include "common/status.h"
#include "queue/queue_set.h"
#include "sim/philly_trace.h"

namespace gpupool::sim {

struct ReplayPool {
  std::string name;  // the queue whose jobs it takes; "" = every job
  int nodes = 0;
  int gpus_per_node = 8;
  // The nodes themselves (an openb node list); empty: `nodes` identical nodes of gpus_per_node.
  std::vector<cluster::NodeSpec> specs;
};

struct ReplayOptions {
  std::string order = "fifo";
  std::string placement = "bestfit";  // a placement policy name (placement/policy_registry.h)
  bool strict_order = true;           // no job overtakes one that does not fit (no backfill)
  // With strict_order: EASY backfill behind the head (with queues, behind each queue's head).
  bool easy_backfill = false;
  // Without strict_order: up to max_reservations gangs (and single jobs wider than any node's
  // free GPUs) that do not fit hold a reservation
  // (scheduler::SchedulerOptions::gang_reservation).
  bool gang_reservation = false;
  // How many gangs may hold a reservation at once (SchedulerOptions::max_reservations).
  int max_reservations = 4;
  // A single job wider than any node's free GPUs reserves too (reserve_wide_jobs).
  bool reserve_wide_jobs = true;
  // Every reservation lapses after this many simulated seconds without its job starting (0:
  // never; SchedulerOptions::reservation_timeout_s). A cycle runs when one lapses or comes back.
  double reservation_timeout_s = 0;
  // Waiting jobs may preempt running ones the order ranks below them (las); a preempted job
  // resumes later with what it had left plus Helios' checkpoint cost (7 s for 1 GPU, 30 s up to
  // 8, 60 s above).
  bool preemption = false;
  std::string estimator = "none";  // "none", "learned" or "philly-noise" (oracle)
  std::uint64_t seed = 42;
  int threads = 0;  // 0 = the machine's cores
  // Sample the pools every this many simulated seconds (0: no samples).
  std::int64_t sample_every_s = 0;
  // Queues of one shared pool (queue/queue_set.h): each job goes to the queue its trace names;
  // preemption reclaims guarantees. Empty: none.
  std::vector<queue::QueueSpec> queues;
  // A job that can never run in its pool (too large, or no node of its GPU model) is left out and
  // counted (ReplayRun::never) instead of failing the replay.
  bool skip_never = false;
};

// The pools at one instant, all pools together.
struct ReplaySample {
  std::int64_t t_s = 0;
  double allocated_pct = 0;   // GPU milli allocated / capacity
  double fragmented_pct = 0;  // FGD's expected fragment (the scheduler's measure) / capacity
  double pending_gpus = 0;    // GPUs the waiting jobs ask for
};

// One replica of a job where it first started: its node and the indices of its GPUs there.
struct ReplayedReplica {
  std::string node;
  std::vector<int> gpus;

  friend bool operator==(const ReplayedReplica&, const ReplayedReplica&) = default;
};

// One job's outcome.
struct ReplayedJob {
  std::int64_t id = 0;
  std::string queue;
  int num_gpus = 0;
  std::int64_t submit_s = 0;
  std::int64_t start_s = 0;  // the first start
  std::int64_t end_s = 0;
  std::int64_t run_s = 0;  // time it ran, all runs together (checkpoint costs included)
  // EASY backfill or gang reservation: the time first reserved for it (-1: never; a time only
  // when running jobs' limits gave one).
  std::int64_t reserved_s = -1;
  std::vector<ReplayedReplica> placement;  // its first start's, per replica (empty: never ran)
};

struct ReplayQueueStats {
  std::string queue;
  std::int64_t jobs = 0;
  double avg_jct_s = 0;
  double avg_queue_s = 0;
  double gpu_seconds = 0;   // GPU time its jobs ran (checkpoint costs included)
  double avg_slowdown = 0;  // mean over its jobs of JCT / time run (1: never waited)
};

struct ReplayRun {
  std::string order;
  std::string placement;
  bool strict_order = true;
  // What the run knew that a scheduler would not (empty: nothing), e.g. "sjf reads each job's
  // actual duration as its time limit (the trace has none)".
  std::vector<std::string> oracles;
  std::int64_t jobs = 0;   // replayed
  std::int64_t never = 0;  // left out: they could never run in their pool (skip_never)
  double avg_jct_s = 0;
  double median_jct_s = 0;
  double p95_jct_s = 0;  // nearest rank
  double avg_queue_s = 0;
  std::int64_t makespan_s = 0;  // from the first submission to the last end
  // GPU time used / (GPUs of all pools x makespan).
  double utilization = 0;
  std::int64_t preemptions = 0;
  std::vector<ReplayQueueStats> queues;  // by queue name
  // Jain's index over the queues' mean slowdowns, (sum x)^2 / (n sum x^2): 1 when every queue's
  // jobs are slowed alike, 1/n when one queue takes all the waiting; 1 with a single queue.
  double queue_fairness = 1;
  std::vector<ReplaySample> samples;  // every sample_every_s
  // Means over the samples (0 without samples).
  double mean_fragmented_pct = 0;
  double mean_pending_gpus = 0;
  std::vector<ReplayedJob> outcomes;  // in the order of the input
  double seconds = 0;                 // wall time of the replay
};

Result<ReplayRun> Replay(const std::vector<TraceJob>& jobs, const std::vector<ReplayPool>& pools,
                         const ReplayOptions& opt);

// The pools of the Philly setting: one per VC with round(nodes x scale) nodes (at least 1).
std::vector<ReplayPool> VcPools(const std::vector<std::pair<std::string, int>>& vcs, double scale,
                                int gpus_per_node = 8);

// The Helios artifact's Philly duration estimator (an oracle): for each job, in order, the actual
// duration x with a relative error e drawn as: with probability 0.1, e ~ U(-0.1, 0.1); 0.4,
// |e| ~ U(0.1, 0.5); 0.2, |e| ~ U(0.5, 1); 0.2, |e| ~ U(1, 10); 0.1, |e| ~ U(10, 100), the sign a
// fair coin; the estimate is x + x e truncated toward zero (negative for about 15 % of jobs).
std::vector<std::int64_t> PhillyNoiseEstimates(const std::vector<TraceJob>& jobs,
                                               std::uint64_t seed);

}  // namespace gpupool::sim

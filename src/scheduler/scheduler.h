// Scheduler: the pool's scheduler as a long-running component - the SAME placement core
// (cluster::ClusterState, placement::Placer and the registered policies) that `gpupool sim`
// replays, wrapped with jobs, gangs, nodes that come and go, and a scheduling cycle that says why
// each waiting job waits. It performs no I/O: the service (src/server/) persists what it decides
// and runs the jobs; the simulators drive it directly.
//
// Jobs. A job asks for R replicas of one per-node request (JobRequest). It is either pending
// (AddPending), holding a placement (Allocate, or placed by RunCycle), or unknown to the
// scheduler (finished: Release). Allocate and Release return a Status instead of aborting: an
// overcommit, a double release or a bad row restored from a database is an error the caller
// survives and reports, and nothing is half applied.
//
// The scheduling cycle (RunCycle): every pending job, in the order of the replaceable ordering
// step (JobOrder: priority, then submission), placed window by window: consecutive single-replica
// jobs form one scheduling window of `window` jobs that the policy places together (the
// project's own `fgd-window` groups sharing jobs that fill a GPU); a gang (R > 1) is placed at its
// turn, all replicas or none, on the fewest nodes (each step takes the node that holds the most
// of the replicas still to place; ties to the policy's score, then the seeded node order), each
// replica's GPUs inside one NVLink island where the node has islands (placement's GPU choice; a
// preference, or a rule for a request with require_nvlink: cluster/pod_request.h).
// Within a cycle the pool only fills, so a request shape that fitted nowhere is not tried again
// in the same cycle: the cycle costs O(placements + distinct failed shapes) node scans. For the
// same reason (the filter is monotone in what is allocated), a cycle after which nothing was freed
// (no release, no node or GPU back in service, no node added) tries only the jobs that arrived
// since the last cycle; the jobs already waiting keep their reasons until the next full cycle.
// Options change the walk (SchedulerOptions): with queues, the queue furthest below its weighted
// guarantee goes first and a job that would break a queue's limit waits; with strict_order the
// walk stops at the first job that does not fit (EASY backfill then lets later jobs pass that
// cannot delay its reservation; with queues each queue's head reserves; gang_reservation does the
// same behind up to max_reservations gangs, or wide single jobs, that do not fit, in the default
// mode; reservations are taken in rank order, each against the pool as the earlier ones leave
// it, and name their nodes (Reservation); a reservation_timeout_s lets a reservation lapse); with
// preemption, the jobs that did not fit may then stop lower-ranked (JobOrder::Preempts) or
// borrowing (queue reclaim) jobs, the fewest that make room (CycleResult::preempted), never a job
// within its minimum run time, preferring the lowest ranked or the least lost work since a
// checkpoint (VictimChoice); the victims are freed at once (the simulators) or hold their GPUs
// until the caller requeues them (wait_for_victims: the service, whose processes take a grace
// period to stop). Attained GPU time follows the clock the caller sets (SetClock).
//
// Reasons. "Never" (no node of this pool could hold the job even empty: wrong size or model, or
// for require_nvlink a replica larger than every NVLink island of the pool) is
// CheckFeasible's error, for the service to refuse at submission. A pending job carries every
// "not now" that applies in the cycle that last considered it, in words and as data
// (scheduler/wait_reason.h: over its queue's limit or guarantee, which resource is short and by
// how much, "fits in total but fragmented", a gang not yet placeable, the job ahead of it in
// strict order or holding the reservation, its own reservation and when it lapses, jobs of the
// same shape ahead). They cost the cycle what one reason did: the resource reasons are computed
// once per distinct shape that failed or waits over a limit (one scan of the nodes each, no
// placement), shared by the jobs of that shape. Behind the head of a strict order the walk
// stops, so those jobs get only "behind" (and EASY's verdict), not the resource reasons they
// would meet. QueuePosition is read from the ranked list of the last full cycle (followed by the
// arrivals the cycles since ranked).
//
// The FGD target workload is learned from the requests the scheduler has seen (a decaying
// histogram, placement::WorkloadLearner), never from jobs that have not arrived; it is re-derived
// at the start of a cycle after `relearn_every` new requests, and sooner while the history is
// short (whenever it has doubled); scores are then recomputed.
//
// Thread safety: none; one owner (the service's scheduling thread, under its lock).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cluster/cluster_state.h"
#include "cluster/model_table.h"
#include "cluster/node_spec.h"
#include "common/status.h"
#include "placement/placer.h"
#include "placement/policy.h"
#include "placement/workload_learner.h"
#include "queue/queue_set.h"
#include "scheduler/job.h"
#include "scheduler/job_order.h"
#include "scheduler/wait_reason.h"

namespace gpupool::scheduler {

// Why a GPU takes no new work (Scheduler::gpu_no_work_reason).
inline constexpr std::string_view kMigNoWorkReason =
    "MIG mode: gpupool does not place jobs on MIG instances yet";
inline constexpr std::string_view kUnhealthyNoWorkReason = "unhealthy: lost or unreadable (NVML)";

enum class NodeCondition { kReady, kCordoned, kDraining, kUnhealthy, kRemoved };
// "ready", "cordoned", "draining", "unhealthy", "removed".
std::string_view NodeConditionName(NodeCondition c);

// Which victims preemption prefers among the running jobs a waiting job may stop (the candidates:
// preemptible, run for at least SchedulerOptions::min_run_s, and either ranked below it by the
// order, JobOrder::Preempts, or in a queue that borrows what the waiting job's guarantee covers).
// In both cases the victims are taken from the candidates in this preference order until the
// waiting job fits, and then every victim it can do without is kept running (the latest taken
// first), so that exactly what is needed is freed.
//   kRank: the lowest ranked first (by the order; for reclaim the most borrowing queue first,
//     then the lowest ranked inside it): Tiresias' and Helios' rule, the replay's default.
//   kLeastLostWork: the least lost work first: the seconds since the job's last checkpoint
//     (Scheduler::Checkpointed), or since its current run began when it has not checkpointed in
//     this run; ties by rank. The order's rank only decides who is a candidate (priority: every
//     preemptible job of a strictly lower priority); for reclaim the most borrowing queue still
//     goes first and lost work orders the jobs inside it. The service's default.
enum class VictimChoice { kRank, kLeastLostWork };

struct SchedulerOptions {
  std::string policy = "fgd-window";
  int window = 0;  // jobs per scheduling window; 0 = the policy's default
  std::uint64_t seed = 42;
  std::string order = "priority";
  double workload_half_life = 1000;  // in observed replica requests
  int relearn_every = 64;            // new observations before the workload is re-derived
  // Cycles a job that fits may be deferred by the window policy to wait for a partner (fgd-window
  // lets a share that could fill a GPU with a later one wait; placement/window.h); within them it
  // waits at most `window` - 1 arrivals. 0: never deferred. The service runs the next cycle a
  // tick later.
  int max_defer_cycles = 1;
  // Strict order: the cycle stops at the first job that does not fit, so no job overtakes it (no
  // backfill; the Helios replay's FIFO, SJF and QSSF). The jobs behind it wait with a reason
  // naming it. Jobs are then placed one at a time (a window of 1). With queues, per queue (as
  // Kueue's StrictFIFO): a queue's first job that does not fit, or that its queue's limit holds,
  // blocks the later jobs of that queue only; the other queues go on. With queues and EASY
  // backfill, each queue's head that does not fit (or that fits but would delay a reservation
  // taken before it in rank order) holds a reservation of its own (a head its queue's limit
  // holds reserves nothing: the pool is not what it waits for), and a job behind, in any queue,
  // starts only if it delays none of them.
  bool strict_order = false;
  // EASY backfill, with strict_order: the job at the head that does not fit gets a reservation,
  // the earliest time at which it fits once running jobs end by their time limits; a job behind
  // it starts now only if that cannot delay the reservation (it ends by its limit before the
  // reserved time, or at that time it leaves free the nodes the reservation names, or the head
  // could move to other nodes free then that no other reservation needs). A job without a time
  // limit is taken to run forever. With several reservations (queues, gang_reservation) a job
  // behind starts only if it delays none.
  bool easy_backfill = false;
  // Gang reservation, without strict_order: the highest-ranked gang (JobRequest::replicas > 1)
  // that does not fit gets a reservation as the EASY head does (the earliest time it fits once
  // running jobs end by their time limits), and every job ranked behind it starts only if that
  // cannot delay the reservation: EASY's rule, the same code. The jobs ranked ahead of it are
  // placed as always. Behind the gang jobs are placed one at a time (no scheduling window, no
  // deferral) and preempt nothing (they would overtake the gang). Up to max_reservations gangs
  // hold one at once: behind the first, the next gang in rank order that does not fit (or that
  // fits but would delay a reservation) reserves too, against the pool as the earlier
  // reservations leave it. A single-replica job of whole GPUs reserves as a gang does when it
  // asks for more GPUs than any schedulable node has free as the cycle begins (it then fits
  // nowhere in the cycle, so it is walked alone, outside the window, as a gang): Slurm's backfill
  // reserves for any blocked job it plans, and such a job starves as a gang does while small
  // jobs keep taking a GPU of every node. Other single jobs (one that fits on some node's free
  // GPUs but loses them to its window's neighbours, a share) are placed inside a window together
  // with their neighbours, which the window policy may place before knowing that one fails, and
  // do not reserve. false: a gang that does not fit is skipped
  // and later jobs take what is free (it may wait for ever while smaller jobs keep coming).
  bool gang_reservation = false;
  // Gang reservation: how many gangs may hold a reservation at once (>= 1; 1: the first only, as
  // before). Every reservation makes each job behind it check one more reserved state, so the
  // bound keeps a cycle's cost linear in the queue; 4 covers the few large gangs a pool has
  // waiting at once without letting reservations fence off the whole pool (docs/replay.md has
  // the measurements). With strict order and queues the heads reserve, one per queue, unbounded.
  int max_reservations = 4;
  // Gang reservation: a single job wider than any node's free GPUs reserves too (see above).
  // false: only gangs reserve (as before; on Philly at a quarter this costs the 8-GPU jobs 4-9 %
  // more queueing and saves FIFO 2.4 % and LAS 7.6 % of the average JCT: docs/replay.md).
  bool reserve_wide_jobs = true;
  // Reservation timeout, in seconds of the clock, for every reservation (a gang's, the EASY
  // head's): a job that has not started within this time after its reservation was first made
  // loses it (it lapses) and then waits as long again without one, holding nothing back (the next
  // gang in rank order may reserve; with strict_order the jobs behind the head pass it when they
  // fit); after that it may reserve again, with a fresh timeout. The point is a reservation that
  // cannot be met: while running jobs without a time limit hold what the job needs, no start time
  // is known (Scheduler::reservation() says infinity), and a job without a time limit is then not
  // let past it either (it could hold the same GPUs for ever), so GPUs may stay idle: the timeout
  // bounds that. The wait as long again without one keeps a lapsed job from taking the
  // reservation straight back (which would hold the GPUs idle for ever after all), and the
  // reservation coming back keeps it from starving. Set it above the longest time limit: a job
  // blocked only by jobs with limits is then reserved no later than that limit and starts before
  // its reservation lapses. 0: reservations never lapse, and a job without a time limit passes a
  // reservation that has no start time (the EASY rule before timeouts existed).
  double reservation_timeout_s = 0;
  // Preemption: a job that does not fit may preempt running jobs that the order ranks below it
  // (JobOrder::Preempts) and that allow it (JobRequest::preemptible): the fewest, lowest-ranked
  // ones whose GPUs make it fit. They come back pending with their attained GPU time and one more
  // restart (CycleResult::preempted: the caller stops them).
  bool preemption = false;
  // Minimum run time, in seconds of the clock: a job whose current run began less than this long
  // ago is no victim (it has not yet earned back what a start costs). 0: every run may be stopped.
  double min_run_s = 0;
  // Which of the jobs a waiting job may stop go first (see VictimChoice).
  VictimChoice victim_choice = VictimChoice::kRank;
  // Victims hold their placement until the caller reports that their process has ended
  // (Requeue): the preempting job is not placed in the same cycle but waits for them, and no
  // GPU is booked twice. false: the victims' GPUs are free at once and the waiting job is placed
  // in the same cycle (the simulators, where a stop takes no time). The service sets it.
  bool wait_for_victims = false;
  // Queues (queue/queue_set.h): every job names one (JobRequest::queue); no job starts above its
  // queue's limit; jobs of the queue furthest below its weighted guarantee go first; and, with
  // `preemption`, a job that its queue's guarantee covers reclaims borrowed GPUs by preempting
  // jobs of queues above their guarantee; then a job that is not preemptible does not borrow
  // (it waits, over_quota, until its queue's guarantee holds it), so that every borrowed GPU can
  // be taken back once its job has run min_run_s. Empty: no queues.
  // Per GPU model (QueueSpec::models; every model named must be one the pool has GPUs of, else
  // InvalidArgument "queue 'a': models.X: ..."): a job is charged to the model of the GPUs it
  // is placed on; it is placed only on the models it allows whose per-model limits (of its
  // queue and every ancestor) leave room for the whole job, and waits with an over_limit reason
  // per model when none does (a job larger than those limits on every model it allows is
  // "never"); a job that is not preemptible runs only on the models whose guarantee holds it.
  // Once any queue has a per-model guarantee, reclaim is per model: a job reclaims on
  // a model it allows whose guarantee covers it (QueueSet::WithinGuarantee with the model; the
  // most guarantee left first, then by name), stopping only jobs wholly on GPUs of that model,
  // of queues that borrow it (QueueSet::Borrowed with the model, at most that much from each),
  // and is placed on that model. Without per-model guarantees reclaim ignores models, as before.
  std::vector<queue::QueueSpec> queues;
  placement::PlacerOptions placer;
};

// A reservation as the cycle that made it left it: the job, the time reserved for it (the
// earliest at which it fits when running jobs end by their time limits, against the pool as the
// reservations taken before it in rank order leave it: each of those holds its nodes from its
// reserved time until it would end by its own time limit, for ever without one), when it would
// end by its time limit, and the nodes and GPUs it will take then (its placement at the reserved
// time, one allocation per replica). `at` infinity: running jobs without a time limit hold what
// it needs, no start time is known and `nodes` is empty.
struct Reservation {
  JobId job = 0;
  double at = 0;
  double ends = 0;
  Placement nodes;
};

struct CycleResult {
  std::vector<std::pair<JobId, Placement>> placed;  // in the order they were placed
  int considered = 0;                               // pending jobs the cycle tried
  int node_scans = 0;                               // placement attempts (Place calls)
  int deferred = 0;   // jobs the window policy let wait for a partner (tried again next cycle)
  bool full = false;  // every pending job was considered (else only the new arrivals)
  std::vector<JobId> preempted;  // running jobs put back pending to make room (preemption)
};

// Totals of the pool for reports (the service's /pool and /metrics).
struct PoolTotals {
  int gpus = 0;
  int gpus_whole_allocated = 0;  // GPUs with nothing left
  int gpus_shared = 0;           // GPUs partly allocated
  int gpus_free = 0;             // GPUs with all 1000 milli left
  int gpus_unusable = 0;         // on cordoned, draining, unhealthy nodes or unhealthy GPUs
  std::int64_t capacity_milli = 0;
  std::int64_t allocated_milli = 0;
  // Free milli-GPU that the learned workload's requests cannot use (FGD's expected fragment,
  // summed over schedulable nodes): the measure the scheduler optimises.
  double fragmented_milli = 0;
};

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> Create(const std::vector<cluster::NodeSpec>& nodes,
                                                   const SchedulerOptions& opt);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // ---- nodes
  // Adds a node (a new name); it gets a place in the seeded node order.
  Result<int> AddNode(const cluster::NodeSpec& spec);
  // kReady, kCordoned, kDraining (no new work; running jobs stay) or kUnhealthy.
  Status SetNodeCondition(std::string_view node, NodeCondition c);
  // A GPU lost (NVML) or back; a lost GPU takes no new work.
  Status SetGpuHealthy(std::string_view node, int gpu, bool healthy);
  // Removes a node that holds no job (FailedPrecondition otherwise).
  Status RemoveNode(std::string_view node);
  std::optional<int> NodeIndex(std::string_view name) const;
  int num_nodes() const { return static_cast<int>(specs_.size()); }
  const cluster::NodeSpec& node_spec(int i) const { return specs_[static_cast<std::size_t>(i)]; }
  NodeCondition node_condition(int i) const { return conditions_[static_cast<std::size_t>(i)]; }
  // The GPU is healthy (not lost), whether or not it takes work (a GPU in MIG mode is healthy).
  bool gpu_healthy(int node, int gpu) const;
  // Why GPU `gpu` of node `node` takes no new work, in words (kMigNoWorkReason,
  // kUnhealthyNoWorkReason); nullopt when it takes work (the node's condition aside).
  std::optional<std::string_view> gpu_no_work_reason(int node, int gpu) const;
  const cluster::ClusterState& state() const { return state_; }
  const cluster::ModelTable& models() const { return models_; }
  // The jobs holding anything on node `i`, by id.
  std::vector<JobId> JobsOnNode(int i) const;

  // ---- where a job could go (the dashboard's planner, POST /api/v1/plan)
  // Per node (index order), for a request not yet submitted, where one replica of `r` stands:
  //   kNow:              it fits the node as allocated now, and the node takes work;
  //   kAfterPreemption:  with preemption on, it fits once the running jobs on this node that the
  //                      waiting job may stop are stopped (preemptible, past min_run_s, not
  //                      already being stopped, ranked below it by the order, JobOrder::Preempts,
  //                      and with queues in its own queue; reclaim across queues is not counted);
  //   kLater:            it fits the node empty, but not now nor by preemption (running jobs must
  //                      end, or the node must take work again: cordoned, draining, unhealthy);
  //   kNever:            not even on the node empty (model, size, memory, topology), or removed.
  // Node-level only: a gang's other replicas, queue limits and the order of the jobs ahead are
  // CheckFeasible's and the cycle's business. The request is seen as a job submitted now (its
  // priority, queue and preemptibility as given, no GPU time attained).
  enum class NodeVerdict { kNow, kAfterPreemption, kLater, kNever };
  std::vector<NodeVerdict> NodeVerdicts(const JobRequest& r) const;

  // ---- jobs
  // What a job brings back when its caller restores it (the service after a restart): its GPU
  // time and restarts so far, and for a running job when its current run began and when it last
  // checkpointed, on the scheduler's clock.
  struct History {
    double attained_gpu_s = 0;  // before the current run
    int restarts = 0;
    std::optional<double> run_since_s;   // running: nullopt = now
    std::optional<double> checkpoint_s;  // running: nullopt = none in this run
  };
  // OK when some node of the pool (empty, whatever its condition) could hold one replica and the
  // whole pool the gang; otherwise FailedPrecondition whose message starts with "never: " and
  // says what is missing. InvalidArgument for a malformed request.
  Status CheckFeasible(const JobRequest& r) const;
  // Queues a job (its requests feed the learned workload). FailedPrecondition for a known id.
  Status AddPending(JobId id, const JobRequest& r);
  // The same for a job with a history (requeued before a restart of the caller).
  Status AddPending(JobId id, const JobRequest& r, const History& history);
  // Drops a pending job (cancelled). NotFound when it is not pending.
  Status RemovePending(JobId id);
  // Commits `placement` for job `id` (restoring from the database, or a decision taken
  // elsewhere): every replica checked, all or nothing. The job must not hold a placement; a
  // pending job with that id leaves the queue.
  Status Allocate(JobId id, const Placement& placement);
  // The same for a job whose request is known (a running job restored after a restart): its
  // queue is charged and its preemptibility kept, as for a job the cycle placed.
  Status Allocate(JobId id, const Placement& placement, const JobRequest& request);
  Status Allocate(JobId id, const Placement& placement, const JobRequest& request,
                  const History& history);
  // Frees everything job `id` holds. NotFound when it holds nothing (a double release).
  Status Release(JobId id);
  // Puts running job `id` back pending after its caller stopped it (a victim of preemption with
  // wait_for_victims, once its process has ended): its placement is freed, it keeps its attained
  // GPU time and submission order and gets one more restart; its reason names its preemptor.
  // NotFound when it is not running.
  Status Requeue(JobId id);
  // Preemption with wait_for_victims: the job that preempted running job `id`, whose process the
  // caller is stopping; nullopt when `id` is not such a victim.
  std::optional<JobId> PreemptedBy(JobId id) const;
  // Why `id` was preempted ("preempted by job 7 (priority order)"); "" when it was not.
  std::string PreemptionReason(JobId id) const;
  // Marks running job `id` as a victim of `by` that is being stopped (a caller restoring a
  // preemption it had begun before a restart). NotFound when `id` is not running.
  Status MarkPreempted(JobId id, JobId by, const std::string& reason);
  const Placement* placement(JobId id) const;
  const std::unordered_map<JobId, Placement>& placements() const { return placed_; }
  bool is_pending(JobId id) const { return pending_.contains(id); }
  // The current reasons of a pending job, in WaitCode order (empty when it has not been through
  // a cycle yet, or is not pending).
  std::vector<WaitReason> PendingReasons(JobId id) const;
  // The same in words: "not now: " and the messages joined by "; " ("" for none).
  std::string PendingReason(JobId id) const;
  // Where pending job `id` stands: its queue ("" without queues), its 1-based position among the
  // pending jobs of that queue in the order's rank of the last full cycle (jobs that arrived
  // since come after, in the rank of the cycle that first saw them) and how many are ranked
  // there. nullopt when it is not pending or no cycle has ranked it yet (a preempted job until
  // the next cycle). Recomputed on the first call after a change (O(pending)), not in the cycle.
  std::optional<PendingPosition> QueuePosition(JobId id) const;
  // The head of the queue: the first job still pending in the rank QueuePosition uses (across
  // queues, the one a cycle tries first); nullopt when none is pending or ranked yet.
  std::optional<JobId> HeadOfQueue() const;
  // For pending job `id`, per node in node order, the healthy GPUs with something free that
  // cannot take a GPU's worth of one of its replicas now (cluster::WhyNotFits, GpuFits). Empty
  // when `id` is not pending or asks for no GPU.
  std::vector<StrandedGpus> StrandedFor(JobId id) const;
  std::size_t num_pending() const { return pending_.size(); }
  std::size_t num_placed() const { return placed_.size(); }

  // ---- time (for orders that rank by attained GPU time: las)
  // The scheduler's clock in seconds (the service's wall clock, a simulator's simulated one); a
  // running job's attained GPU time grows with it. Never goes back.
  void SetClock(double now_s) { now_s_ = std::max(now_s_, now_s); }
  double clock() const { return now_s_; }
  // GPU-seconds job `id` has received (pending or running); 0 for an unknown job.
  double Attained(JobId id) const;
  // Times job `id` was preempted (pending or running).
  int Restarts(JobId id) const;
  // Running job `id` reports a checkpoint at the clock: from now on a preemption loses only the
  // work after it. NotFound when it is not running.
  Status Checkpointed(JobId id);
  // The work a preemption of running job `id` would lose, in seconds of the clock: since its last
  // checkpoint in this run, else since this run began; 0 for a job that is not running.
  double LostWork(JobId id) const;
  // When running job `id`'s current run began on the clock (nullopt: not running).
  std::optional<double> RunSince(JobId id) const;
  // Its last checkpoint in this run (nullopt: none, or not running).
  std::optional<double> CheckpointAt(JobId id) const;
  // The queues and their usage (nullptr without queues).
  const queue::QueueSet* queues() const { return queues_ ? &*queues_ : nullptr; }
  // Replaces the queues at run time (the service's PUT /api/v1/queues): `specs` as in
  // SchedulerOptions::queues, empty for no queues. Everything is checked before anything changes,
  // and the change is refused whole, the current queues kept, when:
  //   - the set itself is invalid (QueueSet::Create's InvalidArgument, naming queue and member);
  //   - a queue that a pending or running job names (or one of `arriving`: requests the caller is
  //     about to queue) is missing from `specs`: FailedPrecondition "queue 'a' still has 3 job(s)
  //     (1 pending, 2 running) ...";
  //   - a pending (or arriving) job asks for more than a limit on its queue's path (or than the
  //     per-model limits of every model it may run on), so that it could never start:
  //     FailedPrecondition naming the job, its queue and the limit;
  //   - a per-model share names a model the pool has no GPUs of (InvalidArgument).
  // On success every running job is charged to its queue in the new set (the usage rebuilt from
  // their requests) and the next cycle considers every pending job. A limit below what its queue
  // uses now is allowed: the running jobs keep running, and no job of that queue starts until the
  // usage is below the limit.
  Status SetQueues(std::vector<queue::QueueSpec> specs,
                   const std::vector<JobRequest>& arriving = {});
  // SetQueues' checks alone: OK exactly when SetQueues(specs, arriving) would succeed now.
  Status CheckQueues(std::vector<queue::QueueSpec> specs,
                     const std::vector<JobRequest>& arriving = {}) const;
  // The reservations of the last cycle in rank order (EASY backfill's heads, the gangs of
  // gang_reservation), each with its time (infinity when it waits for jobs without limits) and
  // nodes; empty when no job holds one (also while a head's reservation has lapsed). A job that
  // starts or leaves drops its reservation at once.
  const std::vector<Reservation>& reservations() const { return reservations_; }
  // The first of them (the highest ranked) as (job, time); nullopt when none.
  std::optional<std::pair<JobId, double>> reservation() const {
    if (reservations_.empty()) return std::nullopt;
    return std::pair<JobId, double>{reservations_.front().job, reservations_.front().at};
  }
  // With reservation_timeout_s: the next time at which a reservation lapses or a lapsed job may
  // reserve again, by the clock alone; the caller runs a cycle then (the service, the replay).
  // nullopt: none pending.
  std::optional<double> reservation_change_at() const { return reservation_change_at_; }

  // ---- the cycle
  // `full`: consider every pending job even when nothing was freed (reasons are recomputed).
  CycleResult RunCycle(bool full = false);
  int window() const { return window_; }
  const placement::Policy& policy() const { return *policy_; }
  const JobOrder& order() const { return *order_; }
  void SetOrder(std::unique_ptr<JobOrder> order) { order_ = std::move(order); }

  PoolTotals Totals() const;
  // The same per GPU model (by name; a node has one model, nodes without GPUs are left out), each
  // model's by the same measure as Totals() (its fragmented_milli: FGD's expected fragment of its
  // schedulable nodes against the one learned workload). The models' figures add up to Totals()'s
  // (fragmented_milli up to floating-point rounding).
  std::map<std::string, PoolTotals> TotalsByModel() const;
  // The workload the FGD score currently targets (learned).
  const placement::Workload& workload() const { return workload_; }

 private:
  Scheduler() = default;
  Status ValidateRequest(const JobRequest& r) const;
  // Adds node `i` (not removed) to `t`: Totals()'s measure, one node at a time.
  void AddNodeTotals(int i, PoolTotals& t) const;
  void MaybeRelearn();
  // Places the gang on the real state (all replicas or none).
  std::optional<Placement> PlaceGang(const cluster::PodRequest& replica, int replicas);
  // The resource reasons why `replicas` x `replica` cannot start on the current state, from the
  // free counts (one scan of the nodes); empty when the counts say it fits.
  std::vector<WaitReason> Shortfall(const cluster::PodRequest& replica, int replicas) const;
  // over_quota / waiting_to_borrow for job `r` that does not fit (nullopt: its queue's guarantee
  // covers it, or no queues). A guarantee tied to models: judged on the model `r` may run on with
  // the most guarantee left, which the reason names.
  std::optional<WaitReason> QuotaReason(const JobRequest& r) const;
  // The pool's models that `r` may run on, by name (none for a job without GPUs).
  std::vector<std::string> AllowedModels(const cluster::PodRequest& r) const;
  // InvalidArgument "queue 'a': models.X: the pool has no GPUs of model 'X' (it has: ...)".
  Status CheckQueueModels(const queue::QueueSet& set) const;
  // Per-model limits of `set`: the models `r` may land on without taking its queue or an
  // ancestor above the limit of that model (`freed`: GPUs of each model that victims of its own
  // queue give back; `empty`: counting nothing in use). `r`'s own allowed_models when no limit
  // narrows them (kAnyModel stays kAnyModel), nullopt when none is left; `over` receives an
  // over_limit reason per model left out.
  std::optional<cluster::ModelMask> ModelsUnderLimits(const queue::QueueSet& set,
                                                      const JobRequest& r,
                                                      const queue::ModelGpus& freed, bool empty,
                                                      std::vector<WaitReason>* over) const;
  // The job as the order sees it while it runs: its attained GPU time up to the clock.
  PendingJob RunningView(JobId id) const;
  // Preemption for the waiting job `id`, placed as `request` (its own, or narrowed to the model
  // it reclaims): the fewest of `candidates` (in the order they may be stopped) whose GPUs make
  // it fit (empty: none would); *place_as is then the request it fits as (narrowed further to
  // the models under their per-model limits).
  // `base`: the state with the placements of the victims already being stopped freed.
  // `inside_guarantee`: the job may not borrow (it may not be preempted and its queue is over
  // its guarantee): the victims must also bring its queue's use, with the job, inside the
  // guarantee (none can with per-model guarantees).
  std::vector<JobId> ChooseVictims(JobId id, const JobRequest& request,
                                   const std::vector<const PendingJob*>& candidates,
                                   const cluster::ClusterState& base, JobRequest* place_as,
                                   bool inside_guarantee) const;
  // Reclaim: the running jobs of queues above their guarantee that a job of `queue` within its
  // guarantee may stop, most borrowing queue first, lowest ranked first inside a queue, no more
  // from a queue than it borrows. With `model`: only jobs wholly on GPUs of that model, of
  // queues that borrow it, no more from a queue than it borrows of it (QueueSet::Borrowed).
  std::vector<const PendingJob*> ReclaimCandidates(const std::string& queue,
                                                   const std::vector<const PendingJob*>& ranked,
                                                   const std::string* model) const;
  // Per-model reclaim: the models job `r` may run on whose guarantee covers it, the most
  // guarantee left first (ties by name).
  std::vector<std::string> ReclaimModels(const JobRequest& r) const;
  // Whether `r` fits on `s` (its replicas placed one by one on a copy).
  bool FitsOn(const JobRequest& r, const cluster::ClusterState& s) const;
  // With reservation_timeout_s: `id`'s reservation has lapsed and it waits without one.
  bool ReservationLapsed(JobId id) const;
  // Gang reservation: `job`, which does not fit, may hold a reservation: a gang, or a Wide job,
  // whose reservation has not lapsed.
  bool MayReserve(const PendingJob& job) const;
  // Gang reservation with reserve_wide_jobs: a single-replica job of whole GPUs that asks for
  // more than any schedulable node had free when the cycle began (it fits nowhere in this cycle).
  bool Wide(const JobRequest& r) const;
  // The reason of the job holding the reservation (reserved) or of one whose reservation lapsed.
  WaitReason ReservationReason(JobId id) const;
  // When running job `id` ends at the latest by its time limit (infinity without a limit).
  double LatestEnd(JobId id) const;
  // A reservation being made or checked in a cycle: the reservation, its job's request (as it is
  // placed) and the pool at its reserved time (running jobs not yet ended by their limits, the
  // reservations active then, its own nodes included; with `at` infinity, every job with a limit
  // ended and no nodes of its own).
  struct Hold {
    Reservation r;
    JobRequest request;
    cluster::ClusterState at_state;
  };
  // The reservation of `id`, placed as `request`, against the pool as `holds` (the earlier
  // reservations of the cycle, in rank order) leave it: the earliest time from now, a running
  // job's end or an earlier reservation's end, at which `request` fits beside the running jobs and
  // the reservations active then, on nodes that no earlier reservation starting before it would
  // end needs. Adds its nodes to the reserved states of the earlier reservations it overlaps.
  Hold Reserve(JobId id, const JobRequest& request, std::vector<Hold>& holds) const;
  // Whether starting a job now on `p`, running until `ends`, delays none of `holds`: it ends
  // before each reserved time, or each reservation still gets its nodes (or, failing that, other
  // nodes that no other reservation needs then) beside it. Yes: `p` is added to the reserved
  // states it overlaps (and a reservation moved to other nodes keeps them), nullopt. No: the
  // index of the first reservation it would delay; `holds` unchanged.
  std::optional<std::size_t> DelaysHold(const Placement& p, double ends,
                                        std::vector<Hold>& holds) const;
  // `r` placed on `s` replica by replica (nullopt: it does not fit).
  std::optional<Placement> PlaceOn(const JobRequest& r, const cluster::ClusterState& s) const;
  // When job `id`, placed as `r`, would end by its time limit if it started at `start`.
  double EndsBy(JobId id, const JobRequest& r, double start) const;
  Status Allocate(JobId id, const Placement& placement, const JobRequest* request,
                  const History* history);
  // SetQueues' checks, and the new set charged with the running jobs (nullopt: no queues).
  Result<std::optional<queue::QueueSet>> BuildQueues(std::vector<queue::QueueSpec> specs,
                                                     const std::vector<JobRequest>& arriving) const;
  // A running job, when its current run began on the clock and its last checkpoint in it.
  struct Running {
    PendingJob job;
    double since_s = 0;
    std::optional<double> checkpoint_s;
    queue::ModelGpus by_model;  // GPUs it holds of each model (charged to its queue)
  };
  void MarkRunning(JobId id, const JobRequest* request = nullptr, const History* history = nullptr);
  // drf: every pending job's PendingJob::queue_share from the running jobs' use.
  void FillQueueShares();
  // A victim being stopped (wait_for_victims): its preemptor and why.
  struct Stopping {
    JobId by = 0;
    std::string reason;  // "preempted by job 7 (priority order)"
  };

  std::vector<cluster::NodeSpec> specs_;
  std::vector<NodeCondition> conditions_;
  std::unordered_map<std::string, int> node_index_;
  cluster::ModelTable models_;
  cluster::ClusterState state_;
  // Every node as if nothing ran and no GPU were in MIG mode: what "never" is checked against.
  cluster::ClusterState empty_;
  std::unique_ptr<placement::Policy> policy_;
  std::unique_ptr<placement::Placer> placer_;
  std::unique_ptr<JobOrder> order_;
  placement::WorkloadLearner learner_;
  placement::Workload workload_;
  std::int64_t learned_at_ = 0;  // learner_.observed() when workload_ was derived
  int relearn_every_ = 64;
  int window_ = 1;

  std::unordered_map<JobId, PendingJob> pending_;
  // Why a pending job waits: the reasons of its shape (shared by the jobs of that shape in a
  // cycle), its own, and the jobs of its shape ahead of it (behind_higher_priority, written out
  // by PendingReasons: a full cycle of a busy pool sets this for nearly every job).
  struct Wait {
    std::shared_ptr<const std::vector<WaitReason>> shape;
    std::vector<WaitReason> own;
    JobId same_shape_first = 0;
    int same_shape_ahead = 0;
  };
  std::unordered_map<JobId, Wait> waits_;
  // The last full cycle's ranked pending jobs, then the arrivals of the cycles since.
  std::vector<JobId> ranked_;
  // QueuePosition's index over ranked_, rebuilt on demand after a change.
  mutable bool positions_stale_ = true;
  mutable std::unordered_map<JobId, int> position_;
  mutable std::unordered_map<std::string, int> queue_count_;
  std::unordered_map<JobId, Placement> placed_;
  std::int64_t next_seq_ = 1;
  std::vector<JobId> arrivals_;               // pending since the last cycle, or deferred in it
  std::unordered_map<JobId, int> deferrals_;  // cycles each pending job has been deferred
  int max_defer_cycles_ = 1;
  bool strict_order_ = false;
  bool preemption_ = false;
  std::optional<queue::QueueSet> queues_;
  bool easy_backfill_ = false;
  std::vector<Reservation> reservations_;
  int max_reservations_ = 4;
  // Strict order with queues: each blocked queue's head (the first of its jobs that did not fit).
  std::unordered_map<std::string, JobId> queue_heads_;
  bool gang_reservation_ = false;
  bool reserve_wide_jobs_ = true;
  int most_free_gpus_ = 0;  // Wide's bound, set at the start of each cycle
  double reservation_timeout_s_ = 0;
  // With a timeout: when each pending job's reservation was first made (dropped once it starts,
  // leaves, or has waited its time without one).
  std::unordered_map<JobId, double> reserved_since_;
  std::optional<double> reservation_change_at_;
  double now_s_ = 0;
  std::unordered_map<JobId, Running> running_;
  double min_run_s_ = 0;
  VictimChoice victim_choice_ = VictimChoice::kRank;
  bool wait_for_victims_ = false;
  std::unordered_map<JobId, Stopping> stopping_;  // victims still holding their placement
  JobId blocked_head_ = 0;  // strict order: the job that stopped the last cycle (0: none)
  bool freed_ = true;       // something was freed since the last cycle
};

// "now", "after_preemption", "later", "never" (the API's names).
std::string_view NodeVerdictName(Scheduler::NodeVerdict v);

}  // namespace gpupool::scheduler

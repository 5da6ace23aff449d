// PoolService: the GPU pool as a durable service. It ties the scheduler (src/scheduler/, the same
// code the simulators replay), the store (SQLite, src/store/) and the executor (src/executor/)
// together, and answers the requests of the HTTP layer (http_server.h) as JSON values.
//
// The life of a job:
//   Submit:  checked (ParseSubmission, then the scheduler's "never" check: 409), committed to the
//            store, and only then acknowledged (201); then queued in the scheduler.
//   Cycle:   the scheduling thread runs a cycle when something changed (a submission, an exit, a
//            node) and at least every tick; placements are committed to the store (state running,
//            one transaction per cycle) before any process starts; then each job is launched
//            with CUDA_VISIBLE_DEVICES and the GPUPOOL_* variables of its placement, and its
//            process reference committed.
//   Exit:    the executor reports the exit; the job becomes succeeded / failed / cancelled /
//            timed_out / lost (requeued when lost and the job allows it); its share is released.
//   Preempt: with scheduler.preemption, a cycle may choose running preemptible jobs to make room
//            (a higher priority, a queue reclaiming its guarantee). The preemption is committed
//            (an event, the job's history) before the SIGTERM to the victim's process group,
//            SIGKILL after preempt_grace; the victim keeps its GPUs until its process has ended
//            (the scheduler's wait_for_victims), then goes back pending with its history (events,
//            attained GPU time, one more restart) and the preemptor gets the GPUs in the next
//            cycle. A restart in between stops it again and requeues it all the same.
//   Queues:  with queues (scheduler.queues, a queue file, or a change through the API: SetQueues),
//            the configuration in force is stored; a change through the API is checked whole
//            against the jobs, stored, and applied to the scheduler under the service's lock, so
//            that it is either in force and durable or not made at all; it outlives a restart
//            (ServiceOptions::queues_file says which configuration a start takes).
//   History: every job that ran and ended (succeeded, failed, cancelled or timed out while
//            running, lost) is counted, in the order the service saw the ends, by the replay's
//            estimator (scheduler::DurationEstimator: its class is its user, else its queue and GPU
//            count, ...; its run time over all its runs, and its GPU time), and stored with the
//            job's final state (store::FinishedRunRow). A job gets, at its submission, what the
//            jobs that had ended by then say (`qssf`: its duration estimate; `gittins`: its class's
//            profile), never revised while it waits or runs, as in the replay; it records how many
//            ends it had seen (its horizon), so that a restart gives it the same again.
//   Trends:  the pool's figures (GPUs, allocated, in use, whole and shared GPUs, fragmentation,
//            nodes by condition, running and pending jobs; pool-wide and per GPU model) are
//            sampled every history_interval into the store, which rolls them up into coarser
//            resolutions and keeps 30 days (GET /api/v1/pool/history). "In use" is NVML's
//            utilization summed over the GPUs that report it (a GPU at 100 % counts 1000 milli),
//            known only where NVML reads this host's GPUs: otherwise null, never 0.
//   Restart: pending jobs are queued again; running jobs get their placements back (a placement
//            that no longer fits, a node that is gone, a share booked twice: the job is lost with
//            the reason) and are adopted when their process still runs or left an exit record,
//            otherwise lost (requeued when allowed).
//
// The variables a job sees: CUDA_VISIBLE_DEVICES (its GPUs' UUIDs, comma-separated),
// GPUPOOL_JOB_ID, GPUPOOL_NODE, GPUPOOL_GPU_MILLI (per GPU, 1000 = whole), GPUPOOL_GPU_MEMORY_MIB
// (per GPU; 0 = not capped), GPUPOOL_NUM_GPUS, GPUPOOL_REPLICAS, GPUPOOL_REPLICA (0) and
// GPUPOOL_PLACEMENT (every replica as "node:uuid,uuid;node:uuid,..."), GPUPOOL_SIMULATED=1 on a
// described (not discovered) inventory. A gang runs its command once, as replica 0 on the first
// replica's node, the way a Slurm batch script does; it starts its other replicas itself from
// GPUPOOL_PLACEMENT (cluster engines launch per replica).
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cluster/node_spec.h"
#include "discovery/gpu_info.h"
#include "executor/executor.h"
#include "scheduler/duration_estimator.h"
#include "scheduler/scheduler.h"
#include "server/api_error.h"
#include "server/job_spec.h"
#include "server/metrics.h"
#include "server/queue_file.h"
#include "server/tokens.h"
#include "store/store.h"

namespace gpupool::discovery {
class NvmlLibrary;
}

namespace gpupool::server {

// The ranges of GET /api/v1/pool/history, each read from one tier of the store's history
// (store/rows.h: kHistoryTiers): 1 h of the samples as taken, 6 h at 1 min, 24 h at 5 min, 7 d at
// 30 min, 30 d at 2 h (some 300-360 points each).
struct HistoryRange {
  std::string_view name;
  std::int64_t ms;
  int tier;
};
inline constexpr std::int64_t kHourMs = 3600000;
inline constexpr HistoryRange kHistoryRanges[] = {{"1h", kHourMs, 0},
                                                  {"6h", kHourMs * 6, 1},
                                                  {"24h", kHourMs * 24, 2},
                                                  {"7d", kHourMs * 24 * 7, 3},
                                                  {"30d", kHourMs * 24 * 30, 4}};

struct ServiceOptions {
  std::filesystem::path data_dir = "gpupool-data";
  std::vector<cluster::NodeSpec> nodes;
  bool simulated = true;  // the inventory is described (demo or --inventory), not discovered
  std::string inventory_source = "demo";
  scheduler::SchedulerOptions scheduler;
  // The queues given at start (`--queues FILE`): their specs are scheduler.queues, the file's name
  // here. Queues are given when either is set. At start:
  //   - none given: the stored configuration, if any, is used (the last one applied, by a file at
  //     an earlier start or through the API); none stored: no queues;
  //   - given: they are used, and stored when they differ from the stored ones, except when the
  //     stored ones differ and were last changed through the API: then the start is refused
  //     (FailedPrecondition naming the differences and what to do), unless queues_reset, with
  //     which the given ones replace them.
  std::string queues_file;
  bool queues_reset = false;
  // The job order: scheduler.order (the --order flag, or its default), unless the queue
  // configuration in force (the file given, or the one stored) names one (`order:`,
  // queue_file.h), which then holds; with order_given (--order on the command line) an order
  // named by the configuration must be the same (FailedPrecondition otherwise). queues_order is
  // the order the given file names ("" none).
  std::string queues_order;
  bool order_given = false;
  std::chrono::milliseconds stop_grace{10000};  // SIGTERM -> SIGKILL on cancel and time limit
  // SIGTERM -> SIGKILL for a job stopped by preemption (scheduler.preemption): time to checkpoint.
  std::chrono::milliseconds preempt_grace{30000};
  // With preemption: every waiting job is tried again at least this often (a full cycle), since
  // what may be preempted changes with time alone (SchedulerOptions::min_run_s, las levels).
  std::chrono::milliseconds preempt_recheck{1000};
  std::chrono::milliseconds tick{50};  // longest wait between two looks at exits
  // The service's clock, in milliseconds since the Unix epoch: the times of jobs, events and
  // tokens, time limits, the preemption recheck, and the scheduler's clock (attained GPU time,
  // minimum run times, EASY reservations). Empty: the system clock. Called from any thread. Tests
  // drive a fake one (tests/server/replay_equality_test.cc); the waits (tick, nvml_interval) stay
  // on real time.
  std::function<std::int64_t()> now_ms;
  bool synchronous_full = true;  // fsync every commit (see store.h)
  // NVML for this host's node (not owned; may be null): watched for lost GPUs, and its readings
  // go into /metrics.
  const discovery::NvmlLibrary* nvml = nullptr;
  // The CUDA shim preloaded into jobs with a fraction of a GPU or a memory cap
  // (executor::LaunchSpec::gpu_shim, docs/shim.md); empty: jobs run without it.
  std::string gpu_shim;
  std::chrono::milliseconds nvml_interval{2000};
  // The pool's history (GET /api/v1/pool/history): its figures are sampled at the start and then
  // this often into the store, which keeps them at coarser resolutions for 30 days
  // (store/rows.h: kHistoryTiers). 0: no sampling.
  std::chrono::milliseconds history_interval{10000};
  // At start, the jobs that ran and ended are read back into the history (see History above):
  // this many before the horizon of the oldest job restored (or before the last end, if that is
  // older), and every one after it. The estimator keeps the last 100 of each class; this bounds
  // the start-up (100,000 ends read back in 0.22-0.24 s, docs/serve.md) while keeping the classes
  // that ended a job among them.
  std::int64_t history_runs = 100000;
};

struct LogQuery {
  std::string stream = "stdout";
  std::int64_t offset = 0;
  std::int64_t limit = 65536;
};

class PoolService {
 public:
  // Opens (or creates) the data directory, restores and reconciles, and starts the scheduling
  // thread. `admin_token` receives the admin token when one was created now (first start).
  static Result<std::unique_ptr<PoolService>> Start(ServiceOptions options,
                                                    std::unique_ptr<executor::Executor> executor,
                                                    std::string* admin_token = nullptr);
  // Stops the threads; jobs keep running and are adopted by the next start.
  ~PoolService();
  PoolService(const PoolService&) = delete;
  PoolService& operator=(const PoolService&) = delete;

  // Authentication: the principal of "Bearer TOKEN", or 401.
  ApiResult<Principal> Authenticate(std::string_view authorization_header) const;

  ApiResult<nlohmann::json> Submit(const Principal& p, const nlohmann::json& body);
  ApiResult<nlohmann::json> GetJob(const Principal& p, std::int64_t id);
  ApiResult<nlohmann::json> ListJobs(const Principal& p, const store::JobQuery& q);
  ApiResult<nlohmann::json> Events(const Principal& p, std::int64_t id);
  ApiResult<nlohmann::json> Logs(const Principal& p, std::int64_t id, const LogQuery& q);
  ApiResult<nlohmann::json> Cancel(const Principal& p, std::int64_t id);
  // The job (running; its owner or the admin) reports a checkpoint: a preemption from now on
  // loses only the work after it, and victims that lose least are preferred. 409 when it is not
  // running.
  ApiResult<nlohmann::json> Checkpoint(const Principal& p, std::int64_t id);

  nlohmann::json Nodes() const;
  ApiResult<nlohmann::json> SetNodeCondition(const Principal& p, const std::string& node,
                                             const std::string& action);
  nlohmann::json Pool() const;
  // The pool over time: `range` one of kHistoryRanges ("1h" ... "30d"; the handler checks it),
  // `model` "" for the pool or one of its GPU models (else 400 naming `model`). The series of the
  // store's tier for that range (one point per resolution; at "1h" the samples as taken), as
  // columns of equal length: time_ms and each figure, null where it was not known.
  ApiResult<nlohmann::json> PoolHistory(const std::string& range, const std::string& model) const;
  // Takes one sample of the pool's figures now (pool-wide and per model) and stores it (the
  // sampling thread's work; tests call it to sample at a chosen time of ServiceOptions::now_ms).
  Status SampleHistory();
  // What the event stream follows (http_server.h, event_stream.h): {"pool": Pool() without
  // "gpu_list", "nodes": {NAME: the node of Nodes()}}, both read at one instant.
  nlohmann::json StreamState() const;
  // The queues: per queue its settings (guaranteed, limit, weight, parent) and, now, the GPUs it
  // uses and borrows (its descendants' jobs included) and its own pending and running jobs; and
  // when, by whom and from where the configuration in force was applied.
  nlohmann::json Queues() const;
  // Replaces the queues with the queue file in `body` (YAML, or JSON; the admin only: 403).
  // Refused whole, nothing changed: 400 naming "request body:LINE: queues[i].MEMBER" for a body
  // that is not a valid queue file; 409 when a queue that is left out still has jobs (pending,
  // running, or being submitted) or a pending job would be larger than a new limit on its queue's
  // path (no member: the message names the queue); 503 when it cannot be stored. Otherwise stored
  // (with who and when), applied to the scheduler and a full cycle run; the answer is Queues() with
  // `changes` (one line per queue changed) and `warnings` (a queue now above its limit: its running
  // jobs keep running, and no job of it starts until it is under the limit). A body equal to the
  // configuration in force changes and stores nothing.
  ApiResult<nlohmann::json> SetQueues(const Principal& p, const std::string& body);
  std::string Metrics() const;
  // POST /api/v1/plan (plan_request.h): the planner's answer, and where the job it plans could
  // run, as the scheduler sees the pool now: "feasible" and "never" (CheckFeasible's message when
  // no part of the pool could ever hold it, "" otherwise), and "nodes": [{name, model, condition,
  // verdict}] with Scheduler::NodeVerdicts' answer per node ("now", "after_preemption", "later",
  // "never"). The submission is checked as POST /api/v1/jobs would check it (ParseSubmission), so
  // a GPU model the pool lacks is "never" with that message. 400 naming the member for bad input.
  ApiResult<nlohmann::json> Plan(const nlohmann::json& body) const;

  ApiResult<nlohmann::json> CreateToken(const Principal& p, const nlohmann::json& body);
  ApiResult<nlohmann::json> ListTokens(const Principal& p);
  ApiResult<nlohmann::json> RevokeToken(const Principal& p, std::int64_t id);
  static nlohmann::json WhoAmI(const Principal& p);

  // Waits until no job is pending or running, or `timeout` passes; true when idle (tests, benches).
  bool WaitIdle(std::chrono::milliseconds timeout);
  const std::filesystem::path& data_dir() const { return opt_.data_dir; }
  bool simulated() const { return opt_.simulated; }

 private:
  struct ActiveJob;
  explicit PoolService(ServiceOptions options);

  // The time of ServiceOptions::now_ms (the system clock without one).
  std::int64_t NowMs() const;
  Status Restore(std::string* admin_token);
  // At start: which queues are in force (see ServiceOptions::queues_file), into
  // opt_.scheduler.queues and queue_config_; `store` receives a configuration to store once the
  // scheduler accepted it.
  // Then the order: the configuration's when it names one (see ServiceOptions::queues_order),
  // into opt_.scheduler.order, base_order_ and order_name_.
  Status ChooseQueues(std::optional<store::QueueConfigRow>* store);
  // ChooseQueues' choice of the configuration; `config_order` receives the order it names.
  Status ChooseQueueConfig(std::optional<store::QueueConfigRow>* store, std::string* config_order);
  // The lines of a configuration change: "order fifo -> las" ("(none)" for no order), then
  // QueueChanges'.
  static std::vector<std::string> ConfigChanges(const QueueConfig& before,
                                                const QueueConfig& after);
  // Under mu_: Queues().
  nlohmann::json QueuesLocked() const;
  // The head of the queue and the free GPUs that cannot take it (Scheduler::HeadOfQueue,
  // StrandedFor); null when nothing is pending. docs/api.md, GET /api/v1/pool, "head".
  nlohmann::json HeadLocked() const;
  // What Nodes(), Pool(), the event stream and the history show, copied under mu_: per node its
  // condition, CPU and memory used, and per GPU its share used, health and NVML reading; the
  // placements; the scheduler's totals, pool-wide and per model; the job counts; the head of the
  // queue. Plain values (the head's small JSON aside), so the lock is held for the copy only (a
  // few ms at 1,000 nodes x 8 GPUs) and the JSON is built after it is released. The node specs
  // (names, models, UUIDs) are read from the scheduler without the lock: the service never adds
  // or removes a node after its start.
  struct View;
  View ViewLocked() const;
  nlohmann::json NodesJson(const View& v) const;
  // Pool() from a view, with its "gpu_list" or without it (the stream's).
  nlohmann::json PoolJson(const View& v, bool gpu_list_wanted) const;
  void Sampler();
  void Loop();
  void Monitor();
  // Under mu_: the job object of an active job.
  nlohmann::json JobJson(const ActiveJob& job) const;
  nlohmann::json RowJson(const store::JobRow& row) const;
  // The same with the row's spec already parsed (the submission path has it).
  nlohmann::json RowJson(const store::JobRow& row, const nlohmann::json& spec) const;
  nlohmann::json PlacementJson(const scheduler::Placement& p) const;
  Result<scheduler::Placement> PlacementFromJson(const nlohmann::json& j,
                                                 const scheduler::JobRequest& r) const;
  std::vector<std::pair<std::string, std::string>> JobEnv(const ActiveJob& job) const;
  // Under mu_: the final state of a job whose process ended, with its store ops appended to
  // `ops` (its row; the history's record when it ended).
  void FinishLocked(ActiveJob& job, const executor::ExitInfo& exit, std::int64_t now_ms,
                    std::vector<store::WriteOp>& ops);
  // Under mu_: what the history says of a job of `user` in `queue` that is submitted now
  // (JobRequest::duration_estimate_s, read by qssf, and service_profile, read by gittins; both
  // whatever the order, which may change at run time).
  void InformLocked(const std::string& user, const std::string& queue,
                    scheduler::JobRequest& r) const;
  // At start: reads the history back from the store, giving each of `jobs` (user, queue,
  // horizon, request) what the ends up to its horizon say.
  struct Restored;
  Status RestoreHistory(std::vector<Restored>& jobs);
  std::vector<std::string> ModelNames() const;
  ApiResult<store::JobRow> VisibleJob(const Principal& p, std::int64_t id);

  ServiceOptions opt_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<executor::Executor> executor_;
  TokenRegistry tokens_;
  mutable ServiceMetrics metrics_;  // the stream's read (const) observes its time

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::condition_variable sampler_cv_;  // the sampler's wait between samples (mu_)
  bool dirty_ = true;
  bool retry_ = false;                // the last cycle deferred jobs: run one again after a tick
  std::int64_t next_recheck_ms_ = 0;  // preemption: the next full cycle at the latest
  bool stop_ = false;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unordered_map<std::int64_t, std::unique_ptr<ActiveJob>> active_;
  std::set<std::pair<std::int64_t, std::int64_t>> deadlines_;  // (time limit in ms, job), running
  std::vector<std::int64_t> checkpointed_;  // jobs whose checkpoint the loop has yet to commit
  // The jobs that ran and ended (see History), and the seq of the last one counted.
  scheduler::DurationEstimator history_;
  std::int64_t history_seq_ = 0;
  // The queue configuration in force as stored (id 0: none stored, no queues).
  store::QueueConfigRow queue_config_;
  std::string base_order_;    // the order of the start options (--order or its default)
  std::string order_name_;    // the order in force, as named
  std::string config_order_;  // the order the queue configuration in force names ("" none)
  // Submissions between their check and their AddPending (a queue change counts them as jobs).
  std::map<std::int64_t, scheduler::JobRequest> submitting_;
  // The last kRecentPreemptions preemptions since the start, oldest first (Queues()): {victim,
  // victim_queue, by, by_queue, at, reason}. Each job keeps its own both ways (its history).
  static constexpr std::size_t kRecentPreemptions = 100;
  std::deque<nlohmann::json> recent_preemptions_;
  std::int64_t next_submitting_ = 0;
  // The latest NVML reading of each GPU of this host by UUID (Monitor; empty without NVML).
  std::map<std::string, discovery::GpuSample> nvml_samples_;
  std::thread loop_;
  std::thread monitor_;
  std::thread sampler_;
  int lock_fd_ = -1;  // flock on DATA_DIR/gpupool.lock, held for the service's life
};

}  // namespace gpupool::server

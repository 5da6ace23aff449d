#include "server/pool_service.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>

#include "common/check.h"
#include "common/data_dir.h"
#include "discovery/nvml_discovery.h"
#include "discovery/nvml_library.h"
#include "discovery/prometheus_exporter.h"
#include "executor/process_ref.h"
#include "server/job_cursor.h"
#include "server/plan_request.h"
#include "server/queue_file.h"

namespace gpupool::server {
namespace {

using nlohmann::json;
using scheduler::JobState;

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-11-30T10:00:00.000Z"; null for 0 (not yet).
json TimeJson(std::int64_t ms) {
  if (ms <= 0) return nullptr;
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

std::string StateName(JobState s) { return std::string(scheduler::JobStateName(s)); }

void Log(const std::string& line) { std::fprintf(stderr, "gpupool serve: %s\n", line.c_str()); }

Status WriteSecretFile(const std::filesystem::path& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError(path.string() + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  const std::string data = text + "\n";
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return Status::IoError(path.string() + ": " + std::strerror(err));
  return Status::Ok();
}

json TokenJson(const store::TokenRow& r) {
  return json{{"id", r.id},
              {"user", r.user},
              {"queues", r.queues},
              {"admin", r.admin},
              {"created_at", TimeJson(r.created_ms)},
              {"revoked", r.revoked}};
}

// A job's run history as the service keeps it (JobRow::history_json): what the scheduler knows of
// a job beyond its request, so that a restart gives it back (Scheduler::History), and a
// preemption in progress, so that a restart between the SIGTERM and the exit still requeues it.
struct RunHistory {
  int restarts = 0;                // times preempted and requeued
  double attained_gpu_s = 0;       // GPU-seconds before the current run
  std::int64_t checkpoint_ms = 0;  // the last checkpoint of the current run; 0 = none
  std::int64_t preempted_by = 0;   // a preemption in progress: the preemptor; 0 = none
  std::string preempt_reason;      // "preempted by job 7 (priority order)"
  std::int64_t ran_ms = 0;         // time run before the current run (its earlier runs)
  std::int64_t seen_runs = 0;      // its horizon: the ends counted when it was submitted
  // Who preempted whom, kept for the job's life (the dashboard links both ways): the jobs that
  // preempted this one, and the jobs this one preempted, each in the order it happened.
  std::vector<std::int64_t> preempted_by_jobs;
  std::vector<std::int64_t> victims;
};

std::string HistoryToJson(const RunHistory& h) {
  json j = {{"restarts", h.restarts}, {"attained_gpu_s", h.attained_gpu_s}};
  if (h.checkpoint_ms > 0) j["checkpoint_ms"] = h.checkpoint_ms;
  if (h.ran_ms > 0) j["ran_ms"] = h.ran_ms;
  if (h.seen_runs > 0) j["seen_runs"] = h.seen_runs;
  if (h.preempted_by > 0) {
    j["preempted_by"] = h.preempted_by;
    j["preempt_reason"] = h.preempt_reason;
  }
  if (!h.preempted_by_jobs.empty()) j["preempted_by_jobs"] = h.preempted_by_jobs;
  if (!h.victims.empty()) j["victims"] = h.victims;
  return j.dump();
}

// "" (a job of before the history) is an empty history.
Result<RunHistory> HistoryFromJson(const std::string& text) {
  RunHistory h;
  if (text.empty()) return h;
  try {
    const json j = json::parse(text);
    h.restarts = j.value("restarts", 0);
    h.attained_gpu_s = j.value("attained_gpu_s", 0.0);
    h.checkpoint_ms = j.value("checkpoint_ms", std::int64_t{0});
    h.preempted_by = j.value("preempted_by", std::int64_t{0});
    h.preempt_reason = j.value("preempt_reason", std::string());
    h.ran_ms = j.value("ran_ms", std::int64_t{0});
    h.seen_runs = j.value("seen_runs", std::int64_t{0});
    h.preempted_by_jobs = j.value("preempted_by_jobs", std::vector<std::int64_t>{});
    h.victims = j.value("victims", std::vector<std::int64_t>{});
  } catch (const json::exception& e) {
    return Error(Status::InvalidArgument(std::string("history: ") + e.what()));
  }
  if (h.restarts < 0 || !(h.attained_gpu_s >= 0) || h.checkpoint_ms < 0 || h.preempted_by < 0 ||
      h.ran_ms < 0 || h.seen_runs < 0) {
    return Error(Status::InvalidArgument("history: a negative count or time"));
  }
  return h;
}

double Seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// A run time as the history counts it: whole seconds, to the nearest (the replay's durations are
// whole seconds).
std::int64_t RunSeconds(std::int64_t run_ms) { return (run_ms + 500) / 1000; }

// GPU-seconds to the millisecond, as shown (the clock's epoch seconds leave noise below that).
double ShownGpuSeconds(double s) { return std::round(s * 1000.0) / 1000.0; }

bool ValidUserName(const std::string& u) {
  if (u.empty() || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@';
  });
}

// A pending job's `pending` member: every reason with its numbers, and its place in its queue
// (null until a cycle has ranked it).
json PendingJson(const scheduler::Scheduler& s, std::int64_t id) {
  json reasons = json::array();
  for (const scheduler::WaitReason& w : s.PendingReasons(id)) {
    json r{{"code", scheduler::WaitCodeName(w.code)}, {"message", w.message}};
    const auto text = [&r](const char* key, const std::string& v) {
      if (!v.empty()) r[key] = v;
    };
    const auto number = [&r](const char* key, const auto& v) {
      if (v) r[key] = *v;
    };
    text("resource", w.resource);
    text("queue", w.queue);
    text("models", w.models);
    number("needed", w.needed);
    number("free", w.free);
    number("short_by", w.short_by);
    number("most_on_one", w.most_on_one);
    number("free_other_models", w.free_other_models);
    number("used_gpus", w.used_gpus);
    number("limit_gpus", w.limit_gpus);
    number("guaranteed_gpus", w.guaranteed_gpus);
    number("job_gpus", w.job_gpus);
    number("nodes", w.nodes);
    number("replicas", w.replicas);
    number("replicas_fit", w.replicas_fit);
    number("job", w.job);
    number("jobs_ahead", w.jobs_ahead);
    number("reserved_at_s", w.reserved_at_s);
    number("lapses_at_s", w.lapses_at_s);
    number("reserve_again_at_s", w.reserve_again_at_s);
    if (!w.victims.empty()) r["victims"] = w.victims;
    if (!w.reserved_nodes.empty()) {
      json nodes = json::array();
      for (const scheduler::ReservedReplica& n : w.reserved_nodes) {
        nodes.push_back(json{{"node", n.node}, {"gpus", n.gpus}});
      }
      r["reserved_nodes"] = std::move(nodes);
    }
    reasons.push_back(std::move(r));
  }
  json position = nullptr;
  if (const auto p = s.QueuePosition(id)) {
    position = json{{"queue", p->queue}, {"in_queue", p->position}, {"of", p->count}};
  }
  return json{{"reasons", std::move(reasons)}, {"position", std::move(position)}};
}

}  // namespace

enum class StopCause { kNone, kCancel, kTimeLimit, kLost, kPreempt };

struct PoolService::ActiveJob {
  store::JobRow row;  // as last committed, or about to be
  JobSpec spec;
  scheduler::JobRequest request;
  bool launched = false;  // the process runs (row.runtime_json known)
  bool stopping = false;  // Stop sent or to be sent once launched
  StopCause cause = StopCause::kNone;
  std::string stop_reason;
  std::int64_t deadline_ms = 0;  // the current run's time limit; 0 = none, or the run is over
  RunHistory history;            // as last committed in row.history_json, or about to be

  // Back to pending after its process ended (preempted, or lost with requeue): no placement, no
  // process, no stop in progress.
  void Requeue(const std::string& why) {
    row.state = "pending";
    row.reason = "requeued: " + why;
    row.placement_json.clear();
    row.runtime_json.clear();
    row.started_ms = 0;
    launched = false;
    stopping = false;
    cause = StopCause::kNone;
  }
};

// A pending or running job read back at a start.
struct PoolService::Restored {
  store::JobRow row;
  std::optional<JobSpec> spec;                   // with `request`, or neither
  std::optional<scheduler::JobRequest> request;  // nullopt: the job cannot be read back (`error`)
  Status error;
  RunHistory history;
};

struct PoolService::View {
  struct Node {
    int index = 0;  // the scheduler's
    scheduler::NodeCondition condition = scheduler::NodeCondition::kReady;
    std::int64_t cpu_used_milli = 0;
    std::int64_t memory_used_mib = 0;
    std::vector<int> milli_used;  // per GPU: what jobs hold, also on a lost GPU
    std::vector<char> healthy;    // per GPU
    // per GPU: why it takes no new work (Scheduler::gpu_no_work_reason: static text), or none
    std::vector<std::optional<std::string_view>> no_work;
    std::vector<int> util_pct;  // per GPU: NVML's utilization; -1 no reading
    std::vector<std::optional<discovery::GpuSample>> nvml;  // per GPU: NVML's last reading
  };
  std::vector<Node> nodes;  // the nodes not removed, by index
  std::vector<std::pair<std::int64_t, scheduler::Placement>> placements;
  scheduler::PoolTotals totals;
  std::map<std::string, scheduler::PoolTotals> by_model;
  std::int64_t running = 0;
  std::int64_t pending = 0;
  json head;  // HeadLocked(): small, built under the lock
};

PoolService::PoolService(ServiceOptions options) : opt_(std::move(options)) {}

PoolService::~PoolService() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  sampler_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  if (monitor_.joinable()) monitor_.join();
  if (sampler_.joinable()) sampler_.join();
  store_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<PoolService>> PoolService::Start(
    ServiceOptions options, std::unique_ptr<executor::Executor> executor,
    std::string* admin_token) {
  std::unique_ptr<PoolService> s(new PoolService(std::move(options)));
  s->executor_ = std::move(executor);
  if (Status st = s->Restore(admin_token); !st.ok()) return Error(st);
  s->loop_ = std::thread([p = s.get()] { p->Loop(); });
  if (s->opt_.nvml != nullptr) s->monitor_ = std::thread([p = s.get()] { p->Monitor(); });
  if (s->opt_.history_interval.count() > 0) {
    s->sampler_ = std::thread([p = s.get()] { p->Sampler(); });
  }
  return s;
}

std::int64_t PoolService::NowMs() const { return opt_.now_ms ? opt_.now_ms() : SystemNowMs(); }

std::vector<std::string> PoolService::ModelNames() const {
  std::vector<std::string> out;
  const auto& m = scheduler_->models();
  for (int i = 0; i < m.size(); ++i) out.push_back(m.Name(static_cast<cluster::ModelId>(i)));
  return out;
}

// ---------------------------------------------------------------- restore

Status PoolService::Restore(std::string* admin_token) {
  std::error_code ec;
  std::filesystem::create_directories(opt_.data_dir / "jobs", ec);
  if (ec) return Status::IoError(opt_.data_dir.string() + ": " + ec.message());
  // One service per data directory: a second one would book the same GPUs twice.
  const auto lock_path = opt_.data_dir / "gpupool.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return Status::IoError(lock_path.string() + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status::FailedPrecondition(opt_.data_dir.string() +
                                      ": another gpupool serve uses this data directory");
  }
  store::StoreOptions so;
  so.synchronous_full = opt_.synchronous_full;
  auto store = store::Store::Open(opt_.data_dir / "gpupool.db", so);
  if (!store) return store.error();
  store_ = std::move(*store);

  std::optional<store::QueueConfigRow> new_queues;
  GP_RETURN_IF_ERROR(ChooseQueues(&new_queues));
  // A victim of preemption keeps its GPUs until its process has ended (no GPU booked twice).
  opt_.scheduler.wait_for_victims = true;
  auto sched = scheduler::Scheduler::Create(opt_.nodes, opt_.scheduler);
  if (!sched) return sched.error();
  scheduler_ = std::move(*sched);
  // Preemption with an order that never preempts acts only for queues (reclaiming guarantees):
  // the queues in force count, those of a file and those stored (set through the API earlier).
  if (opt_.scheduler.preemption && !scheduler_->order().preemptive() &&
      opt_.scheduler.queues.empty()) {
    return Status::InvalidArgument(
        "--preempt: the order '" + opt_.scheduler.order +
        "' never preempts, and there are no queues whose guarantees it could reclaim (no "
        "--queues file, none stored in " +
        store_->file().string() +
        "); use a preemptive order (priority, srtf, las, gittins) or give --queues FILE");
  }
  // The admin token once the start can no longer be refused for its options: shown by the start
  // that serves.
  auto tokens = store_->LoadTokens();
  if (!tokens) return tokens.error();
  tokens_.Load(*tokens);
  if (!tokens_.HasAdmin()) {
    auto secret = NewTokenSecret();
    if (!secret) return secret.error();
    store::TokenRow row;
    row.user = "admin";
    row.hash_hex = Sha256Hex(*secret);
    row.admin = true;
    row.created_ms = NowMs();
    GP_RETURN_IF_ERROR(WriteSecretFile(opt_.data_dir / "admin.token", *secret));
    auto id = store_->InsertToken(row);
    if (!id) return id.error();
    row.id = *id;
    tokens_.Add(row);
    if (admin_token != nullptr) *admin_token = *secret;
  }

  if (new_queues) {
    auto id = store_->InsertQueueConfig(*new_queues);
    if (!id) return id.error();
    new_queues->id = *id;
    queue_config_ = std::move(*new_queues);
  }
  scheduler_->SetClock(Seconds(NowMs()));
  auto conditions = store_->LoadNodeConditions();
  if (!conditions) return conditions.error();
  for (const auto& [node, cond] : *conditions) {
    scheduler::NodeCondition c = scheduler::NodeCondition::kReady;
    if (cond == "cordoned") c = scheduler::NodeCondition::kCordoned;
    if (cond == "draining") c = scheduler::NodeCondition::kDraining;
    if (!scheduler_->NodeIndex(node)) continue;  // no longer in the inventory
    if (Status st = scheduler_->SetNodeCondition(node, c); !st.ok()) Log(st.ToString());
  }

  auto rows = store_->LoadJobsInStates({"pending", "running"});
  if (!rows) return rows.error();
  const std::int64_t now = NowMs();
  std::vector<store::WriteOp> ops;
  std::vector<std::int64_t> dropped;  // jobs that ended here: not active
  const auto end_job = [&](ActiveJob& job, JobState state, const std::string& reason) {
    job.row.state = StateName(state);
    job.row.reason = reason;
    job.row.finished_ms = now;
    ops.push_back(
        store::UpdateJobOp{job.row, {store::EventRow{job.row.id, now, job.row.state, reason}}});
    dropped.push_back(job.row.id);
  };
  const auto requeue = [&](ActiveJob& job, const std::string& reason) {
    job.row.state = "pending";
    job.row.reason = "requeued: " + reason;
    job.row.placement_json.clear();
    job.row.runtime_json.clear();
    job.row.started_ms = 0;
    if (job.history.preempted_by != 0) ++job.history.restarts;  // its preemption is complete
    job.history.preempted_by = 0;
    job.history.preempt_reason.clear();
    job.history.checkpoint_ms = 0;
    job.row.history_json = HistoryToJson(job.history);
    ops.push_back(
        store::UpdateJobOp{job.row, {store::EventRow{job.row.id, now, "pending", job.row.reason}}});
  };
  // Every job read back, then told what the ends up to its horizon say (RestoreHistory).
  std::vector<Restored> restored;
  restored.reserve(rows->size());
  for (store::JobRow& row : *rows) {
    Restored& r = restored.emplace_back();
    Result<JobSpec> spec = Error(Status::Internal("unparsed"));
    try {
      spec = SpecFromJson(json::parse(row.spec_json));
    } catch (const json::exception& e) {
      spec = Error(Status::InvalidArgument(std::string("job spec: ") + e.what()));
    }
    Result<scheduler::JobRequest> req =
        spec ? ToJobRequest(*spec, scheduler_->models()) : Error(spec.error());
    if (req) {
      r.spec = std::move(*spec);
      r.request = std::move(*req);
    } else {
      r.error = req.error();
    }
    auto history = HistoryFromJson(row.history_json);
    if (!history) {
      Log(fmt::format("job {}: {}; its history starts again", row.id, history.error().message()));
    } else {
      r.history = *history;
    }
    r.row = std::move(row);
  }
  GP_RETURN_IF_ERROR(RestoreHistory(restored));
  // Running jobs first: their placements are booked before any pending job can be placed.
  for (const bool running_pass : {true, false}) {
    for (Restored& r : restored) {
      const store::JobRow& row = r.row;
      if ((row.state == "running") != running_pass) continue;
      auto job = std::make_unique<ActiveJob>();
      job->row = row;
      if (!r.request) {
        end_job(*job, running_pass ? JobState::kLost : JobState::kFailed,
                "restart: cannot read the job back: " + r.error.message());
        continue;
      }
      job->spec = *r.spec;
      job->request = *r.request;
      const std::int64_t id = row.id;
      job->history = r.history;
      scheduler::Scheduler::History sh;
      sh.attained_gpu_s = job->history.attained_gpu_s;
      sh.restarts = job->history.restarts;
      if (!running_pass) {
        if (Status st = scheduler_->CheckFeasible(job->request); !st.ok()) {
          end_job(*job, JobState::kFailed,
                  "the pool changed while the service was down: " + st.message());
          continue;
        }
        GP_CHECK(scheduler_->AddPending(id, job->request, sh).ok());
        active_.emplace(id, std::move(job));
        continue;
      }
      // A running job: its placement back (with when this run began and its last checkpoint),
      // then its process.
      sh.run_since_s = Seconds(row.started_ms);
      if (job->history.checkpoint_ms > 0) sh.checkpoint_s = Seconds(job->history.checkpoint_ms);
      std::string lost;
      Result<scheduler::Placement> placement = Error(Status::Internal("unparsed"));
      try {
        placement = PlacementFromJson(json::parse(row.placement_json), job->request);
      } catch (const json::exception& e) {
        placement = Error(Status::InvalidArgument(std::string("placement: ") + e.what()));
      }
      if (!placement) {
        lost = "lost at restart: its placement cannot be restored: " + placement.error().message();
      } else if (Status st = scheduler_->Allocate(id, *placement, job->request, sh); !st.ok()) {
        lost = "lost at restart: its placement cannot be booked again: " + st.message();
      } else if (row.runtime_json.empty()) {
        lost = "lost at restart: the service stopped before the job's process was recorded";
        (void)scheduler_->Release(id);
      } else {
        Result<bool> adopted = Error(Status::Internal("unparsed"));
        try {
          auto ref = executor::ProcessRefFromJson(json::parse(row.runtime_json));
          adopted = ref ? executor_->Adopt(id, *ref, opt_.data_dir / "jobs" / std::to_string(id))
                        : Result<bool>(Error(ref.error()));
        } catch (const json::exception& e) {
          adopted = Error(Status::InvalidArgument(std::string("runtime: ") + e.what()));
        }
        if (!adopted || !*adopted) {
          lost = adopted ? "lost at restart: its process is gone and left no exit record"
                         : "lost at restart: " + adopted.error().message();
          (void)scheduler_->Release(id);
        }
      }
      if (lost.empty()) {
        job->launched = true;
        if (job->spec.time_limit_s > 0) {
          job->deadline_ms = row.started_ms + job->spec.time_limit_s * 1000;
          deadlines_.emplace(job->deadline_ms, id);
        }
        if (job->history.preempted_by != 0) {
          // A preemption begun before the restart: stopped again (the grace starts anew), then
          // requeued when its process ends, as before.
          GP_CHECK(
              scheduler_->MarkPreempted(id, job->history.preempted_by, job->history.preempt_reason)
                  .ok());
          job->stopping = true;
          job->cause = StopCause::kPreempt;
          job->stop_reason = job->history.preempt_reason;
          if (Status st = executor_->Stop(id, opt_.preempt_grace); !st.ok()) Log(st.ToString());
        }
        active_.emplace(id, std::move(job));
      } else if (job->spec.requeue || job->history.preempted_by != 0) {
        requeue(*job, job->history.preempted_by != 0
                          ? job->history.preempt_reason + " (" + lost + ")"
                          : lost);
        sh.restarts = job->history.restarts;
        sh.run_since_s.reset();
        sh.checkpoint_s.reset();
        GP_CHECK(scheduler_->AddPending(id, job->request, sh).ok());
        active_.emplace(id, std::move(job));
      } else {
        end_job(*job, JobState::kLost, lost);
      }
    }
  }
  if (!ops.empty()) {
    auto w = store_->Write(std::move(ops));
    if (!w) return w.error();
  }
  if (!dropped.empty())
    Log(fmt::format("restart: {} job(s) ended while restoring", dropped.size()));
  return Status::Ok();
}

Status PoolService::RestoreHistory(std::vector<Restored>& jobs) {
  auto last = store_->LastFinishedRunSeq();
  if (!last) return last.error();
  // The jobs by horizon: each is told what the ends up to its horizon say, as at its submission
  // (a job of before the history, or one submitted before any end, has horizon 0: nothing).
  std::vector<Restored*> by_horizon;
  std::int64_t oldest = *last;
  for (Restored& r : jobs) {
    if (!r.request) continue;
    by_horizon.push_back(&r);
    oldest = std::min(oldest, r.history.seen_runs);
  }
  std::stable_sort(by_horizon.begin(), by_horizon.end(), [](const Restored* a, const Restored* b) {
    return a->history.seen_runs < b->history.seen_runs;
  });
  std::size_t next = 0;
  const auto inform_before = [&](std::int64_t seq) {
    for (; next < by_horizon.size() && by_horizon[next]->history.seen_runs < seq; ++next) {
      Restored& r = *by_horizon[next];
      InformLocked(r.row.user, r.row.queue, *r.request);
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t read = 0;
  const std::int64_t from = std::max<std::int64_t>(0, oldest - opt_.history_runs);
  GP_RETURN_IF_ERROR(store_->ForEachFinishedRun(from, [&](const store::FinishedRunRow& run) {
    inform_before(run.seq);
    history_.Observe(run.user, run.queue, run.gpus, RunSeconds(run.run_ms),
                     static_cast<double>(run.gpu_milli) / 1000.0);
    ++read;
  }));
  inform_before(INT64_MAX);
  history_seq_ = *last;
  if (read > 0) {
    Log(fmt::format("history: {} of {} finished job(s) read back in {:.3f} s", read, *last,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
  }
  return Status::Ok();
}

Status PoolService::ChooseQueues(std::optional<store::QueueConfigRow>* to_store) {
  base_order_ = opt_.scheduler.order;
  std::string config_order;  // the order the configuration in force names ("" none)
  GP_RETURN_IF_ERROR(ChooseQueueConfig(to_store, &config_order));
  if (!config_order.empty()) {
    if (opt_.order_given && config_order != opt_.scheduler.order) {
      return Status::FailedPrecondition(fmt::format(
          "--order {}: the queue configuration in force ({}) names the order '{}'; start without "
          "--order to keep it, or change the configuration's order (`gpupool queues set FILE`)",
          opt_.scheduler.order,
          !opt_.queues_file.empty() ? opt_.queues_file : "stored in " + store_->file().string(),
          config_order));
    }
    opt_.scheduler.order = config_order;
  }
  config_order_ = config_order;
  order_name_ = opt_.scheduler.order;
  return Status::Ok();
}

Status PoolService::ChooseQueueConfig(std::optional<store::QueueConfigRow>* to_store,
                                      std::string* config_order) {
  auto stored = store_->LatestQueueConfig();
  if (!stored) return stored.error();
  const bool given =
      !opt_.queues_file.empty() || !opt_.scheduler.queues.empty() || !opt_.queues_order.empty();
  const std::string file = opt_.queues_file.empty() ? "(start options)" : opt_.queues_file;
  const QueueConfig given_config{opt_.queues_order, opt_.scheduler.queues};
  const store::QueueConfigRow given_row{0, NowMs(), "", "file " + file,
                                        QueueConfigText(given_config)};
  if (!stored->has_value()) {
    if (given) *to_store = given_row;
    *config_order = opt_.queues_order;
    return Status::Ok();
  }
  const store::QueueConfigRow& s = **stored;
  auto config = ParseQueueConfig(s.text, "the stored queue configuration " + std::to_string(s.id));
  if (!config) {
    return Status::FailedPrecondition(store_->file().string() + ": " + config.error().message());
  }
  const std::string when = TimeJson(s.applied_ms).get<std::string>();
  const std::string who = s.user.empty() ? "" : " by " + s.user;
  if (!given) {
    opt_.scheduler.queues = config->queues;
    *config_order = config->order;
    queue_config_ = s;
    if (!config->queues.empty() || !config->order.empty()) {
      Log(fmt::format(
          "queues: {} queue(s){} from the database, applied{} at {} ({})", config->queues.size(),
          config->order.empty() ? "" : ", order " + config->order, who, when, s.source));
    }
    return Status::Ok();
  }
  *config_order = opt_.queues_order;
  const std::vector<std::string> changes = ConfigChanges(*config, given_config);
  if (changes.empty()) {  // the same configuration (the queues' order aside): nothing to store
    queue_config_ = s;
    return Status::Ok();
  }
  std::string diff;
  for (const auto& c : changes) diff += (diff.empty() ? "" : "; ") + c;
  if (s.source == "api" && !opt_.queues_reset) {
    return Status::FailedPrecondition(fmt::format(
        "--queues {}: the queues were changed through the API{} at {} and the file differs from "
        "them ({}); to keep the API's queues start without --queues (they are kept in the "
        "database); to use the file start without --queues and apply it with `gpupool queues set "
        "{}`, or start with --queues-reset to replace them with the file",
        file, who, when, diff, file));
  }
  *to_store = given_row;
  Log(fmt::format("queues: {} replaces the stored queues{}: {}", file,
                  s.source == "api" ? " changed through the API (--queues-reset)" : "", diff));
  return Status::Ok();
}

std::vector<std::string> PoolService::ConfigChanges(const QueueConfig& before,
                                                    const QueueConfig& after) {
  std::vector<std::string> out;
  if (before.order != after.order) {
    out.push_back("order " + (before.order.empty() ? std::string("(none)") : before.order) +
                  " -> " + (after.order.empty() ? std::string("(none)") : after.order));
  }
  for (std::string& c : QueueChanges(before.queues, after.queues)) out.push_back(std::move(c));
  return out;
}

// ---------------------------------------------------------------- placements as JSON

json PoolService::PlacementJson(const scheduler::Placement& p) const {
  json out = json::array();
  for (std::size_t k = 0; k < p.size(); ++k) {
    const cluster::Allocation& a = p[k];
    const cluster::NodeSpec& spec = scheduler_->node_spec(a.node);
    json gpus = json::array();
    for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
      const int g = std::countr_zero(m);
      gpus.push_back({{"index", g},
                      {"uuid", spec.gpus[static_cast<std::size_t>(g)].uuid},
                      {"milli", a.gpu_milli},
                      {"memory_mib", a.gpu_memory_mib}});
    }
    out.push_back({{"replica", k},
                   {"node", spec.name},
                   {"cpu_milli", a.cpu_milli},
                   {"memory_mib", a.memory_mib},
                   {"gpus", std::move(gpus)}});
  }
  return out;
}

Result<scheduler::Placement> PoolService::PlacementFromJson(const json& j,
                                                            const scheduler::JobRequest& r) const {
  if (!j.is_array() || j.empty())
    return Error(Status::InvalidArgument("placement: not a list of replicas"));
  if (static_cast<int>(j.size()) != r.replicas) {
    return Error(Status::InvalidArgument(
        fmt::format("placement: {} replicas, the job has {}", j.size(), r.replicas)));
  }
  scheduler::Placement out;
  for (const auto& rep : j) {
    const std::string node = rep.at("node").get<std::string>();
    const auto index = scheduler_->NodeIndex(node);
    if (!index) return Error(Status::NotFound("node " + node + " is no longer in the pool"));
    std::uint32_t mask = 0;
    for (const auto& g : rep.at("gpus")) {
      const int gi = g.at("index").get<int>();
      if (gi < 0 || gi >= static_cast<int>(scheduler_->node_spec(*index).gpus.size())) {
        return Error(Status::InvalidArgument(fmt::format("node {}: no GPU {}", node, gi)));
      }
      mask |= 1U << gi;
    }
    if (std::popcount(mask) != r.replica.num_gpu) {
      return Error(
          Status::InvalidArgument(fmt::format("node {}: {} GPUs booked, the job asks {}", node,
                                              std::popcount(mask), r.replica.num_gpu)));
    }
    out.push_back(cluster::MakeAllocation(r.replica, *index, mask));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> PoolService::JobEnv(const ActiveJob& job) const {
  std::vector<std::pair<std::string, std::string>> env = job.spec.env;
  const scheduler::Placement* p = scheduler_->placement(job.row.id);
  std::string visible, all;
  if (p != nullptr) {
    for (std::size_t k = 0; k < p->size(); ++k) {
      const cluster::Allocation& a = (*p)[k];
      const cluster::NodeSpec& spec = scheduler_->node_spec(a.node);
      std::string uuids;
      for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
        uuids += (uuids.empty() ? "" : ",") +
                 spec.gpus[static_cast<std::size_t>(std::countr_zero(m))].uuid;
      }
      if (k == 0) visible = uuids;
      all += (all.empty() ? "" : ";") + spec.name + ":" + uuids;
    }
    env.emplace_back("GPUPOOL_NODE", scheduler_->node_spec((*p)[0].node).name);
  }
  env.emplace_back("CUDA_VISIBLE_DEVICES", visible);
  env.emplace_back("GPUPOOL_JOB_ID", std::to_string(job.row.id));
  env.emplace_back("GPUPOOL_GPU_MILLI",
                   std::to_string(job.spec.num_gpu > 0 ? job.spec.gpu_milli : 0));
  env.emplace_back("GPUPOOL_GPU_MEMORY_MIB", std::to_string(job.spec.gpu_memory_mib));
  env.emplace_back("GPUPOOL_NUM_GPUS", std::to_string(job.spec.num_gpu));
  env.emplace_back("GPUPOOL_REPLICAS", std::to_string(job.spec.replicas));
  env.emplace_back("GPUPOOL_REPLICA", "0");
  env.emplace_back("GPUPOOL_PLACEMENT", all);
  if (opt_.simulated) env.emplace_back("GPUPOOL_SIMULATED", "1");
  return env;
}

// ---------------------------------------------------------------- the scheduling thread

void PoolService::InformLocked(const std::string& user, const std::string& queue,
                               scheduler::JobRequest& r) const {
  // Both, whatever the order: the order may change at run time (PUT /api/v1/queues), and the
  // jobs waiting then rank by what they were given at their submission.
  history_.Inform(user, queue, scheduler::JobGpuCount(r), /*estimate=*/true, /*profile=*/true, r);
}

void PoolService::FinishLocked(ActiveJob& job, const executor::ExitInfo& exit, std::int64_t now_ms,
                               std::vector<store::WriteOp>& ops) {
  const std::int64_t id = job.row.id;
  // Its run is over: no time limit to enforce, also when its exit comes in the pass that reaches
  // the limit (the deadline is skipped, no Stop after the end).
  job.deadline_ms = 0;
  if (job.cause == StopCause::kPreempt) {
    // Preempted: back pending with its history, whatever the exit (a job that checkpoints on
    // SIGTERM and exits 0 did what was asked). Only now are its GPUs free for its preemptor.
    if (Status st = scheduler_->Requeue(id); !st.ok()) Log(st.ToString());
    job.history.restarts = scheduler_->Restarts(id);
    job.history.attained_gpu_s = scheduler_->Attained(id);
    job.history.checkpoint_ms = 0;
    job.history.preempted_by = 0;
    job.history.preempt_reason.clear();
    job.history.ran_ms += std::max<std::int64_t>(now_ms - job.row.started_ms, 0);
    job.row.history_json = HistoryToJson(job.history);
    job.Requeue(job.stop_reason + " (" + exit.reason + ")");
    job.stop_reason.clear();
    ops.emplace_back(
        store::UpdateJobOp{job.row, {store::EventRow{id, now_ms, "pending", job.row.reason}}});
    return;
  }
  // The time it ran, all runs together (this one from its start until now).
  const std::int64_t ran_ms =
      job.history.ran_ms + std::max<std::int64_t>(now_ms - job.row.started_ms, 0);
  const double attained = scheduler_->Attained(id);
  if (Status st = scheduler_->Release(id); !st.ok()) Log(st.ToString());
  // Not preempted after all (cancelled, lost or timed out meanwhile): no preemption in progress.
  job.history.preempted_by = 0;
  job.history.preempt_reason.clear();
  JobState state = JobState::kFailed;
  std::string reason = exit.reason;
  if (exit.lost || job.cause == StopCause::kLost) {
    state = JobState::kLost;
    if (job.cause == StopCause::kLost) reason = job.stop_reason + " (" + exit.reason + ")";
  } else if (job.cause == StopCause::kCancel) {
    state = JobState::kCancelled;
    reason = job.stop_reason + " (" + exit.reason + ")";
  } else if (job.cause == StopCause::kTimeLimit) {
    state = JobState::kTimedOut;
    reason = job.stop_reason + " (" + exit.reason + ")";
  } else if (exit.signal == 0 && exit.exit_code == 0) {
    state = JobState::kSucceeded;
  }
  job.row.exit_code = exit.exit_code >= 0 ? std::optional<int>(exit.exit_code) : std::nullopt;
  metrics_.finished.fetch_add(1, std::memory_order_relaxed);
  if (state == JobState::kLost && job.spec.requeue) {
    job.Requeue(reason);
    job.history.attained_gpu_s = attained;
    job.history.ran_ms = ran_ms;
    job.history.checkpoint_ms = 0;
    job.row.history_json = HistoryToJson(job.history);
    scheduler::Scheduler::History h;
    h.attained_gpu_s = attained;
    h.restarts = job.history.restarts;
    GP_CHECK(scheduler_->AddPending(id, job.request, h).ok());
    ops.emplace_back(store::UpdateJobOp{job.row,
                                        {store::EventRow{id, now_ms, "lost", reason},
                                         store::EventRow{id, now_ms, "pending", job.row.reason}}});
    return;
  }
  job.row.state = StateName(state);
  job.row.reason = reason;
  job.row.finished_ms = now_ms;
  job.history.attained_gpu_s = attained;
  job.history.ran_ms = ran_ms;
  job.row.history_json = HistoryToJson(job.history);
  ops.emplace_back(
      store::UpdateJobOp{job.row, {store::EventRow{id, now_ms, job.row.state, reason}}});
  // The history counts it (whatever its outcome, as the replay counts every job of its trace),
  // stored with its final state: a start reads back what was counted.
  store::FinishedRunRow run;
  run.seq = ++history_seq_;
  run.job_id = id;
  run.finished_ms = now_ms;
  run.user = job.row.user;
  run.queue = job.row.queue;
  run.gpus = scheduler::JobGpuCount(job.request);
  run.gpu_milli = scheduler::JobGpuMilli(job.request);
  run.run_ms = ran_ms;
  history_.Observe(run.user, run.queue, run.gpus, RunSeconds(run.run_ms),
                   static_cast<double>(run.gpu_milli) / 1000.0);
  ops.emplace_back(store::InsertFinishedRunOp{std::move(run)});
}

void PoolService::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, opt_.tick, [this] { return stop_ || dirty_; });
    if (stop_) break;
    lock.unlock();
    std::vector<executor::ExitInfo> exits = executor_->Poll();
    const std::int64_t now = NowMs();
    std::vector<store::WriteOp> ops;
    std::vector<std::int64_t> finished;
    std::vector<std::pair<std::int64_t, executor::LaunchSpec>> launches;
    std::vector<std::int64_t> preempted;  // to stop once their preemption is committed
    lock.lock();
    scheduler_->SetClock(Seconds(now));
    for (const std::int64_t id : checkpointed_) {
      if (const auto it = active_.find(id); it != active_.end()) {
        ops.push_back(store::UpdateJobOp{it->second->row, {}});
      }
    }
    checkpointed_.clear();
    for (const auto& exit : exits) {
      const auto it = active_.find(exit.job_id);
      if (it == active_.end()) continue;
      FinishLocked(*it->second, exit, now, ops);
      if (it->second->row.state != "pending") finished.push_back(exit.job_id);
    }
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const std::int64_t id = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      const auto it = active_.find(id);
      if (it == active_.end()) continue;
      ActiveJob& job = *it->second;
      if (!job.launched || job.stopping || job.deadline_ms == 0 || job.deadline_ms > now) continue;
      job.stopping = true;
      job.cause = StopCause::kTimeLimit;
      job.stop_reason = fmt::format("time limit of {} s reached", job.spec.time_limit_s);
      if (Status st = executor_->Stop(id, opt_.stop_grace); !st.ok()) Log(st.ToString());
    }
    // With preemption, what may be stopped changes with time alone (a minimum run time passes,
    // a job's attained GPU time crosses a level): every waiting job is tried again now and then.
    bool recheck = false;
    if (opt_.scheduler.preemption && now >= next_recheck_ms_) {
      recheck = true;
      next_recheck_ms_ = now + opt_.preempt_recheck.count();
    }
    // A reservation lapses, or a lapsed one may come back, with time alone (reservation_timeout_s):
    // every waiting job is tried again then.
    if (const auto at = scheduler_->reservation_change_at(); at && Seconds(now) >= *at) {
      recheck = true;
    }
    const bool run = dirty_ || !exits.empty() || retry_ || recheck;
    dirty_ = false;
    retry_ = false;
    if (run && scheduler_->num_pending() > 0) {
      const auto t0 = std::chrono::steady_clock::now();
      scheduler::CycleResult cycle = scheduler_->RunCycle(/*full=*/recheck);
      // Jobs the policy let wait for a partner go in the next cycle, a tick later at most.
      retry_ = cycle.deferred > 0;
      metrics_.cycle_seconds.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      metrics_.cycles.fetch_add(1, std::memory_order_relaxed);
      metrics_.placed.fetch_add(cycle.placed.size(), std::memory_order_relaxed);
      metrics_.preempted.fetch_add(cycle.preempted.size(), std::memory_order_relaxed);
      for (const std::int64_t id : cycle.preempted) {
        // It keeps its GPUs until its process has ended (wait_for_victims); the preemption is
        // committed before the SIGTERM, so that a restart in between finishes it.
        ActiveJob& job = *active_.at(id);
        // Already ending (cancelled, timed out, lost): it ends as it was going to; its GPUs go to
        // the preemptor when it has.
        if (job.stopping) continue;
        job.stopping = true;
        job.cause = StopCause::kPreempt;
        job.stop_reason = scheduler_->PreemptionReason(id);
        job.history.preempted_by = scheduler_->PreemptedBy(id).value_or(0);
        job.history.preempt_reason = job.stop_reason;
        if (job.history.preempted_by != 0)
          job.history.preempted_by_jobs.push_back(job.history.preempted_by);
        job.row.history_json = HistoryToJson(job.history);
        ops.push_back(store::UpdateJobOp{
            job.row,
            {store::EventRow{id, now, "running",
                             fmt::format("{}: SIGTERM, SIGKILL after {} s", job.stop_reason,
                                         Seconds(opt_.preempt_grace.count()))}}});
        // The other end of the link: the preemptor (pending) records its victim, in the same
        // commit as the victim's record.
        if (const auto by = active_.find(job.history.preempted_by); by != active_.end()) {
          ActiveJob& preemptor = *by->second;
          preemptor.history.victims.push_back(id);
          preemptor.row.history_json = HistoryToJson(preemptor.history);
          ops.push_back(store::UpdateJobOp{preemptor.row, {}});
          recent_preemptions_.push_back({{"victim", id},
                                         {"victim_queue", job.row.queue},
                                         {"by", preemptor.row.id},
                                         {"by_queue", preemptor.row.queue},
                                         {"at", TimeJson(now)},
                                         {"reason", job.stop_reason}});
          if (recent_preemptions_.size() > kRecentPreemptions) recent_preemptions_.pop_front();
        }
        if (job.launched) preempted.push_back(id);
      }
      for (const auto& [id, placement] : cycle.placed) {
        ActiveJob& job = *active_.at(id);
        job.row.state = "running";
        job.row.started_ms = now;
        job.row.placement_json = PlacementJson(placement).dump();
        std::string where;
        for (const auto& a : placement) {
          const std::string& n = scheduler_->node_spec(a.node).name;
          if (where.find(n) == std::string::npos) where += (where.empty() ? "" : ", ") + n;
        }
        job.row.reason = "placed on " + where;
        if (job.spec.time_limit_s > 0) {
          job.deadline_ms = now + job.spec.time_limit_s * 1000;
          deadlines_.emplace(job.deadline_ms, id);
        }
        ops.push_back(
            store::UpdateJobOp{job.row, {store::EventRow{id, now, "running", job.row.reason}}});
        executor::LaunchSpec ls;
        ls.job_id = id;
        ls.argv = job.spec.command;
        ls.env = JobEnv(job);
        ls.workdir = job.spec.workdir;
        ls.job_dir = opt_.data_dir / "jobs" / std::to_string(id);
        ls.gpu_shim = opt_.gpu_shim;
        launches.emplace_back(id, std::move(ls));
      }
    }
    lock.unlock();
    // Placements and endings are durable before any process starts, preemptions before any
    // process is stopped.
    if (!ops.empty()) {
      if (auto w = store_->Write(std::move(ops)); !w) Log("store: " + w.error().ToString());
    }
    for (const std::int64_t id : preempted) {
      if (Status st = executor_->Stop(id, opt_.preempt_grace); !st.ok()) Log(st.ToString());
    }
    std::vector<store::WriteOp> started;
    for (auto& [id, spec] : launches) {
      Result<executor::ProcessRef> ref = executor_->Launch(spec);
      std::lock_guard relock(mu_);
      ActiveJob& job = *active_.at(id);
      if (ref) {
        job.launched = true;
        job.row.runtime_json = executor::ToJson(*ref).dump();
        started.push_back(store::UpdateJobOp{job.row, {}});
        if (job.stopping) {
          const auto grace =
              job.cause == StopCause::kPreempt ? opt_.preempt_grace : opt_.stop_grace;
          if (Status st = executor_->Stop(id, grace); !st.ok()) Log(st.ToString());
        }
      } else {
        const std::int64_t t = NowMs();
        (void)scheduler_->Release(id);
        job.row.state = job.stopping && job.cause == StopCause::kCancel ? "cancelled" : "failed";
        job.row.reason = ref.error().message();
        job.row.finished_ms = t;
        started.push_back(
            store::UpdateJobOp{job.row, {store::EventRow{id, t, job.row.state, job.row.reason}}});
        finished.push_back(id);
        dirty_ = true;
      }
    }
    if (!started.empty()) {
      if (auto w = store_->Write(std::move(started)); !w) Log("store: " + w.error().ToString());
    }
    lock.lock();
    for (const std::int64_t id : finished) active_.erase(id);
    idle_cv_.notify_all();
  }
}

bool PoolService::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return active_.empty(); });
}

void PoolService::Monitor() {
  // uuid -> (node, gpu) of this host's GPUs.
  std::map<std::string, std::pair<std::string, int>> where;
  {
    std::lock_guard lock(mu_);
    for (int i = 0; i < scheduler_->num_nodes(); ++i) {
      const auto& spec = scheduler_->node_spec(i);
      for (std::size_t g = 0; g < spec.gpus.size(); ++g) {
        if (!spec.gpus[g].uuid.empty()) where[spec.gpus[g].uuid] = {spec.name, static_cast<int>(g)};
      }
    }
  }
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto samples = discovery::SampleGpus(*opt_.nvml);
    std::set<std::string> healthy;
    std::map<std::string, std::string> errors;
    if (samples) {
      for (const auto& s : *samples) {
        if (s.ok()) {
          healthy.insert(s.uuid);
        } else {
          errors[s.uuid] = s.error;
        }
      }
    }
    lock.lock();
    // The readings GET /api/v1/nodes shows (NodesLocked); none when NVML could not be read.
    nvml_samples_.clear();
    if (samples) {
      for (const auto& s : *samples) nvml_samples_[s.uuid] = s;
    }
    if (samples) {
      for (const auto& [uuid, pos] : where) {
        const auto& [node, g] = pos;
        const auto index = scheduler_->NodeIndex(node);
        if (!index) continue;
        const bool ok = healthy.contains(uuid);
        if (ok == scheduler_->gpu_healthy(*index, g)) continue;
        if (Status st = scheduler_->SetGpuHealthy(node, g, ok); !st.ok()) Log(st.ToString());
        if (ok) {
          Log(fmt::format("GPU {} ({} GPU {}) is back", uuid, node, g));
          dirty_ = true;
          continue;
        }
        const std::string why = errors.contains(uuid) ? errors[uuid] : "no longer listed by NVML";
        Log(fmt::format("GPU {} ({} GPU {}) lost: {}", uuid, node, g, why));
        for (const auto& [id, placement] : scheduler_->placements()) {
          const bool uses = std::any_of(placement.begin(), placement.end(), [&](const auto& a) {
            return a.node == *index && ((a.gpu_mask >> g) & 1U) != 0;
          });
          if (!uses) continue;
          auto it = active_.find(id);
          if (it == active_.end() || it->second->cause == StopCause::kLost) continue;
          ActiveJob& job = *it->second;
          job.stopping = true;
          job.cause = StopCause::kLost;
          job.stop_reason = fmt::format("lost: GPU {} ({} GPU {}) lost: {}", uuid, node, g, why);
          if (job.launched) {
            if (Status st = executor_->Stop(id, std::chrono::milliseconds(0)); !st.ok())
              Log(st.ToString());
          }
        }
      }
    }
    cv_.wait_for(lock, opt_.nvml_interval, [this] { return stop_; });
  }
}

// ---------------------------------------------------------------- jobs

ApiResult<Principal> PoolService::Authenticate(std::string_view header) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.empty()) return Fail(Unauthenticated("missing Authorization: Bearer TOKEN"));
  if (!header.starts_with(kBearer))
    return Fail(Unauthenticated("Authorization must be 'Bearer TOKEN'"));
  auto p = tokens_.Find(header.substr(kBearer.size()));
  if (!p) return Fail(Unauthenticated("unknown or revoked token"));
  return *p;
}

json PoolService::JobJson(const ActiveJob& job) const {
  json j = RowJson(job.row);
  // GPU time up to now for a running job (the row has it up to the start of this run).
  j["attained_gpu_s"] = ShownGpuSeconds(scheduler_->Attained(job.row.id));
  if (job.row.state == "pending") {
    const std::string reason = scheduler_->PendingReason(job.row.id);
    if (!reason.empty()) j["reason"] = reason;
    j["pending"] = PendingJson(*scheduler_, job.row.id);
  } else if (job.row.state == "running" && job.stopping) {
    j["reason"] =
        job.stop_reason.empty() ? std::string("stopping") : "stopping: " + job.stop_reason;
  }
  return j;
}

json PoolService::RowJson(const store::JobRow& row) const {
  json spec;
  try {
    spec = json::parse(row.spec_json);
  } catch (const json::exception&) {
    spec = json::object();
  }
  return RowJson(row, spec);
}

json PoolService::RowJson(const store::JobRow& row, const json& spec) const {
  json placement = json::array();
  if (!row.placement_json.empty()) {
    try {
      placement = json::parse(row.placement_json);
    } catch (const json::exception&) {  // NOLINT(bugprone-empty-catch)
      // A stored placement that does not parse is shown as none; the row itself stays readable.
    }
  }
  const Result<RunHistory> history = HistoryFromJson(row.history_json);
  const RunHistory h = history ? *history : RunHistory{};
  json resources = spec.value("resources", json::object());
  // A job stored before topology existed asked for none: "any".
  if (resources.is_object() && !resources.contains("topology")) resources["topology"] = "any";
  return json{{"id", row.id},
              {"name", row.name},
              {"user", row.user},
              {"queue", row.queue},
              {"priority", row.priority},
              {"state", row.state},
              {"reason", row.reason},
              {"command", spec.value("command", json::array())},
              {"env", spec.value("env", json::object())},
              {"workdir", spec.value("workdir", "")},
              {"resources", std::move(resources)},
              {"time_limit_s", spec.value("time_limit_s", 0)},
              {"preemptible", spec.value("preemptible", false)},
              {"requeue", spec.value("requeue", false)},
              {"submitted_at", TimeJson(row.submitted_ms)},
              {"started_at", TimeJson(row.started_ms)},
              {"finished_at", TimeJson(row.finished_ms)},
              {"exit_code", row.exit_code ? json(*row.exit_code) : json(nullptr)},
              {"placement", std::move(placement)},
              {"restarts", h.restarts},
              {"preempted_by_jobs", h.preempted_by_jobs},
              {"victims", h.victims},
              {"attained_gpu_s", ShownGpuSeconds(h.attained_gpu_s)},
              {"checkpoint_at", TimeJson(h.checkpoint_ms)}};
}

ApiResult<json> PoolService::Submit(const Principal& p, const json& body) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> models;
  {
    std::lock_guard lock(mu_);
    models = ModelNames();
  }
  auto spec = ParseSubmission(body, models, true);
  if (!spec) {
    metrics_.rejected.fetch_add(1, std::memory_order_relaxed);
    return Fail(spec.error());
  }
  if (!p.MaySubmitTo(spec->queue)) {
    metrics_.rejected.fetch_add(1, std::memory_order_relaxed);
    std::string allowed;
    for (const auto& q : p.queues) allowed += (allowed.empty() ? "" : ", ") + q;
    return Fail(PermissionDenied("user " + p.user + " may not submit to queue '" + spec->queue +
                                 "' (allowed: " + (allowed.empty() ? "none" : allowed) + ")"));
  }
  scheduler::JobRequest request;
  std::int64_t ticket = 0;  // in submitting_ until queued: a queue change counts it as a job
  RunHistory history;       // its horizon: the ends counted by now
  {
    std::lock_guard lock(mu_);
    auto r = ToJobRequest(*spec, scheduler_->models());
    if (!r) return Fail(FromStatus(r.error(), "gpu_models"));
    if (Status st = scheduler_->CheckFeasible(*r); !st.ok()) {
      metrics_.rejected.fetch_add(1, std::memory_order_relaxed);
      return Fail(FromStatus(st));
    }
    request = *r;
    // What the jobs that have ended by now say of it (qssf, gittins); never revised later.
    InformLocked(p.user, spec->queue, request);
    history.seen_runs = history_seq_;
    ticket = ++next_submitting_;
    submitting_.emplace(ticket, request);
  }
  const std::int64_t now = NowMs();
  store::JobRow row;
  row.user = p.user;
  row.queue = spec->queue;
  row.name = spec->name;
  row.state = "pending";
  row.priority = spec->priority;
  row.submitted_ms = now;
  row.reason = "waiting for the next scheduling cycle";
  const json spec_json = SpecToJson(*spec);
  row.spec_json = spec_json.dump();
  if (history.seen_runs > 0) row.history_json = HistoryToJson(history);
  auto id = store_->InsertJob(row, store::EventRow{0, now, "pending", "submitted by " + p.user});
  if (!id) {
    {
      std::lock_guard lock(mu_);
      submitting_.erase(ticket);
    }
    return Fail(
        ApiError{503, "UNAVAILABLE", {}, "the job could not be stored: " + id.error().message()});
  }
  row.id = *id;
  // The answer is the job as committed (no cycle has seen it yet): built before taking the lock
  // that the scheduling thread and every other submission need.
  json out = RowJson(row, spec_json);
  auto job = std::make_unique<ActiveJob>();
  job->row = row;
  job->spec = std::move(*spec);
  job->request = request;
  job->history = history;
  {
    std::lock_guard lock(mu_);
    submitting_.erase(ticket);
    GP_CHECK(scheduler_->AddPending(*id, request).ok());
    active_.emplace(*id, std::move(job));
    dirty_ = true;
  }
  cv_.notify_one();
  metrics_.submitted.fetch_add(1, std::memory_order_relaxed);
  metrics_.submit_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return out;
}

ApiResult<store::JobRow> PoolService::VisibleJob(const Principal& p, std::int64_t id) {
  auto row = store_->GetJob(id);
  if (!row) return Fail(FromStatus(row.error()));
  if (!row->has_value() || (!p.admin && (*row)->user != p.user)) {
    return Fail(NotFoundError(fmt::format("job {} not found", id)));
  }
  return **row;
}

ApiResult<json> PoolService::GetJob(const Principal& p, std::int64_t id) {
  {
    std::lock_guard lock(mu_);
    const auto it = active_.find(id);
    if (it != active_.end()) {
      if (!p.admin && it->second->row.user != p.user) {
        return Fail(NotFoundError(fmt::format("job {} not found", id)));
      }
      return JobJson(*it->second);
    }
  }
  auto row = VisibleJob(p, id);
  if (!row) return Fail(row.error());
  return RowJson(*row);
}

ApiResult<json> PoolService::ListJobs(const Principal& p, const store::JobQuery& query) {
  store::JobQuery q = query;
  if (!p.admin) {
    if (q.user && *q.user != p.user) {
      return Fail(PermissionDenied("user " + p.user + " may list only their own jobs"));
    }
    q.user = p.user;
  }
  auto page = store_->ListJobs(q);
  if (!page) return Fail(FromStatus(page.error()));
  json jobs = json::array();
  std::int64_t moved_on = 0;  // filtered by a state the job has just left
  {
    std::lock_guard lock(mu_);
    for (const auto& row : page->jobs) {
      const auto it = active_.find(row.id);
      json j = it != active_.end() ? JobJson(*it->second) : RowJson(row);
      // The store filters by the state it holds; a job whose change of state is not committed
      // yet shows its live state, and leaves a list filtered by the state it left.
      if (q.state && j.value("state", "") != *q.state) {
        ++moved_on;
        continue;
      }
      jobs.push_back(std::move(j));
    }
  }
  return json{{"jobs", std::move(jobs)},
              {"next_cursor", page->next_before_id > 0 && !page->jobs.empty()
                                  ? json(EncodeJobCursor(q.sort, q.descending, page->jobs.back()))
                                  : json(nullptr)},
              {"total", page->total - moved_on}};
}

ApiResult<json> PoolService::Plan(const json& body) const {
  auto q = ParsePlanQuery(body);
  if (!q) return Fail(q.error());
  auto out = RunPlan(*q, DataDir() / "models");
  if (!out) return out;
  json& o = *out;
  std::lock_guard lock(mu_);
  std::vector<scheduler::Scheduler::NodeVerdict> verdicts;
  std::string never = "no tensor-parallel degree up to 64 holds the model";
  if (!o["submit"].is_null()) {
    // Checked as a submission would be (the command is not the plan's business).
    json as_submitted = o["submit"];
    as_submitted["command"] = json::array({"true"});
    auto spec = ParseSubmission(as_submitted, ModelNames(), false);
    if (!spec) {
      never = spec.error().message;
    } else if (auto r = ToJobRequest(*spec, scheduler_->models()); !r) {
      never = r.error().message();
    } else {
      const Status st = scheduler_->CheckFeasible(*r);
      never = st.ok() ? "" : st.message();
      verdicts = scheduler_->NodeVerdicts(*r);
    }
  }
  json nodes = json::array();
  for (int i = 0; i < scheduler_->num_nodes(); ++i) {
    const cluster::NodeSpec& n = scheduler_->node_spec(i);
    const auto verdict = verdicts.empty() ? scheduler::Scheduler::NodeVerdict::kNever
                                          : verdicts[static_cast<std::size_t>(i)];
    nodes.push_back({{"name", n.name},
                     {"model", n.gpus.empty() ? "" : n.gpus.front().model},
                     {"gpus", n.gpus.size()},
                     {"condition", scheduler::NodeConditionName(scheduler_->node_condition(i))},
                     {"verdict", scheduler::NodeVerdictName(verdict)}});
  }
  o["feasible"] = never.empty();
  o["never"] = never;
  o["nodes"] = std::move(nodes);
  return out;
}

ApiResult<json> PoolService::Events(const Principal& p, std::int64_t id) {
  auto row = VisibleJob(p, id);
  if (!row) return Fail(row.error());
  auto events = store_->ListEvents(id);
  if (!events) return Fail(FromStatus(events.error()));
  json out = json::array();
  for (const auto& e : *events) {
    out.push_back({{"time", TimeJson(e.time_ms)}, {"state", e.state}, {"reason", e.reason}});
  }
  return json{{"events", std::move(out)}};
}

ApiResult<json> PoolService::Logs(const Principal& p, std::int64_t id, const LogQuery& q) {
  if (q.stream != "stdout" && q.stream != "stderr") {
    return Fail(BadRequest("stream", "stream: '" + q.stream + "' is not stdout or stderr"));
  }
  if (q.offset < 0) return Fail(BadRequest("offset", "offset: is negative"));
  if (q.limit < 1 || q.limit > (1 << 20)) {
    return Fail(BadRequest("limit", "limit: must be 1..1048576 bytes"));
  }
  auto row = VisibleJob(p, id);
  if (!row) return Fail(row.error());
  bool ended = false;
  {
    std::lock_guard lock(mu_);
    // Ended: gone from memory, or in a final state whose commit is still on its way to the store
    // (the job's state as the API shows it; its process has exited).
    const auto it = active_.find(id);
    const auto state =
        it == active_.end() ? std::nullopt : scheduler::ParseJobState(it->second->row.state);
    ended = it == active_.end() || (state && scheduler::IsTerminal(*state));
  }
  const auto path = opt_.data_dir / "jobs" / std::to_string(id) / (q.stream + ".log");
  std::string data;
  std::int64_t size = 0;
  std::ifstream in(path, std::ios::binary);
  if (in) {
    in.seekg(0, std::ios::end);
    size = static_cast<std::int64_t>(in.tellg());
    if (q.offset < size) {
      const std::int64_t n = std::min(q.limit, size - q.offset);
      data.resize(static_cast<std::size_t>(n));
      in.seekg(q.offset);
      in.read(data.data(), n);
      data.resize(static_cast<std::size_t>(in.gcount()));
    }
  }
  const std::int64_t next = q.offset + static_cast<std::int64_t>(data.size());
  return json{{"data", std::move(data)}, {"offset", next}, {"eof", ended && next >= size}};
}

ApiResult<json> PoolService::Cancel(const Principal& p, std::int64_t id) {
  std::unique_lock lock(mu_);
  const auto it = active_.find(id);
  if (it == active_.end()) {
    lock.unlock();
    auto row = VisibleJob(p, id);
    if (!row) return Fail(row.error());
    return Fail(Conflict(fmt::format("job {} already ended ({})", id, row->state)));
  }
  ActiveJob& job = *it->second;
  if (!p.admin && job.row.user != p.user)
    return Fail(NotFoundError(fmt::format("job {} not found", id)));
  const std::string who = "cancelled by " + p.user;
  if (job.row.state == "pending") {
    GP_CHECK(scheduler_->RemovePending(id).ok());
    const std::int64_t now = NowMs();
    job.row.state = "cancelled";
    job.row.reason = who + " while pending";
    job.row.finished_ms = now;
    store::JobRow row = job.row;
    active_.erase(it);
    lock.unlock();
    if (auto w = store_->UpdateJob(row, {store::EventRow{id, now, row.state, row.reason}});
        !w.ok()) {
      return Fail(FromStatus(w));
    }
    idle_cv_.notify_all();
    return RowJson(row);
  }
  if (!job.stopping || job.cause == StopCause::kPreempt) {
    // A job being preempted now ends cancelled, not requeued, and by the cancel's grace if that
    // ends first (a second Stop keeps the earlier SIGKILL).
    job.stopping = true;
    job.cause = StopCause::kCancel;
    job.stop_reason = who;
    if (job.launched) {
      if (Status st = executor_->Stop(id, opt_.stop_grace); !st.ok()) Log(st.ToString());
    }
  }
  return JobJson(job);
}

ApiResult<json> PoolService::Checkpoint(const Principal& p, std::int64_t id) {
  std::unique_lock lock(mu_);
  const auto it = active_.find(id);
  if (it == active_.end() || it->second->row.state != "running") {
    const std::string state = it != active_.end() ? it->second->row.state : std::string();
    lock.unlock();
    auto row = VisibleJob(p, id);
    if (!row) return Fail(row.error());
    return Fail(Conflict(
        fmt::format("job {} is not running ({})", id, state.empty() ? row->state : state)));
  }
  ActiveJob& job = *it->second;
  if (!p.admin && job.row.user != p.user)
    return Fail(NotFoundError(fmt::format("job {} not found", id)));
  const std::int64_t now = NowMs();
  scheduler_->SetClock(Seconds(now));
  if (Status st = scheduler_->Checkpointed(id); !st.ok()) return Fail(FromStatus(st));
  job.history.checkpoint_ms = now;
  job.row.history_json = HistoryToJson(job.history);
  // Committed by the scheduling thread within a tick, with its other writes of the job's row, so
  // that an older row never overwrites a newer one. No event: a job may checkpoint often; the
  // time is in the job object (checkpoint_at).
  checkpointed_.push_back(id);
  return JobJson(job);
}

// ---------------------------------------------------------------- nodes and the pool

json PoolService::Nodes() const {
  View v;
  {
    std::lock_guard lock(mu_);
    v = ViewLocked();
  }
  return NodesJson(v);
}

json PoolService::StreamState() const {
  const auto t0 = std::chrono::steady_clock::now();
  View v;
  {
    std::unique_lock lock(mu_);
    const auto locked = std::chrono::steady_clock::now();
    v = ViewLocked();
    lock.unlock();
    metrics_.stream_state_lock_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - locked).count());
  }
  json list = NodesJson(v);
  json nodes = json::object();
  for (json& n : list["nodes"]) {
    std::string name = n["name"].get<std::string>();
    nodes[name] = std::move(n);
  }
  json out{{"pool", PoolJson(v, false)}, {"nodes", std::move(nodes)}, {"head", v.head}};
  metrics_.stream_state_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return out;
}

json PoolService::HeadLocked() const {
  const std::optional<std::int64_t> head = scheduler_->HeadOfQueue();
  if (!head) return nullptr;
  const auto it = active_.find(*head);
  if (it == active_.end()) return nullptr;
  const scheduler::JobRequest& r = it->second->request;
  json stranded = json::array();
  for (const scheduler::StrandedGpus& s : scheduler_->StrandedFor(*head)) {
    std::vector<int> gpus;
    for (std::uint32_t m = s.gpus; m != 0; m &= m - 1) gpus.push_back(std::countr_zero(m));
    stranded.push_back({{"node", scheduler_->node_spec(s.node).name},
                        {"gpus", std::move(gpus)},
                        {"why", std::string(cluster::MisfitName(s.why))}});
  }
  return json{{"job", *head},
              {"queue", r.queue},
              {"replicas", r.replicas},
              {"gpus_per_replica", r.replica.num_gpu},
              {"gpu_milli", r.replica.num_gpu > 0 ? r.replica.gpu_milli : 0},
              {"gpu_memory_mib", r.replica.gpu_memory_mib},
              {"stranded", std::move(stranded)}};
}

namespace {

// A GPU's NVML reading as GET /api/v1/nodes shows it: each figure null when NVML did not give it.
json NvmlJson(const discovery::GpuSample& s) {
  const auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  const auto watts = [](const std::optional<std::int64_t>& mw) {
    return mw ? json(static_cast<double>(*mw) / 1000.0) : json(nullptr);
  };
  return json{{"error", s.error.empty() ? json(nullptr) : json(s.error)},
              {"utilization_pct", opt(s.gpu_util_pct)},
              {"memory_used_mib", opt(s.memory_used_mib)},
              {"memory_total_mib", opt(s.memory_total_mib)},
              {"temperature_c", opt(s.temperature_c)},
              {"power_w", watts(s.power_draw_mw)},
              {"power_limit_w", watts(s.power_limit_mw)}};
}

}  // namespace

PoolService::View PoolService::ViewLocked() const {
  View v;
  const auto& state = scheduler_->state();
  v.nodes.reserve(static_cast<std::size_t>(scheduler_->num_nodes()));
  for (int i = 0; i < scheduler_->num_nodes(); ++i) {
    const auto c = scheduler_->node_condition(i);
    if (c == scheduler::NodeCondition::kRemoved) continue;
    const auto& spec = scheduler_->node_spec(i);
    const auto& n = state.node(i);
    View::Node& vn = v.nodes.emplace_back();
    vn.index = i;
    vn.condition = c;
    vn.cpu_used_milli = spec.cpu_milli - n.cpu_left;
    vn.memory_used_mib = spec.memory_mib - n.memory_left;
    const int gpus = static_cast<int>(spec.gpus.size());
    vn.milli_used.resize(static_cast<std::size_t>(gpus));
    vn.healthy.resize(static_cast<std::size_t>(gpus));
    vn.no_work.resize(static_cast<std::size_t>(gpus));
    vn.util_pct.assign(static_cast<std::size_t>(gpus), -1);
    vn.nvml.resize(static_cast<std::size_t>(gpus));
    for (int g = 0; g < gpus; ++g) {
      const auto gi = static_cast<std::size_t>(g);
      vn.milli_used[gi] = state.gpu_used_milli(i, g);
      vn.healthy[gi] = scheduler_->gpu_healthy(i, g) ? 1 : 0;
      vn.no_work[gi] = scheduler_->gpu_no_work_reason(i, g);
      // NVML's last reading (Monitor), for this host's GPUs only.
      if (nvml_samples_.empty() || spec.gpus[gi].uuid.empty()) continue;
      const auto sample = nvml_samples_.find(spec.gpus[gi].uuid);
      if (sample == nvml_samples_.end()) continue;
      vn.nvml[gi] = sample->second;
      if (sample->second.ok() && sample->second.gpu_util_pct) {
        vn.util_pct[gi] = *sample->second.gpu_util_pct;
      }
    }
  }
  v.placements.assign(scheduler_->placements().begin(), scheduler_->placements().end());
  v.totals = scheduler_->Totals();
  v.by_model = scheduler_->TotalsByModel();
  for (const auto& [id, job] : active_) v.running += job->row.state == "running";
  v.pending = static_cast<std::int64_t>(scheduler_->num_pending());
  v.head = HeadLocked();
  return v;
}

json PoolService::NodesJson(const View& v) const {
  // node -> gpu -> (job, share), and node -> jobs, by the scheduler's node index.
  struct Share {
    std::int64_t job;
    std::int32_t milli, memory_mib;
  };
  const auto num_nodes = static_cast<std::size_t>(scheduler_->num_nodes());
  std::vector<std::vector<std::vector<Share>>> gpu_shares(num_nodes);
  std::vector<std::set<std::int64_t>> node_jobs(num_nodes);
  for (const auto& [id, placement] : v.placements) {
    for (const auto& a : placement) {
      const auto ni = static_cast<std::size_t>(a.node);
      node_jobs[ni].insert(id);
      for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
        const auto g = static_cast<std::size_t>(std::countr_zero(m));
        if (gpu_shares[ni].size() <= g) gpu_shares[ni].resize(g + 1);
        gpu_shares[ni][g].push_back({id, a.gpu_milli, a.gpu_memory_mib});
      }
    }
  }
  json nodes = json::array();
  for (const View::Node& vn : v.nodes) {
    const auto i = static_cast<std::size_t>(vn.index);
    const auto& spec = scheduler_->node_spec(vn.index);
    json gpus = json::array();
    for (std::size_t g = 0; g < spec.gpus.size(); ++g) {
      std::vector<Share> shares;
      if (g < gpu_shares[i].size()) shares = gpu_shares[i][g];
      std::sort(shares.begin(), shares.end(),
                [](const Share& a, const Share& b) { return a.job < b.job; });
      std::vector<std::int64_t> jobs;
      std::int64_t memory_allocated = 0;
      json shares_json = json::array();
      for (const Share& sh : shares) {
        jobs.push_back(sh.job);
        memory_allocated += sh.memory_mib;
        shares_json.push_back(
            {{"job", sh.job}, {"milli", sh.milli}, {"memory_mib", sh.memory_mib}});
      }
      json mig = nullptr;
      if (spec.gpus[g].mig_enabled) {
        json instances = json::array();
        for (const auto& m : spec.gpus[g].mig_instances) {
          instances.push_back({{"profile", m.profile},
                               {"memory_mib", m.memory_mib},
                               {"uuid", m.uuid.empty() ? json(nullptr) : json(m.uuid)}});
        }
        mig = {{"instances", std::move(instances)}};
      }
      const std::optional<std::string_view> no_work = vn.no_work[g];
      gpus.push_back({{"index", static_cast<int>(g)},
                      {"uuid", spec.gpus[g].uuid},
                      {"model", spec.gpus[g].model},
                      {"memory_mib", spec.gpus[g].memory_mib},
                      {"milli_used", vn.milli_used[g]},
                      {"memory_used_mib", memory_allocated},
                      {"healthy", vn.healthy[g] != 0},
                      {"no_work_reason", no_work ? json(std::string(*no_work)) : json(nullptr)},
                      {"mig", std::move(mig)},
                      {"jobs", jobs},
                      {"shares", std::move(shares_json)},
                      {"nvml", vn.nvml[g] ? NvmlJson(*vn.nvml[g]) : json(nullptr)}});
    }
    const auto& nj = node_jobs[i];
    nodes.push_back({{"name", spec.name},
                     {"simulated", opt_.simulated},
                     {"condition", scheduler::NodeConditionName(vn.condition)},
                     {"gpu_model", spec.gpus.empty() ? json(nullptr) : json(spec.gpus[0].model)},
                     {"cpu_milli", spec.cpu_milli},
                     {"cpu_used_milli", vn.cpu_used_milli},
                     {"memory_mib", spec.memory_mib},
                     {"memory_used_mib", vn.memory_used_mib},
                     {"nvlink_islands", spec.nvlink_islands},
                     {"jobs", std::vector<std::int64_t>(nj.begin(), nj.end())},
                     {"gpus", std::move(gpus)}});
  }
  return json{{"nodes", std::move(nodes)}};
}

ApiResult<json> PoolService::SetNodeCondition(const Principal& p, const std::string& node,
                                              const std::string& action) {
  if (!p.admin) return Fail(PermissionDenied("only the admin may cordon, drain or uncordon nodes"));
  scheduler::NodeCondition c;
  if (action == "cordon") {
    c = scheduler::NodeCondition::kCordoned;
  } else if (action == "drain") {
    c = scheduler::NodeCondition::kDraining;
  } else if (action == "uncordon") {
    c = scheduler::NodeCondition::kReady;
  } else {
    return Fail(NotFoundError("unknown node action '" + action + "' (cordon, drain, uncordon)"));
  }
  {
    std::lock_guard lock(mu_);
    if (!scheduler_->NodeIndex(node)) return Fail(NotFoundError("node " + node + " not found"));
  }
  if (Status st = store_->SetNodeCondition(node, std::string(scheduler::NodeConditionName(c)));
      !st.ok()) {
    return Fail(FromStatus(st));
  }
  {
    std::lock_guard lock(mu_);
    if (Status st = scheduler_->SetNodeCondition(node, c); !st.ok()) return Fail(FromStatus(st));
    dirty_ = true;
  }
  cv_.notify_one();
  json all = Nodes();
  for (auto& n : all["nodes"]) {
    if (n["name"] == node) return n;
  }
  return Fail(NotFoundError("node " + node + " not found"));
}

json PoolService::Pool() const {
  View v;
  {
    std::lock_guard lock(mu_);
    v = ViewLocked();
  }
  json pool = PoolJson(v, true);
  pool["head"] = v.head;
  return pool;
}

namespace {

// NVML's utilization summed over the GPUs that report it, in milli-GPU (a GPU at 100 % is 1000),
// and how many report it (none: unknown, null in the JSON).
struct InUse {
  std::int64_t milli = 0;
  int reporting = 0;
  json Json() const { return reporting > 0 ? json(milli) : json(nullptr); }
};

// The share of the free milli-GPU that is fragmented, in percent; 0 with nothing free. The pool's
// figure, each model's and each point of the history's.
double FragmentationPct(double fragmented_milli, double free_milli) {
  return free_milli > 0 ? 100.0 * fragmented_milli / free_milli : 0.0;
}

}  // namespace

json PoolService::PoolJson(const View& v, bool gpu_list_wanted) const {
  const scheduler::PoolTotals& t = v.totals;
  InUse in_use;
  std::map<std::string, InUse> model_in_use;
  json gpu_list = json::array();
  std::map<std::pair<int, int>, std::int64_t> memory_used;
  if (gpu_list_wanted) {
    for (const auto& [id, placement] : v.placements) {
      for (const auto& a : placement) {
        for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
          memory_used[{a.node, std::countr_zero(m)}] += a.gpu_memory_mib;
        }
      }
    }
  }
  for (const View::Node& vn : v.nodes) {
    const auto& spec = scheduler_->node_spec(vn.index);
    for (std::size_t g = 0; g < spec.gpus.size(); ++g) {
      if (vn.util_pct[g] >= 0) {
        for (InUse* u : {&in_use, &model_in_use[spec.gpus[g].model]}) {
          u->milli += std::int64_t{vn.util_pct[g]} * 10;
          ++u->reporting;
        }
      }
      if (!gpu_list_wanted) continue;
      const auto key = std::make_pair(vn.index, static_cast<int>(g));
      gpu_list.push_back({{"node", spec.name},
                          {"index", static_cast<int>(g)},
                          {"uuid", spec.gpus[g].uuid},
                          {"model", spec.gpus[g].model},
                          {"milli_used", vn.milli_used[g]},
                          {"memory_mib", spec.gpus[g].memory_mib},
                          {"memory_used_mib", memory_used.contains(key) ? memory_used.at(key) : 0},
                          {"healthy", vn.healthy[g] != 0}});
    }
  }
  json models = json::array();
  for (const auto& [name, b] : v.by_model) {
    const std::int64_t free = b.capacity_milli - b.allocated_milli;
    const auto u = model_in_use.find(name);
    models.push_back(
        {{"model", name},
         {"gpus", b.gpus},
         {"free_gpus", b.gpus_free},
         {"allocated_milli", b.allocated_milli},
         {"capacity_milli", b.capacity_milli},
         {"in_use_milli", u == model_in_use.end() ? json(nullptr) : u->second.Json()},
         {"fragmented_milli", b.fragmented_milli},
         {"fragmentation_pct", FragmentationPct(b.fragmented_milli, static_cast<double>(free))}});
  }
  const std::int64_t free_milli = t.capacity_milli - t.allocated_milli;
  json pool{
      {"simulated", opt_.simulated},
      {"gpus",
       {{"total", t.gpus},
        {"free", t.gpus_free},
        {"shared", t.gpus_shared},
        {"allocated", t.gpus_whole_allocated},
        {"unusable", t.gpus_unusable},
        {"reporting_utilization", in_use.reporting}}},
      {"milli",
       {{"capacity", t.capacity_milli},
        {"allocated", t.allocated_milli},
        {"free", free_milli},
        {"in_use", in_use.Json()}}},
      {"fragmented_milli", t.fragmented_milli},
      {"fragmentation_pct", FragmentationPct(t.fragmented_milli, static_cast<double>(free_milli))},
      {"by_model", std::move(models)},
      {"jobs", {{"pending", v.pending}, {"running", v.running}}}};
  if (gpu_list_wanted) pool["gpu_list"] = std::move(gpu_list);
  return pool;
}

// ---------------------------------------------------------------- the pool over time

void PoolService::Sampler() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    if (Status st = SampleHistory(); !st.ok()) Log("history: " + st.ToString());
    lock.lock();
    sampler_cv_.wait_for(lock, opt_.history_interval, [this] { return stop_; });
  }
}

Status PoolService::SampleHistory() {
  View v;
  std::int64_t now = 0;
  {
    std::lock_guard lock(mu_);
    v = ViewLocked();
    now = NowMs();
  }
  // Per scope ("" the pool, else a model): nodes by condition, GPUs in use, running jobs.
  struct Scope {
    double schedulable = 0, cordoned = 0, unhealthy = 0;
    InUse in_use;
    std::set<std::int64_t> jobs;
  };
  std::map<std::string, Scope> scopes;
  std::vector<const std::string*> model_of(static_cast<std::size_t>(scheduler_->num_nodes()),
                                           nullptr);
  for (const View::Node& vn : v.nodes) {
    const auto& spec = scheduler_->node_spec(vn.index);
    std::vector<Scope*> in{&scopes[""]};
    if (!spec.gpus.empty()) {
      model_of[static_cast<std::size_t>(vn.index)] = &spec.gpus[0].model;
      in.push_back(&scopes[spec.gpus[0].model]);
    }
    for (Scope* sc : in) {
      sc->schedulable += vn.condition == scheduler::NodeCondition::kReady;
      sc->cordoned += vn.condition == scheduler::NodeCondition::kCordoned ||
                      vn.condition == scheduler::NodeCondition::kDraining;
      sc->unhealthy += vn.condition == scheduler::NodeCondition::kUnhealthy;
      for (const int pct : vn.util_pct) {
        if (pct < 0) continue;
        sc->in_use.milli += std::int64_t{pct} * 10;
        ++sc->in_use.reporting;
      }
    }
  }
  for (const auto& [id, placement] : v.placements) {
    for (const auto& a : placement) {
      if (const std::string* m = model_of[static_cast<std::size_t>(a.node)]) {
        scopes[*m].jobs.insert(id);
      }
    }
  }
  const auto row = [&](const std::string& scope, const scheduler::PoolTotals& t) {
    const Scope& sc = scopes[scope];
    store::PoolSampleRow r;
    r.time_ms = now;
    r.scope = scope;
    r.gpus = t.gpus;
    r.capacity_milli = static_cast<double>(t.capacity_milli);
    r.allocated_milli = static_cast<double>(t.allocated_milli);
    if (sc.in_use.reporting > 0) r.in_use_milli = static_cast<double>(sc.in_use.milli);
    r.reporting_gpus = sc.in_use.reporting;
    r.whole_gpus = t.gpus_whole_allocated;
    r.shared_gpus = t.gpus_shared;
    r.fragmented_milli = t.fragmented_milli;
    r.nodes_schedulable = sc.schedulable;
    r.nodes_cordoned = sc.cordoned;
    r.nodes_unhealthy = sc.unhealthy;
    r.jobs_running =
        scope.empty() ? static_cast<double>(v.running) : static_cast<double>(sc.jobs.size());
    // A waiting job has no model yet: pending jobs are counted for the pool only.
    if (scope.empty()) r.jobs_pending = static_cast<double>(v.pending);
    return r;
  };
  std::vector<store::PoolSampleRow> rows{row("", v.totals)};
  for (const auto& [model, t] : v.by_model) rows.push_back(row(model, t));
  return store_->InsertPoolSamples(std::move(rows), now);
}

ApiResult<json> PoolService::PoolHistory(const std::string& range, const std::string& model) const {
  const HistoryRange* r = nullptr;
  std::string names;
  for (const HistoryRange& h : kHistoryRanges) {
    if (h.name == range) r = &h;
    names += (names.empty() ? "" : ", ") + std::string(h.name);
  }
  if (r == nullptr) {
    return Fail(BadRequest("range", "range: '" + range + "' is not one of " + names));
  }
  if (!model.empty()) {
    std::vector<std::string> models;
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, t] : scheduler_->TotalsByModel()) models.push_back(name);
    }
    if (std::find(models.begin(), models.end(), model) == models.end()) {
      std::string have;
      for (const auto& m : models) have += (have.empty() ? "" : ", ") + m;
      return Fail(BadRequest(
          "model",
          "model: '" + model + "' is not a GPU model of this pool (it has: " + have + ")"));
    }
  }
  const std::int64_t now = NowMs();
  auto rows = store_->LoadPoolSamples(r->tier, model, now - r->ms);
  if (!rows) return Fail(FromStatus(rows.error()));
  // Means to 3 decimals (milli-milli-GPU): no noise of the averaging in the answer.
  const auto round = [](double x) { return std::round(x * 1000.0) / 1000.0; };
  const auto maybe = [&](const std::optional<double>& x) {
    return x ? json(round(*x)) : json(nullptr);
  };
  json time_ms = json::array(), samples = json::array(), gpus = json::array(),
       capacity = json::array(), allocated = json::array(), free = json::array(),
       in_use = json::array(), reporting = json::array(), whole = json::array(),
       shared = json::array(), fragmented = json::array(), pct = json::array(),
       schedulable = json::array(), cordoned = json::array(), unhealthy = json::array(),
       running = json::array(), pending = json::array();
  for (const store::PoolSampleRow& s : *rows) {
    time_ms.push_back(s.time_ms);
    samples.push_back(s.samples);
    gpus.push_back(round(s.gpus));
    capacity.push_back(round(s.capacity_milli));
    allocated.push_back(round(s.allocated_milli));
    free.push_back(round(s.capacity_milli - s.allocated_milli));
    in_use.push_back(maybe(s.in_use_milli));
    reporting.push_back(round(s.reporting_gpus));
    whole.push_back(round(s.whole_gpus));
    shared.push_back(round(s.shared_gpus));
    fragmented.push_back(round(s.fragmented_milli));
    pct.push_back(
        round(FragmentationPct(s.fragmented_milli, s.capacity_milli - s.allocated_milli)));
    schedulable.push_back(round(s.nodes_schedulable));
    cordoned.push_back(round(s.nodes_cordoned));
    unhealthy.push_back(round(s.nodes_unhealthy));
    running.push_back(round(s.jobs_running));
    pending.push_back(maybe(s.jobs_pending));
  }
  const std::int64_t resolution_ms = r->tier == 0
                                         ? static_cast<std::int64_t>(opt_.history_interval.count())
                                         : store::kHistoryTiers[r->tier].resolution_ms;
  return json{{"range", range},
              {"model", model.empty() ? json(nullptr) : json(model)},
              {"from", TimeJson(now - r->ms)},
              {"to", TimeJson(now)},
              {"resolution_s", static_cast<double>(resolution_ms) / 1000.0},
              {"sample_interval_s", static_cast<double>(opt_.history_interval.count()) / 1000.0},
              {"series",
               {{"time_ms", std::move(time_ms)},
                {"samples", std::move(samples)},
                {"gpus", std::move(gpus)},
                {"capacity_milli", std::move(capacity)},
                {"allocated_milli", std::move(allocated)},
                {"free_milli", std::move(free)},
                {"in_use_milli", std::move(in_use)},
                {"reporting_gpus", std::move(reporting)},
                {"whole_gpus", std::move(whole)},
                {"shared_gpus", std::move(shared)},
                {"fragmented_milli", std::move(fragmented)},
                {"fragmentation_pct", std::move(pct)},
                {"nodes_schedulable", std::move(schedulable)},
                {"nodes_cordoned", std::move(cordoned)},
                {"nodes_unhealthy", std::move(unhealthy)},
                {"jobs_running", std::move(running)},
                {"jobs_pending", std::move(pending)}}}};
}

json PoolService::Queues() const {
  std::lock_guard lock(mu_);
  return QueuesLocked();
}

json PoolService::QueuesLocked() const {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> jobs;  // pending, running
  std::map<std::string, std::int64_t> oldest;  // the earliest submission of a pending job
  for (const auto& [id, job] : active_) {
    if (job->row.state == "pending") {
      ++jobs[job->row.queue].first;
      auto [at, fresh] = oldest.emplace(job->row.queue, job->row.submitted_ms);
      if (!fresh) at->second = std::min(at->second, job->row.submitted_ms);
    }
    if (job->row.state == "running") ++jobs[job->row.queue].second;
  }
  const auto gpus = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  json list = json::array();
  if (const queue::QueueSet* set = scheduler_->queues(); set != nullptr) {
    // `models` only where some queue has per-model shares (the answer is otherwise as before).
    const bool by_model = !set->ModelNames().empty();
    for (const queue::QueueSpec& q : set->specs()) {
      const auto it = jobs.find(q.name);
      // Per GPU model: the models it has shares of and those it uses now, by name.
      json models = json::object();
      const auto model_json = [&](const std::string& m) {
        const auto share = q.models.find(m);
        const queue::ModelShare s = share == q.models.end() ? queue::ModelShare{} : share->second;
        return json{{"guaranteed", s.guaranteed_gpus},
                    {"limit", std::isinf(s.limit_gpus) ? json(nullptr) : json(s.limit_gpus)},
                    {"used", gpus(set->Used(q.name, m))},
                    {"borrowed", gpus(set->Borrowed(q.name, m))}};
      };
      for (const auto& [m, share] : q.models) models[m] = model_json(m);
      for (const auto& [m, used] : set->UsedByModel(q.name)) {
        if (!models.contains(m)) models[m] = model_json(m);
      }
      list.push_back(
          {{"name", q.name},
           {"parent", q.parent.empty() ? json(nullptr) : json(q.parent)},
           {"guaranteed", q.guaranteed_gpus},
           {"limit", std::isinf(q.limit_gpus) ? json(nullptr) : json(q.limit_gpus)},
           {"weight", q.weight},
           {"used", gpus(set->Used(q.name))},
           {"borrowed", gpus(set->Borrowed(q.name))},
           {"pending", it == jobs.end() ? 0 : it->second.first},
           {"running", it == jobs.end() ? 0 : it->second.second},
           // used / (weight x guarantee): the scheduler's fair-share key (null without a guarantee)
           {"share_ratio", q.guaranteed_gpus > 0 ? json(set->ShareRatio(q.name)) : json(nullptr)},
           {"oldest_pending_at", TimeJson(oldest.contains(q.name) ? oldest.at(q.name) : 0)}});
      if (by_model) list.back()["models"] = std::move(models);
    }
  }
  const bool stored = queue_config_.id != 0;
  json preemptions = json::array();
  for (auto it = recent_preemptions_.rbegin(); it != recent_preemptions_.rend(); ++it) {
    preemptions.push_back(*it);
  }
  return json{{"queues", std::move(list)},
              {"preemptions", std::move(preemptions)},
              {"order", order_name_},
              {"order_source", config_order_.empty() ? "start options" : "configuration"},
              {"applied_at", TimeJson(stored ? queue_config_.applied_ms : 0)},
              {"applied_by",
               stored && !queue_config_.user.empty() ? json(queue_config_.user) : json(nullptr)},
              {"source", stored ? json(queue_config_.source) : json(nullptr)}};
}

ApiResult<json> PoolService::SetQueues(const Principal& p, const std::string& body) {
  if (!p.admin) return Fail(PermissionDenied("only the admin may change the queues"));
  std::string member;
  auto config = ParseQueueConfig(body, "request body", &member);
  if (!config) return Fail(BadRequest(member, config.error().message()));
  const std::vector<queue::QueueSpec>* specs = &config->queues;
  json out;
  {
    // Checked, stored and applied under the lock: no job can arrive, start or end in between,
    // so what was checked is what is applied, and nothing changes unless it is stored.
    std::lock_guard lock(mu_);
    const queue::QueueSet* now = scheduler_->queues();
    const std::vector<std::string> changes = ConfigChanges(
        QueueConfig{config_order_, now != nullptr ? now->specs() : std::vector<queue::QueueSpec>{}},
        *config);
    // Without `order:` the configuration leaves the order to the start options (--order).
    const std::string order = config->order.empty() ? base_order_ : config->order;
    json warnings = json::array();
    if (!changes.empty()) {
      std::vector<scheduler::JobRequest> arriving;
      for (const auto& [ticket, r] : submitting_) arriving.push_back(r);
      if (Status st = scheduler_->CheckQueues(*specs, arriving); !st.ok()) {
        return Fail(FromStatus(st));  // the message names the queue (absent from the body)
      }
      auto made = scheduler::MakeJobOrder(order);
      if (!made) return Fail(BadRequest("order", made.error().message()));  // parse checked it
      store::QueueConfigRow row{0, NowMs(), p.user, "api", QueueConfigText(*config)};
      auto id = store_->InsertQueueConfig(row);
      if (!id) {
        return Fail(ApiError{
            503, "UNAVAILABLE", {}, "the queues could not be stored: " + id.error().message()});
      }
      row.id = *id;
      GP_CHECK(scheduler_->SetQueues(*specs, arriving).ok());  // checked above, nothing changed
      if (order != order_name_) {
        scheduler_->SetOrder(std::move(*made));
        order_name_ = order;
      }
      config_order_ = config->order;
      queue_config_ = std::move(row);
      dirty_ = true;
      std::string line;
      for (const auto& c : changes) line += (line.empty() ? "" : "; ") + c;
      Log("queues changed by " + p.user + ": " + line);
      // A limit below the usage: allowed, and said.
      if (const queue::QueueSet* set = scheduler_->queues(); set != nullptr) {
        for (const queue::QueueSpec& q : set->specs()) {
          if (set->Used(q.name) > q.limit_gpus + 1e-9) {
            warnings.push_back(fmt::format(
                "queue '{}' uses {} GPUs, above its limit of {}: its running jobs keep running, "
                "and no job of it starts until its usage is under the limit",
                q.name, std::round(set->Used(q.name) * 1000.0) / 1000.0, q.limit_gpus));
          }
          for (const auto& [model, share] : q.models) {
            const double used = set->Used(q.name, model);
            if (used > share.limit_gpus + 1e-9) {
              warnings.push_back(fmt::format(
                  "queue '{}' uses {} GPUs of {}, above its limit of {} for that model: its "
                  "running jobs keep running, and no job of it starts on {} until its usage is "
                  "under the limit",
                  q.name, std::round(used * 1000.0) / 1000.0, model, share.limit_gpus, model));
            }
          }
        }
      }
    }
    out = QueuesLocked();
    out["changes"] = changes;
    out["warnings"] = std::move(warnings);
  }
  cv_.notify_one();
  return out;
}

std::string PoolService::Metrics() const {
  std::string out;
  scheduler::PoolTotals totals;
  out += "# HELP gpupool_gpus GPUs of the pool by state and model.\n# TYPE gpupool_gpus gauge\n";
  {
    std::lock_guard lock(mu_);
    totals = scheduler_->Totals();
    std::map<std::pair<std::string, std::string>, int> counts;
    const auto& state = scheduler_->state();
    for (int i = 0; i < scheduler_->num_nodes(); ++i) {
      const auto c = scheduler_->node_condition(i);
      if (c == scheduler::NodeCondition::kRemoved) continue;
      const auto& spec = scheduler_->node_spec(i);
      for (std::size_t g = 0; g < spec.gpus.size(); ++g) {
        const int left = 1000 - state.gpu_used_milli(i, static_cast<int>(g));
        std::string s = left == 1000 ? "free" : (left == 0 ? "allocated" : "shared");
        if (c != scheduler::NodeCondition::kReady ||
            scheduler_->gpu_no_work_reason(i, static_cast<int>(g))) {
          s = "unusable";
        }
        ++counts[{s, spec.gpus[g].model}];
      }
    }
    for (const auto& [key, n] : counts) {
      out += fmt::format("gpupool_gpus{{state=\"{}\",model=\"{}\"}} {}\n", key.first,
                         discovery::EscapeLabelValue(key.second), n);
    }
  }
  out +=
      "# HELP gpupool_gpu_milli_capacity milli-GPU of the pool (1000 = one GPU).\n"
      "# TYPE gpupool_gpu_milli_capacity gauge\n";
  out += fmt::format("gpupool_gpu_milli_capacity {}\n", totals.capacity_milli);
  out +=
      "# HELP gpupool_gpu_milli_allocated milli-GPU allocated to jobs.\n"
      "# TYPE gpupool_gpu_milli_allocated gauge\n";
  out += fmt::format("gpupool_gpu_milli_allocated {}\n", totals.allocated_milli);
  out +=
      "# HELP gpupool_fragmented_milli Free milli-GPU the learned workload cannot use (FGD).\n"
      "# TYPE gpupool_fragmented_milli gauge\n";
  out += fmt::format("gpupool_fragmented_milli {}\n", totals.fragmented_milli);
  out +=
      "# HELP gpupool_jobs Jobs by state (active ones from memory, ended ones from the store).\n"
      "# TYPE gpupool_jobs gauge\n";
  if (auto counts = store_->CountJobsByState()) {
    // The store's commit of a change of state may lag the service's own view by a moment: the
    // active states come from memory, as the API shows them.
    std::int64_t active_pending = 0;
    std::int64_t active_running = 0;
    {
      std::lock_guard lock(mu_);
      for (const auto& [id, job] : active_) {
        active_pending += job->row.state == "pending";
        active_running += job->row.state == "running";
      }
    }
    (*counts)["pending"] = active_pending;
    (*counts)["running"] = active_running;
    for (const char* s :
         {"pending", "running", "succeeded", "failed", "cancelled", "timed_out", "lost"}) {
      const auto it = counts->find(s);
      out +=
          fmt::format("gpupool_jobs{{state=\"{}\"}} {}\n", s, it == counts->end() ? 0 : it->second);
    }
  }
  out +=
      "# HELP gpupool_jobs_submitted_total Jobs acknowledged (201).\n"
      "# TYPE gpupool_jobs_submitted_total counter\n";
  out += fmt::format("gpupool_jobs_submitted_total {}\n", metrics_.submitted.load());
  out +=
      "# HELP gpupool_jobs_rejected_total Submissions refused (4xx).\n"
      "# TYPE gpupool_jobs_rejected_total counter\n";
  out += fmt::format("gpupool_jobs_rejected_total {}\n", metrics_.rejected.load());
  out +=
      "# HELP gpupool_jobs_placed_total Jobs placed by the scheduler.\n"
      "# TYPE gpupool_jobs_placed_total counter\n";
  out += fmt::format("gpupool_jobs_placed_total {}\n", metrics_.placed.load());
  out +=
      "# HELP gpupool_jobs_finished_total Jobs whose process ended.\n"
      "# TYPE gpupool_jobs_finished_total counter\n";
  out += fmt::format("gpupool_jobs_finished_total {}\n", metrics_.finished.load());
  out +=
      "# HELP gpupool_jobs_preempted_total Running jobs the scheduler chose to preempt.\n"
      "# TYPE gpupool_jobs_preempted_total counter\n";
  out += fmt::format("gpupool_jobs_preempted_total {}\n", metrics_.preempted.load());
  out += metrics_.cycle_seconds.Format("gpupool_schedule_cycle_seconds",
                                       "Time of one scheduling cycle.");
  out += metrics_.submit_seconds.Format("gpupool_submit_seconds",
                                        "Time from a submission's arrival to its acknowledgement.");
  out += metrics_.stream_state_seconds.Format(
      "gpupool_stream_state_seconds", "Time of one read of the pool's state for the event stream.");
  out += metrics_.stream_state_lock_seconds.Format(
      "gpupool_stream_state_lock_seconds",
      "Time the event stream's read of the pool's state holds the service's lock.");
  if (opt_.nvml != nullptr) {
    if (auto nvml = discovery::CollectPrometheusMetrics(*opt_.nvml)) out += *nvml;
  }
  return out;
}

// ---------------------------------------------------------------- tokens

ApiResult<json> PoolService::CreateToken(const Principal& p, const json& body) {
  if (!p.admin) return Fail(PermissionDenied("only the admin may create tokens"));
  if (!body.is_object()) return Fail(BadRequest("", "the body must be a JSON object"));
  for (const auto& [k, v] : body.items()) {
    if (k != "user" && k != "queues" && k != "admin") {
      return Fail(BadRequest(k, k + ": unknown member (known: user, queues, admin)"));
    }
  }
  if (!body.contains("user") || !body["user"].is_string()) {
    return Fail(BadRequest("user", "user: required, a string"));
  }
  store::TokenRow row;
  row.user = body["user"].get<std::string>();
  if (!ValidUserName(row.user)) {
    return Fail(BadRequest(
        "user", "user: '" + row.user + "' is not a user name (1-64 of letters, digits, - _ . @)"));
  }
  if (body.contains("queues")) {
    const json& q = body["queues"];
    if (!q.is_array()) return Fail(BadRequest("queues", "queues: must be an array of strings"));
    for (std::size_t i = 0; i < q.size(); ++i) {
      if (!q[i].is_string() || q[i].get<std::string>().empty()) {
        return Fail(BadRequest("queues[" + std::to_string(i) + "]",
                               "queues[" + std::to_string(i) + "]: must be a queue name"));
      }
      row.queues.push_back(q[i].get<std::string>());
    }
  } else {
    row.queues = {"default"};
  }
  if (body.contains("admin")) {
    if (!body["admin"].is_boolean())
      return Fail(BadRequest("admin", "admin: must be true or false"));
    row.admin = body["admin"].get<bool>();
  }
  auto secret = NewTokenSecret();
  if (!secret) return Fail(FromStatus(secret.error()));
  row.hash_hex = Sha256Hex(*secret);
  row.created_ms = NowMs();
  auto id = store_->InsertToken(row);
  if (!id) return Fail(FromStatus(id.error()));
  row.id = *id;
  tokens_.Add(row);
  return json{{"id", row.id},
              {"user", row.user},
              {"queues", row.queues},
              {"admin", row.admin},
              {"token", *secret}};
}

ApiResult<json> PoolService::ListTokens(const Principal& p) {
  if (!p.admin) return Fail(PermissionDenied("only the admin may list tokens"));
  auto rows = store_->LoadTokens();
  if (!rows) return Fail(FromStatus(rows.error()));
  json out = json::array();
  for (const auto& r : *rows) out.push_back(TokenJson(r));
  return json{{"tokens", std::move(out)}};
}

ApiResult<json> PoolService::RevokeToken(const Principal& p, std::int64_t id) {
  if (!p.admin) return Fail(PermissionDenied("only the admin may revoke tokens"));
  if (id == p.token_id) return Fail(Conflict("a token cannot revoke itself"));
  if (Status st = store_->RevokeToken(id); !st.ok()) return Fail(FromStatus(st));
  tokens_.Revoke(id);
  auto rows = store_->LoadTokens();
  if (!rows) return Fail(FromStatus(rows.error()));
  for (const auto& r : *rows) {
    if (r.id == id) return TokenJson(r);
  }
  return Fail(NotFoundError(fmt::format("token {} not found", id)));
}

json PoolService::WhoAmI(const Principal& p) {
  return json{{"user", p.user}, {"admin", p.admin}, {"queues", p.queues}};
}

}  // namespace gpupool::server

#include "executor/local_executor.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <cerrno>
#include <utility>

#include "executor/exit_record.h"
#include "executor/launch_plan.h"
#include "executor/proc_stat.h"
#include "executor/shepherd.h"
#include "shim/shared_region.h"

namespace gpupool::executor {
namespace {

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);  // thread-safe, unlike strsignal
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string DescribeWaitStatus(int wstatus) {
  if (WIFEXITED(wstatus)) return "exited with code " + std::to_string(WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return "killed by " + SignalName(WTERMSIG(wstatus));
  return "ended";
}

// Reaps `pid` if it is a zombie child of this process with the given start time (a shepherd left
// by an earlier executor of this process). Harmless when it is not our child.
void ReapIfOurZombie(int pid, std::int64_t start_ticks, std::string* how) {
  const std::optional<ProcStat> stat = ReadProcStat(pid);
  if (!stat || stat->start_ticks != start_ticks || stat->state != 'Z') return;
  int wstatus = 0;
  if (waitpid(pid, &wstatus, WNOHANG) == pid) *how = DescribeWaitStatus(wstatus);
}

}  // namespace

LocalExecutor::LocalExecutor() : LocalExecutor([] { return std::chrono::steady_clock::now(); }) {}

LocalExecutor::LocalExecutor(SteadyNow now) : now_(std::move(now)) {}

Result<ProcessRef> LocalExecutor::Launch(const LaunchSpec& spec) {
  {
    std::lock_guard lock(mu_);
    if (jobs_.contains(spec.job_id) || launching_.contains(spec.job_id)) {
      return Error(
          Status::FailedPrecondition("job " + std::to_string(spec.job_id) + " is already running"));
    }
    launching_.insert(spec.job_id);
  }
  // Everything that allocates happens before the fork; nothing here holds mu_.
  auto started = [&]() -> Result<ShepherdStart> {
    auto plan = MakeLaunchPlan(spec, ServiceEnvironment());
    if (!plan) return Error(plan.error());
    return StartShepherd(*plan);
  }();
  std::optional<ProcStat> stat;
  if (started) {
    // The shepherd is our unreaped child, so its /proc entry exists even if it already ended.
    stat = ReadProcStat(started->shepherd_pid);
  }
  std::lock_guard lock(mu_);
  launching_.erase(spec.job_id);
  if (!started) return Error(started.error());
  if (!stat) {
    return Error(Status::Internal("cannot read /proc/" + std::to_string(started->shepherd_pid) +
                                  "/stat of the shepherd of job " + std::to_string(spec.job_id)));
  }
  Job job;
  job.ref = ProcessRef{started->shepherd_pid, stat->start_ticks, started->job_pid};
  job.job_dir = spec.job_dir;
  job.own_child = true;
  jobs_.emplace(spec.job_id, job);
  return job.ref;
}

bool LocalExecutor::CheckAlive(Job& job) {
  if (job.ended) return false;
  if (job.own_child) {
    int wstatus = 0;
    const pid_t r = waitpid(job.ref.shepherd_pid, &wstatus, WNOHANG);
    if (r == 0) return true;
    if (r == job.ref.shepherd_pid) {
      job.shepherd_end = DescribeWaitStatus(wstatus);
      job.ended = true;
      return false;
    }
    // ECHILD: someone else reaped it (a waitpid(-1) elsewhere); fall back to /proc.
  }
  if (IsSameLiveProcess(job.ref.shepherd_pid, job.ref.shepherd_start_ticks)) return true;
  ReapIfOurZombie(job.ref.shepherd_pid, job.ref.shepherd_start_ticks, &job.shepherd_end);
  job.ended = true;
  return false;
}

Status LocalExecutor::Stop(std::int64_t job_id, std::chrono::milliseconds grace) {
  std::lock_guard lock(mu_);
  const auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return Status::NotFound("no running job " + std::to_string(job_id));
  Job& job = it->second;
  if (!CheckAlive(job)) return Status::Ok();  // ended; Poll reports it
  job.stop_requested = true;
  job.grace = grace;
  if (grace.count() <= 0) {
    kill(-job.ref.pgid, SIGKILL);
    job.kill_sent = true;
    job.kill_at.reset();
    return Status::Ok();
  }
  kill(-job.ref.pgid, SIGTERM);
  const auto deadline = now_() + grace;
  if (!job.kill_sent && (!job.kill_at || deadline < *job.kill_at)) job.kill_at = deadline;
  return Status::Ok();
}

Result<bool> LocalExecutor::Adopt(std::int64_t job_id, const ProcessRef& ref,
                                  const std::filesystem::path& job_dir) {
  std::lock_guard lock(mu_);
  if (jobs_.contains(job_id) || launching_.contains(job_id)) {
    return Error(
        Status::FailedPrecondition("job " + std::to_string(job_id) + " is already tracked"));
  }
  if (ref.shepherd_pid <= 0 || ref.pgid <= 0) {
    return Error(
        Status::InvalidArgument("job " + std::to_string(job_id) + ": process ref without a pid"));
  }
  Job job;
  job.ref = ref;
  job.job_dir = job_dir;
  // The process first, then the record: a shepherd writes the record before it exits, so a
  // shepherd seen gone has either written it or failed to.
  if (!CheckAlive(job)) {
    auto record = ReadExitRecord(job_dir);
    if (!record) return Error(record.error());
    if (!*record || (*record)->pid != ref.pgid) return false;
  }
  jobs_.emplace(job_id, std::move(job));
  return true;
}

ExitInfo LocalExecutor::Outcome(std::int64_t job_id, const Job& job) const {
  ExitInfo info;
  info.job_id = job_id;
  auto record = ReadExitRecord(job.job_dir);
  if (record && *record && (*record)->pid == job.ref.pgid) {
    const ExitRecord& r = **record;
    info.exit_code = r.exit_code;
    info.signal = r.signal;
    if (r.signal == 0) {
      info.reason = "exited with code " + std::to_string(r.exit_code);
    } else {
      info.reason = "killed by " + SignalName(r.signal);
      if (job.kill_sent && r.signal == SIGKILL) {
        info.reason += " after Stop (grace " + std::to_string(job.grace.count()) + " ms expired)";
      } else if (job.stop_requested) {
        info.reason += " after Stop";
      }
    }
    return info;
  }
  info.lost = true;
  if (!record) {
    info.reason = "lost: " + record.error().message();
  } else if (*record) {
    info.reason = "lost: the exit record belongs to another process (pid " +
                  std::to_string((*record)->pid) + ", expected " + std::to_string(job.ref.pgid) +
                  ")";
  } else {
    info.reason = "lost: the shepherd ended without writing an exit record";
    if (!job.shepherd_end.empty()) info.reason += " (shepherd " + job.shepherd_end + ")";
  }
  return info;
}

std::vector<ExitInfo> LocalExecutor::Poll() {
  std::vector<ExitInfo> exits;
  std::lock_guard lock(mu_);
  const auto now = now_();
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& job = it->second;
    if (CheckAlive(job)) {
      if (job.kill_at && now >= *job.kill_at) {
        kill(-job.ref.pgid, SIGKILL);
        job.kill_sent = true;
        job.kill_at.reset();
      }
      ++it;
      continue;
    }
    exits.push_back(Outcome(it->first, job));
    // The CUDA shim's accounting regions of the job (docs/shim.md), if it had any.
    shim::SharedRegion::UnlinkJob(it->first);
    it = jobs_.erase(it);
  }
  return exits;
}

std::size_t LocalExecutor::running() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

}  // namespace gpupool::executor

// LocalExecutor: runs jobs as processes of this host, each under its own shepherd (shepherd.h).
//
// Why this shape:
// - Survives the service. Each job's parent is a shepherd in its own session, not the service, so
//   a SIGKILL or Ctrl-C of the service reaches neither; the shepherd writes the job's exit status
//   to job_dir/exit.json atomically (exit_record.h). A restarted service Adopts each job from the
//   ProcessRef it stored: a shepherd still alive (same pid AND same start time, so a reused pid is
//   not mistaken for it) is tracked again; a shepherd gone with an exit record yields the job's
//   real exit code; gone without one means lost.
// - Stops everything the job started. The job runs in its own process group (pgid = its pid), and
//   Stop signals the group: SIGTERM now, SIGKILL once the grace has passed. The shepherd also
//   SIGKILLs what is left of the group when the main process ends. Processes that leave the group
//   (setsid, setpgid) escape both; containing those needs cgroups (not done here).
// - Never signals a stranger. A group is signalled only after checking that its shepherd is still
//   alive; the shepherd keeps the job's zombie unreaped until it exits, so while it lives the pgid
//   cannot have been reused.
// - Does not steal other children. The service runs other programs (common's RunCommand), so
//   shepherds are reaped by pid (waitpid(pid, WNOHANG)), never with waitpid(-1); SIGCHLD is left
//   alone.
//
// Poll also removes the CUDA shim's shared memory regions of each job it reports ended
// (/dev/shm/gpupool-<job id>-*, docs/shim.md).
//
// Stop's SIGKILL is sent by the first Poll() at or after the grace deadline: the service polls
// regularly, and the executor starts no thread of its own.
//
// Lifetime: destroying a LocalExecutor leaves its jobs running (that is what makes adoption by the
// next one possible). Shepherds that were children of a destroyed executor stay zombies once they
// end until this process exits or a later executor of the same process Adopts them (which reaps
// them).
//
// Thread safety: all methods may be called from any thread; one mutex guards the job table. Launch
// does not hold it while forking and waiting for the exec, so launches run in parallel with Poll.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "executor/executor.h"

namespace gpupool::executor {

class LocalExecutor final : public Executor {
 public:
  // The clock Stop's grace deadlines are measured on; tests inject a fake one.
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

  LocalExecutor();  // std::chrono::steady_clock::now
  explicit LocalExecutor(SteadyNow now);
  ~LocalExecutor() override = default;  // jobs keep running

  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

  Result<ProcessRef> Launch(const LaunchSpec& spec) override;
  Status Stop(std::int64_t job_id, std::chrono::milliseconds grace) override;
  // Besides the contract in executor.h: an exit record that exists but cannot be read or parsed is
  // returned as that error (IoError / InvalidArgument), naming the file.
  Result<bool> Adopt(std::int64_t job_id, const ProcessRef& ref,
                     const std::filesystem::path& job_dir) override;
  std::vector<ExitInfo> Poll() override;
  std::size_t running() const override;

 private:
  struct Job {
    ProcessRef ref;
    std::filesystem::path job_dir;
    bool own_child = false;    // launched by this executor: the shepherd is reaped with waitpid
    bool ended = false;        // the shepherd is known to have ended; Poll reports the job next
    std::string shepherd_end;  // how the shepherd ended, when known ("killed by SIGKILL")
    bool stop_requested = false;
    std::chrono::milliseconds grace{0};
    std::optional<std::chrono::steady_clock::time_point> kill_at;  // pending SIGKILL
    bool kill_sent = false;
  };

  // Whether the job's shepherd still runs; when it has ended, marks the job ended (reaping it if
  // it is a child of this process). Requires mu_.
  bool CheckAlive(Job& job);
  ExitInfo Outcome(std::int64_t job_id, const Job& job) const;

  SteadyNow now_;
  mutable std::mutex mu_;
  std::map<std::int64_t, Job> jobs_;  // guarded by mu_
  std::set<std::int64_t> launching_;  // guarded by mu_: ids between Launch's check and its insert
};

}  // namespace gpupool::executor

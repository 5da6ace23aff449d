// Executor: runs the jobs the scheduler placed on this host and reports how they ended.
//
// The interface is what `gpupool serve` codes against; LocalExecutor (local_executor.h) runs jobs
// as processes of this machine, and cluster engines (Slurm, Kubernetes) plug in behind the same
// five calls later. The service drives it: Launch a placed job, Stop it on cancel or time limit,
// Poll regularly for exits, and after a restart Adopt every job its database says was running.
//
// Identity: a job is named by the service's job id; an executor tracks each id at most once, from
// Launch (or Adopt) until Poll has returned its ExitInfo.
//
// Thread safety: every method of an implementation may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "executor/process_ref.h"

namespace gpupool::executor {

struct LaunchSpec {
  std::int64_t job_id = 0;
  // The program and its arguments; no shell is involved. argv[0] without a '/' is looked up on the
  // PATH of the job's environment if `env` sets PATH, else on the service's PATH.
  std::vector<std::string> argv;
  // Variables set on top of the service's environment (a name given here overrides the service's).
  std::vector<std::pair<std::string, std::string>> env;
  std::filesystem::path workdir;  // the job's working directory; empty = job_dir
  // Created if missing. Holds stdout.log and stderr.log (appended to) and the exit record; one
  // running job per directory (a directory may be reused once its job's exit has been polled).
  std::filesystem::path job_dir;
  // The CUDA shim (libgpupool-cuda.so, docs/shim.md); empty: none. When set, a job that holds a
  // fraction of a GPU or a memory cap (by its GPUPOOL_GPU_MILLI and GPUPOOL_GPU_MEMORY_MIB,
  // gpu_shim.h) runs with it first in LD_PRELOAD; a job of whole GPUs runs without it.
  std::string gpu_shim;
};

// How a job ended, as Poll reports it. Exactly one of these holds:
//   exited normally:    exit_code >= 0, signal == 0, lost == false
//   killed by a signal: exit_code == -1, signal > 0, lost == false
//   lost:               exit_code == -1, signal == 0, lost == true (the outcome is unknown)
// `reason` is one human sentence for users: "exited with code 3", "killed by SIGKILL after Stop
// (grace 200 ms expired)", "lost: the shepherd ended without writing an exit record".
struct ExitInfo {
  std::int64_t job_id = 0;
  int exit_code = -1;
  int signal = 0;
  bool lost = false;
  std::string reason;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // Starts the job. Returns once the job's program has been exec'd, with the reference the service
  // must persist to Adopt the job after a restart. Errors: InvalidArgument for an empty argv, a bad
  // variable name, a workdir that is not a directory, or a program that cannot be run ("cannot run
  // 'x': No such file or directory"; nothing is left running then); FailedPrecondition when the
  // job id is already tracked; IoError when job_dir or its log files cannot be created, or fork
  // fails.
  virtual Result<ProcessRef> Launch(const LaunchSpec& spec) = 0;

  // Asks the job to stop: SIGTERM to its whole process group now, SIGKILL to the group once `grace`
  // has passed if it is still alive. Returns at once. A job that already ended (its ExitInfo not
  // yet polled) is left alone and Ok. NotFound for a job id the executor does not track.
  virtual Status Stop(std::int64_t job_id, std::chrono::milliseconds grace) = 0;

  // After a restart: tracks a job launched by an earlier incarnation of the service, from the
  // ProcessRef that Launch returned and the job's job_dir. true: tracked again (it still runs, or
  // it ended meanwhile and its ExitInfo comes from the next Poll). false: neither a process nor an
  // exit record remains; the caller reports the job lost. FailedPrecondition when the id is already
  // tracked.
  virtual Result<bool> Adopt(std::int64_t job_id, const ProcessRef& ref,
                             const std::filesystem::path& job_dir) = 0;

  // The exits seen since the last call, each job once. Never blocks on a job.
  virtual std::vector<ExitInfo> Poll() = 0;

  // Jobs tracked whose ExitInfo Poll has not yet returned.
  virtual std::size_t running() const = 0;
};

}  // namespace gpupool::executor

// StartShepherd: starts one job under its own shepherd process, the way batch systems do (Slurm's
// slurmstepd, HTCondor's condor_shadow/starter).
//
// Why a shepherd: the service must learn every job's exit status even when the service itself is
// killed (SIGKILL) and restarted. Only a process's parent can collect its exit status, so the job's
// parent must be something that outlives the service: a small fork of the service, the shepherd,
// which does nothing but wait for the job and write the outcome to a file (exit_record.h).
//
//   service ──fork──> shepherd: setsid() (its own session and process group: a Ctrl-C of the
//                     service's terminal or a kill of the service's group does not reach it),
//                     stdin/ stdout/stderr on /dev/null, every other descriptor of the service
//                     closed (listening sockets, the database), SIGPIPE ignored
//                 └─fork─> job: setpgid(0, 0) (its own process group, pgid = its pid, so that Stop
//                          signals the job and everything it started), default signal dispositions
//                          and an empty signal mask, stdout/stderr appended to job_dir/stdout.log
//                          and stderr.log, chdir(workdir), execve(program, argv, envp)
//
// Pipes: the job child holds the write end of a CLOEXEC pipe; a successful exec closes it (the
// shepherd reads EOF), a failed chdir or exec writes errno into it. The shepherd then reports
// {job pid, failed step, errno} to the service through a second pipe, so StartShepherd returns only
// once the job's program runs, or with the reason it could not, after reaping both processes.
//
// Then the shepherd waits for the job with waitid(WNOWAIT): the job stays a zombie, which keeps its
// pid and so its process group id reserved while the shepherd lives; the service therefore never
// signals a reused pgid as long as it checks that the shepherd is alive first. When the job's main
// process has ended, the shepherd SIGKILLs what is left of the job's process group (a job's
// resources are freed when it ends, as in Slurm), writes the exit record atomically and exits,
// which releases the zombie.
//
// Between fork and exec both children call only async-signal-safe functions on memory prepared in
// the LaunchPlan: no malloc, no std::string, no stdio, no locks.
//
// Thread safety: may be called from several threads at once. All signals are blocked in the calling
// thread around fork so that no service signal handler runs in a child before the child has reset
// the dispositions.
#pragma once

#include "common/status.h"
#include "executor/launch_plan.h"

namespace gpupool::executor {

struct ShepherdStart {
  int shepherd_pid = 0;  // a child of the calling process; the caller must reap it (waitpid)
  int job_pid = 0;       // the job's main pid = its process group id
};

// Creates plan.job_dir if missing, removes a stale exit record, opens the log files and starts the
// shepherd and the job as described above. Errors: IoError when the directory or a log file cannot
// be created, or pipe/fork fails; InvalidArgument when the workdir is not a directory or the job's
// program cannot be run ("cannot run 'x': Permission denied"), in which case nothing is left
// running and no exit record is written.
Result<ShepherdStart> StartShepherd(const LaunchPlan& plan);

}  // namespace gpupool::executor

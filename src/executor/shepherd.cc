#include "executor/shepherd.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <vector>

#include "executor/exit_record.h"

namespace gpupool::executor {
namespace {

// The step at which starting the job failed, as the shepherd reports it.
enum class Step : std::int32_t { kNone = 0, kPipe, kFork, kChdir, kExec };

// What the job child writes to the shepherd on failure, and the shepherd to the service. Small
// enough (< PIPE_BUF) to be written atomically.
struct Report {
  std::int32_t job_pid = 0;
  Step step = Step::kNone;
  std::int32_t error = 0;
};

// ---- Async-signal-safe helpers (run in the forked children) ----

void WriteReport(int fd, const Report& report) {
  while (write(fd, &report, sizeof report) < 0 && errno == EINTR) {
  }
}

// Reads up to sizeof(Report) bytes; returns the count (0 at EOF before any byte).
std::size_t ReadReport(int fd, Report* report) {
  auto* bytes = reinterpret_cast<char*>(report);
  std::size_t got = 0;
  while (got < sizeof *report) {
    const ssize_t n = read(fd, bytes + got, sizeof *report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// Every signal to its default action (a service handler must never run in a child) except those in
// `ignore`. Signals glibc reserves make sigaction fail; that is harmless.
void ResetSignals(int ignore) {
  struct sigaction action {};
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    action.sa_handler = sig == ignore ? SIG_IGN : SIG_DFL;
    sigaction(sig, &action, nullptr);
  }
}

// Closes every descriptor >= 3 except the sorted `keep` ones.
void CloseOtherFds(int* keep, int count, int max_fd) {
  for (int i = 1; i < count; ++i) {  // insertion sort: at most a handful of entries
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
      const int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  }
  int next = 3;
  for (int i = 0; i <= count; ++i) {
    const int until = i < count ? keep[i] - 1 : max_fd;  // close [next, until]
    if (until >= next &&
        close_range(static_cast<unsigned>(next), static_cast<unsigned>(until), 0) != 0) {
      for (int fd = next; fd <= until; ++fd) close(fd);  // kernels before 5.9
    }
    if (i < count && keep[i] + 1 > next) next = keep[i] + 1;
  }
}

// Moves `fd` to a number >= 3 (so that putting /dev/null on 0-2 cannot clobber it).
int AboveStdio(int fd) { return fd >= 3 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3); }

[[noreturn]] void RunJob(const LaunchPlan& plan, int out_fd, int err_fd, int status_fd) {
  setpgid(0, 0);
  ResetSignals(0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // dup2 clears CLOEXEC on the new descriptor; the originals close at exec.
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  Report report;
  if (chdir(plan.workdir.c_str()) != 0) {
    report = {0, Step::kChdir, errno};
  } else {
    execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
    report = {0, Step::kExec, errno};
  }
  WriteReport(status_fd, report);
  _exit(127);
}

[[noreturn]] void RunShepherd(const LaunchPlan& plan, int null_fd, int out_fd, int err_fd,
                              int report_fd, int max_fd) {
  ResetSignals(SIGPIPE);  // a write to a dead service must not kill the shepherd
  setsid();
  prctl(PR_SET_NAME, "gp-shepherd", 0, 0, 0);
  out_fd = AboveStdio(out_fd);
  err_fd = AboveStdio(err_fd);
  report_fd = AboveStdio(report_fd);
  dup2(null_fd, STDIN_FILENO);
  dup2(null_fd, STDOUT_FILENO);
  dup2(null_fd, STDERR_FILENO);
  int keep[] = {out_fd, err_fd, report_fd};
  CloseOtherFds(keep, 3, max_fd);  // also closes null_fd (>= 3 unless it is already 0-2)
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    WriteReport(report_fd, {0, Step::kPipe, errno});
    _exit(1);
  }
  const pid_t job = fork();
  if (job < 0) {
    WriteReport(report_fd, {0, Step::kFork, errno});
    _exit(1);
  }
  if (job == 0) {
    close(status_pipe[0]);
    RunJob(plan, out_fd, err_fd, status_pipe[1]);
  }
  setpgid(job, job);  // also in the child: whichever runs first, the group exists before exec
  close(status_pipe[1]);
  close(out_fd);
  close(err_fd);
  Report failure;
  const bool failed = ReadReport(status_pipe[0], &failure) == sizeof failure;
  close(status_pipe[0]);
  WriteReport(report_fd,
              failed ? Report{job, failure.step, failure.error} : Report{job, Step::kNone, 0});
  close(report_fd);
  if (failed) {
    while (waitpid(job, nullptr, 0) < 0 && errno == EINTR) {
    }
    _exit(1);
  }

  // Wait without reaping: the zombie keeps the job's pid (= pgid) from being reused until we exit.
  siginfo_t info{};
  while (waitid(P_PID, static_cast<id_t>(job), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) _exit(2);
  }
  kill(-job, SIGKILL);  // whatever the job left behind in its group
  ExitRecord record;
  record.pid = job;
  if (info.si_code == CLD_EXITED) {
    record.exit_code = info.si_status;
  } else {
    record.signal = info.si_status;  // CLD_KILLED or CLD_DUMPED
  }
  const int err = WriteExitRecordAtomically(record, plan.record_temp_path.c_str(),
                                            plan.record_path.c_str(), plan.job_dir.c_str());
  _exit(err == 0 ? 0 : 3);
}

std::string Describe(const LaunchPlan& plan, const Report& report) {
  const std::string why = std::generic_category().message(report.error);
  switch (report.step) {
    case Step::kChdir:
      return "cannot enter workdir '" + plan.workdir + "': " + why;
    case Step::kExec:
      return "cannot run '" + plan.args[0] + "': " + why;
    case Step::kPipe:
      return "shepherd: pipe: " + why;
    case Step::kFork:
      return "shepherd: fork: " + why;
    case Step::kNone:
      break;
  }
  return "shepherd: " + why;
}

// Closes the descriptors it holds when it goes out of scope.
class Fds {
 public:
  ~Fds() {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  int Add(int fd) {
    fds_.push_back(fd);
    return fd;
  }

 private:
  std::vector<int> fds_;
};

}  // namespace

Result<ShepherdStart> StartShepherd(const LaunchPlan& plan) {
  std::error_code ec;
  std::filesystem::create_directories(plan.job_dir, ec);
  if (ec) {
    return Error(
        Status::IoError("cannot create job directory " + plan.job_dir + ": " + ec.message()));
  }
  if (!std::filesystem::is_directory(plan.workdir, ec)) {
    return Error(Status::InvalidArgument("workdir '" + plan.workdir + "' is not a directory"));
  }
  // A record from an earlier run of this directory must not be read as this run's.
  if (unlink(plan.record_path.c_str()) != 0 && errno != ENOENT) {
    return Error(Status::IoError("cannot remove " + plan.record_path + ": " +
                                 std::generic_category().message(errno)));
  }
  Fds fds;
  // CLOEXEC everywhere: a program another thread of the service execs must not inherit these.
  const int null_fd = fds.Add(open("/dev/null", O_RDWR | O_CLOEXEC));
  const int out_fd =
      fds.Add(open(plan.stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  const int err_fd =
      fds.Add(open(plan.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (null_fd < 0 || out_fd < 0 || err_fd < 0) {
    return Error(Status::IoError("cannot open the logs in " + plan.job_dir + ": " +
                                 std::generic_category().message(errno)));
  }
  int report_pipe[2];
  if (pipe2(report_pipe, O_CLOEXEC) != 0) {
    return Error(Status::IoError("pipe: " + std::generic_category().message(errno)));
  }
  fds.Add(report_pipe[0]);
  int report_w = report_pipe[1];
  rlimit limit{};
  int max_fd = 65535;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    max_fd = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20)) - 1;
  }

  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t shepherd = fork();
  if (shepherd == 0) RunShepherd(plan, null_fd, out_fd, err_fd, report_w, max_fd);
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(report_w);  // our copy: EOF arrives when the shepherd closes (or dies)
  if (shepherd < 0) {
    return Error(Status::IoError("fork: " + std::generic_category().message(fork_errno)));
  }

  Report report;
  const std::size_t got = ReadReport(report_pipe[0], &report);
  if (got == sizeof report && report.step == Step::kNone && report.job_pid > 0) {
    return ShepherdStart{shepherd, report.job_pid};
  }
  // The shepherd has failed and exits by itself (it reaped the job child first).
  int wstatus = 0;
  while (waitpid(shepherd, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (got != sizeof report) {
    return Error(Status::Internal("shepherd ended before reporting the job's start"));
  }
  const Status status = report.step == Step::kChdir || report.step == Step::kExec
                            ? Status::InvalidArgument(Describe(plan, report))
                            : Status::IoError(Describe(plan, report));
  return Error(status);
}

}  // namespace gpupool::executor

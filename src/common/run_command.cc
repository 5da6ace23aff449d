#include "common/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace gpupool {
namespace {

void CloseAll(std::initializer_list<int> fds) {
  for (const int fd : fds) {
    if (fd >= 0) close(fd);
  }
}

// What the child reports on its status pipe when it cannot exec: the step and errno.
struct StartFailure {
  int step = 0;  // 1: chdir, 2: exec
  int error = 0;
};

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  CommandResult result;
  if (argv.empty()) {
    result.start_error = "no program given";
    return result;
  }
  int out_fds[2] = {-1, -1};
  int err_fds[2] = {-1, -1};
  // Status pipe: closes on a successful exec (O_CLOEXEC), carries a StartFailure otherwise.
  int status_fds[2] = {-1, -1};
  if (pipe(out_fds) != 0 || (options.separate_stderr && pipe(err_fds) != 0) ||
      pipe2(status_fds, O_CLOEXEC) != 0) {
    result.start_error = std::string("pipe: ") + std::strerror(errno);
    CloseAll({out_fds[0], out_fds[1], err_fds[0], err_fds[1], status_fds[0], status_fds[1]});
    return result;
  }
  // Built before fork: the child only calls async-signal-safe functions.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();

  const pid_t pid = fork();
  if (pid < 0) {
    result.start_error = std::string("fork: ") + std::strerror(errno);
    CloseAll({out_fds[0], out_fds[1], err_fds[0], err_fds[1], status_fds[0], status_fds[1]});
    return result;
  }
  if (pid == 0) {
    close(out_fds[0]);
    if (err_fds[0] >= 0) close(err_fds[0]);
    close(status_fds[0]);
    dup2(out_fds[1], STDOUT_FILENO);
    dup2(err_fds[1] >= 0 ? err_fds[1] : out_fds[1], STDERR_FILENO);
    close(out_fds[1]);
    if (err_fds[1] >= 0) close(err_fds[1]);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    StartFailure failure;
    if (dir != nullptr && chdir(dir) != 0) {
      failure = {1, errno};
    } else {
      execvp(args[0], args.data());
      failure = {2, errno};
    }
    (void)!write(status_fds[1], &failure, sizeof failure);
    _exit(127);
  }
  close(out_fds[1]);
  if (err_fds[1] >= 0) close(err_fds[1]);
  close(status_fds[1]);
  StartFailure failure;
  const bool start_failed = read(status_fds[0], &failure, sizeof failure) > 0;
  close(status_fds[0]);
  result.started = !start_failed;
  if (start_failed) {
    result.start_error = (failure.step == 1 ? "chdir " + options.working_dir : "exec " + argv[0]) +
                         ": " + std::strerror(failure.error);
  }

  // Read both streams until both are closed, the deadline killing the child on the way.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  pollfd pfds[2] = {{out_fds[0], POLLIN, 0}, {err_fds[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.output, &result.error_output};
  int open_streams = err_fds[0] >= 0 ? 2 : 1;
  char buf[4096];
  while (open_streams > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    const int ready = poll(pfds, 2, static_cast<int>(left));  // fd -1 entries are ignored
    if (ready <= 0) continue;  // EINTR, or the deadline: checked at the top of the loop
    for (int i = 0; i < 2; ++i) {
      if (pfds[i].fd < 0 || pfds[i].revents == 0) continue;
      const ssize_t n = read(pfds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // EOF (or an error): the child closed this stream
        pfds[i].fd = -1;
        --open_streams;
        continue;
      }
      std::string& sink = *sinks[i];
      const auto room = options.max_output_bytes - std::min(sink.size(), options.max_output_bytes);
      sink.append(buf, std::min(static_cast<std::size_t>(n), room));
    }
  }
  CloseAll({out_fds[0], err_fds[0]});
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!result.timed_out && WIFEXITED(wstatus) && result.started) {
    result.exit_code = WEXITSTATUS(wstatus);
  }
  return result;
}

CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms) {
  CommandOptions options;
  options.timeout_ms = timeout_ms;
  return RunCommand(argv, options);
}

std::string FindOnPath(const std::string& name, std::string_view path, int* why) {
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    if (why != nullptr) *why = errno;
    return "";
  }
  bool saw_eacces = false;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = std::min(path.find(':', begin), path.size());
    std::string candidate(path.substr(begin, end - begin));
    if (candidate.empty()) candidate = ".";
    candidate += '/';
    candidate += name;
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
      saw_eacces = true;
    }
    if (end == path.size()) break;
    begin = end + 1;
  }
  if (why != nullptr) *why = saw_eacces ? EACCES : ENOENT;
  return "";
}

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  return path != nullptr ? FindOnPath(name, path) : "";
}

}  // namespace gpupool

// Running another program with an argument vector and capturing what it prints, its exit code and
// whether it ran past a time limit: `gpupool doctor`'s probes (nvcc, python3, docker, ldconfig),
// the simulator's plot step (gnuplot) and the tests that run the gpupool binary.
//
// No shell is involved: argv goes to execvp(3) as given (a name without '/' is looked up on
// $PATH), and the working directory is set with chdir(2) in the child, so spaces, quotes, '$' or
// any other byte in an argument or a path reach the program unchanged and are never interpreted.
// stdin is /dev/null. The child is killed with SIGKILL at the time limit.
//
// Thread safety: each call is independent (fork/exec, its own pipes); callers on several threads
// each wait for their own child only.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gpupool {

struct CommandOptions {
  int timeout_ms = 10'000;
  // The child's working directory; empty: the caller's.
  std::string working_dir;
  // false: stderr joins stdout in CommandResult::output, in the order written; true: stderr is kept
  // apart in CommandResult::error_output.
  bool separate_stderr = false;
  // At most this many bytes of each stream are kept; the rest is read and dropped.
  std::size_t max_output_bytes = std::size_t{1} << 20;
};

struct CommandResult {
  bool started = false;      // false: the program could not be run (see start_error)
  bool timed_out = false;    // killed after the time limit
  int exit_code = -1;        // the program's exit status when it exited normally, else -1
  std::string output;        // stdout, and stderr unless CommandOptions::separate_stderr
  std::string error_output;  // stderr when CommandOptions::separate_stderr
  std::string start_error;   // why it did not start: "chdir DIR: ...", "exec PROGRAM: ..."
};

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options);
// Shorthand: stdout and stderr together, the caller's working directory.
CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms);

// Full path of `name` found on $PATH (or `path_env` when given), "" when absent; a name holding a
// '/' is returned as is when it is executable.
std::string FindOnPath(const std::string& name, const char* path_env = nullptr);

}  // namespace gpupool

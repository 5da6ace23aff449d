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
#include <string_view>
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

// Looks `name` up as execvp(3) does and returns its full path, "" when it is not found. Each
// directory of `path` (colon-separated; an empty entry means ".") is tried in order, and the first
// regular file of that name that this process may execute wins: directories and files without
// execute permission are passed over. A name holding a '/' is not looked up: it is returned as is
// when access(2) says it is executable. When "" is returned and `why` is not null, *why is what
// execvp would report: EACCES when only files of that name that may not be executed were found,
// else ENOENT; for a name holding a '/', access(2)'s errno.
std::string FindOnPath(const std::string& name, std::string_view path, int* why = nullptr);
// The same over $PATH; "" when PATH is not set.
std::string FindOnPath(const std::string& name);

}  // namespace gpupool

// Running a helper program (nvcc, python3, docker, ldconfig) with a time limit and capturing its
// output, for `gpupool doctor`. No shell is involved: argv goes to execvp as given.
//
// Thread safety: each call is independent (fork/exec); safe from one thread at a time per child.
#pragma once

#include <string>
#include <vector>

namespace gpupool::discovery {

struct CommandResult {
  bool started = false;    // false: the program could not be executed (not found, not executable)
  bool timed_out = false;  // killed after the time limit
  int exit_code = -1;      // the program's exit status when it exited normally
  std::string output;      // stdout and stderr together (at most 1 MiB kept)
};

CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms);

// Full path of `name` found on $PATH (or `path_env` when given), "" when absent.
std::string FindOnPath(const std::string& name, const char* path_env = nullptr);

}  // namespace gpupool::discovery

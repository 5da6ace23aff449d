// LaunchPlan: everything about starting a job that needs memory allocation, computed BEFORE the
// service forks. Between fork and exec a child of a multi-threaded process may only call
// async-signal-safe functions (another thread may have held the malloc lock at the fork), so the
// program path is resolved, argv and envp are built as NUL-terminated arrays, and every path the
// shepherd needs is turned into a C string here.
//
// Thread safety: MakeLaunchPlan is pure (the service environment is passed in). A LaunchPlan is a
// value; its pointer arrays point into its own strings, so it is movable but not copyable.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "executor/executor.h"

namespace gpupool::executor {

struct LaunchPlan {
  LaunchPlan() = default;
  LaunchPlan(const LaunchPlan&) = delete;
  LaunchPlan& operator=(const LaunchPlan&) = delete;
  LaunchPlan(LaunchPlan&&) = default;
  LaunchPlan& operator=(LaunchPlan&&) = default;

  std::string program;            // what execve runs: the resolved path
  std::vector<std::string> args;  // argv as given (argv[0] unchanged)
  std::vector<std::string> env;   // "NAME=value", the service's with the job's on top
  std::vector<char*> argv;        // pointers into args, nullptr-terminated
  std::vector<char*> envp;        // pointers into env, nullptr-terminated
  std::string workdir;            // absolute or relative to the service's cwd
  std::string job_dir;
  std::string stdout_path;       // job_dir/stdout.log
  std::string stderr_path;       // job_dir/stderr.log
  std::string record_path;       // job_dir/exit.json
  std::string record_temp_path;  // job_dir/.exit.json.tmp
};

// Checks the spec and builds the plan. `service_env` is the service's environment as "NAME=value"
// strings (environ). Errors: InvalidArgument for an empty argv, an argument containing NUL, an
// empty job_dir, a variable name that is empty or contains '=' or NUL, or a program that cannot be
// found or run: "cannot run 'x': No such file or directory" / "...: Permission denied", or a
// GPUPOOL_* share that is not a number when spec.gpu_shim is set (gpu_shim.h puts the shim in
// LD_PRELOAD for a job with a fraction of a GPU or a memory cap). Does not touch the file system
// except to look the program up.
Result<LaunchPlan> MakeLaunchPlan(const LaunchSpec& spec,
                                  const std::vector<std::string>& service_env);

// The service's environment (environ) as strings. Not safe against a concurrent setenv (no
// function reading environ is).
std::vector<std::string> ServiceEnvironment();

// Resolves `name` as execvp would: a name containing '/' is used as is; otherwise each directory
// of `path` (colon-separated; an empty entry means ".") is tried in order and the first regular,
// executable file wins (FindOnPath, common/run_command.h). Errors (InvalidArgument): "cannot run
// 'name': No such file or directory", or "...: Permission denied" when only non-executable files of
// that name exist.
Result<std::string> ResolveProgram(const std::string& name, std::string_view path);

}  // namespace gpupool::executor

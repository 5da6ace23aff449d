// RunProgram: runs a program (usually the gpupool binary) with an argument vector, no shell, and
// returns its stdout, stderr and exit code. The one way the tests run a program; built on
// common/run_command.h, the runner gpupool itself uses.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/run_command.h"

namespace gpupool::testing {

struct ProgramRun {
  int exit_code = -1;  // -1: did not start, was killed or timed out (see `err`)
  std::string out;     // stdout
  std::string err;     // stderr, or why it did not start / that it timed out
};

// `argv[0]` is a path or a name looked up on $PATH; `working_dir` empty keeps the test's own.
// Generous limits: five minutes, 256 MiB per stream.
inline ProgramRun RunProgram(const std::vector<std::string>& argv,
                             const std::string& working_dir = "") {
  CommandOptions o;
  o.timeout_ms = 300'000;
  o.working_dir = working_dir;
  o.separate_stderr = true;
  o.max_output_bytes = std::size_t{256} << 20;
  CommandResult r = RunCommand(argv, o);
  ProgramRun run{r.exit_code, std::move(r.output), std::move(r.error_output)};
  if (!r.started) run.err += "did not start: " + r.start_error;
  if (r.timed_out) run.err += "killed after " + std::to_string(o.timeout_ms) + " ms";
  return run;
}

// "plan infer --gpu h100" -> {"plan", "infer", "--gpu", "h100"}: splits at spaces, nothing else
// (no quotes, no escapes), for argument lists written out in a test. An argument that may hold a
// space goes into the vector as its own element instead.
inline std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t space = text.find(' ', start);
    if (space == std::string::npos) space = text.size();
    if (space > start) out.push_back(text.substr(start, space - start));
    start = space + 1;
  }
  return out;
}

// The gpupool binary under test (GPUPOOL_BINARY, set by the test's CMake target) with `args`.
#ifdef GPUPOOL_BINARY
inline ProgramRun RunGpupool(std::vector<std::string> args, const std::string& working_dir = "") {
  args.insert(args.begin(), GPUPOOL_BINARY);
  return RunProgram(args, working_dir);
}
#endif

}  // namespace gpupool::testing

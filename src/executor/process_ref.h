// ProcessRef: what the service stores (as JSON, next to the job in its database) to find a locally
// running job again after the service itself was restarted or killed.
//
// A job is found through its shepherd (see shepherd.h): the shepherd's pid plus its start time in
// clock ticks since boot (/proc/<pid>/stat field 22). A pid alone is not enough because the kernel
// reuses pids; the pair (pid, start ticks) names one process for the life of the machine. `pgid` is
// the job's process group, which equals the pid of the job's main process.
//
// Thread safety: plain values; the functions are pure.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gpupool::executor {

struct ProcessRef {
  int shepherd_pid = 0;
  std::int64_t shepherd_start_ticks = 0;  // /proc/<pid>/stat field 22: guards against pid reuse
  int pgid = 0;                           // the job's process group (= the job's main pid)

  friend bool operator==(const ProcessRef&, const ProcessRef&) = default;
};

// {"shepherd_pid": 123, "shepherd_start_ticks": 456789, "pgid": 124}
nlohmann::json ToJson(const ProcessRef& ref);

// The inverse of ToJson. Errors (InvalidArgument) name the member at fault: a missing member, a
// value that is not an integer, or a pid/pgid outside 1..INT_MAX, or negative start ticks.
// Unknown members are ignored (a newer service may add some).
Result<ProcessRef> ProcessRefFromJson(const nlohmann::json& json);

}  // namespace gpupool::executor

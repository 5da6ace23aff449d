// Reader for the job files of the Tiresias simulator (Gu et al., NSDI '19;
// SymbioticLab/Tiresias, Apache-2.0, `simulator/`), such as its 60-job sample
// (data/traces/tiresias/60_job.csv).
//
// The file: header `job_id,num_gpu,submit_time,iterations,model_name,duration,interval`
// (columns found by name, in any order; every line has as many fields as the header; only
// num_gpu, submit_time and duration are read, the others may be absent).
//   num_gpu      integer >= 1.
//   submit_time  seconds, integer >= 0.
//   duration     run time in seconds, integer >= 1.
// Jobs are ordered by (submit_time, file line); submit_s is relative to the earliest. The file
// names no user or queue: TraceJob::queue and user stay empty.
//
// Errors: the first bad line stops the load with InvalidArgument "FILE:LINE: COLUMN: what"; an
// empty or header-only file, or one that cannot be opened, is named by its path. Nothing is
// returned on error.
//
// Thread safety: free functions with no shared state.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "sim/philly_trace.h"

namespace gpupool::sim {

Result<std::vector<TraceJob>> LoadTiresiasJobs(const std::string& path);

}  // namespace gpupool::sim

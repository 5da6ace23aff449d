// Reader for the Microsoft Philly job trace (Jeon et al., USENIX ATC '19) in the one-row-per-job
// form that the Pollux simulator ships (data/traces/philly/philly.csv), filtered the way the
// Helios artifact's "QSSF Service" simulator (Hu et al., SC '21; S-Lab-System-Group/HeliosArtifact,
// MIT licence) replays Philly.
//
// The file: header `timestamp,duration,num_gpus,gpu_time,cluster` (columns found by name, in any
// order; every line has as many fields as the header), rows in no particular order.
//   timestamp  submit time "YYYY-MM-DD HH:MM:SS". Read as UTC: Philly's clock is US Pacific wall
//              time, but only differences are used, as in Helios (so a job submitted across the
//              5 Nov 2017 clock change sits one hour off its true distance from earlier jobs).
//   duration   run time in seconds, written as a float ("66.0") but a whole number >= 1.
//   num_gpus   integer >= 0.
//   gpu_time   duration * num_gpus (checked, to 1e-6 relative).
//   cluster    the virtual cluster (VC), a 6-hex-digit id such as "6214e9"; kept as
//   TraceJob::queue.
// Blank lines are skipped. The trace names no user.
//
// The Helios rules (PhillyOptions defaults), applied in this order:
//   1. keep a row when num_gpus > 0, its VC is in `vcs` (empty `vcs`: every VC) and its submit
//      time is at or after `from` (2017-10-01 00:00:00);
//   2. order the kept rows by (submit time, file line): same-second rows keep the file's order;
//   3. t = submit - submit of the first row of 2; keep rows with t <= window_s (5,270,340 s, the
//      distance from 2017-10-01 00:00:00 to 2017-11-30 23:59:00).
// Helios keeps 11 VCs (data/traces/philly/vc_nodes.csv, 352 nodes of 8 GPUs); with them the
// shipped file gives 68,503 jobs. `keep_all` drops every rule: each row of the file, num_gpus 0
// included, in (submit, line) order, t relative to the earliest row; `vcs`, `from` and
// `window_s` are then ignored. A filter that leaves no job gives an empty vector, not an error.
//
// Errors: the whole file is checked, filtered-out rows included; the first bad line stops the
// load with InvalidArgument "FILE:LINE: COLUMN: what" (a column missing from the header or from
// the line, a bad timestamp, a non-number, a duration that is not a whole number >= 1, num_gpus
// negative or not an integer, gpu_time != duration * num_gpus, an empty VC). An empty file, a
// file with a header only, or one that cannot be opened is named by its path; a bad `from` or a
// negative `window_s` is InvalidArgument naming the option. Nothing is returned on error.
//
// Thread safety: free functions with no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/pod_request.h"
#include "common/status.h"

namespace gpupool::sim {

// One job of a replayed trace.
struct TraceJob {
  std::int64_t id = 0;          // 1.. in the order returned
  std::int64_t submit_s = 0;    // seconds from the first kept job
  std::int64_t duration_s = 0;  // run time in seconds, >= 1
  int num_gpus = 0;
  std::string queue;  // the VC
  std::string user;   // empty: the trace has none
  int line = 0;       // line in the file (header = 1)
  // The job's own request where the trace has one (openb pods: CPU, memory, a GPU share, model
  // constraints); nullopt: num_gpus whole GPUs (Philly).
  std::optional<cluster::PodRequest> request;
};

struct PhillyOptions {
  std::string from = "2017-10-01 00:00:00";  // earliest submit time kept, same format as the file
  std::int64_t window_s = 5270340;           // last kept t, in seconds after the first kept job
  bool keep_all = false;                     // keep every row (see above)
};

// VC -> node count from a `vc,nodes` CSV, in file order. Errors name FILE:LINE: COLUMN: an empty
// or repeated VC, a node count that is not an integer >= 1, a missing column; an empty or
// header-only file names the file.
Result<std::vector<std::pair<std::string, int>>> LoadVcNodes(const std::string& path);

// Loads, validates and filters `path`; `vcs` = the VCs to keep (empty: all; the node counts are
// not used here). Sorted by (submit_s, line), ids 1.. in that order.
Result<std::vector<TraceJob>> LoadPhillyJobs(const std::string& path,
                                             const std::vector<std::pair<std::string, int>>& vcs,
                                             const PhillyOptions& opt = {});

}  // namespace gpupool::sim

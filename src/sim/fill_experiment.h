// The openb "fill" experiment (../shared/specs/openb-fill.md; Weng et al., ATC '23, Sec. 6):
// pods arrive one at a time in a seeded shuffled order, resampled to `tune` x the cluster's GPU
// capacity (130 % by default), never leave and are never retried; after every arrival the
// allocated share of GPU capacity is recorded against the arrived share, binned to integer
// percent. Also records the fragmentation amount (sum of F_n over nodes, % of capacity) and ratio
// (% of idle GPU) against the original trace's workload.
//
// With batch > 1, arrivals wait in a window of `batch` pods that is placed together when it is
// full (and at the end); waiting pods count as arrived but not allocated.
//
// RunFill is deterministic for (inputs, policy, seed). RunFillGrid runs (policy, seed) pairs on a
// pool of threads; each run owns its cluster state and Placer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cluster/cluster_state.h"
#include "common/status.h"
#include "placement/workload.h"
#include "sim/openb_trace.h"

namespace gpupool::sim {

struct FillInput {
  std::string trace_name;  // "default"
  std::vector<cluster::NodeSpec> nodes;
  cluster::ModelTable models;
  std::vector<TracePod> pods;
  placement::Workload workload;  // classes of `pods`, for FGD and the fragmentation metric
};

// Loads nodes and pods and builds the workload; errors as in openb_trace.h.
Result<FillInput> LoadFillInput(const std::string& nodes_path, const std::string& pods_path);

struct FillOptions {
  double tune = 1.3;  // resample the arrivals to this share of GPU capacity
  int batch = 0;      // scheduling window, in pods; 0 = each policy's default_window()
  // false: FGD's target workload is the whole trace's (the paper's, and the default here);
  // true: learned from the pods that have arrived, as the service does (placement/
  // workload_learner.h, re-derived by its Stale rule with every = 64). Fragmentation is reported
  // against the whole trace's workload either way, so the figures compare.
  bool learned_workload = false;
};

// Per-bin means over the events of one run; index = arrived percent 0..max_bin. NaN where neither
// the bin nor a neighbour has an event.
struct FillCurve {
  std::vector<double> allocation_pct;
  std::vector<double> frag_amount_pct;
  std::vector<double> frag_ratio_pct;
};

struct FillRun {
  std::string policy;
  std::uint64_t seed = 0;
  int window = 1;  // the scheduling window the run used
  FillCurve curve;
  double unallocated_at_100 = 0;  // 100 - allocation at bin 100
  double allocation_at_130 = 0;   // allocation at the last bin (round(100 x tune))
  double frag_amount_at_100 = 0;
  double frag_ratio_at_100 = 0;
  std::int64_t pods_arrived = 0;
  std::int64_t pods_placed = 0;
  double seconds = 0;  // placement loop only
};

// The arrival list of one seed: shuffled originals, then resampled (see the spec, step 2).
std::vector<int> ArrivalOrder(const FillInput& in, std::uint64_t seed, double tune);

Result<FillRun> RunFill(const FillInput& in, const std::string& policy, std::uint64_t seed,
                        const FillOptions& opt);

// Runs every (policy, seed) on `threads` threads (0 = hardware concurrency). `progress` (may be
// empty) is called after each finished run with (done, total), from worker threads, serialised.
Result<std::vector<FillRun>> RunFillGrid(const FillInput& in,
                                         const std::vector<std::string>& policies,
                                         const std::vector<std::uint64_t>& seeds,
                                         const FillOptions& opt, int threads,
                                         const std::function<void(int, int)>& progress);

// Bins events by round-half-even(100 x arrived) and averages; empty bins fall back to the
// neighbours x-1..x+1. Exposed for tests.
std::vector<double> BinMeans(const std::vector<double>& arrived_fraction,
                             const std::vector<double>& values, int max_bin);

}  // namespace gpupool::sim

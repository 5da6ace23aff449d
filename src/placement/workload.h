// Workload: the target workload M that fragmentation is measured against - the task classes of a
// trace and their popularity. Source: Weng et al., "Beware of Fragmentation", USENIX ATC '23,
// Sec. 4 (target workload), with the class rule of ../shared/specs/openb-fill.md: group the
// trace's pods (CPU-only included) by (cpu_milli, gpu_milli, num_gpu, gpu_spec with empty
// entries dropped and duplicates kept); sort by count (descending; ties by first appearance in
// the trace); take classes until they cover >= 95 % of pods; p_m = count_m / covered count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/pod_request.h"

namespace gpupool::placement {

struct TaskClass {
  std::int64_t cpu_milli = 0;
  std::int32_t num_gpu = 0;
  std::int32_t gpu_milli = 0;
  cluster::ModelMask allowed_models = cluster::kAnyModel;
  double weight = 0;  // p_m
  std::int64_t count = 0;
};

// One pod of the trace that defines the workload, with the normalised text of its gpu_spec
// (empty entries dropped, duplicates kept, order kept), which is part of the class key.
struct WorkloadPod {
  cluster::PodRequest request;
  std::string spec_key;
};

struct Workload {
  std::vector<TaskClass> classes;  // most popular first; weights sum to 1
  std::int64_t total_pods = 0;
  std::int64_t covered_pods = 0;

  // Builds the workload from a trace's pods; `coverage` is the share of pods to cover (0.95).
  static Workload FromPods(const std::vector<WorkloadPod>& pods, double coverage = 0.95);
};

}  // namespace gpupool::placement

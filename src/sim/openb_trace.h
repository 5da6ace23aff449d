// Readers for the openb trace (Alibaba cluster-trace-gpu-v2023, as used by Weng et al., ATC '23):
//   node list  sn,cpu_milli,memory_mib,gpu,model
//   pod list   name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,qos,pod_phase,creation_time,
//              deletion_time,scheduled_time]   (the 11-column form, or the first five columns)
// Columns are found by the header's names, so either form loads. gpu_spec is a list of allowed
// GPU models separated by '|' (empty or "nan" = any; duplicates allowed).
//
// Errors: the first bad line stops the load with InvalidArgument "FILE:LINE: COLUMN: what" (a
// missing column, a non-number, a negative amount, gpu_milli over 1000, a multi-GPU pod with a
// fractional share, a GPU model in gpu_spec that no node has, an empty file). Nothing is returned
// on error.
#pragma once

#include <string>
#include <vector>

#include "cluster/model_table.h"
#include "cluster/node_spec.h"
#include "cluster/pod_request.h"
#include "common/status.h"

namespace gpupool::sim {

struct TracePod {
  std::string name;
  cluster::PodRequest request;
  std::string spec_key;  // gpu_spec normalised: empty entries dropped, duplicates and order kept
  int line = 0;
  // Seconds from the trace's start, from the 11-column form; -1 when the column is missing or
  // the field empty (a pod never scheduled has no scheduled_time).
  std::int64_t creation_s = -1;
  std::int64_t deletion_s = -1;
  std::int64_t scheduled_s = -1;
};

Result<std::vector<cluster::NodeSpec>> LoadOpenbNodes(const std::string& path);

// `models` must already hold every GPU model of the cluster (ClusterState::Build interns them);
// a constraint naming another model is an error.
Result<std::vector<TracePod>> LoadOpenbPods(const std::string& path,
                                            const cluster::ModelTable& models);

// Writes `pods` as a 6-column pod list (name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec) that
// LoadOpenbPods reads back to the same requests. IoError names the file when it cannot be written.
Status WriteOpenbPods(const std::string& path, const std::vector<TracePod>& pods);

}  // namespace gpupool::sim

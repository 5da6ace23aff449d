// JobSpec: a job as submitted to `gpupool serve` (POST /api/v1/jobs, docs/api.md), normalised:
// defaults filled in, GPU models resolved to the pool's names, amounts in integer units. It is
// what the store keeps (as JSON) and what the scheduler's JobRequest is made from.
//
// ParseSubmission checks every member and names the first one at fault ("gpus: -1 is negative",
// "env.CUDA_VISIBLE_DEVICES: set by gpupool from the job's placement", "weird: unknown member");
// nothing is returned on error. Defaults: gpus 0, cpu 1,000 milli-CPU, memory 1,024 MiB,
// replicas 1, queue "default", priority 0, no time limit, name = the program's base name,
// topology "any".
//
// topology: "any" (the default: NVLink islands are only a preference) or "nvlink": each
// replica's GPUs must lie inside one NVLink island of its node (cluster/pod_request.h
// require_nvlink: never on a node whose islands are unknown; a replica of at most one GPU always
// meets it). Any other value is refused naming the member ("topology: 'nv' is not a topology
// (known: any, nvlink)").
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/model_table.h"
#include "scheduler/job.h"
#include "server/api_error.h"

namespace gpupool::server {

struct JobSpec {
  std::string name;
  std::vector<std::string> command;
  std::vector<std::pair<std::string, std::string>> env;  // sorted by name
  std::string workdir;                                   // "" = the job's directory
  std::int32_t num_gpu = 0;    // per replica: GPUs (whole) or 1 for a share
  std::int32_t gpu_milli = 0;  // per GPU; 1000 for whole GPUs, 0 for CPU-only
  std::int64_t gpu_memory_mib = 0;
  std::vector<std::string> gpu_models;  // the pool's model names; empty = any
  std::int64_t cpu_milli = 1000;
  std::int64_t memory_mib = 1024;
  int replicas = 1;
  std::string queue = "default";
  int priority = 0;
  std::int64_t time_limit_s = 0;
  bool preemptible = false;
  bool requeue = false;
  bool require_nvlink = false;  // topology "nvlink"

  friend bool operator==(const JobSpec&, const JobSpec&) = default;
};

// Limits on a submission (the HTTP layer bounds the body size itself).
inline constexpr std::size_t kMaxCommandArgs = 4096;
inline constexpr std::size_t kMaxEnvVars = 1024;
inline constexpr std::size_t kMaxNameLength = 128;

// Parses a submission body against the GPU models of the pool (`models`): a requested model
// matches a pool model equal to it ignoring case, or one that starts with it and a '-' ("H100"
// matches "H100-SXM" and "H100-PCIe"). `check_workdir`: the workdir must be an existing
// directory of this host (the local executor).
ApiResult<JobSpec> ParseSubmission(const nlohmann::json& body,
                                   const std::vector<std::string>& models, bool check_workdir);

// The spec as stored (and as the "resources" etc. members of the job object are written).
nlohmann::json SpecToJson(const JobSpec& spec);
// Reads what SpecToJson wrote (from the database). InvalidArgument naming the member.
Result<JobSpec> SpecFromJson(const nlohmann::json& j);

// The scheduler's request for the spec; InvalidArgument when a model is not in `models`.
Result<scheduler::JobRequest> ToJobRequest(const JobSpec& spec, const cluster::ModelTable& models);

// The topology names of the API: "any" -> false, "nvlink" -> true; nullopt for anything else.
std::optional<bool> ParseTopology(const std::string& name);
const char* TopologyName(bool require_nvlink);

// A queue name a job may give (and a queue file may define): 1-64 of a-z, 0-9, '-', '_', '.'.
bool ValidQueueName(const std::string& q);

// The `gpus` number of docs/api.md for a spec: num_gpu for whole GPUs, gpu_milli / 1000 for a
// share.
double GpusValue(const JobSpec& spec);

}  // namespace gpupool::server

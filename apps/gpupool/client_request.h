// The pure half of `gpupool submit`: flag values (sizes, durations, GPU amounts, CPUs) parsed into
// the integer units of the service, and the body of `POST /api/v1/jobs` (docs/api.md) built from
// the flags or from a `gpupool plan ... --emit-request` file. Nothing here touches the network.
//
// Errors are Status::InvalidArgument naming the flag ("--gpu-memory: '20X' is not a size ...") or
// the plan file and member ("plan.json: gpu_milli: ..."). Thread safety: free functions, no state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpupool::app {

// A size in MiB: "20G" and "20Gi" = 20480, "512M"/"512Mi" = 512, "1T"/"1Ti" = 1048576, a plain
// number = MiB. Binary units throughout (G = GiB), as GPU memory is counted. `flag` names the flag
// in the error.
Result<std::int64_t> ParseSizeMib(std::string_view text, std::string_view flag);

// A duration in seconds: "90s", "30m", "2h", "1d", "1h30m", a plain number = seconds. Must be
// positive.
Result<std::int64_t> ParseDurationSeconds(std::string_view text, std::string_view flag);

// GPUs per replica in milli-GPU: "2" = 2000, "0.5" = 500, "0" = 0. A whole count or a share of one
// GPU in steps of 0.001 (docs/api.md); "1.5" is refused.
Result<std::int64_t> ParseGpuMilli(std::string_view text, std::string_view flag);

// CPUs in milli-CPU: "4" = 4000, "0.5" = 500, "500m" = 500.
Result<std::int64_t> ParseCpuMilli(std::string_view text, std::string_view flag);

// The JSON number for `gpus` from milli-GPU: an integer for whole GPUs (2000 -> 2), a fraction for
// a share (500 -> 0.5).
nlohmann::json GpusJson(std::int64_t milli);

// What the submit flags hold, as text, before parsing. Empty / unset = not given (the server's
// default applies and the member is left out of the body).
struct SubmitFlags {
  std::string gpus;
  std::string gpu_memory;
  std::vector<std::string> models;  // each may be a comma list
  std::optional<std::int64_t> replicas;
  std::string queue;
  std::optional<std::int64_t> priority;
  std::string time;
  std::string name;
  std::string cpu;
  std::string memory;
  std::vector<std::string> env;  // KEY=VALUE
  std::string workdir;           // relative paths are made absolute against `cwd`
  bool preemptible = false;
  bool requeue = false;
  bool nvlink = false;  // "topology": "nvlink"
  std::vector<std::string> command;
};

// The POST /api/v1/jobs body. `base` is the start (a mapped plan file, or an empty object); each
// flag given overrides or adds its member. `cwd` resolves a relative --workdir. Fails when there is
// no command or a flag's value is bad.
Result<nlohmann::json> BuildSubmitBody(const SubmitFlags& flags, const nlohmann::json& base,
                                       const std::filesystem::path& cwd);

// A `gpupool plan ... --emit-request` document ({"num_gpu", "gpu_milli", "gpu_models",
// "gpu_memory_mib", "cpu_milli", "memory_mib", "replicas"}) mapped to body members: gpus = num_gpu,
// or gpu_milli/1000 for a share (num_gpu 1, gpu_milli < 1000). `source` names the file in errors.
Result<nlohmann::json> PlanToBody(const nlohmann::json& plan, std::string_view source);

// Reads and maps a plan file (PlanToBody), errors naming the file.
Result<nlohmann::json> LoadPlanFile(const std::filesystem::path& path);

// The submit flag that sets a body member, for the server's error messages: "gpus" -> "--gpus",
// "gpu_memory_mib" -> "--gpu-memory", "env.PATH" -> "--env", "command[0]" -> "the command after
// --"; "" for a member no flag sets.
std::string FlagForMember(std::string_view member);

// A job id argument: a positive integer. `what` names the argument in the error.
Result<std::int64_t> ParseJobId(std::string_view text, std::string_view what);

}  // namespace gpupool::app

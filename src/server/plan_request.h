// The body of POST /api/v1/plan (docs/api.md) and the planner's answer to it: the fewest GPUs
// that serve a model at a batch x context (planner::FewestGpusForServing, the serve goal of
// `gpupool plan search --goal serve`), its memory per GPU (planner::InferJson, the same members as
// `gpupool plan infer --json`), and the job request for it (planner::PlanJobRequest, what
// `--emit-request` prints) as the members of a submission (POST /api/v1/jobs: gpus, gpu_models,
// gpu_memory_mib, replicas, with the queue and priority given). Where it could run is the
// service's part (PoolService::Plan, from the scheduler's own checks).
//
// Members: model (a preset name) or config (a Hugging Face config.json document, inline); gpu
// (catalog name or alias; default "H100"); precision (auto|bf16|fp16|fp8|int8|int4; default
// auto); context (tokens per sequence, 1..10,000,000; default the planner's); batch
// (sequences, 1..100,000; default the planner's); queue, priority (passed on to the submission).
// Every error names the member ("gpu: unknown GPU 'X' ..."); a model preset is looked up by name
// only (a value that names a file or folder of the server is refused: the server's files are not
// the API's to read).
//
// Thread safety: pure functions (they read the data directory).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "planner/plan_inputs.h"
#include "server/api_error.h"

namespace gpupool::server {

struct PlanQuery {
  planner::PlanInputs in;
  std::optional<nlohmann::json> config;  // instead of in.model
  int batch = 0;                         // 0: the planner's default
  std::int64_t context = 0;              // 0: the planner's default
  std::string queue;                     // "": not given
  std::optional<int> priority;
};

ApiResult<PlanQuery> ParsePlanQuery(const nlohmann::json& body);

// The planner's answer: {"found", "gpus", "tried": [{tp, outcome}], "plan": InferJson of the
// fewest GPUs (null when none up to TP 64 fits), "request": PlanJobRequest's JSON, "submit": the
// submission's members for it}. `models_dir`: the presets (DataDir()/models).
// GET /api/v1/plan/models: {"models": [{name, aliases, params}]}, the presets by name.
ApiResult<nlohmann::json> PlanPresets(const std::filesystem::path& models_dir);

ApiResult<nlohmann::json> RunPlan(const PlanQuery& q, const std::filesystem::path& models_dir);

}  // namespace gpupool::server

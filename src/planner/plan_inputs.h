// PlanInputs: what `gpupool plan` and the service's POST /api/v1/plan are asked (a model, a GPU,
// a precision, the network and the scale-up size), resolved against the model presets and the
// hardware catalog into what the estimates take (ResolvedPlan); and the scheduler's job request
// for a plan (PlanJobRequest). Both callers go through here, so that a plan made in the browser is
// the plan the command line prints.
//
// Errors: ResolvePlan returns the loader's or catalog's error (unknown model or GPU, a config.json
// missing a field, a precision the GPU cannot run: InvalidArgument) and names the input at fault
// in `*member` ("model", "gpu", "precision", "network", "shape"); the kernel table's error (a
// missing or malformed data/planner/kernel_efficiency.yaml, no row for the GPU's architecture)
// names "gpu". Warnings of the model loader
// stay in ResolvedPlan::model.warnings for the caller to show.
// Thread safety: pure functions (they read the data directory).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "hw/catalog.h"
#include "planner/fabric.h"
#include "planner/kernel_efficiency.h"
#include "planner/model_loader.h"
#include "planner/model_spec.h"

namespace gpupool::planner {

struct PlanInputs {
  std::string model;  // preset name, config.json path, or a folder with one
  std::string gpu = "H100";
  std::string precision = "auto";  // auto|bf16|fp16|fp8|int8|int4
  std::string network{kDefaultNetwork};
  int gpus_per_node = 0;  // 0: 8 (72 for GB200 NVL72)
  ShapeOverrides shape;
};

struct ResolvedPlan {
  ModelSpec model;
  const hw::GpuModel* gpu = nullptr;
  const hw::Catalog* catalog = nullptr;
  Fabric fabric;
  hw::Precision precision = hw::Precision::kBf16;        // training
  hw::Precision infer_precision = hw::Precision::kBf16;  // serving: the matmuls' rate
  bool checkpoint_weights = false;  // serving prices the checkpoint's own quantisation
  // The kernel table's row for the GPU's architecture (data/planner/kernel_efficiency.yaml), which
  // training and serving estimates take as their efficiencies.
  KernelEfficiency kernels;
};

// "auto" precision: serve the weights as the checkpoint's quantization_config stores them (FP8
// checkpoints at the FP8 rate), else bf16; train in bf16. `models_dir`: the presets' folder.
Result<ResolvedPlan> ResolvePlan(const PlanInputs& in, const std::filesystem::path& models_dir,
                                 std::string* member = nullptr);
// The same for a model already loaded (a config.json given inline): `in.model` is not read.
Result<ResolvedPlan> ResolvePlan(ModelSpec model, const PlanInputs& in,
                                 std::string* member = nullptr);

// The scheduler's job request for a plan of `gpus` GPUs whose tensor-parallel groups are `tp`
// wide: a gang of one replica per node of the plan's fabric (cluster::SplitIntoGang keeps a TP
// group inside a node), e.g. 64 GPUs on 8-GPU nodes -> "replicas": 8, "num_gpu": 8. The
// gpu_memory_mib is per GPU, so it is the same for every replica. "replicas" is left out when it
// is 1, so a one-node request reads exactly as before gangs. InvalidArgument when the GPUs cannot
// be split so.
Result<nlohmann::json> PlanJobRequest(int gpus, int tp, const ResolvedPlan& r, double gib_per_gpu);

}  // namespace gpupool::planner

// JSON forms of the planner's answers (`gpupool plan ... --json`) and of the job request handed to
// the scheduler (`--emit-request`). The member names and units are a stable interface, documented
// in docs/planner.md; add members, never rename or drop them.
//
// Units: *_gib are GiB (2^30 bytes), *_bytes bytes, *_seconds seconds, *_ms milliseconds, rates per
// second, mfu/hfu fractions in [0, 1].
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "hw/catalog.h"
#include "planner/comm_model.h"
#include "planner/inference_estimate.h"
#include "planner/layout_search.h"
#include "planner/model_spec.h"
#include "planner/training_estimate.h"

namespace gpupool::planner {

nlohmann::json ModelJson(const ModelSpec& model);
nlohmann::json LayoutJson(const Layout& layout);
// The links an estimate used: {"scale_up", "scale_out"} each {name, bandwidth_gbs (per direction),
// achievable_fraction, latency_us (per collective step)}, and gpus_per_node.
nlohmann::json LinkJson(const LinkTier& tier);
nlohmann::json FabricJson(const Fabric& fabric);
nlohmann::json InferJson(const ModelSpec& model, const hw::GpuModel& gpu, const InferOptions& o,
                         const InferEstimate& e);
nlohmann::json TrainJson(const ModelSpec& model, const hw::GpuModel& gpu, const TrainOptions& o,
                         const TrainEstimate& e);

// The scheduler's job request: {"num_gpu", "gpu_milli": 1000, "gpu_models": [name],
// "gpu_memory_mib"}; gpu_memory_mib is the per-GPU need rounded up to a MiB.
nlohmann::json JobRequestJson(int num_gpu, const std::string& gpu_model, double gib_per_gpu);

}  // namespace gpupool::planner

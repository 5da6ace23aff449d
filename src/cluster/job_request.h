// The job request as JSON: what `gpupool plan ... --emit-request` prints and what the scheduler
// reads (later the service's submit endpoint too).
//
//   {"num_gpu": 4, "gpu_milli": 1000, "gpu_models": ["H100-SXM"], "gpu_memory_mib": 19769,
//    "cpu_milli": 32000, "memory_mib": 262144}
//
// Every member is optional except num_gpu; gpu_milli defaults to 1000 when num_gpu > 0;
// gpu_models empty or absent = any model. Errors name the member ("gpu_models[1]: unknown GPU
// model 'H300' (the cluster has: ...)") and nothing is returned on error.
#pragma once

#include <nlohmann/json.hpp>

#include "cluster/model_table.h"
#include "cluster/pod_request.h"
#include "common/status.h"

namespace gpupool::cluster {

Result<PodRequest> ParseJobRequest(const nlohmann::json& j, const ModelTable& models);

}  // namespace gpupool::cluster

// GPU readings in the Prometheus text exposition format (version 0.0.4), with metric names in the
// spirit of NVIDIA's DCGM exporter (DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_FB_USED, ...) so dashboards
// built for it work unchanged. Every series carries the labels gpu (index), uuid and model; each
// family has HELP and TYPE lines. A reading that is N/A is left out; a lost GPU exports only
// gpupool_gpu_lost 1. The service serves FormatPrometheus at /metrics; `gpupool smi --prometheus`
// prints it.
//
// Thread safety: stateless functions.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "discovery/gpu_info.h"
#include "discovery/nvml_library.h"

namespace gpupool::discovery {

std::string FormatPrometheus(const std::vector<GpuSample>& samples);

// Samples NVML and formats the result (what /metrics calls).
Result<std::string> CollectPrometheusMetrics(const NvmlLibrary& nvml);

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabelValue(const std::string& value);

}  // namespace gpupool::discovery

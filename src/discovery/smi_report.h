// What `gpupool smi` shows: one reading of the node (SmiView) and its renderings: the table (one
// line per GPU, then the processes, like nvidia-smi), the JSON document, and the topology matrix
// (like `nvidia-smi topo -m`). Rendering is pure; only ReadSmiView talks to NVML.
//
// Missing values render as "N/A" (table) or null (JSON). A lost GPU keeps its line, with its error.
// Thread safety: stateless functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "discovery/gpu_info.h"
#include "discovery/nvml_discovery.h"
#include "discovery/nvml_library.h"
#include "discovery/topology.h"

namespace gpupool::discovery {

struct SmiView {
  DriverInfo driver;
  std::vector<GpuDevice> devices;  // by index
  std::vector<GpuSample> samples;  // by index, same length as devices
  Topology topology;               // empty unless asked for
};

Result<SmiView> ReadSmiView(const NvmlLibrary& nvml, bool with_topology,
                            const DiscoveryOptions& options = {});

std::string FormatSmiTable(const SmiView& view);
nlohmann::ordered_json SmiJson(const SmiView& view);
// The GPU x GPU matrix with CPU and NUMA affinity columns, then the legend.
std::string FormatTopologyMatrix(const SmiView& view);

// Lays out rows as left-aligned columns separated by two spaces (first row: header).
std::string FormatColumns(const std::vector<std::vector<std::string>>& rows);

}  // namespace gpupool::discovery

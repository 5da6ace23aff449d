// Reading GPUs through an initialised NvmlLibrary: what they are (DiscoverGpus), how they connect
// (DiscoverTopology), how they are doing (SampleGpus), and the whole node (DiscoverNode).
//
// Per-GPU failures do not fail the call: a GPU answering NVML_ERROR_GPU_IS_LOST (or needing a
// reset) keeps its index and gets GpuDevice::error / GpuSample::error, and the other GPUs are still
// read. A field whose call fails otherwise (NVML_ERROR_NOT_SUPPORTED, no permission, an entry
// point the driver lacks) is left empty and shows as "N/A". Only a failure to count the GPUs fails
// the whole call (kUnavailable).
//
// Thread safety: as NVML itself (thread-safe); the functions keep no state.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "discovery/gpu_info.h"
#include "discovery/host_probe.h"
#include "discovery/node_inventory.h"
#include "discovery/nvml_library.h"
#include "discovery/topology.h"

namespace gpupool::discovery {

struct DiscoveryOptions {
  HostPaths host;  // /proc and /sys roots (sysfs also gives a GPU's NUMA node when NVML cannot)
};

DriverInfo ReadDriverInfo(const NvmlLibrary& nvml);

Result<std::vector<GpuDevice>> DiscoverGpus(const NvmlLibrary& nvml,
                                            const DiscoveryOptions& options = {});

// Pairwise links for the GPUs `DiscoverGpus` returned (lost GPUs get N/A links).
Topology DiscoverTopology(const NvmlLibrary& nvml, const std::vector<GpuDevice>& gpus);

Result<std::vector<GpuSample>> SampleGpus(const NvmlLibrary& nvml);

// Driver, GPUs, topology and host facts. Host probing failing is an error (kIoError).
Result<NodeInventory> DiscoverNode(const NvmlLibrary& nvml, const DiscoveryOptions& options = {});

// "0-3,8,10-11" for a CPU mask given as NVML words (bit i of word w = CPU w*bits+i).
std::string CpuListString(const std::vector<unsigned long>& mask);

}  // namespace gpupool::discovery

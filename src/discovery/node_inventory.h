// NodeInventory: everything discovery learnt about one machine (driver, host, GPUs, topology), its
// conversion to the scheduler's cluster::NodeSpec, and the inventory file (JSON) that
// `gpupool smi --inventory FILE` writes and the service reads.
//
// Inventory file format (version 1), all members written, unknown members ignored on read:
//   {"format": "gpupool-inventory", "version": 1, "hostname": "...",
//    "driver": {"driver_version", "nvml_version", "cuda_version"},
//    "host": {"cpu_count", "memory_mib", "nics": [{"name", "port", "link_layer", "state",
//             "rate_gbps", "kind"}]},
//    "gpus": [{"index", "uuid", "name", "model", "error", "memory_total_mib", "pci_bus_id",
//              "compute_capability", "mig_enabled", "mig_instances", "numa_node", "cpu_affinity",
//              "power_limit_w"}],
//    "topology": [["X", "NV4", ...], ...], "nvlink_islands": [[0, 1], ...]}
// Unknown values are JSON null.
//
// Errors: reading returns kIoError (cannot open) or kInvalidArgument naming the file and member.
// Thread safety: plain values and stateless functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cluster/node_spec.h"
#include "common/status.h"
#include "discovery/gpu_info.h"
#include "discovery/host_probe.h"
#include "discovery/topology.h"

namespace gpupool::discovery {

struct NodeInventory {
  std::string hostname;
  DriverInfo driver;
  HostInfo host;
  std::vector<GpuDevice> gpus;
  Topology topology;
};

// GPUs that are lost are left out (the scheduler must not place work on them); NVLink islands are
// renumbered to the kept GPUs' positions. NICs with an unknown link layer are left out.
// A GPU in MIG mode carries its instances, each with its profile ("3g.40gb", the tail of
// NVML's instance name after "MIG "), memory (0 when unknown) and UUID.
cluster::NodeSpec ToNodeSpec(const NodeInventory& inventory);

nlohmann::ordered_json InventoryToJson(const NodeInventory& inventory);
// `origin` names the source in error messages ("inventory.json").
Result<NodeInventory> InventoryFromJson(const nlohmann::json& json, const std::string& origin);

Status WriteInventoryFile(const NodeInventory& inventory, const std::string& path);
Result<NodeInventory> ReadInventoryFile(const std::string& path);

}  // namespace gpupool::discovery

// ClusterInventory: the cluster inventory file, a YAML description of the whole pool
// (`gpupool serve --inventory FILE`), read into the scheduler's cluster::NodeSpecs. It describes
// nodes that NVML discovery does not see: a test or demo pool (`simulated: true`), or machines
// listed by hand. data/inventory/demo.yaml is the shipped example.
//
//   # gpupool cluster inventory
//   simulated: true               # optional, default false
//   nodes:                        # required, at least one entry
//     - name: h100                # required: letters, digits, '.', '_', '-'
//       count: 2                  # optional: h100-0, h100-1 (with count, always suffixed)
//       gpu_model: H100           # required: a catalog name or alias (hw::Catalog::FindGpu)
//       gpus: 8                   # required: 1..cluster::kMaxGpusPerNode (16)
//       gpu_memory_mib: 81559     # optional: default the catalog's memory_gib x 1024, rounded down
//       cpu: 224                  # cores (whole), or cpu_milli: 224000; exactly one is required
//       memory: 2048Gi            # or memory_mib: 2097152; exactly one is required
//       nvlink_islands: [[0,1,2,3,4,5,6,7]]   # optional; or nvlink: all | none
//       nics: [{name: mlx5_0, kind: infiniband, rate_gbps: 400}]   # optional
//       mig:                      # optional: the GPUs in MIG mode, by index, with their instances
//         - {gpu: 1, instances: [3g.40gb, 2g.20gb, {profile: 1g.10gb, memory_mib: 9856}]}
//
// Units. `memory` is a whole number with a unit, no space: Ti, Gi, Mi are binary (2^40, 2^30,
// 2^20 bytes), T, G, M are decimal (10^12, 10^9, 10^6 bytes), as in Kubernetes quantities; the
// result is in MiB, rounded down (1G = 10^9 / 2^20 = 953.67 -> 953 MiB). A bare number is refused
// (MiB or GiB?); write memory_mib for MiB. NIC kinds: ethernet, roce, infiniband.
//
// MIG. A GPU listed in `mig` is in MIG mode (GpuSpec::mig_enabled; the scheduler places no job
// on it). Each instance is a profile "<N>g.<M>gb" (an optional "+me" suffix allowed), with N the
// compute slices (1..kMaxMigSlices, and the instances of one GPU together at most
// kMaxMigSlices), or {profile:, memory_mib:}; memory_mib defaults to the profile's nominal M x
// 1024 (3g.40gb -> 40960; nvidia-smi reports a little less). `instances: []` is a GPU in MIG mode
// with no instances made yet. Instance UUIDs are "MIG-sim-<node>-<gpu>-<k>".
//
// Results. One NodeSpec per node after count expansion, in file order. Every GPU carries the
// catalog's canonical model name, its memory, numa_node -1 and the UUID "GPU-sim-<node>-<index>"
// (stable across restarts, so a job's GPU ids survive a restart of the service). nvlink: all is one
// island of every GPU; nvlink: none and an absent nvlink both give no islands (NodeSpec cannot tell
// "none" from "unknown").
//
// Errors: INVALID_ARGUMENT "FILE:LINE: nodes[i] NAME: FIELD: what" (the line is yaml-cpp's mark of
// the member at fault, 1-based) for: an unknown member (listing the known ones), a repeated member,
// a wrong type, a missing required member, a count, gpus, cpu, memory or rate that is zero or
// negative, more GPUs than kMaxGpusPerNode, an island with a GPU index out of range or a GPU in two
// islands (or twice in one), both nvlink and nvlink_islands, a duplicate node name after count
// expansion, an unknown GPU model (listing close catalog names); in `mig` ("mig[i]: member" or
// "mig[i]: instances[k]"), a GPU index out of range or listed twice, a profile not of the form
// above, instances taking more than kMaxMigSlices compute slices. NOT_FOUND / IO_ERROR when the
// file is missing or unreadable; the catalog's own load error when the catalog cannot be loaded.
// Nothing is returned on error.
//
// Thread safety: stateless functions; the catalog is only read.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/node_spec.h"
#include "common/status.h"
#include "hw/catalog.h"

namespace gpupool::discovery {

// Most nodes one entry's `count` may expand to.
inline constexpr int kMaxNodeCount = 65536;
// Most MIG compute slices one GPU has (A100 and H100 have 7; 8 leaves room for a larger part).
inline constexpr int kMaxMigSlices = 8;

struct ClusterInventory {
  // True: the GPUs are described, not discovered (a demo or simulated pool; nothing runs on them).
  bool simulated = false;
  std::vector<cluster::NodeSpec> nodes;
};

// `origin` names the text in error messages (usually the file's path). The GPU models are resolved
// against `catalog`; the overloads without one use hw::Catalog::Default() (data/hw).
Result<ClusterInventory> ParseClusterInventory(std::string_view yaml_text,
                                               const std::string& origin,
                                               const hw::Catalog& catalog);
Result<ClusterInventory> ParseClusterInventory(std::string_view yaml_text,
                                               const std::string& origin);

// Reads and parses `file`; errors name it as given.
Result<ClusterInventory> ReadClusterInventory(const std::filesystem::path& file,
                                              const hw::Catalog& catalog);
Result<ClusterInventory> ReadClusterInventory(const std::filesystem::path& file);

}  // namespace gpupool::discovery

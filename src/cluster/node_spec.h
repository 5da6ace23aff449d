// NodeSpec: the description of one machine of the pool, as a trace, an inventory file or GPU
// discovery (NVML) reports it. Descriptive only: the accounting state the scheduler updates lives
// in ClusterState (cluster/cluster_state.h), built from a list of NodeSpecs.
//
// Units are integers: milli-CPU (1000 = one core), MiB, milli-GPU (1000 = one whole GPU).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gpupool::cluster {

// Most GPUs one node may hold (the hot path keeps per-node GPU state in fixed arrays).
inline constexpr int kMaxGpusPerNode = 16;

// One MIG instance of a GPU in MIG mode, as NVML or an inventory file describes it.
struct MigInstanceSpec {
  std::string profile;          // "3g.40gb": <N>g = compute slices, <M>gb = memory
  std::int64_t memory_mib = 0;  // 0 = unknown
  std::string uuid;             // "MIG-..."; empty when unknown

  friend bool operator==(const MigInstanceSpec&, const MigInstanceSpec&) = default;
};

struct GpuSpec {
  std::string model;            // catalog name where known ("H100-SXM"), else the raw name ("G2")
  std::int64_t memory_mib = 0;  // 0 = unknown (openb traces do not carry it)
  std::string uuid;             // empty for traces
  int numa_node = -1;           // -1 = unknown
  // MIG mode is on (false also when unknown or the GPU has no MIG; traces never have it). A GPU
  // in MIG mode takes no new work: gpupool does not place jobs on MIG instances yet
  // (ClusterState keeps it out of placement).
  bool mig_enabled = false;
  std::vector<MigInstanceSpec> mig_instances{};  // its instances, by MIG device index
};

enum class FabricKind { kNone, kEthernet, kRoCE, kInfiniBand };

struct NicSpec {
  std::string name;  // "mlx5_0"
  FabricKind kind = FabricKind::kNone;
  double rate_gbps = 0;  // link rate, Gbit/s
};

struct NodeSpec {
  std::string name;
  std::int64_t cpu_milli = 0;
  std::int64_t memory_mib = 0;
  std::vector<GpuSpec> gpus;
  // GPU indices that share an NVLink/NVSwitch domain inside the node; GPUs in no island talk over
  // PCIe. Empty when unknown.
  std::vector<std::vector<int>> nvlink_islands;
  std::vector<NicSpec> nics;
};

}  // namespace gpupool::cluster

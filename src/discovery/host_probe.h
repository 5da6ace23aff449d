// Host facts read from procfs and sysfs: hostname, logical CPUs, memory, and the InfiniBand /
// RoCE NICs under /sys/class/infiniband. The roots are parameters so tests can point them at a
// directory tree they wrote.
//
// Errors: kIoError when /proc/cpuinfo or /proc/meminfo cannot be read or parsed. Missing
// /sys/class/infiniband is not an error (a node without RDMA NICs has no such directory).
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/node_spec.h"
#include "common/status.h"

namespace gpupool::discovery {

struct HostPaths {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
};

struct NicInfo {
  std::string name;        // "mlx5_0"
  int port = 1;            // first port that reports; RDMA devices usually have one
  std::string link_layer;  // "InfiniBand" or "Ethernet" (= RoCE on an RDMA device)
  std::string state;       // "ACTIVE", "DOWN", ... (from "4: ACTIVE")
  double rate_gbps = 0;    // from "400 Gb/sec (4X NDR)"
  cluster::FabricKind kind = cluster::FabricKind::kNone;
};

struct HostInfo {
  std::string hostname;
  int cpu_count = 0;            // logical CPUs ("processor" entries in /proc/cpuinfo)
  std::int64_t memory_mib = 0;  // MemTotal
  std::vector<NicInfo> nics;    // sorted by name
};

Result<HostInfo> ProbeHost(const HostPaths& paths = {});

// The RDMA NICs alone (empty when the sysfs class does not exist).
std::vector<NicInfo> ProbeRdmaNics(const std::string& sys_root);

// "400 Gb/sec (4X NDR)" -> 400; 0 when unparsable.
double ParseRateGbps(const std::string& rate);

}  // namespace gpupool::discovery

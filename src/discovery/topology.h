// Topology: how each pair of GPUs in a node is connected, in the vocabulary of `nvidia-smi topo
// -m`: NV<n> (n NVLink links, directly or through NVSwitch), else the PCIe path: PIX (one PCIe
// switch), PXB (several PCIe switches, no host bridge), PHB (through a host bridge / CPU root
// complex), NODE (across host bridges within one NUMA node), SYS (across sockets, over the CPU
// interconnect).
//
// Building it is pure (BuildTopology takes what NVML reported); reading NVML lives in
// nvml_discovery.h. NVLink islands are the connected components of the NVLink graph: the GPU sets
// the scheduler may treat as one fast domain.
// Thread safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpupool::discovery {

enum class LinkKind { kSelf, kNvLink, kPix, kPxb, kPhb, kNode, kSys, kUnknown };

struct GpuLink {
  LinkKind kind = LinkKind::kUnknown;
  int nvlinks = 0;  // for kNvLink: the number of links between the two GPUs

  bool operator==(const GpuLink&) const = default;
};

// "X", "NV4", "PIX", "PXB", "PHB", "NODE", "SYS", "N/A".
std::string LinkLabel(const GpuLink& link);
// Inverse of LinkLabel; nullopt for text it does not know.
std::optional<GpuLink> ParseLinkLabel(std::string_view label);

// nvmlGpuTopologyLevel_t value -> PCIe link kind (INTERNAL and SINGLE are PIX).
LinkKind LinkKindFromNvmlLevel(int level);

struct Topology {
  // links[i][j] for GPU indices i, j; symmetric, kSelf on the diagonal. Empty when unknown.
  std::vector<std::vector<GpuLink>> links;

  int gpu_count() const { return static_cast<int>(links.size()); }
};

// What NVML told about one GPU, the input of BuildTopology.
struct GpuLinkReport {
  std::string bus_id;                      // this GPU's PCI bus id
  std::vector<std::string> nvlink_remote;  // remote bus id of each active NVLink link
};

// Builds the matrix. pcie_level[i][j] is an NVML topology level (nullopt: unknown). A link whose
// remote bus id is not one of the GPUs goes to an NVSwitch; two GPUs that both reach NVSwitches
// are connected with min(links_i, links_j) links, as on HGX boards. Bus ids compare
// case-insensitively.
Topology BuildTopology(const std::vector<GpuLinkReport>& gpus,
                       const std::vector<std::vector<std::optional<int>>>& pcie_level);

// Connected components of the NVLink graph with at least two GPUs, each sorted, ordered by their
// smallest index.
std::vector<std::vector<int>> NvlinkIslands(const Topology& topology);

}  // namespace gpupool::discovery

#include "discovery/topology.h"

#include <algorithm>
#include <charconv>

#include "common/strings.h"

namespace gpupool::discovery {

std::string LinkLabel(const GpuLink& link) {
  switch (link.kind) {
    case LinkKind::kSelf:
      return "X";
    case LinkKind::kNvLink:
      return "NV" + std::to_string(link.nvlinks);
    case LinkKind::kPix:
      return "PIX";
    case LinkKind::kPxb:
      return "PXB";
    case LinkKind::kPhb:
      return "PHB";
    case LinkKind::kNode:
      return "NODE";
    case LinkKind::kSys:
      return "SYS";
    case LinkKind::kUnknown:
      return "N/A";
  }
  return "N/A";
}

std::optional<GpuLink> ParseLinkLabel(std::string_view label) {
  if (label == "X") return GpuLink{LinkKind::kSelf, 0};
  if (label == "PIX") return GpuLink{LinkKind::kPix, 0};
  if (label == "PXB") return GpuLink{LinkKind::kPxb, 0};
  if (label == "PHB") return GpuLink{LinkKind::kPhb, 0};
  if (label == "NODE") return GpuLink{LinkKind::kNode, 0};
  if (label == "SYS") return GpuLink{LinkKind::kSys, 0};
  if (label == "N/A") return GpuLink{LinkKind::kUnknown, 0};
  if (label.size() > 2 && label.substr(0, 2) == "NV") {
    int n = 0;
    const char* begin = label.data() + 2;
    const char* end = label.data() + label.size();
    auto [ptr, ec] = std::from_chars(begin, end, n);
    if (ec == std::errc() && ptr == end && n > 0) return GpuLink{LinkKind::kNvLink, n};
  }
  return std::nullopt;
}

LinkKind LinkKindFromNvmlLevel(int level) {
  // nvmlGpuTopologyLevel_t: INTERNAL 0, SINGLE 10, MULTIPLE 20, HOSTBRIDGE 30, NODE 40, SYSTEM 50.
  if (level <= 10) return LinkKind::kPix;
  if (level <= 20) return LinkKind::kPxb;
  if (level <= 30) return LinkKind::kPhb;
  if (level <= 40) return LinkKind::kNode;
  return LinkKind::kSys;
}

Topology BuildTopology(const std::vector<GpuLinkReport>& gpus,
                       const std::vector<std::vector<std::optional<int>>>& pcie_level) {
  const int n = static_cast<int>(gpus.size());
  std::vector<std::string> bus(gpus.size());
  for (int i = 0; i < n; ++i) bus[i] = Upper(gpus[i].bus_id);

  // direct[i][j]: links from i whose remote is GPU j; to_switch[i]: links to anything else.
  std::vector<std::vector<int>> direct(gpus.size(), std::vector<int>(gpus.size(), 0));
  std::vector<int> to_switch(gpus.size(), 0);
  for (int i = 0; i < n; ++i) {
    for (const std::string& remote : gpus[i].nvlink_remote) {
      const std::string r = Upper(remote);
      auto it = std::find(bus.begin(), bus.end(), r);
      if (it == bus.end() || r.empty()) {
        ++to_switch[i];
      } else if (it - bus.begin() != i) {
        ++direct[i][it - bus.begin()];
      }
    }
  }

  Topology topo;
  topo.links.assign(gpus.size(), std::vector<GpuLink>(gpus.size()));
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      GpuLink& link = topo.links[i][j];
      if (i == j) {
        link = {LinkKind::kSelf, 0};
        continue;
      }
      // Each side reports its own end of a direct link; take the larger count so that one side
      // failing to report a link does not hide it.
      const int nv = std::max(direct[i][j], direct[j][i]) + std::min(to_switch[i], to_switch[j]);
      if (nv > 0) {
        link = {LinkKind::kNvLink, nv};
        continue;
      }
      std::optional<int> level;
      if (i < static_cast<int>(pcie_level.size()) && j < static_cast<int>(pcie_level[i].size())) {
        level = pcie_level[i][j];
      }
      if (!level && j < static_cast<int>(pcie_level.size()) &&
          i < static_cast<int>(pcie_level[j].size())) {
        level = pcie_level[j][i];
      }
      link = level ? GpuLink{LinkKindFromNvmlLevel(*level), 0} : GpuLink{LinkKind::kUnknown, 0};
    }
  }
  return topo;
}

std::vector<std::vector<int>> NvlinkIslands(const Topology& topology) {
  const int n = topology.gpu_count();
  std::vector<int> component(topology.links.size(), -1);
  std::vector<std::vector<int>> islands;
  for (int start = 0; start < n; ++start) {
    if (component[start] != -1) continue;
    std::vector<int> members;
    std::vector<int> stack = {start};
    component[start] = start;
    while (!stack.empty()) {
      const int g = stack.back();
      stack.pop_back();
      members.push_back(g);
      for (int h = 0; h < n; ++h) {
        if (component[h] == -1 && topology.links[g][h].kind == LinkKind::kNvLink) {
          component[h] = start;
          stack.push_back(h);
        }
      }
    }
    if (members.size() >= 2) {
      std::sort(members.begin(), members.end());
      islands.push_back(std::move(members));
    }
  }
  return islands;  // already ordered by smallest index: components are started in index order
}

}  // namespace gpupool::discovery

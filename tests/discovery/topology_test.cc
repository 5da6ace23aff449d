#include "discovery/topology.h"

#include <gtest/gtest.h>

namespace gpupool::discovery {
namespace {

GpuLink NV(int n) { return {LinkKind::kNvLink, n}; }

TEST(TopologyTest, LabelsRoundTrip) {
  for (const char* label : {"X", "NV1", "NV18", "PIX", "PXB", "PHB", "NODE", "SYS", "N/A"}) {
    auto link = ParseLinkLabel(label);
    ASSERT_TRUE(link.has_value()) << label;
    EXPECT_EQ(LinkLabel(*link), label);
  }
  EXPECT_FALSE(ParseLinkLabel("NV").has_value());
  EXPECT_FALSE(ParseLinkLabel("NV0").has_value());
  EXPECT_FALSE(ParseLinkLabel("QPI").has_value());
}

TEST(TopologyTest, NvmlLevelsMapToPciePaths) {
  EXPECT_EQ(LinkKindFromNvmlLevel(0), LinkKind::kPix);   // INTERNAL
  EXPECT_EQ(LinkKindFromNvmlLevel(10), LinkKind::kPix);  // SINGLE switch
  EXPECT_EQ(LinkKindFromNvmlLevel(20), LinkKind::kPxb);  // MULTIPLE switches
  EXPECT_EQ(LinkKindFromNvmlLevel(30), LinkKind::kPhb);  // HOSTBRIDGE
  EXPECT_EQ(LinkKindFromNvmlLevel(40), LinkKind::kNode);
  EXPECT_EQ(LinkKindFromNvmlLevel(50), LinkKind::kSys);
}

TEST(TopologyTest, DirectLinksCountedPerPairAndPcieElsewhere) {
  // GPU0 <-> GPU1: 2 links seen from both sides -> NV2. GPU2 reports one link to GPU0 that GPU0
  // does not report back -> NV1 (the larger side wins). GPU3 has none: PCIe levels apply.
  std::vector<GpuLinkReport> gpus = {
      {"00000000:01:00.0", {"00000000:02:00.0", "00000000:02:00.0"}},
      {"00000000:02:00.0", {"00000000:01:00.0", "00000000:01:00.0"}},
      {"00000000:03:00.0", {"00000000:01:00.0"}},
      {"00000000:04:00.0", {}},
  };
  std::vector<std::vector<std::optional<int>>> levels(4, std::vector<std::optional<int>>(4));
  levels[0][3] = 30;  // PHB
  levels[1][3] = 40;  // NODE
  levels[2][3] = 50;  // SYS
  levels[1][2] = 20;  // ignored: NVLink beats PCIe only where links exist; GPU1-GPU2 has none
  Topology t = BuildTopology(gpus, levels);
  EXPECT_EQ(t.links[0][0].kind, LinkKind::kSelf);
  EXPECT_EQ(t.links[0][1], NV(2));
  EXPECT_EQ(t.links[1][0], NV(2));
  EXPECT_EQ(t.links[0][2], NV(1));
  EXPECT_EQ(t.links[2][0], NV(1));
  EXPECT_EQ(LinkLabel(t.links[1][2]), "PXB");
  EXPECT_EQ(LinkLabel(t.links[3][0]), "PHB");  // level read from the other triangle
  EXPECT_EQ(LinkLabel(t.links[3][1]), "NODE");
  EXPECT_EQ(LinkLabel(t.links[2][3]), "SYS");
}

TEST(TopologyTest, BusIdsCompareCaseInsensitively) {
  std::vector<GpuLinkReport> gpus = {{"00000000:AB:00.0", {"00000000:cd:00.0"}},
                                     {"00000000:CD:00.0", {"00000000:ab:00.0"}}};
  Topology t = BuildTopology(gpus, {});
  EXPECT_EQ(t.links[0][1], NV(1));
}

TEST(TopologyTest, NvSwitchLinksConnectEveryPairWithTheSmallerLinkCount) {
  // Remote bus ids that are no GPU are NVSwitches: GPU0 has 18 switch links, GPU1 18, GPU2 4.
  // 0-1: min(18,18) = NV18; 0-2 and 1-2: min(18,4) = NV4.
  const std::vector<std::string> eighteen(18, "00000000:05:00.0");
  const std::vector<std::string> four(4, "00000000:06:00.0");
  std::vector<GpuLinkReport> gpus = {
      {"00000000:10:00.0", eighteen}, {"00000000:20:00.0", eighteen}, {"00000000:30:00.0", four}};
  Topology t = BuildTopology(gpus, {});
  EXPECT_EQ(t.links[0][1], NV(18));
  EXPECT_EQ(t.links[0][2], NV(4));
  EXPECT_EQ(t.links[2][1], NV(4));
}

TEST(TopologyTest, IslandsAreConnectedComponentsOfTheNvlinkGraph) {
  // 0-1 and 1-2 linked (chain), 3 alone, 4-5 linked: islands {0,1,2} {4,5}; 3 is in none.
  Topology t;
  t.links.assign(6, std::vector<GpuLink>(6, GpuLink{LinkKind::kSys, 0}));
  for (int i = 0; i < 6; ++i) t.links[i][i] = {LinkKind::kSelf, 0};
  auto link = [&](int a, int b) { t.links[a][b] = t.links[b][a] = NV(2); };
  link(0, 1);
  link(1, 2);
  link(5, 4);
  EXPECT_EQ(NvlinkIslands(t), (std::vector<std::vector<int>>{{0, 1, 2}, {4, 5}}));
}

TEST(TopologyTest, NoLinksNoIslands) {
  Topology t = BuildTopology({{"a", {}}, {"b", {}}}, {});
  EXPECT_TRUE(NvlinkIslands(t).empty());
  EXPECT_EQ(LinkLabel(t.links[0][1]), "N/A");  // no PCIe level known either
}

}  // namespace
}  // namespace gpupool::discovery

#include "planner/fabric.h"

#include <gtest/gtest.h>

#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

using testing::Catalog;

const hw::Interconnect& Link(std::string_view name) {
  auto l = Catalog().FindInterconnect(name);
  EXPECT_TRUE(l.has_value()) << name;
  return **l;
}

TEST(FabricTest, ScaleOutTierIsTheCatalogEntry) {
  // Bandwidth per direction and achievable fraction as the entry states them; alpha by kind.
  for (const char* name : {"IB-HDR", "IB-NDR", "RoCE-200G", "RoCE-400G"}) {
    const hw::Interconnect& ic = Link(name);
    auto t = ScaleOutTier(Catalog(), name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_EQ(t->name, ic.name);
    EXPECT_EQ(t->bandwidth_gbs, ic.bandwidth_gbs.value);
    EXPECT_EQ(t->achievable_fraction, ic.achievable_fraction);
  }
  EXPECT_EQ(ScaleOutTier(Catalog(), "IB-NDR")->latency_us, StepLatencyUs::kInfiniBand);
  EXPECT_EQ(ScaleOutTier(Catalog(), "RoCE-400G")->latency_us, StepLatencyUs::kRoce);
  // Aliases resolve to the canonical entry.
  EXPECT_EQ(ScaleOutTier(Catalog(), "ndr400")->name, "IB-NDR");
}

TEST(FabricTest, ScaleUpUsesTheGpusOwnFigure) {
  // H800: NVLink4 as a link, but cut to 400 GB/s both ways on this GPU -> 200 per direction.
  auto t = ScaleUpTier(Catalog(), testing::H800());
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->name, "NVLink4");
  EXPECT_EQ(t->bandwidth_gbs, testing::H800().scale_up_bandwidth_gbs.value / 2);
  EXPECT_EQ(t->achievable_fraction, Link("NVLink4").achievable_fraction);
  EXPECT_EQ(t->latency_us, StepLatencyUs::kScaleUp);
  // A GPU without a scale-up link: the PCIe entry of its generation.
  auto l4 = ScaleUpTier(Catalog(), testing::Gpu("L4"));
  ASSERT_TRUE(l4.has_value());
  EXPECT_EQ(l4->name, "PCIe4-x16");
  EXPECT_EQ(l4->bandwidth_gbs, Link("PCIe4-x16").bandwidth_gbs.value);
  EXPECT_EQ(l4->latency_us, StepLatencyUs::kPcie);
}

TEST(FabricTest, EveryCatalogGpuHasAFabric) {
  for (const hw::GpuModel& g : Catalog().gpus()) {
    auto f = CatalogFabric(Catalog(), g);
    ASSERT_TRUE(f.has_value()) << g.name << ": " << f.error().ToString();
    EXPECT_GT(f->scale_up.bandwidth_gbs, 0) << g.name;
    EXPECT_EQ(f->scale_out.name, std::string(kDefaultNetwork)) << g.name;
    EXPECT_EQ(f->gpus_per_node, g.name == "GB200" ? 72 : 8) << g.name;
  }
  EXPECT_EQ(CatalogFabric(Catalog(), testing::H100(), "IB-NDR", 4)->gpus_per_node, 4);
}

TEST(FabricTest, UnknownOrScaleUpNetworkIsBadInput) {
  auto unknown = ScaleOutTier(Catalog(), "Myrinet");
  ASSERT_FALSE(unknown.has_value());
  // The message lists the catalog's scale-out links.
  EXPECT_NE(unknown.error().message().find("RoCE-400G"), std::string::npos)
      << unknown.error().message();
  EXPECT_EQ(unknown.error().ExitCode(), 2);
  auto nvlink = ScaleOutTier(Catalog(), "NVLink4");
  ASSERT_FALSE(nvlink.has_value());
  EXPECT_EQ(nvlink.error().ExitCode(), 2);
}

}  // namespace
}  // namespace gpupool::planner

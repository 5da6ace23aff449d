// The hardware catalog is the one source of the figures `gpupool plan` uses: the program's
// printed fabric and estimate are compared with values computed here from the catalog entries
// themselves (data/hw/*.yaml). A second copy of a link or GPU figure anywhere on the program's path
// (a built-in table in the CLI, a default in a struct) makes these fail.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "planner/fabric.h"
#include "planner/gpu_rates.h"
#include "planner/training_estimate.h"
#include "planner_fixtures.h"
#include "testing/run_program.h"

namespace gpupool::planner {
namespace {

using testing::Catalog;

// Runs the gpupool binary on the same data directory the tests read, returns its JSON.
nlohmann::json PlanJson(std::vector<std::string> args) {
  setenv("GPUPOOL_DATA_DIR", GPUPOOL_SOURCE_DATA_DIR, 1);
  args.insert(args.begin(), "plan");
  args.push_back("--json");
  const ::gpupool::testing::ProgramRun r = ::gpupool::testing::RunGpupool(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

const hw::Interconnect& Link(const std::string& name) {
  auto l = Catalog().FindInterconnect(name);
  EXPECT_TRUE(l.has_value()) << name;
  return **l;
}

TEST(PlanCatalogTest, EveryScaleOutNetworkComesFromTheCatalog) {
  // Llama-3-70B on 64 H100, TP 8 x PP 2 x DP 4: TP inside a node (NVLink), DP across nodes.
  const hw::GpuModel h100 = testing::H100();
  const hw::Interconnect& nvlink = Link(h100.scale_up_link);
  int networks = 0;
  for (const hw::Interconnect& net : Catalog().interconnects()) {
    if (net.kind != hw::LinkKind::kScaleOut) continue;
    ++networks;
    const nlohmann::json j =
        PlanJson({"train", "--model", "llama-3-70b", "--gpu", "h100", "--gpus", "64", "--tp", "8",
                  "--pp", "2", "--tokens", "1e11", "--network", net.name});
    const nlohmann::json& out = j["fabric"]["scale_out"];
    const nlohmann::json& up = j["fabric"]["scale_up"];
    EXPECT_EQ(out["name"], net.name);
    EXPECT_EQ(out["bandwidth_gbs"].get<double>(), net.bandwidth_gbs.value) << net.name;
    EXPECT_EQ(out["achievable_fraction"].get<double>(), net.achievable_fraction) << net.name;
    // The H100's own NVLink figure (bidirectional) halved, the link entry's fraction.
    EXPECT_EQ(up["bandwidth_gbs"].get<double>(), h100.scale_up_bandwidth_gbs.value / 2);
    EXPECT_EQ(up["achievable_fraction"].get<double>(), nvlink.achievable_fraction);
    EXPECT_EQ(j["fabric"]["gpus_per_node"].get<int>(), 8);

    // The whole estimate equals the library's from a fabric built here from the raw entries.
    Fabric f;
    f.scale_up = LinkTier{nvlink.name, h100.scale_up_bandwidth_gbs.value / 2,
                          StepLatencyUs::kScaleUp, nvlink.achievable_fraction};
    const bool roce = net.name.rfind("RoCE", 0) == 0;
    f.scale_out =
        LinkTier{net.name, net.bandwidth_gbs.value,
                 roce ? StepLatencyUs::kRoce : StepLatencyUs::kInfiniBand, net.achievable_fraction};
    f.gpus_per_node = 8;
    TrainOptions o;
    o.gpus = 64;
    o.layout.tp = 8;
    o.layout.pp = 2;
    o.tokens = 1e11;
    o.fabric = f;
    o.kernels = testing::KernelsFor(h100);
    auto e = EstimateTraining(testing::Preset("llama-3-70b"), h100, o);
    ASSERT_TRUE(e.has_value()) << e.error().ToString();
    EXPECT_GT(e->inter_node_comm_seconds, 0.0) << "the case must cross nodes";
    EXPECT_DOUBLE_EQ(j["step_seconds"].get<double>(), e->step_seconds) << net.name;
    EXPECT_DOUBLE_EQ(j["inter_node_comm_seconds"].get<double>(), e->inter_node_comm_seconds);
    // MFU against the catalog's BF16 dense peak of the H100.
    const double peak = PeakTflops(h100, hw::Precision::kBf16).value_or(0) * 1e12;
    EXPECT_DOUBLE_EQ(j["mfu"].get<double>(),
                     e->model_flops_per_step / (peak * 64 * e->step_seconds));
  }
  EXPECT_GE(networks, 6);  // IB-HDR, IB-NDR, IB-XDR, RoCE-100G, RoCE-200G, RoCE-400G
}

TEST(PlanCatalogTest, AGpuWithoutNvlinkUsesTheCatalogsPcieEntry) {
  // L40S: no scale-up link, PCIe 4 -> the catalog's PCIe4-x16 entry inside the node.
  const hw::GpuModel l40s = testing::Gpu("L40S");
  ASSERT_TRUE(l40s.scale_up_link.empty());
  const hw::Interconnect& pcie = Link("PCIe" + std::to_string(l40s.pcie_gen) + "-x16");
  const nlohmann::json j =
      PlanJson({"infer", "--model", "llama-3-8b", "--gpu", "l40s", "--tp", "2"});
  EXPECT_EQ(j["fabric"]["scale_up"]["name"], pcie.name);
  EXPECT_EQ(j["fabric"]["scale_up"]["bandwidth_gbs"].get<double>(), pcie.bandwidth_gbs.value);
  EXPECT_EQ(j["fabric"]["scale_up"]["achievable_fraction"].get<double>(), pcie.achievable_fraction);
  EXPECT_EQ(j["fabric"]["scale_out"]["name"], std::string(kDefaultNetwork));
}

}  // namespace
}  // namespace gpupool::planner

#include "discovery/smi_report.h"

#include <gtest/gtest.h>

#include "discovery/fake_nvml_env.h"

namespace gpupool::discovery {
namespace {

using testing::OpenFake;

// Expected values come from tests/data/discovery/node4.json, read by hand.
class SmiReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto nvml = OpenFake("node4.json");
    ASSERT_TRUE(nvml.has_value()) << nvml.error().ToString();
    auto view = ReadSmiView(**nvml, /*with_topology=*/true);
    ASSERT_TRUE(view.has_value()) << view.error().ToString();
    view_ = std::move(*view);
  }

  // The table line that starts with `prefix`.
  static std::string LineStartingWith(const std::string& text, const std::string& prefix) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t end = text.find('\n', pos);
      const std::string line = text.substr(pos, end == std::string::npos ? end : end - pos);
      if (line.rfind(prefix, 0) == 0) return line;
      if (end == std::string::npos) break;
      pos = end + 1;
    }
    return "";
  }

  SmiView view_;
};

TEST_F(SmiReportTest, TableHasOneLinePerGpuThenProcesses) {
  const std::string table = FormatSmiTable(view_);
  EXPECT_EQ(table.rfind("Driver 550.54.15   CUDA 12.4   NVML 12.550.54.15\n", 0), 0u);
  const std::string g0 = LineStartingWith(table, "0 ");
  EXPECT_NE(g0.find("NVIDIA H100 80GB HBM3"), std::string::npos);
  EXPECT_NE(g0.find("H100-SXM"), std::string::npos);
  EXPECT_NE(g0.find("00000000:18:00.0"), std::string::npos);
  EXPECT_NE(g0.find("41C"), std::string::npos);
  EXPECT_NE(g0.find("313W / 700W"), std::string::npos);  // 312500 mW rounds to 313 W
  EXPECT_NE(g0.find("20480MiB / 81559MiB"), std::string::npos);
  EXPECT_NE(g0.find("87%"), std::string::npos);
  EXPECT_NE(g0.find("1980/2619"), std::string::npos);
  EXPECT_NE(g0.find("3/0"), std::string::npos);
  EXPECT_NE(g0.find("Off"), std::string::npos);
  EXPECT_NE(g0.find("none"), std::string::npos);

  const std::string g1 = LineStartingWith(table, "1 ");
  EXPECT_NE(g1.find("N/A / 700W"), std::string::npos);  // power draw not supported
  EXPECT_NE(g1.find("gpu_idle"), std::string::npos);

  const std::string g2 = LineStartingWith(table, "2 ");
  EXPECT_NE(g2.find("On (2)"), std::string::npos);
  EXPECT_NE(g2.find("sw_power_cap,hw_thermal_slowdown"), std::string::npos);  // 68 = 0x4 + 0x40
  // MIG devices get their own table: GPU, MIG index, GPU instance id, name, memory, UUID.
  EXPECT_NE(table.find("\nMIG devices:\n"), std::string::npos);
  EXPECT_NE(table.find("2    1    2   NVIDIA A100-SXM4-80GB MIG 3g.40gb  40192MiB  "
                       "MIG-aaaaaaaa-0000-0000-0000-000000000002\n"),
            std::string::npos)
      << table;

  EXPECT_NE(LineStartingWith(table, "3 ").find("ERROR"), std::string::npos);
  EXPECT_NE(LineStartingWith(table, "GPU 3: GPU is lost (NVML error 15)"), "");

  const std::string p = LineStartingWith(table, "0    4242");
  EXPECT_NE(p.find("python3"), std::string::npos);
  EXPECT_NE(p.find("12288MiB"), std::string::npos);
  EXPECT_NE(LineStartingWith(table, "0    4343").find("trainer"), std::string::npos);
}

TEST_F(SmiReportTest, JsonHasTheReadingsNullForNotSupportedAndTheLostGpuError) {
  const nlohmann::json j = SmiJson(view_);
  EXPECT_EQ(j["driver"]["cuda_version"], "12.4");
  ASSERT_EQ(j["gpus"].size(), 4u);
  const auto& g0 = j["gpus"][0];
  EXPECT_EQ(g0["uuid"], "GPU-11111111-aaaa-bbbb-cccc-000000000000");
  EXPECT_EQ(g0["model"], "H100-SXM");
  EXPECT_EQ(g0["pci_bus_id"], "00000000:18:00.0");
  EXPECT_EQ(g0["memory_total_mib"], 81559);
  EXPECT_EQ(g0["memory_used_mib"], 20480);
  EXPECT_EQ(g0["memory_free_mib"], 61079);  // 81559 - 20480
  EXPECT_EQ(g0["temperature_c"], 41);
  EXPECT_EQ(g0["power_draw_w"], 312.5);
  EXPECT_EQ(g0["power_limit_w"], 700.0);
  EXPECT_EQ(g0["compute_capability"], "9.0");
  EXPECT_EQ(g0["numa_node"], 0);
  EXPECT_TRUE(g0["error"].is_null());
  EXPECT_TRUE(j["gpus"][1]["power_draw_w"].is_null());
  EXPECT_EQ(j["gpus"][2]["throttle_reasons"],
            nlohmann::json::parse(R"(["sw_power_cap", "hw_thermal_slowdown"])"));
  EXPECT_EQ(j["gpus"][2]["mig_instances"].size(), 2u);
  EXPECT_NE(j["gpus"][3]["error"].get<std::string>().find("GPU is lost"), std::string::npos);
  EXPECT_TRUE(j["gpus"][3]["memory_used_mib"].is_null());
  ASSERT_EQ(j["processes"].size(), 2u);
  EXPECT_EQ(j["processes"][1]["pid"], 4343);
  EXPECT_EQ(j["processes"][1]["used_memory_mib"], 8192);
  EXPECT_EQ(j["topology"][0][1], "NV4");
  EXPECT_EQ(j["nvlink_islands"], nlohmann::json::parse("[[0,1]]"));
}

TEST_F(SmiReportTest, TopologyMatrixLikeNvidiaSmi) {
  const std::string m = FormatTopologyMatrix(view_);
  // Columns: GPU0..GPU3, CPU Affinity, NUMA Affinity.
  EXPECT_NE(m.find("      GPU0  GPU1  GPU2  GPU3  CPU Affinity  NUMA Affinity\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("GPU0  X     NV4   SYS   N/A   0-31          0\n"), std::string::npos) << m;
  EXPECT_NE(m.find("GPU2  SYS   SYS   X     N/A   32-63         1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("NVLink islands: {0,1}"), std::string::npos);
  EXPECT_NE(m.find("Legend:"), std::string::npos);
}

TEST(SmiReportPureTest, ColumnsAreLeftAlignedWithTwoSpaces) {
  EXPECT_EQ(FormatColumns({{"a", "bb", "c"}, {"ccc", "d", ""}}), "a    bb  c\nccc  d\n");
}

TEST(SmiReportPureTest, NoProcessesSaysSo) {
  SmiView view;
  GpuSample s;
  s.name = "NVIDIA L4";
  view.samples = {s};
  EXPECT_NE(FormatSmiTable(view).find("No running processes found"), std::string::npos);
}

}  // namespace
}  // namespace gpupool::discovery

// The real `gpupool` binary, end to end, against the fake NVML (or none at all).
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/run_command.h"
#include "discovery/fake_nvml_env.h"
#include "discovery/node_inventory.h"
#include "discovery/temp_dir.h"

namespace gpupool::discovery {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

class SmiCliTest : public ::testing::Test {
 protected:
  void UseFake(const std::string& script) {
    setenv("GPUPOOL_NVML_LIBRARY", FAKE_NVML_LIBRARY, 1);
    setenv("FAKE_NVML_SCRIPT", testing::ScriptPath(script).c_str(), 1);
  }
  void UseNoDriver() { setenv("GPUPOOL_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1); }
  void TearDown() override { unsetenv("GPUPOOL_NVML_LIBRARY"); }

  static CommandResult Gpupool(std::vector<std::string> args) {
    args.insert(args.begin(), GPUPOOL_BINARY);
    return RunCommand(args, 60000);
  }
};

TEST_F(SmiCliTest, NoDriverSaysSoAndExitsNonZero) {
  UseNoDriver();
  const CommandResult r = Gpupool({"smi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("gpupool smi: no NVIDIA driver found"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Install the NVIDIA driver"), std::string::npos);
  EXPECT_EQ(Gpupool({"smi", "topo"}).exit_code, 1);
  EXPECT_EQ(Gpupool({"smi", "--prometheus"}).exit_code, 1);
}

TEST_F(SmiCliTest, DriverNotLoadedAndVersionMismatchAreExplained) {
  UseFake("driver_not_loaded.json");
  CommandResult r = Gpupool({"smi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("modprobe nvidia"), std::string::npos) << r.output;
  UseFake("version_mismatch.json");
  r = Gpupool({"smi", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("Reboot"), std::string::npos) << r.output;
}

TEST_F(SmiCliTest, TableShowsEveryGpuAndTheLostOne) {
  UseFake("node4.json");
  const CommandResult r = Gpupool({"smi"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(r.output, "NVIDIA H100 80GB HBM3"), 2);
  EXPECT_NE(r.output.find("A100-SXM-80GB"), std::string::npos);
  EXPECT_NE(r.output.find("GPU 3: GPU is lost (NVML error 15)"), std::string::npos);
  EXPECT_NE(r.output.find("Processes:"), std::string::npos);
  EXPECT_NE(r.output.find("python3"), std::string::npos);
}

TEST_F(SmiCliTest, JsonTopoPrometheusAndWatch) {
  UseFake("node4.json");
  CommandResult r = Gpupool({"smi", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["gpus"].size(), 4u);
  EXPECT_EQ(j["gpus"][0]["memory_used_mib"], 20480);

  r = Gpupool({"smi", "topo"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("GPU0  X     NV4   SYS   N/A"), std::string::npos) << r.output;

  r = Gpupool({"smi", "topo", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.output)["nvlink_islands"], nlohmann::json::parse("[[0,1]]"));

  r = Gpupool({"smi", "--prometheus"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("# TYPE DCGM_FI_DEV_GPU_UTIL gauge"), std::string::npos);

  r = Gpupool({"smi", "--watch", "0.05", "--count", "3"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(Count(r.output, "gpupool smi   "), 3) << r.output;  // three refreshes, then stop

  r = Gpupool({"smi", "--json", "--watch", "0.05", "--count", "2"});
  EXPECT_EQ(Count(r.output, "\n"), 2);  // one JSON document per line
}

TEST_F(SmiCliTest, InventoryFileIsWrittenAndReadable) {
  UseFake("hgx4_nvswitch.json");
  testing::TempDir dir;
  const std::string path = (dir.path() / "inv.json").string();
  const CommandResult r = Gpupool({"smi", "--inventory", path});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 usable GPU(s) of 4, 1 NVLink island(s)"), std::string::npos)
      << r.output;
  auto inv = ReadInventoryFile(path);
  ASSERT_TRUE(inv.has_value()) << inv.error().ToString();
  const cluster::NodeSpec spec = ToNodeSpec(*inv);
  EXPECT_EQ(spec.gpus.size(), 4u);
  EXPECT_EQ(spec.gpus[0].model, "H200-SXM");
  EXPECT_EQ(spec.nvlink_islands, (std::vector<std::vector<int>>{{0, 1, 2, 3}}));
}

TEST_F(SmiCliTest, DriverWithoutGpusFails) {
  testing::TempDir dir;
  const std::string script = dir.Write("empty.json", R"({"gpus": []})");
  setenv("GPUPOOL_NVML_LIBRARY", FAKE_NVML_LIBRARY, 1);
  setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
  const CommandResult r = Gpupool({"smi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("NVML (driver 550.54.15) sees no GPU"), std::string::npos) << r.output;
  EXPECT_EQ(Gpupool({"smi", "topo"}).exit_code, 1);
}

TEST_F(SmiCliTest, BadFlagIsBadInput) {
  UseFake("node4.json");
  EXPECT_EQ(Gpupool({"smi", "--watch", "-1"}).exit_code, 2);
  EXPECT_EQ(Gpupool({"smi", "--json", "--prometheus"}).exit_code, 2);
}

TEST_F(SmiCliTest, DoctorWithoutDriverFails) {
  UseNoDriver();
  const CommandResult r = Gpupool({"doctor", "--json", "--python-timeout", "20"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["checks"][1]["name"], "nvml");
  EXPECT_EQ(j["checks"][1]["state"], "missing");
}

}  // namespace
}  // namespace gpupool::discovery

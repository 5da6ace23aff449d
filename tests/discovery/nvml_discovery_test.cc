#include "discovery/nvml_discovery.h"

#include <gtest/gtest.h>

#include "discovery/fake_nvml_env.h"
#include "discovery/temp_dir.h"

namespace gpupool::discovery {
namespace {

using testing::OpenFake;
using testing::TempDir;

// Expected values below come from tests/data/discovery/node4.json, read by hand.
class Node4Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto nvml = OpenFake("node4.json");
    ASSERT_TRUE(nvml.has_value()) << nvml.error().ToString();
    nvml_ = std::move(*nvml);
  }
  std::unique_ptr<NvmlLibrary> nvml_;
};

TEST_F(Node4Test, ReadsDriverVersions) {
  DriverInfo d = ReadDriverInfo(*nvml_);
  EXPECT_EQ(d.driver_version, "550.54.15");
  EXPECT_EQ(d.nvml_version, "12.550.54.15");
  EXPECT_EQ(d.cuda_version, 12040);
}

TEST_F(Node4Test, DiscoversEachGpuWithModelMemoryPciNumaAndPower) {
  auto gpus = DiscoverGpus(*nvml_);
  ASSERT_TRUE(gpus.has_value()) << gpus.error().ToString();
  ASSERT_EQ(gpus->size(), 4u);
  const GpuDevice& g0 = (*gpus)[0];
  EXPECT_TRUE(g0.ok());
  EXPECT_EQ(g0.index, 0);
  EXPECT_EQ(g0.name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(g0.model, "H100-SXM");
  EXPECT_EQ(g0.uuid, "GPU-11111111-aaaa-bbbb-cccc-000000000000");
  EXPECT_EQ(g0.memory_total_mib, 81559);
  EXPECT_EQ(g0.pci_bus_id, "00000000:18:00.0");
  EXPECT_EQ(g0.cc_major, 9);
  EXPECT_EQ(g0.cc_minor, 0);
  EXPECT_EQ(g0.numa_node, 0);
  EXPECT_EQ(g0.cpu_affinity, "0-31");
  EXPECT_EQ(g0.power_limit_mw, 700000);
  EXPECT_EQ(g0.mig_enabled, false);
  EXPECT_TRUE(g0.mig_instances.empty());

  const GpuDevice& g2 = (*gpus)[2];
  EXPECT_EQ(g2.model, "A100-SXM-80GB");
  EXPECT_EQ(g2.numa_node, 1);
  EXPECT_EQ(g2.cpu_affinity, "32-63");
  EXPECT_EQ(g2.power_limit_mw, 400000);
}

TEST_F(Node4Test, MigEnabledGpuListsItsInstances) {
  auto gpus = DiscoverGpus(*nvml_);
  ASSERT_TRUE(gpus.has_value());
  const GpuDevice& g2 = (*gpus)[2];
  EXPECT_EQ(g2.mig_enabled, true);
  ASSERT_EQ(g2.mig_instances.size(), 2u);
  EXPECT_EQ(g2.mig_instances[0].index, 0);
  EXPECT_EQ(g2.mig_instances[0].name, "NVIDIA A100-SXM4-80GB MIG 3g.40gb");
  EXPECT_EQ(g2.mig_instances[0].uuid, "MIG-aaaaaaaa-0000-0000-0000-000000000001");
  EXPECT_EQ(g2.mig_instances[0].memory_total_mib, 40192);
  EXPECT_EQ(g2.mig_instances[0].gpu_instance_id, 1);
  EXPECT_EQ(g2.mig_instances[1].gpu_instance_id, 2);
}

TEST_F(Node4Test, LostGpuIsReportedAndOthersStillRead) {
  auto gpus = DiscoverGpus(*nvml_);
  ASSERT_TRUE(gpus.has_value());
  const GpuDevice& g3 = (*gpus)[3];
  EXPECT_FALSE(g3.ok());
  EXPECT_EQ(g3.index, 3);
  EXPECT_NE(g3.error.find("GPU is lost (NVML error 15)"), std::string::npos);
  EXPECT_NE(g3.error.find("reboot"), std::string::npos);
  EXPECT_FALSE(g3.memory_total_mib.has_value());
  EXPECT_TRUE((*gpus)[0].ok());
  EXPECT_TRUE((*gpus)[2].ok());
}

TEST_F(Node4Test, TopologyHasTheNvlinkPairAndPciePathsAndUnknownForTheLostGpu) {
  auto gpus = DiscoverGpus(*nvml_);
  ASSERT_TRUE(gpus.has_value());
  Topology t = DiscoverTopology(*nvml_, *gpus);
  ASSERT_EQ(t.gpu_count(), 4);
  // 0 and 1 each report four links to the other: NV4 (overrides their PIX PCIe level).
  EXPECT_EQ(LinkLabel(t.links[0][1]), "NV4");
  EXPECT_EQ(LinkLabel(t.links[1][0]), "NV4");
  EXPECT_EQ(LinkLabel(t.links[0][2]), "SYS");  // pcie_levels[0][2] = 50
  EXPECT_EQ(LinkLabel(t.links[2][1]), "SYS");
  EXPECT_EQ(LinkLabel(t.links[2][3]), "N/A");  // GPU 3 is lost (its level 20 is not trusted)
  EXPECT_EQ(LinkLabel(t.links[3][3]), "X");
  EXPECT_EQ(NvlinkIslands(t), (std::vector<std::vector<int>>{{0, 1}}));
}

TEST_F(Node4Test, SamplesReadingsProcessesAndNotSupportedFields) {
  auto samples = SampleGpus(*nvml_);
  ASSERT_TRUE(samples.has_value()) << samples.error().ToString();
  ASSERT_EQ(samples->size(), 4u);
  const GpuSample& s0 = (*samples)[0];
  EXPECT_EQ(s0.model, "H100-SXM");
  EXPECT_EQ(s0.gpu_util_pct, 87);
  EXPECT_EQ(s0.memory_util_pct, 45);
  EXPECT_EQ(s0.memory_total_mib, 81559);
  EXPECT_EQ(s0.memory_used_mib, 20480);
  EXPECT_EQ(s0.memory_free_mib, 81559 - 20480);
  EXPECT_EQ(s0.temperature_c, 41);
  EXPECT_EQ(s0.power_draw_mw, 312500);
  EXPECT_EQ(s0.power_limit_mw, 700000);
  EXPECT_EQ(s0.sm_clock_mhz, 1980);
  EXPECT_EQ(s0.memory_clock_mhz, 2619);
  EXPECT_EQ(s0.ecc_corrected, 3);
  EXPECT_EQ(s0.ecc_uncorrected, 0);
  EXPECT_EQ(s0.throttle_reasons, 0u);
  ASSERT_EQ(s0.processes.size(), 2u);
  EXPECT_EQ(s0.processes[0].pid, 4242u);
  EXPECT_EQ(s0.processes[0].name, "python3");
  EXPECT_EQ(s0.processes[0].used_memory_mib, 12288);
  EXPECT_EQ(s0.processes[1].name, "trainer");
  EXPECT_EQ(s0.processes[1].gpu_index, 0);

  const GpuSample& s1 = (*samples)[1];
  EXPECT_TRUE(s1.ok());
  EXPECT_FALSE(s1.power_draw_mw.has_value());  // nvmlDeviceGetPowerUsage: Not Supported
  EXPECT_EQ(s1.power_limit_mw, 700000);        // the neighbouring call still answers
  EXPECT_EQ(s1.throttle_reasons, 1u);          // gpu_idle
  EXPECT_TRUE(s1.processes.empty());

  EXPECT_EQ((*samples)[2].throttle_reasons, 68u);
  EXPECT_EQ((*samples)[2].ecc_uncorrected, 1);
  EXPECT_EQ((*samples)[2].mig_enabled, true);

  const GpuSample& s3 = (*samples)[3];
  EXPECT_FALSE(s3.ok());
  EXPECT_FALSE(s3.gpu_util_pct.has_value());
}

TEST(NvmlDiscoveryTest, NvSwitchBoardIsOneIsland) {
  auto nvml = OpenFake("hgx4_nvswitch.json");
  ASSERT_TRUE(nvml.has_value()) << nvml.error().ToString();
  auto gpus = DiscoverGpus(**nvml);
  ASSERT_TRUE(gpus.has_value());
  Topology t = DiscoverTopology(**nvml, *gpus);
  // Every GPU has four links, all to NVSwitches (buses 05 and 06): min(4, 4) = NV4 everywhere.
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_EQ(LinkLabel(t.links[i][j]), i == j ? "X" : "NV4");
  }
  EXPECT_EQ(NvlinkIslands(t), (std::vector<std::vector<int>>{{0, 1, 2, 3}}));
  EXPECT_EQ((*gpus)[0].model, "H200-SXM");
  EXPECT_EQ((*gpus)[3].numa_node, 1);
  EXPECT_EQ((*gpus)[0].cpu_affinity, "");  // NVML did not say: unknown, not "none"
}

TEST(NvmlDiscoveryTest, HandleThatCannotBeHadIsALostGpuNotAFailure) {
  TempDir dir;
  const std::string script = dir.Write("s.json", R"({"gpus": [
      {"name": "NVIDIA L4", "bus_id": "00000000:01:00.0", "memory_total_mib": 23034},
      {"name": "NVIDIA L4", "lost_handle": true}]})");
  setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
  auto nvml = NvmlLibrary::Open({FAKE_NVML_LIBRARY});
  ASSERT_TRUE(nvml.has_value());
  auto gpus = DiscoverGpus(**nvml);
  ASSERT_TRUE(gpus.has_value());
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_TRUE((*gpus)[0].ok());
  EXPECT_EQ((*gpus)[0].model, "L4");
  EXPECT_NE((*gpus)[1].error.find("GPU is lost"), std::string::npos);
  auto samples = SampleGpus(**nvml);
  ASSERT_TRUE(samples.has_value());
  EXPECT_FALSE((*samples)[1].ok());
  EXPECT_EQ((*samples)[0].memory_total_mib, 23034);
}

TEST(NvmlDiscoveryTest, NumaNodeFallsBackToSysfsWhenNvmlCannotTell) {
  TempDir dir;
  const std::string script = dir.Write("s.json", R"({"gpus": [
      {"name": "NVIDIA L40S", "bus_id": "00000000:C1:00.0",
       "unsupported": ["nvmlDeviceGetNumaNodeId"]}]})");
  dir.Write("sys/bus/pci/devices/0000:c1:00.0/numa_node", "3\n");
  setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
  auto nvml = NvmlLibrary::Open({FAKE_NVML_LIBRARY});
  ASSERT_TRUE(nvml.has_value());
  DiscoveryOptions options;
  options.host.sys_root = (dir.path() / "sys").string();
  auto gpus = DiscoverGpus(**nvml, options);
  ASSERT_TRUE(gpus.has_value());
  EXPECT_EQ((*gpus)[0].numa_node, 3);  // from sysfs, bus id lower-cased, 4-digit domain
}

TEST(NvmlDiscoveryTest, MemoryV2LeavesReservedOutAndV1IsTheFallback) {
  // total 10000 MiB, used 1000, reserved 512.
  // v2: used 1000, free 10000 - 1000 - 512 = 8488. v1 (v2 not supported): used 1000 + 512 = 1512,
  // free 10000 - 1512 = 8488.
  TempDir dir;
  const std::string script = dir.Write("s.json", R"({"gpus": [
      {"memory_total_mib": 10000, "memory_used_mib": 1000, "memory_reserved_mib": 512},
      {"memory_total_mib": 10000, "memory_used_mib": 1000, "memory_reserved_mib": 512,
       "unsupported": ["nvmlDeviceGetMemoryInfo_v2"]}]})");
  setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
  auto nvml = NvmlLibrary::Open({FAKE_NVML_LIBRARY});
  ASSERT_TRUE(nvml.has_value());
  auto samples = SampleGpus(**nvml);
  ASSERT_TRUE(samples.has_value());
  EXPECT_EQ((*samples)[0].memory_used_mib, 1000);
  EXPECT_EQ((*samples)[0].memory_free_mib, 8488);
  EXPECT_EQ((*samples)[1].memory_used_mib, 1512);
  EXPECT_EQ((*samples)[1].memory_free_mib, 8488);
  EXPECT_EQ((*samples)[1].memory_total_mib, 10000);
}

TEST(NvmlDiscoveryTest, OtherDriverGenerationsFallBackOrShowNotAvailable) {
  // The legacy fake lacks nvmlDeviceGetMemoryInfo_v2 and nvmlDeviceGetNumaNodeId, and has the
  // process query only as _v2 and throttle reasons only as "clock event reasons".
  setenv("FAKE_NVML_SCRIPT", testing::ScriptPath("node4.json").c_str(), 1);
  auto nvml = NvmlLibrary::Open({FAKE_NVML_LEGACY_LIBRARY});
  ASSERT_TRUE(nvml.has_value()) << nvml.error().ToString();
  EXPECT_EQ((*nvml)->fn().DeviceGetMemoryInfoV2, nullptr);
  EXPECT_EQ((*nvml)->fn().DeviceGetNumaNodeId, nullptr);

  TempDir dir;
  dir.Write("sys/bus/pci/devices/0000:18:00.0/numa_node", "1\n");  // the script says 0
  DiscoveryOptions options;
  options.host.sys_root = (dir.path() / "sys").string();
  auto gpus = DiscoverGpus(**nvml, options);
  ASSERT_TRUE(gpus.has_value());
  EXPECT_EQ((*gpus)[0].numa_node, 1);             // from sysfs, not NVML
  EXPECT_EQ((*gpus)[1].numa_node, -1);            // neither knows
  EXPECT_EQ((*gpus)[0].memory_total_mib, 81559);  // through the v1 memory call

  auto samples = SampleGpus(**nvml);
  ASSERT_TRUE(samples.has_value());
  EXPECT_EQ((*samples)[0].memory_used_mib, 20480);
  EXPECT_EQ((*samples)[0].processes.size(), 2u);   // through the _v2 process query
  EXPECT_EQ((*samples)[2].throttle_reasons, 68u);  // through nvmlDeviceGetCurrentClocksEventReasons
}

TEST(NvmlDiscoveryTest, CountFailureFailsTheWholeCall) {
  TempDir dir;
  const std::string script = dir.Write("s.json", R"({"count_error": 999})");
  setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
  auto nvml = NvmlLibrary::Open({FAKE_NVML_LIBRARY});
  ASSERT_TRUE(nvml.has_value());
  auto gpus = DiscoverGpus(**nvml);
  ASSERT_FALSE(gpus.has_value());
  EXPECT_EQ(gpus.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(gpus.error().message().find("nvmlDeviceGetCount failed"), std::string::npos);
}

TEST(NvmlDiscoveryTest, DiscoverNodeCombinesHostAndGpus) {
  TempDir dir;
  dir.Write("proc/cpuinfo", "processor : 0\nprocessor : 1\nprocessor : 2\nprocessor : 3\n");
  dir.Write("proc/meminfo", "MemTotal: 8388608 kB\n");  // 8388608 / 1024 = 8192 MiB
  dir.Write("proc/sys/kernel/hostname", "node4\n");
  auto nvml = OpenFake("node4.json");
  ASSERT_TRUE(nvml.has_value());
  DiscoveryOptions options;
  options.host = {(dir.path() / "proc").string(), (dir.path() / "sys").string()};
  auto inv = DiscoverNode(**nvml, options);
  ASSERT_TRUE(inv.has_value()) << inv.error().ToString();
  EXPECT_EQ(inv->hostname, "node4");
  EXPECT_EQ(inv->host.cpu_count, 4);
  EXPECT_EQ(inv->host.memory_mib, 8192);
  EXPECT_EQ(inv->gpus.size(), 4u);
  EXPECT_EQ(inv->topology.gpu_count(), 4);
  EXPECT_EQ(inv->driver.driver_version, "550.54.15");
}

TEST(NvmlDiscoveryTest, CpuListStringCompressesRuns) {
  // word 0: bits 0-3 and 8 -> "0-3,8"; word 1: bit 0 (= CPU 64 on 64-bit longs) -> "64".
  std::vector<unsigned long> mask = {0x10FUL, 0x1UL};
  EXPECT_EQ(CpuListString(mask), "0-3,8,64");
  EXPECT_EQ(CpuListString({0UL}), "");
  EXPECT_EQ(CpuListString({~0UL}), "0-63");
}

}  // namespace
}  // namespace gpupool::discovery

#include "discovery/host_probe.h"

#include <gtest/gtest.h>

#include "discovery/temp_dir.h"

namespace gpupool::discovery {
namespace {

using testing::TempDir;

void WriteProc(const TempDir& dir, int cpus, const std::string& meminfo) {
  std::string cpuinfo;
  for (int i = 0; i < cpus; ++i) {
    cpuinfo += "processor\t: " + std::to_string(i) + "\nmodel name\t: Fake CPU\n\n";
  }
  dir.Write("proc/cpuinfo", cpuinfo);
  dir.Write("proc/meminfo", meminfo);
  dir.Write("proc/sys/kernel/hostname", "gpu-node-07\n");
}

TEST(HostProbeTest, ReadsCpusMemoryAndHostname) {
  TempDir dir;
  // 2097152000 kB / 1024 = 2048000 MiB
  WriteProc(dir, 6, "MemTotal:       2097152000 kB\nMemFree:        1000 kB\n");
  auto host = ProbeHost({(dir.path() / "proc").string(), (dir.path() / "sys").string()});
  ASSERT_TRUE(host.has_value()) << host.error().ToString();
  EXPECT_EQ(host->hostname, "gpu-node-07");
  EXPECT_EQ(host->cpu_count, 6);
  EXPECT_EQ(host->memory_mib, 2048000);
  EXPECT_TRUE(host->nics.empty());  // no /sys/class/infiniband: no RDMA NICs, not an error
}

TEST(HostProbeTest, ReadsInfinibandAndRoceNicsFromSysfs) {
  TempDir dir;
  WriteProc(dir, 2, "MemTotal: 1048576 kB\n");
  dir.Write("sys/class/infiniband/mlx5_1/ports/1/rate", "200 Gb/sec (4X HDR)\n");
  dir.Write("sys/class/infiniband/mlx5_1/ports/1/link_layer", "Ethernet\n");
  dir.Write("sys/class/infiniband/mlx5_1/ports/1/state", "4: ACTIVE\n");
  dir.Write("sys/class/infiniband/mlx5_0/ports/1/rate", "400 Gb/sec (4X NDR)\n");
  dir.Write("sys/class/infiniband/mlx5_0/ports/1/link_layer", "InfiniBand\n");
  dir.Write("sys/class/infiniband/mlx5_0/ports/1/state", "1: DOWN\n");
  auto host = ProbeHost({(dir.path() / "proc").string(), (dir.path() / "sys").string()});
  ASSERT_TRUE(host.has_value()) << host.error().ToString();
  ASSERT_EQ(host->nics.size(), 2u);
  EXPECT_EQ(host->nics[0].name, "mlx5_0");  // sorted by name
  EXPECT_EQ(host->nics[0].kind, cluster::FabricKind::kInfiniBand);
  EXPECT_DOUBLE_EQ(host->nics[0].rate_gbps, 400);
  EXPECT_EQ(host->nics[0].state, "DOWN");
  EXPECT_EQ(host->nics[1].name, "mlx5_1");
  EXPECT_EQ(host->nics[1].kind, cluster::FabricKind::kRoCE);  // Ethernet link layer on RDMA
  EXPECT_DOUBLE_EQ(host->nics[1].rate_gbps, 200);
  EXPECT_EQ(host->nics[1].link_layer, "Ethernet");
  EXPECT_EQ(host->memory_mib, 1024);  // 1048576 kB / 1024
}

TEST(HostProbeTest, MissingProcFilesAreIoErrors) {
  TempDir dir;
  auto host = ProbeHost({(dir.path() / "proc").string(), (dir.path() / "sys").string()});
  ASSERT_FALSE(host.has_value());
  EXPECT_EQ(host.error().code(), StatusCode::kIoError);
  EXPECT_NE(host.error().message().find("cpuinfo"), std::string::npos);

  dir.Write("proc/cpuinfo", "processor : 0\n");
  dir.Write("proc/meminfo", "MemFree: 12 kB\n");
  host = ProbeHost({(dir.path() / "proc").string(), (dir.path() / "sys").string()});
  ASSERT_FALSE(host.has_value());
  EXPECT_NE(host.error().message().find("MemTotal"), std::string::npos);
}

TEST(HostProbeTest, ParsesRateText) {
  EXPECT_DOUBLE_EQ(ParseRateGbps("100 Gb/sec (4X EDR)"), 100);
  EXPECT_DOUBLE_EQ(ParseRateGbps("2.5 Gb/sec (1X SDR)"), 2.5);
  EXPECT_DOUBLE_EQ(ParseRateGbps("garbage"), 0);
}

TEST(HostProbeTest, RealProcIsReadable) {
  // This machine's own /proc: at least one CPU and some memory.
  auto host = ProbeHost();
  ASSERT_TRUE(host.has_value()) << host.error().ToString();
  EXPECT_GE(host->cpu_count, 1);
  EXPECT_GT(host->memory_mib, 0);
}

}  // namespace
}  // namespace gpupool::discovery

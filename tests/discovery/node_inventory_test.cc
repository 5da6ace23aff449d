#include "discovery/node_inventory.h"

#include <gtest/gtest.h>

#include "discovery/temp_dir.h"

namespace gpupool::discovery {
namespace {

using testing::TempDir;

GpuDevice Gpu(int index, const std::string& model, std::int64_t mib, int numa) {
  GpuDevice g;
  g.index = index;
  g.name = "NVIDIA " + model;
  g.model = model;
  g.uuid = "GPU-" + std::to_string(index);
  g.memory_total_mib = mib;
  g.numa_node = numa;
  g.pci_bus_id = "00000000:0" + std::to_string(index) + ":00.0";
  g.cc_major = 9;
  g.cc_minor = 0;
  g.power_limit_mw = 700000;
  g.mig_enabled = false;
  return g;
}

// Four GPUs: 0 lost; 1-2 NV4; 3 over SYS. Two NICs, one with an unknown link layer.
NodeInventory Sample() {
  NodeInventory inv;
  inv.hostname = "n1";
  inv.driver = {"550.54.15", "12.550.54.15", 12040};
  inv.host.hostname = "n1";
  inv.host.cpu_count = 64;
  inv.host.memory_mib = 515000;
  inv.host.nics = {{"mlx5_0", 1, "InfiniBand", "ACTIVE", 400, cluster::FabricKind::kInfiniBand},
                   {"odd0", 1, "", "DOWN", 0, cluster::FabricKind::kNone}};
  inv.gpus = {Gpu(0, "H100-SXM", 81559, 0), Gpu(1, "H100-SXM", 81559, 0),
              Gpu(2, "H100-SXM", 81559, 1), Gpu(3, "H100-SXM", 81559, 1)};
  inv.gpus[0].error = "GPU is lost (NVML error 15)";
  inv.gpus[2].mig_enabled = true;
  inv.gpus[2].mig_instances = {{0, "MIG-a", "NVIDIA H100 MIG 3g.40gb", 40192, 1}};
  const GpuLink x{LinkKind::kSelf, 0}, nv{LinkKind::kNvLink, 4}, sys{LinkKind::kSys, 0},
      na{LinkKind::kUnknown, 0};
  inv.topology.links = {{x, na, na, na}, {na, x, nv, sys}, {na, nv, x, sys}, {na, sys, sys, x}};
  return inv;
}

TEST(NodeInventoryTest, NodeSpecLeavesLostGpusOutAndRenumbersIslands) {
  const cluster::NodeSpec spec = ToNodeSpec(Sample());
  EXPECT_EQ(spec.name, "n1");
  EXPECT_EQ(spec.cpu_milli, 64000);  // 64 CPUs * 1000
  EXPECT_EQ(spec.memory_mib, 515000);
  ASSERT_EQ(spec.gpus.size(), 3u);  // GPU 0 is lost
  EXPECT_EQ(spec.gpus[0].uuid, "GPU-1");
  EXPECT_EQ(spec.gpus[0].model, "H100-SXM");
  EXPECT_EQ(spec.gpus[0].memory_mib, 81559);
  EXPECT_EQ(spec.gpus[1].numa_node, 1);
  // GPU 2 (position 1) is in MIG mode with one 3g.40gb instance; the profile is the name's tail.
  EXPECT_FALSE(spec.gpus[0].mig_enabled);
  EXPECT_TRUE(spec.gpus[0].mig_instances.empty());
  EXPECT_TRUE(spec.gpus[1].mig_enabled);
  EXPECT_EQ(spec.gpus[1].mig_instances,
            (std::vector<cluster::MigInstanceSpec>{{"3g.40gb", 40192, "MIG-a"}}));
  // GPUs 1 and 2 are NVLinked; in the spec they sit at positions 0 and 1.
  EXPECT_EQ(spec.nvlink_islands, (std::vector<std::vector<int>>{{0, 1}}));
  ASSERT_EQ(spec.nics.size(), 1u);  // the NIC with no link layer is left out
  EXPECT_EQ(spec.nics[0].name, "mlx5_0");
  EXPECT_EQ(spec.nics[0].kind, cluster::FabricKind::kInfiniBand);
  EXPECT_DOUBLE_EQ(spec.nics[0].rate_gbps, 400);
}

TEST(NodeInventoryTest, FileRoundTripKeepsEveryField) {
  TempDir dir;
  const std::string path = (dir.path() / "inventory.json").string();
  const NodeInventory in = Sample();
  ASSERT_TRUE(WriteInventoryFile(in, path).ok());
  auto out = ReadInventoryFile(path);
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  EXPECT_EQ(out->hostname, "n1");
  EXPECT_EQ(out->driver.driver_version, "550.54.15");
  EXPECT_EQ(out->driver.cuda_version, 12040);
  EXPECT_EQ(out->host.cpu_count, 64);
  ASSERT_EQ(out->host.nics.size(), 2u);
  EXPECT_EQ(out->host.nics[0].kind, cluster::FabricKind::kInfiniBand);
  ASSERT_EQ(out->gpus.size(), 4u);
  EXPECT_EQ(out->gpus[0].error, in.gpus[0].error);
  EXPECT_EQ(out->gpus[1].pci_bus_id, "00000000:01:00.0");
  EXPECT_EQ(out->gpus[1].cc_major, 9);
  EXPECT_EQ(out->gpus[1].power_limit_mw, 700000);
  EXPECT_EQ(out->gpus[2].mig_enabled, true);
  ASSERT_EQ(out->gpus[2].mig_instances.size(), 1u);
  EXPECT_EQ(out->gpus[2].mig_instances[0].memory_total_mib, 40192);
  EXPECT_EQ(out->topology.links, in.topology.links);
  // The spec from the file is the spec from the discovery.
  const cluster::NodeSpec a = ToNodeSpec(in);
  const cluster::NodeSpec b = ToNodeSpec(*out);
  EXPECT_EQ(a.nvlink_islands, b.nvlink_islands);
  EXPECT_EQ(a.gpus.size(), b.gpus.size());
}

TEST(NodeInventoryTest, JsonCarriesIslandsAndNullForUnknown) {
  NodeInventory inv = Sample();
  inv.gpus[3].memory_total_mib.reset();
  const nlohmann::json j = InventoryToJson(inv);
  EXPECT_EQ(j["format"], "gpupool-inventory");
  EXPECT_EQ(j["nvlink_islands"], nlohmann::json::parse("[[1,2]]"));  // by GPU index
  EXPECT_TRUE(j["gpus"][3]["memory_total_mib"].is_null());
  EXPECT_EQ(j["gpus"][1]["compute_capability"], "9.0");
  EXPECT_EQ(j["gpus"][1]["power_limit_w"], 700.0);
  EXPECT_EQ(j["topology"][1][2], "NV4");
}

TEST(NodeInventoryTest, BadFilesNameTheMemberAtFault) {
  const struct {
    const char* text;
    const char* expect;
  } cases[] = {
      {R"([1,2])", "not a JSON object"},
      {R"({"format": "other", "version": 1})", "format"},
      {R"({"format": "gpupool-inventory", "version": 2})", "version: 2 is not supported"},
      {R"({"format": "gpupool-inventory", "version": 1, "host": {"cpu_count": "many"}})",
       "host.cpu_count"},
      {R"({"format": "gpupool-inventory", "version": 1, "gpus": [{"index": 0}],
           "topology": [["Y"]]})",
       "topology[0][0]: \"Y\""},
      {R"({"format": "gpupool-inventory", "version": 1, "gpus": [{"index": 5}]})",
       "gpus[0].index: expected 0"},
      {R"({"format": "gpupool-inventory", "version": 1,
           "host": {"nics": [{"name": "x", "kind": "token-ring"}]}})",
       "host.nics[0].kind"},
  };
  for (const auto& c : cases) {
    auto r = InventoryFromJson(nlohmann::json::parse(c.text), "inv.json");
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find(c.expect), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().rfind("inv.json: ", 0), 0u);
  }
}

TEST(NodeInventoryTest, UnreadableAndMalformedFiles) {
  auto missing = ReadInventoryFile("/nonexistent/inventory.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kIoError);
  TempDir dir;
  const std::string path = dir.Write("bad.json", "{not json");
  auto bad = ReadInventoryFile(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace gpupool::discovery

#include "discovery/cluster_inventory.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "discovery/temp_dir.h"

namespace gpupool::discovery {
namespace {

// The catalog shipped under data/hw, from the source tree.
const hw::Catalog& Catalog() {
  static const Result<hw::Catalog> c =
      hw::Catalog::Load(std::string(GPUPOOL_SOURCE_DATA_DIR) + "/hw");
  EXPECT_TRUE(c.has_value()) << c.error().ToString();
  return *c;
}

Result<ClusterInventory> Parse(const std::string& yaml) {
  return ParseClusterInventory(yaml, "inv.yaml", Catalog());
}

TEST(ClusterInventoryTest, DemoFileLoads) {
  auto inv = ReadClusterInventory(std::string(GPUPOOL_SOURCE_DATA_DIR) + "/inventory/demo.yaml",
                                  Catalog());
  ASSERT_TRUE(inv.has_value()) << inv.error().ToString();
  EXPECT_TRUE(inv->simulated);
  // count expansion, in file order: 2 h100 + 4 l40s + 2 a100 = 8 nodes.
  std::vector<std::string> names;
  int gpus = 0;
  for (const auto& n : inv->nodes) {
    names.push_back(n.name);
    gpus += static_cast<int>(n.gpus.size());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"h100-0", "h100-1", "l40s-0", "l40s-1", "l40s-2",
                                             "l40s-3", "a100-0", "a100-1"}));
  EXPECT_EQ(gpus, 48);  // 2 x 8 + 4 x 4 + 2 x 8 = 16 + 16 + 16

  const cluster::NodeSpec& h100 = inv->nodes[1];
  EXPECT_EQ(h100.cpu_milli, 224'000);     // 2 sockets x 56 cores x 2 threads = 224 CPUs
  EXPECT_EQ(h100.memory_mib, 2'097'152);  // 2048Gi = 2048 x 1024 MiB
  ASSERT_EQ(h100.gpus.size(), 8u);
  EXPECT_EQ(h100.gpus[0].model, "H100-SXM");
  EXPECT_EQ(h100.gpus[0].memory_mib, 81'559);  // given in the file
  EXPECT_EQ(h100.gpus[0].uuid, "GPU-sim-h100-1-0");
  EXPECT_EQ(h100.gpus[7].uuid, "GPU-sim-h100-1-7");
  EXPECT_EQ(h100.nvlink_islands, (std::vector<std::vector<int>>{{0, 1, 2, 3, 4, 5, 6, 7}}));
  ASSERT_EQ(h100.nics.size(), 8u);
  EXPECT_EQ(h100.nics[0].kind, cluster::FabricKind::kInfiniBand);
  EXPECT_EQ(h100.nics[0].rate_gbps, 400);

  const cluster::NodeSpec& l40s = inv->nodes[5];
  EXPECT_EQ(l40s.name, "l40s-3");
  EXPECT_EQ(l40s.cpu_milli, 64'000);    // 32 cores x 2 threads
  EXPECT_EQ(l40s.memory_mib, 524'288);  // 512 x 1024
  ASSERT_EQ(l40s.gpus.size(), 4u);
  EXPECT_EQ(l40s.gpus[3].model, "L40S");
  EXPECT_EQ(l40s.gpus[3].memory_mib, 49'152);  // catalog default: 48 GiB x 1024
  EXPECT_TRUE(l40s.nvlink_islands.empty());    // nvlink: none
  ASSERT_EQ(l40s.nics.size(), 2u);
  EXPECT_EQ(l40s.nics[1].kind, cluster::FabricKind::kRoCE);

  const cluster::NodeSpec& a100 = inv->nodes[6];
  EXPECT_EQ(a100.cpu_milli, 256'000);  // 2 x 64 cores x 2 threads
  EXPECT_EQ(a100.gpus[0].model, "A100-SXM-80GB");
  EXPECT_EQ(a100.gpus[0].memory_mib, 81'920);  // 80 GiB x 1024
  EXPECT_EQ(a100.nvlink_islands, (std::vector<std::vector<int>>{{0, 1, 2, 3, 4, 5, 6, 7}}));
}

TEST(ClusterInventoryTest, UnitsAliasesAndDefaults) {
  struct Case {
    const char* memory;  // the memory member as written
    std::int64_t mib;
  } cases[] = {
      {"memory: 2048Gi", 2'097'152},                       // 2048 x 1024
      {"memory: 2Ti", 2'097'152},                          // 2 x 1024 x 1024
      {"memory: 512Mi", 512},        {"memory: 1G", 953},  // 10^9 / 2^20 = 953.67 -> 953
      {"memory: 1T", 953'674},                             // 10^12 / 2^20 = 953,674.3 -> 953,674
      {"memory: 3000M", 2'861},                            // 3 x 10^9 / 2^20 = 2,861.02 -> 2,861
      {"memory_mib: 1000", 1000},
  };
  for (const auto& c : cases) {
    auto inv =
        Parse(std::string("nodes:\n  - {name: n, gpu_model: h100, gpus: 4, cpu_milli: 1500, ") +
              c.memory + "}\n");
    ASSERT_TRUE(inv.has_value()) << c.memory << ": " << inv.error().ToString();
    EXPECT_EQ(inv->nodes[0].memory_mib, c.mib) << c.memory;
  }
  auto inv = Parse(
      "nodes:\n"
      "  - name: n\n"
      "    count: 1\n"
      "    gpu_model: h100\n"  // an alias
      "    gpus: 4\n"
      "    cpu_milli: 1500\n"
      "    memory: 1Gi\n"
      "    nvlink: all\n"
      "  - {name: m, gpu_model: l40s, gpus: 2, cpu: 3, memory: 1Gi,\n"
      "     nvlink_islands: [[1, 0]]}\n");
  ASSERT_TRUE(inv.has_value()) << inv.error().ToString();
  EXPECT_FALSE(inv->simulated);  // absent = false
  ASSERT_EQ(inv->nodes.size(), 2u);
  const auto& n = inv->nodes[0];
  EXPECT_EQ(n.name, "n-0");  // with count, always suffixed
  EXPECT_EQ(n.cpu_milli, 1500);
  EXPECT_EQ(n.gpus[0].model, "H100-SXM");
  EXPECT_EQ(n.gpus[0].memory_mib, 81'920);  // catalog 80 GiB x 1024
  EXPECT_EQ(n.gpus[0].numa_node, -1);
  EXPECT_EQ(n.nvlink_islands, (std::vector<std::vector<int>>{{0, 1, 2, 3}}));
  EXPECT_TRUE(n.nics.empty());
  const auto& m = inv->nodes[1];
  EXPECT_EQ(m.name, "m");        // no count: the name as written
  EXPECT_EQ(m.cpu_milli, 3000);  // 3 cores x 1000
  EXPECT_EQ(m.nvlink_islands, (std::vector<std::vector<int>>{{1, 0}}));  // as written
  EXPECT_EQ(m.gpus[1].uuid, "GPU-sim-m-1");
}

// The valid node the error cases start from, at lines 2-6 (line 1 is "nodes:").
constexpr const char* kNode =
    "nodes:\n"
    "  - name: a\n"
    "    gpu_model: H100\n"
    "    gpus: 4\n"
    "    cpu: 8\n"
    "    memory: 64Gi\n";

TEST(ClusterInventoryTest, ErrorsNameFileLineAndField) {
  struct Case {
    std::string yaml;
    const char* message;
  } cases[] = {
      // unknown member, in a node and at the top level
      {std::string(kNode) + "    gpu_mem: 5\n",
       "inv.yaml:7: nodes[0] a: gpu_mem: unknown member (known: name, count, gpu_model, gpus, "
       "gpu_memory_mib, cpu, cpu_milli, memory, memory_mib, nvlink, nvlink_islands, nics, mig)"},
      {std::string("simulate: true\n") + kNode,
       "inv.yaml:1: simulate: unknown member (known: simulated, nodes)"},
      {std::string(kNode) + "    gpus: 2\n", "inv.yaml:7: nodes[0] a: gpus: given twice"},
      // wrong type
      {"nodes:\n  - {name: a, gpu_model: H100, gpus: eight, cpu: 8, memory: 64Gi}\n",
       "inv.yaml:2: nodes[0] a: gpus: expected a whole number, got 'eight'"},
      {std::string("simulated: maybe\n") + kNode,
       "inv.yaml:1: simulated: expected true or false, got 'maybe'"},
      {"nodes: {name: a}\n", "inv.yaml:1: nodes: expected a list of nodes, got a mapping"},
      {"nodes:\n  - {name: a, gpu_model: H100, gpus: 4, cpu: 8, memory: 64}\n",
       "inv.yaml:2: nodes[0] a: memory: '64' has no unit (write 64Gi or 64Mi, or memory_mib:)"},
      {"nodes:\n  - {name: a, gpu_model: H100, gpus: 4, cpu: 8, memory: 64GB}\n",
       "inv.yaml:2: nodes[0] a: memory: '64GB': unknown unit 'GB' (Ti, Gi, Mi are binary; T, G, "
       "M decimal)"},
      {std::string(kNode) + "    nics: [{name: ib0, kind: omnipath, rate_gbps: 100}]\n",
       "inv.yaml:7: nodes[0] a: nics[0]: kind: 'omnipath' is not one of ethernet, roce, "
       "infiniband"},
      // negative or zero
      {"nodes:\n  - {name: a, gpu_model: H100, gpus: 0, cpu: 8, memory: 64Gi}\n",
       "inv.yaml:2: nodes[0] a: gpus: 0 is not positive"},
      {std::string(kNode) + "    count: -1\n", "inv.yaml:7: nodes[0] a: count: -1 is not positive"},
      {"nodes:\n  - {name: a, gpu_model: H100, gpus: 4, cpu_milli: 0, memory: 64Gi}\n",
       "inv.yaml:2: nodes[0] a: cpu_milli: 0 is not positive"},
      {"nodes:\n  - {name: a, gpu_model: H100, gpus: 4, cpu: 8, memory: 0Gi}\n",
       "inv.yaml:2: nodes[0] a: memory: '0Gi' is not positive"},
      {std::string(kNode) + "    nics: [{name: ib0, kind: infiniband, rate_gbps: -100}]\n",
       "inv.yaml:7: nodes[0] a: nics[0]: rate_gbps: -100 is not positive"},
      // more GPUs than a node holds
      {"nodes:\n  - {name: a, gpu_model: H100, gpus: 17, cpu: 8, memory: 64Gi}\n",
       "inv.yaml:2: nodes[0] a: gpus: 17 is more than a node may hold (16)"},
      // missing and conflicting members
      {"nodes:\n  - {name: a, gpu_model: H100, gpus: 4, memory: 64Gi}\n",
       "inv.yaml:2: nodes[0] a: cpu: missing (give cpu: cores or cpu_milli:)"},
      {std::string(kNode) + "    cpu_milli: 8000\n",
       "inv.yaml:7: nodes[0] a: cpu_milli: give cpu or cpu_milli, not both"},
      {"nodes:\n  - {gpu_model: H100, gpus: 4, cpu: 8, memory: 64Gi}\n",
       "inv.yaml:2: nodes[0]: name: missing"},
      {"simulated: true\n", "inv.yaml:1: nodes: missing"},
      {"nodes: []\n", "inv.yaml:1: nodes: empty"},
      // duplicate names, after count expansion: a-0, a-1, then a-1 again
      {std::string(kNode) + "    count: 2\n" +
           "  - {name: a-1, gpu_model: H100, gpus: 4, cpu: 8, memory: 64Gi}\n",
       "inv.yaml:8: nodes[1] a-1: name: node 'a-1' is already defined by nodes[0] (line 2)"},
      {std::string(kNode) + "  - {name: b, count: 2, gpu_model: H100, gpus: 4, cpu: 8, "
                            "memory: 64Gi}\n  - {name: b-0, gpu_model: H100, gpus: 4, cpu: 8, "
                            "memory: 64Gi}\n",
       "inv.yaml:8: nodes[2] b-0: name: node 'b-0' is already defined by nodes[1] (line 7)"},
      {std::string(kNode) + "  - {name: a, gpu_model: H100, gpus: 4, cpu: 8, memory: 64Gi}\n",
       "inv.yaml:7: nodes[1] a: name: node 'a' is already defined by nodes[0] (line 2)"},
      // islands: out of range, a GPU twice, both forms
      {std::string(kNode) + "    nvlink_islands: [[0, 1], [2, 4]]\n",
       "inv.yaml:7: nodes[0] a: nvlink_islands[1][1]: GPU 4 is out of range (the node has 4 "
       "GPUs: 0-3)"},
      {std::string(kNode) + "    nvlink_islands: [[0, 1], [1, 2]]\n",
       "inv.yaml:7: nodes[0] a: nvlink_islands[1][0]: GPU 1 is already in nvlink_islands[0]"},
      {std::string(kNode) + "    nvlink_islands:\n      - [0, 1, 0]\n",
       "inv.yaml:8: nodes[0] a: nvlink_islands[0][2]: GPU 0 is already in nvlink_islands[0]"},
      {std::string(kNode) + "    nvlink_islands: [[0, -1]]\n",
       "inv.yaml:7: nodes[0] a: nvlink_islands[0][1]: GPU -1 is out of range (the node has 4 "
       "GPUs: 0-3)"},
      {std::string(kNode) + "    nvlink: all\n    nvlink_islands: [[0, 1]]\n",
       "inv.yaml:8: nodes[0] a: nvlink_islands: give nvlink or nvlink_islands, not both"},
      {std::string(kNode) + "    nvlink: some\n",
       "inv.yaml:7: nodes[0] a: nvlink: expected all or none, got 'some'"},
      // mig: the member's shape, the GPU index, the profiles and the slices
      {std::string(kNode) + "    mig: {gpu: 1}\n",
       "inv.yaml:7: nodes[0] a: mig: expected a list of {gpu, instances}, got a mapping"},
      {std::string(kNode) + "    mig: [{gpu: 1, instance: [1g.10gb]}]\n",
       "inv.yaml:7: nodes[0] a: mig[0]: instance: unknown member (known: gpu, instances)"},
      {std::string(kNode) + "    mig: [{gpu: 1}]\n",
       "inv.yaml:7: nodes[0] a: mig[0]: instances: missing"},
      {std::string(kNode) +
           "    mig:\n      - {gpu: 0, instances: []}\n      - {gpu: 4, instances: []}\n",
       "inv.yaml:9: nodes[0] a: mig[1]: gpu: GPU 4 is out of range (the node has 4 GPUs: 0-3)"},
      {std::string(kNode) +
           "    mig:\n      - {gpu: 2, instances: []}\n      - {gpu: 2, instances: []}\n",
       "inv.yaml:9: nodes[0] a: mig[1]: gpu: GPU 2 is listed twice"},
      {std::string(kNode) + "    mig: [{gpu: 1, instances: 3g.40gb}]\n",
       "inv.yaml:7: nodes[0] a: mig[0]: instances: expected a list of MIG profiles such as "
       "[3g.40gb, 4g.40gb], got '3g.40gb'"},
      {std::string(kNode) + "    mig:\n      - gpu: 1\n        instances: [3g.40gb, 3g40gb]\n",
       "inv.yaml:9: nodes[0] a: mig[0]: instances[1]: '3g40gb' is not a MIG profile "
       "(<slices>g.<memory>gb, e.g. 3g.40gb, with 1 to 8 slices)"},
      {std::string(kNode) + "    mig: [{gpu: 1, instances: [9g.90gb]}]\n",
       "inv.yaml:7: nodes[0] a: mig[0]: instances[0]: '9g.90gb' is not a MIG profile "
       "(<slices>g.<memory>gb, e.g. 3g.40gb, with 1 to 8 slices)"},
      // 4 + 3 + 2 = 9 slices: the third instance is one too many
      {std::string(kNode) + "    mig: [{gpu: 1, instances: [4g.40gb, 3g.40gb, 2g.20gb]}]\n",
       "inv.yaml:7: nodes[0] a: mig[0]: instances[2]: the instances take 9 compute slices, more "
       "than a GPU has (8)"},
      {std::string(kNode) + "    mig: [{gpu: 1, instances: [{profile: 1g.10gb, memory: 9856}]}]\n",
       "inv.yaml:7: nodes[0] a: mig[0]: instances[0]: memory: unknown member (known: profile, "
       "memory_mib)"},
      {std::string(kNode) + "    mig: [{gpu: 1, instances: [{profile: 1g.10gb, memory_mib: 0}]}]\n",
       "inv.yaml:7: nodes[0] a: mig[0]: instances[0]: memory_mib: 0 is not positive"},
      // the file itself
      {"", "inv.yaml: (file): empty (expected simulated: and nodes:)"},
      {"nodes: [\n", "inv.yaml:2: malformed YAML: end of sequence flow not found"},
  };
  for (const auto& c : cases) {
    auto inv = Parse(c.yaml);
    ASSERT_FALSE(inv.has_value()) << c.yaml;
    EXPECT_EQ(inv.error().code(), StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_EQ(inv.error().message(), c.message) << c.yaml;
  }
}

TEST(ClusterInventoryTest, MigGpusCarryTheirInstances) {
  auto inv = Parse(
      "nodes:\n"
      "  - name: m\n"
      "    count: 2\n"
      "    gpu_model: A100-SXM-80GB\n"
      "    gpus: 4\n"
      "    cpu: 64\n"
      "    memory: 512Gi\n"
      "    mig:\n"
      "      - gpu: 2\n"
      "        instances: [3g.40gb, {profile: 2g.20gb, memory_mib: 19968}, 1g.10gb+me]\n"
      "      - {gpu: 3, instances: []}\n");
  ASSERT_TRUE(inv.has_value()) << inv.error().ToString();
  ASSERT_EQ(inv->nodes.size(), 2u);
  for (const auto& n : inv->nodes) {
    ASSERT_EQ(n.gpus.size(), 4u);
    EXPECT_FALSE(n.gpus[0].mig_enabled);
    EXPECT_FALSE(n.gpus[1].mig_enabled);
    EXPECT_TRUE(n.gpus[0].mig_instances.empty());
    // GPU 3: MIG mode on, no instances made yet.
    EXPECT_TRUE(n.gpus[3].mig_enabled);
    EXPECT_TRUE(n.gpus[3].mig_instances.empty());
    EXPECT_TRUE(n.gpus[2].mig_enabled);
    EXPECT_EQ(n.gpus[2].memory_mib, 81920);  // the parent GPU keeps its memory
  }
  // Memory: 40 x 1024 = 40960 (nominal), 19968 as given, 10 x 1024 = 10240 (nominal).
  EXPECT_EQ(inv->nodes[1].gpus[2].mig_instances,
            (std::vector<cluster::MigInstanceSpec>{{"3g.40gb", 40960, "MIG-sim-m-1-2-0"},
                                                   {"2g.20gb", 19968, "MIG-sim-m-1-2-1"},
                                                   {"1g.10gb+me", 10240, "MIG-sim-m-1-2-2"}}));
  EXPECT_EQ(inv->nodes[0].gpus[2].mig_instances[0].uuid, "MIG-sim-m-0-2-0");
}

TEST(ClusterInventoryTest, UnknownGpuModelListsCloseNames) {
  auto inv = Parse("nodes:\n  - {name: a, gpu_model: H300, gpus: 4, cpu: 8, memory: 64Gi}\n");
  ASSERT_FALSE(inv.has_value());
  const std::string& m = inv.error().message();
  const std::string prefix = "inv.yaml:2: nodes[0] a: gpu_model: unknown GPU 'H300'; did you mean ";
  EXPECT_EQ(m.substr(0, prefix.size()), prefix) << m;
  EXPECT_NE(m.find("H100-SXM"), std::string::npos) << m;
}

TEST(ClusterInventoryTest, MissingFileIsNotFound) {
  testing::TempDir dir;
  const auto path = dir.path() / "none.yaml";
  auto inv = ReadClusterInventory(path, Catalog());
  ASSERT_FALSE(inv.has_value());
  EXPECT_EQ(inv.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(inv.error().message(), path.string() + ": no such file");
}

TEST(ClusterInventoryTest, ErrorsFromAFileNameIt) {
  testing::TempDir dir;
  const std::string path = dir.Write("inv.yaml", std::string(kNode) + "    gpus: 20\n");
  auto inv = ReadClusterInventory(path, Catalog());
  ASSERT_FALSE(inv.has_value());
  EXPECT_EQ(inv.error().message(), path + ":7: nodes[0] a: gpus: given twice");
}

}  // namespace
}  // namespace gpupool::discovery

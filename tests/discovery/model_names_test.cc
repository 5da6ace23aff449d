#include "discovery/model_names.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

namespace gpupool::discovery {
namespace {

TEST(ModelNamesTest, MapsNvmlProductNamesOntoCatalogNames) {
  const struct {
    const char* nvml;
    const char* model;
  } cases[] = {
      {"NVIDIA H100 80GB HBM3", "H100-SXM"},
      {"NVIDIA H100 PCIe", "H100-PCIe"},
      {"NVIDIA H100 NVL", "H100-NVL"},
      {"NVIDIA H200", "H200-SXM"},
      {"NVIDIA H200 NVL", "H200-NVL"},
      {"NVIDIA GH200 480GB", "GH200"},  // contains "H200" too: the longer rule wins
      {"NVIDIA A100-SXM4-80GB", "A100-SXM-80GB"},
      {"NVIDIA A100-SXM4-40GB", "A100-SXM-40GB"},
      {"NVIDIA A100 80GB PCIe", "A100-PCIe-80GB"},
      {"NVIDIA A100-PCIE-40GB", "A100-PCIe-40GB"},
      {"NVIDIA L40S", "L40S"},
      {"NVIDIA L4", "L4"},  // not taken for L40S, nor L40S for L4
      {"NVIDIA A10G", "A10G"},
      {"NVIDIA A10", "A10"},  // A10 must not match A100 and vice versa
      {"NVIDIA GeForce RTX 4090", "RTX-4090"},
      {"Tesla V100-SXM2-32GB", "V100-SXM2"},
      {"Tesla V100-PCIE-32GB", "V100-PCIe"},
      {"NVIDIA A800-SXM4-80GB", "A800-SXM-80GB"},
      {"NVIDIA H800", "H800-SXM"},
      {"Tesla T4", "T4"},
      {"NVIDIA B200", "B200"},
  };
  for (const auto& c : cases) EXPECT_EQ(CatalogModelForNvmlName(c.nvml), c.model) << c.nvml;
}

TEST(ModelNamesTest, UnknownNameMapsToEmptyAndKeepsRawName) {
  EXPECT_EQ(CatalogModelForNvmlName("NVIDIA Quadro P400"), "");
  EXPECT_EQ(ModelOrRawName("NVIDIA Quadro P400"), "NVIDIA Quadro P400");
  EXPECT_EQ(ModelOrRawName("NVIDIA H200"), "H200-SXM");
}

TEST(ModelNamesTest, MappedNamesExistInTheHardwareCatalog) {
  // The catalog's canonical names live in data/hw/gpus.yaml as "- name: X" lines.
  std::ifstream in(std::string(GPUPOOL_SOURCE_DATA_DIR) + "/hw/gpus.yaml");
  if (!in) GTEST_SKIP() << "no data/hw/gpus.yaml in this tree";
  std::set<std::string> catalog;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("- name: ", 0) == 0) catalog.insert(line.substr(8));
  }
  for (const char* nvml :
       {"NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA H200", "NVIDIA A100-SXM4-80GB",
        "NVIDIA A100-SXM4-40GB", "NVIDIA A100 80GB PCIe", "NVIDIA A100-PCIE-40GB", "NVIDIA B200",
        "NVIDIA L40S", "NVIDIA L4", "NVIDIA GeForce RTX 4090", "Tesla V100-SXM2-32GB", "NVIDIA H20",
        "NVIDIA H800", "NVIDIA A800-SXM4-80GB"}) {
    EXPECT_TRUE(catalog.contains(CatalogModelForNvmlName(nvml)))
        << nvml << " -> " << CatalogModelForNvmlName(nvml) << " is not a catalog name";
  }
}

}  // namespace
}  // namespace gpupool::discovery

// Helpers shared by the hw tests: the shipped catalog, and scratch catalog directories.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "hw/catalog.h"

namespace gpupool::hw::testing {

// The catalog shipped under data/hw, loaded from the source tree (not $GPUPOOL_DATA_DIR).
inline const Catalog& Shipped() {
  static const Result<Catalog> c = Catalog::Load(std::string(GPUPOOL_SOURCE_DATA_DIR) + "/hw");
  if (!c) ADD_FAILURE() << c.error().ToString();
  static const Catalog empty;
  return c ? *c : empty;
}

inline std::string TestDataDir() { return std::string(GPUPOOL_TEST_DATA_DIR) + "/hw"; }

// A fresh directory under the system temp dir, removed when the object dies.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("gpupool_hw_" + tag + "_" +
             std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }
  std::string path() const { return path_.string(); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A minimal valid interconnects.yaml for scratch catalogs.
inline constexpr const char* kOneLink = R"(- name: NVLink4
  kind: scale_up
  source: "test"
  bandwidth_gbs: 450
  latency_us: 2
  achievable_fraction: 0.8
)";

// A minimal valid GPU entry; tests splice a broken line into copies of it.
inline constexpr const char* kOneGpu = R"(- name: Test-GPU
  aliases: [tg]
  vendor: NVIDIA
  architecture: Hopper
  year: 2022
  form_factor: SXM5
  pcie_gen: 5
  scale_up_link: NVLink4
  sparsity: true
  source: "test sheet"
  memory_gib: 80
  memory_bandwidth_gbs: 3350
  tdp_w: 700
  scale_up_bandwidth_gbs: 900
  dense_tflops:
    fp32: 67
    bf16: {sparse: 1979}
)";

}  // namespace gpupool::hw::testing

// Hand-built GPU and fabric values for planner tests (figures from ../shared/specs/hardware.md),
// so the planner's tests do not depend on the catalog's data files.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "hw/catalog.h"
#include "planner/comm_model.h"
#include "planner/model_loader.h"

namespace gpupool::planner::testing {

class GpuBuilder {
 public:
  explicit GpuBuilder(std::string name) { g_.name = std::move(name); }
  GpuBuilder& Arch(std::string a) {
    g_.architecture = std::move(a);
    return *this;
  }
  GpuBuilder& MemoryGib(double v) {
    g_.memory_gib.value = v;
    return *this;
  }
  GpuBuilder& BandwidthGbs(double v) {
    g_.memory_bandwidth_gbs.value = v;
    return *this;
  }
  GpuBuilder& ScaleUpGbs(double v) {
    g_.scale_up_bandwidth_gbs.value = v;
    return *this;
  }
  GpuBuilder& Rate(hw::Precision p, double tflops) {
    g_.dense_tflops[p].value = tflops;
    return *this;
  }
  hw::GpuModel Build() const { return g_; }

 private:
  hw::GpuModel g_;
};

// H100 SXM: 80 GB HBM3 at 3.35 TB/s, BF16/FP16 989, FP8/INT8 1979 dense, NVLink 4 900 GB/s.
inline hw::GpuModel H100() {
  return GpuBuilder("H100-SXM")
      .Arch("Hopper")
      .MemoryGib(80)
      .BandwidthGbs(3350)
      .ScaleUpGbs(900)
      .Rate(hw::Precision::kBf16, 989)
      .Rate(hw::Precision::kFp16, 989)
      .Rate(hw::Precision::kFp8, 1979)
      .Rate(hw::Precision::kInt8, 1979)
      .Build();
}
// H800: as H100 with NVLink cut to 400 GB/s.
inline hw::GpuModel H800() {
  hw::GpuModel g = H100();
  g.name = "H800-SXM";
  g.scale_up_bandwidth_gbs.value = 400;
  return g;
}
// A100 SXM 80GB: 2.039 TB/s, BF16 312, INT8 624, no FP8, NVLink 3 600 GB/s.
inline hw::GpuModel A100() {
  return GpuBuilder("A100-SXM-80GB")
      .Arch("Ampere")
      .MemoryGib(80)
      .BandwidthGbs(2039)
      .ScaleUpGbs(600)
      .Rate(hw::Precision::kBf16, 312)
      .Rate(hw::Precision::kFp16, 312)
      .Rate(hw::Precision::kInt8, 624)
      .Build();
}
inline hw::GpuModel A100_40() {
  hw::GpuModel g = A100();
  g.name = "A100-SXM-40GB";
  g.memory_gib.value = 40;
  g.memory_bandwidth_gbs.value = 1555;
  return g;
}
// V100 SXM2 32GB: FP16 125 only, 0.9 TB/s, NVLink 2 300 GB/s.
inline hw::GpuModel V100() {
  return GpuBuilder("V100-SXM2")
      .Arch("Volta")
      .MemoryGib(32)
      .BandwidthGbs(900)
      .ScaleUpGbs(300)
      .Rate(hw::Precision::kFp16, 125)
      .Build();
}

// NVLink at half the bidirectional figure per direction, 80 % achievable, 8 GPUs a node;
// one NIC per GPU between nodes (IB NDR 50 GB/s or HDR 25 GB/s), 90 % achievable.
inline Fabric NvlinkIb(const hw::GpuModel& g, double nic_gbs = 50) {
  Fabric f;
  f.scale_up = LinkTier{"NVLink", g.scale_up_bandwidth_gbs.value / 2, 5.0, 0.8};
  f.scale_out = LinkTier{"IB", nic_gbs, 10.0, 0.9};
  f.gpus_per_node = 8;
  return f;
}

// A named scale-out network with the CLI's defaults (per GPU, per direction).
inline Fabric WithNetwork(const hw::GpuModel& g, const std::string& net) {
  Fabric f = NvlinkIb(g);
  if (net == "IB-HDR") f.scale_out = LinkTier{"IB-HDR", 25, 10.0, 0.9};
  if (net == "IB-NDR") f.scale_out = LinkTier{"IB-NDR", 50, 10.0, 0.9};
  if (net == "RoCE-200G") f.scale_out = LinkTier{"RoCE-200G", 25, 15.0, 0.8};
  if (net == "RoCE-400G") f.scale_out = LinkTier{"RoCE-400G", 50, 15.0, 0.8};
  return f;
}

inline std::filesystem::path ModelsDir() {
  return std::filesystem::path(GPUPOOL_SOURCE_DATA_DIR) / "models";
}

// A preset or config path loaded from data/models; a load failure fails the calling test.
inline ModelSpec Preset(const std::string& name) {
  auto m = LoadModel(name, ModelsDir());
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().ToString());
  return m.value_or(ModelSpec{});
}

}  // namespace gpupool::planner::testing

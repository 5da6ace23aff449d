// GPUs and fabrics for planner tests, read from the hardware catalog (data/hw/*.yaml) with the
// loader `gpupool plan` uses (hw::Catalog) and the fabric builder it uses (planner/fabric.h): the
// tests hold no copy of a hardware figure, so what they check is what the program computes. A test
// that needs an invented GPU builds one itself (GpuBuilder) and says so.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "hw/catalog.h"
#include "planner/comm_model.h"
#include "planner/fabric.h"
#include "planner/kernel_efficiency.h"
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

inline std::filesystem::path DataDir() { return std::filesystem::path(GPUPOOL_SOURCE_DATA_DIR); }

// The catalog of data/hw, loaded once. A catalog that does not load stops the test binary: every
// planner test depends on it.
inline const hw::Catalog& Catalog() {
  static const hw::Catalog* catalog = [] {
    auto c = hw::Catalog::Load((DataDir() / "hw").string());
    if (!c) {
      std::fprintf(stderr, "planner tests: the hardware catalog does not load: %s\n",
                   c.error().ToString().c_str());
      std::abort();
    }
    return new hw::Catalog(std::move(*c));
  }();
  return *catalog;
}

// A catalog GPU by name or alias; an unknown name fails the calling test.
inline hw::GpuModel Gpu(std::string_view name) {
  auto g = Catalog().FindGpu(name);
  EXPECT_TRUE(g.has_value()) << name;
  return g ? **g : hw::GpuModel{};
}
inline hw::GpuModel H100() { return Gpu("H100-SXM"); }
inline hw::GpuModel H800() { return Gpu("H800-SXM"); }
inline hw::GpuModel A100() { return Gpu("A100-SXM-80GB"); }
inline hw::GpuModel V100() { return Gpu("V100-SXM2"); }

// The fabric `gpupool plan --network NET` builds for `g` (the GPU's scale-up link inside a node,
// NET between nodes, 8 GPUs a node).
inline Fabric WithNetwork(const hw::GpuModel& g, std::string_view net = kDefaultNetwork) {
  auto f = CatalogFabric(Catalog(), g, net);
  EXPECT_TRUE(f.has_value()) << g.name << " " << net;
  return f.value_or(Fabric{});
}
// The kernel efficiency table of data/planner, loaded once (the file `gpupool plan` reads).
inline const KernelEfficiencyTable& Kernels() {
  static const KernelEfficiencyTable* table = [] {
    auto t = LoadKernelEfficiency((DataDir() / kKernelEfficiencyFile).string());
    if (!t) {
      std::fprintf(stderr, "planner tests: the kernel efficiency table does not load: %s\n",
                   t.error().ToString().c_str());
      std::abort();
    }
    return new KernelEfficiencyTable(std::move(*t));
  }();
  return *table;
}
// The row `gpupool plan` uses for `g`.
inline KernelEfficiency KernelsFor(const hw::GpuModel& g) {
  return KernelEfficiencyFor(Kernels(), g);
}

// A catalog scale-out link as a tier.
inline LinkTier Network(std::string_view net) {
  auto t = ScaleOutTier(Catalog(), net);
  EXPECT_TRUE(t.has_value()) << net;
  return t.value_or(LinkTier{});
}

inline std::filesystem::path ModelsDir() { return DataDir() / "models"; }

// A preset or config path loaded from data/models; a load failure fails the calling test.
inline ModelSpec Preset(const std::string& name) {
  auto m = LoadModel(name, ModelsDir());
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().ToString());
  return m.value_or(ModelSpec{});
}

}  // namespace gpupool::planner::testing

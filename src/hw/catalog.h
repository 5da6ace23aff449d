// The hardware catalog: GPUs and interconnects with their published figures and a source for
// each. Loaded from data files under data/hw/ (DataDir()). The planner (src/planner) reads GPU
// rates, memory, bandwidth and links from here; `gpupool hw` shows and checks them.
//
// Contract (shared by src/hw and its users; implementation in catalog.cc):
// - Rates are DENSE peak TFLOPS (TOPS for integer types) per GPU; sparse figures are never stored
//   as dense. A precision the GPU cannot run natively has no rate (std::nullopt).
// - Every figure carries a source; figures not checked against a primary source are marked
//   unverified.
// - Thread safety: a loaded Catalog is immutable and may be shared between threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpupool::hw {

enum class Precision { kFp64, kFp32, kTf32, kBf16, kFp16, kFp8, kInt8, kFp4, kInt4 };

// "fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "int4".
std::string_view PrecisionName(Precision p);
Result<Precision> ParsePrecision(std::string_view name);

struct Sourced {
  double value = 0;
  std::string source;     // URL or document + page
  bool verified = true;   // false: not checked against a primary source
};

struct GpuModel {
  std::string name;                  // canonical, e.g. "H100-SXM"
  std::vector<std::string> aliases;  // "h100", "h100-sxm5-80gb", ...
  std::string vendor;                // "NVIDIA", "AMD", "Huawei"
  std::string architecture;          // "Hopper"
  int year = 0;
  std::string form_factor;           // "SXM", "PCIe", "OAM", ...
  Sourced memory_gib;
  Sourced memory_bandwidth_gbs;      // GB/s
  Sourced tdp_w;
  int pcie_gen = 0;
  std::string scale_up_link;         // interconnect name in the catalog ("NVLink4"), "" = PCIe only
  Sourced scale_up_bandwidth_gbs;    // per GPU, bidirectional GB/s
  std::map<Precision, Sourced> dense_tflops;  // absent = not supported natively

  std::optional<double> DenseTflops(Precision p) const;
};

enum class LinkKind { kScaleUp, kPcie, kScaleOut };

struct Interconnect {
  std::string name;           // "NVLink4", "PCIe5-x16", "IB-NDR", "RoCE-400G"
  LinkKind kind = LinkKind::kScaleOut;
  Sourced bandwidth_gbs;      // per direction per GPU/NIC, GB/s
  Sourced latency_us;         // one-way small-message latency
  double achievable_fraction = 0.8;  // share of bandwidth collectives reach in practice
};

class Catalog {
 public:
  // Loads the catalog files from `dir` (data/hw/ by default). Errors name file, line and field.
  static Result<Catalog> Load(const std::string& dir);
  // The catalog from DataDir()/hw, loaded once.
  static Result<const Catalog*> Default();

  const std::vector<GpuModel>& gpus() const { return gpus_; }
  const std::vector<Interconnect>& interconnects() const { return interconnects_; }

  // Case-insensitive match of common spellings ("H100", "h100-sxm", "A100-80GB", "4090").
  // NotFound lists the closest known names.
  Result<const GpuModel*> FindGpu(std::string_view name) const;
  Result<const Interconnect*> FindInterconnect(std::string_view name) const;

 private:
  std::vector<GpuModel> gpus_;
  std::vector<Interconnect> interconnects_;
};

}  // namespace gpupool::hw

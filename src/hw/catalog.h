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
#include <utility>
#include <vector>

#include "common/status.h"

namespace gpupool::hw {

enum class Precision { kFp64, kFp32, kTf32, kBf16, kFp16, kFp8, kInt8, kFp4, kInt4 };

// "fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "int4".
std::string_view PrecisionName(Precision p);
Result<Precision> ParsePrecision(std::string_view name);

struct Sourced {
  double value = 0;
  std::string source;    // URL or document + page
  bool verified = true;  // false: not checked against a primary source
};

struct GpuModel {
  std::string name;                  // canonical, e.g. "H100-SXM"
  std::vector<std::string> aliases;  // "h100", "h100-sxm5-80gb", ...
  std::string vendor;                // "NVIDIA", "AMD", "Huawei"
  std::string architecture;          // "Hopper"
  int year = 0;
  std::string form_factor;  // "SXM", "PCIe", "OAM", ...
  Sourced memory_gib;
  Sourced memory_bandwidth_gbs;  // GB/s
  // What the CUDA driver reports as the device's total memory (cudaMemGetInfo), GiB: a little
  // under memory_gib. 0 = not given (then memory_gib is used). Serving engines size their memory
  // budget as this x gpu_memory_utilization.
  Sourced cuda_total_gib;
  Sourced tdp_w;
  int pcie_gen = 0;
  std::string scale_up_link;       // interconnect name in the catalog ("NVLink4"), "" = PCIe only
  Sourced scale_up_bandwidth_gbs;  // per GPU, bidirectional GB/s (PCIe-only GPUs: the x16 slot,
                                   // both directions)
  std::map<Precision, Sourced> dense_tflops;  // absent = not supported natively

  std::optional<double> DenseTflops(Precision p) const;

  // --- Added by src/hw (additive; the fields above are the planner's contract). ---
  std::string source;                // the entry's default source (architecture, year, PCIe gen)
  bool verified = true;              // the entry's default verification state
  bool structured_sparsity = false;  // 2:4 sparsity doubles the tensor rates
  std::map<Precision, Sourced> vector_tflops;  // non-tensor (CUDA core / vector) rates that differ
  std::vector<std::string> notes;

  // The rate a datasheet quotes "with sparsity": 2 x dense for a tensor precision (tf32 and
  // narrower) on a GPU with structured sparsity; nullopt otherwise.
  std::optional<double> SparseTflops(Precision p) const;
  // Every figure of the entry, in display order, named ("memory_gib", "dense.fp16", ...).
  std::vector<std::pair<std::string, const Sourced*>> Figures() const;
};

// True for the precisions that run on tensor/matrix units and have a 2:4 sparse rate:
// tf32, bf16, fp16, fp8, int8, fp4, int4.
bool IsTensorPrecision(Precision p);
// All precisions in display order (fp64 first).
const std::vector<Precision>& AllPrecisions();

enum class LinkKind { kScaleUp, kPcie, kScaleOut };

struct Interconnect {
  std::string name;  // "NVLink4", "PCIe5-x16", "IB-NDR", "RoCE-400G"
  LinkKind kind = LinkKind::kScaleOut;
  Sourced bandwidth_gbs;             // per direction per GPU/NIC, GB/s
  Sourced latency_us;                // one-way small-message latency
  double achievable_fraction = 0.8;  // share of bandwidth collectives reach in practice

  // --- Added by src/hw (additive). ---
  std::vector<std::string> aliases;
  std::string source;                   // the entry's default source
  Sourced achievable_fraction_sourced;  // the same figure with its source
};

std::string_view LinkKindName(LinkKind kind);  // "scale_up", "pcie", "scale_out"

// A host CPU (one socket) with the peak vector rate that `gpupool hw speedup` compares against.
struct CpuModel {
  std::string name;  // "EPYC-9654"
  std::vector<std::string> aliases;
  std::string vendor;        // "Intel", "AMD"
  std::string arch;          // "x86", "arm"
  std::string architecture;  // "Zen 4"
  int year = 0;
  std::string source;
  Sourced cores;
  Sourced base_ghz;
  Sourced fp64_flops_per_cycle;  // per core
  Sourced fp32_flops_per_cycle;

  // cores x base GHz x FLOPs/cycle / 1000; fp64 or fp32 only (nullopt for other precisions).
  std::optional<double> PeakTflops(Precision p) const;
};

// One fixed server configuration, for requirement checks (`gpupool hw check`).
struct ServerCpu {
  std::string model;
  std::string arch;  // "x86", "arm"
  int sockets = 0;
  int cores_per_socket = 0;
  double base_ghz = 0;
};
struct ServerMemory {
  int gib = 0;
  std::string type;  // "DDR5"
  int mhz = 0;       // 0 = not stated
  int dimms = 0;     // 0 = not stated
  int dimm_gib = 0;  // 0 = not stated
};
struct Drive {
  std::string kind;  // "nvme", "sata-ssd", "sas-ssd", "hdd"
  int count = 0;
  double tb = 0;  // decimal TB per drive
};
struct Nic {
  std::string model;
  std::string kind;  // "ib", "ethernet", "vpi" (either)
  int gbps = 0;      // per port
  int ports = 1;
  int count = 0;  // cards
};
struct PowerSupplies {
  int count = 0;
  int watts = 0;
  bool hot_swap = false;
};
struct ServerModel {
  std::string name;  // "DGX-H100"
  std::vector<std::string> aliases;
  std::string vendor;
  std::string source;
  bool verified = false;
  std::string gpu;  // canonical GPU name in the catalog
  int gpu_count = 0;
  Sourced gpu_p2p_gbs;  // bidirectional GB/s between any two GPUs
  ServerCpu cpu;
  ServerMemory memory;
  std::vector<Drive> drives;
  std::vector<Nic> nics;
  PowerSupplies psus;
  int rack_units = 0;
  std::vector<std::string> notes;
};

class Catalog {
 public:
  // Loads the catalog files from `dir` (data/hw/ by default): gpus.yaml and interconnects.yaml
  // (required), cpus.yaml and servers.yaml (optional). Errors name file, line and field
  // (INVALID_ARGUMENT for bad content, NOT_FOUND / IO_ERROR for a missing or unreadable file).
  static Result<Catalog> Load(const std::string& dir);
  // The catalog from DataDir()/hw, loaded once.
  static Result<const Catalog*> Default();

  const std::vector<GpuModel>& gpus() const { return gpus_; }
  const std::vector<Interconnect>& interconnects() const { return interconnects_; }

  // Case-insensitive match of common spellings ("H100", "h100-sxm", "A100-80GB", "4090").
  // NotFound lists the closest known names.
  Result<const GpuModel*> FindGpu(std::string_view name) const;
  Result<const Interconnect*> FindInterconnect(std::string_view name) const;

  // --- Added by src/hw (additive). ---
  const std::vector<CpuModel>& cpus() const { return cpus_; }
  const std::vector<ServerModel>& servers() const { return servers_; }
  Result<const CpuModel*> FindCpu(std::string_view name) const;
  Result<const ServerModel*> FindServer(std::string_view name) const;
  // The GPU of a server (always present: Load checks that every server names a catalog GPU).
  const GpuModel& ServerGpu(const ServerModel& server) const;

 private:
  std::vector<GpuModel> gpus_;
  std::vector<Interconnect> interconnects_;
  std::vector<CpuModel> cpus_;
  std::vector<ServerModel> servers_;
};

}  // namespace gpupool::hw

// The values NVML discovery and monitoring produce: what a GPU is (GpuDevice), how it is doing
// right now (GpuSample), and what the driver stack is (DriverInfo). Plain values, freely copyable.
//
// A field NVML cannot give for this GPU (NVML_ERROR_NOT_SUPPORTED, no permission, ...) is
// std::nullopt and shows as "N/A". A GPU that fell off the bus (NVML_ERROR_GPU_IS_LOST) keeps its
// index and carries `error`; every other field may then be empty.
//
// Units: memory in MiB (as nvidia-smi prints it), power in milliwatts (as NVML reports it),
// clocks in MHz, temperatures in degrees Celsius, utilisation in percent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gpupool::discovery {

struct DriverInfo {
  std::string driver_version;       // "550.54.15"
  std::string nvml_version;         // "12.550.54.15"
  std::optional<int> cuda_version;  // 12040 = CUDA 12.4 (nvmlSystemGetCudaDriverVersion_v2)
};

// "12.4" for 12040; "N/A" when unknown.
std::string CudaVersionString(std::optional<int> cuda_version);

struct MigInstance {
  int index = 0;     // MIG device index on its parent GPU
  std::string uuid;  // "MIG-..."
  std::string name;  // "NVIDIA A100-SXM4-80GB MIG 3g.40gb"
  std::optional<std::int64_t> memory_total_mib;
  std::optional<int> gpu_instance_id;
};

struct GpuDevice {
  int index = 0;
  std::string uuid;   // "GPU-..."
  std::string name;   // as NVML reports it: "NVIDIA H100 80GB HBM3"
  std::string model;  // catalog name ("H100-SXM") or the raw name when unmapped
  std::string error;  // non-empty: the GPU is lost or unreadable; why
  std::optional<std::int64_t> memory_total_mib;
  std::string pci_bus_id;       // "00000000:18:00.0"
  std::optional<int> cc_major;  // CUDA compute capability, e.g. 9.0
  std::optional<int> cc_minor;
  std::optional<bool> mig_enabled;  // nullopt: the GPU has no MIG
  std::vector<MigInstance> mig_instances;
  int numa_node = -1;        // -1 = unknown
  std::string cpu_affinity;  // "0-31,64-95"; empty = unknown
  std::optional<std::int64_t> power_limit_mw;

  bool ok() const { return error.empty(); }
};

struct GpuProcess {
  int gpu_index = 0;
  unsigned int pid = 0;
  std::string name;  // process name; empty when NVML cannot tell
  std::optional<std::int64_t> used_memory_mib;
};

// Throttle reason bits mapped to short names ("sw_power_cap", "hw_thermal_slowdown", ...), in bit
// order. Unknown bits show as "0x...".
std::vector<std::string> ThrottleReasonNames(std::uint64_t reasons);

struct GpuSample {
  int index = 0;
  std::string uuid;
  std::string name;
  std::string model;
  std::string error;  // non-empty: lost or unreadable
  std::optional<int> gpu_util_pct;
  std::optional<int> memory_util_pct;
  std::optional<std::int64_t> memory_total_mib;
  std::optional<std::int64_t> memory_used_mib;
  std::optional<std::int64_t> memory_free_mib;
  std::optional<int> temperature_c;
  std::optional<std::int64_t> power_draw_mw;
  std::optional<std::int64_t> power_limit_mw;
  std::optional<int> sm_clock_mhz;
  std::optional<int> memory_clock_mhz;
  std::optional<std::int64_t> ecc_corrected;  // volatile counts since the driver loaded
  std::optional<std::int64_t> ecc_uncorrected;
  std::optional<std::uint64_t> throttle_reasons;  // NVML bit mask
  std::optional<bool> mig_enabled;
  std::vector<GpuProcess> processes;

  bool ok() const { return error.empty(); }
};

}  // namespace gpupool::discovery

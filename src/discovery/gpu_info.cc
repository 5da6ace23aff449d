#include "discovery/gpu_info.h"

#include <cstdio>

namespace gpupool::discovery {

std::string CudaVersionString(std::optional<int> cuda_version) {
  if (!cuda_version || *cuda_version <= 0) return "N/A";
  // NVML encodes CUDA x.y as 1000*x + 10*y.
  return std::to_string(*cuda_version / 1000) + "." + std::to_string((*cuda_version % 1000) / 10);
}

std::vector<std::string> ThrottleReasonNames(std::uint64_t reasons) {
  static constexpr const char* kNames[] = {
      "gpu_idle",
      "applications_clocks_setting",
      "sw_power_cap",
      "hw_slowdown",
      "sync_boost",
      "sw_thermal_slowdown",
      "hw_thermal_slowdown",
      "hw_power_brake_slowdown",
      "display_clock_setting",
  };
  constexpr int kKnown = static_cast<int>(sizeof kNames / sizeof kNames[0]);
  std::vector<std::string> names;
  for (int bit = 0; bit < 64; ++bit) {
    if (((reasons >> bit) & 1ULL) == 0) continue;
    if (bit < kKnown) {
      names.emplace_back(kNames[bit]);
    } else {
      char buf[24];
      std::snprintf(buf, sizeof buf, "0x%llx", 1ULL << bit);
      names.emplace_back(buf);
    }
  }
  return names;
}

}  // namespace gpupool::discovery

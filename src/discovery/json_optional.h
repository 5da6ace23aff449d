// JSON for optional readings: a value, or null where NVML did not answer (not supported, lost
// GPU). Shared by the smi report and the inventory file so both spell "no reading" the same way.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

namespace gpupool::discovery {

template <typename T>
nlohmann::ordered_json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace gpupool::discovery

#include "planner/gpu_rates.h"

#include <algorithm>

namespace gpupool::planner {

std::string PrecisionLabel(hw::Precision p) { return std::string(hw::PrecisionName(p)); }

Result<hw::Precision> ParsePrecisionLabel(std::string_view s) { return hw::ParsePrecision(s); }

double BytesPerElement(hw::Precision p) {
  switch (p) {
    case hw::Precision::kFp64:
      return 8;
    case hw::Precision::kFp32:
    case hw::Precision::kTf32:
      return 4;
    case hw::Precision::kBf16:
    case hw::Precision::kFp16:
      return 2;
    case hw::Precision::kFp8:
    case hw::Precision::kInt8:
      return 1;
    case hw::Precision::kFp4:
    case hw::Precision::kInt4:
      return 0.5;
  }
  return 2;
}

std::optional<double> PeakTflops(const hw::GpuModel& gpu, hw::Precision p) {
  auto it = gpu.dense_tflops.find(p);
  if (it == gpu.dense_tflops.end() || it->second.value <= 0) return std::nullopt;
  return it->second.value;
}

std::optional<hw::Precision> SixteenBitPrecision(const hw::GpuModel& gpu) {
  if (PeakTflops(gpu, hw::Precision::kBf16)) return hw::Precision::kBf16;
  if (PeakTflops(gpu, hw::Precision::kFp16)) return hw::Precision::kFp16;
  return std::nullopt;
}

double MemoryBytesPerSecond(const hw::GpuModel& gpu) {
  return gpu.memory_bandwidth_gbs.value * 1e9;
}

}  // namespace gpupool::planner

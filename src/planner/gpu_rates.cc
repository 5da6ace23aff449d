#include "planner/gpu_rates.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/strings.h"

namespace gpupool::planner {
namespace {
constexpr std::array<std::pair<hw::Precision, const char*>, 9> kLabels{{
    {hw::Precision::kFp64, "fp64"},
    {hw::Precision::kFp32, "fp32"},
    {hw::Precision::kTf32, "tf32"},
    {hw::Precision::kBf16, "bf16"},
    {hw::Precision::kFp16, "fp16"},
    {hw::Precision::kFp8, "fp8"},
    {hw::Precision::kInt8, "int8"},
    {hw::Precision::kFp4, "fp4"},
    {hw::Precision::kInt4, "int4"},
}};
}  // namespace

std::string PrecisionLabel(hw::Precision p) {
  for (const auto& [v, s] : kLabels) {
    if (v == p) return s;
  }
  return "?";
}

Result<hw::Precision> ParsePrecisionLabel(std::string_view s) {
  const std::string lower = Lower(s);
  for (const auto& [v, label] : kLabels) {
    if (lower == label) return v;
  }
  return Error(
      Status::InvalidArgument("unknown precision '" + std::string(s) +
                              "' (one of fp64, fp32, tf32, bf16, fp16, fp8, int8, fp4, int4)"));
}

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

// GPU rate helpers shared by the inference and training estimates: bytes per stored element of a
// precision, the dense peak rate a GPU has for it (read from hw::GpuModel::dense_tflops, so the
// planner core needs only the catalog's data types, not its loader), and the 16-bit compute
// precision a GPU falls back to (BF16 where it exists, else FP16).
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "hw/catalog.h"

namespace gpupool::planner {

inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// Bytes one stored element takes: fp64 8, fp32/tf32 4, bf16/fp16 2, fp8/int8 1, fp4/int4 0.5.
double BytesPerElement(hw::Precision p);

// Dense peak TFLOPS (TOPS for integers) of `gpu` at `p`; nullopt when not supported natively.
std::optional<double> PeakTflops(const hw::GpuModel& gpu, hw::Precision p);

// BF16 when the GPU runs it, else FP16, else nullopt (no 16-bit tensor rate at all).
std::optional<hw::Precision> SixteenBitPrecision(const hw::GpuModel& gpu);

// "bf16", "fp8", ...: hw::PrecisionName as a string (the catalog holds the one list of names).
std::string PrecisionLabel(hw::Precision p);
// hw::ParsePrecision: the labels above, case-insensitive; InvalidArgument lists them.
Result<hw::Precision> ParsePrecisionLabel(std::string_view s);

// Memory bandwidth in bytes/s (the catalog stores GB/s).
double MemoryBytesPerSecond(const hw::GpuModel& gpu);

}  // namespace gpupool::planner

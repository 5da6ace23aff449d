#include "planner/gpu_rates.h"

#include <gtest/gtest.h>

#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

TEST(GpuRatesTest, BytesPerElement) {
  // fp32 4, bf16/fp16 2, fp8/int8 1, int4/fp4 0.5.
  EXPECT_EQ(BytesPerElement(hw::Precision::kFp32), 4.0);
  EXPECT_EQ(BytesPerElement(hw::Precision::kBf16), 2.0);
  EXPECT_EQ(BytesPerElement(hw::Precision::kFp16), 2.0);
  EXPECT_EQ(BytesPerElement(hw::Precision::kFp8), 1.0);
  EXPECT_EQ(BytesPerElement(hw::Precision::kInt8), 1.0);
  EXPECT_EQ(BytesPerElement(hw::Precision::kInt4), 0.5);
}

TEST(GpuRatesTest, MissingPrecisionHasNoRate) {
  EXPECT_FALSE(PeakTflops(testing::A100(), hw::Precision::kFp8).has_value());
  EXPECT_EQ(PeakTflops(testing::A100(), hw::Precision::kBf16).value_or(0), 312.0);
}

TEST(GpuRatesTest, SixteenBitFallsBackToFp16) {
  EXPECT_EQ(SixteenBitPrecision(testing::H100()), hw::Precision::kBf16);
  EXPECT_EQ(SixteenBitPrecision(testing::V100()), hw::Precision::kFp16);  // Volta: no BF16
  EXPECT_FALSE(SixteenBitPrecision(hw::GpuModel{}).has_value());
}

TEST(GpuRatesTest, PrecisionLabelsRoundTrip) {
  for (const char* s : {"fp32", "bf16", "fp16", "fp8", "int8", "int4", "fp4"}) {
    auto p = ParsePrecisionLabel(s);
    ASSERT_TRUE(p.has_value()) << s;
    EXPECT_EQ(PrecisionLabel(*p), s);
  }
  EXPECT_EQ(ParsePrecisionLabel("BF16").value_or(hw::Precision::kFp64), hw::Precision::kBf16);
  auto bad = ParsePrecisionLabel("fp7");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("int4"), std::string::npos);
}

TEST(GpuRatesTest, MemoryBandwidthInBytes) {
  EXPECT_DOUBLE_EQ(MemoryBytesPerSecond(testing::H100()), 3350e9);
}

}  // namespace
}  // namespace gpupool::planner

#include "discovery/gpu_info.h"

#include <gtest/gtest.h>

namespace gpupool::discovery {
namespace {

TEST(GpuInfoTest, CudaVersionDecodesNvmlEncoding) {
  EXPECT_EQ(CudaVersionString(12040), "12.4");  // 12*1000 + 4*10
  EXPECT_EQ(CudaVersionString(11080), "11.8");
  EXPECT_EQ(CudaVersionString(std::nullopt), "N/A");
}

TEST(GpuInfoTest, ThrottleReasonsNamedInBitOrder) {
  // 68 = 0x44 = sw_power_cap (0x4) + hw_thermal_slowdown (0x40)
  EXPECT_EQ(ThrottleReasonNames(68),
            (std::vector<std::string>{"sw_power_cap", "hw_thermal_slowdown"}));
  EXPECT_TRUE(ThrottleReasonNames(0).empty());
  EXPECT_EQ(ThrottleReasonNames(0x1000), (std::vector<std::string>{"0x1000"}));
}

}  // namespace
}  // namespace gpupool::discovery

#include "executor/gpu_shim.h"

#include <gtest/gtest.h>

namespace gpupool::executor {
namespace {

TEST(GpuShimTest, FractionsAndCapsNeedTheShimWholeGpusDoNot) {
  struct Case {
    std::vector<std::string> env;
    bool want;
  };
  const Case cases[] = {
      {{"GPUPOOL_GPU_MILLI=500", "GPUPOOL_GPU_MEMORY_MIB=0"}, true},      // half a GPU
      {{"GPUPOOL_GPU_MILLI=1000", "GPUPOOL_GPU_MEMORY_MIB=0"}, false},    // a whole GPU
      {{"GPUPOOL_GPU_MILLI=1000", "GPUPOOL_GPU_MEMORY_MIB=8192"}, true},  // whole, memory capped
      {{"GPUPOOL_GPU_MILLI=0", "GPUPOOL_GPU_MEMORY_MIB=0"}, false},       // CPU-only job
      {{"GPUPOOL_GPU_MILLI=1000", "GPUPOOL_GPU_MILLI=250"}, true},        // the last one wins
      {{"HOME=/root"}, false},                                            // outside gpupool
  };
  for (const Case& c : cases) {
    const auto needs = NeedsGpuShim(c.env);
    ASSERT_TRUE(needs.has_value()) << needs.error().ToString();
    EXPECT_EQ(*needs, c.want) << c.env.front();
  }
}

TEST(GpuShimTest, BadShareNamesTheVariable) {
  const auto needs = NeedsGpuShim({"GPUPOOL_GPU_MEMORY_MIB=lots"});
  ASSERT_FALSE(needs.has_value());
  EXPECT_EQ(needs.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(needs.error().message().find("GPUPOOL_GPU_MEMORY_MIB='lots'"), std::string::npos);
}

TEST(GpuShimTest, ShimGoesFirstInLdPreload) {
  EXPECT_EQ(PreloadWithShim("/l/shim.so", ""), "/l/shim.so");
  EXPECT_EQ(PreloadWithShim("/l/shim.so", "/a.so:/b.so"), "/l/shim.so:/a.so:/b.so");
  EXPECT_EQ(PreloadWithShim("/l/shim.so", "/a.so /l/shim.so"), "/l/shim.so:/a.so");
}

}  // namespace
}  // namespace gpupool::executor

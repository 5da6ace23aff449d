#include "shim/shim_config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace gpupool::shim {
namespace {

ShimConfigResult Parse(const std::map<std::string, std::string>& env) {
  return ParseShimConfig([&](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(ShimConfigTest, ReadsTheJobsShare) {
  const ShimConfigResult r = Parse(
      {{"GPUPOOL_JOB_ID", "42"}, {"GPUPOOL_GPU_MILLI", "250"}, {"GPUPOOL_GPU_MEMORY_MIB", "4096"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.config.job_id, 42);
  EXPECT_EQ(r.config.gpu_milli, 250);
  EXPECT_EQ(r.config.memory_mib, 4096);
  EXPECT_TRUE(r.config.paced());
  EXPECT_TRUE(r.config.enforces());
}

TEST(ShimConfigTest, MemoryCapRules) {
  constexpr std::uint64_t kGpu = 81559ULL * kMiB;  // an H100's 81559 MiB
  struct Case {
    int milli;
    std::int64_t mib;
    std::uint64_t want_mib;
  };
  const Case cases[] = {
      {250, 4096, 4096},   // explicit cap wins
      {250, 0, 20389},     // 81559 * 250 / 1000 = 20389.75 -> 20389
      {1000, 0, 0},        // whole GPU, no cap
      {0, 0, 0},           // no share given
      {1000, 2048, 2048},  // whole GPU with an explicit cap
  };
  for (const Case& c : cases) {
    ShimConfig config;
    config.gpu_milli = c.milli;
    config.memory_mib = c.mib;
    EXPECT_EQ(config.MemoryCapBytes(kGpu), c.want_mib * kMiB) << c.milli << " " << c.mib;
  }
}

TEST(ShimConfigTest, BadValuesNameTheVariable) {
  EXPECT_EQ(Parse({{"GPUPOOL_GPU_MILLI", "1001"}}).error,
            "GPUPOOL_GPU_MILLI='1001' is not an integer from 0 to 1000");
  EXPECT_EQ(Parse({{"GPUPOOL_GPU_MEMORY_MIB", "4G"}}).error,
            "GPUPOOL_GPU_MEMORY_MIB='4G' is not an integer from 0 to 1073741824");
  EXPECT_EQ(Parse({{"GPUPOOL_JOB_ID", "-3"}}).error,
            "GPUPOOL_JOB_ID='-3' is not an integer from 1 to 9223372036854775807");
  EXPECT_EQ(Parse({{"GPUPOOL_GPU_MILLI", ""}}).error, "");  // empty = unset
}

}  // namespace
}  // namespace gpupool::shim

#include "cluster/pod_request.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::cluster {
namespace {
using testing::Pod;

TEST(PodRequestTest, ShapesAndTags) {
  EXPECT_EQ(Pod(1000, 0, 0).shape(), PodShape::kCpuOnly);
  EXPECT_EQ(Pod(1000, 1, 500).shape(), PodShape::kSharedGpu);
  EXPECT_EQ(Pod(1000, 4, 1000).shape(), PodShape::kWholeGpus);
  EXPECT_EQ(Pod(1000, 0, 0).tag(), 0u);
  EXPECT_EQ(Pod(1000, 1, 500).tag(), 1u);        // share -> bit 0
  EXPECT_EQ(Pod(1000, 4, 1000).tag(), 1u << 4);  // 4-gpu -> bit 4
  EXPECT_EQ(Pod(1000, 4, 1000).total_gpu_milli(), 4000);
}

TEST(PodRequestTest, ValidationNamesTheField) {
  struct Case {
    PodRequest r;
    const char* field;
  } cases[] = {
      {Pod(-1, 0, 0), "cpu_milli"},  {Pod(0, 1, 1200), "gpu_milli"},  // over one GPU
      {Pod(0, 2, 500), "gpu_milli"},  // multi-GPU with a fractional share
      {Pod(0, 0, 300), "gpu_milli"},  // share without a GPU
      {Pod(0, 1, 0), "gpu_milli"},    // GPU without a share
      {Pod(0, -1, 1000), "num_gpu"},
  };
  for (const auto& c : cases) {
    Status s = ValidatePodRequest(c.r);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message().rfind(c.field, 0), 0u) << s.message();
  }
  EXPECT_TRUE(ValidatePodRequest(Pod(4000, 8, 1000)).ok());
  EXPECT_TRUE(ValidatePodRequest(Pod(4000, 1, 810)).ok());
}

}  // namespace
}  // namespace gpupool::cluster

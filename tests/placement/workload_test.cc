#include "placement/workload.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::Pod;

std::vector<WorkloadPod> Pods(int a, int b, int c) {
  std::vector<WorkloadPod> v;
  for (int i = 0; i < a; ++i)
    v.push_back({Pod(4000, 1, 500, 100 + i), ""});  // memory is not in the key
  for (int i = 0; i < b; ++i) v.push_back({Pod(8000, 1, 1000), ""});
  for (int i = 0; i < c; ++i) v.push_back({Pod(2000, 0, 0), ""});
  return v;
}

TEST(WorkloadTest, CoversNinetyFivePercentMostPopularFirst) {
  // 6 A, 3 B, 1 C: 6 < 9.5, 9 < 9.5, 10 >= 9.5 -> all three; p = 0.6, 0.3, 0.1
  Workload w = Workload::FromPods(Pods(6, 3, 1));
  ASSERT_EQ(w.classes.size(), 3u);
  EXPECT_EQ(w.classes[0].gpu_milli, 500);
  EXPECT_DOUBLE_EQ(w.classes[0].weight, 0.6);
  EXPECT_DOUBLE_EQ(w.classes[1].weight, 0.3);
  EXPECT_DOUBLE_EQ(w.classes[2].weight, 0.1);
  // coverage 0.8: A (6 < 8), B (9 >= 8) -> p = 6/9, 3/9
  Workload w8 = Workload::FromPods(Pods(6, 3, 1), 0.8);
  ASSERT_EQ(w8.classes.size(), 2u);
  EXPECT_DOUBLE_EQ(w8.classes[0].weight, 6.0 / 9.0);
}

TEST(WorkloadTest, SpecWithDuplicatesIsItsOwnClass) {
  auto r = Pod(4000, 1, 1000);
  r.allowed_models = 0b11;
  std::vector<WorkloadPod> v = {
      {r, "V100M16|V100M32"}, {r, "V100M16|V100M32|V100M32"}, {r, "V100M16|V100M32"}};
  Workload w = Workload::FromPods(v, 1.0);
  ASSERT_EQ(w.classes.size(), 2u);
  EXPECT_EQ(w.classes[0].count, 2);
  EXPECT_EQ(w.classes[1].count, 1);
}

}  // namespace
}  // namespace gpupool::placement

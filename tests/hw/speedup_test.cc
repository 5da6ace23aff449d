#include "hw/speedup.h"

#include <gtest/gtest.h>

#include <cmath>

#include "hw/hw_test_util.h"

namespace gpupool::hw {
namespace {

using testing::Shipped;

TEST(SpeedupTest, AmdahlTable) {
  struct Case {
    double p, gpu, cpu;
    int gpus, sockets;
    double k, s;
  };
  const Case table[] = {
      // p = 0.95, k = 10: S = 1 / (0.05 + 0.95 / 10) = 1 / 0.145 = 6.8966
      {0.95, 10, 1, 1, 1, 10, 1 / 0.145},
      // p = 0.5, k = 2: S = 1 / (0.5 + 0.25) = 1.3333
      {0.5, 2, 1, 1, 1, 2, 4.0 / 3},
      // p = 0: nothing accelerates, S = 1 whatever k is
      {0.0, 100, 1, 1, 1, 100, 1},
      // p = 1: S = k
      {1.0, 50, 2, 1, 1, 25, 25},
      // 4 GPUs of 10 against 2 sockets of 1: k = 40 / 2 = 20; p = 0.9: S = 1 / (0.1 + 0.045)
      // = 6.8966
      {0.9, 10, 1, 4, 2, 20, 1 / 0.145},
  };
  for (const auto& c : table) {
    auto r = AmdahlSpeedup({c.p, c.gpu, c.cpu, c.gpus, c.sockets});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_NEAR(r->k, c.k, 1e-12);
    EXPECT_NEAR(r->speedup, c.s, 1e-9) << "p=" << c.p << " k=" << c.k;
    EXPECT_NEAR(r->efficiency, c.s / c.k, 1e-12);
  }
}

TEST(SpeedupTest, LimitIsOneOverSerialShare) {
  // p = 0.95: at most 1 / 0.05 = 20x, however fast the GPU (k = 1e9 gives 19.9999996).
  auto r = AmdahlSpeedup({0.95, 1e9, 1, 1, 1});
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(r->limit, 20, 1e-9);
  EXPECT_LT(r->speedup, r->limit);
  EXPECT_NEAR(r->speedup, 20, 1e-5);
  EXPECT_TRUE(std::isinf(AmdahlSpeedup({1.0, 2, 1, 1, 1})->limit));
}

TEST(SpeedupTest, H100AgainstEpyc9654FromTheCatalog) {
  const GpuModel& h100 = **Shipped().FindGpu("H100");
  const CpuModel& epyc = **Shipped().FindCpu("EPYC-9654");
  // FP64 (tensor) 67 against 96 x 2.4 x 16 / 1000 = 3.6864: k = 18.1749;
  // p = 0.9: S = 1 / (0.1 + 0.9 / 18.1749) = 1 / 0.149519 = 6.6881.
  auto in = SpeedupInputFor(h100, epyc, Precision::kFp64, 0.9, 1, 1, false);
  ASSERT_TRUE(in.has_value());
  auto r = AmdahlSpeedup(*in);
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(r->k, 18.1749, 1e-4);
  EXPECT_NEAR(r->speedup, 6.6881, 1e-4);
  // --vector: FP64 on CUDA cores, 34: k = 9.2231; p = 0.95: S = 1 / (0.05 + 0.95 / 9.2231)
  // = 6.5358.
  auto vin = SpeedupInputFor(h100, epyc, Precision::kFp64, 0.95, 1, 1, true);
  ASSERT_TRUE(vin.has_value());
  EXPECT_DOUBLE_EQ(vin->gpu_tflops, 34);
  EXPECT_NEAR(AmdahlSpeedup(*vin)->speedup, 6.5358, 1e-4);
}

TEST(SpeedupTest, RefusesBadInput) {
  EXPECT_EQ(AmdahlSpeedup({1.2, 1, 1, 1, 1}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AmdahlSpeedup({-0.1, 1, 1, 1, 1}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AmdahlSpeedup({std::nan(""), 1, 1, 1, 1}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AmdahlSpeedup({0.5, 0, 1, 1, 1}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AmdahlSpeedup({0.5, 1, 1, 0, 1}).error().code(), StatusCode::kInvalidArgument);
  // The 910B has no FP64 rate; CPUs have no BF16 peak in the catalog.
  const CpuModel& epyc = **Shipped().FindCpu("EPYC-9654");
  EXPECT_FALSE(
      SpeedupInputFor(**Shipped().FindGpu("910B"), epyc, Precision::kFp64, 0.9, 1, 1, false));
  EXPECT_FALSE(
      SpeedupInputFor(**Shipped().FindGpu("H100"), epyc, Precision::kBf16, 0.9, 1, 1, false));
}

}  // namespace
}  // namespace gpupool::hw

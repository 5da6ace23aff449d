#include "shim/pacer.h"

#include <gtest/gtest.h>

namespace gpupool::shim {
namespace {

constexpr std::int64_t kMs = 1'000'000;

TEST(KernelCostTest, ScalesByThePartOfTheSmsAGridHolds) {
  struct Case {
    std::int64_t ns;
    std::uint64_t blocks;
    int sms;
    std::int64_t want;
  };
  const Case cases[] = {
      {2 * kMs, 132, 132, 2 * kMs},   // full GPU: the whole duration
      {2 * kMs, 1000, 132, 2 * kMs},  // more blocks than SMs: still the whole GPU
      {2 * kMs, 33, 132, kMs / 2},    // 2 ms * 33 / 132 = 0.5 ms
      {2 * kMs, 33, 108, 611'111},    // 2e6 * 33 / 108 = 611,111.1 (an A100)
      {2 * kMs, 1, 0, 2 * kMs},       // SM count unknown: the whole duration
      {0, 10, 132, 0},                // not measured yet: free
  };
  for (const Case& c : cases) {
    EXPECT_EQ(KernelCost(c.ns, c.blocks, c.sms), c.want) << c.ns << " " << c.blocks << " " << c.sms;
  }
}

TEST(PacerTest, BackToBackLaunchesGetTheShare) {
  // 250 milli, 1 ms kernels launched as soon as allowed; min wait 1 ms.
  // t=0:  credit 0 - 1 = -1 ms: not more than 1 ms in debt, no wait.
  // t=0:  -1 - 1 = -2 ms: wait 2 / 0.25 = 8 ms.
  // t=8:  refill 8 * 0.25 = 2 -> 0; -1: no wait.  t=8: -2: wait 8 ms. ... 2 ms per 8 ms = 25 %.
  PaceState s;
  PaceParams p;
  p.milli = 250;
  std::int64_t t = 100 * kMs;
  EXPECT_EQ(Charge(s, t, kMs, p), 0);
  EXPECT_EQ(Charge(s, t, kMs, p), 8 * kMs);
  t += 8 * kMs;
  EXPECT_EQ(Charge(s, t, kMs, p), 0);
  EXPECT_EQ(Charge(s, t, kMs, p), 8 * kMs);
  // Over 100 rounds of 8 ms (800 ms): 200 kernels, 200 ms of GPU time = 25 %.
  std::int64_t gpu = 0;
  const std::int64_t start = t + 8 * kMs;
  t = start;
  while (t < start + 800 * kMs) {
    t += Charge(s, t, kMs, p);  // the launch goes after the wait
    gpu += kMs;
  }
  EXPECT_EQ(gpu, 200 * kMs);
}

TEST(PacerTest, IdleTimeSavesAtMostTheBurst) {
  // 500 milli, burst 10 ms. After 1 s idle the credit is min(500, 10) = 10 ms: ten 1 ms kernels go
  // at once (10 - 10 = 0), an eleventh leaves -1 (no wait), a twelfth -2: wait 2 / 0.5 = 4 ms.
  PaceState s;
  PaceParams p;
  p.milli = 500;
  EXPECT_EQ(Charge(s, kMs, 0, p), 0);  // the job's first launch starts the clock
  const std::int64_t t = 1001 * kMs;
  for (int i = 0; i < 11; ++i) EXPECT_EQ(Charge(s, t, kMs, p), 0) << i;
  EXPECT_EQ(Charge(s, t, kMs, p), 4 * kMs);
}

TEST(PacerTest, LongKernelsWaitTheirWholeDebt) {
  // 750 milli, 30 ms kernels: -30 ms -> wait 30 / 0.75 = 40 ms; after 40 ms the credit is
  // -30 + 30 = 0 again: 30 ms per 40 ms = 75 %.
  PaceState s;
  PaceParams p;
  p.milli = 750;
  EXPECT_EQ(Charge(s, kMs, 30 * kMs, p), 40 * kMs);
  EXPECT_EQ(Charge(s, 41 * kMs, 30 * kMs, p), 40 * kMs);
  EXPECT_EQ(s.credit_ns, -30 * kMs);
}

}  // namespace
}  // namespace gpupool::shim

// Compute pacing: the arithmetic that keeps a job's share of a GPU's time at GPUPOOL_GPU_MILLI.
//
// Model (docs/shim.md, docs/adr/0003-cuda-shim.md): every kernel launch costs GPU time, its
// measured length scaled by the part of the GPU it can occupy: a grid of fewer blocks than the GPU
// has SMs holds blocks/SMs of it, a larger grid all of it (KernelCost). A job holds a credit of GPU
// time that grows at milli/1000 of wall time, up to `burst_ns`; each launch takes its cost from
// the credit; once the credit is more than `min_wait_ns` in debt, the launching thread waits until
// the debt is repaid (the wait Charge returns) before the launch goes to the driver. Over any long
// interval the job's GPU time is then at most milli/1000 of the wall time, plus the burst and one
// kernel. Waiting for debts of at least `min_wait_ns` only keeps sleeps few and long, so short
// kernels are paced as well as long ones.
//
// Pure: time is given, nothing is read or slept here. Thread safety: PaceState is shared by the
// processes of a job (it lives in the job's SharedRegion) and is changed under its lock.
#pragma once

#include <cstdint>

namespace gpupool::shim {

struct PaceState {
  std::int64_t credit_ns = 0;  // GPU time the job may still take; negative: its debt
  std::int64_t last_ns = 0;    // when the credit was last brought up to date; 0: never
};

struct PaceParams {
  int milli = 1000;                      // the job's share, 1..999 when paced
  std::int64_t burst_ns = 10'000'000;    // the most credit an idle job saves up (10 ms)
  std::int64_t min_wait_ns = 1'000'000;  // debts below this are carried, not slept off (1 ms)
};

// The GPU time a launch of a kernel that ran `duration_ns` with `blocks` thread blocks costs on a
// GPU of `sm_count` SMs: duration * min(blocks, sm_count) / sm_count. sm_count <= 0: unknown,
// the whole duration.
std::int64_t KernelCost(std::int64_t duration_ns, std::uint64_t blocks, int sm_count);

// Brings the credit up to `now_ns`, takes `cost_ns` from it and returns how long the caller must
// wait before launching: 0, or the time the debt takes to repay at the job's share.
std::int64_t Charge(PaceState& state, std::int64_t now_ns, std::int64_t cost_ns,
                    const PaceParams& params);

}  // namespace gpupool::shim

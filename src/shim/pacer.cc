#include "shim/pacer.h"

#include <algorithm>

namespace gpupool::shim {

std::int64_t KernelCost(std::int64_t duration_ns, std::uint64_t blocks, int sm_count) {
  if (duration_ns <= 0) return 0;
  if (sm_count <= 0 || blocks >= static_cast<std::uint64_t>(sm_count)) return duration_ns;
  // blocks < sm_count here, so the product stays far below 2^63 for any real duration.
  return duration_ns * static_cast<std::int64_t>(blocks) / sm_count;
}

std::int64_t Charge(PaceState& state, std::int64_t now_ns, std::int64_t cost_ns,
                    const PaceParams& params) {
  const std::int64_t milli = std::clamp(params.milli, 1, 1000);
  if (state.last_ns == 0 || now_ns < state.last_ns) {
    // First launch of the job (or a clock that went back): start with no credit and no debt.
    state.last_ns = now_ns;
    state.credit_ns = std::min<std::int64_t>(state.credit_ns, 0);
  }
  const std::int64_t elapsed = now_ns - state.last_ns;
  state.last_ns = now_ns;
  // No more than the time it takes to refill up to the burst counts (so that elapsed * milli
  // cannot overflow after a long idle time).
  const std::int64_t to_full = (params.burst_ns - state.credit_ns) * 1000 / milli + 1;
  state.credit_ns += std::min(elapsed, to_full) * milli / 1000;
  state.credit_ns = std::min(state.credit_ns, params.burst_ns);
  state.credit_ns -= std::max<std::int64_t>(cost_ns, 0);
  if (state.credit_ns >= -params.min_wait_ns) return 0;
  return -state.credit_ns * 1000 / milli;
}

}  // namespace gpupool::shim

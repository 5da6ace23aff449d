#include "shim/shim_config.h"

#include <cerrno>
#include <cstdlib>

namespace gpupool::shim {
namespace {

// Parses a decimal integer in [lo, hi]; false with `error` naming the variable otherwise.
bool ParseVar(const EnvLookup& get, const char* name, std::int64_t lo, std::int64_t hi,
              std::int64_t* out, std::string* error) {
  const char* text = get(name);
  if (text == nullptr || *text == '\0') return true;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
    *error = std::string(name) + "='" + text + "' is not an integer from " + std::to_string(lo) +
             " to " + std::to_string(hi);
    return false;
  }
  *out = v;
  return true;
}

}  // namespace

std::uint64_t ShimConfig::MemoryCapBytes(std::uint64_t total_bytes) const {
  if (memory_mib > 0) return static_cast<std::uint64_t>(memory_mib) * kMiB;
  if (!paced()) return 0;
  // 1000 milli = the whole memory; whole MiB so that the cap reads the same in every tool.
  const std::uint64_t total_mib = total_bytes / kMiB;
  return total_mib * static_cast<std::uint64_t>(gpu_milli) / 1000 * kMiB;
}

ShimConfigResult ParseShimConfig(const EnvLookup& get) {
  ShimConfigResult r;
  std::int64_t milli = 0;
  // 1 PiB in MiB: far above any GPU, low enough that bytes fit in 64 bits.
  constexpr std::int64_t kMaxMib = std::int64_t{1} << 30;
  if (!ParseVar(get, kJobIdEnv, 1, INT64_MAX, &r.config.job_id, &r.error) ||
      !ParseVar(get, kGpuMilliEnv, 0, 1000, &milli, &r.error) ||
      !ParseVar(get, kGpuMemoryMibEnv, 0, kMaxMib, &r.config.memory_mib, &r.error)) {
    r.config = ShimConfig{};
    return r;
  }
  r.config.gpu_milli = static_cast<int>(milli);
  return r;
}

}  // namespace gpupool::shim

#include "hw/speedup.h"

#include <fmt/format.h>

#include <limits>

namespace gpupool::hw {

Result<SpeedupResult> AmdahlSpeedup(const SpeedupInput& in) {
  const double p = in.parallel_fraction;
  if (!(p >= 0 && p <= 1)) {
    return Error(
        Status::InvalidArgument(fmt::format("--parallel-fraction: {:g} is not in [0, 1]", p)));
  }
  if (!(in.gpu_tflops > 0) || !(in.cpu_tflops > 0)) {
    return Error(Status::InvalidArgument("peak rates must be positive"));
  }
  if (in.gpus < 1 || in.sockets < 1) {
    return Error(Status::InvalidArgument("--gpus and --sockets must be at least 1"));
  }
  SpeedupResult r;
  r.k = (in.gpus * in.gpu_tflops) / (in.sockets * in.cpu_tflops);
  r.serial_share = 1 - p;
  r.parallel_share = p / r.k;
  r.speedup = 1 / (r.serial_share + r.parallel_share);
  r.limit = p < 1 ? 1 / (1 - p) : std::numeric_limits<double>::infinity();
  r.efficiency = r.speedup / r.k;
  return r;
}

Result<SpeedupInput> SpeedupInputFor(const GpuModel& gpu, const CpuModel& cpu, Precision p,
                                     double parallel_fraction, int gpus, int sockets, bool vector) {
  SpeedupInput in;
  in.parallel_fraction = parallel_fraction;
  in.gpus = gpus;
  in.sockets = sockets;
  std::optional<double> g = gpu.DenseTflops(p);
  if (vector) {
    const auto it = gpu.vector_tflops.find(p);
    if (it != gpu.vector_tflops.end()) g = it->second.value;
  }
  if (!g) {
    return Error(Status::InvalidArgument(
        fmt::format("{} has no {} rate in the catalog", gpu.name, PrecisionName(p))));
  }
  const auto c = cpu.PeakTflops(p);
  if (!c) {
    return Error(Status::InvalidArgument(
        fmt::format("{}: CPU peaks are catalogued for fp64 and fp32 only, not {}", cpu.name,
                    PrecisionName(p))));
  }
  in.gpu_tflops = *g;
  in.cpu_tflops = *c;
  return in;
}

}  // namespace gpupool::hw

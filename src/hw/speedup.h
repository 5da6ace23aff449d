// Amdahl's law for moving a program from a CPU to a GPU, from peak rates.
//
// A program spends a fraction p of its CPU run time in work that the GPU accelerates and 1 - p
// in work that stays serial on the CPU. If the accelerated part runs k times faster, where
//   k = (gpus x GPU peak) / (sockets x CPU peak)       (same precision, TFLOPS)
// then (Amdahl, 1967, "Validity of the single processor approach...")
//   S = 1 / ((1 - p) + p / k)          and S can never exceed 1 / (1 - p), however fast the GPU.
// Peak against peak is an upper bound for k: real kernels reach a share of either peak, and
// moving data over PCIe is not counted.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "common/status.h"
#include "hw/catalog.h"

namespace gpupool::hw {

struct SpeedupInput {
  double parallel_fraction = 0;  // p, in [0, 1]
  double gpu_tflops = 0;         // peak of ONE GPU at the chosen precision
  double cpu_tflops = 0;         // peak of ONE CPU socket at the same precision
  int gpus = 1;
  int sockets = 1;
};

struct SpeedupResult {
  double k = 0;               // acceleration of the parallel part
  double serial_share = 0;    // 1 - p: time of the serial part, as a share of the CPU run time
  double parallel_share = 0;  // p / k
  double speedup = 0;         // S = 1 / (serial_share + parallel_share)
  double limit = 0;           // 1 / (1 - p); +infinity when p = 1
  double efficiency = 0;      // S / k: how much of the raw rate ratio survives
};

// INVALID_ARGUMENT for p outside [0, 1], a non-positive rate, or counts below 1.
Result<SpeedupResult> AmdahlSpeedup(const SpeedupInput& in);

// Builds the input from catalog entries: GPU dense peak (or its vector rate when `vector` and one
// exists) and CPU peak at `p`. INVALID_ARGUMENT when either has no rate at that precision.
Result<SpeedupInput> SpeedupInputFor(const GpuModel& gpu, const CpuModel& cpu, Precision p,
                                     double parallel_fraction, int gpus, int sockets, bool vector);

}  // namespace gpupool::hw

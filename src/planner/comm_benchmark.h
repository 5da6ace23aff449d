// CommBenchmark: one collective on one link as nccl-tests reports it (`gpupool plan comm`): for a
// size or a sweep of sizes, the time, the algorithm bandwidth and the bus bandwidth, from the same
// alpha-beta model the planner's estimates use (planner/comm_model.h) and a link of the hardware
// catalog (data/hw/interconnects.yaml, through planner/fabric.h's TierOf).
//
// Definitions follow nccl-tests' doc/PERFORMANCE.md: algbw = size / time, busbw = algbw x
// BusBandwidthFactor (all-reduce 2(n-1)/n; all-gather, reduce-scatter, all-to-all (n-1)/n), with
// the size nccl-tests prints. A sweep runs like `all_reduce_perf -b MIN -e MAX -f FACTOR`: MIN,
// MIN x FACTOR, ... while <= MAX.
//
// Sizes: a whole number of bytes with an optional binary suffix K, M, G, T (1024^k, as
// nccl-tests reads -b/-e): "8", "64K", "8G"; a range "MIN:MAX" (e.g. "8:8G").
//
// Errors: InvalidArgument naming the flag (--op, --bytes, --gpus, --factor) and what it takes.
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "planner/comm_model.h"

namespace gpupool::planner {

// "all-reduce", "all-gather", "reduce-scatter", "all-to-all" (also with '_' and without '-':
// "allreduce", "all_reduce").
Result<Collective> ParseCollective(std::string_view s);

// One size in bytes ("8", "64K", "8G"): a positive whole number with an optional K/M/G/T suffix.
Result<double> ParseByteSize(std::string_view s);

struct ByteRange {
  double min_bytes = 0;
  double max_bytes = 0;
};
// "N" (min = max) or "MIN:MAX" with MIN <= MAX.
Result<ByteRange> ParseByteRange(std::string_view s);

struct CommSweepOptions {
  Collective op = Collective::kAllReduce;
  int gpus = 8;
  ByteRange bytes;
  double factor = 2;  // multiplicative step of a sweep (nccl-tests -f), > 1
  // All-reduce only: NCCL's pick (ring, tree, or NVLS where the link has it), or one forced.
  AllReduceAlgorithm algorithm = AllReduceAlgorithm::kAuto;
};

// "auto", "ring", "tree", "nvls"; anything else is InvalidArgument naming --algorithm.
Result<AllReduceAlgorithm> ParseAllReduceAlgorithm(std::string_view s);

// Every size of the sweep on `link`. Errors: gpus < 2, factor <= 1 for a range, more than 200
// sizes, an algorithm forced on another collective than all-reduce, NVLS on a link without it.
Result<std::vector<CollectiveTiming>> SweepCollective(const CommSweepOptions& o,
                                                      const LinkTier& link);

// What the figures assume and what they model, for the output of `plan comm` (text and JSON).
std::vector<std::string> CommModelled(const CommSweepOptions& o, const LinkTier& link);
std::vector<std::string> CommAssumptions(const CommSweepOptions& o, const LinkTier& link);

// {"op", "gpus", "link" {name, bandwidth_gbs, achievable_fraction, latency_us, nvls},
//  "algorithm" ("auto" or the one forced), "bus_factor",
//  "rows" [{bytes, time_us, algbw_gbs, busbw_gbs, algorithm}], "modelled", "assumptions"}.
nlohmann::json CommSweepJson(const CommSweepOptions& o, const LinkTier& link,
                             const std::vector<CollectiveTiming>& rows);

}  // namespace gpupool::planner

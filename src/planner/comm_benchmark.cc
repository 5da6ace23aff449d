#include "planner/comm_benchmark.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace gpupool::planner {
namespace {

constexpr int kMaxSweepSizes = 200;

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

Result<Collective> ParseCollective(std::string_view s) {
  std::string k;
  for (char c : s) {
    if (c == '-' || c == '_') continue;
    k += char(std::tolower(static_cast<unsigned char>(c)));
  }
  if (k == "allreduce") return Collective::kAllReduce;
  if (k == "allgather") return Collective::kAllGather;
  if (k == "reducescatter") return Collective::kReduceScatter;
  if (k == "alltoall") return Collective::kAllToAll;
  return Error(Status::InvalidArgument(
      "--op '" + std::string(s) +
      "' is not a collective the model prices (all-reduce, all-gather, reduce-scatter, "
      "all-to-all)"));
}

Result<AllReduceAlgorithm> ParseAllReduceAlgorithm(std::string_view s) {
  for (AllReduceAlgorithm a : {AllReduceAlgorithm::kAuto, AllReduceAlgorithm::kRing,
                               AllReduceAlgorithm::kTree, AllReduceAlgorithm::kNvls}) {
    if (s == AllReduceAlgorithmName(a)) return a;
  }
  return Error(Status::InvalidArgument("--algorithm '" + std::string(s) +
                                       "' is not one the model prices (auto, ring, tree, nvls)"));
}

Result<double> ParseByteSize(std::string_view s) {
  const auto bad = [&s] {
    return Error(Status::InvalidArgument("--bytes '" + std::string(s) +
                                         "': expected a positive whole number of bytes with an "
                                         "optional K, M, G or T suffix (powers of 1024), e.g. 8, "
                                         "64K, 8G, or a range MIN:MAX"));
  };
  if (s.empty()) return bad();
  double scale = 1;
  std::string_view digits = s;
  switch (std::toupper(static_cast<unsigned char>(s.back()))) {
    case 'K':
      scale = 1024.0;
      break;
    case 'M':
      scale = 1024.0 * 1024;
      break;
    case 'G':
      scale = 1024.0 * 1024 * 1024;
      break;
    case 'T':
      scale = 1024.0 * 1024 * 1024 * 1024;
      break;
    default:
      break;
  }
  if (scale > 1) digits.remove_suffix(1);
  if (digits.empty() || digits.size() > 15) return bad();
  double v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return bad();
    v = v * 10 + (c - '0');
  }
  if (v <= 0) return bad();
  return v * scale;
}

Result<ByteRange> ParseByteRange(std::string_view s) {
  const size_t colon = s.find(':');
  ByteRange r;
  if (colon == std::string_view::npos) {
    GP_ASSIGN_OR_RETURN(r.min_bytes, ParseByteSize(s));
    r.max_bytes = r.min_bytes;
    return r;
  }
  GP_ASSIGN_OR_RETURN(r.min_bytes, ParseByteSize(s.substr(0, colon)));
  GP_ASSIGN_OR_RETURN(r.max_bytes, ParseByteSize(s.substr(colon + 1)));
  if (r.max_bytes < r.min_bytes) {
    return Error(Status::InvalidArgument("--bytes '" + std::string(s) +
                                         "': the range's end is below its start"));
  }
  return r;
}

Result<std::vector<CollectiveTiming>> SweepCollective(const CommSweepOptions& o,
                                                      const LinkTier& link) {
  if (o.gpus < 2) {
    return Error(
        Status::InvalidArgument("--gpus must be at least 2 (got " + std::to_string(o.gpus) + ")"));
  }
  if (o.bytes.min_bytes <= 0 || o.bytes.max_bytes < o.bytes.min_bytes) {
    return Error(Status::InvalidArgument("--bytes: a positive size or range MIN:MAX is needed"));
  }
  if (o.algorithm != AllReduceAlgorithm::kAuto && o.op != Collective::kAllReduce) {
    return Error(Status::InvalidArgument("--algorithm chooses an all-reduce algorithm; " +
                                         std::string(CollectiveName(o.op)) + " is a ring"));
  }
  if (o.algorithm == AllReduceAlgorithm::kNvls && !link.nvls) {
    return Error(Status::InvalidArgument(
        "--algorithm nvls: " + link.name +
        " has no NVLink SHARP (NVSwitch systems of NVLink 4 and later: NVLink4, NVLink5)"));
  }
  const bool range = o.bytes.max_bytes > o.bytes.min_bytes;
  if (range && !(o.factor > 1)) {
    return Error(Status::InvalidArgument("--factor must be greater than 1 (got " +
                                         Fixed(o.factor, 3) + ")"));
  }
  std::vector<CollectiveTiming> rows;
  for (double b = o.bytes.min_bytes; b <= o.bytes.max_bytes * (1 + 1e-12); b *= o.factor) {
    if (int(rows.size()) == kMaxSweepSizes) {
      return Error(Status::InvalidArgument("--bytes/--factor make more than " +
                                           std::to_string(kMaxSweepSizes) +
                                           " sizes; use a larger --factor"));
    }
    rows.push_back(TimeCollective(o.op, std::floor(b), o.gpus, link, o.algorithm));
    if (!range) break;
  }
  return rows;
}

std::vector<std::string> CommModelled(const CommSweepOptions& o, const LinkTier& link) {
  std::vector<std::string> m;
  const std::string n = std::to_string(o.gpus);
  if (o.op == Collective::kAllReduce) {
    const std::string nvls = "NVLS S/(B x " + Fixed(kNvlsBandwidthRatio, 3) + ") + " +
                             Fixed(kNvlsLatencyUs, 0) +
                             " us (NVLink SHARP; NCCL src/graph/tuning.cc's model)";
    if (o.algorithm == AllReduceAlgorithm::kAuto) {
      m.push_back(
          "all-reduce time: the fastest of ring 2(n-1)/n S/B + 2(n-1) alpha, double "
          "binary tree 2 S/B + 2 log2(n) alpha" +
          (link.nvls ? ", and " + nvls : std::string(" (") + link.name + " has no NVLink SHARP)") +
          ", n = " + n);
    } else {
      m.push_back("all-reduce time, algorithm forced to " +
                  std::string(AllReduceAlgorithmName(o.algorithm)) + ": " +
                  (o.algorithm == AllReduceAlgorithm::kRing   ? "2(n-1)/n S/B + 2(n-1) alpha"
                   : o.algorithm == AllReduceAlgorithm::kTree ? "2 S/B + 2 log2(n) alpha"
                                                              : nvls) +
                  ", n = " + n);
    }
  } else {
    m.push_back(std::string(CollectiveName(o.op)) +
                " time: ring (n-1)/n S/B + (n-1) alpha, n = " + n);
  }
  m.push_back("B = " + Fixed(link.bandwidth_gbs, 1) + " GB/s per direction x achievable fraction " +
              Fixed(link.achievable_fraction, 2) + " (" + link.name + ", hardware catalog)");
  m.push_back("algbw = size / time; busbw = algbw x " + Fixed(BusBandwidthFactor(o.op, o.gpus), 4) +
              " (nccl-tests doc/PERFORMANCE.md)");
  return m;
}

std::vector<std::string> CommAssumptions(const CommSweepOptions& /*o*/, const LinkTier& link) {
  return {
      "per-step latency alpha " + Fixed(link.latency_us, 1) +
          " us: NCCL's software overhead per step, a planner constant (planner/fabric.h "
          "StepLatencyUs), not the link's wire latency",
      "achievable fraction " + Fixed(link.achievable_fraction, 2) +
          " of the link's per-direction bandwidth (catalog, data/hw/interconnects.yaml)",
      "every rank has its own link of this kind (one NIC rail per GPU for a scale-out link); "
      "CollNet (in-network reduction over InfiniBand SHARP), NVLS across nodes and NCCL's "
      "protocol switches (LL, LL128, Simple) are not modelled",
  };
}

nlohmann::json CommSweepJson(const CommSweepOptions& o, const LinkTier& link,
                             const std::vector<CollectiveTiming>& rows) {
  nlohmann::json j = {{"op", std::string(CollectiveName(o.op))},
                      {"gpus", o.gpus},
                      {"link",
                       {{"name", link.name},
                        {"bandwidth_gbs", link.bandwidth_gbs},
                        {"achievable_fraction", link.achievable_fraction},
                        {"latency_us", link.latency_us},
                        {"nvls", link.nvls}}},
                      {"algorithm", std::string(AllReduceAlgorithmName(o.algorithm))},
                      {"bus_factor", BusBandwidthFactor(o.op, o.gpus)},
                      {"rows", nlohmann::json::array()},
                      {"modelled", CommModelled(o, link)},
                      {"assumptions", CommAssumptions(o, link)}};
  for (const CollectiveTiming& t : rows) {
    j["rows"].push_back({{"bytes", t.bytes},
                         {"time_us", t.seconds * 1e6},
                         {"algbw_gbs", t.algbw_gbs},
                         {"busbw_gbs", t.busbw_gbs},
                         {"algorithm", t.algorithm}});
  }
  return j;
}

}  // namespace gpupool::planner

#include "planner/comm_model.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gpupool::planner {

double RingAllReduceSeconds(double bytes, int n, const LinkTier& link) {
  if (n <= 1) return 0;
  const double nn = n;
  return 2.0 * (nn - 1) / nn * bytes / link.EffectiveBytesPerSecond() +
         2.0 * (nn - 1) * link.latency_us * 1e-6;
}

double TreeAllReduceSeconds(double bytes, int n, const LinkTier& link) {
  if (n <= 1) return 0;
  return 2.0 * bytes / link.EffectiveBytesPerSecond() +
         2.0 * std::log2(static_cast<double>(n)) * link.latency_us * 1e-6;
}

double NvlsAllReduceSeconds(double bytes, int n, const LinkTier& link) {
  if (n <= 1) return 0;
  if (!link.nvls) return std::numeric_limits<double>::infinity();
  return bytes / (link.EffectiveBytesPerSecond() * kNvlsBandwidthRatio) + kNvlsLatencyUs * 1e-6;
}

std::string_view AllReduceAlgorithmName(AllReduceAlgorithm a) {
  switch (a) {
    case AllReduceAlgorithm::kAuto:
      return "auto";
    case AllReduceAlgorithm::kRing:
      return "ring";
    case AllReduceAlgorithm::kTree:
      return "tree";
    case AllReduceAlgorithm::kNvls:
      return "nvls";
  }
  return "auto";
}

double AllReduceSeconds(double bytes, int n, const LinkTier& link, AllReduceAlgorithm a) {
  if (n <= 1 || bytes <= 0) return 0;
  switch (a) {
    case AllReduceAlgorithm::kRing:
      return RingAllReduceSeconds(bytes, n, link);
    case AllReduceAlgorithm::kTree:
      return TreeAllReduceSeconds(bytes, n, link);
    case AllReduceAlgorithm::kNvls:
      return NvlsAllReduceSeconds(bytes, n, link);
    case AllReduceAlgorithm::kAuto:
      break;
  }
  return std::min({RingAllReduceSeconds(bytes, n, link), TreeAllReduceSeconds(bytes, n, link),
                   NvlsAllReduceSeconds(bytes, n, link)});
}

double AllReduceSeconds(double bytes, int n, int stride, const Fabric& fabric) {
  if (n <= 1 || bytes <= 0) return 0;
  if (SpansNodes(n, stride, fabric)) {
    return CollectiveOnLinkSeconds(Collective::kAllReduce, bytes, n, fabric.scale_out);
  }
  return AllReduceSeconds(bytes, n, fabric.scale_up);
}

bool SpansNodes(int n, int stride, const Fabric& fabric) {
  if (n <= 1) return false;
  // Ranks r, r+stride, ..., r+(n-1)stride; they share a node when the span fits in one node
  // (group start aligned to node boundaries for the layouts the planner builds).
  return static_cast<long long>(n - 1) * stride + 1 > fabric.gpus_per_node;
}

double CollectiveOnLinkSeconds(Collective c, double bytes, int n, const LinkTier& link) {
  if (n <= 1 || bytes <= 0) return 0;
  const double nn = n;
  const double bw = link.EffectiveBytesPerSecond();
  const double alpha = link.latency_us * 1e-6;
  switch (c) {
    case Collective::kAllReduce:
      return std::min(RingAllReduceSeconds(bytes, n, link), TreeAllReduceSeconds(bytes, n, link));
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kAllToAll:
      return (nn - 1) / nn * bytes / bw + (nn - 1) * alpha;
    case Collective::kSendRecv:
      return bytes / bw + alpha;
  }
  return 0;
}

double CollectiveSeconds(Collective c, double bytes, int n, int stride, const Fabric& fabric) {
  if (n <= 1 || bytes <= 0) return 0;
  const LinkTier& link = SpansNodes(n, stride, fabric) ? fabric.scale_out : fabric.scale_up;
  return CollectiveOnLinkSeconds(c, bytes, n, link);
}

std::string CollectiveAlgorithm(Collective c, double bytes, int n, const LinkTier& link) {
  if (c == Collective::kSendRecv) return "p2p";
  if (c != Collective::kAllReduce) return "ring";
  const double ring = RingAllReduceSeconds(bytes, n, link);
  const double tree = TreeAllReduceSeconds(bytes, n, link);
  const double nvls = NvlsAllReduceSeconds(bytes, n, link);
  if (nvls < ring && nvls < tree) return "nvls";
  return tree < ring ? "tree" : "ring";
}

double BusBandwidthFactor(Collective c, int n) {
  if (n <= 1) return 0;
  const double nn = n;
  switch (c) {
    case Collective::kAllReduce:
      return 2.0 * (nn - 1) / nn;
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kAllToAll:
      return (nn - 1) / nn;
    case Collective::kSendRecv:
      return 1.0;
  }
  return 0;
}

CollectiveTiming TimeCollective(Collective c, double bytes, int n, const LinkTier& link,
                                AllReduceAlgorithm algorithm) {
  CollectiveTiming t;
  t.bytes = bytes;
  if (c == Collective::kAllReduce) {
    t.seconds = AllReduceSeconds(bytes, n, link, algorithm);
    t.algorithm = algorithm == AllReduceAlgorithm::kAuto
                      ? CollectiveAlgorithm(c, bytes, n, link)
                      : std::string(AllReduceAlgorithmName(algorithm));
  } else {
    t.seconds = CollectiveOnLinkSeconds(c, bytes, n, link);
    t.algorithm = CollectiveAlgorithm(c, bytes, n, link);
  }
  t.algbw_gbs = t.seconds > 0 ? bytes / t.seconds / 1e9 : 0;
  t.busbw_gbs = t.algbw_gbs * BusBandwidthFactor(c, n);
  return t;
}

std::string_view CollectiveName(Collective c) {
  switch (c) {
    case Collective::kAllReduce:
      return "all-reduce";
    case Collective::kAllGather:
      return "all-gather";
    case Collective::kReduceScatter:
      return "reduce-scatter";
    case Collective::kAllToAll:
      return "all-to-all";
    case Collective::kSendRecv:
      return "send-recv";
  }
  return "?";
}

}  // namespace gpupool::planner

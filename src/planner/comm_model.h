// CommModel: alpha-beta (latency-bandwidth) times of the collectives a parallel layout issues,
// over the two tiers of links a GPU has: scale-up (NVLink, Infinity Fabric, or PCIe when there is
// none) inside a node, and scale-out (InfiniBand or RoCE NICs, one per GPU "rail") between nodes.
//
// Formulas (n ranks, S bytes of the full buffer, B = link bandwidth per direction x achievable
// fraction, alpha = per-step latency), after Thakur, Rabenseifner and Gropp 2005 and NCCL's
// performance notes:
//   ring all-reduce      2(n-1)/n * S/B + 2(n-1) alpha
//   tree all-reduce      2 S/B + 2 log2(n) alpha     (double binary tree, pipelined)
//   all-reduce           the faster of the two (NCCL picks per size)
//   all-gather/red-scat  (n-1)/n * S/B + (n-1) alpha (ring; S = gathered size)
//   all-to-all           (n-1)/n * S/B + (n-1) alpha (S = bytes one rank sends in all)
//   send/recv            S/B + alpha
// A group whose ranks all sit in one node uses the scale-up tier; a group that spans nodes is
// limited by each GPU's scale-out rail (rings cross the node boundary on every rail at once).
//
// Thread safety: values; functions are pure.
#pragma once

#include <string>
#include <string_view>

namespace gpupool::planner {

struct LinkTier {
  std::string name;          // "NVLink4", "IB-NDR", "PCIe4"
  double bandwidth_gbs = 0;  // per direction per GPU, GB/s (1e9 bytes/s)
  double latency_us = 0;     // per collective step
  double achievable_fraction = 0.8;

  double EffectiveBytesPerSecond() const { return bandwidth_gbs * 1e9 * achievable_fraction; }
};

struct Fabric {
  LinkTier scale_up;   // inside a node
  LinkTier scale_out;  // between nodes
  int gpus_per_node = 8;
  LinkTier host;  // GPU <-> host memory (the GPU's PCIe generation, x16): CPU offload traffic
};

enum class Collective { kAllReduce, kAllGather, kReduceScatter, kAllToAll, kSendRecv };

double RingAllReduceSeconds(double bytes, int n, const LinkTier& link);
double TreeAllReduceSeconds(double bytes, int n, const LinkTier& link);

// Time of one collective of `bytes` over a group of `n` ranks whose consecutive members are
// `stride` global ranks apart (ranks are laid out node by node). n <= 1 costs nothing.
double CollectiveSeconds(Collective c, double bytes, int n, int stride, const Fabric& fabric);

// True when a group of n ranks at `stride` spans more than one node.
bool SpansNodes(int n, int stride, const Fabric& fabric);

// One collective of `bytes` over `n` ranks that all use `link` (the formulas above). n <= 1 or
// bytes <= 0 costs nothing.
double CollectiveOnLinkSeconds(Collective c, double bytes, int n, const LinkTier& link);

// Which all-reduce algorithm the model picks on `link` ("ring" or "tree"); the other collectives
// are rings ("ring"), send/recv "p2p".
std::string CollectiveAlgorithm(Collective c, double bytes, int n, const LinkTier& link);

// nccl-tests' bus-bandwidth factor (NVIDIA/nccl-tests doc/PERFORMANCE.md): busbw = algbw x factor
// with algbw = bytes / time; all-reduce 2(n-1)/n, all-gather, reduce-scatter and all-to-all
// (n-1)/n, send/recv 1. It makes busbw comparable with the link's bandwidth whatever n is.
double BusBandwidthFactor(Collective c, int n);

// A collective as nccl-tests reports it: time, algorithm bandwidth and bus bandwidth (GB/s,
// 1e9 bytes/s). `bytes` is the size nccl-tests prints: the whole buffer for all-reduce, the
// gathered (all-gather) or input (reduce-scatter) buffer, what one rank sends in all for
// all-to-all.
struct CollectiveTiming {
  double bytes = 0;
  double seconds = 0;
  double algbw_gbs = 0;
  double busbw_gbs = 0;
  std::string algorithm;
};
CollectiveTiming TimeCollective(Collective c, double bytes, int n, const LinkTier& link);

// "all-reduce", "all-gather", "reduce-scatter", "all-to-all", "send-recv".
std::string_view CollectiveName(Collective c);

}  // namespace gpupool::planner

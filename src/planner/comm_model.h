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
};

enum class Collective { kAllReduce, kAllGather, kReduceScatter, kAllToAll, kSendRecv };

double RingAllReduceSeconds(double bytes, int n, const LinkTier& link);
double TreeAllReduceSeconds(double bytes, int n, const LinkTier& link);

// Time of one collective of `bytes` over a group of `n` ranks whose consecutive members are
// `stride` global ranks apart (ranks are laid out node by node). n <= 1 costs nothing.
double CollectiveSeconds(Collective c, double bytes, int n, int stride, const Fabric& fabric);

// True when a group of n ranks at `stride` spans more than one node.
bool SpansNodes(int n, int stride, const Fabric& fabric);

}  // namespace gpupool::planner

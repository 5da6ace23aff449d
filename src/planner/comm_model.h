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
//   NVLS all-reduce      S/(B x 5/6) + 23 us        (NVLink SHARP, below)
// A group whose ranks all sit in one node uses the scale-up tier; a group that spans nodes is
// limited by each GPU's scale-out rail (rings cross the node boundary on every rail at once).
//
// NVLink SHARP (NVLS): on NVSwitch systems of NVLink 4 and later (HGX H100/H200/H800/H20, B200,
// GB200 NVL72) the switch reduces, and NCCL (2.17 and later) picks its NVLS algorithm for an
// all-reduce inside one node where it is faster. NCCL's own tuning model
// (NVIDIA/nccl src/graph/tuning.cc, ncclTopoTuneModel) gives it an algorithm bandwidth of 5/6 of
// the link's bus bandwidth (a ring all-reduce's is n / (2(n-1)) of it) and a latency of 23 us
// (hwLat NVLink NVLS Simple), so busbw = 5/6 x 2(n-1)/n x B: 1.46 x the ring's at n = 8, and it
// loses to the tree and ring for small messages. AllReduceSeconds and TimeCollective include it
// where the link has it (LinkTier::nvls); CollectiveSeconds / CollectiveOnLinkSeconds keep ring
// and tree only, for callers whose "all-reduce" stands for a reduce-scatter + all-gather pair
// (Megatron's sequence parallelism), which NVLS does not speed up (its 5/6 is below a ring's
// n/(n-1) for those).
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
  bool nvls = false;  // the link's switch reduces (NVLink SHARP): NVLink 4 and later

  double EffectiveBytesPerSecond() const { return bandwidth_gbs * 1e9 * achievable_fraction; }
};

// NCCL's NVLS figures (src/graph/tuning.cc): algorithm bandwidth 5/6 of the bus bandwidth, and
// 23 us of latency.
inline constexpr double kNvlsBandwidthRatio = 5.0 / 6.0;
inline constexpr double kNvlsLatencyUs = 23.0;

// All-reduce algorithms: the cheapest NCCL would pick (kAuto), or one forced (nccl-tests with
// NCCL_ALGO=...). kNvls on a link without NVLS is not available.
enum class AllReduceAlgorithm { kAuto, kRing, kTree, kNvls };
std::string_view AllReduceAlgorithmName(AllReduceAlgorithm a);  // "auto", "ring", "tree", "nvls"

struct Fabric {
  LinkTier scale_up;   // inside a node
  LinkTier scale_out;  // between nodes
  int gpus_per_node = 8;
  LinkTier host;  // GPU <-> host memory (the GPU's PCIe generation, x16): CPU offload traffic
};

enum class Collective { kAllReduce, kAllGather, kReduceScatter, kAllToAll, kSendRecv };

double RingAllReduceSeconds(double bytes, int n, const LinkTier& link);
double TreeAllReduceSeconds(double bytes, int n, const LinkTier& link);
// NVLS all-reduce on `link` (see above); infinite when the link has no NVLS.
double NvlsAllReduceSeconds(double bytes, int n, const LinkTier& link);

// An all-reduce of `bytes` over n ranks on `link` with algorithm `a` (kAuto: the fastest of ring,
// tree and, where the link has it, NVLS). n <= 1 or bytes <= 0 costs nothing.
double AllReduceSeconds(double bytes, int n, const LinkTier& link,
                        AllReduceAlgorithm a = AllReduceAlgorithm::kAuto);
// The same over a group of the fabric (scale-up tier inside a node, NVLS only there; scale-out
// tier across nodes, ring or tree): a true all-reduce, as a TP group's in inference.
double AllReduceSeconds(double bytes, int n, int stride, const Fabric& fabric);

// Time of one collective of `bytes` over a group of `n` ranks whose consecutive members are
// `stride` global ranks apart (ranks are laid out node by node). n <= 1 costs nothing.
double CollectiveSeconds(Collective c, double bytes, int n, int stride, const Fabric& fabric);

// True when a group of n ranks at `stride` spans more than one node.
bool SpansNodes(int n, int stride, const Fabric& fabric);

// One collective of `bytes` over `n` ranks that all use `link` (the formulas above). n <= 1 or
// bytes <= 0 costs nothing.
double CollectiveOnLinkSeconds(Collective c, double bytes, int n, const LinkTier& link);

// Which all-reduce algorithm the model picks on `link` ("ring" or "tree"; "nvls" too where the
// link has it); the other collectives are rings ("ring"), send/recv "p2p".
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
// An all-reduce uses `algorithm` (kAuto: NCCL's pick, NVLS included where the link has it);
// other collectives ignore it.
CollectiveTiming TimeCollective(Collective c, double bytes, int n, const LinkTier& link,
                                AllReduceAlgorithm algorithm = AllReduceAlgorithm::kAuto);

// "all-reduce", "all-gather", "reduce-scatter", "all-to-all", "send-recv".
std::string_view CollectiveName(Collective c);

}  // namespace gpupool::planner

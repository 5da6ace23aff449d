// Layout search: for a model and a GPU type, every training layout (TP x CP x PP x DP, EP, virtual
// stages, ZeRO stage, recompute, micro-batch) on a given GPU count, evaluated with
// EstimateTraining and ranked; the fewest GPUs that train a token budget within a deadline; the
// fewest GPUs that serve a context and batch; and an interconnect recommendation.
//
// Enumeration (SearchLayouts): tp in powers of two up to the node size that divide the heads (and
// fit the KV heads); cp in {1, 2, 4, 8} dividing the sequence; pp dividing the layers and the GPU
// count; dp the rest; ep (MoE) powers of two dividing the experts and dp x cp; vp in {1, 2} when
// pp > 1 and the layers allow; zero 0..3; recompute none/selective/full (selective only with
// eager attention: with flash attention it stores the same as none); micro-batch {1, 2, 4}
// dividing the per-replica batch. A layout is discarded with its reason when it does not divide,
// does not fit in memory, or (for a goal) misses the deadline.
//
// Ranking (a total order): feasible layouts by step time, then by memory per GPU, then by the
// layout tuple (tp, pp, cp, ep, vp, zero, recompute, micro-batch) ascending.
//
// Interconnect recommendation: with the best layout, compare step times over RoCE 400G and
// InfiniBand NDR between nodes. One node: "NVLink only". Else RoCE when the InfiniBand step is
// less than 5 % faster (the scale-out share is small), InfiniBand otherwise.
//
// Thread safety: pure functions. Cost: one EstimateTraining per candidate (microseconds).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "hw/catalog.h"
#include "planner/inference_estimate.h"
#include "planner/training_estimate.h"

namespace gpupool::planner {

struct RankedLayout {
  TrainEstimate estimate;
};

struct Discarded {
  Layout layout;
  std::string reason;
};

struct SearchResult {
  int gpus = 0;
  std::vector<RankedLayout> ranked;  // feasible, best first
  std::vector<Discarded> discarded;  // with the reason
  int64_t evaluated = 0;
};

struct SearchOptions {
  TrainOptions base;  // precision, seq, tokens, efficiencies, fabric; layout ignored
  int64_t global_batch_tokens = int64_t{4} << 20;  // tokens per step (sequences = this / seq)
  bool keep_discarded = true;
  size_t max_ranked = 0;  // 0 = keep all
};

// All layouts on `gpus` GPUs.
SearchResult SearchLayouts(const ModelProfile& model, const hw::GpuModel& gpu, int gpus,
                           const SearchOptions& options);

struct TrainGoal {
  double tokens = 1e12;
  double days = 30;
  int max_gpus = 65536;
};

struct GpuCountTried {
  int gpus = 0;
  std::string outcome;  // why this count was not enough, or "meets the goal"
};

struct TrainGoalResult {
  bool found = false;
  SearchResult best;                 // at the fewest GPUs that meet the goal
  std::vector<GpuCountTried> tried;  // counts tried, in order
  std::string interconnect;          // "NVLink only", "RoCE", "InfiniBand"
  std::string interconnect_reason;
};

// GPU counts tried: powers of two below a node, then whole nodes p and 1.5p for p = 1, 2, 4, ...
// (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, ... with 8 GPUs a node).
std::vector<int> CandidateGpuCounts(int gpus_per_node, int max_gpus);

TrainGoalResult FewestGpusForTraining(const ModelProfile& model, const hw::GpuModel& gpu,
                                      const TrainGoal& goal, const SearchOptions& options,
                                      const LinkTier& roce, const LinkTier& infiniband);

struct ServeLayout {
  int tp = 1;
  InferEstimate estimate;
};

struct ServeGoalResult {
  bool found = false;
  std::vector<ServeLayout> ranked;  // layouts that fit: the fewest GPUs first, then 2x, 4x
  std::vector<GpuCountTried> tried;
};

// Fewest GPUs (tensor parallel degree) that hold the model plus batch x context of KV cache.
ServeGoalResult FewestGpusForServing(const ModelSpec& model, const hw::GpuModel& gpu,
                                     const InferOptions& options, int max_tp = 64);

// Recommendation for one layout (see the header comment).
void RecommendInterconnect(const ModelProfile& model, const hw::GpuModel& gpu,
                           const TrainOptions& options, const LinkTier& roce,
                           const LinkTier& infiniband, std::string& choice, std::string& reason);

}  // namespace gpupool::planner

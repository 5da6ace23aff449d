// The planner against published measurements (docs/planner-validation.md is this table in prose).
// Each case states the published figure, its source, the setup the planner is given, and the
// tolerance: memory 10 %, step time / throughput and GPU-hours 15 %. A case outside its tolerance
// carries the reason in `miss`; the test then checks that it still misses (so fixing the model
// forces the document to be updated) and stays within `miss_bound`.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "planner/gpu_rates.h"
#include "planner/inference_estimate.h"
#include "planner/training_estimate.h"
#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

using testing::A100;
using testing::H100;
using testing::H800;
using testing::Preset;
using testing::WithNetwork;

struct Case {
  std::string name;
  std::string metric;
  double published;
  std::function<double()> planner;
  double tolerance;
  std::string source;
  std::string miss;  // empty: must be within tolerance
  double miss_bound = 0;
};

ModelSpec Gpt(int layers, int64_t hidden, int heads, int64_t vocab) {
  ModelSpec m = Preset("GPT-3-175B");
  ShapeOverrides o;
  o.layers = layers;
  o.hidden = hidden;
  o.heads = heads;
  o.vocab = vocab;
  EXPECT_TRUE(ApplyOverrides(o, m).ok());
  m.name = "GPT-" + std::to_string(layers) + "x" + std::to_string(hidden);
  return m;
}

TrainEstimate Train(const ModelSpec& m, const hw::GpuModel& g, const std::string& net, int gpus,
                    Layout l, int64_t global_batch, int64_t seq,
                    const std::function<void(TrainOptions&)>& tweak = {}) {
  TrainOptions o;
  o.gpus = gpus;
  o.layout = l;
  o.global_batch = global_batch;
  o.seq = seq;
  o.fabric = WithNetwork(g, net);
  if (tweak) tweak(o);
  auto e = EstimateTraining(m, g, o);
  EXPECT_TRUE(e.has_value()) << m.name << ": " << (e ? "" : e.error().ToString());
  return e.value_or(TrainEstimate{});
}

Layout Lay(int tp, int pp, int zero, Recompute r, int vp = 1, int ep = 1) {
  Layout l;
  l.tp = tp;
  l.pp = pp;
  l.zero = zero;
  l.recompute = r;
  l.vp = vp;
  l.ep = ep;
  return l;
}

// Megatron-LM (Narayanan et al. 2021, SC'21, Table 1): GPT models on DGX A100 80GB (Selene,
// 8 x 200 Gb/s HDR InfiniBand per node), seq 2048, vocab 51200, full activation recomputation.
// "Achieved TFLOP/s per GPU" counts the recomputed forward (their 96 B s l h^2 formula), i.e. the
// planner's hardware FLOPs per second; at fixed FLOPs per step it is the inverse of step time.
struct MegatronRow {
  double billions;
  int heads;
  int64_t hidden;
  int layers, tp, pp, gpus;
  int64_t batch;
  double tflops;
};
constexpr MegatronRow kMegatron[] = {
    {1.7, 24, 2304, 24, 1, 1, 32, 512, 137},       {3.6, 32, 3072, 30, 2, 1, 64, 512, 138},
    {7.5, 32, 4096, 36, 4, 1, 128, 512, 142},      {18.4, 48, 6144, 40, 8, 1, 256, 1024, 135},
    {39.1, 64, 8192, 48, 8, 2, 512, 1536, 138},    {76.1, 80, 10240, 60, 8, 4, 1024, 1792, 140},
    {145.6, 96, 12288, 80, 8, 8, 1536, 2304, 148}, {310.1, 128, 16384, 96, 8, 16, 1920, 2160, 155},
    {529.6, 128, 20480, 105, 8, 35, 2520, 2520, 163},
    {1008.0, 160, 25600, 128, 8, 64, 3072, 3072, 163}};

double GiB(double gib) { return gib; }

std::string Label(const char* fmt, double billions, int gpus) {
  char buf[96];
  std::snprintf(buf, sizeof buf, fmt, billions, gpus);
  return buf;
}

std::vector<Case> Cases() {
  std::vector<Case> c;
  const std::string megatron =
      "Narayanan et al. 2021, Efficient Large-Scale Language Model Training on GPU Clusters Using "
      "Megatron-LM (SC'21), Table 1";
  for (const MegatronRow& r : kMegatron) {
    c.push_back(
        {Label("Megatron GPT %.1fB on %d A100", r.billions, r.gpus),
         "TFLOP/s per GPU (step time)", r.tflops,
         [r] {
           const ModelSpec m = Gpt(r.layers, r.hidden, r.heads, 51200);
           const TrainEstimate e =
               Train(m, A100(), "IB-HDR", r.gpus, Lay(r.tp, r.pp, 0, Recompute::kFull), r.batch,
                     2048, [](TrainOptions& o) { o.flash_attention = false; });
           return e.hfu * 312.0;
         },
         0.15, megatron, "", 0});
  }
  // OPT-175B (Zhang et al. 2022, OPT: Open Pre-trained Transformer Language Models, section 2.4):
  // 992 A100 80GB, FSDP with Megatron tensor parallelism, "up to 147 TFLOP/s per GPU".
  c.push_back({"OPT-175B on 992 A100", "TFLOP/s per GPU (step time)", 147,
               [] {
                 const TrainEstimate e =
                     Train(Preset("GPT-3-175B"), A100(), "RoCE-200G", 992,
                           Lay(8, 1, 3, Recompute::kFull), 992, 2048,
                           [](TrainOptions& o) { o.flash_attention = false; });
                 return e.hfu * 312.0;
               },
               0.15, "Zhang et al. 2022, OPT (arXiv 2205.01068), 2.4 Training Efficiency", "", 0});
  // Llama 3 (Dubey et al. 2024, The Llama 3 Herd of Models, Table 4): 405B, seq 8192, TP 8, PP 16,
  // 16M tokens per batch, BF16 MFU 43 % on 8,192 H100 and 41 % on 16,384 (430 / 400 TFLOP/s).
  // 400 Gb/s RoCE per GPU; uneven stages (first and last one layer fewer, as the paper says);
  // interleaved schedule with 2 virtual stages assumed (the paper does not give the number).
  for (auto [gpus, tflops] : {std::pair{8192, 430.0}, std::pair{16384, 400.0}}) {
    c.push_back({"Llama 3 405B on " + std::to_string(gpus) + " H100", "TFLOP/s per GPU (step time)",
                 tflops,
                 [gpus] {
                   const TrainEstimate e =
                       Train(Preset("Llama-3-405B"), H100(), "RoCE-400G", gpus,
                             Lay(8, 16, 2, Recompute::kSelective, 2), 2048, 8192,
                             [](TrainOptions& o) { o.uneven_stages = true; });
                   return e.mfu * 989.0;
                 },
                 0.15, "Dubey et al. 2024, The Llama 3 Herd of Models (arXiv 2407.21783), Table 4",
                 "", 0});
  }

  // --- GPU-hours.
  // DeepSeek-V3 technical report (arXiv 2412.19437), section 1: "each trillion tokens requires
  // 180K H800 GPU hours" on 2,048 H800; PP 16 (DualPipe), EP 64 over 8 nodes, ZeRO-1, no TP,
  // FP8 mixed precision, seq 4096, batch 15,360. DualPipe hides most of the all-to-all: 80 %
  // assumed (at 90 %: 152K, -15 %; at 100 %: 141K).
  c.push_back({"DeepSeek-V3 per 1T tokens on 2048 H800", "GPU-hours", 180e3,
               [] {
                 const TrainEstimate e = Train(
                     Preset("DeepSeek-V3"), H800(), "IB-NDR", 2048,
                     Lay(1, 16, 1, Recompute::kSelective, 1, 64), 15360, 4096,
                     [](TrainOptions& o) {
                       o.precision = hw::Precision::kFp8;
                       o.uneven_stages = true;
                       o.ep_overlap = 0.8;
                       o.tokens = 1e12;
                     });
                 return e.gpu_hours;
               },
               0.15, "DeepSeek-AI 2024, DeepSeek-V3 Technical Report, sections 1 and 3", "", 0});
  // Llama 2 (Touvron et al. 2023, Table 2 / CO2 table): A100-80GB GPU-hours for 2T tokens, 4M
  // tokens per batch, seq 4096. Layouts are not published: FSDP (ZeRO-3) for 7B, TP 2 for 13B,
  // TP 8 x PP 4 for 70B assumed.
  const std::string llama2 = "Touvron et al. 2023, Llama 2 (arXiv 2307.09288), Table 2";
  c.push_back({"Llama-2-7B, 2T tokens", "GPU-hours (A100)", 184320,
               [] {
                 return Train(Preset("Llama-2-7B"), A100(), "IB-HDR", 256,
                              Lay(1, 1, 3, Recompute::kSelective), 1024, 4096,
                              [](TrainOptions& o) { o.tokens = 2e12; })
                     .gpu_hours;
               },
               0.15, llama2, "", 0});
  c.push_back({"Llama-2-13B, 2T tokens", "GPU-hours (A100)", 368640,
               [] {
                 return Train(Preset("Llama-2-13B"), A100(), "IB-HDR", 512,
                              Lay(2, 1, 1, Recompute::kSelective), 1024, 4096,
                              [](TrainOptions& o) { o.tokens = 2e12; })
                     .gpu_hours;
               },
               0.15, llama2,
               "the published hours imply 37.7 % MFU for 13B against 39 % for 7B and 43 % for 70B "
               "of the same recipe; the planner's efficiency rises with size (bigger GEMMs) and "
               "cannot reproduce a dip at 13B. Cluster (RSC InfiniBand vs production RoCE) and "
               "layout are not published.",
               0.30});
  c.push_back({"Llama-2-70B, 2T tokens", "GPU-hours (A100)", 1720320,
               [] {
                 return Train(Preset("Llama-2-70B"), A100(), "IB-HDR", 2048,
                              Lay(8, 4, 1, Recompute::kSelective), 1024, 4096,
                              [](TrainOptions& o) { o.tokens = 2e12; })
                     .gpu_hours;
               },
               0.15, llama2, "", 0});
  // Llama 3.1 model card: H100-80GB GPU-hours 1.46M (8B), 7.0M (70B), 30.84M (405B); ~15T tokens
  // (15.6T for 405B in the paper). Layouts: the paper's Table 4 for 405B; assumed for 8B/70B.
  const std::string llama31 =
      "Meta, Llama 3.1 model card (Hardware and Software: Training Energy Use); Llama 3 paper";
  c.push_back({"Llama-3.1-405B, 15.6T tokens", "GPU-hours (H100)", 30.84e6,
               [] {
                 return Train(Preset("Llama-3-405B"), H100(), "RoCE-400G", 16384,
                              Lay(8, 16, 2, Recompute::kSelective, 2), 2048, 8192,
                              [](TrainOptions& o) {
                                o.uneven_stages = true;
                                o.tokens = 15.6e12;
                              })
                     .gpu_hours;
               },
               0.15, llama31, "", 0});
  c.push_back({"Llama-3.1-70B, 15T tokens", "GPU-hours (H100)", 7.0e6,
               [] {
                 return Train(Preset("Llama-3-70B"), H100(), "IB-NDR", 2048,
                              Lay(8, 4, 1, Recompute::kSelective), 2048, 8192,
                              [](TrainOptions& o) { o.tokens = 15e12; })
                     .gpu_hours;
               },
               0.15, llama31,
               "the model card's hours cover the whole pre-training recipe (long-context stages "
               "to 128K at lower MFU, annealing, restarts after interruptions) and the layout is "
               "not published; the planner models the steady 8K-context phase only",
               0.40});
  c.push_back({"Llama-3.1-8B, 15T tokens", "GPU-hours (H100)", 1.46e6,
               [] {
                 return Train(Preset("Llama-3-8B"), H100(), "IB-NDR", 512,
                              Lay(1, 1, 3, Recompute::kSelective), 512, 8192,
                              [](TrainOptions& o) { o.tokens = 15e12; })
                     .gpu_hours;
               },
               0.15, llama31,
               "the published hours imply 14 % MFU for 8B: small models run on smaller, "
               "busier clusters with the same recipe overheads (long context, annealing, "
               "restarts); the planner's steady-state throughput is about twice that",
               0.60});
  // BLOOM (BigScience 2022, arXiv 2211.05100, section 3.5 and the model card): 176B, 70 layers,
  // h 14336, 112 heads, vocab 250,880, 366B tokens on 384 A100 80GB: 1,082,990 GPU-hours;
  // TP 4, PP 12, DP 8, ZeRO-1, seq 2048, batch 2048, full recomputation, HDR InfiniBand.
  c.push_back({"BLOOM-176B, 366B tokens", "GPU-hours (A100)", 1082990,
               [] {
                 return Train(Gpt(70, 14336, 112, 250880), A100(), "IB-HDR", 384,
                              Lay(4, 12, 1, Recompute::kFull), 2048, 2048,
                              [](TrainOptions& o) {
                                o.flash_attention = false;
                                o.uneven_stages = true;
                                o.tokens = 366e9;
                              })
                     .gpu_hours;
               },
               0.15, "Le Scao et al. 2022, BLOOM (arXiv 2211.05100), 3.5 and Table of emissions",
               "the 1,082,990 hours span the whole 117-day run including hardware failures and "
               "restarts; BLOOM reports about 150 TFLOP/s (48 % HFU) in steady state, the planner "
               "predicts 59 % HFU for this layout (its 250K vocabulary and ALiBi/embedding norm "
               "kernels are not modelled)",
               0.35});

  // --- Memory.
  // vLLM pull request #12569 log: Meta-Llama-3.1-70B-Instruct-quantized.w8a8 on one H100,
  // "Loading model weights took 67.7229 GB" (vLLM prints GiB), "# GPU blocks: 1381" (16 tokens
  // each = 22,096 KV tokens) at --gpu-memory-utilization 0.98, --max-model-len 2048.
  const std::string vllm = "vLLM pull request #12569 (startup log, Jan 2025)";
  auto w8a8 = [] {
    InferOptions o;
    o.precision = hw::Precision::kInt8;
    o.gpu_memory_utilization = 0.98;
    o.context = 2048;
    o.max_batched_tokens = 2048;
    o.fabric = WithNetwork(H100(), "IB-NDR");
    auto e = EstimateInference(Preset("Llama-3-70B"), H100(), o);
    EXPECT_TRUE(e.has_value());
    return e.value_or(InferEstimate{});
  };
  c.push_back({"vLLM Llama-3.1-70B W8A8 weights, 1 H100", "GiB", 67.7229,
               [w8a8] { return GiB(w8a8().weights_gib_per_gpu); }, 0.10, vllm, "", 0});
  c.push_back({"vLLM Llama-3.1-70B W8A8 KV capacity", "tokens", 22096,
               [w8a8] { return double(w8a8().max_kv_tokens); }, 0.10, vllm,
               "KV capacity is the small difference of two large numbers (77.6 GiB budget - "
               "67.7 GiB weights): the 80 GB card shows 79.2 GiB to CUDA, and vLLM V1 also "
               "reserves torch.compile / CUDA-graph memory (about 3 GiB in this log) that the "
               "planner's default overhead (2.0 GiB) does not include; each GiB is 3,200 tokens "
               "(15 %) here",
               0.45});
  // ZeRO (Rajbhandari et al. 2020, SC'20, Figure 1): 7.5B parameters, mixed-precision Adam
  // (K = 12), N_d = 64: baseline 120 GB, P_os 31.4 GB, P_os+g 16.6 GB, P_os+g+p 1.9 GB per GPU.
  const std::string zero = "Rajbhandari et al. 2020, ZeRO (SC'20), Figure 1";
  const double zero_published[] = {120, 31.4, 16.6, 1.9};
  for (int stage = 0; stage <= 3; ++stage) {
    c.push_back({"ZeRO-" + std::to_string(stage) + " 7.5B on 64 GPUs, model states", "GB",
                 zero_published[stage],
                 [stage] {
                   const TrainEstimate e = Train(Gpt(36, 4096, 32, 51200), A100(), "IB-HDR", 64,
                                                 Lay(1, 1, stage, Recompute::kFull), 64, 2048);
                   return (e.memory.weights_gib + e.memory.gradients_gib +
                           e.memory.optimizer_gib) * kGiB / 1e9;
                 },
                 0.10, zero, "", 0});
  }
  return c;
}

TEST(ValidationTest, PlannerAgainstPublishedMeasurements) {
  const std::vector<Case> cases = Cases();
  ASSERT_GE(cases.size(), 12u);
  std::printf("| case | metric | published | planner | ratio | tolerance | verdict |\n");
  int within = 0;
  for (const Case& k : cases) {
    const double v = k.planner();
    const double ratio = v / k.published;
    const bool ok = std::abs(ratio - 1.0) <= k.tolerance;
    within += ok ? 1 : 0;
    std::printf("| %s | %s | %.4g | %.4g | %.3f | %.0f %% | %s |\n", k.name.c_str(),
                k.metric.c_str(), k.published, v, ratio, 100 * k.tolerance,
                ok ? "within" : "MISS (reason in docs)");
    EXPECT_FALSE(k.source.empty()) << k.name;
    if (k.miss.empty()) {
      EXPECT_NEAR(ratio, 1.0, k.tolerance) << k.name << " (" << k.source << ")";
    } else {
      // A documented miss: still a miss, and no worse than its bound.
      EXPECT_GT(std::abs(ratio - 1.0), k.tolerance)
          << k.name << " now within tolerance: update docs/planner-validation.md";
      EXPECT_LE(std::abs(ratio - 1.0), k.miss_bound) << k.name << ": " << k.miss;
    }
  }
  std::printf("%d of %zu within tolerance\n", within, cases.size());
}

}  // namespace
}  // namespace gpupool::planner

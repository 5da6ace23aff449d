// The planner against published measurements; docs/planner-validation.md is this table in prose,
// and the test checks that the page prints exactly the rows the planner produces now.
// Each case states the published figure, its source, the setup the planner is given, the
// tolerance (memory 10 %, step time / throughput and GPU-hours 15 %), and its role:
// - calibration: a case the planner's constants were chosen on (Ampere's 16-bit GEMM efficiency
//   on Megatron-LM's Table 1; Hopper's and the element-wise traffic on llm-foundry's MPT-1B, 7B
//   and 30B H100 rows and Llama 3's Table 4; flash attention on Llama 3's Table 4; FP8 and the
//   expert all-to-all overlap on DeepSeek-V3; the inference overheads on the vLLM log). It shows
//   the fit, it validates nothing.
// - out-of-sample: no constant was chosen on it; only these count as validation.
// A case outside its tolerance carries the reason in `miss`; the test then checks that it still
// misses (so fixing the model forces the page to be updated) and stays within `miss_bound`.
// GPUs and links come from the hardware catalog through the code `gpupool plan` uses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "planner/gpu_rates.h"
#include "planner/inference_estimate.h"
#include "planner/training_estimate.h"
#include "planner_fixtures.h"
#include "validation_rows.h"

namespace gpupool::planner {
namespace {

using testing::A100;
using testing::H100;
using testing::H800;
using testing::Preset;
using testing::WithNetwork;

using testing::Case;
using testing::Role;

// torchtitan's long-sequence Llama 3.1 8B rows on H100 (Table 2) that run faster than priced.
constexpr const char* kTitanLongSequence =
    "at 32K and 64K tokens most of the step is flash attention, priced at the flash-attn 2 figure "
    "calibrated on llm-foundry (row 69); this compiled run on 500 W parts is 23 % and 39 % faster "
    "than that, while the 128K and 256K rows of the same table are within 8 %: not explained";
// torchtitan's Llama 3.1 70B 2D row (Table 4): one microbatch of 16 x 8192 tokens per GPU.
constexpr const char* kTitan70bMemory =
    "one microbatch of 16 sequences of 8192 tokens per GPU: the planner counts 20 GiB of full-"
    "checkpoint inputs and 23.5 GiB of vocabulary-parallel logits and loss and the allocator's "
    "reserve; the run reserves 8 GiB more, and 4.3 GiB less with Async TP (within 6 %), which "
    "the page does not break down: not explained";
// torchtitan's interleaved Llama 3.1 405B row (Table 5), whose schedule the page leaves open.
constexpr const char* kTitanInterleaved =
    "the page does not give the stages per GPU of its interleaved schedule (the planner assumes "
    "2, the fewest that interleave; more would shrink the bubble further) nor its microbatches "
    "(assumed one per stage, torchtitan's default then); its 1F1B row, set up the same way, is "
    "within 7 %";

// The page's counts: change them only together with docs/planner-validation.md.
constexpr size_t kCases = 136;
constexpr int kCalibrationCases = 23;
constexpr int kOutOfSampleCases = 113;
constexpr int kOutOfSampleWithin = 94;
// Out-of-sample cases within 10 % and 25 % of the published figure, whatever their tolerance.
constexpr int kOutOfSampleWithin10 = 85;
constexpr int kOutOfSampleWithin25 = 103;

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
  o.kernels = testing::KernelsFor(g);
  if (tweak) tweak(o);
  auto e = EstimateTraining(m, g, o);
  EXPECT_TRUE(e.has_value()) << m.name << ": " << (e ? "" : e.error().ToString());
  return e.value_or(TrainEstimate{});
}

// Achieved TFLOP/s per GPU: FLOPs per step / (GPUs x step time), without any peak figure.
double ModelTflops(const TrainEstimate& e, int gpus) {
  return e.model_flops_per_step / (double(gpus) * e.step_seconds) / 1e12;
}
double HardwareTflops(const TrainEstimate& e, int gpus) {
  return e.hardware_flops_per_step / (double(gpus) * e.step_seconds) / 1e12;
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
  const char* billions;
  int heads;
  int64_t hidden;
  int layers, tp, pp, gpus;
  int64_t batch;
  double tflops;
};
constexpr MegatronRow kMegatron[] = {{"1.7", 24, 2304, 24, 1, 1, 32, 512, 137},
                                     {"3.6", 32, 3072, 30, 2, 1, 64, 512, 138},
                                     {"7.5", 32, 4096, 36, 4, 1, 128, 512, 142},
                                     {"18.4", 48, 6144, 40, 8, 1, 256, 1024, 135},
                                     {"39.1", 64, 8192, 48, 8, 2, 512, 1536, 138},
                                     {"76.1", 80, 10240, 60, 8, 4, 1024, 1792, 140},
                                     {"145.6", 96, 12288, 80, 8, 8, 1536, 2304, 148},
                                     {"310.1", 128, 16384, 96, 8, 16, 1920, 2160, 155},
                                     {"529.6", 128, 20480, 105, 8, 35, 2520, 2520, 163},
                                     {"1008", 160, 25600, 128, 8, 64, 3072, 3072, 163}};

// --- Framework benchmark tables (issue 12): the same software on two GPU generations, and
// FSDP-style memory. Throughput rows compare tokens per second per GPU.

// llm-foundry's MPT benchmark table (mosaicml/llm-foundry, scripts/train/benchmarking/README.md):
// MPT models (GPT shape without biases, ALiBi, vocabulary 50,368, MLP 4h), PyTorch FSDP
// FULL_SHARD (ZeRO-3), flash attention, sequence 2048 unless stated; "Activation Checkpointing
// True" = full recompute. Networks: the A100 table states 1600 Gb/s RoCE per node (RoCE-200G per
// GPU); for H100 RoCE-400G is assumed (only the 16- and 64-GPU rows cross nodes).
struct MptRow {
  const char* name;  // as in the table: 760m, 1b, ...
  int layers;
  int64_t hidden;
  int heads;
  bool h100;
  int gpus, micro_batch;
  int64_t global_batch, seq;
  bool checkpointing;
  bool fp8;
  double tokens_per_gpu;
  Role role;
};
constexpr MptRow kMpt[] = {
    // Calibration: Hopper's GEMM efficiency and the element-wise traffic were chosen on these.
    {"1b", 24, 2048, 16, true, 8, 14, 112, 2048, false, false, 45455, Role::kCalibration},
    {"7b", 32, 4096, 32, true, 8, 6, 48, 2048, false, false, 10643, Role::kCalibration},
    {"30b", 48, 7168, 64, true, 8, 3, 504, 2048, true, false, 2002, Role::kCalibration},
    // Out-of-sample.
    {"760m", 24, 1536, 12, true, 16, 24, 384, 2048, false, false, 68551, Role::kOutOfSample},
    {"3b", 32, 2560, 20, true, 16, 10, 480, 2048, false, false, 24142, Role::kOutOfSample},
    {"13b", 40, 5120, 40, true, 8, 2, 16, 2048, false, false, 4792, Role::kOutOfSample},
    {"70b", 80, 8192, 64, true, 64, 8, 2048, 2048, true, false, 1039, Role::kOutOfSample},
    {"760m", 24, 1536, 12, false, 8, 24, 384, 2048, false, false, 32434, Role::kOutOfSample},
    {"1b", 24, 2048, 16, false, 8, 14, 448, 2048, false, false, 20513, Role::kOutOfSample},
    {"3b", 32, 2560, 20, false, 8, 10, 160, 2048, false, false, 10811, Role::kOutOfSample},
    {"7b", 32, 4096, 32, false, 8, 6, 96, 2048, false, false, 4641, Role::kOutOfSample},
    {"13b", 40, 5120, 40, false, 8, 2, 48, 2048, false, false, 2262, Role::kOutOfSample},
    {"30b", 48, 7168, 64, false, 8, 3, 504, 2048, true, false, 916, Role::kOutOfSample},
    {"70b", 80, 8192, 64, false, 64, 8, 2048, 2048, true, false, 410, Role::kOutOfSample},
    {"3b", 32, 2560, 20, true, 8, 10, 480, 2048, false, true, 30586, Role::kOutOfSample},
    {"3b", 32, 2560, 20, true, 8, 3, 144, 8192, false, true, 19146, Role::kOutOfSample},
};

void AddFrameworkTableCases(std::vector<Case>& c) {
  const std::string foundry =
      "mosaicml/llm-foundry, scripts/train/benchmarking/README.md (MPT training benchmarks)";
  for (const MptRow& r : kMpt) {
    const std::string name = std::string("MPT-") + r.name + ", " + std::to_string(r.gpus) +
                             (r.h100 ? " H100" : " A100") + (r.fp8 ? " FP8" : "") + ", FSDP" +
                             (r.seq != 2048 ? ", seq " + std::to_string(r.seq) : "");
    std::string miss;
    double bound = 0;
    if (std::string(r.name) == "13b" && r.h100) {
      miss =
          "MPT-13b on 8 H100 at micro-batch 2 runs at 39.8 % MFU where 7b (micro-batch 6) reaches "
          "46 % and 30b 38 % with recompute; its per-microbatch FSDP gathers (0.25 s) fit under "
          "the compute (0.67 s), so the model hides them, and the eager stack's per-layer host "
          "overheads at 4,096 tokens per microbatch are not modelled";
      bound = 0.20;
    }
    c.push_back({name, "tokens/s per GPU", r.tokens_per_gpu,
                 [r] {
                   ModelSpec m = Gpt(r.layers, r.hidden, r.heads, 50368);
                   const hw::GpuModel g = r.h100 ? H100() : A100();
                   Layout l = Lay(1, 1, 3, r.checkpointing ? Recompute::kFull : Recompute::kNone);
                   l.micro_batch = r.micro_batch;
                   const TrainEstimate e = Train(m, g, r.h100 ? "RoCE-400G" : "RoCE-200G", r.gpus,
                                                 l, r.global_batch, r.seq, [r](TrainOptions& o) {
                                                   o.framework = Framework::kPyTorch;
                                                   if (r.fp8) o.precision = hw::Precision::kFp8;
                                                 });
                   return e.tokens_per_second_per_gpu;
                 },
                 0.15, r.role, foundry, miss, bound});
  }
  // torchtitan (pytorch/torchtitan docs/performance.md): Llama 3 with FSDP2 (ZeRO-3), sequence
  // 8192, local batch 1 on 64 A100 80GB ("selective op" activation checkpointing for 8B, full for
  // 70B); Llama 3.1 8B on 8 H100 (Grand Teton: 96 GB HBM2e at 2.4 TB/s, 500 W power limit), local
  // batch 2, selective AC, plain FSDP (no torch.compile), with its peak memory. torchtitan computes
  // the loss with F.cross_entropy on FP32 logits (eager cross-entropy). A100 network assumed
  // HDR InfiniBand.
  const std::string titan = "pytorch/torchtitan docs/performance.md";
  auto titan_opts = [](TrainOptions& o) {
    o.fused_cross_entropy = false;
    o.framework = Framework::kPyTorch;
  };
  c.push_back({"torchtitan Llama-3-8B, 64 A100, FSDP, op SAC", "tokens/s per GPU", 2973,
               [titan_opts] {
                 Layout l = Lay(1, 1, 3, Recompute::kOp);
                 return Train(Preset("Llama-3-8B"), A100(), "IB-HDR", 64, l, 64, 8192, titan_opts)
                     .tokens_per_second_per_gpu;
               },
               0.15, Role::kOutOfSample, titan, "", 0});
  c.push_back({"torchtitan Llama-3-70B, 64 A100, FSDP, full AC", "tokens/s per GPU", 323,
               [titan_opts] {
                 Layout l = Lay(1, 1, 3, Recompute::kFull);
                 return Train(Preset("Llama-3-70B"), A100(), "IB-HDR", 64, l, 64, 8192, titan_opts)
                     .tokens_per_second_per_gpu;
               },
               0.15, Role::kOutOfSample, titan, "", 0});
  c.push_back(
      {"torchtitan Llama-3.1-8B, 8 H100 (500 W), FSDP, op SAC", "tokens/s per GPU", 5762,
       [titan_opts] {
         Layout l = Lay(1, 1, 3, Recompute::kOp);
         l.micro_batch = 2;
         return Train(Preset("Llama-3-8B"), H100(), "RoCE-400G", 8, l, 16, 8192, titan_opts)
             .tokens_per_second_per_gpu;
       },
       0.15, Role::kOutOfSample, titan,
       "the run's H100s are capped at 500 W (of 700) with 2.4 TB/s HBM2e (the catalog's H100-SXM: "
       "3.35 TB/s); torchtitan reports 33-39 % MFU for this model, the planner assumes the 700 W "
       "part",
       0.40});
  c.push_back({"torchtitan Llama-3.1-8B, 8 H100, FSDP, op SAC: peak memory", "GiB", 82.4,
               [titan_opts] {
                 Layout l = Lay(1, 1, 3, Recompute::kOp);
                 l.micro_batch = 2;
                 return Train(Preset("Llama-3-8B"), H100(), "RoCE-400G", 8, l, 16, 8192, titan_opts)
                     .memory.total_gib;
               },
               0.10, Role::kCalibration, titan, "", 0});
}

// --- Issue 12: NeMo, Megatron-Bridge, NeMo AutoModel, llm-foundry at long sequences and at
// scale, torchtitan's memory at 128 GPUs. Each row states the stack it ran on (--framework).
// Calibration (chosen before the planner's output for them was looked at): the NeMo LLAMA2-7B
// FP8 row on 8 H100 (Hopper's tensorwise FP8 GEMM efficiency), NeMo's LLAMA2-7B at 128K tokens
// (Transformer Engine's fused attention on Hopper), llm-foundry's MPT-1b at 32K tokens on H100
// (flash-attn 2 on Hopper) and Megatron-Bridge's LLAMA3_8B on 8 B200 (Blackwell's FP8 GEMM
// efficiency). The others are out-of-sample.
struct StackRow {
  std::string name;
  double published;
  std::function<ModelSpec()> model;
  std::string gpu, net;
  int gpus, tp, pp, cp, vp, zero;
  Recompute recompute;
  int micro_batch;
  int64_t global_batch, seq;
  bool fp8;
  Framework framework;
  Role role;
  std::string source;
  bool memory = false;  // compare peak memory (GiB) instead of tokens/s per GPU
  std::function<void(TrainOptions&)> tweak = {};
  std::string miss = {};
  double miss_bound = 0;
};

ModelSpec GptShape(int layers, int64_t hidden, int heads, int64_t vocab, int kv_heads = 0) {
  ModelSpec m = Gpt(layers, hidden, heads, vocab);
  if (kv_heads > 0) {
    ShapeOverrides o;
    o.kv_heads = kv_heads;
    EXPECT_TRUE(ApplyOverrides(o, m).ok());
  }
  return m;
}

TrainEstimate EstimateRow(const StackRow& r) {
  const hw::GpuModel g = testing::Gpu(r.gpu);
  Layout l = Lay(r.tp, r.pp, r.zero, r.recompute, r.vp);
  l.cp = r.cp;
  l.micro_batch = r.micro_batch;
  return Train(r.model(), g, r.net, r.gpus, l, r.global_batch, r.seq, [r](TrainOptions& o) {
    o.framework = r.framework;
    if (r.fp8) o.precision = hw::Precision::kFp8;
    if (r.tweak) r.tweak(o);
  });
}

// MoE training on H100 (rows 122-130): NeMo AutoModel's pre-training table (PyTorch FSDP2 with
// Transformer Engine's linear and attention kernels and DeepEP's dispatch; every MoE row of its
// page that the planner can express) and Megatron-Bridge's H100 MoE rows. Both balance the
// tokens over the experts by force. The setup is each recipe's at the page's commit.
void AddMoeTrainingRows(std::vector<StackRow>& rows) {
  const std::string automodel =
      "NVIDIA-NeMo/Automodel docs/performance-summary.md at 8d9bfb90 (2025-10-08, pre-training, "
      "DGX-H100, BF16, fake balanced gate) and examples/benchmark/configs/*_te_deepep.yaml at the "
      "same commit";
  const std::string bridge =
      "NVIDIA-NeMo/Megatron-Bridge docs/performance-summary-archive.md, 25.11 NeMo container, "
      "DGX-H100 (FP8-CS: Transformer Engine's current scaling; MoE token-dropless, balanced by "
      "force)";
  const std::string bridge_2509 =
      "NVIDIA-NeMo/Megatron-Bridge docs/performance-summary-archive.md, 25.09 NeMo container, "
      "DGX-H100, DeepSeekV3 (dropless)";
  auto preset = [](const char* name) { return [name] { return Preset(name); }; };
  // AutoModel's DeepSeek-V3 has no multi-token-prediction layer (`--mtp-layers 0`).
  auto no_mtp = [] {
    ModelSpec m = Preset("DeepSeek-V3");
    ShapeOverrides o;
    o.mtp_layers = 0;
    EXPECT_TRUE(ApplyOverrides(o, m).ok());
    return m;
  };
  auto ep = [](int degree, bool uneven) {
    return [degree, uneven](TrainOptions& o) {
      o.layout.ep = degree;
      o.uneven_stages = uneven;
    };
  };
  // AutoModel trains pure bf16 (its models are cast to bf16; torch.optim.Adam's moments follow)
  // and runs each of the GA local batches as one pipeline schedule.
  auto automodel_ep = [](int degree, bool uneven, int ga) {
    return [degree, uneven, ga](TrainOptions& o) {
      o.layout.ep = degree;
      o.uneven_stages = uneven;
      o.master_weights = false;
      o.pipeline_runs = ga;
    };
  };
  const Framework mg = Framework::kMegatron;
  const Framework pt = Framework::kPyTorch;
  const Recompute full = Recompute::kFull;
  const Recompute sel = Recompute::kSelective;
  const Role oos = Role::kOutOfSample;
  const std::string qwen_attention =
      "attention is over a third of this model's FLOPs at 4,096 tokens (32 heads of 128 on a "
      "2,048-wide model) and is priced at the pytorch stack's flash-attn 2 figure, as row 68 of "
      "the same stack is; the recipe runs Transformer Engine's attention, whose figure (0.55) "
      "puts this row at 1.006 and row 68 at 1.229";
  const std::string sequential_a2a =
      "without pipeline stages the default hides 80 % of the expert all-to-all (2.7 s a step "
      "over 8 nodes) behind another microbatch's compute, which needs a schedule that "
      "interleaves microbatches (DualPipe, Megatron's 1F1B overlap); AutoModel runs its four "
      "one after another (with --ep-overlap 0: 0.818), and DeepEP sends a token once per node, "
      "not once per expert, which the planner does not price either";
  const std::string megatron_moe =
      "Megatron-Core's MoE on Hopper in these releases runs far below what its model and layout "
      "price at: the same Qwen3-30B-A3B layout ran 10,494 tokens/s per GPU with token dropping "
      "in 25.09 and 5,275 dropless in 25.11, and AutoModel trains that model at 12,040 (row "
      "125); software cost per expert and per dispatch the planner does not model";
  // clang-format off
  const std::vector<StackRow> moe = {
      // AutoModel: FSDP2 over DP x CP (experts over DP / EP), activation checkpointing per block
      // where the recipe turns it on, torch's interleaved 1F1B with one sequence per microbatch.
      {"NeMo AutoModel DeepSeek V3, 1024 H100 BF16, PP4 VP8 EP64, full AC", 865, no_mtp,
       "H100-SXM", "IB-NDR", 1024, 1, 4, 1, 8, 3, full, 1, 8192, 4096, false, pt, oos,
       automodel, false, automodel_ep(64, true, 4)},
      {"NeMo AutoModel DeepSeek V3, 256 H100 BF16, PP4 VP8 EP64, full AC", 1002, no_mtp,
       "H100-SXM", "IB-NDR", 256, 1, 4, 1, 8, 3, full, 1, 512, 4096, false, pt, oos,
       automodel, false, automodel_ep(64, true, 1)},
      {"NeMo AutoModel Kimi K2, 256 H100 BF16, PP8 VP4 EP32, full AC", 924, preset("Kimi-K2"),
       "H100-SXM", "IB-NDR", 256, 1, 8, 1, 4, 3, full, 1, 512, 4096, false, pt, oos,
       automodel, false, automodel_ep(32, true, 2)},
      {"NeMo AutoModel Qwen3 MoE 30B, 8 H100 BF16, EP8, full AC", 12040, preset("Qwen3-30B-A3B"),
       "H100-SXM", "IB-NDR", 8, 1, 1, 1, 1, 3, full, 4, 512, 4096, false, pt, oos,
       automodel, false, automodel_ep(8, false, 1), qwen_attention, 0.25},
      {"NeMo AutoModel GPT-OSS 20B, 8 H100 BF16, EP8, full AC", 13058, preset("GPT-OSS-20B"),
       "H100-SXM", "IB-NDR", 8, 1, 1, 1, 1, 3, full, 2, 256, 4096, false, pt, oos,
       automodel, false, automodel_ep(8, false, 1)},
      {"NeMo AutoModel GPT-OSS 120B, 64 H100 BF16, EP64", 7626, preset("GPT-OSS-120B"),
       "H100-SXM", "IB-NDR", 64, 1, 1, 1, 1, 3, Recompute::kNone, 2, 512, 4096, false, pt, oos,
       automodel, false, automodel_ep(64, false, 1), sequential_a2a, 0.50},
      // Megatron-Bridge: the distributed optimizer (--zero 1), its recipes' layouts.
      {"Megatron-Bridge GPT OSS 120B, 64 H100 BF16, PP4 EP8", 5630, preset("GPT-OSS-120B"),
       "H100-SXM", "IB-NDR", 64, 1, 4, 1, 1, 1, sel, 4, 512, 4096, false, mg, oos, bridge,
       false, ep(8, false), megatron_moe, 0.70},
      {"Megatron-Bridge Qwen3_30B_a3B, 16 H100 FP8, PP2 VP24 EP8", 5275, preset("Qwen3-30B-A3B"),
       "H100-SXM", "IB-NDR", 16, 1, 2, 1, 24, 1, sel, 2, 512, 4096, true, mg, oos, bridge,
       false, ep(8, false), megatron_moe, 3.0},
      {"Megatron-Bridge DeepSeekV3, 1024 H100 FP8, TP2 PP8 VP4 EP64", 1297, preset("DeepSeek-V3"),
       "H100-SXM", "IB-NDR", 1024, 2, 8, 1, 4, 1, sel, 1, 8192, 4096, true, mg, oos,
       bridge_2509, false, ep(64, true), megatron_moe, 0.60},
  };
  // clang-format on
  rows.insert(rows.end(), moe.begin(), moe.end());
}

// NeMo AutoModel's LoRA table (rows 131-136): rank 16 on every linear projection (its
// match_all_linear), bf16 base, sequences of 4,096, local batch 2, global batch 32; the 8B and
// 7B runs on one GPU without activation checkpointing, the 70B and 32B ones with TP 2 and FSDP
// over the rest, checkpointing every block. Llama 3.3 70B has Llama 3 70B's shape; Qwen2.5-32B
// is the Qwen2.5 shape at 64 layers of 5,120 (40 heads, 8 KV heads, FFN 27,648).
void AddAutoModelLoraRows(std::vector<StackRow>& rows) {
  const std::string automodel_lora =
      "NVIDIA-NeMo/Automodel docs/performance-summary.md at 2013a4dd (2026-04-10, 'Fine-Tuning "
      "(LoRA) Performance', DGX-H100, BF16) and its examples/llm_finetune/*_peft_benchmark*.yaml "
      "at the same commit";
  auto preset = [](const char* name) { return [name] { return Preset(name); }; };
  auto qwen25_32b = [] {
    ModelSpec m = Preset("Qwen2.5-72B");
    ShapeOverrides o;
    o.layers = 64;
    o.hidden = 5120;
    o.heads = 40;
    o.kv_heads = 8;
    o.ffn = 27648;
    EXPECT_TRUE(ApplyOverrides(o, m).ok());
    m.name = "Qwen2.5-32B";
    return m;
  };
  auto lora16 = [](TrainOptions& o) {
    o.finetune = Finetune::kLora;
    o.lora_rank = 16;
  };
  const Framework pt = Framework::kPyTorch;
  const Recompute none = Recompute::kNone;
  const Recompute full = Recompute::kFull;
  const Role oos = Role::kOutOfSample;
  // clang-format off
  const std::vector<StackRow> lora = {
      {"NeMo AutoModel Llama3 8B LoRA, 1 H100 BF16", 12472.87, preset("Llama-3-8B"), "H100-SXM",
       "IB-NDR", 1, 1, 1, 1, 1, 0, none, 2, 32, 4096, false, pt, oos, automodel_lora, false,
       lora16},
      {"NeMo AutoModel Qwen2.5 7B LoRA, 1 H100 BF16", 14110.05, preset("Qwen2.5-7B"), "H100-SXM",
       "IB-NDR", 1, 1, 1, 1, 1, 0, none, 2, 32, 4096, false, pt, oos, automodel_lora, false,
       lora16},
      {"NeMo AutoModel Llama3 70B LoRA, 8 H100 BF16, TP2 FSDP4", 1091.85, preset("Llama-3-70B"),
       "H100-SXM", "IB-NDR", 8, 2, 1, 1, 1, 3, full, 2, 32, 4096, false, pt, oos, automodel_lora,
       false, lora16},
      {"NeMo AutoModel Qwen2.5 32B LoRA, 8 H100 BF16, TP2 FSDP4", 2250.31, qwen25_32b,
       "H100-SXM", "IB-NDR", 8, 2, 1, 1, 1, 3, full, 2, 32, 4096, false, pt, oos, automodel_lora,
       false, lora16},
      {"NeMo AutoModel Llama3 70B LoRA, 16 H100 BF16, TP2 FSDP8", 984.85, preset("Llama-3-70B"),
       "H100-SXM", "IB-NDR", 16, 2, 1, 1, 1, 3, full, 2, 32, 4096, false, pt, oos, automodel_lora,
       false, lora16},
      {"NeMo AutoModel Qwen2.5 32B LoRA, 16 H100 BF16, TP2 FSDP8", 2072.89, qwen25_32b,
       "H100-SXM", "IB-NDR", 16, 2, 1, 1, 1, 3, full, 2, 32, 4096, false, pt, oos, automodel_lora,
       false, lora16},
  };
  // clang-format on
  rows.insert(rows.end(), lora.begin(), lora.end());
}

void AddStackCases(std::vector<Case>& c) {
  const std::string nemo =
      "NVIDIA/NeMo docs/source/performance/performance_summary.md at 8e3d65dc (NeMo 24.07, "
      "DGX-H100, FP8; last version before the page moved to the NeMo documentation site)";
  const std::string nemo_long =
      "NVIDIA/NeMo docs/source/performance/performance_summary.md at 35029a0c (pull request "
      "10784, 'Long Input Sequences': NeMo 24.03.01, DGX-H100, LLAMA2-7B FP8)";
  const std::string bridge =
      "NVIDIA-NeMo/Megatron-Bridge docs/performance-summary-archive.md, 25.11 NeMo container "
      "(FP8-CS: Transformer Engine's current scaling)";
  const std::string automodel =
      "NeMo AutoModel performance summary (docs.nvidia.com/nemo/automodel, pre-training, "
      "DGX-H100, BF16: PyTorch FSDP2 with Transformer Engine kernels)";
  const std::string foundry =
      "mosaicml/llm-foundry, scripts/train/benchmarking/README.md (MPT training benchmarks)";
  const std::string titan =
      "pytorch/torchtitan docs/performance.md at d4c86e37 (Table 3, Llama 3.1 8B on 128 H100)";
  auto gpt = [](int layers, int64_t hidden, int heads, int64_t vocab, int kv = 0) {
    return [=] { return GptShape(layers, hidden, heads, vocab, kv); };
  };
  auto preset = [](const char* name) { return [name] { return Preset(name); }; };
  // Nemotron (NeMo's nemotron yamls): the GPT shape with rotary positions and an untied output
  // layer; its squared-ReLU MLP is priced as GELU's (one fused kernel).
  auto nemotron = [](int layers, int64_t hidden, int heads, int kv = 0) {
    return [=] {
      ModelSpec m = GptShape(layers, hidden, heads, 256000, kv);
      m.learned_positions = false;
      m.max_positions = 0;
      m.tied_embeddings = false;
      m.name = "Nemotron-" + std::to_string(layers) + "x" + std::to_string(hidden);
      return m;
    };
  };
  const Framework mg = Framework::kMegatron;
  const Framework pt = Framework::kPyTorch;
  const Recompute none = Recompute::kNone;
  const Role oos = Role::kOutOfSample;
  const Role cal = Role::kCalibration;
  auto uneven = [](TrainOptions& o) { o.uneven_stages = true; };
  std::vector<StackRow> rows = {
      // NeMo 24.07 on DGX-H100 (8 x 400 Gb/s InfiniBand NDR), FP8, no recomputation, sequence
      // parallelism with TP, the distributed optimizer (NeMo-Megatron-Launcher's
      // conf/training yamls). GPT-3 vocabulary padded to 50,304; Nemotron's 256,000.
      {"NeMo GPT3-5B, 64 H100 FP8", 23406, gpt(24, 4096, 32, 50304), "H100-SXM", "IB-NDR", 64, 1, 1,
       1, 1, 1, none, 4, 2048, 2048, true, mg, oos, nemo},
      {"NeMo GPT3-20B, 64 H100 FP8, TP2", 5851, gpt(44, 6144, 48, 50304), "H100-SXM", "IB-NDR", 64,
       2, 1, 1, 1, 1, none, 2, 256, 2048, true, mg, oos, nemo},
      {"NeMo GPT3-175B, 128 H100 FP8, TP4 PP8 VP6", 716, gpt(96, 12288, 96, 50304), "H100-SXM",
       "IB-NDR", 128, 4, 8, 1, 6, 1, none, 1, 256, 2048, true, mg, oos, nemo},
      {"NeMo GPT3-175B, 512 H100 FP8, TP4 PP8 VP6", 825, gpt(96, 12288, 96, 50304), "H100-SXM",
       "IB-NDR", 512, 4, 8, 1, 6, 1, none, 2, 2048, 2048, true, mg, oos, nemo},
      {"NeMo LLAMA2-7B, 8 H100 FP8", 16934, preset("Llama-2-7B"), "H100-SXM", "IB-NDR", 8, 1, 1, 1,
       1, 1, none, 1, 128, 4096, true, mg, cal, nemo},
      {"NeMo LLAMA2-13B, 16 H100 FP8, PP4 VP10", 8715, preset("Llama-2-13B"), "H100-SXM", "IB-NDR",
       16, 1, 4, 1, 10, 1, none, 1, 128, 4096, true, mg, oos, nemo},
      {"NeMo LLAMA2-70B, 64 H100 FP8, TP4 PP4 VP20", 1728, preset("Llama-2-70B"), "H100-SXM",
       "IB-NDR", 64, 4, 4, 1, 20, 1, none, 1, 128, 4096, true, mg, oos, nemo},
      {"NeMo Nemotron-8B, 64 H100 FP8, TP2", 12507, nemotron(32, 4096, 32), "H100-SXM", "IB-NDR",
       64, 2, 1, 1, 1, 1, none, 4, 256, 4096, true, mg, oos, nemo},
      {"NeMo Nemotron-22B, 64 H100 FP8, TP2 PP4 VP10", 4312, nemotron(40, 6144, 48), "H100-SXM",
       "IB-NDR", 64, 2, 4, 1, 10, 1, none, 2, 256, 4096, true, mg, oos, nemo},
      {"NeMo Nemotron-340B, 128 H100 FP8, TP8 PP8 VP12", 326, nemotron(96, 18432, 96, 8),
       "H100-SXM", "IB-NDR", 128, 8, 8, 1, 12, 1, none, 1, 32, 4096, true, mg, oos, nemo},
      {"NeMo LLAMA3-8B, 8 H100 FP8, CP2", 12273, preset("Llama-3-8B"), "H100-SXM", "IB-NDR", 8, 1,
       1, 2, 1, 1, none, 1, 128, 8192, true, mg, oos, nemo},
      {"NeMo LLAMA3-70B, 64 H100 FP8, TP4 PP4 CP2 VP5", 1524, preset("Llama-3-70B"), "H100-SXM",
       "IB-NDR", 64, 4, 4, 2, 5, 1, none, 1, 128, 8192, true, mg, oos, nemo},
      // NeMo 24.03.01 long sequences, LLAMA2-7B FP8 with context parallelism.
      {"NeMo LLAMA2-7B FP8 at 8K, 8 H100, PP2", 13907, preset("Llama-2-7B"), "H100-SXM", "IB-NDR",
       8, 1, 2, 1, 1, 1, none, 1, 512, 8192, true, mg, oos, nemo_long},
      {"NeMo LLAMA2-7B FP8 at 32K, 32 H100, TP2 CP2", 6687, preset("Llama-2-7B"), "H100-SXM",
       "IB-NDR", 32, 2, 1, 2, 1, 1, none, 1, 128, 32768, true, mg, oos, nemo_long},
      {"NeMo LLAMA2-7B FP8 at 128K, 128 H100, TP4 CP4", 2260, preset("Llama-2-7B"), "H100-SXM",
       "IB-NDR", 128, 4, 1, 4, 1, 1, none, 1, 32, 131072, true, mg, cal, nemo_long},
      {"NeMo LLAMA2-7B FP8 at 1M, 1024 H100, TP8 CP32", 318, preset("Llama-2-7B"), "H100-SXM",
       "IB-NDR", 1024, 8, 1, 32, 1, 1, none, 1, 4, 1048576, true, mg, oos, nemo_long},
      // Megatron-Bridge 25.11 (FP8-CS). FSDP > 0 is Megatron-FSDP: --zero 3 with the
      // megatron stack (auto would price PyTorch's FSDP).
      {"Megatron-Bridge LLAMA3_8B, 8 H100 FP8, FSDP", 14451, preset("Llama-3-8B"), "H100-SXM",
       "IB-NDR", 8, 1, 1, 1, 1, 3, none, 1, 128, 8192, true, mg, oos, bridge},
      {"Megatron-Bridge LLAMA3_70B, 64 H100 FP8, TP4 PP8 VP5", 1602, preset("Llama-3-70B"),
       "H100-SXM", "IB-NDR", 64, 4, 8, 1, 5, 1, none, 1, 128, 8192, true, mg, oos, bridge},
      {"Megatron-Bridge LLAMA3.1_405B, 1024 H100 FP8, TP8 PP8 CP2 VP8",
       292,
       preset("Llama-3-405B"),
       "H100-SXM",
       "IB-NDR",
       1024,
       8,
       8,
       2,
       8,
       1,
       none,
       1,
       512,
       8192,
       true,
       mg,
       oos,
       bridge,
       false,
       uneven},
      {"Megatron-Bridge LLAMA3_8B, 8 B200 FP8", 30624, preset("Llama-3-8B"), "B200", "IB-NDR", 8, 1,
       1, 1, 1, 1, none, 2, 128, 8192, true, mg, cal, bridge},
      {"Megatron-Bridge LLAMA3.1_405B, 128 B200 FP8, TP4 PP8 CP2 VP8",
       661,
       preset("Llama-3-405B"),
       "B200",
       "IB-NDR",
       128,
       4,
       8,
       2,
       8,
       1,
       none,
       1,
       64,
       8192,
       true,
       mg,
       oos,
       bridge,
       false,
       uneven},
      {"Megatron-Bridge LLAMA3_8B, 8 GB200 FP8", 31508, preset("Llama-3-8B"), "GB200", "IB-NDR", 8,
       1, 1, 1, 1, 1, none, 2, 128, 8192, true, mg, oos, bridge},
      {"Megatron-Bridge LLAMA3_70B, 64 GB200 FP8, FSDP", 4312, preset("Llama-3-70B"), "GB200",
       "IB-NDR", 64, 1, 1, 1, 1, 3, none, 2, 256, 8192, true, mg, oos, bridge},
      {"Megatron-Bridge LLAMA3.1_405B, 256 GB200 FP8, TP4 PP16 VP4",
       813,
       preset("Llama-3-405B"),
       "GB200",
       "IB-NDR",
       256,
       4,
       16,
       1,
       4,
       1,
       none,
       1,
       1536,
       8192,
       true,
       mg,
       oos,
       bridge,
       false,
       uneven},
      // NeMo AutoModel: Llama3 70B, 64 H100, FSDP2 over 32 with CP 2, local batch 1, GA 4.
      {"NeMo AutoModel Llama3 70B, 64 H100 BF16, FSDP2 CP2", 866.77, preset("Llama-3-70B"),
       "H100-SXM", "IB-NDR", 64, 1, 1, 2, 1, 3, none, 1, 128, 8192, false, pt, oos, automodel},
      // llm-foundry (Composer, PyTorch FSDP FULL_SHARD, flash-attn 2) at long sequences and at
      // 512 GPUs; networks as for rows 24-39.
      {"MPT-1b, 8 H100, FSDP, seq 32768", 12025, gpt(24, 2048, 16, 50368), "H100-SXM", "RoCE-400G",
       8, 1, 1, 1, 1, 3, none, 1, 32, 32768, false, pt, cal, foundry},
      {"MPT-760m, 8 H100, FSDP, seq 16384", 27815, gpt(24, 1536, 12, 50368), "H100-SXM",
       "RoCE-400G", 8, 1, 1, 1, 1, 3, none, 3, 48, 16384, false, pt, oos, foundry},
      {"MPT-3b, 8 H100, FSDP, seq 8192", 16578, gpt(32, 2560, 20, 50368), "H100-SXM", "RoCE-400G",
       8, 1, 1, 1, 1, 3, none, 3, 144, 8192, false, pt, oos, foundry},
      {"MPT-7b, 8 H100, FSDP, seq 8192, full AC", 6935, gpt(32, 4096, 32, 50368), "H100-SXM",
       "RoCE-400G", 8, 1, 1, 1, 1, 3, Recompute::kFull, 8, 128, 8192, false, pt, oos, foundry},
      {"MPT-3b, 8 A100, FSDP, seq 8192", 7695, gpt(32, 2560, 20, 50368), "A100-SXM-80GB",
       "RoCE-200G", 8, 1, 1, 1, 1, 3, none, 3, 144, 8192, false, pt, oos, foundry},
      {"MPT-7b, 512 H100, FSDP", 9670, gpt(32, 4096, 32, 50368), "H100-SXM", "RoCE-400G", 512, 1, 1,
       1, 1, 3, none, 6, 3072, 2048, false, pt, oos, foundry},
      {"MPT-70b, 512 H100, FSDP, full AC", 1007, gpt(80, 8192, 64, 50368), "H100-SXM", "RoCE-400G",
       512, 1, 1, 1, 1, 3, Recompute::kFull, 8, 4096, 2048, false, pt, oos, foundry},
      // torchtitan Table 3: FSDP, local batch 2, selective (op) AC, eager cross-entropy.
      {"torchtitan Llama-3.1-8B, 128 H100, FSDP, op SAC: peak memory",
       67.0,
       preset("Llama-3-8B"),
       "H100-SXM",
       "RoCE-400G",
       128,
       1,
       1,
       1,
       1,
       3,
       Recompute::kOp,
       2,
       256,
       8192,
       false,
       pt,
       oos,
       titan,
       true,
       [](TrainOptions& o) { o.fused_cross_entropy = false; }},
  };
  // NeMo 24.07 fine-tuning on DGX-H100, FP8, SQuAD packed to 4096 tokens, GBS 32, MBS 1: SFT
  // (full fine-tuning, set up as the pre-training rows) and LoRA (NeMo's adapter dimension 32;
  // the planner puts adapters on every projection where NeMo's default is the fused QKV only,
  // under 1 % of the FLOPs either way). Attention is priced over the whole 4096 tokens.
  const std::string nemo_ft =
      "NVIDIA/NeMo docs/source/performance/performance_summary.md at 070a0bb1 (NeMo 24.07, "
      "'Finetuning', DGX-H100, FP8, SQuAD-v1.1 packed to 4096 tokens)";
  auto lora = [](TrainOptions& o) {
    o.finetune = Finetune::kLora;
    o.lora_rank = 32;
  };
  const std::vector<StackRow> finetune = {
      {"NeMo LLAMA2-7B SFT, 8 H100 FP8", 17120, preset("Llama-2-7B"), "H100-SXM", "IB-NDR", 8, 1, 1,
       1, 1, 1, none, 1, 32, 4096, true, mg, oos, nemo_ft},
      {"NeMo LLAMA2-13B SFT, 8 H100 FP8, PP4",
       9741,
       preset("Llama-2-13B"),
       "H100-SXM",
       "IB-NDR",
       8,
       1,
       4,
       1,
       1,
       1,
       none,
       1,
       32,
       4096,
       true,
       mg,
       oos,
       nemo_ft,
       false,
       {},
       "a pipeline of 4 stages over 16 microbatches without the interleaved schedule (the table "
       "gives no VP) spends 16 % of the step in the bubble, yet NeMo's SFT runs 12 % faster per "
       "GPU than its 16-GPU pre-training with VP 10 (row 49); an interleaved or packed-sequence "
       "setup the table does not state is the likely difference",
       0.30},
      {"NeMo LLAMA2-70B SFT, 16 H100 FP8, TP4 PP4", 1833, preset("Llama-2-70B"), "H100-SXM",
       "IB-NDR", 16, 4, 4, 1, 1, 1, none, 1, 32, 4096, true, mg, oos, nemo_ft},
      {"NeMo LLAMA2-7B LoRA, 8 H100 FP8",
       25206,
       preset("Llama-2-7B"),
       "H100-SXM",
       "IB-NDR",
       8,
       1,
       1,
       1,
       1,
       1,
       none,
       1,
       32,
       4096,
       true,
       mg,
       oos,
       nemo_ft,
       false,
       lora,
       "LoRA is 1.47x SFT in the table and 1.29x in the planner: the frozen base skips its weight "
       "gradients (4 of 6 FLOPs per parameter), but attention over 4096 tokens and the "
       "element-wise traffic stay whole; the table's SFT figures do not show the attention cost "
       "either (its model FLOPs are 6N)",
       0.25},
      {"NeMo LLAMA2-13B LoRA, 8 H100 FP8",
       14161,
       preset("Llama-2-13B"),
       "H100-SXM",
       "IB-NDR",
       8,
       1,
       1,
       1,
       1,
       1,
       none,
       1,
       32,
       4096,
       true,
       mg,
       oos,
       nemo_ft,
       false,
       lora},
      {"NeMo LLAMA2-70B LoRA, 8 H100 FP8, TP2 PP4",
       2557,
       preset("Llama-2-70B"),
       "H100-SXM",
       "IB-NDR",
       8,
       2,
       4,
       1,
       1,
       1,
       none,
       1,
       32,
       4096,
       true,
       mg,
       oos,
       nemo_ft,
       false,
       lora},
  };
  rows.insert(rows.end(), finetune.begin(), finetune.end());
  // torchtitan's Llama 2 table: FSDP2 on 64 A100 80GB, sequence 4096, local batch 2 (1 for 70B
  // with op AC), eager cross-entropy; network as rows 40-41 (HDR InfiniBand assumed).
  const std::string titan_llama2 =
      "pytorch/torchtitan docs/performance.md at 04133643 ('Llama 3 / Llama 2 performance "
      "numbers', FSDP2 on 64 A100 80GB)";
  auto eager_ce = [](TrainOptions& o) { o.fused_cross_entropy = false; };
  const std::vector<StackRow> titan2 = {
      {"torchtitan Llama-2-13B, 64 A100, FSDP, no AC",
       2162,
       preset("Llama-2-13B"),
       "A100-SXM-80GB",
       "IB-HDR",
       64,
       1,
       1,
       1,
       1,
       3,
       none,
       2,
       128,
       4096,
       false,
       pt,
       oos,
       titan_llama2,
       false,
       eager_ce},
      {"torchtitan Llama-2-13B, 64 A100, FSDP, op SAC",
       1904,
       preset("Llama-2-13B"),
       "A100-SXM-80GB",
       "IB-HDR",
       64,
       1,
       1,
       1,
       1,
       3,
       Recompute::kOp,
       2,
       128,
       4096,
       false,
       pt,
       oos,
       titan_llama2,
       false,
       eager_ce},
      {"torchtitan Llama-2-70B, 64 A100, FSDP, op SAC",
       355,
       preset("Llama-2-70B"),
       "A100-SXM-80GB",
       "IB-HDR",
       64,
       1,
       1,
       1,
       1,
       3,
       Recompute::kOp,
       1,
       64,
       4096,
       false,
       pt,
       oos,
       titan_llama2,
       false,
       eager_ce},
      {"torchtitan Llama-2-70B, 64 A100, FSDP, full AC",
       353,
       preset("Llama-2-70B"),
       "A100-SXM-80GB",
       "IB-HDR",
       64,
       1,
       1,
       1,
       1,
       3,
       Recompute::kFull,
       2,
       128,
       4096,
       false,
       pt,
       oos,
       titan_llama2,
       false,
       eager_ce},
  };
  rows.insert(rows.end(), titan2.begin(), titan2.end());
  // The same page's "selective layer" rows (checkpointing every 2nd block, `--recompute layer`):
  // Llama 3 8B at sequence 8192, local batch 1, and Llama 2 13B at 4096, local batch 2.
  const std::vector<StackRow> titan_layer = {
      {"torchtitan Llama-3-8B, 64 A100, FSDP, layer AC",
       2904,
       preset("Llama-3-8B"),
       "A100-SXM-80GB",
       "IB-HDR",
       64,
       1,
       1,
       1,
       1,
       3,
       Recompute::kLayer,
       1,
       64,
       8192,
       false,
       pt,
       oos,
       titan_llama2,
       false,
       eager_ce},
      {"torchtitan Llama-2-13B, 64 A100, FSDP, layer AC",
       1914,
       preset("Llama-2-13B"),
       "A100-SXM-80GB",
       "IB-HDR",
       64,
       1,
       1,
       1,
       1,
       3,
       Recompute::kLayer,
       2,
       128,
       4096,
       false,
       pt,
       oos,
       titan_llama2,
       false,
       eager_ce},
  };
  rows.insert(rows.end(), titan_layer.begin(), titan_layer.end());
  // torchtitan's H100 benchmark page (end of 2024): Llama 3.1 8B, 70B and 405B from FSDP alone
  // to FSDP + TP + PP + CP on Grand Teton hosts (8 H100 96 GB HBM2e, 500 W; 400 Gb/s RDMA per
  // GPU), eager cross-entropy, memory as torchtitan logs it (the maximum over all GPUs). Every
  // row of Tables 1-6 the earlier rows (42, 43, 76) did not take. The planner has no notion of
  // torch.compile or of the 500 W cap: rows with compile are priced as the eager stack, on the
  // catalog's 700 W H100-SXM. Float8 is torchao's tensorwise recipe (`--precision fp8`). Async
  // TP is the default FP8 TP overlap; plain 2D has none (tp_overlap 0). The pipeline rows split
  // each batch into as many microbatches as there are stages (torchtitan's default then), the
  // interleaved one with two stages per GPU; 126 layers over 8 or 16 stages (`--uneven-stages`).
  const std::string titan_h100 =
      "pytorch/torchtitan benchmarks/llama3_h100_202412_torchtitan.md at 31a17bfd (Llama 3.1 "
      "on H100, Tables 1-6)";
  // One run of the page: its throughput row and, where published, its memory row.
  struct TitanRun {
    std::string name;
    const char* model;
    int gpus, tp, pp, cp, vp;
    Recompute recompute;
    int micro_batch;
    int64_t global_batch, seq;
    bool fp8;
    double tokens_per_s, memory_gib;  // memory 0: not a row here
    std::function<void(TrainOptions&)> extra = {};
    std::string tps_miss = {};
    double tps_bound = 0;
    std::string memory_miss = {};
    double memory_bound = 0;
  };
  const Recompute op = Recompute::kOp;
  const Recompute full = Recompute::kFull;
  auto no_tp_overlap = [](TrainOptions& o) { o.tp_overlap = 0.0; };
  const std::string w500 =
      "the run's H100s are capped at 500 W with 2.4 TB/s HBM2e (the catalog's H100-SXM: 700 W, "
      "3.35 TB/s), and its eager stack is priced as the compiled one; as row 42";
  // clang-format off
  const std::vector<TitanRun> titan_runs = {
      {"torchtitan Llama-3.1-8B, 8 H100, FSDP + compile, op SAC", "Llama-3-8B",
       8, 1, 1, 1, 1, op, 2, 16, 8192, false, 6667, 77.0},
      {"torchtitan Llama-3.1-8B, 8 H100, FSDP + compile + Float8, op SAC", "Llama-3-8B",
       8, 1, 1, 1, 1, op, 2, 16, 8192, true, 8532, 76.8},
      {"torchtitan Llama-3.1-8B, 8 H100 FP8, FSDP 8, 32K, full AC", "Llama-3-8B",
       8, 1, 1, 1, 1, full, 1, 8, 32768, true, 3890, 83.9, {}, kTitanLongSequence, 0.25},
      {"torchtitan Llama-3.1-8B, 8 H100 FP8, FSDP 4 CP 2, 64K, full AC", "Llama-3-8B",
       8, 1, 1, 2, 1, full, 1, 4, 65536, true, 2540, 84.2, {}, kTitanLongSequence, 0.35},
      {"torchtitan Llama-3.1-8B, 8 H100 FP8, FSDP 2 CP 4, 128K, full AC", "Llama-3-8B",
       8, 1, 1, 4, 1, full, 1, 2, 131072, true, 1071, 84.0},
      {"torchtitan Llama-3.1-8B, 8 H100 FP8, CP 8, 256K, full AC", "Llama-3-8B",
       8, 1, 1, 8, 1, full, 1, 1, 262144, true, 548, 84.5},
      // Its memory is row 76.
      {"torchtitan Llama-3.1-8B, 128 H100, FSDP, op SAC", "Llama-3-8B",
       128, 1, 1, 1, 1, op, 2, 256, 8192, false, 5605, 0, {}, w500, 0.40},
      {"torchtitan Llama-3.1-8B, 128 H100, FSDP + compile, op SAC", "Llama-3-8B",
       128, 1, 1, 1, 1, op, 2, 256, 8192, false, 6514, 62.0},
      {"torchtitan Llama-3.1-8B, 128 H100, FSDP + compile + Float8, op SAC", "Llama-3-8B",
       128, 1, 1, 1, 1, op, 2, 256, 8192, true, 8380, 61.8},
      {"torchtitan Llama-3.1-70B, 256 H100 FP8, FSDP 32 TP 8, full AC", "Llama-3-70B",
       256, 8, 1, 1, 1, full, 16, 512, 8192, true, 829, 71.9,
       no_tp_overlap, {}, 0, kTitan70bMemory, 0.20},
      {"torchtitan Llama-3.1-70B, 256 H100 FP8, FSDP 32 TP 8 + AsyncTP, full AC", "Llama-3-70B",
       256, 8, 1, 1, 1, full, 16, 512, 8192, true, 876, 67.6},
      {"torchtitan Llama-3.1-405B, 512 H100 FP8, FSDP 8 TP 8 PP 8, 1F1B", "Llama-3-405B",
       512, 8, 8, 1, 1, full, 4, 256, 8192, true, 100, 82.5},
      {"torchtitan Llama-3.1-405B, 512 H100 FP8, FSDP 8 TP 8 PP 8, interleaved", "Llama-3-405B",
       512, 8, 8, 1, 2, full, 2, 256, 8192, true, 128, 72.7,
       {}, kTitanInterleaved, 0.35},
      {"torchtitan Llama-3.1-405B, 512 H100 FP8, FSDP 8 TP 8 PP 8, 32K", "Llama-3-405B",
       512, 8, 8, 1, 1, full, 1, 64, 32768, true, 76, 75.3},
      {"torchtitan Llama-3.1-405B, 512 H100 FP8, FSDP 4 CP 2 TP 8 PP 8, 64K", "Llama-3-405B",
       512, 8, 8, 2, 1, full, 1, 32, 65536, true, 47, 75.9},
      {"torchtitan Llama-3.1-405B, 512 H100 FP8, FSDP 2 CP 4 TP 8 PP 8, 128K", "Llama-3-405B",
       512, 8, 8, 4, 1, full, 1, 16, 131072, true, 31, 77.1},
      {"torchtitan Llama-3.1-405B, 512 H100 FP8, CP 8 TP 8 PP 8, 256K", "Llama-3-405B",
       512, 8, 8, 8, 1, full, 1, 8, 262144, true, 16, 84.9},
  };
  // clang-format on
  for (const TitanRun& t : titan_runs) {
    auto tweak = [extra = t.extra, pp = t.pp](TrainOptions& o) {
      o.fused_cross_entropy = false;
      if (pp > 1) o.uneven_stages = true;
      if (extra) extra(o);
    };
    auto row = [&](std::string name, double published, bool memory, std::string miss,
                   double bound) {
      rows.push_back(StackRow{std::move(name),
                              published,
                              preset(t.model),
                              "H100-SXM",
                              "RoCE-400G",
                              t.gpus,
                              t.tp,
                              t.pp,
                              t.cp,
                              t.vp,
                              3,
                              t.recompute,
                              t.micro_batch,
                              t.global_batch,
                              t.seq,
                              t.fp8,
                              pt,
                              oos,
                              titan_h100,
                              memory,
                              tweak,
                              std::move(miss),
                              bound});
    };
    row(t.name, t.tokens_per_s, false, t.tps_miss, t.tps_bound);
    if (t.memory_gib > 0) {
      row(t.name + ": peak memory", t.memory_gib, true, t.memory_miss, t.memory_bound);
    }
  }
  AddMoeTrainingRows(rows);
  AddAutoModelLoraRows(rows);
  for (StackRow& r : rows) {
    const bool mem = r.memory;
    c.push_back({r.name, mem ? "GiB" : "tokens/s per GPU", r.published,
                 [r] {
                   const TrainEstimate e = EstimateRow(r);
                   return r.memory ? e.memory.total_gib : e.tokens_per_second_per_gpu;
                 },
                 mem ? 0.10 : 0.15, r.role, r.source, r.miss, r.miss_bound});
  }
}

std::vector<Case> Cases() {
  std::vector<Case> c;
  const std::string megatron =
      "Narayanan et al. 2021, Efficient Large-Scale Language Model Training on GPU Clusters Using "
      "Megatron-LM (SC'21), Table 1";
  // Calibration: the 16-bit GEMM efficiency (0.7) and the element-wise traffic (40 h bytes per
  // token per layer per pass) were chosen on these rows.
  for (const MegatronRow& r : kMegatron) {
    c.push_back({std::string("Megatron GPT ") + r.billions + "B, " + std::to_string(r.gpus) +
                     " A100, TP" + std::to_string(r.tp) + " PP" + std::to_string(r.pp),
                 "TFLOP/s per GPU", r.tflops,
                 [r] {
                   const ModelSpec m = Gpt(r.layers, r.hidden, r.heads, 51200);
                   // Megatron-LM of 2021 all-reduced the gradients after the whole backward
                   // (train_step calls allreduce_gradients() after forward_backward_func; the
                   // overlap arrived with --overlap-grad-reduce in 2023): nothing hidden.
                   const TrainEstimate e =
                       Train(m, A100(), "IB-HDR", r.gpus, Lay(r.tp, r.pp, 0, Recompute::kFull),
                             r.batch, 2048, [](TrainOptions& o) {
                               o.flash_attention = false;
                               o.framework = Framework::kMegatron;
                               o.dp_overlap = 0.0;
                             });
                   return HardwareTflops(e, r.gpus);
                 },
                 0.15, Role::kCalibration, megatron, "", 0});
  }
  // OPT-175B (Zhang et al. 2022, OPT: Open Pre-trained Transformer Language Models, section 2.4):
  // 992 A100 80GB, FSDP with Megatron tensor parallelism, "up to 147 TFLOP/s per GPU".
  c.push_back({"OPT-175B, 992 A100, FSDP + TP8", "TFLOP/s per GPU", 147,
               [] {
                 // 992 / TP 8 = 124 data-parallel ranks of 8 sequences each, run as one
                 // microbatch (metaseq's --update-freq 1: no gradient accumulation).
                 Layout l = Lay(8, 1, 3, Recompute::kFull);
                 l.micro_batch = 8;
                 const TrainEstimate e =
                     Train(Preset("GPT-3-175B"), A100(), "RoCE-200G", 992, l, 992, 2048,
                           [](TrainOptions& o) { o.flash_attention = false; });
                 return HardwareTflops(e, 992);
               },
               0.15, Role::kOutOfSample,
               "Zhang et al. 2022, OPT (arXiv 2205.01068), 2.4 Training Efficiency", "", 0});
  // Llama 3 (Dubey et al. 2024, The Llama 3 Herd of Models, Table 4): 405B, seq 8192, TP 8, PP 16,
  // 16M tokens per batch, BF16 MFU 43 % on 8,192 H100 and 41 % on 16,384 (430 / 400 TFLOP/s).
  // 400 Gb/s RoCE per GPU; uneven stages (first and last one layer fewer, as the paper says);
  // interleaved schedule with 2 virtual stages assumed (the paper does not give the number).
  // Calibration: the flash-attention efficiency (0.5) was chosen on these rows.
  for (auto [gpus, dp, tflops] : {std::tuple{8192, 64, 430.0}, std::tuple{16384, 128, 400.0}}) {
    c.push_back(
        {"Llama 3 405B, " + std::string(gpus == 8192 ? "8,192" : "16,384") + " H100, TP8 PP16 DP" +
             std::to_string(dp),
         "TFLOP/s per GPU", tflops,
         [gpus] {
           const TrainEstimate e = Train(Preset("Llama-3-405B"), H100(), "RoCE-400G", gpus,
                                         Lay(8, 16, 2, Recompute::kSelective, 2), 2048, 8192,
                                         [](TrainOptions& o) { o.uneven_stages = true; });
           return ModelTflops(e, gpus);
         },
         0.15, Role::kCalibration,
         "Dubey et al. 2024, The Llama 3 Herd of Models (arXiv 2407.21783), Table 4", "", 0});
  }

  // --- GPU-hours.
  // DeepSeek-V3 technical report (arXiv 2412.19437), section 1: "each trillion tokens requires
  // 180K H800 GPU hours" on 2,048 H800; PP 16 (DualPipe), EP 64 over 8 nodes, ZeRO-1, no TP,
  // FP8 mixed precision, seq 4096, batch 15,360. DualPipe hides most of the all-to-all: 80 %
  // assumed. Calibration: the only FP8 case, on which the FP8 efficiency (0.42) was chosen.
  c.push_back({"DeepSeek-V3, 1T tokens on 2,048 H800", "GPU-hours", 180e3,
               [] {
                 const TrainEstimate e = Train(Preset("DeepSeek-V3"), H800(), "IB-NDR", 2048,
                                               Lay(1, 16, 1, Recompute::kSelective, 1, 64), 15360,
                                               4096, [](TrainOptions& o) {
                                                 o.precision = hw::Precision::kFp8;
                                                 o.fp8_recipe = Fp8Recipe::kBlockwise;
                                                 o.uneven_stages = true;
                                                 o.ep_overlap = 0.8;
                                                 o.tokens = 1e12;
                                               });
                 return e.gpu_hours;
               },
               0.15, Role::kCalibration,
               "DeepSeek-AI 2024, DeepSeek-V3 Technical Report, sections 1 and 3", "", 0});
  // Llama 2 (Touvron et al. 2023, Table 2 / CO2 table): A100-80GB GPU-hours for 2T tokens, 4M
  // tokens per batch, seq 4096. Layouts are not published: FSDP (ZeRO-3) for 7B, TP 2 for 13B,
  // TP 8 x PP 4 for 70B assumed.
  const std::string llama2 = "Touvron et al. 2023, Llama 2 (arXiv 2307.09288), Table 2";
  c.push_back({"Llama-2-7B, 2T tokens", "A100 GPU-hours", 184320,
               [] {
                 return Train(Preset("Llama-2-7B"), A100(), "IB-HDR", 256,
                              Lay(1, 1, 3, Recompute::kSelective), 1024, 4096,
                              [](TrainOptions& o) { o.tokens = 2e12; })
                     .gpu_hours;
               },
               0.15, Role::kOutOfSample, llama2,
               "the hours imply 39 % MFU over the whole run; the assumed FSDP layout on 256 GPUs "
               "now prices the gathers over all 8 rails of a node and hides them under the "
               "compute (48 % MFU in steady state); like rows 19-20, the published hours include "
               "what the steady state leaves out (evaluation, restarts) and the layout is not "
               "published",
               0.25});
  c.push_back({"Llama-2-13B, 2T tokens", "A100 GPU-hours", 368640,
               [] {
                 return Train(Preset("Llama-2-13B"), A100(), "IB-HDR", 512,
                              Lay(2, 1, 1, Recompute::kSelective), 1024, 4096,
                              [](TrainOptions& o) { o.tokens = 2e12; })
                     .gpu_hours;
               },
               0.15, Role::kOutOfSample, llama2,
               "the published hours imply 37.7 % MFU for 13B against 39 % for 7B and 43 % for 70B "
               "of the same recipe; the planner's efficiency rises with size (bigger GEMMs) and "
               "cannot reproduce a dip at 13B. Cluster (RSC InfiniBand vs production RoCE) and "
               "layout are not published; under the megatron stack (the assumed TP 2 layout) its "
               "fused element-wise kernels widen the gap",
               0.35});
  c.push_back({"Llama-2-70B, 2T tokens", "A100 GPU-hours", 1720320,
               [] {
                 return Train(Preset("Llama-2-70B"), A100(), "IB-HDR", 2048,
                              Lay(8, 4, 1, Recompute::kSelective), 1024, 4096,
                              [](TrainOptions& o) { o.tokens = 2e12; })
                     .gpu_hours;
               },
               0.15, Role::kOutOfSample, llama2, "", 0});
  // Llama 3.1 model card: H100-80GB GPU-hours 1.46M (8B), 7.0M (70B), 30.84M (405B); ~15T tokens
  // (15.6T for 405B in the paper). Layouts: the paper's Table 4 for 405B; assumed for 8B/70B.
  // The 405B row is calibration: the same run and the same estimate as the 16,384-GPU Table 4
  // row above, only counted in hours.
  const std::string llama31 =
      "Meta, Llama 3.1 model card (Hardware and Software: Training Energy Use); Llama 3 paper";
  c.push_back({"Llama-3.1-405B, 15.6T tokens", "H100 GPU-hours", 30.84e6,
               [] {
                 return Train(Preset("Llama-3-405B"), H100(), "RoCE-400G", 16384,
                              Lay(8, 16, 2, Recompute::kSelective, 2), 2048, 8192,
                              [](TrainOptions& o) {
                                o.uneven_stages = true;
                                o.tokens = 15.6e12;
                              })
                     .gpu_hours;
               },
               0.15, Role::kCalibration, llama31, "", 0});
  c.push_back({"Llama-3.1-70B, 15T tokens", "H100 GPU-hours", 7.0e6,
               [] {
                 return Train(Preset("Llama-3-70B"), H100(), "IB-NDR", 2048,
                              Lay(8, 4, 1, Recompute::kSelective), 2048, 8192,
                              [](TrainOptions& o) { o.tokens = 15e12; })
                     .gpu_hours;
               },
               0.15, Role::kOutOfSample, llama31,
               "the model card's hours cover the whole pre-training recipe (long-context stages "
               "to 128K at lower MFU, annealing, restarts after interruptions) and the layout is "
               "not published; the planner models the steady 8K-context phase only",
               0.40});
  c.push_back({"Llama-3.1-8B, 15T tokens", "H100 GPU-hours", 1.46e6,
               [] {
                 return Train(Preset("Llama-3-8B"), H100(), "IB-NDR", 512,
                              Lay(1, 1, 3, Recompute::kSelective), 512, 8192,
                              [](TrainOptions& o) { o.tokens = 15e12; })
                     .gpu_hours;
               },
               0.15, Role::kOutOfSample, llama31,
               "the published hours imply 14 % MFU for 8B: small models run on smaller, "
               "busier clusters with the same recipe overheads (long context, annealing, "
               "restarts); the planner's steady-state throughput is about twice that",
               0.60});
  // BLOOM (BigScience 2022, arXiv 2211.05100, section 3.5 and the model card): 176B, 70 layers,
  // h 14336, 112 heads, vocab 250,880, 366B tokens on 384 A100 80GB: 1,082,990 GPU-hours;
  // TP 4, PP 12, DP 8, ZeRO-1, seq 2048, batch 2048, full recomputation, HDR InfiniBand.
  c.push_back({"BLOOM-176B, 366B tokens, 384 A100", "GPU-hours", 1082990,
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
               0.15, Role::kOutOfSample,
               "Le Scao et al. 2022, BLOOM (arXiv 2211.05100), 3.5 and Table of emissions",
               "the 1,082,990 hours span the whole 117-day run including hardware failures and "
               "restarts; BLOOM reports about 150 TFLOP/s (48 % HFU) in steady state, the planner "
               "predicts 59 % HFU for this layout (its 250K vocabulary and ALiBi/embedding norm "
               "kernels are not modelled)",
               0.35});

  // --- Memory.
  // vLLM pull request #12569 log: Meta-Llama-3.1-70B-Instruct-quantized.w8a8 on one H100,
  // "Loading model weights took 67.7229 GB" (vLLM prints GiB), "# GPU blocks: 1381" (16 tokens
  // each = 22,096 KV tokens) at --gpu-memory-utilization 0.98, --max-model-len 2048.
  // The weights are a byte count no constant was chosen on; the KV capacity is calibration: the
  // runtime-overhead defaults (CUDA context 1.0 GiB, workspace 0.5 GiB) were raised toward this
  // log in the commit that added it.
  const std::string vllm = "vLLM pull request #12569 (startup log, Jan 2025)";
  auto w8a8 = [] {
    InferOptions o;
    o.precision = hw::Precision::kInt8;
    o.gpu_memory_utilization = 0.98;
    o.context = 2048;
    o.max_batched_tokens = 2048;
    // The log is vLLM's V0 engine ("# GPU blocks"), whose default max_num_seqs was 256.
    o.max_num_seqs = 256;
    o.fabric = WithNetwork(H100(), "IB-NDR");
    auto e = EstimateInference(Preset("Llama-3-70B"), H100(), o);
    EXPECT_TRUE(e.has_value());
    return e.value_or(InferEstimate{});
  };
  c.push_back({"vLLM Llama-3.1-70B W8A8 weights, 1 H100", "GiB", 67.7229,
               [w8a8] { return w8a8().weights_gib_per_gpu; }, 0.10, Role::kOutOfSample, vllm, "",
               0});
  c.push_back({"vLLM Llama-3.1-70B W8A8 KV capacity", "tokens", 22096,
               [w8a8] { return double(w8a8().max_kv_tokens); }, 0.10, Role::kCalibration, vllm,
               "KV capacity is the small difference of two large numbers (77.6 GiB budget - "
               "67.7 GiB weights): this log is vLLM's V0 engine, which holds about 3.1 GiB "
               "besides the weights where the vLLM accounting (profiled on V1 logs) predicts "
               "1.3 GiB (sampler over 256 sequences, non-torch memory); each GiB is 3,200 tokens "
               "(15 %) here",
               0.45});
  // The ZeRO paper's Figure 1 (model states per GPU) is a formula, checked as a unit test:
  // TrainingMemoryTest.ZeroFigureOneOfThePaper.
  AddFrameworkTableCases(c);
  AddStackCases(c);
  return c;
}

TEST(ValidationTest, AutoModelMoeRunsFitTheirGpus) {
  // The runs of rows 122-126 trained on 80 GB H100s, so the planner must not say they do not
  // fit. Pure bf16 (no FP32 master weights) and experts left out of FSDP where EP = DP are what
  // make three of them fit. Row 127 (GPT-OSS 120B without activation checkpointing) is priced
  // at the limit, within the estimate's error either way: not asserted.
  std::vector<StackRow> rows;
  AddMoeTrainingRows(rows);
  int checked = 0;
  for (const StackRow& r : rows) {
    if (r.name.rfind("NeMo AutoModel", 0) != 0 || r.recompute != Recompute::kFull) continue;
    const TrainEstimate e = EstimateRow(r);
    EXPECT_TRUE(e.fits) << r.name << ": " << e.memory.total_gib << " GiB";
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

TEST(ValidationTest, PlannerAgainstPublishedMeasurements) {
  const std::vector<Case> cases = Cases();
  ASSERT_EQ(cases.size(), kCases) << "a case was added or removed: update the counts here and "
                                     "in docs/planner-validation.md";
  const std::string page = testing::ReadPage();
  ASSERT_FALSE(page.empty()) << "docs/planner-validation.md not found";
  const testing::RowCounts n = testing::CheckRows(cases, "", page);
  const int calibration = n.calibration, out_of_sample = n.out_of_sample;
  const int out_of_sample_within = n.out_of_sample_within,
            calibration_within = n.calibration_within;
  const int within10 = n.within10, within25 = n.within25;
  std::printf(
      "out-of-sample: %d of %d within tolerance, %d within 10 %%, %d within 25 %%; calibration: %d "
      "of %d\n",
      out_of_sample_within, out_of_sample, within10, within25, calibration_within, calibration);
  EXPECT_EQ(calibration, kCalibrationCases);
  EXPECT_EQ(out_of_sample, kOutOfSampleCases);
  EXPECT_EQ(out_of_sample_within, kOutOfSampleWithin);
  EXPECT_EQ(within10, kOutOfSampleWithin10);
  EXPECT_EQ(within25, kOutOfSampleWithin25);
  const std::string bands = "**" + std::to_string(within10) + " of " +
                            std::to_string(out_of_sample) + " within 10 %, " +
                            std::to_string(within25) + " within 25 %**";
  EXPECT_NE(page.find(bands), std::string::npos) << "the page must say: " << bands;
  const std::string summary = "**" + std::to_string(out_of_sample_within) + " of " +
                              std::to_string(out_of_sample) +
                              " out-of-sample cases are within tolerance**";
  EXPECT_NE(page.find(summary), std::string::npos) << "the page must say: " << summary;
}

}  // namespace
}  // namespace gpupool::planner

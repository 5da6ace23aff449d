#include "planner/training_estimate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "planner/gpu_rates.h"
#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

using testing::A100;
using testing::H100;
using testing::Preset;

TrainOptions Opts(int gpus, Layout layout) {
  TrainOptions o;
  o.gpus = gpus;
  o.layout = layout;
  o.fabric = testing::WithNetwork(H100());
  o.kernels = testing::KernelsFor(H100());
  return o;
}

Layout L(int tp, int pp, int zero = 1, Recompute r = Recompute::kSelective) {
  Layout l;
  l.tp = tp;
  l.pp = pp;
  l.zero = zero;
  l.recompute = r;
  return l;
}

TEST(ActivationTest, KorthikantiGpt3Table) {
  // GPT-3 175B (h 12288, a 96, s 2048), TP 8, per token per layer, after Korthikanti et al. 2022:
  const ModelSpec m = Preset("GPT-3-175B");
  // no recompute, eager, SP:  h(34 + 5as/h)/t = 12288 x (34 + 80) / 8 = 175,104
  EXPECT_DOUBLE_EQ(LayerActivationBytesPerToken(m, false, 8, true, Recompute::kNone, false, 2048),
                   175104.0);
  // without SP: h(10 + 24/t + 5as/(ht)) = 12288 x (10 + 3 + 10) = 282,624
  EXPECT_DOUBLE_EQ(LayerActivationBytesPerToken(m, false, 8, false, Recompute::kNone, false, 2048),
                   282624.0);
  // selective recompute + SP: 34h/t = 52,224 (flash attention stores the same)
  EXPECT_DOUBLE_EQ(
      LayerActivationBytesPerToken(m, false, 8, true, Recompute::kSelective, false, 2048), 52224.0);
  EXPECT_DOUBLE_EQ(LayerActivationBytesPerToken(m, false, 8, true, Recompute::kNone, true, 2048),
                   52224.0);
  // full recompute: the layer input, 2h/t = 3,072
  EXPECT_DOUBLE_EQ(LayerActivationBytesPerToken(m, false, 8, true, Recompute::kFull, false, 2048),
                   3072.0);
}

TEST(ActivationTest, SwiGluAndGqa) {
  // Llama-3-8B, TP 1, flash: norms + block inputs 8h = 32,768; Q 2x4096 + K 2x1024 + V 2x1024 +
  // out-proj input 2x4096 = 20,480; SwiGLU 6 x 14,336 = 86,016 -> 139,264 B per token per layer.
  EXPECT_DOUBLE_EQ(LayerActivationBytesPerToken(Preset("Llama-3-8B"), false, 1, false,
                                                Recompute::kSelective, true, 8192),
                   139264.0);
}

TEST(TrainingMemoryTest, BytesPerParamConventions) {
  const ModelSpec m = Preset("Llama-3-8B");
  auto e = EstimateTraining(m, H100(), Opts(8, L(1, 1, 0)));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  // 2 (bf16 weights) + 2 (bf16 grads) + 12 (fp32 master, m, v) = 16.
  EXPECT_DOUBLE_EQ(e->bytes_per_param, 16.0);
  const double p = 8'030'261'248.0;
  EXPECT_NEAR(e->memory.weights_gib * kGiB, 2 * p, 1.0);
  EXPECT_NEAR(e->memory.gradients_gib * kGiB, 2 * p, 1.0);
  EXPECT_NEAR(e->memory.optimizer_gib * kGiB, 12 * p, 1.0);
  // Megatron's FP32 main grads: 2 + 4 + 12 = 18.
  TrainOptions o = Opts(8, L(1, 1, 0));
  o.grad_fp32 = true;
  EXPECT_DOUBLE_EQ(EstimateTraining(m, H100(), o)->bytes_per_param, 18.0);
  // FP8 training keeps bf16 weights plus an FP8 copy: 17.
  o = Opts(8, L(1, 1, 0));
  o.precision = hw::Precision::kFp8;
  EXPECT_DOUBLE_EQ(EstimateTraining(m, H100(), o)->bytes_per_param, 17.0);
}

TEST(TrainingMemoryTest, PureSixteenBitTrainingKeepsNoMasterWeights) {
  // Without FP32 master weights the parameters are bf16 and Adam's two moments take their dtype:
  // 2 (weights) + 2 (gradients) + 2 x 2 (m, v) = 8 B per parameter, the optimizer's part a
  // third of the mixed-precision 12 B. Llama-3-8B on 8 GPUs with ZeRO-3: each holds 1/8.
  const ModelSpec m = Preset("Llama-3-8B");
  TrainOptions o = Opts(8, L(1, 1, 3));
  o.master_weights = false;
  auto e = EstimateTraining(m, H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_DOUBLE_EQ(e->bytes_per_param, 8.0);
  const double p = 8'030'261'248.0;
  EXPECT_NEAR(e->memory.optimizer_gib * kGiB, 4 * p / 8, 1.0);
  EXPECT_NEAR(e->memory.weights_gib * kGiB, 2 * p / 8, 1.0);
  EXPECT_NEAR(e->memory.gradients_gib * kGiB, 2 * p / 8, 1.0);
  // FP32 gradient buffers and CPU offload both presuppose FP32 master weights: refused, naming
  // the flags.
  o.grad_fp32 = true;
  auto fp32_grads = EstimateTraining(m, H100(), o);
  ASSERT_FALSE(fp32_grads.has_value());
  EXPECT_NE(fp32_grads.error().message().find("--grad-fp32"), std::string::npos);
  o.grad_fp32 = false;
  o.offload = Offload::kOptimizer;
  auto offload = EstimateTraining(m, H100(), o);
  ASSERT_FALSE(offload.has_value());
  EXPECT_NE(offload.error().message().find("--offload"), std::string::npos);
}

TEST(TrainingMemoryTest, ZeroStagesAsInTheZeroPaper) {
  // ZeRO (Rajbhandari et al. 2020) Figure 1, N_d = 64, K = 12, per parameter:
  // stage 0: 16; 1: 2 + 2 + 12/64 = 4.1875; 2: 2 + 14/64 = 2.21875; 3: 16/64 = 0.25.
  const ModelSpec m = Preset("Llama-3-8B");
  const double p = 8'030'261'248.0;
  const double expected[] = {16.0, 4.1875, 2.21875, 0.25};
  for (int zero = 0; zero <= 3; ++zero) {
    auto e = EstimateTraining(m, H100(), Opts(64, L(1, 1, zero)));
    ASSERT_TRUE(e.has_value());
    const double states =
        (e->memory.weights_gib + e->memory.gradients_gib + e->memory.optimizer_gib) * kGiB;
    EXPECT_NEAR(states / p, expected[zero], 1e-9) << "zero " << zero;
  }
}

TEST(TrainingMemoryTest, ZeroFigureOneOfThePaper) {
  // ZeRO (Rajbhandari et al. 2020, SC'20) Figure 1: Psi = 7.5B, K = 12, N_d = 64 -> model states
  // per GPU 120 GB (baseline), 31.4 (P_os), 16.6 (P_os+g), 1.9 (P_os+g+p). The formula is the
  // one ZeroStagesAsInTheZeroPaper checks exactly; this checks the paper's printed numbers with
  // Megatron's 7.5B shape (36 layers, h 4096, 32 heads, vocabulary 51,200), whose parameter count
  // is within 0.5 % of 7.5B. The paper rounds 1.875 GB to 1.9 (1.3 %), hence 2 %.
  ModelSpec m = Preset("GPT-3-175B");
  ShapeOverrides shape;
  shape.layers = 36;
  shape.hidden = 4096;
  shape.heads = 32;
  shape.vocab = 51200;
  ASSERT_TRUE(ApplyOverrides(shape, m).ok());
  EXPECT_NEAR(double(CountParams(m).total) / 7.5e9, 1.0, 0.005);
  const double published_gb[] = {120, 31.4, 16.6, 1.9};
  for (int zero = 0; zero <= 3; ++zero) {
    TrainOptions o = Opts(64, L(1, 1, zero, Recompute::kFull));
    o.global_batch = 64;
    o.seq = 2048;
    auto e = EstimateTraining(m, A100(), o);
    ASSERT_TRUE(e.has_value()) << e.error().ToString();
    const double gb =
        (e->memory.weights_gib + e->memory.gradients_gib + e->memory.optimizer_gib) * kGiB / 1e9;
    EXPECT_NEAR(gb / published_gb[zero], 1.0, 0.02) << "ZeRO stage " << zero << ": " << gb;
  }
}

TEST(TrainingMemoryTest, ZeroThreeHoldsTwoGatheredLayers) {
  // Llama-3-8B layer: 218,112,000 params x 2 bytes x 2 layers = 872,448,000 B on top of the 2 GiB.
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), Opts(64, L(1, 1, 3)));
  ASSERT_TRUE(e.has_value());
  EXPECT_NEAR(e->memory.buffers_gib, 2.0 + 872'448'000.0 / kGiB, 1e-9);
  auto z1 = EstimateTraining(Preset("Llama-3-8B"), H100(), Opts(64, L(1, 1, 1)));
  EXPECT_DOUBLE_EQ(z1->memory.buffers_gib, 2.0);
}

TEST(TrainingMemoryTest, HeaviestStageIsTheFirstWithOneFOneB) {
  // PP 4, no recompute: stage 0 holds 4 microbatches of 8 layers, stage 3 one microbatch + logits.
  TrainOptions o = Opts(32, L(1, 4, 1, Recompute::kNone));
  o.global_batch = 64;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->heaviest_stage, 0);
  EXPECT_EQ(e->microbatches, 8);  // 64 / (dp 8 x micro-batch 1)
}

TEST(TrainingFlopsTest, SixNPlusAttentionByHand) {
  // Llama-3-8B, s 4096: linear params 32 x (218,112,000 - 8,192) + head 525,336,576
  // = 7,504,658,432 x 6 = 45,027,950,592; attention 12 L s h = 12 x 32 x 4096 x 4096
  // = 6,442,450,944 -> 51,470,401,536 FLOPs per token.
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), Opts(8, L(1, 1)));
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->model_flops_per_token, 51'470'401'536.0);
}

TEST(TrainingTimeTest, SingleGpuStepIsComputePlusOptimizer) {
  TrainOptions o = Opts(1, L(1, 1, 0));
  o.global_batch = 4;
  o.framework = Framework::kMegatron;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  // The catalog's H100 SXM figures (BF16 dense peak 989.5 TFLOPS = the datasheet's 1,979 sparse
  // / 2, HBM 3,350 GB/s), read as `gpupool plan` reads them.
  const double peak = PeakTflops(H100(), hw::Precision::kBf16).value_or(0) * 1e12;
  const double hbm = MemoryBytesPerSecond(H100());
  // Per token: linear 6 x 7,504,658,432 = 45,027,950,592 FLOPs at peak x 0.63 (the Hopper row of
  // data/planner/kernel_efficiency.yaml); attention 6,442,450,944 at peak x 0.55 (Transformer
  // Engine's fused attention); element-wise, Megatron's fused kernels per layer and pass: two
  // RMSNorms 2 x 4 x 4096, two residual adds 2 x 6 x 4096, SwiGLU 6 x 14,336, RoPE on q and k
  // 4 x (32 + 8) x 128 = 188,416 bytes, x 3 passes x 32 layers = 18,087,936 bytes at HBM x 0.8.
  // Times 4 x 4096 tokens = 1.48797 s at 989.5 and 3,350.
  const double gemm = o.kernels.gemm_16bit.value;
  ASSERT_DOUBLE_EQ(gemm, 0.63) << "the table changed: redo the arithmetic above";
  ASSERT_DOUBLE_EQ(o.kernels.flash_te.value, 0.55) << "the table changed";
  const double per_token = 45'027'950'592.0 / (peak * gemm) + 6'442'450'944.0 / (peak * 0.55) +
                           18'087'936.0 / (hbm * 0.8);
  EXPECT_NEAR(e->compute_seconds, 4 * 4096 * per_token, 1e-9);
  EXPECT_NEAR(e->compute_seconds, 1.48797, 0.0001);
  EXPECT_DOUBLE_EQ(e->tp_comm_seconds + e->dp_comm_seconds + e->pp_comm_seconds, 0.0);
  EXPECT_NEAR(e->step_seconds, e->compute_seconds + e->optimizer_seconds, 1e-12);
  // MFU = model FLOPs / (peak x step).
  EXPECT_NEAR(e->mfu, 4 * 4096 * 51'470'401'536.0 / (peak * e->step_seconds), 1e-9);
}

TEST(TrainingTimeTest, EagerPyTorchStepHasUnfusedTrafficAndFlashAttention2) {
  // The same step priced as eager PyTorch: 100 x 4096 bytes per layer per pass (the fitted eager
  // figure) x 3 x 32 = 39,321,600 bytes, attention at flash-attn 2's 0.30:
  // 4 x 4096 x (45,027,950,592 / (989.5e12 x 0.63) + 6,442,450,944 / (989.5e12 x 0.30) +
  // 39,321,600 / (3.35e12 x 0.8)) = 1.77941 s.
  TrainOptions o = Opts(1, L(1, 1, 0));
  o.global_batch = 4;
  o.framework = Framework::kPyTorch;
  ASSERT_DOUBLE_EQ(o.kernels.flash_fa2.value, 0.30) << "the table changed";
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_NEAR(e->compute_seconds, 1.77941, 0.0001);
  EXPECT_DOUBLE_EQ(e->elementwise_bytes_per_token_layer, 409'600.0);
  EXPECT_DOUBLE_EQ(e->flash_efficiency, 0.30);
}

TEST(TrainingTimeTest, GpuHoursFromTokensPerSecond) {
  TrainOptions o = Opts(64, L(8, 1));
  o.tokens = 1e12;
  auto e = EstimateTraining(Preset("Llama-3-70B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_NEAR(e->gpu_hours, 1e12 / e->tokens_per_second_per_gpu / 3600, 1e-6);
  EXPECT_NEAR(e->days, e->gpu_hours / 64 / 24, 1e-9);
  EXPECT_GT(e->tp_comm_seconds, 0.0);
}

TEST(TrainingTimeTest, PipelineBubble) {
  // Bubble = (pp - 1) / vp stage times; m microbatches take m stage times; parts add up.
  TrainOptions o = Opts(32, L(1, 4));
  o.global_batch = 64;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  const double slot = e->bubble_seconds / 3.0;
  EXPECT_NEAR(e->compute_seconds + e->tp_comm_seconds + e->pp_comm_seconds, slot * 8, 1e-9);
  EXPECT_NEAR(e->step_seconds,
              e->compute_seconds + e->tp_comm_seconds + e->pp_comm_seconds + e->bubble_seconds +
                  e->dp_exposed_seconds + e->optimizer_seconds,
              1e-9);
}

TEST(TrainingTimeTest, EachPipelineRunFillsAndDrainsThePipeline) {
  // 8 microbatches on 4 stages: one schedule takes 8 + 3 stage times; as 2 schedules of 4
  // microbatches each (gradient accumulation around schedule.step()), 8 + 2 x 3 = 14.
  TrainOptions o = Opts(32, L(1, 4));
  o.global_batch = 64;
  auto one = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.pipeline_runs = 2;
  auto two = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(one.has_value() && two.has_value());
  const double slot = one->bubble_seconds / 3.0;
  EXPECT_NEAR(two->bubble_seconds, 6.0 * slot, 1e-9);
  EXPECT_NEAR(two->step_seconds - one->step_seconds, 3.0 * slot, 1e-9);
  // A run of 4 microbatches keeps at most 4 in flight on the first stage (1F1B holds
  // min(pp - stage, microbatches)): here pp = 4 bounds it either way, so memory is unchanged.
  EXPECT_DOUBLE_EQ(two->memory.total_gib, one->memory.total_gib);
  // Runs must divide the microbatches and need pipeline stages.
  o.pipeline_runs = 3;
  auto uneven = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_FALSE(uneven.has_value());
  EXPECT_NE(uneven.error().message().find("does not divide the 8 microbatches"), std::string::npos);
  o.pipeline_runs = 0;
  auto none = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("--pipeline-runs must be >= 1"), std::string::npos);
  o = Opts(8, L(1, 1));
  o.pipeline_runs = 2;
  auto no_pp = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_FALSE(no_pp.has_value());
  EXPECT_NE(no_pp.error().message().find("--pp > 1"), std::string::npos);
}

struct BadLayout {
  const char* model;
  int gpus;
  int tp, pp, ep;
  const char* says;
};

TEST(TrainingLayoutTest, RefusesLayoutsThatDoNotDivide) {
  for (const BadLayout& b : {BadLayout{"Llama-3-8B", 12, 8, 1, 1, "does not divide --gpus"},
                             BadLayout{"Llama-3-8B", 24, 8, 3, 1, "32 layers"},
                             BadLayout{"Llama-3-8B", 48, 3, 1, 1, "heads"},
                             BadLayout{"Llama-3-8B", 16, 1, 1, 2, "dense model"},
                             BadLayout{"Mixtral-8x7B", 48, 1, 1, 3, "experts"}}) {
    Layout l = L(b.tp, b.pp);
    l.ep = b.ep;
    auto e = EstimateTraining(Preset(b.model), H100(), Opts(b.gpus, l));
    ASSERT_FALSE(e.has_value()) << b.says;
    EXPECT_EQ(e.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(e.error().message().find(b.says), std::string::npos) << e.error().message();
  }
}

TEST(TrainingLayoutTest, UnevenStagesOnlyWhenAsked) {
  // DeepSeek-V3's 61 layers on 16 stages: 61 = 16 x 3 + 13 -> stages 1..13 get 4 layers.
  const std::vector<int> counts = StageLayerCounts(61, 16);
  EXPECT_EQ(counts.front(), 3);
  EXPECT_EQ(counts[1], 4);
  EXPECT_EQ(counts[13], 4);
  EXPECT_EQ(counts[14], 3);
  EXPECT_EQ(counts.back(), 3);
  int sum = 0;
  for (int c : counts) sum += c;
  EXPECT_EQ(sum, 61);
  TrainOptions o = Opts(16, L(1, 16));
  o.global_batch = 64;
  EXPECT_FALSE(EstimateTraining(Preset("DeepSeek-V3"), H100(), o).has_value());
  o.uneven_stages = true;
  EXPECT_TRUE(EstimateTraining(Preset("DeepSeek-V3"), H100(), o).has_value());
}

TEST(TrainingLayoutTest, Fp8TrainingRefusedOnA100) {
  TrainOptions o = Opts(8, L(1, 1));
  o.precision = hw::Precision::kFp8;
  auto e = EstimateTraining(Preset("Llama-3-8B"), A100(), o);
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("bf16"), std::string::npos);
}

TEST(TrainingMemoryTest, ExpertsSplitOverEp) {
  // Mixtral on 64 GPUs, EP 8: routed experts / 8; non-expert params whole (TP 1).
  Layout l = L(1, 1, 0);
  l.ep = 8;
  auto e = EstimateTraining(Preset("Mixtral-8x7B"), H100(), Opts(64, l));
  ASSERT_TRUE(e.has_value());
  const ParamCounts pc = CountParams(Preset("Mixtral-8x7B"));
  const double expected = double(pc.total - pc.experts_total) + double(pc.experts_total) / 8;
  EXPECT_NEAR(e->params_per_gpu, expected, 1.0);
  EXPECT_GT(e->ep_comm_seconds, 0.0);
}

}  // namespace
}  // namespace gpupool::planner

namespace gpupool::planner {
namespace {

// --- Issue 12: memory outside Megatron's accounting, overlap defaults.

TEST(TrainingMemoryTest, OpLevelCheckpointingKeepsHalfTheMatmulOutputs) {
  // Llama-3-8B (h 4096, 32 heads, 8 KV heads, head 128, SwiGLU 14336), TP 1. Matmul outputs per
  // token: q 2x32x128 = 8,192, k and v 2x8x128 = 2,048 each, o 8,192, gate + up 2x2x14336 =
  // 57,344, down 8,192: 86,016 bytes; half of them 43,008, plus the layer input 2h = 8,192 and the
  // attention output 2 x 32 x 128 = 8,192 -> 59,392 bytes.
  const ModelSpec m = Preset("Llama-3-8B");
  EXPECT_DOUBLE_EQ(LayerActivationBytesPerToken(m, false, 1, false, Recompute::kOp, true, 4096),
                   59392.0);
}

TEST(TrainingMemoryTest, OpLevelCheckpointingRecomputesHalfTheLinearForward) {
  // Op SAC runs 7 linear passes per token instead of 6: hardware FLOPs grow by one pass over the
  // 7,504,658,432 linear parameters (SixNPlusAttentionByHand) for each of 4 x 4096 tokens.
  TrainOptions o = Opts(8, L(1, 1, 3, Recompute::kNone));
  o.global_batch = 8;
  auto none = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.layout.recompute = Recompute::kOp;
  auto op = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(none.has_value() && op.has_value());
  EXPECT_NEAR(op->hardware_flops_per_step - none->hardware_flops_per_step,
              7'504'658'432.0 * 8 * 4096, 1e3);
  EXPECT_DOUBLE_EQ(op->model_flops_per_step, none->model_flops_per_step);
}

TEST(TrainingMemoryTest, LayerCheckpointingRecomputesEveryKthLayer) {
  // torchtitan's selective layer checkpointing with k = 2 on Llama-3-8B (32 layers): layers 2,
  // 4, ..., 32 fully recomputed (their forward runs again in the backward), the other 16 keep
  // every activation.
  TrainOptions o = Opts(8, L(1, 1, 3, Recompute::kNone));
  o.global_batch = 8;
  auto none = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.layout.recompute = Recompute::kFull;
  auto full = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.layout.recompute = Recompute::kLayer;
  auto layer = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.layout.recompute_every = 1;  // every layer: full recompute
  auto every = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(none.has_value() && full.has_value() && layer.has_value() && every.has_value());
  // Recomputing half the layers costs half of what recomputing all of them costs.
  EXPECT_NEAR(layer->hardware_flops_per_step - none->hardware_flops_per_step,
              (full->hardware_flops_per_step - none->hardware_flops_per_step) / 2, 1e3);
  EXPECT_DOUBLE_EQ(layer->model_flops_per_step, none->model_flops_per_step);
  // Memory: 16 layers hold only their input (2h = 8192 B per token), 16 hold everything, and
  // the recompute of one layer needs that layer's full activations again: per token, 16 x 8192 +
  // 16 x A + A, where A is one kept layer's bytes (none's activations without the logits / 32).
  const double tokens = 4096;  // one microbatch of one sequence per GPU
  const double kept_layer = LayerActivationBytesPerToken(Preset("Llama-3-8B"), false, 1, false,
                                                         Recompute::kNone, true, 4096);
  EXPECT_NEAR((layer->memory.activations_gib - none->memory.activations_gib) * kGiB,
              (16 * 8192.0 + 16 * kept_layer + kept_layer - 32 * kept_layer) * tokens, 1.0);
  // k = 1 is full recompute.
  EXPECT_DOUBLE_EQ(every->hardware_flops_per_step, full->hardware_flops_per_step);
  EXPECT_DOUBLE_EQ(every->memory.activations_gib, full->memory.activations_gib);
  EXPECT_DOUBLE_EQ(every->step_seconds, full->step_seconds);
}

TEST(TrainingMemoryTest, InterleavedScheduleHoldsMoreOnTheFirstStage) {
  // PP 4 with 2 virtual stages: the first stage's activations are 1 + (4 - 1)/(4 x 2) = 1.375
  // times those of plain 1F1B (Korthikanti et al. 2022, 4.2.3).
  TrainOptions o = Opts(32, L(1, 4, 1, Recompute::kNone));
  o.global_batch = 64;
  auto plain = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.layout.vp = 2;
  auto inter = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(plain.has_value() && inter.has_value());
  ASSERT_EQ(plain->heaviest_stage, 0);
  ASSERT_EQ(inter->heaviest_stage, 0);
  EXPECT_NEAR(inter->memory.activations_gib / plain->memory.activations_gib, 1.375, 1e-12);
}

TEST(TrainingMemoryTest, EagerCrossEntropyHoldsTwelveBytesPerLogit) {
  // One GPU, 4096 tokens, vocabulary 128,256: fused 6 B, eager 12 B per logit (log_softmax's
  // saved FP32 output, the FP32 gradient coming in and the one going out); the difference
  // 6 x 4096 x 128,256 = 3,152,019,456 B = 2.9355 GiB.
  TrainOptions o = Opts(1, L(1, 1, 0));
  o.global_batch = 1;
  auto fused = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.fused_cross_entropy = false;
  auto eager = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(fused.has_value() && eager.has_value());
  EXPECT_NEAR(eager->memory.activations_gib - fused->memory.activations_gib, 3'152'019'456.0 / kGiB,
              1e-9);
}

TEST(TrainingMemoryTest, FsdpWithPipelineKeepsTheStageGathered) {
  // ZeRO-3 with PP 2 on 16 GPUs: the stage's 16-bit weights stay gathered (params x 2 B on top of
  // the 2 GiB of buffers); resharded after each forward, only two layers are.
  TrainOptions o = Opts(16, L(1, 2, 3, Recompute::kFull));
  auto kept = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(kept.has_value());
  EXPECT_NEAR(kept->memory.buffers_gib, 2.0 + kept->params_per_gpu * 2.0 / kGiB, 1e-9);
  o.fsdp_pp_unsharded = false;
  auto resharded = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(resharded.has_value());
  // Two Llama-3-8B layers of 218,112,000 parameters at 2 B.
  EXPECT_NEAR(resharded->memory.buffers_gib, 2.0 + 2.0 * 218'112'000.0 * 2.0 / kGiB, 1e-9);
}

TEST(TrainingMemoryTest, FsdpWithPipelineAccumulatesUnshardedFp32Gradients) {
  // The same layout: under PP the stage's gradients are not reduce-scattered per microbatch but
  // accumulated unsharded in FP32 (4 B per parameter of the stage) until the last backward.
  // The heaviest stage of Llama-3-8B on PP 2 is the last (it holds the logits): 16 layers of
  // 218,112,000, the final norm (4,096) and the output layer (128,256 x 4,096 = 525,336,576) =
  // 4,015,132,672 parameters; x 4 B = 16,060,530,688 B on top of the sharded gradients.
  TrainOptions o = Opts(16, L(1, 2, 3, Recompute::kFull));
  auto kept = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.fsdp_pp_unsharded = false;
  auto resharded = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(kept.has_value() && resharded.has_value());
  EXPECT_EQ(kept->heaviest_stage, 1);
  EXPECT_NEAR(kept->params_per_gpu, 4'015'132'672.0, 1.0);
  EXPECT_NEAR(kept->memory.gradients_gib - resharded->memory.gradients_gib, 16'060'530'688.0 / kGiB,
              1e-9);
}

TEST(TrainingMemoryTest, FsdpUnderPipelineLeavesUnshardableExpertsAlone) {
  // Mixtral-8x7B on 16 GPUs, PP 2, ZeRO-3. A stage holds 16 layers; per layer the non-expert
  // parameters are q, o 4096 x 4096, k, v 4096 x 1024 (41,943,040), the router 4096 x 8 and
  // two norms: 41,984,000; x 16 = 671,744,000, plus the embedding or the output layer 32,000 x
  // 4,096 = 131,072,000 (and the final norm, 4,096, on the last stage). The experts: 8 x 3 x
  // 4,096 x 14,336 = 1,409,286,144 per layer, 22,548,578,304 per stage.
  const double non_expert = 671'744'000.0 + 131'072'000.0;
  const double experts = 22'548'578'304.0;
  const ModelSpec m = Preset("Mixtral-8x7B");
  auto accumulated = [&](int ep) {
    TrainOptions o = Opts(16, L(1, 2, 3, Recompute::kFull));
    o.layout.ep = ep;
    auto kept = EstimateTraining(m, H100(), o);
    o.fsdp_pp_unsharded = false;
    auto resharded = EstimateTraining(m, H100(), o);
    EXPECT_TRUE(kept.has_value() && resharded.has_value());
    if (!kept || !resharded) return 0.0;
    EXPECT_EQ(kept->heaviest_stage, resharded->heaviest_stage);
    return (kept->memory.gradients_gib - resharded->memory.gradients_gib) * kGiB;
  };
  // EP 4 inside DP 8: each expert is sharded over 2 GPUs, FSDP manages it, and its FP32
  // accumulation counts the stage's experts on this GPU (a quarter) with the rest.
  EXPECT_NEAR(accumulated(4), 4.0 * (non_expert + experts / 4), 4.0 * 4096 + 1);
  // EP 8 = DP: each GPU holds its experts whole; FSDP leaves them alone, so only the
  // non-expert parameters accumulate in FP32.
  EXPECT_NEAR(accumulated(8), 4.0 * non_expert, 4.0 * 4096 + 1);
}

TEST(TrainingMemoryTest, AllocatorFragmentationScalesWhatTensorsAllocate) {
  TrainOptions o = Opts(8, L(1, 1, 3));
  o.allocator_fragmentation = 0.0;
  auto base = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.allocator_fragmentation = 0.1;
  auto frag = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(base.has_value() && frag.has_value());
  // allocated = total - the 2 GiB of context/NCCL buffers; reserved adds 10 % of it.
  EXPECT_NEAR(frag->memory.total_gib, base->memory.total_gib + 0.1 * (base->memory.total_gib - 2.0),
              1e-9);
  // Unset, the pytorch stack (ZeRO-3 resolves to it) reserves 18 % over what it allocates; the
  // megatron stack nothing.
  o.allocator_fragmentation.reset();
  auto pytorch = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(pytorch.has_value());
  EXPECT_EQ(pytorch->framework, Framework::kPyTorch);
  EXPECT_NEAR(pytorch->memory.total_gib,
              base->memory.total_gib + 0.18 * (base->memory.total_gib - 2.0), 1e-9);
  // Reported as its own part, not in the buffers.
  EXPECT_NEAR(pytorch->memory.allocator_reserve_gib, 0.18 * (base->memory.total_gib - 2.0), 1e-9);
  EXPECT_DOUBLE_EQ(pytorch->memory.buffers_gib, base->memory.buffers_gib);
  o.framework = Framework::kMegatron;
  auto megatron = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.allocator_fragmentation = 0.0;
  auto megatron_none = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(megatron.has_value() && megatron_none.has_value());
  EXPECT_DOUBLE_EQ(megatron->memory.total_gib, megatron_none->memory.total_gib);
}

TEST(TrainingTimeTest, ExpertAllToAllOverlapNeedsTwoMicrobatches) {
  // Mixtral on 16 GPUs, EP 8: one microbatch per pipeline leaves nothing to overlap with; with
  // two, the default hides kMoeA2aOverlap of the all-to-all; an explicit value wins.
  TrainOptions o = Opts(16, L(1, 1, 1));
  o.layout.ep = 8;
  o.global_batch = 16;
  auto one = EstimateTraining(Preset("Mixtral-8x7B"), H100(), o);
  o.global_batch = 32;
  auto two = EstimateTraining(Preset("Mixtral-8x7B"), H100(), o);
  o.ep_overlap = 0.0;
  auto none = EstimateTraining(Preset("Mixtral-8x7B"), H100(), o);
  ASSERT_TRUE(one.has_value() && two.has_value() && none.has_value());
  EXPECT_EQ(one->microbatches, 1);
  EXPECT_DOUBLE_EQ(one->ep_overlap, 0.0);
  EXPECT_DOUBLE_EQ(two->ep_overlap, kMoeA2aOverlap);
  EXPECT_GT(none->ep_comm_seconds, 0.0);
  EXPECT_NEAR(two->ep_comm_seconds, (1.0 - kMoeA2aOverlap) * none->ep_comm_seconds, 1e-12);
}

TEST(TrainingTimeTest, Fp8HidesTensorParallelCommunication) {
  // FP8 on H100 with TP 8: the Hopper row's fp8_tp_overlap of the TP time is hidden by default.
  TrainOptions o = Opts(8, L(8, 1));
  o.precision = hw::Precision::kFp8;
  auto def = EstimateTraining(Preset("Llama-3-70B"), H100(), o);
  o.tp_overlap = 0.0;
  auto exposed = EstimateTraining(Preset("Llama-3-70B"), H100(), o);
  ASSERT_TRUE(def.has_value() && exposed.has_value());
  const double share = o.kernels.fp8_tp_overlap.value;
  EXPECT_DOUBLE_EQ(def->tp_overlap, share);
  EXPECT_GT(exposed->tp_comm_seconds, 0.0);
  EXPECT_NEAR(def->tp_comm_seconds, (1.0 - share) * exposed->tp_comm_seconds, 1e-12);
}

// --- Issue 12: frameworks, FP8 casts, DP / FSDP overlap, multi-rail rings.

TEST(FrameworkTest, AutoFollowsTheZeroStage) {
  EXPECT_EQ(ResolveFramework(Framework::kAuto, 3), Framework::kPyTorch);
  for (int zero : {0, 1, 2})
    EXPECT_EQ(ResolveFramework(Framework::kAuto, zero), Framework::kMegatron);
  EXPECT_EQ(ResolveFramework(Framework::kPyTorch, 1), Framework::kPyTorch);
  EXPECT_EQ(ResolveFramework(Framework::kMegatron, 3), Framework::kMegatron);
  ASSERT_TRUE(ParseFramework("megatron").has_value());
  auto bad = ParseFramework("jax");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("--framework"), std::string::npos);
  EXPECT_FALSE(ParseFp8Recipe("mxfp8").has_value());
  EXPECT_EQ(*ParseFp8Recipe("blockwise"), Fp8Recipe::kBlockwise);
}

TEST(ElementwiseTest, MegatronCountsItsFusedKernels) {
  const ModelSpec m = Preset("Llama-3-8B");
  // Per token per layer per pass, by hand: norms 2 x 4 x 4096 + residual adds 2 x 6 x 4096 =
  // 81,920 (sequence-parallel part), SwiGLU 6 x 14,336 = 86,016 and RoPE 4 x 40 x 128 = 20,480
  // (TP part).
  EXPECT_DOUBLE_EQ(ElementwiseBytesPerToken(m, false, Framework::kMegatron, std::nullopt, 1, false),
                   188'416.0);
  EXPECT_DOUBLE_EQ(ElementwiseBytesPerToken(m, false, Framework::kMegatron, std::nullopt, 2, true),
                   188'416.0 / 2);
  // Without sequence parallelism the norms and residuals are not split over TP.
  EXPECT_DOUBLE_EQ(ElementwiseBytesPerToken(m, false, Framework::kMegatron, std::nullopt, 2, false),
                   81'920.0 + 106'496.0 / 2);
  EXPECT_DOUBLE_EQ(ElementwiseBytesPerToken(m, false, Framework::kPyTorch, std::nullopt, 1, false),
                   100.0 * 4096);
  EXPECT_DOUBLE_EQ(ElementwiseBytesPerToken(m, false, Framework::kMegatron, 40.0, 1, false),
                   40.0 * 4096);
}

TEST(Fp8Test, CastsOfEveryLinearCountedByHand) {
  const ModelSpec m = Preset("Llama-3-8B");
  // Linear inputs: qkv 4096, o 4096, gate+up 4096, down 14,336 (26,624); outputs: 6,144, 4,096,
  // 28,672, 4,096 (43,008). Backward casts every output gradient (4 B per element): 172,032.
  // PyTorch casts every input in the forward (4 B): 106,496. Megatron's fused norms and
  // activation write FP8 themselves (the transposed copy, 1 B: 26,624) and the attention output
  // is cast (3 B more per element: 12,288).
  EXPECT_DOUBLE_EQ(Fp8CastBytesPerToken(m, false, Framework::kPyTorch, 1, false), 278'528.0);
  EXPECT_DOUBLE_EQ(Fp8CastBytesPerToken(m, false, Framework::kMegatron, 1, false), 210'944.0);
  // Full recompute repeats the forward casts; TP divides all of them.
  EXPECT_DOUBLE_EQ(Fp8CastBytesPerToken(m, false, Framework::kPyTorch, 2, true),
                   (2 * 106'496.0 + 172'032.0) / 2);
}

TEST(Fp8Test, OutputLayerStaysSixteenBit) {
  // With the FP8 GEMM efficiency set so that FP8 GEMMs run at the 16-bit rate, an FP8 step differs
  // from a BF16 one only by the casts' traffic (and the output layer is at the 16-bit rate either
  // way).
  TrainOptions o = Opts(1, L(1, 1, 0));
  o.global_batch = 4;
  o.framework = Framework::kMegatron;
  auto bf16 = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  o.precision = hw::Precision::kFp8;
  o.fp8_compute_efficiency = o.kernels.gemm_16bit.value / 2.0;  // FP8 peak = 2 x BF16 peak
  auto fp8 = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(bf16.has_value() && fp8.has_value());
  const double casts = 4 * 4096.0 * 32 * 210'944.0 / (MemoryBytesPerSecond(H100()) * 0.8);
  EXPECT_NEAR(fp8->compute_seconds - bf16->compute_seconds, casts, 1e-9);
  EXPECT_DOUBLE_EQ(fp8->fp8_cast_bytes_per_token_layer, 210'944.0);
}

TEST(DataParallelTest, RingsOverWholeNodesUseEveryRail) {
  const Fabric f = testing::WithNetwork(H100(), "IB-NDR");
  const double bytes = 16e9;
  // 16 ranks, consecutive (TP 1): 8 of them per node share the node's 8 NDR rails, capped by
  // NVLink: min(8 x 50 x 0.9, 450 x 0.8) = 360 GB/s. 16 ranks 8 apart (TP 8): one rail each.
  LinkTier wide = f.scale_out;
  wide.bandwidth_gbs =
      std::min(8 * f.scale_out.EffectiveBytesPerSecond(), f.scale_up.EffectiveBytesPerSecond()) /
      1e9 / wide.achievable_fraction;
  EXPECT_NEAR(GroupCollectiveSeconds(Collective::kAllGather, bytes, 16, 1, f),
              CollectiveOnLinkSeconds(Collective::kAllGather, bytes, 16, wide), 1e-12);
  EXPECT_NEAR(wide.bandwidth_gbs * wide.achievable_fraction, 360.0, 1e-9);
  EXPECT_DOUBLE_EQ(GroupCollectiveSeconds(Collective::kAllGather, bytes, 16, 8, f),
                   CollectiveSeconds(Collective::kAllGather, bytes, 16, 8, f));
  // Inside a node nothing changes; all-to-all keeps one rail.
  EXPECT_DOUBLE_EQ(GroupCollectiveSeconds(Collective::kAllReduce, bytes, 8, 1, f),
                   CollectiveSeconds(Collective::kAllReduce, bytes, 8, 1, f));
  EXPECT_DOUBLE_EQ(GroupCollectiveSeconds(Collective::kAllToAll, bytes, 16, 1, f),
                   CollectiveSeconds(Collective::kAllToAll, bytes, 16, 1, f));
}

TEST(DataParallelTest, FsdpHidesWhatFitsUnderTheCompute) {
  // Llama-3-8B on 8 H100 with FSDP and 4 microbatches: per microbatch two gathers and one
  // reduce-scatter over NVLink, far less than the compute: exposed is one layer's gather and one
  // layer's reduce-scatter per microbatch, plus NCCL's share of the SMs while the rest overlaps.
  TrainOptions o = Opts(8, L(1, 1, 3));
  o.global_batch = 32;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->framework, Framework::kPyTorch);
  const Fabric& f = o.fabric;
  const double p = 8'030'261'248.0;  // the stage's parameters, all of Llama-3-8B
  const double ag = 32 * CollectiveSeconds(Collective::kAllGather, p * 2 / 32, 8, 1, f);
  const double rs = 32 * CollectiveSeconds(Collective::kReduceScatter, p * 4 / 32, 8, 1, f);
  EXPECT_NEAR(e->dp_comm_seconds, 4 * (2 * ag + rs), 1e-9);
  const double floor = 4 * (ag / 32 + rs / 32);
  EXPECT_NEAR(e->dp_interference_seconds,
              (e->dp_comm_seconds - floor) * o.kernels.nccl_sm_share.value, 1e-9);
  EXPECT_NEAR(e->dp_exposed_seconds, floor + e->dp_interference_seconds, 1e-9);
  // A given overlap is used as it is, without the mechanism.
  o.dp_overlap = 0.5;
  auto given = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(given.has_value());
  EXPECT_NEAR(given->dp_exposed_seconds, 0.5 * given->dp_comm_seconds, 1e-12);
  EXPECT_DOUBLE_EQ(given->dp_interference_seconds, 0.0);
}

TEST(DataParallelTest, FsdpUnderPipelineStagesReducesOnceAfterTheLastBackward) {
  // Llama-3-8B with FSDP over 8 and PP 2 (16 GPUs): the stage is gathered once (16 layers' worth
  // of per-layer gathers, prefetched: one layer's exposed) and its FP32 gradients are
  // reduce-scattered once, after the last microbatch's backward, when nothing is left to hide
  // them under. The heaviest stage holds 4,015,132,672 parameters (the last: 16 layers, the
  // final norm and the output layer).
  TrainOptions o = Opts(16, L(1, 2, 3, Recompute::kFull));
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  ASSERT_GT(e->microbatches, 1);
  const Fabric& f = o.fabric;
  const double p = 4'015'132'672.0;
  const double ag = 16 * CollectiveSeconds(Collective::kAllGather, p * 2 / 16, 8, 1, f);
  const double rs = 16 * CollectiveSeconds(Collective::kReduceScatter, p * 4 / 16, 8, 1, f);
  EXPECT_NEAR(e->dp_comm_seconds, ag + rs, 1e-9);
  EXPECT_NEAR(e->dp_exposed_seconds - e->dp_interference_seconds, ag / 16 + rs, 1e-9);
}

TEST(DataParallelTest, FsdpOverASlowNetworkExposesWhatOutlastsTheCompute) {
  // Llama-3-70B with FSDP on 64 A100 over a crawling 2 GB/s network, one sequence each: the
  // gathers outlast the compute they run under, and the excess is exposed.
  TrainOptions o = Opts(64, L(1, 1, 3, Recompute::kFull));
  o.fabric = testing::WithNetwork(A100(), "RoCE-100G");
  o.fabric.scale_out.bandwidth_gbs = 2.0;
  o.kernels = testing::KernelsFor(A100());
  o.global_batch = 64;
  o.seq = 8192;
  auto e = EstimateTraining(Preset("Llama-3-70B"), A100(), o);
  ASSERT_TRUE(e.has_value());
  // One microbatch: whatever of the two gathers and the reduce-scatter outlasts its forward and
  // backward is exposed.
  EXPECT_EQ(e->microbatches, 1);
  EXPECT_GT(e->dp_comm_seconds, e->compute_seconds);
  EXPECT_GE(e->dp_exposed_seconds - e->dp_interference_seconds,
            e->dp_comm_seconds - e->compute_seconds - 1e-9);
}

TEST(DataParallelTest, BucketedReductionHidesUnderTheLastBackward) {
  // ZeRO-1 (megatron): the reduce-scatter runs under the last microbatch's backward and the
  // parameter all-gather under the first forward; on NVLink both fit, so only the last bucket
  // (40M parameters) is exposed besides NCCL's share of the SMs.
  TrainOptions o = Opts(8, L(1, 1, 1));
  o.global_batch = 32;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  const Fabric& f = o.fabric;
  const double p = 8'030'261'248.0;
  const double buckets = std::ceil(p / 40e6);
  const double rs =
      buckets * CollectiveSeconds(Collective::kReduceScatter, p * 2 / buckets, 8, 1, f);
  const double ag = CollectiveSeconds(Collective::kAllGather, p * 2, 8, 1, f);
  const double tail = CollectiveSeconds(Collective::kReduceScatter, 40e6 * 2, 8, 1, f);
  EXPECT_NEAR(e->dp_comm_seconds, rs + ag, 1e-9);
  EXPECT_NEAR(e->dp_exposed_seconds - e->dp_interference_seconds, tail, 1e-9);
}

TEST(ContextParallelTest, RingExchangeHidesUnderTheAttention) {
  // Llama-3-8B at 128K tokens with CP 4 on H100: each layer's K/V exchange is shorter than its
  // attention, so none of it is exposed; at 8K with CP 8 over slow links it is.
  TrainOptions o = Opts(8, L(1, 1));
  o.layout.cp = 4;
  o.seq = 131072;
  o.global_batch = 2;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->cp_comm_seconds, 0.0);
  o.layout.cp = 8;
  o.seq = 8192;
  o.global_batch = 8;
  o.fabric.scale_up.bandwidth_gbs = 1.0;  // a crawling link
  auto slow = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(slow.has_value());
  EXPECT_GT(slow->cp_comm_seconds, 0.0);
}

TEST(TrainBasisTest, NamesTheEfficiencyRowTheOverlapsAndWhatWasGiven) {
  TrainOptions o = Opts(64, L(1, 1, 3));
  o.global_batch = 64;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  const TrainBasis b = TrainingBasis(Preset("Llama-3-8B"), H100(), o, *e);
  auto has = [](const std::vector<std::string>& v, const std::string& what) {
    for (const auto& s : v) {
      if (s.find(what) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(b.assumptions,
                  "GEMM efficiency 0.63 (Hopper row of data/planner/kernel_efficiency.yaml"));
  EXPECT_TRUE(has(b.assumptions, "framework pytorch (auto"));
  EXPECT_TRUE(has(b.assumptions, "NCCL SM share 0.18"));
  EXPECT_TRUE(has(b.modelled, "DP (FSDP / ZeRO-3)"));
  EXPECT_TRUE(has(b.modelled, "Korthikanti et al. 2022"));
  EXPECT_TRUE(has(b.modelled, "IB-NDR"));
  // Values given by flag are reported as given.
  o.compute_efficiency = 0.5;
  o.dp_overlap = 0.25;
  o.framework = Framework::kMegatron;
  auto g = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(g.has_value());
  const TrainBasis bg = TrainingBasis(Preset("Llama-3-8B"), H100(), o, *g);
  EXPECT_TRUE(has(bg.assumptions, "GEMM efficiency 0.50 (given: --efficiency)"));
  EXPECT_TRUE(has(bg.assumptions, "DP overlap 0.25 (given: --dp-overlap)"));
  EXPECT_TRUE(has(bg.assumptions, "framework megatron (given: --framework)"));
  EXPECT_FALSE(has(bg.modelled, "DP (FSDP"));
}

TEST(TrainingTimeTest, RefusesOptionsWithoutAKernelRow) {
  TrainOptions o = Opts(8, L(1, 1));
  o.kernels = KernelEfficiency{};
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("kernel_efficiency.yaml"), std::string::npos);
}

}  // namespace
}  // namespace gpupool::planner

namespace gpupool::planner {
namespace {

// --- Fine-tuning with LoRA / QLoRA.

TEST(FinetuneTest, LoraAdaptersOfLlama3At16) {
  // Rank 16 on every projection of a Llama-3-8B layer: q 16 x (4096 + 4096) = 131,072, k and v
  // 16 x (4096 + 1024) = 81,920 each, o 131,072, gate, up and down 16 x (4096 + 14336) = 294,912
  // each: 1,310,720 per layer, x 32 = 41,943,040 (the count PEFT prints for this model, r 16,
  // all linear layers).
  const ModelSpec m = Preset("Llama-3-8B");
  EXPECT_DOUBLE_EQ(LoraLayerParams(m, false, 16), 1'310'720.0);
  TrainOptions o = Opts(1, L(1, 1, 0, Recompute::kFull));
  o.finetune = Finetune::kLora;
  o.global_batch = 1;
  auto e = EstimateTraining(m, H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_DOUBLE_EQ(e->trainable_params, 41'943'040.0);
  // Gradients 2 B and Adam (FP32 master, m, v) 12 B for the adapters only.
  EXPECT_NEAR(e->memory.gradients_gib, 41'943'040.0 * 2 / kGiB, 1e-12);
  EXPECT_NEAR(e->memory.optimizer_gib, 41'943'040.0 * 12 / kGiB, 1e-12);
}

TEST(FinetuneTest, QloraStoresTheBaseInNf4WithDoubleQuantization) {
  // QLoRA section 3: 4 bits + 8/64 (absmax) + 32/(64 x 256) (second-level scale) = 4.127 bits.
  EXPECT_DOUBLE_EQ(kNf4DoubleQuantBytes, 0.515869140625);
  // Llama-3-8B: linear weights in the layers 32 x 218,103,808 = 6,979,321,856 in NF4; embedding
  // and head 2 x 525,336,576 and norms 32 x 8192 + 4096 at 2 B; adapters 41,943,040 at 2 B:
  // 3,600,416,768 + 2,101,878,784 + 83,886,080 = 5,786,181,632 B.
  TrainOptions o = Opts(1, L(1, 1, 0, Recompute::kFull));
  o.finetune = Finetune::kQlora;
  o.global_batch = 1;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_NEAR(e->memory.weights_gib, 5'786'181'632.0 / kGiB, 1e-9);
}

TEST(FinetuneTest, LoraInFp8KeepsTheBaseWithItsFp8Copy) {
  // NeMo's FP8 LoRA: the frozen base's GEMMs run in FP8, so each linear weight of the layers
  // keeps its 16-bit value and the FP8 copy (3 B, as full FP8 training's weights); embeddings,
  // head and norms 2 B, adapters 2 B. Llama-3-8B: 6,979,321,856 x 3 + 1,050,939,392 x 2 +
  // 41,943,040 x 2 = 20,937,965,568 + 2,101,878,784 + 83,886,080 = 23,123,730,432 B.
  TrainOptions o = Opts(1, L(1, 1, 0, Recompute::kFull));
  o.finetune = Finetune::kLora;
  o.precision = hw::Precision::kFp8;
  o.global_batch = 1;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_NEAR(e->memory.weights_gib, 23'123'730'432.0 / kGiB, 1e-9);
  EXPECT_DOUBLE_EQ(e->trainable_params, 41'943'040.0);
  // QLoRA's NF4 base is dequantized to 16 bit for its GEMMs: FP8 is refused, naming the flags.
  o.finetune = Finetune::kQlora;
  auto q = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_FALSE(q.has_value());
  EXPECT_NE(q.error().message().find("--finetune qlora with --precision fp8"), std::string::npos)
      << q.error().message();
}

TEST(FinetuneTest, FrozenBaseSkipsTheWeightGradient) {
  // Per token: 4 x 7,504,658,432 (forward and input gradients through the base) + 6 x 41,943,040
  // (adapters) + 6,442,450,944 (attention at 4096) = 36,712,742,912 FLOPs.
  TrainOptions o = Opts(8, L(1, 1));
  o.finetune = Finetune::kLora;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->model_flops_per_token, 36'712'742'912.0);
}

TEST(FinetuneTest, ParsesItsNamesAndRefusesOthers) {
  EXPECT_EQ(ParseFinetune("qlora").value_or(Finetune::kFull), Finetune::kQlora);
  auto bad = ParseFinetune("dora");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("full, lora, qlora"), std::string::npos);
}

}  // namespace
}  // namespace gpupool::planner

namespace gpupool::planner {
namespace {

// --- CPU offload (ZeRO-Offload / ZeRO-Infinity).

TEST(OffloadTest, ZeroOffloadFitsThirteenBillionOnOneV100) {
  // ZeRO-Offload (Ren et al. 2021): "over 13 billion parameters on a single GPU" (a 32 GB V100).
  // Without offload Llama-2-13B needs 16 B/param = 194 GiB; with the optimizer offloaded only the
  // 16-bit weights stay: 13,015,864,320 x 2 B = 24.24 GiB, plus activations and buffers.
  const ModelSpec m = Preset("Llama-2-13B");
  TrainOptions o = Opts(1, L(1, 1, 0, Recompute::kFull));
  o.fabric = testing::WithNetwork(testing::V100());
  o.kernels = testing::KernelsFor(testing::V100());
  o.precision = hw::Precision::kFp16;
  o.seq = 512;
  o.global_batch = 1;
  auto on_gpu = EstimateTraining(m, testing::V100(), o);
  o.offload = Offload::kOptimizer;
  auto offload = EstimateTraining(m, testing::V100(), o);
  ASSERT_TRUE(on_gpu.has_value() && offload.has_value()) << offload.error().ToString();
  EXPECT_FALSE(on_gpu->fits);
  EXPECT_TRUE(offload->fits) << offload->memory.total_gib;
  EXPECT_NEAR(offload->memory.weights_gib, double(CountParams(m).total) * 2.0 / kGiB, 1e-9);
  EXPECT_DOUBLE_EQ(offload->memory.gradients_gib, 0.0);
  EXPECT_DOUBLE_EQ(offload->memory.optimizer_gib, 0.0);
}

TEST(OffloadTest, PcieTrafficAndCpuAdamTime) {
  // Llama-3-8B on one H100 (PCIe 5: 63 GB/s per direction in the catalog x its achievable
  // fraction): per step 8,030,261,248 params x (2 B gradients down + 2 B weights up) =
  // 32,121,044,992 B, and the CPU Adam step moves 28 B per param at 614.4 / 8 = 76.8 GB/s x 0.8.
  TrainOptions o = Opts(1, L(1, 1, 0, Recompute::kFull));
  o.global_batch = 1;
  o.offload = Offload::kOptimizer;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->offload_pcie_bytes_per_step, 32'121'044'992.0);
  auto pcie = testing::Catalog().FindInterconnect("PCIe5-x16");
  ASSERT_TRUE(pcie.has_value());
  const double link = (*pcie)->bandwidth_gbs.value * 1e9 * (*pcie)->achievable_fraction;
  EXPECT_NEAR(e->offload_seconds, 32'121'044'992.0 / link + 8'030'261'248.0 * 28.0 / (76.8e9 * 0.8),
              1e-9);
  EXPECT_DOUBLE_EQ(e->optimizer_seconds, 0.0);
  EXPECT_NEAR(e->step_seconds, e->compute_seconds + e->offload_seconds + e->dp_exposed_seconds,
              1e-9);
}

TEST(OffloadTest, ParameterOffloadNeedsZeroThree) {
  TrainOptions o = Opts(8, L(1, 1, 2));
  o.offload = Offload::kParams;
  auto e = EstimateTraining(Preset("Llama-3-8B"), H100(), o);
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("--zero 3"), std::string::npos);
  EXPECT_FALSE(ParseOffload("disk").has_value());
}

}  // namespace
}  // namespace gpupool::planner

#include "planner/encoder_estimate.h"

#include <gtest/gtest.h>

#include <string>

#include "planner/gpu_rates.h"
#include "planner/inference_estimate.h"
#include "planner/layout_search.h"
#include "planner/training_estimate.h"
#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

using testing::A100;
using testing::Preset;

InferOptions Infer(int batch, int64_t prompt, int64_t context, int tp = 1) {
  InferOptions o;
  o.precision = hw::Precision::kBf16;
  o.batch = batch;
  o.prompt_tokens = prompt;
  o.context = context;
  o.tp = tp;
  o.fabric = testing::WithNetwork(A100());
  return o;
}

TrainOptions Train(int gpus, int tp, int64_t seq, int64_t target) {
  TrainOptions o;
  o.gpus = gpus;
  o.layout.tp = tp;
  o.layout.zero = 1;
  o.layout.recompute = Recompute::kNone;
  o.seq = seq;
  o.target_seq = target;
  o.global_batch = 64;
  o.fabric = testing::WithNetwork(A100());
  o.kernels = testing::KernelsFor(A100());
  return o;
}

TEST(EncoderInferenceTest, BertBaseForwardByHand) {
  // BERT-Base, batch 32 x 384 tokens on one A100 (16-bit): 12,288 tokens, every kernel above the
  // 9.26 us floor and every GEMM compute-bound (the largest weight, 4.7 MB, reads in 3 us).
  // GEMMs per layer 768 x 2304 + 768 x 768 + 768 x 3072 + 3072 x 768 = 7,077,888 weights, x 12 =
  // 84,934,656: 12,288 x 2 x 84,934,656 FLOPs at 0.6 of the dense peak.
  // Attention 2 x 12 heads x (64 + 64) x 384 = 1,179,648 FLOPs per token per layer, x 12 layers.
  // Element-wise 40 x 768 bytes per token per layer at 0.8 of HBM bandwidth (4 kernels of 14 us).
  const hw::GpuModel g = A100();
  const double peak = *PeakTflops(g, hw::Precision::kBf16) * 1e12 * 0.6;
  const double hbm = MemoryBytesPerSecond(g) * 0.8;
  const double tokens = 32.0 * 384;
  const double gemm = tokens * 2 * 84'934'656.0 / peak;
  const double attention = tokens * 12 * 1'179'648.0 / peak;
  const double elementwise = tokens * 12 * 40.0 * 768 / hbm;
  auto e = EstimateEncoderInference(Preset("BERT-Base"), g, Infer(32, 0, 384));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_NEAR(e->forward_gemm_seconds, gemm, gemm * 1e-9);
  EXPECT_NEAR(e->forward_attention_seconds, attention, attention * 1e-9);
  EXPECT_NEAR(e->forward_elementwise_seconds, elementwise, elementwise * 1e-9);
  const double forward = gemm + attention + elementwise;
  EXPECT_NEAR(e->base.prefill_seconds, forward, forward * 1e-9);
  EXPECT_NEAR(e->sequences_per_second, 32 / forward, 32 / forward * 1e-9);
  // Weights: every parameter 16-bit on one GPU: 2 x 109,482,240 bytes. No KV cache, no decode.
  EXPECT_NEAR(e->base.weights_bytes_per_gpu, 2 * 109'482'240.0, 1.0);
  EXPECT_EQ(e->base.kv_gib_per_gpu, 0);
  EXPECT_EQ(e->base.decode_tokens_per_second, 0);
  EXPECT_TRUE(e->base.fits);
}

TEST(EncoderInferenceTest, T5KvCacheHoldsSelfAndCrossAttention) {
  // T5-Base: 12 decoder layers x 2 (K, V) x 12 heads x 64 x 2 B = 36,864 B per output token
  // (self-attention) and the same per input token (cross-attention). 128 input, 64 output:
  // 36,864 x 192 = 7,077,888 B per sequence; TP 2 halves it.
  auto e = EstimateEncoderInference(Preset("T5-Base"), A100(), Infer(4, 128, 64));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_DOUBLE_EQ(e->self_kv_bytes_per_token_per_gpu, 36'864);
  EXPECT_DOUBLE_EQ(e->cross_kv_bytes_per_token_per_gpu, 36'864);
  EXPECT_DOUBLE_EQ(e->base.kv_bytes_per_sequence_per_gpu, 7'077'888);
  EXPECT_NEAR(e->base.kv_gib_per_gpu, 4 * 7'077'888.0 / kGiB, 1e-12);
  auto tp2 = EstimateEncoderInference(Preset("T5-Base"), A100(), Infer(4, 128, 64, 2));
  ASSERT_TRUE(tp2.has_value());
  EXPECT_DOUBLE_EQ(tp2->base.kv_bytes_per_sequence_per_gpu, 7'077'888 / 2);
}

TEST(EncoderInferenceTest, T5DecodeStepIsKernelBoundAtBatchOne) {
  // T5-Base at batch 1: every one of a decoder layer's 13 kernels is under the kernel floor (its
  // largest weight, the MLP's 768 x 3072 x 2 B = 4.7 MB, reads in 2.9 us; its attention reads
  // 64 or 128 tokens x 3,072 B), so a layer takes 13 floors of 1.00 ms / (12 x 9) = 9.26 us
  // (FasterTransformer's BERT-Base at batch 1 x 128 on A100, 12 layers of 9 kernels); the head
  // reads 32128 x 768 x 2 B = 49,348,608 B at 0.8 of HBM bandwidth (30 us).
  const hw::GpuModel g = A100();
  const double floor = 1.00e-3 / (12 * 9);
  const double step = 12 * 13 * floor + 49'348'608.0 / (MemoryBytesPerSecond(g) * 0.8);
  auto e = EstimateEncoderInference(Preset("T5-Base"), g, Infer(1, 128, 64));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_EQ(e->base.decode_bound, "launch");
  EXPECT_NEAR(e->base.decode_ms_per_token, step * 1e3, step * 1e-6);
  // EstimateInference hands encoder-decoders to this estimate: the same figures.
  auto via = EstimateInference(Preset("T5-Base"), g, Infer(1, 128, 64));
  ASSERT_TRUE(via.has_value()) << via.error().ToString();
  EXPECT_DOUBLE_EQ(via->decode_ms_per_token, e->base.decode_ms_per_token);
  EXPECT_DOUBLE_EQ(via->prefill_seconds, e->base.prefill_seconds);
  // A decoder-only model is not this estimate's.
  EXPECT_FALSE(EstimateEncoderInference(Preset("Llama-3-8B"), g, Infer(1, 128, 64)).has_value());
}

TEST(EncoderInferenceTest, ServeSearchTakesEncodersAndEncoderDecoders) {
  // T5-11B in 16 bit is 22.6 GB: one A100 of 80 GB holds it and 8 x (512 + 128) tokens of K/V.
  auto t5 = FewestGpusForServing(Preset("T5-11B"), A100(), Infer(8, 512, 128));
  ASSERT_TRUE(t5.found);
  EXPECT_EQ(t5.ranked.front().tp, 1);
  auto bert = FewestGpusForServing(Preset("BERT-Large"), A100(), Infer(64, 0, 512));
  ASSERT_TRUE(bert.found);
  EXPECT_EQ(bert.ranked.front().tp, 1);
}

TEST(EncoderDecoderTrainingTest, FlopsPerInputTokenByHand) {
  // T5-Base, 512 input and 128 target tokens. Linear parameters: encoder 12 x (4 x 768^2 + 2 x
  // 768 x 3072) + 384 = 84,935,040 per input token; decoder without the cross K/V 113,246,592 -
  // 14,155,776 = 99,090,816 per target token; cross K/V 12 x 2 x 768^2 = 14,155,776 per input
  // token; head 32128 x 768 = 24,674,304 per target token. Attention forward per context token
  // per layer 2 x 12 x 128 = 3,072: encoder 512 x 512 x 12 layers, decoder 128 x (128 + 512) x 12.
  const double linear =
      84'935'040.0 * 512 + 99'090'816.0 * 128 + 14'155'776.0 * 512 + 24'674'304.0 * 128;
  const double attention = 3072.0 * 512 * 512 * 12 + 3072.0 * 128 * 640 * 12;
  const double per_token = (6 * linear + 3 * attention) / 512;
  auto e = EstimateTraining(Preset("T5-Base"), A100(), Train(8, 1, 512, 128));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_NEAR(e->model_flops_per_token, per_token, per_token * 1e-9);
  EXPECT_NEAR(e->model_flops_per_step, per_token * 512 * 64, per_token * 512 * 64 * 1e-9);
  // --target-seq 0 takes seq / 4: the same 128.
  auto d = EstimateTraining(Preset("T5-Base"), A100(), Train(8, 1, 512, 0));
  ASSERT_TRUE(d.has_value());
  EXPECT_DOUBLE_EQ(d->model_flops_per_token, e->model_flops_per_token);
  // Memory: 222,903,552 params x 2 B weights, 2 B gradients, 12 B Adam over dp 8 (ZeRO-1).
  EXPECT_NEAR(e->memory.weights_gib, 222'903'552.0 * 2 / kGiB, 1e-9);
  EXPECT_NEAR(e->memory.optimizer_gib, 222'903'552.0 * 12 / 8 / kGiB, 1e-9);
  // 8 GPUs x tokens/s = 64 x 512 input tokens per step.
  EXPECT_NEAR(e->tokens_per_second_per_gpu * 8 * e->step_seconds, 64.0 * 512, 1e-6);
}

TEST(EncoderDecoderTrainingTest, ActivationsOfBothStacksByHand) {
  // T5-Small (h 512, 8 heads x 64, MLP 2048 ReLU, 6 + 6 layers), TP 1, no recompute, flash
  // attention, micro-batch 1, 512 input / 128 target tokens. Korthikanti et al.'s 34h bytes per
  // token per layer without the score term: 10h + 8 a d + 4 x 2048 = 5,120 + 4,096 + 8,192 =
  // 17,408. Encoder 512 x 17,408 x 6 = 53,477,376. Decoder per target token the same plus the
  // cross-attention's norm input and dropout mask 3h = 1,536 and Q and the output projection's
  // input 4 a d = 2,048: (17,408 + 3,584) x 128 x 6 = 16,121,856. Cross K and V per input token
  // per decoder layer 4 a d: 512 x 2,048 x 6 = 6,291,456. The encoder output 2h x 512 = 524,288.
  // Logits of the 128 targets (fused cross-entropy, 6 B): 6 x 128 x 32,128 = 24,674,304.
  const double bytes = 53'477'376.0 + 16'121'856 + 6'291'456 + 524'288 + 24'674'304;
  auto e = EstimateTraining(Preset("T5-Small"), A100(), Train(8, 1, 512, 128));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_NEAR(e->memory.activations_gib, bytes / kGiB, 1e-12);
}

TEST(EncoderDecoderTrainingTest, Fp8FollowsTheRecipeAsDecoderTrainingDoes) {
  // FP8 on H100: the default tensorwise recipe at the table's gemm_fp8_tensorwise, --fp8-recipe
  // blockwise at gemm_fp8, as for decoders (the encoder-decoder path once took gemm_fp8 always).
  TrainOptions o = Train(8, 1, 512, 128);
  o.fabric = testing::WithNetwork(testing::H100());
  o.kernels = testing::KernelsFor(testing::H100());
  o.precision = hw::Precision::kFp8;
  auto tensorwise = EstimateTraining(Preset("T5-Base"), testing::H100(), o);
  ASSERT_TRUE(tensorwise.has_value()) << tensorwise.error().ToString();
  EXPECT_DOUBLE_EQ(tensorwise->gemm_efficiency, o.kernels.gemm_fp8_tensorwise.value);
  o.fp8_recipe = Fp8Recipe::kBlockwise;
  auto blockwise = EstimateTraining(Preset("T5-Base"), testing::H100(), o);
  ASSERT_TRUE(blockwise.has_value());
  EXPECT_DOUBLE_EQ(blockwise->gemm_efficiency, o.kernels.gemm_fp8.value);
  EXPECT_NE(o.kernels.gemm_fp8.value, o.kernels.gemm_fp8_tensorwise.value);
}

TEST(EncoderDecoderTrainingTest, UnmodelledLayoutsAreRefusedWithTheReason) {
  TrainOptions pp = Train(8, 1, 512, 128);
  pp.layout.pp = 2;
  auto e = EstimateTraining(Preset("T5-Base"), A100(), pp);
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("pipeline"), std::string::npos) << e.error().message();
  TrainOptions cp = Train(8, 1, 512, 128);
  cp.layout.cp = 2;
  auto c = EstimateTraining(Preset("T5-Base"), A100(), cp);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("context parallelism"), std::string::npos);
  // The layout search keeps the TP x DP layouts and says why the others go.
  SearchOptions so;
  so.base = Train(8, 1, 512, 128);
  so.base.global_batch = 0;
  const SearchResult r = SearchLayouts(MakeProfile(Preset("T5-Base")), A100(), 8, so);
  ASSERT_FALSE(r.ranked.empty());
  for (const RankedLayout& l : r.ranked) {
    EXPECT_EQ(l.estimate.layout.pp, 1);
    EXPECT_EQ(l.estimate.layout.cp, 1);
  }
  bool said = false;
  for (const Discarded& d : r.discarded)
    said = said || d.reason.find("pipeline") != std::string::npos;
  EXPECT_TRUE(said);
}

}  // namespace
}  // namespace gpupool::planner

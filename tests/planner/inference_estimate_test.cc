#include "planner/inference_estimate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "planner/gpu_rates.h"
#include "planner/model_loader.h"
#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

using testing::A100;
using testing::H100;
using testing::Preset;
using testing::V100;

TEST(KvCacheTest, GroupedQueryAttentionBytesPerToken) {
  const ModelSpec m = Preset("Llama-3-8B");
  int heads = 0;
  // 2 (K,V) x 32 layers x 8 KV heads x 128 dims x 2 bytes = 131,072 B/token.
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, 1, 2.0, &heads), 131072.0);
  EXPECT_EQ(heads, 8);
  // TP 2 splits the 8 KV heads: 4 per GPU -> 65,536.
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, 2, 2.0, &heads), 65536.0);
  // TP 8: one head each -> 16,384; TP 16 (> 8 KV heads): replicated, still one head -> 16,384.
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, 8, 2.0, &heads), 16384.0);
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, 16, 2.0, &heads), 16384.0);
  EXPECT_EQ(heads, 1);
  // FP8 KV cache halves it: 65,536.
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, 1, 1.0, nullptr), 65536.0);
}

TEST(KvCacheTest, MhaIsEightTimesGqa) {
  // Llama-2-7B (MHA, 32 KV heads): 2 x 32 x 32 x 128 x 2 = 524,288 B/token.
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(Preset("Llama-2-7B"), 1, 2.0, nullptr), 524288.0);
  // Llama-3-70B: 2 x 80 x 8 x 128 x 2 = 327,680.
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(Preset("Llama-3-70B"), 1, 2.0, nullptr), 327680.0);
}

TEST(KvCacheTest, MultiLatentAttentionCachesTheLatent) {
  // DeepSeek-V3: (512 latent + 64 RoPE key) x 61 layers x 2 bytes = 70,272 B/token, on every TP
  // rank (the latent is not split by heads).
  const ModelSpec m = Preset("DeepSeek-V3");
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, 1, 2.0, nullptr), 70272.0);
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, 8, 2.0, nullptr), 70272.0);
}

// KV bytes per token at 4k and 128k context, 16-bit KV, tp 1, worked out from each preset's layer
// pattern (per-sequence bytes / context). A layer's K+V per token: 2 x KV heads x head_dim x 2 B.
struct KvCase {
  const char* preset;
  double per_token_4k;
  double per_token_128k;
};

class KvPatternTest : public ::testing::TestWithParam<KvCase> {};

TEST_P(KvPatternTest, PerTokenFromTheLayerPattern) {
  const KvCase& c = GetParam();
  const ModelSpec m = Preset(c.preset);
  EXPECT_DOUBLE_EQ(KvBytesPerSequencePerGpu(m, 1, 2.0, 4096) / 4096, c.per_token_4k) << c.preset;
  EXPECT_DOUBLE_EQ(KvBytesPerSequencePerGpu(m, 1, 2.0, 131072) / 131072, c.per_token_128k)
      << c.preset;
  // The estimate reports the same average and prices the batch with it.
  InferOptions o;
  o.context = 131072;
  o.batch = 2;
  o.fabric = testing::WithNetwork(H100());
  auto e = EstimateInference(m, H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_DOUBLE_EQ(e->kv_bytes_per_token_per_gpu, c.per_token_128k);
  EXPECT_DOUBLE_EQ(e->kv_gib_per_gpu, c.per_token_128k * 131072 * 2 / (1024.0 * 1024 * 1024));
}

INSTANTIATE_TEST_SUITE_P(
    SlidingAndHybridPresets, KvPatternTest,
    ::testing::Values(
        // GPT-OSS-20B: 24 layers alternating sliding (window 128) / full; 2x8x64x2 = 2,048 B.
        // 4k: 12 x 2,048 + 12 x 2,048 x 128/4096 = 24,576 + 768 = 25,344.
        // 128k: 24,576 + 12 x 2,048 x 128/131072 = 24,576 + 24 = 24,600.
        KvCase{"GPT-OSS-20B", 25'344, 24'600},
        // GPT-OSS-120B: 18 + 18 layers. 4k: 36,864 + 1,152; 128k: 36,864 + 36.
        KvCase{"GPT-OSS-120B", 38'016, 36'900},
        // Gemma-3-27B: 62 layers, global where (i+1) % 6 == 0 -> 10 full, 52 sliding (1024);
        // 2x16x128x2 = 8,192 B. 4k: 10 x 8,192 + 52 x 8,192 x 1024/4096 = 81,920 + 106,496.
        // 128k: 81,920 + 52 x 8,192 x 1024/131072 = 81,920 + 3,328.
        KvCase{"Gemma-3-27B", 188'416, 85'248},
        // Llama 4: 48 layers, every 4th global (12), 36 chunked (8192); 2x8x128x2 = 4,096 B.
        // 4k (inside one chunk): 48 x 4,096. 128k: 12 x 4,096 + 36 x 4,096 x 8192/131072 =
        // 49,152 + 9,216.
        KvCase{"Llama-4-Scout", 196'608, 58'368}, KvCase{"Llama-4-Maverick", 196'608, 58'368},
        // Qwen3-Next: 12 full layers x 2x2x256x2 = 24,576 B/token; 36 Gated DeltaNet layers of
        // 32x128x128 + (2x2048+4096)x3 = 548,864 FP32 elements = 2,195,456 B -> 79,036,416 B per
        // sequence. 4k: 24,576 + 79,036,416/4096 = 24,576 + 19,296. 128k: 24,576 + 603.
        KvCase{"Qwen3-Next-80B-A3B", 43'872, 25'179},
        // MiniMax-M1: 10 softmax layers x 2x8x128x2 = 40,960 B/token; 70 lightning layers of
        // 64x128x128 FP32 = 4,194,304 B -> 293,601,280 B per sequence. 4k: 40,960 + 71,680.
        // 128k: 40,960 + 2,240.
        KvCase{"MiniMax-M1", 112'640, 43'200}));

TEST(KvCacheTest, SampleMistralWindowCapsEveryLayer) {
  // Mistral 7B v0.1: sliding_window 4096 on all 32 layers; 2x8x128x2 = 4,096 B per layer.
  const ModelSpec m = Preset("Mistral-7B");
  EXPECT_DOUBLE_EQ(KvBytesPerSequencePerGpu(m, 1, 2.0, 4096) / 4096, 131'072);
  // 128k: 32 x 4,096 x 4096/131072 = 4,096.
  EXPECT_DOUBLE_EQ(KvBytesPerSequencePerGpu(m, 1, 2.0, 131072) / 131072, 4'096);
}

TEST(KvCacheTest, LinearStateSplitsOverTp) {
  // Qwen3-Next at tp 4: 16 key / 32 value heads split 4 ways -> 79,036,416 / 4 = 19,759,104 B;
  // its 2 KV heads are replicated (one per GPU): 12 x 2x1x256x2 = 12,288 B/token.
  const ModelSpec m = Preset("Qwen3-Next-80B-A3B");
  EXPECT_DOUBLE_EQ(LinearStateBytesPerSequencePerGpu(m, 4), 19'759'104);
  EXPECT_DOUBLE_EQ(KvBytesPerSequencePerGpu(m, 4, 2.0, 4096), 12'288.0 * 4096 + 19'759'104);
}

TEST(QuantizationTest, BytesPerParam) {
  EXPECT_DOUBLE_EQ(QuantizedBytesPerParam(hw::Precision::kBf16), 2.0);
  EXPECT_DOUBLE_EQ(QuantizedBytesPerParam(hw::Precision::kFp8), 1.0);
  EXPECT_DOUBLE_EQ(QuantizedBytesPerParam(hw::Precision::kInt8), 1.0);
  // INT4, group 128: (4 + (16 + 4)/128) / 8 = 4.15625 / 8 = 0.51953125.
  EXPECT_DOUBLE_EQ(QuantizedBytesPerParam(hw::Precision::kInt4), 0.51953125);
}

InferOptions Opts(hw::Precision p, int tp = 1) {
  InferOptions o;
  o.precision = p;
  o.tp = tp;
  o.fabric = testing::WithNetwork(H100());
  return o;
}

TEST(InferenceTest, Llama3_8bBf16WeightsByHand) {
  // 8,030,261,248 params x 2 bytes = 16,060,522,496 B = 14.9575 GiB on one GPU.
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), Opts(hw::Precision::kBf16));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_NEAR(e->weights_bytes_per_gpu, 16'060'522'496.0, 1.0);
  EXPECT_DOUBLE_EQ(e->kv_bytes_per_token_per_gpu, 131072.0);
  EXPECT_EQ(e->compute_precision, "bf16");
  EXPECT_TRUE(e->fits);
}

TEST(InferenceTest, Int4KeepsEmbeddingsSixteenBit) {
  // Linear: 32 x (218,112,000 - 8,192 norms) = 6,979,321,856 x 0.51953125 = 3,625,975,808
  // Embedding + head: 1,050,673,152 x 2 = 2,101,346,304. Norms: (262,144 + 4,096) x 2 = 532,480.
  // Total 5,727,854,592 B.
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), Opts(hw::Precision::kInt4));
  ASSERT_TRUE(e.has_value());
  EXPECT_NEAR(e->weights_bytes_per_gpu, 5'727'854'592.0, 1.0);
  EXPECT_EQ(e->compute_precision, "bf16");  // weight-only: 16-bit matmuls
  ASSERT_FALSE(e->notes.empty());
}

TEST(InferenceTest, TensorParallelSplitsWeights) {
  // Llama-3-70B bf16 on TP 4: (70,553,706,496 - norms 1,318,912) x 2 / 4 + norms x 2
  auto e = EstimateInference(Preset("Llama-3-70B"), H100(), Opts(hw::Precision::kBf16, 4));
  ASSERT_TRUE(e.has_value());
  const double norms = 80 * 2 * 8192 + 8192;
  EXPECT_NEAR(e->weights_bytes_per_gpu, (70'553'706'496.0 - norms) * 2 / 4 + norms * 2, 1.0);
  EXPECT_DOUBLE_EQ(e->kv_bytes_per_token_per_gpu, 327680.0 / 4);
}

TEST(InferenceTest, MaxKvTokensFromTheMemoryLeft) {
  InferOptions o = Opts(hw::Precision::kBf16);
  o.engine = ServingEngine::kGeneric;  // the budget is memory_gib x utilisation
  o.overhead_gib = 2.0;
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  // 80 x 0.9 = 72 GiB budget - 14.9575 GiB weights - 2 GiB = 55.0425 GiB / 131,072 B.
  const double free_bytes = (72.0 - 16'060'522'496.0 / kGiB - 2.0) * kGiB;
  EXPECT_EQ(e->max_kv_tokens, static_cast<int64_t>(free_bytes / 131072.0));
}

TEST(InferenceTest, VllmProfileRunByHand) {
  // Llama-3-8B bf16 on one H100 as vLLM profiles it: 8192 batched tokens, 1024 sequences.
  // Forward per token: 4h + 2 (q+k+v) + 6 ffn = 16384 + 2 x (4096 + 2 x 1024) + 6 x 14336
  //   = 16384 + 20480 + 86016 = 122,880 B; x 8192 = 1,006,632,960 B = 0.9375 GiB.
  // Sampler: 8192 x 4096 x 2 = 67,108,864 B of hidden states + 1024 x 128,256 x 38.26 B
  //   = 5,024,844,349 B -> 5,091,953,213 B = 4.7422 GiB: larger, so it is the peak.
  // Non-torch 0.13 GiB. Budget: 79.18 GiB (what CUDA reports, catalog) x 0.9 = 71.262 GiB.
  // KV: 71.262 - 14.9575 (16,060,522,496 B) - 4.7422 - 0.13 = 51.432 GiB.
  InferOptions o = Opts(hw::Precision::kBf16);
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->engine, "vllm");
  EXPECT_NEAR(e->forward_activation_gib, 0.9375, 1e-6);
  EXPECT_NEAR(e->sampler_activation_gib, 5'091'953'213.0 / kGiB, 1e-5);
  EXPECT_NEAR(e->activation_gib, e->sampler_activation_gib, 1e-12);
  EXPECT_NEAR(e->non_torch_gib, 0.13, 1e-12);
  EXPECT_NEAR(e->budget_gib_per_gpu, 71.262, 1e-9);
  EXPECT_NEAR(e->kv_budget_gib_per_gpu, 71.262 - 16'060'522'496.0 / kGiB - 4.7422 - 0.13, 1e-4);
  EXPECT_FALSE(e->modelled.empty());
  EXPECT_FALSE(e->assumptions.empty());
}

TEST(InferenceTest, VllmCommunicationBuffersComeWithTensorParallelism) {
  // TP 1: 0.13 GiB non-torch; TP 2, 4, 8: + 0.42 GiB of NCCL / custom all-reduce buffers, the
  // same at every degree (two ring / tree peers per channel); above 2 GPUs on the H100's
  // NVLink4 NCCL adds its NVLS buffers, 16 x 2 x 128 KiB x 8 = 32 MiB per rank of the group.
  // The sampler sees the whole vocabulary and keeps every token's hidden states on every rank:
  // its peak does not shrink.
  const ModelSpec m = Preset("Llama-3-70B");
  for (int tp : {2, 4, 8}) {
    auto e = EstimateInference(m, H100(), Opts(hw::Precision::kBf16, tp));
    ASSERT_TRUE(e.has_value());
    const double nvls = tp > 2 ? 32.0 * tp / 1024.0 : 0.0;
    EXPECT_NEAR(e->nvls_buffers_gib, nvls, 1e-12) << tp;
    EXPECT_NEAR(e->non_torch_gib, 0.55 + nvls, 1e-12) << tp;
    // 8192 x 8192 x 2 + 1024 x 128,256 x 38.26 = 134,217,728 + 5,024,844,349 B = 4.8047 GiB.
    EXPECT_NEAR(e->sampler_activation_gib, 5'159'062'077.0 / kGiB, 1e-5) << tp;
  }
}

TEST(InferenceTest, PrefillOverlapsWeightReadsWithCompute) {
  // A 16-token prompt on Llama-3-8B (TP 1) is bound by reading the weights once:
  // prefill = max(compute, 16,060,522,496 B / (HBM x 0.8)), not their sum.
  InferOptions o = Opts(hw::Precision::kBf16);
  o.context = 16;
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  const double read = 16'060'522'496.0 / (MemoryBytesPerSecond(H100()) * 0.8);
  EXPECT_NEAR(e->prefill_memory_seconds, read, 1e-12);
  EXPECT_LT(e->prefill_compute_seconds, read);
  // The forward's fixed kernel costs come on top: 326 kernels x 4 us (vLLM, CUDA graphs), and
  // attention, a kernel of its own after the GEMMs: 16 tokens x 4 x 32 layers x 4096 x 8 (half
  // the prompt, causal) = 67,108,864 FLOPs at 0.6 of the 989.5 TFLOP/s BF16 peak.
  EXPECT_NEAR(e->prefill_kernel_seconds, 326 * 4e-6, 1e-12);
  const double attention = 67'108'864.0 / (989.5e12 * 0.6);
  EXPECT_NEAR(e->prefill_seconds, read + attention + e->prefill_kernel_seconds, 1e-12);
  // A long prompt is bound by compute: then the weight read adds nothing.
  o.context = 8192;
  e = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_GT(e->prefill_compute_seconds, e->prefill_memory_seconds);
  EXPECT_NEAR(e->prefill_seconds, e->prefill_compute_seconds + e->prefill_kernel_seconds, 1e-12);
}

TEST(InferenceTest, EagerAttentionMaterialisesTheScores) {
  // Llama-3-8B, generic engine, one 1024-token prompt on one H100.
  // Memory: one layer's 32 heads x 1024 x 1024 scores x 8 B = 268,435,456 B = 0.25 GiB, on top of
  // the forward's 1024 x 122,880 B = 125,829,120 B.
  InferOptions o = Opts(hw::Precision::kBf16);
  o.engine = ServingEngine::kGeneric;
  o.context = 1024;
  auto flash = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  o.flash_attention = false;
  auto eager = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(flash.has_value() && eager.has_value());
  EXPECT_NEAR(eager->eager_scores_gib, 0.25, 1e-12);
  EXPECT_NEAR(eager->forward_activation_gib, (125'829'120.0 + 268'435'456.0) / kGiB, 1e-12);
  EXPECT_NEAR(eager->activation_gib - flash->activation_gib, 0.25, 1e-12);
  // Prefill: attention over the whole square instead of the causal half, 1024 x 2 x 32 x (128 +
  // 128) x 32 layers x (1024 - 512) = 274,877,906,944 more FLOPs at the 16-bit rate x 0.6, and
  // 32 layers x 32 heads x 1024^2 x 20 B = 21,474,836,480 B of score traffic at HBM x 0.8.
  const double flops = 274'877'906'944.0 / (*PeakTflops(H100(), hw::Precision::kBf16) * 1e12 * 0.6);
  const double traffic = 21'474'836'480.0 / (MemoryBytesPerSecond(H100()) * 0.8);
  EXPECT_NEAR(eager->prefill_compute_seconds - flash->prefill_compute_seconds, flops + traffic,
              1e-12);
  // vLLM has no eager path: refused, naming the flag.
  o.engine = ServingEngine::kVllm;
  auto refused = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("--eager-attention"), std::string::npos);
}

TEST(InferenceTest, StepOverheadAddsToEveryStep) {
  // 2 ms per engine step: each decode step and the prefill take 2 ms more; tokens/s follow.
  InferOptions o = Opts(hw::Precision::kBf16);
  o.batch = 8;
  auto base = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  o.step_overhead_ms = 2.0;
  auto slow = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(base.has_value() && slow.has_value());
  EXPECT_NEAR(slow->decode_ms_per_token - base->decode_ms_per_token, 2.0, 1e-9);
  EXPECT_NEAR(slow->prefill_seconds - base->prefill_seconds, 2e-3, 1e-12);
  EXPECT_NEAR(slow->decode_tokens_per_second, 8.0 / (slow->decode_ms_per_token * 1e-3), 1e-9);
  o.step_overhead_ms = -1;
  EXPECT_FALSE(EstimateInference(Preset("Llama-3-8B"), H100(), o).has_value());
}

TEST(InferenceTest, VllmServeDefaultsFollowTheDevice) {
  // `vllm serve` takes 8192 tokens / 1024 sequences on GPUs of 70 GiB and more whose name has no
  // "A100" (H100), 2048 / 256 otherwise (A100 80GB, L4); the generic engine 8192 tokens.
  InferOptions o = Opts(hw::Precision::kBf16);
  auto h100 = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  auto a100 = EstimateInference(Preset("Llama-3-8B"), A100(), o);
  ASSERT_TRUE(h100.has_value() && a100.has_value());
  EXPECT_EQ(h100->max_batched_tokens, 8192);
  EXPECT_EQ(h100->max_num_seqs, 1024);
  EXPECT_EQ(a100->max_batched_tokens, 2048);
  EXPECT_EQ(a100->max_num_seqs, 256);
  o.engine = ServingEngine::kGeneric;
  a100 = EstimateInference(Preset("Llama-3-8B"), A100(), o);
  ASSERT_TRUE(a100.has_value());
  EXPECT_EQ(a100->max_batched_tokens, 8192);
  // Given values win.
  o.engine = ServingEngine::kVllm;
  o.max_batched_tokens = 4096;
  o.max_num_seqs = 64;
  h100 = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(h100.has_value());
  EXPECT_EQ(h100->max_batched_tokens, 4096);
  EXPECT_EQ(h100->max_num_seqs, 64);
}

TEST(InferenceTest, EngineNamesAreChecked) {
  EXPECT_EQ(ParseServingEngine("vllm").value_or(ServingEngine::kGeneric), ServingEngine::kVllm);
  EXPECT_EQ(ParseServingEngine("generic").value_or(ServingEngine::kVllm), ServingEngine::kGeneric);
  for (ServingEngine e : {ServingEngine::kVllm, ServingEngine::kVllmV0, ServingEngine::kTensorRtLlm,
                          ServingEngine::kFasterTransformer, ServingEngine::kGeneric}) {
    EXPECT_EQ(ParseServingEngine(ServingEngineName(e)).value_or(ServingEngine::kGeneric), e);
  }
  EXPECT_EQ(ParseServingEngine("ft").value_or(ServingEngine::kGeneric),
            ServingEngine::kFasterTransformer);
  EXPECT_EQ(ParseServingEngine("tensorrt-llm").value_or(ServingEngine::kGeneric),
            ServingEngine::kTensorRtLlm);
  EXPECT_TRUE(UsesVllmAccounting(ServingEngine::kVllmV0));
  EXPECT_FALSE(UsesVllmAccounting(ServingEngine::kTensorRtLlm));
  EXPECT_TRUE(UsesCudaGraphs(ServingEngine::kTensorRtLlm));
  EXPECT_FALSE(UsesCudaGraphs(ServingEngine::kFasterTransformer));
  auto bad = ParseServingEngine("tgi");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("--engine 'tgi'"), std::string::npos);
}

TEST(InferenceTest, DoesNotFitIsAnAnswerNotAnError) {
  InferOptions o = Opts(hw::Precision::kBf16);
  auto e = EstimateInference(Preset("Llama-3-70B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->fits);  // 131 GiB of weights on an 80 GB GPU
  EXPECT_EQ(e->max_kv_tokens, 0);
}

TEST(InferenceTest, Fp8RefusedOnA100WithReason) {
  auto e = EstimateInference(Preset("Llama-3-8B"), A100(), Opts(hw::Precision::kFp8));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.error().message().find("FP8"), std::string::npos);
  EXPECT_NE(e.error().message().find("int4"), std::string::npos);
}

TEST(InferenceTest, Bf16RefusedOnV100SuggestsFp16) {
  auto e = EstimateInference(Preset("Llama-3-8B"), V100(), Opts(hw::Precision::kBf16));
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("fp16"), std::string::npos);
}

TEST(InferenceTest, Int8FallsBackToWeightOnlyWithoutInt8Rate) {
  auto e = EstimateInference(Preset("Llama-3-8B"), V100(), Opts(hw::Precision::kInt8));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->compute_precision, "fp16");
  EXPECT_FALSE(e->notes.empty());
}

TEST(InferenceTest, TpMustDivideHeads) {
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), Opts(hw::Precision::kBf16, 3));
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("heads"), std::string::npos);
}

TEST(InferenceTest, DecodeIsMemoryBoundAtBatchOne) {
  // Batch 1: reading 16.06 GB of weights at 3.35 TB/s x 0.8 = 5.99 ms dominates compute; the
  // step adds its kernels' fixed costs: (32 layers x 10 + 6) x 4 us = 1.304 ms (CUDA graphs).
  InferOptions o = Opts(hw::Precision::kBf16);
  o.context = 1;
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->decode_bound, "memory");
  const double read_ms = 16'060'522'496.0 / (MemoryBytesPerSecond(H100()) * 0.8) * 1e3;
  EXPECT_NEAR(e->decode_memory_ms, read_ms, 0.01);
  EXPECT_EQ(e->kernels_per_step, 326);
  EXPECT_NEAR(e->decode_kernel_ms, 1.304, 1e-9);
  EXPECT_NEAR(e->decode_ms_per_token, read_ms + 1.304, 0.01);
}

TEST(InferenceTest, KernelCostsFollowTheEngine) {
  // The same step under each engine: CUDA graphs (vLLM, TensorRT-LLM) cost 4 us per kernel,
  // kernels launched one by one (FasterTransformer, generic) 12.5 us; an option overrides both.
  const ModelSpec m = Preset("Llama-3-8B");
  const auto kernel_ms = [&m](ServingEngine engine, std::optional<bool> graphs,
                              std::optional<double> us) {
    InferOptions o = Opts(hw::Precision::kBf16);
    o.engine = engine;
    o.cuda_graphs = graphs;
    o.kernel_us = us;
    auto e = EstimateInference(m, H100(), o);
    EXPECT_TRUE(e.has_value());
    return e ? e->decode_kernel_ms : -1.0;
  };
  EXPECT_NEAR(kernel_ms(ServingEngine::kVllm, {}, {}), 326 * kKernelUsCudaGraph * 1e-3, 1e-12);
  EXPECT_NEAR(kernel_ms(ServingEngine::kTensorRtLlm, {}, {}), 326 * kKernelUsCudaGraph * 1e-3,
              1e-12);
  EXPECT_NEAR(kernel_ms(ServingEngine::kFasterTransformer, {}, {}), 326 * kKernelUsLaunched * 1e-3,
              1e-12);
  EXPECT_NEAR(kernel_ms(ServingEngine::kGeneric, {}, {}), 326 * kKernelUsLaunched * 1e-3, 1e-12);
  EXPECT_NEAR(kernel_ms(ServingEngine::kVllm, false, {}), 326 * kKernelUsLaunched * 1e-3, 1e-12);
  EXPECT_NEAR(kernel_ms(ServingEngine::kVllm, {}, 0.0), 0.0, 1e-12);
  // An MoE layer adds the router, top-k, permutation and combine: Mixtral's 32 MoE layers.
  auto moe = EstimateInference(Preset("Mixtral-8x7B"), H100(), Opts(hw::Precision::kBf16, 2));
  ASSERT_TRUE(moe.has_value());
  EXPECT_EQ(moe->kernels_per_step, 32 * (kKernelsPerLayer + kMoeExtraKernelsPerLayer) + 6);
  InferOptions bad = Opts(hw::Precision::kBf16);
  bad.kernel_us = -1;
  EXPECT_FALSE(EstimateInference(m, H100(), bad).has_value());
}

TEST(InferenceTest, EfficiencyFromTheKernelTable) {
  // Without a table the matmuls get 0.6; with it, the architecture's GEMM figure at the compute
  // precision (Hopper: 16-bit and FP8 rows) and its flash figure for attention; an explicit
  // efficiency overrides both.
  const ModelSpec m = Preset("Llama-3-8B");
  InferOptions o = Opts(hw::Precision::kBf16);
  auto e = EstimateInference(m, H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->gemm_efficiency, kDefaultInferComputeEfficiency);
  o.kernels = testing::KernelsFor(H100());
  e = EstimateInference(m, H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->gemm_efficiency, o.kernels.gemm_16bit.value);
  EXPECT_DOUBLE_EQ(e->attention_efficiency, o.kernels.flash.value);
  // FP8 with a scale per tensor or channel (vLLM's --quantization fp8, ModelOpt's checkpoints)
  // runs at the tensorwise figure; a checkpoint with a scale per block (weight_block_size, as
  // DeepSeek-V3's) at the blockwise one.
  o.precision = hw::Precision::kFp8;
  e = EstimateInference(m, H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->gemm_efficiency, o.kernels.gemm_fp8_tensorwise.value);
  ModelSpec blocks = m;
  blocks.quant.block_scaled = true;
  e = EstimateInference(blocks, H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->gemm_efficiency, o.kernels.gemm_fp8.value);
  o.compute_efficiency = 0.5;
  e = EstimateInference(m, H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->gemm_efficiency, 0.5);
  EXPECT_DOUBLE_EQ(e->attention_efficiency, 0.5);
}

TEST(InferenceTest, EndToEndLatencyAndThroughputFromTheOutputLength) {
  // 4 sequences of 512 prompt tokens and 256 output tokens: TTFT is the prefill, the mean TPOT
  // the step at the mean context 512 + 128, the request takes TTFT + 255 steps, and the batch
  // puts out 4 x 256 tokens in that time.
  const ModelSpec m = Preset("Llama-3-8B");
  InferOptions o = Opts(hw::Precision::kBf16);
  o.batch = 4;
  o.prompt_tokens = 512;
  o.context = 768;
  o.output_tokens = 256;
  auto e = EstimateInference(m, H100(), o);
  ASSERT_TRUE(e.has_value());
  InferOptions mid = o;
  mid.context = 640;
  mid.output_tokens = 0;
  auto at_mean = EstimateInference(m, H100(), mid);
  ASSERT_TRUE(at_mean.has_value());
  EXPECT_EQ(at_mean->output_tokens, 0);
  EXPECT_DOUBLE_EQ(at_mean->e2e_latency_seconds, 0.0);
  EXPECT_NEAR(e->tpot_ms, at_mean->decode_ms_per_token, 1e-12);
  EXPECT_DOUBLE_EQ(e->ttft_seconds, e->prefill_seconds);
  EXPECT_NEAR(e->e2e_latency_seconds, e->ttft_seconds + 255 * e->tpot_ms * 1e-3, 1e-12);
  EXPECT_NEAR(e->output_tokens_per_second, 4 * 256 / e->e2e_latency_seconds, 1e-9);
  // The largest batch: the sequences of 768 tokens the KV cache holds, up to max_num_seqs.
  const double seq_bytes = KvBytesPerSequencePerGpu(m, 1, 2.0, 768);
  const auto fit = int64_t(std::floor(e->kv_budget_gib_per_gpu * kGiB / seq_bytes));
  EXPECT_EQ(e->max_throughput_batch, std::min<int64_t>(fit, e->max_num_seqs));
  EXPECT_GT(e->max_throughput_tokens_per_second, e->output_tokens_per_second);
  o.max_num_seqs = 8;
  e = EstimateInference(m, H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->max_throughput_batch, 8);
  o.output_tokens = -1;
  EXPECT_FALSE(EstimateInference(m, H100(), o).has_value());
}

TEST(InferenceTest, TensorRtLlmKvGetsTheFreeMemorysFraction) {
  // TensorRT-LLM: the KV cache gets 0.9 of what CUDA's total leaves after weights and overhead.
  InferOptions o = Opts(hw::Precision::kBf16);
  o.engine = ServingEngine::kTensorRtLlm;
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  const double rest = H100().cuda_total_gib.value - e->weights_gib_per_gpu - e->overhead_gib;
  EXPECT_NEAR(e->kv_budget_gib_per_gpu, 0.9 * rest, 1e-9);
  EXPECT_EQ(e->max_num_seqs, 2048);
  EXPECT_EQ(e->engine, "trtllm");
}

TEST(InferenceTest, TrtllmBenchHeuristicByHand) {
  // tensorrt_llm/bench/build/tuning.py's rules worked by hand: the batch is the KV cache's
  // requests capped at 4096, rounded up to 32 (at least 64) below 256, to 128 below 1024, to 256
  // above; the tokens are batch x (1 + isl / osl) capped at 32768, rounded up to 256 (at least
  // 2048) below 4096, to 512 below 8192, to 1024 above; a prompt longer than that gets isl + batch.
  struct Case {
    double requests;
    int64_t isl, osl;
    int batch;
    int64_t tokens;
  };
  const Case cases[] = {
      {242.1, 128, 4096, 256, 2048},      // 32 x ceil(7.57); 249.7 tokens -> the floor 2048
      {10, 128, 128, 64, 2048},           // the batch's floor of 64
      {300, 1000, 1000, 384, 2048},       // 128 x 3; 600 tokens
      {1344, 128, 2048, 1536, 2048},      // 256 x ceil(5.25); 1428 tokens
      {2000, 1000, 1000, 2048, 4096},     // 4000 tokens -> 256 x 16
      {2100, 1000, 1000, 2304, 4608},     // 4200 tokens -> 512 x 9
      {5000, 128, 128, 4096, 8192},       // capped at 4096; 8192 tokens -> 1024 x 8
      {3000, 5000, 500, 3072, 32768},     // 33000 tokens capped at 32768
      {40, 20000, 2000, 64, 20000 + 64},  // 440 tokens -> 2048 < the prompt: 20000 + 64
  };
  for (const Case& c : cases) {
    const TrtllmBenchSettings s = TrtllmBenchHeuristic(c.requests, c.isl, c.osl);
    EXPECT_EQ(s.max_batch_size, c.batch) << c.requests << " requests, " << c.isl << "/" << c.osl;
    EXPECT_EQ(s.max_num_tokens, c.tokens) << c.requests << " requests, " << c.isl << "/" << c.osl;
  }
  EXPECT_EQ(TrtllmBenchHeuristic(0, 128, 128).max_batch_size, 0);
}

TEST(InferenceTest, TrtllmCudaGraphBatchPadsToTheNextCapturedSize) {
  // Sizes 1, 2, 4, ..., 128, 256, 384, 512, 1024, ... up to min(max_batch_size, max_num_tokens),
  // which stands in for the first size beyond it; a batch beyond that bound has no graph.
  EXPECT_EQ(TrtllmCudaGraphBatch(5, 64, 2048), 8);
  EXPECT_EQ(TrtllmCudaGraphBatch(128, 256, 2048), 128);
  EXPECT_EQ(TrtllmCudaGraphBatch(207, 256, 2048), 256);
  EXPECT_EQ(TrtllmCudaGraphBatch(207, 224, 2048), 224);
  EXPECT_EQ(TrtllmCudaGraphBatch(352, 512, 2048), 384);
  EXPECT_EQ(TrtllmCudaGraphBatch(1256, 1536, 2048), 1536);
  EXPECT_EQ(TrtllmCudaGraphBatch(1024, 4096, 8192), 1024);
  EXPECT_EQ(TrtllmCudaGraphBatch(300, 256, 2048), 0);      // beyond max_batch_size
  EXPECT_EQ(TrtllmCudaGraphBatch(3000, 4096, 2048), 0);    // beyond max_num_tokens
  EXPECT_EQ(TrtllmCudaGraphBatch(9000, 16384, 16384), 0);  // beyond the largest size, 8192
}

TEST(InferenceTest, CudaGraphPaddingRunsTheGemmsAtThePaddedBatch) {
  // 300 sequences under a graph of 384: the GEMMs and all-reduces are those of 384 sequences,
  // attention that of the 300 (a padding sequence holds one token).
  const ModelSpec m = Preset("Llama-3-8B");
  const auto run = [&m](int batch, std::optional<bool> padding, int seqs) {
    InferOptions o = Opts(hw::Precision::kBf16, 2);
    o.engine = ServingEngine::kTensorRtLlm;
    o.batch = batch;
    o.context = 1000;
    o.cuda_graph_padding = padding;
    o.max_num_seqs = seqs;
    o.max_batched_tokens = 8192;
    auto e = EstimateInference(m, H100(), o);
    EXPECT_TRUE(e.has_value()) << e.error().ToString();
    return *e;
  };
  const InferEstimate padded = run(300, {}, 512);  // trtllm pads by default
  const InferEstimate as_384 = run(384, false, 512);
  const InferEstimate as_300 = run(300, false, 512);
  EXPECT_TRUE(padded.cuda_graph_padding);
  EXPECT_EQ(padded.decode_graph_batch, 384);
  EXPECT_GT(padded.decode_compute_ms, as_300.decode_compute_ms);
  EXPECT_NEAR(padded.decode_gemm_ms, as_384.decode_gemm_ms, 1e-9);
  EXPECT_NEAR(padded.decode_comm_ms, as_384.decode_comm_ms, 1e-9);
  EXPECT_NEAR(padded.decode_attention_ms, as_300.decode_attention_ms, 1e-9);
  EXPECT_NEAR(padded.decode_kernel_ms, as_300.decode_kernel_ms, 1e-9);
  EXPECT_FALSE(as_300.cuda_graph_padding);
  // Beyond max_batch_size no graph holds the batch: its kernels are launched one by one.
  const InferEstimate eager = run(300, true, 256);
  EXPECT_EQ(eager.decode_graph_batch, 0);
  EXPECT_NEAR(eager.decode_kernel_ms, 326 * kKernelUsLaunched * 1e-3, 1e-12);
  EXPECT_NEAR(eager.decode_gemm_ms, as_300.decode_gemm_ms, 1e-9);
  // vLLM does not pad (not modelled for it).
  InferOptions v = Opts(hw::Precision::kBf16);
  v.batch = 300;
  auto vllm = EstimateInference(m, H100(), v);
  ASSERT_TRUE(vllm.has_value());
  EXPECT_FALSE(vllm->cuda_graph_padding);
  EXPECT_EQ(vllm->decode_graph_batch, 300);
}

TEST(InferenceTest, TrtllmThroughputFollowsTrtllmBenchsSettings) {
  // Llama-3-8B in BF16 on one H100, 1000 in / 1000 out. trtllm-bench's estimate of the
  // sequences the KV cache holds: (79.18 GiB - 16,060,522,496 B of weights) x 0.9 over
  // 2 x 32 layers x 8 KV heads x 128 x 2 B x 2000 tokens = 262,144,000 B: 236.75 sequences;
  // batch 32 x ceil(236.75 / 32) = 256, tokens 473.5 -> 2048.
  InferOptions o = Opts(hw::Precision::kBf16);
  o.engine = ServingEngine::kTensorRtLlm;
  o.prompt_tokens = 1000;
  o.context = 2000;
  o.output_tokens = 1000;
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_TRUE(e->trtllm_bench_settings);
  EXPECT_EQ(e->max_num_seqs, 256);
  EXPECT_EQ(e->max_batched_tokens, 2048);
  EXPECT_LE(e->max_throughput_batch, 256);
  EXPECT_EQ(e->max_throughput_graph_batch,
            TrtllmCudaGraphBatch(e->max_throughput_batch, 256, 2048));
  // Either option given: the user's settings, the LLM API's defaults for the other.
  o.max_num_seqs = 128;
  auto given = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(given.has_value());
  EXPECT_FALSE(given->trtllm_bench_settings);
  EXPECT_EQ(given->max_num_seqs, 128);
  EXPECT_EQ(given->max_batched_tokens, 8192);
  EXPECT_LE(given->max_throughput_batch, 128);
  // No output length: no benchmark, the LLM API's defaults.
  InferOptions plain = Opts(hw::Precision::kBf16);
  plain.engine = ServingEngine::kTensorRtLlm;
  auto p = EstimateInference(Preset("Llama-3-8B"), H100(), plain);
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->trtllm_bench_settings);
  EXPECT_EQ(p->max_num_seqs, 2048);
  EXPECT_EQ(p->max_batched_tokens, 8192);
}

TEST(InferenceTest, WavesOfTheBatchThenTheRest) {
  // N requests queued at once: full waves of the max-throughput batch b, then one of the rest r;
  // each wave takes its batch's end-to-end latency (prefill, then OSL - 1 steps), computed here
  // by running those batches apart. N = 2b + r: N x OSL / (2 T(b) + T(r)).
  const ModelSpec m = Preset("Llama-3-8B");
  const auto run = [&m](int batch, int64_t requests) {
    InferOptions o = Opts(hw::Precision::kBf16);
    o.batch = batch;
    o.prompt_tokens = 1000;
    o.context = 2000;
    o.output_tokens = 1000;
    o.num_requests = requests;
    auto e = EstimateInference(m, H100(), o);
    EXPECT_TRUE(e.has_value()) << e.error().ToString();
    return *e;
  };
  const InferEstimate steady = run(1, 0);
  const int b = steady.max_throughput_batch;
  ASSERT_GT(b, 3);
  const int r = b / 3;
  const InferEstimate waves = run(1, 2 * int64_t(b) + r);
  EXPECT_EQ(waves.max_throughput_batch, b);
  EXPECT_EQ(waves.max_throughput_waves, 3);
  const double t_b = run(b, 0).e2e_latency_seconds;
  const double t_r = run(r, 0).e2e_latency_seconds;
  EXPECT_NEAR(waves.max_throughput_tokens_per_second, (2.0 * b + r) * 1000.0 / (2.0 * t_b + t_r),
              1e-6);
  // Whole waves only: the steady state's figure; no request count: no waves.
  const InferEstimate whole = run(1, 2 * int64_t(b));
  EXPECT_EQ(whole.max_throughput_waves, 2);
  EXPECT_NEAR(whole.max_throughput_tokens_per_second, steady.max_throughput_tokens_per_second,
              1e-9);
  EXPECT_EQ(steady.max_throughput_waves, 0);
  InferOptions bad = Opts(hw::Precision::kBf16);
  bad.output_tokens = 10;
  bad.num_requests = -1;
  EXPECT_FALSE(EstimateInference(m, H100(), bad).has_value());
}

TEST(InferenceTest, MoeDecodeReadsOnlyRoutedExperts) {
  // Mixtral batch 1 reads 2 of 8 experts: far less than all 46.7B params.
  InferOptions o = Opts(hw::Precision::kBf16, 2);
  o.context = 1;
  auto e = EstimateInference(Preset("Mixtral-8x7B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  const double all_weights_ms =
      e->weights_bytes_per_gpu / (MemoryBytesPerSecond(H100()) * 0.8) * 1e3;
  EXPECT_LT(e->decode_ms_per_token, 0.5 * all_weights_ms);
}

// Expert parallelism (vLLM --enable-expert-parallel, EP = TP x DP with DP 1).
TEST(InferenceTest, ExpertParallelMixtralWeightsAndAllToAllByHand) {
  // Mixtral-8x7B (hidden 4096, expert FFN 14336, 32 heads, 8 KV heads x 128, 32 layers, vocab
  // 32000, 8 experts, top-2), BF16, EP 8 = TP 8 on H100:
  //   routed experts: 32 layers x 8 x 3 x 4096 x 14336 = 45,097,156,608 params; whole experts,
  //     one per layer per GPU: x 2 B / 8 = 11,274,289,152 B
  //   attention: 32 x (2 x 4096 x 4096 + 2 x 4096 x 1024) = 1,342,177,280 x 2 / 8 = 335,544,320
  //   embedding + head: 2 x 32000 x 4096 = 262,144,000 x 2 / 8 = 65,536,000
  //   routers (replicated): 32 x 4096 x 8 x 2 = 2,097,152; norms: (32 x 2 + 1) x 4096 x 2 = 532,480
  //   total 11,677,999,104 B per GPU.
  InferOptions o = Opts(hw::Precision::kBf16, 8);
  o.ep = 8;
  o.ep_all_to_all = true;  // DeepEP / pplx-style dispatch and combine
  o.batch = 64;
  o.context = 1024;
  auto e = EstimateInference(Preset("Mixtral-8x7B"), H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_EQ(e->ep, 8);
  EXPECT_NEAR(e->weights_bytes_per_gpu, 11'677'999'104.0, 1.0);
  // KV: attention stays TP-split: 8 KV heads / 8 = 1 per GPU: 2 x 1 x 128 x 2 x 32 = 16,384 B.
  EXPECT_DOUBLE_EQ(e->kv_bytes_per_token_per_gpu, 16384.0);
  // One dispatch of one layer in a decode step of 64 tokens: 64 x top-2 x 4096 x 2 B = 1,048,576.
  EXPECT_DOUBLE_EQ(e->ep_all_to_all_bytes_decode, 1'048'576.0);
  EXPECT_DOUBLE_EQ(EpAllToAllBytes(Preset("Mixtral-8x7B"), 64), 1'048'576.0);
  // Ring all-to-all over 8 ranks on the H100 node's NVLink: 7/8 x S / B + 7 alpha, a dispatch
  // and a combine in each of the 32 MoE layers.
  const LinkTier& nv = o.fabric.scale_up;
  const double one = 7.0 / 8.0 * 1'048'576.0 / (nv.bandwidth_gbs * 1e9 * nv.achievable_fraction) +
                     7.0 * nv.latency_us * 1e-6;
  EXPECT_NEAR(e->decode_ep_all_to_all_ms, 2 * 32 * one * 1e3, 1e-9);
  // Prefill of 64 x 1024 tokens: the same at 1024 x the bytes.
  const double one_prefill =
      7.0 / 8.0 * 1024 * 1'048'576.0 / (nv.bandwidth_gbs * 1e9 * nv.achievable_fraction) +
      7.0 * nv.latency_us * 1e-6;
  EXPECT_NEAR(e->prefill_ep_all_to_all_seconds, 2 * 32 * one_prefill, 1e-12);

  // Against TP 8 alone: the same weights per GPU (whole experts or slices, 1/8 of each either
  // way) and, at batch 64, the same reads (every expert is hit: 1 - (6/8)^64 = 1 - 1e-8, so the
  // busiest GPU reads its one expert, as TP reads 1/8 of all eight) and FLOPs; the combine
  // replaces each MoE layer's all-reduce, so the TP all-reduces halve (32 of 64 remain) and the
  // all-to-alls are added.
  InferOptions t = o;
  t.ep = 1;
  t.ep_all_to_all = false;
  auto tp = EstimateInference(Preset("Mixtral-8x7B"), H100(), t);
  ASSERT_TRUE(tp.has_value());
  EXPECT_NEAR(tp->weights_bytes_per_gpu, e->weights_bytes_per_gpu, 1.0);
  EXPECT_DOUBLE_EQ(tp->decode_ep_all_to_all_ms, 0.0);
  EXPECT_NEAR(e->decode_comm_ms, tp->decode_comm_ms / 2, 1e-12);
  EXPECT_NEAR(e->decode_ms_per_token,
              tp->decode_ms_per_token - tp->decode_comm_ms / 2 + e->decode_ep_all_to_all_ms, 1e-6);
  // The text output's lines say so.
  const auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::any_of(v.begin(), v.end(),
                       [&](const std::string& x) { return x.find(s) != std::string::npos; });
  };
  EXPECT_TRUE(has(e->modelled, "expert parallelism 8")) << e->modelled.size();
  EXPECT_TRUE(has(e->assumptions, "expert parallelism"));
}

// The busiest GPU's experts: E[max of ep draws of Binomial(E / ep, p)], worked by hand.
TEST(InferenceTest, ExpectedBusiestRankExpertsByHand) {
  // One expert per GPU: the max of 8 Bernoulli(0.25) is 1 - 0.75^8 = 0.8998870849609375.
  EXPECT_NEAR(ExpectedBusiestRankExperts(8, 8, 0.25), 1.0 - std::pow(0.75, 8), 1e-12);
  // One GPU: the mean, 8 x 0.25 = 2.
  EXPECT_NEAR(ExpectedBusiestRankExperts(8, 1, 0.25), 2.0, 1e-12);
  // Every expert hit: each GPU runs all of its 4.
  EXPECT_NEAR(ExpectedBusiestRankExperts(8, 2, 1.0), 4.0, 1e-12);
  // Two GPUs of 2 experts, p = 0.5: X ~ Binomial(2, 0.5), F(0) = 1/4, F(1) = 3/4;
  // E[max] = (1 - (1/4)^2) + (1 - (3/4)^2) = 15/16 + 7/16 = 1.375.
  EXPECT_NEAR(ExpectedBusiestRankExperts(4, 2, 0.5), 1.375, 1e-12);
}

// vLLM's DP-1 path (the default): communication as TP's; at batch 1 the busiest GPU reads a
// whole expert where TP reads a slice of two. Mixtral-8x7B BF16 on 8 H100, one MoE layer's expert
// 3 x 4096 x 14336 x 2 B = 352,321,536 B: EP's step reads 32 x 0.8998871 experts, TP's 32 x 2/8.
TEST(InferenceTest, ExpertParallelAtBatchOneReadsTheBusiestGpusExperts) {
  InferOptions o = Opts(hw::Precision::kBf16, 8);
  o.batch = 1;
  o.context = 1;
  auto tp = EstimateInference(Preset("Mixtral-8x7B"), H100(), o);
  o.ep = 8;
  auto ep = EstimateInference(Preset("Mixtral-8x7B"), H100(), o);
  ASSERT_TRUE(tp.has_value() && ep.has_value());
  const double expert = 3.0 * 4096 * 14336 * 2;
  const double extra_bytes = 32 * expert * ((1.0 - std::pow(0.75, 8)) - 2.0 / 8.0);
  const double bw = MemoryBytesPerSecond(H100()) * 0.8;
  EXPECT_NEAR(ep->decode_memory_ms - tp->decode_memory_ms, extra_bytes / bw * 1e3, 1e-9);
  EXPECT_DOUBLE_EQ(ep->decode_comm_ms, tp->decode_comm_ms);
  EXPECT_DOUBLE_EQ(ep->decode_ep_all_to_all_ms, 0.0);
  EXPECT_DOUBLE_EQ(ep->ep_all_to_all_bytes_decode, 0.0);
}

TEST(InferenceTest, ExpertParallelDeepSeekV3ExpertsPerGpu) {
  // DeepSeek-V3: 256 routed experts (top-8) of expert FFN 2048 in 58 of its 61 layers, hidden
  // 7168. At EP 8 each GPU holds 32 whole experts per MoE layer:
  //   58 x 32 x 3 x 7168 x 2048 = 81,738,596,352 params x 1 B (FP8) = 76.12 GiB per GPU,
  // beyond vLLM's 0.9 x 79.18 = 71.26 GiB budget on an H100 whatever the rest: it does not fit
  // (an answer, not an error).
  InferOptions o = Opts(hw::Precision::kFp8, 8);
  o.ep = 8;
  auto e = EstimateInference(Preset("DeepSeek-V3"), H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_GT(e->weights_bytes_per_gpu, 81'738'596'352.0);
  EXPECT_FALSE(e->fits);
  // One decode dispatch of one token: 1 x top-8 x 7168 x 2 B = 114,688 B.
  EXPECT_DOUBLE_EQ(EpAllToAllBytes(Preset("DeepSeek-V3"), 1), 114'688.0);
}

TEST(InferenceTest, ExpertParallelRefusalsNameTheFlag) {
  const auto error = [](const char* preset, int tp, int ep) {
    InferOptions o = Opts(hw::Precision::kBf16, tp);
    o.ep = ep;
    auto e = EstimateInference(Preset(preset), H100(), o);
    EXPECT_FALSE(e.has_value()) << preset << " ep " << ep;
    return e.has_value() ? std::string() : e.error().ToString();
  };
  // A dense model has no experts to spread.
  EXPECT_NE(error("Llama-3-8B", 8, 8).find("--ep 8"), std::string::npos);
  EXPECT_NE(error("Llama-3-8B", 8, 8).find("dense"), std::string::npos);
  // 3 does not divide Mixtral's 8 experts.
  EXPECT_NE(error("Mixtral-8x7B", 4, 3).find("--ep 3 does not divide the 8 routed experts"),
            std::string::npos);
  // EP must cover the replica's GPUs (EP = TP x DP, DP 1).
  EXPECT_NE(error("Mixtral-8x7B", 8, 4).find("--ep 4 must equal --tp 8"), std::string::npos);
  EXPECT_NE(error("Mixtral-8x7B", 8, 0).find("--ep must be >= 1"), std::string::npos);
}

TEST(QuantizationTest, CheckpointWeightsAsStored) {
  // GPT-OSS-120B as published: experts MXFP4 (36 x 128 x 24,891,840 x 0.53125 B), attention
  // 16-bit (36 x 26,550,144 x 2), embedding + head 2 x 201088x2880 x 2, routers 36 x
  // (128x2880+128) x 2, norms (36 x 5,760 + 2,880) x 2 -> 65,190,340,224 B.
  InferOptions o = Opts(hw::Precision::kBf16);
  o.checkpoint_weights = true;
  auto e = EstimateInference(Preset("GPT-OSS-120B"), H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_DOUBLE_EQ(e->weights_bytes_per_gpu, 65'190'340'224.0);
  EXPECT_EQ(e->weights_format, "mxfp4");
  EXPECT_EQ(e->compute_precision, "bf16");
  // Without checkpoint_weights the same model is priced at --precision (bf16): 2 B everywhere.
  o.checkpoint_weights = false;
  e = EstimateInference(Preset("GPT-OSS-120B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->weights_bytes_per_gpu, 116'829'156'672.0 * 2);
}

// A small Llama-shaped checkpoint written here: h 1024, 4 layers, 8 heads of 128 (MHA), MLP 4096,
// vocabulary 32,000, untied head, quantised by compressed-tensors, and the modules it ignores.
ModelSpec CompressedTensorsModel(const std::string& weights, const std::string& activations,
                                 const std::string& ignore) {
  const std::string text = R"({"model_type": "llama", "hidden_size": 1024,
    "intermediate_size": 4096, "num_attention_heads": 8, "num_key_value_heads": 8,
    "num_hidden_layers": 4, "vocab_size": 32000, "rms_norm_eps": 1e-5,
    "tie_word_embeddings": false,
    "quantization_config": {"quant_method": "compressed-tensors", "format": "float-quantized",
      "config_groups": {"group_0": {"targets": ["Linear"], "weights": )" +
                           weights + R"(, "input_activations": )" + activations +
                           R"(}}, "ignore": )" + ignore + "}}";
  auto m = ParseHfConfig(nlohmann::json::parse(text), "test config");
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().ToString());
  return m.value_or(ModelSpec{});
}

TEST(QuantizationTest, CompressedTensorsKeepsIgnoredModulesSixteenBit) {
  // Per layer: attention 4 x 1024 x 1024 = 4,194,304; MLP 3 x 1024 x 4096 = 12,582,912.
  // FP8 per channel (1 B), W8A8. Ignored: lm_head (16-bit anyway), layer 0's down_proj (the
  // planner keeps layer 0's whole MLP 16-bit: it prices parts), layer 3's attention.
  //   layers 1, 2: 2 x (4,194,304 + 12,582,912)            = 33,554,432
  //   layer 0:     4,194,304 + 12,582,912 x 2              = 29,360,128
  //   layer 3:     4,194,304 x 2 + 12,582,912              = 20,971,520
  //   embedding + head 2 x 32,000 x 1024 x 2               = 131,072,000
  //   norms (4 x 2 x 1024 + 1024) x 2                      = 18,432
  //   total                                                = 214,976,512 B
  const ModelSpec m = CompressedTensorsModel(
      R"({"num_bits": 8, "type": "float", "strategy": "channel", "symmetric": true})",
      R"({"num_bits": 8, "type": "float", "dynamic": true})",
      R"(["lm_head", "model.layers.0.mlp.down_proj", "re:model.layers.3.self_attn.*"])");
  EXPECT_EQ(m.quant.activations, QuantActivations::kFp8);
  InferOptions o = Opts(hw::Precision::kFp8);
  o.checkpoint_weights = true;
  auto e = EstimateInference(m, H100(), o);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_DOUBLE_EQ(e->weights_bytes_per_gpu, 214'976'512.0);
  EXPECT_EQ(e->compute_precision, "fp8");
  // Without ignores every linear layer is 1 B: 4 x 16,777,216 + 131,072,000 + 18,432.
  const ModelSpec all =
      CompressedTensorsModel(R"({"num_bits": 8, "type": "float", "strategy": "channel"})",
                             R"({"num_bits": 8, "type": "float"})", R"(["lm_head"])");
  e = EstimateInference(all, H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->weights_bytes_per_gpu, 67'108'864.0 + 131'072'000.0 + 18'432.0);
}

TEST(QuantizationTest, CompressedTensorsWeightOnlyGroups) {
  // W4A16, group 128, symmetric: 4/8 + 16/128/8 = 0.515625 B per weight; asymmetric adds a
  // 4-bit zero point per group: 0.5 + 20/128/8 = 0.51953125. No input_activations: 16-bit matmuls.
  const ModelSpec sym = CompressedTensorsModel(
      R"({"num_bits": 4, "type": "int", "strategy": "group", "group_size": 128})", "null",
      R"(["lm_head"])");
  EXPECT_DOUBLE_EQ(sym.quant.bytes_per_weight, 0.515625);
  EXPECT_EQ(sym.quant.activations, QuantActivations::kSixteenBit);
  const ModelSpec asym = CompressedTensorsModel(
      R"({"num_bits": 4, "type": "int", "strategy": "group", "group_size": 128,
          "symmetric": false})",
      "null", "[]");
  EXPECT_DOUBLE_EQ(asym.quant.bytes_per_weight, 0.51953125);
  // W8A8 INT8: the matmuls run at INT8.
  const ModelSpec int8 =
      CompressedTensorsModel(R"({"num_bits": 8, "type": "int", "strategy": "channel"})",
                             R"({"num_bits": 8, "type": "int", "dynamic": true})", "[]");
  EXPECT_EQ(int8.quant.activations, QuantActivations::kInt8);
  EXPECT_DOUBLE_EQ(int8.quant.bytes_per_weight, 1.0);
}

TEST(QuantizationTest, CompressedTensorsErrorsNameTheField) {
  auto bad = ParseHfConfig(nlohmann::json::parse(R"({"model_type": "llama", "hidden_size": 64,
    "intermediate_size": 128, "num_attention_heads": 1, "num_hidden_layers": 1,
    "vocab_size": 10, "quantization_config": {"quant_method": "compressed-tensors",
    "config_groups": {"g": {"weights": {"num_bits": 16}}}}})"),
                           "c.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("c.json: quantization_config.config_groups.g.weights: "
                                       "field 'num_bits'"),
            std::string::npos)
      << bad.error().message();
}

}  // namespace
}  // namespace gpupool::planner

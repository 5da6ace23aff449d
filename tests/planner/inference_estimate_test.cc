#include "planner/inference_estimate.h"

#include <gtest/gtest.h>

#include "planner/gpu_rates.h"
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
  o.overhead_gib = 2.0;
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  // 80 x 0.9 = 72 GiB budget - 14.9575 GiB weights - 2 GiB = 55.0425 GiB / 131,072 B.
  const double free_bytes = (72.0 - 16'060'522'496.0 / kGiB - 2.0) * kGiB;
  EXPECT_EQ(e->max_kv_tokens, static_cast<int64_t>(free_bytes / 131072.0));
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
  // Batch 1: reading 16.06 GB of weights at 3.35 TB/s x 0.8 = 5.99 ms dominates compute.
  InferOptions o = Opts(hw::Precision::kBf16);
  o.context = 1;
  auto e = EstimateInference(Preset("Llama-3-8B"), H100(), o);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->decode_bound, "memory");
  EXPECT_NEAR(e->decode_ms_per_token, 16'060'522'496.0 / (MemoryBytesPerSecond(H100()) * 0.8) * 1e3,
              0.01);
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

}  // namespace
}  // namespace gpupool::planner

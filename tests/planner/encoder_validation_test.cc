// Encoders and encoder-decoders against published measurements (issue 12): the "Encoders and
// encoder-decoders" section of docs/planner-validation.md is this table, and the test checks that
// the page prints exactly the rows the planner computes now, with the counts within 10 % and
// 25 %. Each case states the published figure, its source, the setup and its tolerance (time and
// throughput 15 %, as the other tables) and its role: one constant was chosen on these rows, the
// kernel floor (kMinKernelSeconds) on E5, which is therefore calibration; the compute efficiency
// (0.6) and HBM efficiency (0.8) of inference, the kernel efficiency table of training and the
// fused element-wise figure (40 h, training_estimate.h's) were set before them, so the other rows
// are out-of-sample and only they count. A case outside its tolerance carries its reason in
// `miss`; the test checks it still misses and stays within `miss_bound`.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "planner/encoder_estimate.h"
#include "planner/inference_estimate.h"
#include "planner/model_loader.h"
#include "planner/training_estimate.h"
#include "planner_fixtures.h"
#include "validation_rows.h"

namespace gpupool::planner {
namespace {

using testing::A100;
using testing::Preset;
using testing::V100;

using testing::Role;

// A case as written below (its role last: most are out-of-sample); Cases() turns them into the
// shared testing::Case of validation_rows.h.
struct EncoderCase {
  std::string name;
  std::string metric;
  double published;
  std::function<double()> planner;
  double tolerance;
  std::string source;
  std::string miss;
  double miss_bound = 0;
  Role role = Role::kOutOfSample;
};

// The page's counts: change them only together with docs/planner-validation.md.
constexpr size_t kCases = 14;
constexpr int kOutOfSample = 13;
constexpr int kWithin10 = 5;
constexpr int kWithin25 = 12;

// FasterTransformer's BERT encoder (docs/bert_guide.md, "BERT performance on A100 / V100 and
// TensorFlow", FP16, the FT column: padding kept, so batch x seq tokens): BERT-Base, one GPU.
double FtBertMs(const hw::GpuModel& g, int batch, int64_t seq) {
  InferOptions o;
  o.precision = hw::Precision::kFp16;
  o.batch = batch;
  o.context = seq;
  o.fabric = testing::WithNetwork(g);
  auto e = EstimateEncoderInference(Preset("BERT-Base"), g, o);
  EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().ToString());
  return e ? e->base.prefill_seconds * 1e3 : 0.0;
}

// NeMo-Megatron's T5 as its launcher configs (conf/training/t5/220m.yaml, 3b.yaml) define it:
// GeGLU MLP, kv_channels 64, the BERT vocabulary (30,522) padded to a multiple of 128 x TP,
// embeddings shared with the head. Written as a T5 config (its learned positions, LayerNorm and
// biases, under 0.5 % of the parameters, are left out).
ModelSpec NemoT5(int layers, int hidden, int heads, int ffn, int vocab) {
  const std::string text = R"({"model_type": "t5", "d_model": )" + std::to_string(hidden) +
                           R"(, "d_kv": 64, "d_ff": )" + std::to_string(ffn) +
                           R"(, "num_heads": )" + std::to_string(heads) + R"(, "num_layers": )" +
                           std::to_string(layers) + R"(, "vocab_size": )" + std::to_string(vocab) +
                           R"(, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": true})";
  auto m = ParseHfConfig(nlohmann::json::parse(text), "NeMo T5");
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().ToString());
  return m.value_or(ModelSpec{});
}

// NeMo 22.x T5 pre-training on DGX A100 80GB (8 per node, HDR InfiniBand): bf16, seq 512 / 128,
// distributed Adam (ZeRO-1), no activation checkpointing, fused softmax (no flash attention), no
// sequence parallelism. Tokens per second of the whole job (input tokens, as NeMo counts them).
double NemoTokensPerSecond(const ModelSpec& m, int gpus, int tp, int micro_batch,
                           int64_t global_batch) {
  TrainOptions o;
  o.gpus = gpus;
  o.layout.tp = tp;
  o.layout.zero = 1;
  o.layout.recompute = Recompute::kNone;
  o.layout.micro_batch = micro_batch;
  o.global_batch = global_batch;
  o.seq = 512;
  o.target_seq = 128;
  o.flash_attention = false;
  o.sequence_parallel = false;
  o.fabric = testing::WithNetwork(A100(), "IB-HDR");
  o.kernels = testing::KernelsFor(A100());
  auto e = EstimateTraining(m, A100(), o);
  EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().ToString());
  return e ? e->tokens_per_second_per_gpu * gpus : 0.0;
}

// NeMo's T5 inference table (FasterTransformer through Triton on A100 80GB): batch 1, 60 input
// and 20 output tokens; the latency of the request = the encoder pass + 20 decode steps.
double NemoT5LatencyMs(const ModelSpec& m, int tp) {
  InferOptions o;
  o.precision = hw::Precision::kBf16;
  o.tp = tp;
  o.batch = 1;
  o.prompt_tokens = 60;
  o.context = 20;
  o.fabric = testing::WithNetwork(A100());
  auto e = EstimateEncoderInference(m, A100(), o);
  EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().ToString());
  return e ? e->base.prefill_seconds * 1e3 + 20 * e->base.decode_ms_per_token : 0.0;
}

std::vector<testing::Case> Cases() {
  std::vector<EncoderCase> c;
  const std::string ft = "NVIDIA/FasterTransformer docs/bert_guide.md (FT, FP16)";
  const std::string small =
      "3,072 tokens: above the kernel floor, and GEMMs of so few rows (768 to 3072 wide) run "
      "below the efficiency of large ones";
  // --- BERT-Base forward latency, FasterTransformer (TensorFlow op), A100 80GB and V100 SXM2.
  struct Ft {
    const char* gpu;
    int batch;
    int64_t seq;
    double ms;
    const char* miss;
    double bound;
  };
  for (const Ft& f : {Ft{"A100", 32, 384, 14.67, "", 0}, Ft{"A100", 32, 128, 4.81, "", 0},
                      Ft{"A100", 8, 384, 4.39, "small", 0.20}, Ft{"A100", 8, 128, 1.77, "", 0},
                      Ft{"A100", 1, 128, 1.00, "", 0}, Ft{"V100", 32, 384, 40.20, "", 0},
                      Ft{"V100", 32, 128, 12.41, "", 0}, Ft{"V100", 8, 384, 10.60, "", 0}}) {
    const hw::GpuModel g = std::string(f.gpu) == "A100" ? A100() : V100();
    c.push_back({"BERT-Base FT FP16, " + std::string(f.gpu) + ", batch " + std::to_string(f.batch) +
                     " x " + std::to_string(f.seq),
                 "forward ms", f.ms, [g, f] { return FtBertMs(g, f.batch, f.seq); }, 0.15, ft,
                 std::string(f.miss).empty() ? "" : small, f.bound,
                 f.batch == 1 ? Role::kCalibration : Role::kOutOfSample});
  }
  // --- T5 pre-training throughput, NeMo-Megatron-Launcher README (7.2 T5 Results).
  const std::string nemo = "NVIDIA/NeMo-Megatron-Launcher README, 7.2 T5 results (22.08)";
  c.push_back(
      {"NeMo T5 220M, 32 A100, TP1, GBS 2048", "tokens/s", 3'273'728,
       [] { return NemoTokensPerSecond(NemoT5(12, 768, 12, 2048, 30592), 32, 1, 64, 2048); }, 0.15,
       nemo,
       "the planner is 25 % fast on a small model: its GEMMs are 768 wide and the kernel "
       "table's Ampere efficiency (0.72) was chosen on Megatron GPT of h >= 2304, the "
       "issue-12 pattern of one efficiency overstating small models",
       0.35});
  c.push_back(
      {"NeMo T5 3B, 8 A100, TP2, GBS 1920", "tokens/s", 110'769,
       [] { return NemoTokensPerSecond(NemoT5(24, 2048, 32, 5120, 30720), 8, 2, 24, 1920); }, 0.15,
       nemo + ", scaling table", "", 0});
  c.push_back(
      {"NeMo T5 3B, 160 A100, TP2, GBS 1920", "tokens/s", 1'626'353,
       [] { return NemoTokensPerSecond(NemoT5(24, 2048, 32, 5120, 30720), 160, 2, 24, 1920); },
       0.15, nemo + ", scaling table", "", 0});
  c.push_back(
      {"NeMo T5 3B, 160 A100, TP2, GBS 2160", "tokens/s", 1'395'131,
       [] { return NemoTokensPerSecond(NemoT5(24, 2048, 32, 5120, 30720), 160, 2, 27, 2160); },
       0.15, nemo + ", training table", "", 0});
  // --- T5 serving latency, NeMo-Megatron-Launcher README (7.2.3 inference performance).
  const std::string launch =
      "batch 1 decoding is kernel- and latency-bound (24 layers x 13 kernels at the floor and 72 "
      "small TP all-reduces a step); the planner's all-reduce of a few KiB costs its alpha "
      "(5 us a step), and sampling, the beam bookkeeping and Triton's request handling are not "
      "priced";
  c.push_back({"NeMo T5 3B, batch 1, 60 -> 20 tokens, 2 A100 (TP2)", "latency ms", 94,
               [] { return NemoT5LatencyMs(NemoT5(24, 2048, 32, 5120, 30720), 2); }, 0.15,
               nemo + ", inference table", launch, 0.25});
  c.push_back({"NeMo T5 11B, batch 1, 60 -> 20 tokens, 4 A100 (TP4)", "latency ms", 123,
               [] { return NemoT5LatencyMs(NemoT5(24, 4096, 64, 10240, 30720), 4); }, 0.15,
               nemo + ", inference table", launch, 0.25});
  std::vector<testing::Case> out;
  for (EncoderCase& k : c) {
    out.push_back({std::move(k.name), std::move(k.metric), k.published, std::move(k.planner),
                   k.tolerance, k.role, std::move(k.source), std::move(k.miss), k.miss_bound});
  }
  return out;
}

TEST(EncoderValidationTest, EncodersAndEncoderDecodersAgainstPublishedMeasurements) {
  const std::vector<testing::Case> cases = Cases();
  ASSERT_EQ(cases.size(), kCases);
  const std::string page = testing::ReadPage();
  ASSERT_FALSE(page.empty());
  const testing::RowCounts n = testing::CheckRows(cases, "E", page);
  std::printf("encoders out-of-sample: %d of %d within 10 %%, %d within 25 %%\n", n.within10,
              n.out_of_sample, n.within25);
  EXPECT_EQ(n.out_of_sample, kOutOfSample);
  EXPECT_EQ(n.within10, kWithin10);
  EXPECT_EQ(n.within25, kWithin25);
  const std::string summary = "**" + std::to_string(n.within10) + " of " +
                              std::to_string(n.out_of_sample) +
                              " out-of-sample encoder and encoder-decoder cases are within 10 %, " +
                              std::to_string(n.within25) + " within 25 %**";
  EXPECT_NE(page.find(summary), std::string::npos) << "the page must say: " << summary;
}

}  // namespace
}  // namespace gpupool::planner

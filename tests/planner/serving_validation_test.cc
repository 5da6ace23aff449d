// Serving memory and collectives against published measurements (issue 12): the "Serving and
// collectives" section of docs/planner-validation.md is this table, and the test checks that the
// page prints exactly the rows the planner computes now, with the counts within 10 % and 25 %.
// Each case states the published figure, its source, the setup, its tolerance (memory 10 %,
// bandwidth and time 15 %, as the training table) and its role:
// - calibration: a constant was chosen on it (vLLM's non-torch memory, its TP-2 communication
//   buffers and the sampler's bytes per logit on the llm-d logs named below; the catalog's
//   NVLink achievable fraction 0.8 on measured NVLink ring bandwidths). It validates nothing.
// - out-of-sample: no constant was chosen on it; only these count as validation.
// A case outside its tolerance carries its reason in `miss`; the test checks it still misses and
// stays within `miss_bound`.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "planner/comm_benchmark.h"
#include "planner/fabric.h"
#include "planner/inference_estimate.h"
#include "planner/model_loader.h"
#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

using testing::H100;
using testing::Preset;
using testing::WithNetwork;

enum class Role { kCalibration, kOutOfSample };

struct Case {
  std::string name;
  std::string metric;
  double published;
  std::function<double()> planner;
  double tolerance;
  Role role;
  std::string source;
  std::string miss;
  double miss_bound = 0;
};

// The page's counts: change them only together with docs/planner-validation.md.
constexpr size_t kCases = 14;
constexpr int kOutOfSampleCases = 10;
constexpr int kOutOfSampleWithin10 = 5;
constexpr int kOutOfSampleWithin25 = 7;

LinkTier Link(const std::string& name) {
  auto ic = testing::Catalog().FindInterconnect(name);
  EXPECT_TRUE(ic.has_value()) << name;
  return ic ? TierOf(**ic) : LinkTier{};
}

double BusBw(Collective c, double bytes, int n, const std::string& link) {
  return TimeCollective(c, bytes, n, Link(link)).busbw_gbs;
}

// A model from a config.json written here (the published shape of the checkpoint).
ModelSpec Config(const std::string& text) {
  auto m = ParseHfConfig(nlohmann::json::parse(text), "test config");
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().ToString());
  return m.value_or(ModelSpec{});
}

// Qwen3-0.6B and Qwen3-32B as their config.json files publish them (Qwen/Qwen3-0.6B, -32B).
ModelSpec Qwen3(int layers, int hidden, int heads, int ffn, bool tied) {
  return Config(R"({"model_type": "qwen3", "hidden_size": )" + std::to_string(hidden) +
                R"(, "intermediate_size": )" + std::to_string(ffn) +
                R"(, "num_attention_heads": )" + std::to_string(heads) +
                R"(, "num_key_value_heads": 8, "head_dim": 128, "num_hidden_layers": )" +
                std::to_string(layers) +
                R"(, "vocab_size": 151936, "rms_norm_eps": 1e-06, "attention_bias": false,
                   "tie_word_embeddings": )" +
                (tied ? "true" : "false") + "}");
}

// vLLM V1 on one H100 80GB as the llm-d logs run it: gpu_memory_utilization 0.9, vLLM's
// defaults for `vllm serve` on a GPU of 70 GiB and more (max_num_batched_tokens 8192,
// max_num_seqs 1024), max-model-len 16000.
InferEstimate Vllm(const ModelSpec& m, int tp, hw::Precision p, bool checkpoint = false) {
  InferOptions o;
  o.engine = ServingEngine::kVllm;
  o.tp = tp;
  o.precision = p;
  o.checkpoint_weights = checkpoint;
  o.context = 16000;
  o.gpu_memory_utilization = 0.9;
  o.max_batched_tokens = 8192;
  o.max_num_seqs = 1024;
  o.fabric = WithNetwork(H100());
  auto e = EstimateInference(m, H100(), o);
  EXPECT_TRUE(e.has_value()) << m.name << ": " << (e ? "" : e.error().ToString());
  return e.value_or(InferEstimate{});
}

std::vector<Case> Cases() {
  std::vector<Case> c;
  const double gib = 1024.0 * 1024 * 1024;
  // --- Collectives (nccl-tests bus bandwidth, out-of-place column, largest size).
  // NVIDIA/nccl issue 1048: 8 x A100 SXM, `all_reduce_perf -b 8 -e 4G -f 2 -g 8`: 232.54 GB/s.
  // Calibration: the catalog's NVLink 0.8 came from measured NVLink ring bandwidths of this kind.
  c.push_back({"8 x A100 NVLink3 all-reduce 4 GiB", "busbw GB/s", 232.54,
               [gib] { return BusBw(Collective::kAllReduce, 4 * gib, 8, "NVLink3"); }, 0.15,
               Role::kCalibration, "NVIDIA/nccl issue 1048 (single-node all_reduce_perf)", "", 0});
  // NVIDIA/nccl-tests issue 212, NCCL maintainer: on 8 H100 "NCCL can get an effective NVLink
  // bandwidth of 370GB/s, which you can observe as BusBw when running non-allreduce operations".
  c.push_back({"8 x H100 NVLink4 all-gather 8 GiB", "busbw GB/s", 370,
               [gib] { return BusBw(Collective::kAllGather, 8 * gib, 8, "NVLink4"); }, 0.15,
               Role::kCalibration, "NVIDIA/nccl-tests issue 212 (maintainer's figure)", "", 0});
  // Same thread: all-reduce with NVLink SHARP (the default on H100) peaks at "~480GB/s".
  c.push_back({"8 x H100 NVLink4 all-reduce 8 GiB (NVLS)", "busbw GB/s", 480,
               [gib] { return BusBw(Collective::kAllReduce, 8 * gib, 8, "NVLink4"); }, 0.15,
               Role::kOutOfSample, "NVIDIA/nccl-tests issue 212 (maintainer's figure)",
               "NVLink SHARP reduces in the switch, so an all-reduce moves about half the bytes "
               "per GPU of a ring; the model has rings and trees only",
               0.30});
  // NVIDIA/nccl-tests issue 290, NCCL maintainer: 2 nodes of 8 H100, NDR 400 Gb/s, ring:
  // "you should see 46-48GB/s per NIC" (the middle, 47, is compared).
  c.push_back({"2 x 8 H100 IB-NDR ring all-reduce 8 GiB", "busbw GB/s", 47,
               [gib] { return BusBw(Collective::kAllReduce, 8 * gib, 16, "IB-NDR"); }, 0.15,
               Role::kOutOfSample, "NVIDIA/nccl-tests issue 290 (maintainer's figure)", "", 0});
  // NVIDIA/dgx-spark-playbooks pull request 103: 2 DGX Spark (GB10), one 200 Gb/s RoCE link,
  // all_reduce_perf 8 KiB: 35.15 us out of place (latency-bound).
  c.push_back({"2 x GB10 RoCE-200G all-reduce 8 KiB", "time us", 35.15,
               [] {
                 return TimeCollective(Collective::kAllReduce, 8192, 2, Link("RoCE-200G")).seconds *
                        1e6;
               },
               0.15, Role::kOutOfSample, "NVIDIA/dgx-spark-playbooks pull request 103", "", 0});

  // --- vLLM start-up: "Available KV cache memory" (GiB) on H100 80GB, vLLM V1, from
  // llm-d/llm-d-benchmark config_explorer/empirical-vllm-memory-results.md (util 0.9,
  // max-model-len 16000, prefix caching on). Calibration rows: the sampler bytes per logit
  // (Qwen3-0.6B) and the TP-2 communication buffers (Llama-3.3-70B FP8); the 0.13 GiB non-torch
  // figure is in every TP-1 row, so those rows share it (it moves each by under 0.3 %).
  const std::string llmd = "llm-d/llm-d-benchmark empirical-vllm-memory-results.md";
  c.push_back({"vLLM Qwen3-0.6B, 1 H100", "KV GiB", 64.45,
               [] {
                 return Vllm(Qwen3(28, 1024, 16, 3072, true), 1, hw::Precision::kBf16)
                     .kv_budget_gib_per_gpu;
               },
               0.10, Role::kCalibration, llmd, "", 0});
  c.push_back(
      {"vLLM Llama-3.3-70B FP8, 2 H100 (TP 2)", "KV GiB", 32.0,
       [] { return Vllm(Preset("Llama-3-70B"), 2, hw::Precision::kFp8).kv_budget_gib_per_gpu; },
       0.10, Role::kCalibration, llmd, "", 0});
  c.push_back(
      {"vLLM Llama-3.1-8B, 1 H100", "KV GiB", 51.38,
       [] { return Vllm(Preset("Llama-3-8B"), 1, hw::Precision::kBf16).kv_budget_gib_per_gpu; },
       0.10, Role::kOutOfSample, llmd, "", 0});
  c.push_back(
      {"vLLM gpt-oss-20b, 1 H100", "KV GiB", 50.28,
       [] {
         return Vllm(Preset("GPT-OSS-20B"), 1, hw::Precision::kBf16, true).kv_budget_gib_per_gpu;
       },
       0.10, Role::kOutOfSample, llmd, "", 0});
  c.push_back(
      {"vLLM gpt-oss-120b, 1 H100", "KV GiB", 3.33,
       [] {
         return Vllm(Preset("GPT-OSS-120B"), 1, hw::Precision::kBf16, true).kv_budget_gib_per_gpu;
       },
       0.10, Role::kOutOfSample, llmd, "", 0});
  c.push_back({"vLLM Qwen3-32B, 1 H100", "KV GiB", 4.45,
               [] {
                 return Vllm(Qwen3(64, 5120, 64, 25600, false), 1, hw::Precision::kBf16)
                     .kv_budget_gib_per_gpu;
               },
               0.10, Role::kOutOfSample, llmd, "", 0});
  // vllm-project/vllm issue 21348: Qwen3-235B-A22B-FP8 (block 128x128) on 4 H100, TP 4, vLLM's
  // defaults: "Available KV cache memory: 8.11 GiB".
  c.push_back(
      {"vLLM Qwen3-235B-A22B FP8, 4 H100 (TP 4)", "KV GiB", 8.11,
       [] { return Vllm(Preset("Qwen3-235B-A22B"), 4, hw::Precision::kFp8).kv_budget_gib_per_gpu; },
       0.10, Role::kOutOfSample, "vllm-project/vllm issue 21348 (start-up log)",
       "the planner leaves 1.9 GiB more for the KV cache; not explained: the run used the "
       "LMCache KV connector, whose GPU buffers the profile would count, and it is the "
       "only TP-4 log, so the TP-2 communication-buffer figure is untested at TP 4",
       0.30});

  // --- Decode latency. vllm-project/vllm issue 6913 (July 2024, vLLM V0): Llama-3-70B-Instruct
  // FP8 (dynamic scales) on 4 H100, 128 input tokens: time per output token 19 ms at batch 1,
  // 25 ms at batch 32 (the author's own table; the batch-1024 row, 19 ms, is left out as
  // inconsistent with the others).
  const std::string rfc = "vllm-project/vllm issue 6913 (TPOT table)";
  for (auto [batch, ms] : {std::pair{1, 19.0}, std::pair{32, 25.0}}) {
    c.push_back({"vLLM Llama-3-70B FP8, 4 H100, decode batch " + std::to_string(batch), "TPOT ms",
                 ms,
                 [batch] {
                   InferOptions o;
                   o.tp = 4;
                   o.precision = hw::Precision::kFp8;
                   o.batch = batch;
                   o.context = 256;
                   o.fabric = WithNetwork(H100());
                   auto e = EstimateInference(Preset("Llama-3-70B"), H100(), o);
                   EXPECT_TRUE(e.has_value());
                   return e ? e->decode_ms_per_token : 0.0;
                 },
                 0.15, Role::kOutOfSample, rfc,
                 "the step is the weights' read at 80 % of HBM (6.8 ms) plus 160 small TP "
                 "all-reduces (3.2 ms); the engine's per-step host work (4-13 ms of GPU idle per "
                 "step in vLLM V0, issue 6854) and FP8 GEMV kernels below 80 % of HBM are not in "
                 "the default (--step-overhead-ms)",
                 0.65});
  }
  return c;
}

std::string Significant4(double v) {
  char buf[64];
  const int magnitude = v == 0 ? 0 : static_cast<int>(std::floor(std::log10(std::abs(v))));
  const int decimals = std::max(0, 3 - magnitude);
  const double step = std::pow(10.0, magnitude - 3);
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::round(v / step) * step);
  return buf;
}

std::string Row(int number, const Case& k, double value, bool within) {
  char published[64], ratio[32];
  std::snprintf(published, sizeof published, "%.10g", k.published);
  std::snprintf(ratio, sizeof ratio, "%.3f", value / k.published);
  return "| S" + std::to_string(number) + " | " + k.name + " | " + k.metric + " | " + published +
         " | " + Significant4(value) + " | " + ratio + " | " + (within ? "within" : "**miss**") +
         " | " + (k.role == Role::kCalibration ? "calibration" : "out-of-sample") + " |";
}

std::string ReadPage() {
  std::ifstream in(testing::DataDir() / ".." / "docs" / "planner-validation.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ServingValidationTest, ServingAndCollectivesAgainstPublishedMeasurements) {
  const std::vector<Case> cases = Cases();
  ASSERT_EQ(cases.size(), kCases);
  const std::string page = ReadPage();
  ASSERT_FALSE(page.empty());
  int out = 0, within10 = 0, within25 = 0;
  std::printf("| # | case | metric | published | planner | ratio | verdict | set |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    const double v = k.planner();
    const double ratio = v / k.published;
    const bool ok = std::abs(ratio - 1.0) <= k.tolerance;
    if (k.role == Role::kOutOfSample) {
      ++out;
      within10 += std::abs(ratio - 1.0) <= 0.10 ? 1 : 0;
      within25 += std::abs(ratio - 1.0) <= 0.25 ? 1 : 0;
    }
    const std::string row = Row(int(i) + 1, k, v, ok);
    std::printf("%s\n", row.c_str());
    EXPECT_NE(page.find(row + "\n"), std::string::npos) << "docs/planner-validation.md lacks\n"
                                                        << row;
    EXPECT_FALSE(k.source.empty()) << k.name;
    if (k.miss.empty()) {
      EXPECT_NEAR(ratio, 1.0, k.tolerance) << k.name << " (" << k.source << ")";
    } else {
      EXPECT_GT(std::abs(ratio - 1.0), k.tolerance) << k.name << " now within tolerance";
      EXPECT_LE(std::abs(ratio - 1.0), k.miss_bound) << k.name << ": " << k.miss;
    }
  }
  std::printf("serving out-of-sample: %d of %d within 10 %%, %d within 25 %%\n", within10, out,
              within25);
  EXPECT_EQ(out, kOutOfSampleCases);
  EXPECT_EQ(within10, kOutOfSampleWithin10);
  EXPECT_EQ(within25, kOutOfSampleWithin25);
  const std::string summary = "**" + std::to_string(within10) + " of " + std::to_string(out) +
                              " out-of-sample serving and collective cases are within 10 %, " +
                              std::to_string(within25) + " within 25 %**";
  EXPECT_NE(page.find(summary), std::string::npos) << "the page must say: " << summary;
}

}  // namespace
}  // namespace gpupool::planner

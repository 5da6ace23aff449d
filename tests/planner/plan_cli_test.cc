// `gpupool plan` end to end: JSON members promised in docs/planner.md, the job request shape, and
// exit code 2 with a reason for bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "testing/run_program.h"

namespace {

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

// `args` is split at spaces (the arguments here hold none); stderr follows stdout in `out`.
CliRun Gpupool(const std::string& args) {
  const gpupool::testing::ProgramRun run =
      gpupool::testing::RunGpupool(gpupool::testing::Words(args));
  return {run.exit_code, run.out + run.err};
}

nlohmann::json Json(const CliRun& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

TEST(PlanCliTest, InferJsonHasTheDocumentedMembers) {
  const CliRun r = Gpupool("plan infer --model llama-3-8b --gpu h100 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  for (const char* k :
       {"weights_gib_per_gpu", "kv_bytes_per_token_per_gpu", "total_gib_per_gpu", "fits",
        "max_kv_tokens", "decode_ms_per_token", "prefill_seconds", "overhead_parts_gib", "notes"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  // 8,030,261,248 x 2 bytes / 2^30 = 14.957 GiB; 131,072 B/token (GQA).
  EXPECT_NEAR(j["weights_gib_per_gpu"].get<double>(), 14.957, 0.001);
  EXPECT_EQ(j["kv_bytes_per_token_per_gpu"].get<double>(), 131072.0);
}

TEST(PlanCliTest, InferTakesVllmsFlagNames) {
  // A `vllm serve` command's flags: --tensor-parallel-size, --max-model-len, --kv-cache-dtype
  // (fp8_e4m3 is FP8), --max-num-batched-tokens and --enforce-eager. Llama-3-8B at TP 2 with an
  // FP8 cache: 32 layers x 2 x (8 / 2) KV heads x 128 x 1 B = 32,768 B per token per GPU.
  const CliRun r = Gpupool(
      "plan infer --model llama-3-8b --gpu h100 --tensor-parallel-size 2 --max-model-len 16000 "
      "--kv-cache-dtype fp8_e4m3 --max-num-batched-tokens 4096 --enforce-eager --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  EXPECT_EQ(j["kv_bytes_per_token_per_gpu"].get<double>(), 32768.0);
  EXPECT_EQ(j["context"].get<int>(), 16000);
  EXPECT_EQ(j["max_batched_tokens"].get<int>(), 4096);
  EXPECT_FALSE(j["step_costs"]["cuda_graphs"].get<bool>());
  // "auto" is the model's own 16-bit cache: 131,072 B at TP 1.
  const CliRun a = Gpupool("plan infer --model llama-3-8b --gpu h100 --kv-cache-dtype auto --json");
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(Json(a)["kv_bytes_per_token_per_gpu"].get<double>(), 131072.0);
  // A spelling of neither names the flag.
  const CliRun bad = Gpupool("plan infer --model llama-3-8b --gpu h100 --kv-cache-dtype fp7");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("--kv-precision: unknown precision 'fp7'"), std::string::npos) << bad.out;
}

TEST(PlanCliTest, InferTrtllmPadsToCudaGraphsAndTakesTheFlag) {
  // Llama-3-8B BF16 on one H100 at batch 300 and 1000 in / 1000 out under trtllm: trtllm-bench's
  // max_batch_size is 256 (worked in inference_estimate_test.cc), so 300 sequences have no
  // graph; at --max-num-seqs 512 they run as a graph of 384 (the next captured size).
  const std::string base =
      "plan infer --model llama-3-8b --gpu h100 --engine trtllm --batch 300 --prompt 1000 "
      "--context 2000 --output-len 1000 --json";
  const CliRun r = Gpupool(base);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  EXPECT_TRUE(j["trtllm_bench_settings"].get<bool>());
  EXPECT_EQ(j["max_num_seqs"].get<int>(), 256);
  EXPECT_TRUE(j["step_costs"]["cuda_graph_padding"].get<bool>());
  EXPECT_EQ(j["step_costs"]["decode_graph_batch"].get<int>(), 0);
  const CliRun wide = Gpupool(base + " --max-num-seqs 512");
  ASSERT_EQ(wide.code, 0) << wide.out;
  EXPECT_EQ(Json(wide)["step_costs"]["decode_graph_batch"].get<int>(), 384);
  const CliRun off = Gpupool(base + " --max-num-seqs 512 --cuda-graph-padding off");
  ASSERT_EQ(off.code, 0) << off.out;
  EXPECT_FALSE(Json(off)["step_costs"]["cuda_graph_padding"].get<bool>());
  EXPECT_LT(Json(off)["decode_parts_ms"]["gemms"].get<double>(),
            Json(wide)["decode_parts_ms"]["gemms"].get<double>());
  // --num-requests: waves of the max-throughput batch; a negative count names the flag.
  const CliRun n = Gpupool(base + " --num-requests 1000");
  ASSERT_EQ(n.code, 0) << n.out;
  const auto waves = Json(n)["max_throughput"];
  EXPECT_EQ(waves["num_requests"].get<int>(), 1000);
  const int batch = waves["batch"].get<int>();
  EXPECT_EQ(waves["waves"].get<int>(), (1000 + batch - 1) / batch);
  const CliRun negative = Gpupool(base + " --num-requests -5");
  EXPECT_NE(negative.code, 0);
  EXPECT_NE(negative.out.find("--num-requests must be >= 0"), std::string::npos) << negative.out;
  const CliRun bad = Gpupool(base + " --cuda-graph-padding maybe");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("--cuda-graph-padding must be on or off, not 'maybe'"), std::string::npos)
      << bad.out;
}

TEST(PlanCliTest, InferExpertParallel) {
  // Mixtral-8x7B BF16 at EP 8 = TP 8: one whole expert of each layer per GPU; 11,677,999,104 B
  // per GPU (worked in inference_estimate_test.cc) = 10.876 GiB. Batch 64: one dispatch of one
  // layer is 64 x top-2 x 4096 x 2 B = 1,048,576 B per rank.
  const CliRun r = Gpupool(
      "plan infer --model mixtral-8x7b --gpu h100 --tp 8 --ep 8 --ep-all-to-all --batch 64 "
      "--context 1024 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  EXPECT_EQ(j["ep"].get<int>(), 8);
  EXPECT_NEAR(j["weights_gib_per_gpu"].get<double>(), 10.876, 0.001);
  EXPECT_EQ(j["ep_all_to_all_bytes_decode"].get<double>(), 1048576.0);
  EXPECT_GT(j["decode_parts_ms"]["ep_all_to_all"].get<double>(), 0.0);
  EXPECT_GT(j["prefill_parts_seconds"]["ep_all_to_all"].get<double>(), 0.0);
  // Without --ep the member is there and 0.
  const CliRun tp = Gpupool("plan infer --model mixtral-8x7b --gpu h100 --tp 8 --json");
  ASSERT_EQ(tp.code, 0) << tp.out;
  EXPECT_EQ(Json(tp)["decode_parts_ms"]["ep_all_to_all"].get<double>(), 0.0);
  // --ep without --ep-all-to-all: vLLM's DP-1 path, TP's communication and no all-to-all.
  const CliRun dp1 =
      Gpupool("plan infer --model mixtral-8x7b --gpu h100 --tp 8 --ep 8 --batch 64 --json");
  ASSERT_EQ(dp1.code, 0) << dp1.out;
  EXPECT_EQ(Json(dp1)["ep_all_to_all"].get<bool>(), false);
  EXPECT_EQ(Json(dp1)["decode_parts_ms"]["ep_all_to_all"].get<double>(), 0.0);
  EXPECT_EQ(j["ep_all_to_all"].get<bool>(), true);
  // The text output names the EP degree and what it models.
  const CliRun text = Gpupool("plan infer --model mixtral-8x7b --gpu h100 --tp 8 --ep 8");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("expert parallel    EP 8 (1 routed experts per GPU per MoE layer)"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("modelled: expert parallelism 8"), std::string::npos) << text.out;
  // Refusals name the flag: a dense model, an EP that does not divide the experts, an EP that is
  // not the replica's GPUs.
  const CliRun dense = Gpupool("plan infer --model llama-3-8b --gpu h100 --tp 8 --ep 8");
  EXPECT_EQ(dense.code, 2) << dense.out;
  EXPECT_NE(dense.out.find("--ep 8"), std::string::npos) << dense.out;
  const CliRun three = Gpupool("plan infer --model mixtral-8x7b --gpu h100 --tp 4 --ep 3");
  EXPECT_EQ(three.code, 2) << three.out;
  EXPECT_NE(three.out.find("--ep 3 does not divide"), std::string::npos) << three.out;
  const CliRun half = Gpupool("plan infer --model mixtral-8x7b --gpu h100 --tp 8 --ep 4");
  EXPECT_EQ(half.code, 2) << half.out;
  EXPECT_NE(half.out.find("--ep 4 must equal --tp 8"), std::string::npos) << half.out;
}

TEST(PlanCliTest, TrainJsonHasTheDocumentedMembers) {
  const CliRun r = Gpupool(
      "plan train --model llama-3-70b --gpu h100 --gpus 64 --tp 8 --pp 2 --tokens 1e11 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  for (const char* k : {"weights", "gradients", "optimizer", "activations", "buffers", "total"}) {
    EXPECT_TRUE(j["memory_gib_per_gpu"].contains(k)) << k;
  }
  for (const char* k : {"step_seconds", "mfu", "tokens_per_second_per_gpu", "gpu_hours", "days",
                        "step_parts_seconds", "layout"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["layout"]["dp"].get<int>(), 4);
}

TEST(PlanCliTest, EmitRequestIsTheSchedulerShape) {
  const CliRun r = Gpupool("plan infer --model llama-3-70b --gpu h100 --tp 4 --emit-request");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  EXPECT_EQ(j["num_gpu"].get<int>(), 4);
  EXPECT_EQ(j["gpu_milli"].get<int>(), 1000);
  ASSERT_TRUE(j["gpu_models"].is_array());
  EXPECT_EQ(j["gpu_models"][0].get<std::string>(), "H100-SXM");
  EXPECT_TRUE(j["gpu_memory_mib"].is_number_integer());
  EXPECT_GT(j["gpu_memory_mib"].get<int64_t>(), 32 * 1024);  // > the 32.9 GiB of weights
  EXPECT_EQ(j.size(), 4u);
}

TEST(PlanCliTest, NoRequestForAPlanThatDoesNotFit) {
  // 70B bf16 on one 80 GB GPU: 131 GiB of weights.
  const CliRun r = Gpupool("plan infer --model llama-3-70b --gpu h100 --emit-request");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("does not fit"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("num_gpu"), std::string::npos) << r.out;
}

TEST(PlanCliTest, SearchRanksAndExplains) {
  const CliRun r = Gpupool("plan search --model llama-3-70b --gpu h100 --gpus 64 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  EXPECT_FALSE(j["ranked"].empty());
  EXPECT_FALSE(j["discarded"].empty());
  EXPECT_FALSE(j["discarded"][0]["reason"].get<std::string>().empty());
  EXPECT_FALSE(j["interconnect"].get<std::string>().empty());
}

TEST(PlanCliTest, ConfigFolderAccepted) {
  const std::string dir = std::string(GPUPOOL_SOURCE_DATA_DIR) + "/models/samples/gpt2";
  const CliRun r = Gpupool("plan infer --model " + dir + " --gpu a100 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(Json(r)["model"]["params_total"].get<int64_t>(), 124'439'808);
}

struct Bad {
  std::string args;
  std::string says;
};

TEST(PlanCliTest, BadInputExitsTwoWithTheReason) {
  const std::filesystem::path cfg =
      std::filesystem::temp_directory_path() / "gpupool_plan_cli_test_config.json";
  {
    std::ofstream f(cfg);
    f << R"({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32})";
  }
  for (const Bad& b : {
           Bad{"plan infer --model llama-3-8b --gpu z100", "unknown GPU"},
           Bad{"plan infer --model llama-9 --gpu h100", "unknown model"},
           Bad{"plan infer --model " + cfg.string() + " --gpu h100", "num_attention_heads"},
           Bad{"plan infer --model llama-3-8b --gpu a100 --precision fp8", "FP8"},
           Bad{"plan infer --model llama-3-8b --gpu h100 --precision fp7", "precision"},
           Bad{"plan train --model llama-3-8b --gpu h100 --gpus 12 --tp 8", "does not divide"},
           Bad{"plan train --model llama-3-8b --gpu h100 --gpus 24 --tp 8 --pp 3", "layers"},
           Bad{"plan train --model llama-3-8b --gpu h100 --gpus 8 --kv-heads 3", "kv heads"},
           Bad{"plan train --model llama-3-8b --gpu h100 --gpus 8 --recompute some", "recompute"},
           // Issue 12: the new options name themselves; an encoder-decoder has no pipeline.
           Bad{"plan train --model llama-3-8b --gpu h100 --gpus 8 --finetune dora", "finetune"},
           Bad{"plan train --model llama-3-8b --gpu h100 --gpus 8 --offload disk", "offload"},
           Bad{"plan train --model llama-3-8b --gpu h100 --gpus 8 --cross-entropy x", "entropy"},
           Bad{"plan train --model t5-base --gpu h100 --gpus 8 --pp 2", "pipeline"},
       }) {
    const CliRun r = Gpupool(b.args);
    EXPECT_EQ(r.code, 2) << b.args << "\n" << r.out;
    EXPECT_NE(r.out.find(b.says), std::string::npos) << b.args << "\n" << r.out;
  }
  std::filesystem::remove(cfg);
}

// Every preset added for the families of issue 14 runs through infer, train and the serve search
// on H100 and H20. tp divides the heads and is compatible with the KV heads; Maverick is searched
// in FP8 (Meta publishes an FP8 checkpoint): in bf16 it needs 763 GiB, more than 8 GPUs of
// either kind hold, and its 40 heads allow no TP degree above 8.
struct PresetRun {
  const char* preset;
  int tp;
  const char* serve_precision;
};

TEST(PlanCliTest, NewFamiliesPlanInferTrainAndServe) {
  for (const PresetRun& p :
       {PresetRun{"gpt-oss-20b", 8, "auto"}, PresetRun{"gpt-oss-120b", 8, "auto"},
        PresetRun{"gemma-3-27b", 8, "auto"}, PresetRun{"llama-4-scout", 8, "auto"},
        PresetRun{"llama-4-maverick", 8, "fp8"}, PresetRun{"glm-4.5", 8, "auto"},
        PresetRun{"glm-4.5-air", 8, "auto"}, PresetRun{"kimi-k2", 8, "auto"},
        PresetRun{"qwen3-next-80b-a3b", 8, "auto"}, PresetRun{"phi-4", 2, "auto"},
        PresetRun{"glm-4-9b", 8, "auto"}, PresetRun{"internlm2.5-7b", 8, "auto"},
        PresetRun{"minimax-m1", 8, "auto"}}) {
    const std::string tp = std::to_string(p.tp);
    CliRun r = Gpupool(std::string("plan infer --model ") + p.preset + " --gpu h100 --tp " + tp +
                       " --context 131072 --json");
    ASSERT_EQ(r.code, 0) << p.preset << "\n" << r.out;
    nlohmann::json j = Json(r);
    EXPECT_GT(j["kv_bytes_per_sequence_per_gpu"].get<double>(), 0) << p.preset;
    EXPECT_GT(j["weights_gib_per_gpu"].get<double>(), 0) << p.preset;

    r = Gpupool(std::string("plan train --model ") + p.preset + " --gpu h100 --gpus 64 --tp " + tp +
                " --zero 1 --tokens 1e11 --json");
    ASSERT_EQ(r.code, 0) << p.preset << "\n" << r.out;
    j = Json(r);
    EXPECT_GT(j["step_seconds"].get<double>(), 0) << p.preset;

    for (const char* gpu : {"h100", "h20"}) {
      r = Gpupool(std::string("plan search --model ") + p.preset + " --gpu " + gpu +
                  " --goal serve --context 8192 --batch 8 --precision " + p.serve_precision +
                  " --json");
      ASSERT_EQ(r.code, 0) << p.preset << " on " << gpu << "\n" << r.out;
      j = Json(r);
      EXPECT_GE(j["gpus"].get<int>(), 1) << p.preset << " on " << gpu;
      ASSERT_FALSE(j["ranked"].empty()) << p.preset << " on " << gpu;
      EXPECT_TRUE(j["ranked"][0]["fits"].get<bool>()) << p.preset << " on " << gpu;
    }
  }
}

TEST(PlanCliTest, ModelsJsonKeepsItsFieldsAndAddsTheNewOnes) {
  const CliRun r = Gpupool("plan models --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  bool seen_gemma = false;
  for (const auto& row : j) {
    for (const char* k : {"name", "params_total", "params_active", "published_total"}) {
      EXPECT_TRUE(row.contains(k)) << k;
    }
    if (row["name"] == "Gemma-3-27B") {
      seen_gemma = true;
      EXPECT_EQ(row["params_vision"].get<int64_t>(), 423'060'336);
      EXPECT_EQ(row["attention_layers"]["sliding"].get<int>(), 52);
      EXPECT_EQ(row["attention_layers"]["full"].get<int>(), 10);
    }
  }
  EXPECT_TRUE(seen_gemma);
}

TEST(PlanCliTest, UnknownTypeMatchingAFamilyWarnsOnStderr) {
  const std::filesystem::path cfg =
      std::filesystem::temp_directory_path() / "gpupool_plan_cli_test_acme.json";
  {
    std::ofstream f(cfg);
    f << R"({"model_type": "acme_lm", "hidden_size": 4096, "num_hidden_layers": 32,
             "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
             "vocab_size": 128256})";
  }
  const gpupool::testing::ProgramRun run = gpupool::testing::RunGpupool(
      gpupool::testing::Words("plan infer --model " + cfg.string() + " --gpu h100"));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("warning: model_type 'acme_lm' is not a known family"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("read as llama"), std::string::npos) << run.err;
  std::filesystem::remove(cfg);
}

TEST(PlanCliTest, AwqCheckpointPricedWithItsScales) {
  // Qwen2.5-7B-Instruct-AWQ: linear layers 7,615,616,512 - 2 x 152064x3584 (embedding, head) -
  // 28 x 2 x 3584 - 3584 (norms) = 6,525,417,472 at (4 + (16 + 4)/128)/8 = 0.51953125 B, embedding
  // and head 1,089,994,752 x 2 B, norms 204,288 x 2 B -> 5,570,556,376 B.
  const std::string dir =
      std::string(GPUPOOL_SOURCE_DATA_DIR) + "/models/samples/qwen2.5-7b-instruct-awq";
  CliRun r = Gpupool("plan infer --model " + dir + " --gpu h100 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = Json(r);
  EXPECT_EQ(j["precision"].get<std::string>(), "awq int4 group 128");
  EXPECT_DOUBLE_EQ(j["weights_gib_per_gpu"].get<double>() * 1024 * 1024 * 1024, 5'570'556'376.0);
  // An explicit --precision prices every linear layer at it instead: bf16 -> 2 B each.
  r = Gpupool("plan infer --model " + dir + " --gpu h100 --precision bf16 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  j = Json(r);
  EXPECT_EQ(j["precision"].get<std::string>(), "bf16");
  EXPECT_NEAR(j["weights_gib_per_gpu"].get<double>() * 1024 * 1024 * 1024, 7'615'616'512.0 * 2,
              1.0);
}

TEST(PlanCliTest, CommPrintsBusBandwidthAsNcclTests) {
  // 1 GiB all-reduce on 8 ranks of NVLink4 (catalog: 450 GB/s x 0.8 = 360 GB/s, 5 us per step),
  // ring forced: 1.75 x 2^30 / 360e9 + 14 x 5 us = 5.2896 ms; busbw = 1.75 x 2^30 / 5.2896e-3.
  const CliRun r = Gpupool(
      "plan comm --op all-reduce --bytes 1G --gpus 8 --link NVLink4 --algorithm ring --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  ASSERT_EQ(j["rows"].size(), 1u);
  const double t = 1.75 * 1073741824.0 / 360e9 + 14 * 5e-6;
  EXPECT_NEAR(j["rows"][0]["time_us"].get<double>(), t * 1e6, 1e-6);
  EXPECT_NEAR(j["rows"][0]["busbw_gbs"].get<double>(), 1.75 * 1073741824.0 / t / 1e9, 1e-6);
  EXPECT_EQ(j["rows"][0]["algorithm"], "ring");
  EXPECT_EQ(j["algorithm"], "ring");
  for (const char* k : {"op", "gpus", "link", "bus_factor", "modelled", "assumptions"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  // By default NCCL's pick: NVLink SHARP on NVLink4, 2^30 / (360e9 x 5/6) + 23 us.
  const CliRun nvls =
      Gpupool("plan comm --op all-reduce --bytes 1G --gpus 8 --link NVLink4 --json");
  ASSERT_EQ(nvls.code, 0) << nvls.out;
  const auto jn = Json(nvls);
  EXPECT_EQ(jn["rows"][0]["algorithm"], "nvls");
  EXPECT_TRUE(jn["link"]["nvls"].get<bool>());
  EXPECT_NEAR(jn["rows"][0]["time_us"].get<double>(),
              (1073741824.0 / (360e9 * 5.0 / 6.0) + 23e-6) * 1e6, 1e-6);
  // A sweep 8 B .. 8 KiB by 4: 8, 32, 128, 512, 2048, 8192.
  const CliRun sweep =
      Gpupool("plan comm --op all-gather --bytes 8:8K --factor 4 --link IB-NDR --json");
  ASSERT_EQ(sweep.code, 0) << sweep.out;
  EXPECT_EQ(Json(sweep)["rows"].size(), 6u);
}

TEST(PlanCliTest, CommBadArgumentsAreNamed) {
  for (const auto& [args, flag] : std::vector<std::pair<std::string, std::string>>{
           {"plan comm --op broadcast --bytes 8 --link NVLink4", "--op"},
           {"plan comm --bytes 8Q --link NVLink4", "--bytes"},
           {"plan comm --bytes 8 --gpus 1 --link NVLink4", "--gpus"},
           {"plan comm --bytes 8 --link NVLink9", "--link"},
           {"plan comm --bytes 8:64 --factor 1 --link NVLink4", "--factor"},
           {"plan comm --bytes 8 --link NVLink4 --algorithm star", "--algorithm"},
           {"plan comm --bytes 8 --link NVLink3 --algorithm nvls", "--algorithm nvls"},
           {"plan comm --op all-gather --bytes 8 --link NVLink4 --algorithm tree",
            "--algorithm"}}) {
    const CliRun r = Gpupool(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(flag), std::string::npos) << args << "\n" << r.out;
  }
}

TEST(PlanCliTest, InferSaysWhatIsModelledAndAssumed) {
  const CliRun r = Gpupool("plan infer --model llama-3-8b --gpu h100 --tp 2 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  EXPECT_EQ(j["engine"], "vllm");
  EXPECT_FALSE(j["modelled"].empty());
  EXPECT_FALSE(j["assumptions"].empty());
  // TP 2: 0.13 + 0.42 GiB non-torch.
  EXPECT_NEAR(j["overhead_parts_gib"]["non_torch"].get<double>(), 0.55, 1e-12);
  const CliRun bad = Gpupool("plan infer --model llama-3-8b --gpu h100 --engine tgi");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("--engine 'tgi'"), std::string::npos) << bad.out;
}

TEST(PlanCliTest, InferWithAnOutputLengthGivesLatencyAndThroughput) {
  // --prompt and --output-len: TTFT, mean TPOT, end to end, and the throughput at the batch and
  // at the largest batch the KV cache holds; the decode step's parts and the kernel costs.
  const CliRun r = Gpupool(
      "plan infer --model llama-3-8b --gpu h100 --precision fp8 --engine trtllm --prompt 1000 "
      "--context 2000 --output-len 1000 --kv-precision fp8 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  EXPECT_EQ(j["engine"], "trtllm");
  EXPECT_EQ(j["prompt_tokens"], 1000);
  EXPECT_EQ(j["output_tokens"], 1000);
  for (const char* k :
       {"ttft_seconds", "tpot_ms", "e2e_latency_seconds", "output_tokens_per_second",
        "max_throughput", "decode_parts_ms", "step_costs"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_NEAR(j["e2e_latency_seconds"].get<double>(),
              j["ttft_seconds"].get<double>() + 999 * j["tpot_ms"].get<double>() * 1e-3, 1e-9);
  EXPECT_TRUE(j["step_costs"]["cuda_graphs"].get<bool>());
  EXPECT_GT(j["max_throughput"]["batch"].get<int>(), 1);
  EXPECT_GT(j["max_throughput"]["output_tokens_per_second"].get<double>(),
            j["output_tokens_per_second"].get<double>());
  // --no-cuda-graphs and --kernel-us change the kernel costs; both graph flags contradict.
  const CliRun eager =
      Gpupool("plan infer --model llama-3-8b --gpu h100 --no-cuda-graphs --kernel-us 10 --json");
  ASSERT_EQ(eager.code, 0) << eager.out;
  const auto je = Json(eager);
  EXPECT_FALSE(je["step_costs"]["cuda_graphs"].get<bool>());
  EXPECT_NEAR(je["decode_parts_ms"]["kernels"].get<double>(), 326 * 10e-3, 1e-9);
  const CliRun both =
      Gpupool("plan infer --model llama-3-8b --gpu h100 --cuda-graphs --no-cuda-graphs");
  EXPECT_EQ(both.code, 2) << both.out;
  // The text output prints the request and the throughput lines.
  const CliRun text = Gpupool(
      "plan infer --model llama-3-8b --gpu h100 --prompt 128 --context 256 --output-len 128");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("max throughput"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("TTFT"), std::string::npos) << text.out;
  // The serve search takes the same engine and lengths, and refuses an unknown engine.
  const CliRun serve = Gpupool(
      "plan search --goal serve --model llama-3-70b --gpu h100 --batch 8 --context 4096 "
      "--prompt 2048 --output-len 2048 --engine trtllm --json");
  ASSERT_EQ(serve.code, 0) << serve.out;
  const auto js = Json(serve);
  ASSERT_FALSE(js["ranked"].empty());
  EXPECT_EQ(js["ranked"][0]["engine"], "trtllm");
  EXPECT_TRUE(js["ranked"][0].contains("max_throughput"));
  const CliRun unknown =
      Gpupool("plan search --goal serve --model llama-3-70b --gpu h100 --engine tgi");
  EXPECT_EQ(unknown.code, 2) << unknown.out;
  EXPECT_NE(unknown.out.find("--engine 'tgi'"), std::string::npos) << unknown.out;
}

}  // namespace

namespace {

// Issue 12: encoder-only and encoder-decoder models are served, searched and trained.
TEST(PlanCliTest, EncodersAndEncoderDecodersServeSearchAndTrain) {
  CliRun r = Gpupool("plan infer --model t5-base --gpu a100 --prompt 128 --context 64 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = Json(r);
  // 12 decoder layers x 2 x 12 heads x 64 x 2 B = 36,864 B per input token of cross K/V.
  EXPECT_EQ(j["encoder"]["cross_kv_bytes_per_token_per_gpu"].get<double>(), 36864.0);
  EXPECT_EQ(j["model"]["encoder_layers"].get<int>(), 12);
  EXPECT_EQ(j["model"]["decoder_layers"].get<int>(), 12);
  r = Gpupool("plan infer --model bert-base-uncased --gpu a100 --batch 32 --context 384");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("sequences/s"), std::string::npos) << r.out;
  r = Gpupool(
      "plan search --model bert-base-uncased --gpu a100 --goal serve --batch 8 --context 512");
  EXPECT_EQ(r.code, 0) << r.out;
  r = Gpupool("plan train --model t5-small --gpu a100 --gpus 8 --seq 512 --target-seq 114 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  j = Json(r);
  EXPECT_EQ(j["target_seq"].get<int>(), 114);
  EXPECT_EQ(j["seq"].get<int>(), 512);
}

bool AnyContains(const nlohmann::json& list, const std::string& what) {
  for (const auto& s : list) {
    if (s.get<std::string>().find(what) != std::string::npos) return true;
  }
  return false;
}

TEST(PlanCliTest, TrainSaysWhatIsModelledAndAssumed) {
  const CliRun r =
      Gpupool("plan train --model llama-3-8b --gpu h100 --gpus 64 --zero 3 --recompute op --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = Json(r);
  EXPECT_EQ(j["framework"], "pytorch");
  EXPECT_TRUE(AnyContains(j["assumptions"], "Hopper row of data/planner/kernel_efficiency.yaml"));
  EXPECT_TRUE(AnyContains(j["assumptions"], "framework pytorch (auto"));
  EXPECT_TRUE(AnyContains(j["modelled"], "DP (FSDP / ZeRO-3)"));
  EXPECT_TRUE(j["step_parts_seconds"].contains("dp_interference"));
  // A figure given by flag is reported as given.
  const CliRun given = Gpupool(
      "plan train --model llama-3-8b --gpu h100 --gpus 64 --zero 3 --efficiency 0.5 "
      "--dp-overlap 0.5 --framework megatron --json");
  ASSERT_EQ(given.code, 0) << given.out;
  const auto g = Json(given);
  EXPECT_TRUE(AnyContains(g["assumptions"], "GEMM efficiency 0.50 (given: --efficiency)"));
  EXPECT_TRUE(AnyContains(g["assumptions"], "DP overlap 0.50 (given: --dp-overlap)"));
  EXPECT_EQ(g["framework"], "megatron");
  // The text output prints the same lines; the search prints them for its first layout.
  const CliRun text = Gpupool("plan train --model llama-3-8b --gpu h100 --gpus 8");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("  modelled: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  assumption: GEMM efficiency 0.63"), std::string::npos) << text.out;
  const CliRun search =
      Gpupool("plan search --model llama-3-8b --gpu h100 --gpus 8 --top 1 --show-discarded 0");
  ASSERT_EQ(search.code, 0) << search.out;
  EXPECT_NE(search.out.find("  assumption: framework"), std::string::npos) << search.out;
  const CliRun bad = Gpupool("plan train --model llama-3-8b --gpu h100 --gpus 8 --framework jax");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("--framework 'jax'"), std::string::npos) << bad.out;
}

TEST(PlanCliTest, TrainTakesPureSixteenBitAndPipelineRuns) {
  // Pure 16-bit: 8 B per parameter before sharding, said on the bytes line and as an assumption.
  const CliRun text = Gpupool(
      "plan train --model llama-3-8b --gpu h100 --gpus 16 --pp 2 --zero 3 --global-batch 64 "
      "--no-master-weights --pipeline-runs 2");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("bytes per param    8 before sharding"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Adam bf16 m/v, no master 4"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("assumption: optimizer: pure 16-bit training"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("2 pipeline schedules per step"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(microbatches + 2 x (pp - 1) / vp) stage times"), std::string::npos)
      << text.out;
  const auto j = Json(Gpupool(
      "plan train --model llama-3-8b --gpu h100 --gpus 16 --pp 2 --zero 3 --global-batch 64 "
      "--no-master-weights --pipeline-runs 2 --json"));
  EXPECT_EQ(j["bytes_per_param"], 8.0);
  EXPECT_EQ(j["master_weights"], false);
  EXPECT_EQ(j["pipeline_runs"], 2);
  // Contradictions and runs that do not divide are refused with exit 2 and the flags named.
  const CliRun fp32 =
      Gpupool("plan train --model llama-3-8b --gpu h100 --gpus 8 --no-master-weights --grad-fp32");
  EXPECT_EQ(fp32.code, 2);
  EXPECT_NE(fp32.out.find("--no-master-weights with --grad-fp32"), std::string::npos) << fp32.out;
  const CliRun runs = Gpupool(
      "plan train --model llama-3-8b --gpu h100 --gpus 16 --pp 2 --global-batch 64 "
      "--pipeline-runs 3");
  EXPECT_EQ(runs.code, 2);
  EXPECT_NE(runs.out.find("--pipeline-runs 3 does not divide the 8 microbatches"),
            std::string::npos)
      << runs.out;
}

}  // namespace

#include "planner/plan_json.h"

#include <gtest/gtest.h>

#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

TEST(PlanJsonTest, JobRequestRoundsMemoryUpToAMebibyte) {
  // 17.4 GiB = 17,817.6 MiB -> 17,818.
  const auto j = JobRequestJson(2, "H100-SXM", 17.4);
  EXPECT_EQ(j["num_gpu"], 2);
  EXPECT_EQ(j["gpu_milli"], 1000);
  EXPECT_EQ(j["gpu_models"], nlohmann::json::array({"H100-SXM"}));
  EXPECT_EQ(j["gpu_memory_mib"], 17818);
  EXPECT_EQ(j.size(), 4u);
}

TEST(PlanJsonTest, InferMembersCarryTheEstimate) {
  InferEstimate e;
  e.weights_gib_per_gpu = 14.96;
  e.kv_bytes_per_token_per_gpu = 131072;
  e.total_gib_per_gpu = 17.4;
  e.fits = true;
  e.max_kv_tokens = 451156;
  e.decode_ms_per_token = 6.19;
  InferOptions o;
  const auto j = InferJson(testing::Preset("Llama-3-8B"), testing::H100(), o, e);
  EXPECT_EQ(j["weights_gib_per_gpu"], 14.96);
  EXPECT_EQ(j["kv_bytes_per_token_per_gpu"], 131072.0);
  EXPECT_EQ(j["total_gib_per_gpu"], 17.4);
  EXPECT_EQ(j["fits"], true);
  EXPECT_EQ(j["max_kv_tokens"], 451156);
  EXPECT_EQ(j["decode_ms_per_token"], 6.19);
  EXPECT_EQ(j["model"]["params_total"], 8'030'261'248);
  EXPECT_EQ(j["gpu"], "H100-SXM");
}

TEST(PlanJsonTest, TrainMemoryPartsAndLayout) {
  TrainEstimate e;
  e.layout.tp = 8;
  e.layout.pp = 4;
  e.layout.dp = 32;
  e.memory.weights_gib = 4.2;
  e.memory.total_gib = 32.2;
  e.step_seconds = 5.0;
  e.mfu = 0.4;
  e.tokens_per_second_per_gpu = 811;
  e.gpu_hours = 5.1e6;
  TrainOptions o;
  const auto j = TrainJson(testing::Preset("Llama-3-70B"), testing::H100(), o, e);
  EXPECT_EQ(j["memory_gib_per_gpu"]["weights"], 4.2);
  EXPECT_EQ(j["memory_gib_per_gpu"]["total"], 32.2);
  EXPECT_EQ(j["layout"]["tp"], 8);
  EXPECT_EQ(j["layout"]["recompute"], "selective");
  EXPECT_EQ(j["step_seconds"], 5.0);
  EXPECT_EQ(j["mfu"], 0.4);
  EXPECT_EQ(j["tokens_per_second_per_gpu"], 811.0);
  EXPECT_EQ(j["gpu_hours"], 5.1e6);
}

TEST(PlanJsonTest, MoeAndMlaModelsSayWhatTheyAre) {
  const auto ds = ModelJson(testing::Preset("DeepSeek-V3"));
  EXPECT_EQ(ds["experts"], 256);
  EXPECT_EQ(ds["mla"]["kv_lora_rank"], 512);
  EXPECT_EQ(ds["params_mtp_module"], 13'463'426'304);
  EXPECT_FALSE(ModelJson(testing::Preset("Llama-3-8B")).contains("experts"));
}

}  // namespace
}  // namespace gpupool::planner

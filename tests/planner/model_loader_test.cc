#include "planner/model_loader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

const std::filesystem::path kModels = testing::ModelsDir();

ModelSpec Load(const std::string& name) { return testing::Preset(name); }

TEST(ModelLoaderTest, SampleConfigsFromFolders) {
  struct Sample {
    const char* dir;
    int64_t total;
    int64_t active;
  };
  // gpt2: 12 x (12 x 768^2 + 13 x 768) + 50257x768 + 1024x768 + 2x768 = 124,439,808 (GPT-2 124M).
  // gpt-neox-20b: 44 layers, h 6144, untied embed/unembed of 50432 -> 20,554,567,680 (20.55B).
  // deepseek-v2-lite: q_lora_rank null (plain q_proj), 1 dense + 26 MoE layers of 64 + 2 shared.
  // qwen2-moe: 60 experts of 1408, shared expert 5632 with a 1-wide gate, top 4.
  // qwen3-8b: head_dim 128 with q/k norms: 36 x (2x4096x4096 + 2x4096x1024 + 256 + 3x4096x12288
  // + 8192) + 2 x 151936 x 4096 + 4096 = 8,190,735,360 (Qwen3-8B: 8.2B).
  // mistral-7b: 32 x (2x4096^2 + 2x4096x1024 + 3x4096x14336 + 8192) + 2x32000x4096 + 4096 =
  // 7,241,732,096 (Mistral 7B: 7.24B).
  for (const Sample& s : {Sample{"gpt2", 124'439'808, 124'439'808},
                          Sample{"gpt-neox-20b", 20'554'567'680, 20'554'567'680},
                          Sample{"deepseek-v2-lite", 15'706'484'224, 2'661'150'208},
                          Sample{"qwen2-moe-a2.7b", 14'315'784'192, 2'689'173'504},
                          Sample{"qwen3-8b", 8'190'735'360, 8'190'735'360},
                          Sample{"mistral-7b", 7'241'732'096, 7'241'732'096}}) {
    auto m = LoadModel((kModels / "samples" / s.dir).string(), kModels);
    ASSERT_TRUE(m.has_value()) << s.dir << ": " << m.error().ToString();
    const ParamCounts pc = CountParams(*m);
    EXPECT_EQ(pc.total, s.total) << s.dir;
    EXPECT_EQ(pc.active, s.active) << s.dir;
  }
}

TEST(ModelLoaderTest, PresetNamesMatchLoosely) {
  for (const char* name : {"llama-3-8b", "Llama3-8B", "meta-llama/Meta-Llama-3-8B", "LLAMA_3_8B"}) {
    auto m = LoadModel(name, kModels);
    ASSERT_TRUE(m.has_value()) << name;
    EXPECT_EQ(m->name, "Llama-3-8B");
  }
}

TEST(ModelLoaderTest, UnknownModelListsPresets) {
  auto m = LoadModel("llama-9-1b", kModels);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), StatusCode::kNotFound);
  EXPECT_NE(m.error().message().find("Llama-3-8B"), std::string::npos);
  EXPECT_EQ(m.error().ExitCode(), 2);
}

TEST(ModelLoaderTest, MissingFieldNamed) {
  nlohmann::json j = {{"model_type", "llama"},
                      {"hidden_size", 4096},
                      {"num_hidden_layers", 32},
                      {"num_attention_heads", 32},
                      {"vocab_size", 32000}};
  auto m = ParseHfConfig(j, "config.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.error().message().find("intermediate_size"), std::string::npos);
}

TEST(ModelLoaderTest, UnknownModelTypeListsKnown) {
  nlohmann::json j = {{"model_type", "mamba"}};
  auto m = ParseHfConfig(j, "config.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("deepseek_v3"), std::string::npos);
}

TEST(ModelLoaderTest, WrongTypeRefused) {
  nlohmann::json j = {{"model_type", "llama"},  {"hidden_size", "4096"},
                      {"num_hidden_layers", 2}, {"num_attention_heads", 32},
                      {"vocab_size", 32000},    {"intermediate_size", 11008}};
  auto m = ParseHfConfig(j, "config.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("'hidden_size' must be an integer"), std::string::npos);
}

TEST(ModelLoaderTest, OverridesChangeShape) {
  ModelSpec m = Load("Llama-3-8B");
  ShapeOverrides o;
  o.layers = 16;
  o.kv_heads = 32;
  ASSERT_TRUE(ApplyOverrides(o, m).ok());
  // 16 x (4 x 4096^2 + 176,160,768 + 8,192) + 1,050,673,152 + 4,096
  EXPECT_EQ(CountParams(m).total,
            16LL * (4LL * 4096 * 4096 + 176'160'768 + 8'192) + 1'050'673'152 + 4'096);
  // hidden follows head_dim: 32 heads of 5120/32 = 160.
  o = ShapeOverrides{};
  o.hidden = 5120;
  ASSERT_TRUE(ApplyOverrides(o, m).ok());
  EXPECT_EQ(m.head_dim, 160);
}

TEST(ModelLoaderTest, BadOverridesRefused) {
  ModelSpec m = Load("Llama-3-8B");
  ShapeOverrides o;
  o.kv_heads = 5;  // does not divide 32 heads
  EXPECT_EQ(ApplyOverrides(o, m).code(), StatusCode::kInvalidArgument);
  m = Load("Mixtral-8x7B");
  o = ShapeOverrides{};
  o.top_k = 9;  // more than 8 experts
  EXPECT_EQ(ApplyOverrides(o, m).code(), StatusCode::kInvalidArgument);
  m = Load("Mixtral-8x7B");
  o = ShapeOverrides{};
  o.experts = 16;
  o.top_k = 4;
  ASSERT_TRUE(ApplyOverrides(o, m).ok());
  EXPECT_EQ(m.moe.num_experts, 16);
}

}  // namespace
}  // namespace gpupool::planner

#include "planner/model_spec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "planner/model_loader.h"

namespace gpupool::planner {
namespace {

const std::filesystem::path kModels = std::filesystem::path(GPUPOOL_SOURCE_DATA_DIR) / "models";

ModelSpec Load(const std::string& name) {
  auto m = LoadModel(name, kModels);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().ToString());
  return m.value_or(ModelSpec{});
}

// Hand-worked totals (independent arithmetic, not this code):
// Llama-3-8B: per layer q 4096^2 + k,v 2x4096x1024 + o 4096^2 = 41,943,040; MLP 3x4096x14336
// = 176,160,768; norms 8,192 -> 218,112,000 x 32 = 6,979,584,000; embed + head 2x128256x4096 =
// 1,050,673,152; final norm 4,096 -> 8,030,261,248.
struct CountCase {
  const char* preset;
  int64_t total;
  int64_t active;  // 0: same as total
};

class PresetCountTest : public ::testing::TestWithParam<CountCase> {};

TEST_P(PresetCountTest, MatchesHandCount) {
  const CountCase& c = GetParam();
  const ModelSpec m = Load(c.preset);
  const ParamCounts pc = CountParams(m);
  EXPECT_EQ(pc.total, c.total) << c.preset;
  EXPECT_EQ(pc.active, c.active == 0 ? c.total : c.active) << c.preset;
}

INSTANTIATE_TEST_SUITE_P(
    Presets, PresetCountTest,
    ::testing::Values(
        CountCase{"Llama-3-8B", 8'030'261'248, 0},
        // 80 x (2x8192^2 + 2x8192x1024 + 3x8192x28672 + 2x8192) + 2x128256x8192 + 8192
        CountCase{"Llama-3-70B", 70'553'706'496, 0},
        CountCase{"Llama-3-405B", 405'853'388'800, 0},
        CountCase{"Llama-2-7B", 6'738'415'616, 0},
        CountCase{"Llama-2-13B", 13'015'864'320, 0},
        CountCase{"Llama-2-70B", 68'976'648'192, 0},
        // Qwen2 adds q/k/v biases: 3584 + 2x512 per layer.
        CountCase{"Qwen2.5-7B", 7'615'616'512, 0},
        CountCase{"Qwen2.5-72B", 72'706'203'648, 0},
        // Mixtral: 8 experts x 3x4096x14336 per layer, router 8x4096; active: 2 experts.
        CountCase{"Mixtral-8x7B", 46'702'792'704, 12'879'925'248},
        // Qwen3: head_dim 128, q/k norms 2x128, 128 experts of 3x4096x1536, top 8.
        CountCase{"Qwen3-235B-A22B", 235'093'634'560, 22'190'763'520},
        // DeepSeek-V3: MLA attention 187,107,328 per layer; 3 dense layers (MLP 3x7168x18432);
        // 58 MoE layers of 256 routed + 1 shared expert (3x7168x2048 each), router 256x7168 + 256.
        CountCase{"DeepSeek-V3", 671'026'419'200, 37'552'297'472},
        // GPT-3: 96 x (12h^2 + 13h) + 50257h + 2048h + 2h, h = 12288 (tied head).
        CountCase{"GPT-3-175B", 174'604'259'328, 0}));

// Published totals (from the preset's "gpupool" member) within 0.5 %, active within 2 %.
TEST(PresetCountTest, MatchesPublishedTotals) {
  auto presets = ListPresets(kModels);
  ASSERT_TRUE(presets.has_value());
  ASSERT_GE(presets->size(), 9u);
  for (const PresetInfo& p : *presets) {
    const ModelSpec m = Load(p.name);
    const ParamCounts pc = CountParams(m);
    ASSERT_GT(p.published_total, 0) << p.name;
    EXPECT_NEAR(double(pc.total) / p.published_total, 1.0, 0.005) << p.name << " " << pc.total;
    if (p.published_active > 0) {
      EXPECT_NEAR(double(pc.active) / p.published_active, 1.0, 0.02) << p.name;
    }
  }
}

TEST(ModelSpecTest, DeepSeekV3MtpModuleStatedApart) {
  // MTP: enorm + hnorm (2h) + eh_proj (2h x h) + one MoE layer (11,507,290,368) + norm (h) + its
  // own embedding and head copies (2 x 129280 x 7168) = 13,463,426,304; 671.0B + 13.5B = 684.5B
  // (DeepSeek: "685B including 14B MTP").
  const ParamCounts pc = CountParams(Load("deepseek-v3"));
  EXPECT_EQ(pc.mtp, 13'463'426'304);
  EXPECT_NEAR(double(pc.total + pc.mtp) / 685e9, 1.0, 0.005);
}

TEST(ModelSpecTest, DeepSeekLayersFollowFirstKDense) {
  const ModelSpec m = Load("DeepSeek-V3");
  EXPECT_FALSE(m.IsMoeLayer(0));
  EXPECT_FALSE(m.IsMoeLayer(2));
  EXPECT_TRUE(m.IsMoeLayer(3));
  EXPECT_EQ(m.NumMoeLayers(), 58);
}

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
  for (const Sample& s : {Sample{"gpt2", 124'439'808, 124'439'808},
                          Sample{"gpt-neox-20b", 20'554'567'680, 20'554'567'680},
                          Sample{"deepseek-v2-lite", 15'706'484'224, 2'661'150'208},
                          Sample{"qwen2-moe-a2.7b", 14'315'784'192, 2'689'173'504}}) {
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
  nlohmann::json j = {{"model_type", "llama"}, {"hidden_size", 4096}, {"num_hidden_layers", 32},
                      {"num_attention_heads", 32}, {"vocab_size", 32000}};
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
  nlohmann::json j = {{"model_type", "llama"}, {"hidden_size", "4096"}, {"num_hidden_layers", 2},
                      {"num_attention_heads", 32}, {"vocab_size", 32000},
                      {"intermediate_size", 11008}};
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
  EXPECT_EQ(CountParams(m).total, 16LL * (4LL * 4096 * 4096 + 176'160'768 + 8'192) +
                                      1'050'673'152 + 4'096);
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

TEST(ModelSpecTest, AttentionFlopsAreTwelveLshForMha) {
  // Forward: 2 x a x (d + d) x ctx per layer = 4 h ctx; forward+backward (x3) = 12 L s h.
  const ModelSpec m = Load("GPT-3-175B");
  EXPECT_DOUBLE_EQ(3.0 * AttentionFlopsPerToken(m, 2048), 12.0 * 96 * 2048 * 12288);
}

}  // namespace
}  // namespace gpupool::planner

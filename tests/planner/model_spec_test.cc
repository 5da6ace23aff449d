#include "planner/model_spec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "planner/model_loader.h"
#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

const std::filesystem::path kModels = testing::ModelsDir();

ModelSpec Load(const std::string& name) { return testing::Preset(name); }

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
        CountCase{"Llama-3-70B", 70'553'706'496, 0}, CountCase{"Llama-3-405B", 405'853'388'800, 0},
        CountCase{"Llama-2-7B", 6'738'415'616, 0}, CountCase{"Llama-2-13B", 13'015'864'320, 0},
        CountCase{"Llama-2-70B", 68'976'648'192, 0},
        // Qwen2 adds q/k/v biases: 3584 + 2x512 per layer.
        CountCase{"Qwen2.5-7B", 7'615'616'512, 0}, CountCase{"Qwen2.5-72B", 72'706'203'648, 0},
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

TEST(ModelSpecTest, AttentionFlopsAreTwelveLshForMha) {
  // Forward: 2 x a x (d + d) x ctx per layer = 4 h ctx; forward+backward (x3) = 12 L s h.
  const ModelSpec m = Load("GPT-3-175B");
  EXPECT_DOUBLE_EQ(3.0 * AttentionFlopsPerToken(m, 2048), 12.0 * 96 * 2048 * 12288);
}

}  // namespace
}  // namespace gpupool::planner

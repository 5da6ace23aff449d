#include "planner/model_loader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "planner_fixtures.h"
#include "testing/temp_dir.h"

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
  // (Qwen3-8B and Mistral-7B, samples once, are presets now: model_spec_test.cc counts them.)
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

// A fine-tune's or a quantised copy's repository name finds the preset of the same shape, and
// says so; the quantisation words add that the precision is not known from a name.
TEST(ModelLoaderTest, VariantRepositoryNamesFindTheirPreset) {
  auto m = LoadModel("meta-llama/Llama-3.1-8B-Instruct", kModels);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->name, "Llama-3-8B");
  ASSERT_EQ(m->warnings.size(), 1u);
  EXPECT_NE(m->warnings[0].find("without 'instruct'"), std::string::npos) << m->warnings[0];
  EXPECT_EQ(m->warnings[0].find("--precision"), std::string::npos) << m->warnings[0];

  auto q = LoadModel("RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic", kModels);
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->name, "Llama-3-70B");
  ASSERT_EQ(q->warnings.size(), 1u);
  EXPECT_NE(q->warnings[0].find("'instruct', 'fp8', 'dynamic'"), std::string::npos)
      << q->warnings[0];
  EXPECT_NE(q->warnings[0].find("--precision"), std::string::npos) << q->warnings[0];

  // An alias that names the organisation still matches the tail of a variant's name.
  auto mixtral = LoadModel("mistralai/Mixtral-8x7B-Instruct-v0.1", kModels);
  ASSERT_TRUE(mixtral.has_value()) << mixtral.error().message();
  EXPECT_EQ(mixtral->name, "Mixtral-8x7B");
  ASSERT_EQ(mixtral->warnings.size(), 1u);
  EXPECT_NE(mixtral->warnings[0].find("without 'instruct'"), std::string::npos);

  // An exact name gives no warning; variant words on an unknown model still fail.
  auto exact = LoadModel("Llama-3.1-8B", kModels);
  ASSERT_TRUE(exact.has_value());
  EXPECT_TRUE(exact->warnings.empty());
  auto unknown = LoadModel("llama-9-1b-instruct", kModels);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
}

TEST(ModelLoaderTest, UnknownModelListsPresets) {
  auto m = LoadModel("llama-9-1b", kModels);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), StatusCode::kNotFound);
  EXPECT_NE(m.error().message().find("Llama-3-8B"), std::string::npos);
  EXPECT_EQ(m.error().ExitCode(), 2);
}

// `mlp_bias` (LlamaConfig, NemotronConfig) adds biases to the MLP only: a gated MLP of width f
// gets 2f + h (gate and up, down), a Nemotron two-matrix MLP f + h; attention stays bias-free.
TEST(ModelLoaderTest, MlpBiasAddsTheMlpsBiasesOnly) {
  nlohmann::json j = {{"model_type", "llama"},    {"hidden_size", 64},
                      {"num_hidden_layers", 2},   {"num_attention_heads", 4},
                      {"intermediate_size", 256}, {"vocab_size", 1000}};
  auto plain = ParseHfConfig(j, "config.json");
  ASSERT_TRUE(plain.has_value()) << plain.error().message();
  j["mlp_bias"] = true;
  auto biased = ParseHfConfig(j, "config.json");
  ASSERT_TRUE(biased.has_value()) << biased.error().message();
  EXPECT_EQ(CountLayer(*biased, 0).dense_ffn - CountLayer(*plain, 0).dense_ffn, 2 * 256 + 64);
  EXPECT_EQ(CountLayer(*biased, 0).attention, CountLayer(*plain, 0).attention);

  j["model_type"] = "nemotron";
  auto nemotron = ParseHfConfig(j, "config.json");
  ASSERT_TRUE(nemotron.has_value()) << nemotron.error().message();
  // up 64 x 256 + down 256 x 64 + biases 256 + 64; LayerNorm1P: weight and bias, two per layer.
  EXPECT_EQ(CountLayer(*nemotron, 0).dense_ffn, 2 * 64 * 256 + 256 + 64);
  EXPECT_EQ(CountLayer(*nemotron, 0).norms, 2 * 2 * 64);
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
  // DeepSeek-V3's config trains one multi-token-prediction layer; --mtp-layers 0 drops it and a
  // negative count is refused, naming the flag.
  m = Load("DeepSeek-V3");
  EXPECT_EQ(m.mtp_layers, 1);
  o = ShapeOverrides{};
  o.mtp_layers = 0;
  ASSERT_TRUE(ApplyOverrides(o, m).ok());
  EXPECT_EQ(m.mtp_layers, 0);
  o.mtp_layers = -1;
  const Status negative = ApplyOverrides(o, m);
  EXPECT_EQ(negative.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(negative.message().find("--mtp-layers must be >= 0"), std::string::npos);
}

// --- Strict input: a wrong JSON type is an error naming the document and the member -------------

nlohmann::json Llama() {
  return {{"model_type", "llama"},     {"hidden_size", 4096}, {"num_hidden_layers", 32},
          {"num_attention_heads", 32}, {"vocab_size", 32000}, {"intermediate_size", 11008},
          {"num_key_value_heads", 8}};
}

TEST(ModelLoaderTest, WrongTypeOfEachKindOfMemberIsNamed) {
  struct Case {
    const char* member;
    nlohmann::json value;
    std::string message;  // the whole message, written out by hand
  };
  const std::vector<Case> table = {
      // required integer, written as a float
      {"hidden_size", 4096.0,
       "cfg.json: field 'hidden_size' must be an integer, not the number 4096.0 (write it without "
       "a decimal point)"},
      // optional integer as a float: was silently ignored, leaving 32 KV heads (full MHA)
      {"num_key_value_heads", 8.0,
       "cfg.json: field 'num_key_value_heads' must be an integer, not the number 8.0 (write it "
       "without a decimal point)"},
      {"num_key_value_heads", 8.5,
       "cfg.json: field 'num_key_value_heads' must be an integer, not the number 8.5 (write it "
       "without a decimal point)"},
      // optional integer as a string, an array, a boolean
      {"head_dim", "128", "cfg.json: field 'head_dim' must be an integer, not the string \"128\""},
      {"head_dim", nlohmann::json::array({128}),
       "cfg.json: field 'head_dim' must be an integer, not an array"},
      {"vocab_size", true, "cfg.json: field 'vocab_size' must be an integer, not the boolean true"},
      // booleans
      {"tie_word_embeddings", "false",
       "cfg.json: field 'tie_word_embeddings' must be true or false, not the string \"false\""},
      {"attention_bias", 1,
       "cfg.json: field 'attention_bias' must be true or false, not the "
       "integer 1"},
      // the type tag
      {"model_type", 5, "cfg.json: field 'model_type' must be a string, not the integer 5"},
      // an integer that does not fit the field (int: at most 2,147,483,647)
      {"num_hidden_layers", 3'000'000'000LL,
       "cfg.json: field 'num_hidden_layers' (3000000000) is out of range"},
      {"num_hidden_layers", -3'000'000'000LL,
       "cfg.json: field 'num_hidden_layers' (-3000000000) is out of range"},
  };
  for (const Case& c : table) {
    nlohmann::json j = Llama();
    j[c.member] = c.value;
    auto m = ParseHfConfig(j, "cfg.json");
    ASSERT_FALSE(m.has_value()) << c.member << " = " << c.value.dump();
    EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(m.error().message(), c.message);
  }
}

TEST(ModelLoaderTest, NullOrAbsentOptionalMembersTakeTheirDefaults) {
  auto gqa = ParseHfConfig(Llama(), "cfg.json");
  ASSERT_TRUE(gqa.has_value()) << gqa.error().ToString();
  EXPECT_EQ(gqa->num_kv_heads, 8);
  EXPECT_EQ(gqa->head_dim, 128);  // 4096 / 32
  nlohmann::json j = Llama();
  j["num_key_value_heads"] = nullptr;  // HF writes null for "not used": MHA, 32 KV heads
  j["head_dim"] = nullptr;
  j["tie_word_embeddings"] = nullptr;
  auto mha = ParseHfConfig(j, "cfg.json");
  ASSERT_TRUE(mha.has_value()) << mha.error().ToString();
  EXPECT_EQ(mha->num_kv_heads, 32);
  EXPECT_EQ(mha->head_dim, 128);
  EXPECT_FALSE(mha->tied_embeddings);
}

TEST(ModelLoaderTest, PresetMetadataOfTheWrongTypeIsNamed) {
  ::gpupool::testing::TempDir tmp;
  struct Case {
    nlohmann::json meta;
    std::string what;  // the message after "<path>: "
  };
  const std::vector<Case> table = {
      {{{"name", 5}}, "field 'gpupool.name' must be a string, not the integer 5"},
      {{{"aliases", "l3"}}, "field 'gpupool.aliases' must be an array, not the string \"l3\""},
      {{{"aliases", {"l3", 7}}}, "field 'gpupool.aliases[1]' must be a string, not the integer 7"},
      {{{"published_total", "8B"}},
       "field 'gpupool.published_total' must be a number, not the string \"8B\""},
      {nlohmann::json::array(), "field 'gpupool' must be an object, not an array"},
  };
  for (std::size_t i = 0; i < table.size(); ++i) {
    nlohmann::json doc = Llama();
    doc["gpupool"] = table[i].meta;
    const std::string path = tmp.Write("m" + std::to_string(i) + "/config.json", doc.dump());
    auto m = LoadModel(path, kModels);
    ASSERT_FALSE(m.has_value()) << table[i].meta.dump();
    EXPECT_EQ(m.error().message(), path + ": " + table[i].what);
  }
  nlohmann::json doc = Llama();
  doc["gpupool"] = {{"name", "My-Llama"}, {"aliases", {"ml"}}, {"published_total", 7e9}};
  auto ok = LoadModel(tmp.Write("ok/config.json", doc.dump()), kModels);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(ok->name, "My-Llama");
}

TEST(ModelLoaderTest, MalformedConfigIsReportedWithLineAndColumn) {
  ::gpupool::testing::TempDir tmp;
  struct Case {
    std::string text;
    std::string position;  // LINE:COLUMN, counted by hand
  };
  const std::vector<Case> table = {
      // Line 3 is `  "hidden_size": 4096,,`: 2 spaces, the 13-character key (columns 3-15), ':'
      // at 16, a space at 17, 4096 at 18-21, ',' at 22: the second ',' at column 23 is the error.
      {"{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 4096,,\n  \"x\": 1\n}\n", "3:23"},
      // 22 characters and no closing brace: the error is at the end, column 23 of line 1.
      {R"({"model_type": "llama")", "1:23"},
      // An empty file: the end of input at line 1, column 1.
      {"", "1:1"},
      // A stray 'x' after a complete document: line 2 is `}x`, so column 2.
      {"{\"model_type\": \"llama\"\n}x", "2:2"},
  };
  for (std::size_t i = 0; i < table.size(); ++i) {
    const std::string path = tmp.Write("bad" + std::to_string(i) + ".json", table[i].text);
    auto m = LoadModel(path, kModels);
    ASSERT_FALSE(m.has_value()) << table[i].text;
    EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
    const std::string want = path + ":" + table[i].position + ": not valid JSON: ";
    EXPECT_EQ(m.error().message().substr(0, want.size()), want) << m.error().message();
    // The reason follows, without nlohmann's own "[json.exception...]" prefix.
    EXPECT_EQ(m.error().message().find("json.exception"), std::string::npos) << m.error().message();
    EXPECT_GT(m.error().message().size(), want.size()) << m.error().message();
  }
}

// --- Families beyond llama: layer patterns, MoE layouts, field names, quantisation ------------

nlohmann::json Gemma3Text() {
  return {{"model_type", "gemma3_text"}, {"hidden_size", 640},       {"num_hidden_layers", 12},
          {"num_attention_heads", 4},    {"num_key_value_heads", 1}, {"head_dim", 256},
          {"intermediate_size", 2048},   {"vocab_size", 1000},       {"sliding_window", 512},
          {"sliding_window_pattern", 6}};
}

TEST(ModelLoaderTest, Gemma3EverySixthLayerIsGlobal) {
  auto m = ParseHfConfig(Gemma3Text(), "g.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  // (i + 1) % 6 == 0 is global: layers 5 and 11 of 12; the other 10 slide over 512 tokens.
  for (int i = 0; i < 12; ++i) {
    const bool global = i == 5 || i == 11;
    EXPECT_EQ(m->AttentionAt(i).kind, global ? AttentionKind::kFull : AttentionKind::kSliding) << i;
    EXPECT_EQ(m->AttentionAt(i).window, global ? 0 : 512) << i;
  }
  EXPECT_TRUE(m->warnings.empty());
  // Gemma 3: sandwich norms (4 per layer), q/k norms, tied embeddings.
  // attention 640x(1024+256+256) + 1024x640 + 2x256 = 1,638,912; MLP 3x640x2048 = 3,932,160;
  // norms 4x640 -> 5,573,632 per layer x 12 + 1000x640 + 640 = 67,524,224.
  EXPECT_EQ(CountParams(*m).total, 67'524'224);
}

TEST(ModelLoaderTest, FamilyDefaultsLeftOutAreTakenWithAWarning) {
  nlohmann::json j = Gemma3Text();
  j.erase("vocab_size");
  j.erase("sliding_window_pattern");
  auto m = ParseHfConfig(j, "g.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->vocab, 262208);
  ASSERT_EQ(m->warnings.size(), 2u);
  EXPECT_NE(m->warnings[0].find("'vocab_size' not in g.json"), std::string::npos);
  EXPECT_NE(m->warnings[1].find("sliding_window_pattern"), std::string::npos);
}

TEST(ModelLoaderTest, LayerTypesReadPerLayer) {
  nlohmann::json j = Llama();
  j["num_hidden_layers"] = 4;
  j["sliding_window"] = 128;
  j["layer_types"] = {"sliding_attention", "full_attention", "sliding_attention", "full_attention"};
  auto m = ParseHfConfig(j, "cfg.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->CountAttention(AttentionKind::kSliding), 2);
  EXPECT_EQ(m->CountAttention(AttentionKind::kFull), 2);
  EXPECT_EQ(m->AttentionAt(0).window, 128);

  j["layer_types"] = {"sliding_attention", "full_attention"};
  m = ParseHfConfig(j, "cfg.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().message(),
            "cfg.json: field 'layer_types' lists 2 layers, but the model has 4 "
            "('num_hidden_layers')");

  j["layer_types"] = {"sliding_attention", "full_attention", "local", "full_attention"};
  m = ParseHfConfig(j, "cfg.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("cfg.json: layer_types[2] is 'local'"), std::string::npos);

  j["layer_types"] = {"sliding_attention", "full_attention", "sliding_attention", "full_attention"};
  j.erase("sliding_window");
  m = ParseHfConfig(j, "cfg.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("'sliding_window' is not given"), std::string::npos);
}

TEST(ModelLoaderTest, UnknownTypeWithKnownFieldsReadAsThatFamily) {
  nlohmann::json j = Llama();
  j["model_type"] = "acme_lm";
  auto m = ParseHfConfig(j, "cfg.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  ASSERT_EQ(m->warnings.size(), 1u);
  EXPECT_EQ(m->warnings[0],
            "model_type 'acme_lm' is not a known family; its fields (hidden_size, "
            "num_hidden_layers, num_attention_heads, intermediate_size, vocab_size) match llama, "
            "so it is read as llama: check the parameter count against the model card");
  // The same count as the llama config it copies.
  EXPECT_EQ(CountParams(*m).total, CountParams(*ParseHfConfig(Llama(), "l.json")).total);

  // Experts in the Mixtral spelling: read as mixtral.
  j["num_local_experts"] = 8;
  j["num_experts_per_tok"] = 2;
  m = ParseHfConfig(j, "cfg.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->moe.num_experts, 8);
  EXPECT_NE(m->warnings[0].find("match mixtral"), std::string::npos);
}

TEST(ModelLoaderTest, UnknownTypeMatchingNoFamilyListsThem) {
  nlohmann::json j = {{"model_type", "rwkv"}, {"hidden_size", 2048}, {"num_hidden_layers", 24}};
  auto m = ParseHfConfig(j, "cfg.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
  for (const char* family : {"llama", "gemma3", "gpt_oss", "llama4", "glm4_moe", "chatglm",
                             "qwen3_next", "minimax", "kimi_k2", "internlm2", "phi3", "falcon"}) {
    EXPECT_NE(m.error().message().find(family), std::string::npos) << family;
  }
  EXPECT_NE(m.error().message().find("match none of these families"), std::string::npos);
}

TEST(ModelLoaderTest, ChatGlmFieldNames) {
  // GLM-4-style: 2 layers, h 256, 4 heads of 64 (kv_channels), 2 KV groups, q/k/v bias.
  nlohmann::json j = {{"model_type", "chatglm"},
                      {"num_layers", 2},
                      {"hidden_size", 256},
                      {"ffn_hidden_size", 512},
                      {"num_attention_heads", 4},
                      {"kv_channels", 64},
                      {"multi_query_attention", true},
                      {"multi_query_group_num", 2},
                      {"padded_vocab_size", 1024},
                      {"add_qkv_bias", true},
                      {"add_bias_linear", false},
                      {"rmsnorm", true}};
  auto m = ParseHfConfig(j, "glm.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->num_kv_heads, 2);
  EXPECT_EQ(m->head_dim, 64);
  // qkv 256x(256+2x128) + bias 512 + dense 256x256 = 196,608 + 512; MLP 3x256x512 = 393,216;
  // norms 512 -> 590,848 x 2 + 2x1024x256 + 256 = 1,706,240.
  EXPECT_EQ(CountParams(*m).total, 1'706'240);
  j.erase("multi_query_group_num");
  m = ParseHfConfig(j, "glm.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("glm.json: missing field 'multi_query_group_num'"),
            std::string::npos);
}

TEST(ModelLoaderTest, FalconNewAndOldDecoder) {
  // Falcon-7B style: MQA (1 KV head), parallel attention with one LayerNorm, no biases, tied.
  nlohmann::json j = {{"model_type", "falcon"},   {"hidden_size", 256}, {"num_hidden_layers", 2},
                      {"num_attention_heads", 4}, {"vocab_size", 1000}, {"multi_query", true},
                      {"parallel_attn", true},    {"bias", false}};
  auto m = ParseHfConfig(j, "f.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->num_kv_heads, 1);
  // attn 256x(256+2x64) + 256x256 = 163,840; MLP 2x256x1024 = 524,288; one LayerNorm 512 ->
  // 688,640 x 2 + 1000x256 + 512 = 1,633,792.
  EXPECT_EQ(CountParams(*m).total, 1'633'792);
  j["new_decoder_architecture"] = true;
  j["num_kv_heads"] = 2;
  m = ParseHfConfig(j, "f.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->num_kv_heads, 2);
  EXPECT_EQ(m->norms_per_layer, 2);
}

TEST(ModelLoaderTest, QuantizationConfigPricesScales) {
  struct Case {
    nlohmann::json q;
    QuantMethod method;
    double bytes;  // per weight, scales included
    const char* label;
    bool block_scaled = false;  // a scale per block of the weights (the GEMMs apply it per tile)
  };
  const std::vector<Case> table = {
      // MXFP4: 4 bits + one 8-bit scale per 32 -> 4.25 / 8.
      {{{"quant_method", "mxfp4"}}, QuantMethod::kMxfp4, 0.53125, "mxfp4"},
      // FP8 with a 128x128 block: 1 + 4/16384.
      {{{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}},
       QuantMethod::kFp8,
       1.000244140625,
       "fp8 block 128x128",
       true},
      // FP8 with one scale per tensor.
      {{{"quant_method", "fp8"}}, QuantMethod::kFp8, 1.0, "fp8 per tensor"},
      // AWQ 4-bit group 128: (4 + (16 + 4)/128) / 8 = 0.51953125.
      {{{"quant_method", "awq"}, {"bits", 4}, {"group_size", 128}, {"zero_point", true}},
       QuantMethod::kIntGroup,
       0.51953125,
       "awq int4 group 128"},
      // GPTQ 4-bit group 32: (4 + 20/32) / 8 = 0.578125.
      {{{"quant_method", "gptq"}, {"bits", 4}, {"group_size", 32}, {"sym", true}},
       QuantMethod::kIntGroup,
       0.578125,
       "gptq int4 group 32"},
  };
  for (const Case& c : table) {
    nlohmann::json j = Llama();
    j["quantization_config"] = c.q;
    auto m = ParseHfConfig(j, "q.json");
    ASSERT_TRUE(m.has_value()) << c.label << ": " << m.error().ToString();
    EXPECT_EQ(m->quant.method, c.method) << c.label;
    EXPECT_DOUBLE_EQ(m->quant.bytes_per_weight, c.bytes) << c.label;
    EXPECT_EQ(m->quant.label, c.label);
    EXPECT_EQ(m->quant.block_scaled, c.block_scaled) << c.label;
  }
  nlohmann::json j = Llama();
  j["quantization_config"] = {{"quant_method", "bitsandbytes"}};
  auto m = ParseHfConfig(j, "q.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().message(),
            "q.json: quantization_config: quant_method 'bitsandbytes' is not priced (known: "
            "mxfp4, fp8, awq, gptq, compressed-tensors)");
  j["quantization_config"] = {{"quant_method", "mxfp4"},
                              {"modules_to_not_convert", {"model.layers.*.self_attn", "lm_head"}}};
  m = ParseHfConfig(j, "q.json");
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->quant.attention);
  EXPECT_TRUE(m->quant.experts);
}

TEST(ModelLoaderTest, TextConfigNestedAndVisionApart) {
  // A Gemma 3 style multimodal config: the language model under text_config, a SigLIP tower.
  // Vision: patch 3x14x14x64 + 64 = 37,696; positions (56/14)^2 = 16 x 64 = 1,024; per layer
  // 4x(64^2+64) + (64x128+128+128x64+64) + 4x64 = 16,640 + 16,576 + 256 = 33,472, x 2 = 66,944;
  // post LayerNorm 128; projector 64x640 + 64 = 41,024 -> 146,816.
  nlohmann::json j = {{"model_type", "gemma3"},
                      {"text_config", Gemma3Text()},
                      {"vision_config",
                       {{"hidden_size", 64},
                        {"intermediate_size", 128},
                        {"num_hidden_layers", 2},
                        {"patch_size", 14},
                        {"image_size", 56}}}};
  auto m = ParseHfConfig(j, "mm.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->vision_params, 146'816);
  EXPECT_EQ(CountParams(*m).total, 67'524'224);  // the language model alone, as above
  j["text_config"].erase("hidden_size");
  m = ParseHfConfig(j, "mm.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("mm.json: text_config: missing field 'hidden_size'"),
            std::string::npos);
}

TEST(ModelLoaderTest, Llama4MoeLayersListWinsOverTheStep) {
  // 4 layers, step 2 -> layers 1 and 3 are MoE; an explicit moe_layers [0, 3] overrides it.
  nlohmann::json t = {{"model_type", "llama4_text"},    {"hidden_size", 256},
                      {"num_hidden_layers", 4},         {"num_attention_heads", 4},
                      {"num_key_value_heads", 2},       {"intermediate_size", 128},
                      {"intermediate_size_mlp", 512},   {"vocab_size", 1000},
                      {"num_local_experts", 4},         {"num_experts_per_tok", 1},
                      {"interleave_moe_layer_step", 2}, {"attention_chunk_size", 64}};
  auto m = ParseHfConfig(t, "l4.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_FALSE(m->IsMoeLayer(0));
  EXPECT_TRUE(m->IsMoeLayer(1));
  EXPECT_TRUE(m->IsMoeLayer(3));
  // Layer 3 (every 4th) is global, the others chunked over 64 tokens.
  EXPECT_EQ(m->AttentionAt(3).kind, AttentionKind::kFull);
  EXPECT_EQ(m->AttentionAt(0).kind, AttentionKind::kChunked);
  EXPECT_EQ(m->AttentionAt(0).window, 64);
  t["moe_layers"] = {0, 3};
  m = ParseHfConfig(t, "l4.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_TRUE(m->IsMoeLayer(0));
  EXPECT_FALSE(m->IsMoeLayer(1));
  EXPECT_EQ(m->NumMoeLayers(), 2);
  t["moe_layers"] = {3, 1};
  m = ParseHfConfig(t, "l4.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().message(),
            "l4.json: moe_layers[1] (1) must be a layer index in 0..3, in ascending order");
}

TEST(ModelLoaderTest, Gemma2AlternatesFromASlidingLayer) {
  nlohmann::json j = Gemma3Text();
  j["model_type"] = "gemma2";
  j.erase("sliding_window_pattern");
  j["sliding_window"] = 4096;
  auto m = ParseHfConfig(j, "g2.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  // Even layers slide over 4096 tokens, odd layers are global: 6 + 6 of 12.
  EXPECT_EQ(m->AttentionAt(0).kind, AttentionKind::kSliding);
  EXPECT_EQ(m->AttentionAt(1).kind, AttentionKind::kFull);
  EXPECT_EQ(m->CountAttention(AttentionKind::kSliding), 6);
  EXPECT_FALSE(m->qk_norm);  // Gemma 2 has no q/k norms
  EXPECT_EQ(m->norms_per_layer, 4);
}

TEST(ModelLoaderTest, QwenVisionTowerCountedApart) {
  // Qwen2.5-VL-7B: the language model is Qwen2.5-7B's (7,615,616,512). Vision: patch embedding
  // 3x2x14x14x1280 = 1,505,280; 32 blocks of 2x1280 (norms) + 1280x3840+3840 (qkv) +
  // 1280x1280+1280 (proj) + 3x1280x3420 + 2x3420 + 1280 (gated MLP) = 19,702,200; merger 1280 +
  // 5120x5120+5120 + 5120x3584+3584 = 44,574,464 -> 676,550,144; 8.29B together.
  auto m = LoadModel((kModels / "samples" / "qwen2.5-vl-7b").string(), kModels);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(CountParams(*m).total, 7'615'616'512);
  EXPECT_EQ(m->vision_params, 676'550'144);
  EXPECT_TRUE(m->warnings.empty());
  // A tower of neither shape is left out, with a warning, and the language model still loads.
  nlohmann::json j = Llama();
  j["vision_config"] = {{"embed_dim", 1280}, {"depth", 32}};
  auto other = ParseHfConfig(j, "vl.json");
  ASSERT_TRUE(other.has_value()) << other.error().ToString();
  EXPECT_EQ(other->vision_params, 0);
  ASSERT_EQ(other->warnings.size(), 1u);
  EXPECT_NE(other->warnings[0].find("vl.json: vision_config is neither a ViT"), std::string::npos);
}

}  // namespace
}  // namespace gpupool::planner

namespace gpupool::planner {
namespace {

// --- Encoder-only models (issue 12).

TEST(EncoderOnlyTest, BertBaseAndLargeCountAsPublished) {
  // BERT-base (Devlin et al. 2019, "110M"): embeddings 30,522 x 768 + 512 x 768 + 2 x 768 + a
  // LayerNorm 1,536 = 23,837,184; per layer attention 4 x 768^2 + 4 x 768 = 2,362,368, MLP
  // 2 x 768 x 3072 + 3072 + 768 = 4,722,432, two LayerNorms 3,072 -> 7,087,872, x 12 =
  // 85,054,464; pooler 768^2 + 768 = 590,592: 109,482,240.
  auto m = LoadModel((testing::ModelsDir() / "samples" / "bert-base-uncased").string(),
                     testing::ModelsDir());
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_TRUE(m->encoder_only);
  EXPECT_EQ(CountParams(*m).total, 109'482'240);
  // BERT-large ("340M"): h 1024, 24 layers, 16 heads, MLP 4096. Embeddings 31,254,528 + 524,288
  // + 2,048 + 2,048 = 31,782,912; per layer 4,198,400 + 8,393,728 + 4,096 = 12,596,224, x 24 =
  // 302,309,376; pooler 1,049,600: 335,141,888.
  ShapeOverrides o;
  o.hidden = 1024;
  o.layers = 24;
  o.heads = 16;
  o.ffn = 4096;
  ModelSpec large = *m;
  ASSERT_TRUE(ApplyOverrides(o, large).ok());
  EXPECT_EQ(CountParams(large).total, 335'141'888);
}

}  // namespace
}  // namespace gpupool::planner

namespace gpupool::planner {
namespace {

// --- Encoder-decoder models (issue 12): T5 / mT5 / umT5 config.json files.

// A tiny T5 config: d_model 8, 2 heads of d_kv 4 (inner 8), d_ff 16, vocabulary 10, 4 buckets.
nlohmann::json TinyT5(const char* type) {
  return {{"model_type", type}, {"d_model", 8},
          {"d_kv", 4},          {"d_ff", 16},
          {"num_heads", 2},     {"num_layers", 2},
          {"vocab_size", 10},   {"relative_attention_num_buckets", 4}};
}

TEST(EncoderDecoderTest, T5FieldsGiveTheCheckpointsCount) {
  // t5 (ReLU, tied): attention 4 x 8 x 8 = 256, MLP 2 x 8 x 16 = 256. Encoder 2 x (256 + 256 +
  // 16) + bias 4 x 2 + final 8 = 1,072; decoder (num_decoder_layers 1) 512 + 256 + 24 + 8 + 8 =
  // 808; shared embedding 80 -> 1,960.
  nlohmann::json j = TinyT5("t5");
  j["num_decoder_layers"] = 1;
  auto m = ParseHfConfig(j, "t5.json");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->encoder_layers, 2);
  EXPECT_EQ(m->DecoderLayers(), 1);
  EXPECT_EQ(m->head_dim, 4);
  EXPECT_TRUE(m->tied_embeddings);
  EXPECT_EQ(m->ffn_kind, FfnKind::kPlain);
  EXPECT_EQ(CountParams(*m).total, 1'960);
  // umt5 (gated, untied): a bias table in every self-attention layer. MLP 3 x 8 x 16 = 384;
  // encoder 2 x (256 + 384 + 16 + 8) + 8 = 1,336; decoder 2 x (512 + 384 + 24 + 8) + 8 = 1,864;
  // embedding and head 2 x 80 -> 3,360.
  nlohmann::json u = TinyT5("umt5");
  u["feed_forward_proj"] = "gated-gelu";
  u["tie_word_embeddings"] = false;
  auto um = ParseHfConfig(u, "umt5.json");
  ASSERT_TRUE(um.has_value()) << um.error().ToString();
  EXPECT_EQ(um->ffn_kind, FfnKind::kGated);
  EXPECT_EQ(CountParams(*um).total, 3'360);
  // mt5 leaves tie_word_embeddings to MT5Config's default, false: the head is counted.
  auto mt = ParseHfConfig(TinyT5("mt5"), "mt5.json");
  ASSERT_TRUE(mt.has_value()) << mt.error().ToString();
  EXPECT_FALSE(mt->tied_embeddings);
  // is_encoder_decoder false (T5EncoderModel): the encoder alone, 1,072 + 80 = 1,152.
  nlohmann::json e = TinyT5("t5");
  e["is_encoder_decoder"] = false;
  auto enc = ParseHfConfig(e, "enc.json");
  ASSERT_TRUE(enc.has_value()) << enc.error().ToString();
  EXPECT_TRUE(enc->encoder_only);
  EXPECT_FALSE(enc->IsEncoderDecoder());
  EXPECT_EQ(CountParams(*enc).total, 1'152);
}

TEST(EncoderDecoderTest, BadT5ConfigsAreRefusedNamingTheField) {
  nlohmann::json j = TinyT5("t5");
  j.erase("d_kv");
  auto m = ParseHfConfig(j, "t5.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("'d_kv'"), std::string::npos) << m.error().message();
  nlohmann::json f = TinyT5("t5");
  f["feed_forward_proj"] = 3;
  auto bad = ParseHfConfig(f, "t5.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("feed_forward_proj"), std::string::npos);
  // An unknown type with T5's fields is read as t5, with a warning.
  nlohmann::json x = TinyT5("my_t5");
  auto guessed = ParseHfConfig(x, "x.json");
  ASSERT_TRUE(guessed.has_value()) << guessed.error().ToString();
  EXPECT_TRUE(guessed->IsEncoderDecoder());
  ASSERT_FALSE(guessed->warnings.empty());
  // --layers cannot say which stack it means.
  ModelSpec t5 = testing::Preset("T5-Base");
  ShapeOverrides o;
  o.layers = 6;
  EXPECT_FALSE(ApplyOverrides(o, t5).ok());
}

}  // namespace
}  // namespace gpupool::planner

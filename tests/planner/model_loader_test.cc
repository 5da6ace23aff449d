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

}  // namespace
}  // namespace gpupool::planner

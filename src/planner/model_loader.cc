#include "planner/model_loader.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "common/strings.h"

namespace gpupool::planner {
namespace {

using nlohmann::json;

// "the number 8.0", "the string \"4096\"", "an array": what a member holds, for an error.
std::string Describe(const json& v) {
  switch (v.type()) {
    case json::value_t::number_float:
      return "the number " + v.dump();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "the integer " + v.dump();
    case json::value_t::string:
      return "the string " + v.dump();
    case json::value_t::boolean:
      return "the boolean " + v.dump();
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return v.type_name();
  }
}

Status WrongType(std::string_view origin, std::string_view key, std::string_view want,
                 const json& v) {
  std::string m = std::string(origin) + ": field '" + std::string(key) + "' must be " +
                  std::string(want) + ", not " + Describe(v);
  // 8.0 for 8: HF configs write integers, and reading 8.0 as 8 would hide a config that was
  // edited or generated wrongly.
  if (v.is_number_float()) m += " (write it without a decimal point)";
  return Status::InvalidArgument(std::move(m));
}

// The members of one config.json. Every read is strict: a member of the wrong JSON type is an
// error naming the document and the member, never a silent default. Absent or null means "not
// given" (HF configs write null for unused options such as q_lora_rank).
class Reader {
 public:
  Reader(const json& j, std::string_view origin, std::string model_type)
      : j_(j), origin_(origin), type_(std::move(model_type)) {}

  // First of `keys` present and not null, as a T; an error naming all spellings when none is
  // there, naming the member when it is not an integer or does not fit a T.
  template <typename T>
  Result<T> Int(std::initializer_list<const char*> keys) const {
    for (const char* k : keys) {
      auto it = j_.find(k);
      if (it == j_.end() || it->is_null()) continue;
      return AsInt<T>(k, *it);
    }
    std::string names;
    for (const char* k : keys) names += (names.empty() ? "" : " or ") + std::string("'") + k + "'";
    return Error(Status::InvalidArgument(std::string(origin_) + ": missing field " + names +
                                         " (required for model_type '" + type_ + "')"));
  }
  // `key` as a T, or `fallback` when absent or null.
  template <typename T>
  Result<T> IntOr(const char* key, T fallback) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return fallback;
    return AsInt<T>(key, *it);
  }
  Result<bool> BoolOr(const char* key, bool fallback) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) return Error(WrongType(origin_, key, "true or false", *it));
    return it->get<bool>();
  }
  bool Has(const char* key) const {
    auto it = j_.find(key);
    return it != j_.end() && !it->is_null();
  }

 private:
  template <typename T>
  Result<T> AsInt(const char* key, const json& v) const {
    if (!v.is_number_integer()) return Error(WrongType(origin_, key, "an integer", v));
    const bool fits = v.is_number_unsigned() ? std::in_range<T>(v.get<std::uint64_t>())
                                             : std::in_range<T>(v.get<std::int64_t>());
    if (!fits) {
      return Error(Status::InvalidArgument(std::string(origin_) + ": field '" + key + "' (" +
                                           v.dump() + ") is out of range"));
    }
    return static_cast<T>(v.get<std::int64_t>());
  }

  const json& j_;
  std::string_view origin_;
  std::string type_;
};

// A preset key: lower-case letters and digits only ("Meta-Llama-3-8B" -> "metallama38b").
// Deliberately not hw::NormalizeName: that one also drops leading vendor words ("nvidia",
// "intel", "amd", ...) because no GPU key carries them, but in a model name such a word is part of
// the name ("nvidia/Nemotron-4-340B", "intel/neural-chat-7b"), so model keys keep it. The
// organisation before a '/' is handled by LoadModel's second key instead.
std::string Normalize(std::string_view s) { return AlnumLower(s); }

// "LINE:COLUMN" (both from 1, the column counted in bytes) of the character at 1-based byte
// `byte`, as nlohmann's parse_error reports it: the last character read, the one that made the
// text invalid; text.size() + 1 is the end of the text.
std::string JsonErrorPosition(std::string_view text, std::size_t byte) {
  const std::size_t at = std::min(byte == 0 ? 0 : byte - 1, text.size());  // 0-based
  const std::string_view before = text.substr(0, at);
  const std::size_t line =
      1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start =
      before.rfind('\n') == std::string_view::npos ? 0 : before.rfind('\n') + 1;
  return std::to_string(line) + ":" + std::to_string(at - line_start + 1);
}

// The reason in a parse_error's message, without its "[json.exception...] parse error at line L,
// column C: " prefix (the position is reported by JsonErrorPosition).
std::string ParseErrorReason(std::string_view what) {
  const std::size_t column = what.find("column ");
  const std::size_t colon = what.find(": ", column == std::string_view::npos ? 0 : column);
  return std::string(colon == std::string_view::npos ? what : what.substr(colon + 2));
}

Result<json> ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error(Status::IoError(path.string() + ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error(Status::InvalidArgument(path.string() + ":" + JsonErrorPosition(text, e.byte) +
                                         ": not valid JSON: " + ParseErrorReason(e.what())));
  }
  if (!j.is_object()) {
    return Error(Status::InvalidArgument(path.string() + ": expected a JSON object"));
  }
  return j;
}

// The "gpupool" member of a preset: {"name", "aliases", "published_total", "published_active",
// "source"}, each optional, each of its one type.
Result<PresetInfo> ReadPresetMeta(const json& doc, const std::filesystem::path& path) {
  const std::string origin = path.string();
  const json& meta = doc.at("gpupool");
  if (!meta.is_object()) return Error(WrongType(origin, "gpupool", "an object", meta));
  PresetInfo p;
  p.path = path;
  p.name = path.stem().string();
  auto string_member = [&](const char* key, std::string& out) -> Status {
    auto it = meta.find(key);
    if (it == meta.end() || it->is_null()) return Status::Ok();
    if (!it->is_string()) return WrongType(origin, std::string("gpupool.") + key, "a string", *it);
    out = it->get<std::string>();
    return Status::Ok();
  };
  auto number_member = [&](const char* key, double& out) -> Status {
    auto it = meta.find(key);
    if (it == meta.end() || it->is_null()) return Status::Ok();
    if (!it->is_number()) return WrongType(origin, std::string("gpupool.") + key, "a number", *it);
    out = it->get<double>();
    return Status::Ok();
  };
  GP_RETURN_IF_ERROR(string_member("name", p.name));
  GP_RETURN_IF_ERROR(string_member("source", p.source));
  GP_RETURN_IF_ERROR(number_member("published_total", p.published_total));
  GP_RETURN_IF_ERROR(number_member("published_active", p.published_active));
  if (auto a = meta.find("aliases"); a != meta.end() && !a->is_null()) {
    if (!a->is_array()) return Error(WrongType(origin, "gpupool.aliases", "an array", *a));
    for (std::size_t i = 0; i < a->size(); ++i) {
      const json& alias = (*a)[i];
      if (!alias.is_string()) {
        return Error(
            WrongType(origin, "gpupool.aliases[" + std::to_string(i) + "]", "a string", alias));
      }
      p.aliases.push_back(alias.get<std::string>());
    }
  }
  return p;
}

}  // namespace

namespace {

// The families the loader reads, each with the model_type values that name it.
struct Family {
  const char* name;
  std::initializer_list<const char*> types;
};
constexpr Family kFamilies[] = {
    {"llama", {"llama"}},
    {"mistral", {"mistral"}},
    {"mixtral", {"mixtral"}},
    {"qwen2", {"qwen2", "qwen2_5_vl"}},
    {"qwen2_moe", {"qwen2_moe"}},
    {"qwen3", {"qwen3"}},
    {"qwen3_moe", {"qwen3_moe"}},
    {"qwen3_next", {"qwen3_next"}},
    {"deepseek_v2", {"deepseek_v2"}},
    {"deepseek_v3", {"deepseek_v3", "kimi_k2"}},
    {"gpt2", {"gpt2"}},
    {"bert", {"bert", "roberta"}},
    {"t5", {"t5", "mt5", "umt5"}},
    {"gpt_neox", {"gpt_neox"}},
    {"gemma", {"gemma"}},
    {"gemma2", {"gemma2"}},
    {"gemma3", {"gemma3", "gemma3_text"}},
    {"llama4", {"llama4", "llama4_text"}},
    {"gpt_oss", {"gpt_oss"}},
    {"glm4_moe", {"glm4_moe"}},
    {"chatglm", {"chatglm"}},
    {"phi3", {"phi3"}},
    {"internlm2", {"internlm2"}},
    {"falcon", {"falcon"}},
    {"nemotron", {"nemotron"}},
    {"minimax", {"minimax", "minimax_m1", "minimax_text_01"}},
};

std::string KnownFamilies() {
  std::string out;
  for (const Family& f : kFamilies) {
    for (const char* t : f.types) out += (out.empty() ? "" : ", ") + std::string(t);
  }
  return out;
}

const char* FamilyOf(std::string_view type) {
  for (const Family& f : kFamilies) {
    for (const char* t : f.types) {
      if (type == t) return f.name;
    }
  }
  return nullptr;
}

bool HasAll(const json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return false;
  }
  return true;
}

// An unknown model_type whose fields are those of a known family: the family and the fields
// that decided it, most specific first; nullptr when nothing matches.
const char* GuessFamily(const json& j, std::string* because) {
  struct Rule {
    const char* family;
    std::initializer_list<const char*> keys;
  };
  static const Rule kRules[] = {
      {"deepseek_v3", {"kv_lora_rank", "qk_rope_head_dim", "n_routed_experts"}},
      {"deepseek_v2", {"kv_lora_rank", "qk_rope_head_dim"}},
      {"chatglm", {"num_layers", "ffn_hidden_size", "padded_vocab_size"}},
      {"qwen3_next", {"full_attention_interval", "linear_num_value_heads"}},
      {"minimax", {"attn_type_list", "num_local_experts"}},
      {"llama4", {"interleave_moe_layer_step", "intermediate_size_mlp"}},
      {"glm4_moe", {"n_routed_experts", "moe_intermediate_size", "first_k_dense_replace"}},
      {"qwen3_moe", {"num_experts", "moe_intermediate_size"}},
      {"mixtral", {"num_local_experts", "num_experts_per_tok", "intermediate_size"}},
      {"gpt2", {"n_embd", "n_layer", "n_head"}},
      {"t5", {"d_model", "d_kv", "d_ff", "num_heads", "num_layers"}},
      {"llama",
       {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
        "vocab_size"}},
  };
  for (const Rule& r : kRules) {
    if (!HasAll(j, r.keys)) continue;
    std::string fields;
    for (const char* k : r.keys) fields += (fields.empty() ? "" : ", ") + std::string(k);
    *because = fields;
    return r.family;
  }
  return nullptr;
}

// A per-layer list of strings or integers as a vector of T, with its exact length checked.
Result<std::vector<json>> LayerList(const json& j, const char* key, int layers,
                                    std::string_view origin) {
  const json& v = j.at(key);
  if (!v.is_array()) return Error(WrongType(origin, key, "an array", v));
  if (static_cast<int>(v.size()) != layers) {
    return Error(Status::InvalidArgument(std::string(origin) + ": field '" + key + "' lists " +
                                         std::to_string(v.size()) + " layers, but the model has " +
                                         std::to_string(layers) + " ('num_hidden_layers')"));
  }
  return std::vector<json>(v.begin(), v.end());
}

// HF `layer_types` names: "full_attention", "sliding_attention", "chunked_attention",
// "linear_attention".
Result<std::vector<LayerAttention>> ReadLayerTypes(const json& j, int layers, int64_t window,
                                                   int64_t chunk, std::string_view origin) {
  GP_ASSIGN_OR_RETURN(const std::vector<json> list, LayerList(j, "layer_types", layers, origin));
  std::vector<LayerAttention> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "layer_types[" + std::to_string(i) + "]";
    if (!list[i].is_string()) return Error(WrongType(origin, at, "a string", list[i]));
    const std::string t = list[i].get<std::string>();
    if (t == "full_attention") {
      out.push_back({AttentionKind::kFull, 0});
    } else if (t == "sliding_attention") {
      if (window <= 0) {
        return Error(Status::InvalidArgument(std::string(origin) + ": " + at +
                                             " is sliding_attention but 'sliding_window' is "
                                             "not given"));
      }
      out.push_back({AttentionKind::kSliding, window});
    } else if (t == "chunked_attention") {
      if (chunk <= 0) {
        return Error(Status::InvalidArgument(std::string(origin) + ": " + at +
                                             " is chunked_attention but 'attention_chunk_size' "
                                             "is not given"));
      }
      out.push_back({AttentionKind::kChunked, chunk});
    } else if (t == "linear_attention") {
      out.push_back({AttentionKind::kLinear, 0});
    } else {
      return Error(Status::InvalidArgument(
          std::string(origin) + ": " + at + " is '" + t +
          "' (known: full_attention, sliding_attention, chunked_attention, linear_attention)"));
    }
  }
  return out;
}

std::vector<LayerAttention> Uniform(int layers, LayerAttention a) {
  return std::vector<LayerAttention>(static_cast<size_t>(std::max(layers, 0)), a);
}

// Qwen2.5-VL's vision tower: a 3-D patch embedding (in_chans x temporal_patch_size x patch^2 x h,
// no bias); `depth` blocks of two RMSNorms, fused qkv and proj with biases, and a gated MLP with
// biases; the patch merger: an RMSNorm, then (merge^2 h -> merge^2 h) and (merge^2 h ->
// out_hidden_size), both with biases.
Result<int64_t> QwenVisionParams(const json& v, std::string_view origin, int64_t text_hidden) {
  const Reader r(v, origin, "vision_config");
  GP_ASSIGN_OR_RETURN(const int64_t depth, r.Int<int64_t>({"depth"}));
  GP_ASSIGN_OR_RETURN(const int64_t h, r.Int<int64_t>({"hidden_size"}));
  GP_ASSIGN_OR_RETURN(const int64_t f, r.Int<int64_t>({"intermediate_size"}));
  GP_ASSIGN_OR_RETURN(const int64_t patch, r.Int<int64_t>({"patch_size"}));
  GP_ASSIGN_OR_RETURN(const int64_t temporal, r.IntOr<int64_t>("temporal_patch_size", 2));
  GP_ASSIGN_OR_RETURN(const int64_t channels, r.IntOr<int64_t>("in_chans", 3));
  GP_ASSIGN_OR_RETURN(const int64_t merge, r.IntOr<int64_t>("spatial_merge_size", 2));
  GP_ASSIGN_OR_RETURN(const int64_t out, r.IntOr<int64_t>("out_hidden_size", text_hidden));
  const int64_t block = 2 * h + (h * 3 * h + 3 * h) + (h * h + h) + (3 * h * f + 2 * f + h);
  const int64_t merged = merge * merge * h;
  return channels * temporal * patch * patch * h + depth * block + h + (merged * merged + merged) +
         (merged * out + out);
}

// The vision tower of a multimodal config, counted as a ViT (SigLIP, Llama 4's encoder): patch
// embedding (conv with bias), position table (+ class token when `class_token`), per layer q/k/v/o
// and a 2-matrix MLP, all with biases, and two LayerNorms; a final LayerNorm; then the projector
// into the language model (vision hidden -> text hidden, no bias).
Result<int64_t> VisionParams(const json& v, std::string_view origin, int64_t text_hidden,
                             std::string_view family) {
  const Reader r(v, origin, "vision_config");
  GP_ASSIGN_OR_RETURN(const int64_t h, r.Int<int64_t>({"hidden_size"}));
  GP_ASSIGN_OR_RETURN(const int64_t f, r.Int<int64_t>({"intermediate_size"}));
  GP_ASSIGN_OR_RETURN(const int64_t layers, r.Int<int64_t>({"num_hidden_layers"}));
  GP_ASSIGN_OR_RETURN(const int64_t patch, r.Int<int64_t>({"patch_size"}));
  GP_ASSIGN_OR_RETURN(const int64_t image, r.Int<int64_t>({"image_size"}));
  GP_ASSIGN_OR_RETURN(const int64_t channels, r.IntOr<int64_t>("num_channels", 3));
  if (patch <= 0 || image <= 0) {
    return Error(
        Status::InvalidArgument(std::string(origin) + ": patch_size and image_size must be > 0"));
  }
  const bool llama4 = family == "llama4";
  const int64_t patches = (image / patch) * (image / patch);
  int64_t p = channels * patch * patch * h + (llama4 ? 0 : h);  // Llama 4: unfold + linear
  p += (patches + (llama4 ? 1 : 0)) * h + (llama4 ? h : 0);     // positions (+ class token)
  const int64_t layer = 4 * (h * h + h) + (h * f + f + f * h + h) + 4 * h;  // two LayerNorms
  p += layers * layer + 2 * h;
  if (llama4) p += 2 * h;  // pre-LayerNorm
  // Projector to the text model. Llama 4: pixel-shuffle adapter MLP (4h -> projector_input_dim ->
  // projector_output_dim, no biases) then a linear to the text hidden size; Gemma 3: one matrix
  // plus an RMSNorm of the vision width.
  if (llama4) {
    GP_ASSIGN_OR_RETURN(const int64_t in, r.Int<int64_t>({"projector_input_dim"}));
    GP_ASSIGN_OR_RETURN(const int64_t out, r.Int<int64_t>({"projector_output_dim"}));
    GP_ASSIGN_OR_RETURN(const int64_t vis_out, r.Int<int64_t>({"vision_output_dim"}));
    p += 4 * h * in + in * out + vis_out * text_hidden;
  } else {
    p += h * text_hidden + h;
  }
  return p;
}

// compressed-tensors (llm-compressor): the first config group targeting linear layers gives the
// weights' bits and strategy and whether the input activations are quantised (W8A8) or not
// (weight-only). Bytes per weight: bits / 8, plus one 16-bit scale per group for the "group"
// strategy (and a zero point of the same bits when not symmetric); per-channel and per-tensor
// scales are negligible.
Status ParseCompressedTensors(const json& q, const std::string& where, QuantSpec& s) {
  s.method = QuantMethod::kCompressedTensors;
  // Members read without throwing: a missing or mistyped optional member takes its default.
  const auto str = [](const json& o, const char* k, const char* d) {
    auto it = o.find(k);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string(d);
  };
  const auto flag = [](const json& o, const char* k, bool d) {
    auto it = o.find(k);
    return it != o.end() && it->is_boolean() ? it->get<bool>() : d;
  };
  const auto integer = [](const json& o, const char* k, int d) {
    auto it = o.find(k);
    return it != o.end() && it->is_number_integer() ? it->get<int>() : d;
  };
  auto groups = q.find("config_groups");
  if (groups == q.end() || !groups->is_object() || groups->empty()) {
    return Status::InvalidArgument(where + ": missing field 'config_groups' (an object of groups)");
  }
  const std::string gname = groups->begin().key();
  const json& g = groups->begin().value();
  const std::string gwhere = where + ".config_groups." + gname;
  if (!g.is_object()) return WrongType(where, "config_groups." + gname, "an object", g);
  auto w = g.find("weights");
  if (w == g.end() || !w->is_object()) {
    return Status::InvalidArgument(gwhere + ": missing field 'weights' (an object)");
  }
  auto bits_it = w->find("num_bits");
  if (bits_it == w->end() || !bits_it->is_number_integer() || bits_it->get<int>() < 1 ||
      bits_it->get<int>() > 8) {
    return Status::InvalidArgument(gwhere + ".weights: field 'num_bits' must be an integer 1..8");
  }
  const int bits = bits_it->get<int>();
  const std::string type = str(*w, "type", "int");
  const std::string strategy = str(*w, "strategy", "tensor");
  s.bytes_per_weight = bits / 8.0;
  if (strategy == "group") {
    auto gs = w->find("group_size");
    if (gs == w->end() || !gs->is_number_integer() || gs->get<int>() <= 0) {
      return Status::InvalidArgument(gwhere +
                                     ".weights: strategy 'group' needs a positive 'group_size'");
    }
    const bool symmetric = flag(*w, "symmetric", true);
    s.bytes_per_weight += (16.0 + (symmetric ? 0.0 : bits)) / gs->get<int>() / 8.0;
  }
  std::string act = "16-bit";
  if (auto a = g.find("input_activations"); a != g.end() && a->is_object()) {
    const int abits = integer(*a, "num_bits", 16);
    const std::string atype = str(*a, "type", "int");
    if (abits == 8) {
      s.activations = atype == "float" ? QuantActivations::kFp8 : QuantActivations::kInt8;
      act = atype == "float" ? "fp8" : "int8";
    }
  }
  s.block_scaled = strategy == "block" || strategy == "group";
  s.label = "compressed-tensors " + std::string(type == "float" ? "float" : "int") +
            std::to_string(bits) + " weights (" + strategy + "), " + act + " activations";
  return Status::Ok();
}

// quantization_config: the method, its bytes per weight with the scales, and which linear parts
// stay 16-bit (modules_to_not_convert). An unknown method is refused: weights would be priced
// wrongly otherwise.
Result<QuantSpec> ParseQuantization(const json& q, std::string_view origin) {
  const std::string where = std::string(origin) + ": quantization_config";
  if (!q.is_object()) return Error(WrongType(origin, "quantization_config", "an object", q));
  auto method_it = q.find("quant_method");
  if (method_it == q.end() || !method_it->is_string()) {
    return Error(Status::InvalidArgument(where + ": missing field 'quant_method' (a string)"));
  }
  const std::string method = method_it->get<std::string>();
  const Reader r(q, where, method);
  QuantSpec s;
  if (method == "mxfp4") {
    s.method = QuantMethod::kMxfp4;
    s.label = "mxfp4";
    s.bytes_per_weight = (4.0 + 8.0 / 32.0) / 8.0;  // E2M1 + one E8M0 scale per 32
  } else if (method == "fp8") {
    s.method = QuantMethod::kFp8;
    s.bytes_per_weight = 1.0;
    s.label = "fp8";
    if (auto b = q.find("weight_block_size"); b != q.end() && !b->is_null()) {
      if (!b->is_array() || b->size() != 2 || !(*b)[0].is_number_integer() ||
          !(*b)[1].is_number_integer() || (*b)[0].get<int64_t>() <= 0 ||
          (*b)[1].get<int64_t>() <= 0) {
        return Error(WrongType(where, "weight_block_size", "two positive integers", *b));
      }
      const int64_t rows = (*b)[0].get<int64_t>();
      const int64_t cols = (*b)[1].get<int64_t>();
      s.bytes_per_weight += 4.0 / double(rows * cols);  // one FP32 scale per block
      s.label = "fp8 block " + std::to_string(rows) + "x" + std::to_string(cols);
      s.block_scaled = true;
    } else {
      s.label = "fp8 per tensor";  // one scale per matrix: negligible
    }
  } else if (method == "awq" || method == "gptq") {
    s.method = QuantMethod::kIntGroup;
    GP_ASSIGN_OR_RETURN(const int bits, r.Int<int>({"bits", "w_bit"}));
    GP_ASSIGN_OR_RETURN(const int g, r.Int<int>({"group_size", "q_group_size"}));
    if (bits <= 0 || bits > 8) {
      return Error(Status::InvalidArgument(where + ": field 'bits' must be in 1..8"));
    }
    // Per group: an FP16 scale and a packed b-bit zero point (GPTQ stores qzeros even when
    // symmetric). group_size -1 means one scale per output channel: negligible.
    s.bytes_per_weight = g > 0 ? (bits + (16.0 + bits) / g) / 8.0 : bits / 8.0;
    s.label = method + " int" + std::to_string(bits) +
              (g > 0 ? " group " + std::to_string(g) : " per channel");
  } else if (method == "compressed-tensors") {
    GP_RETURN_IF_ERROR(ParseCompressedTensors(q, where, s));
  } else {
    return Error(Status::InvalidArgument(
        where + ": quant_method '" + method +
        "' is not priced (known: mxfp4, fp8, awq, gptq, compressed-tensors)"));
  }
  if (method == "fp8") s.activations = QuantActivations::kFp8;
  for (const char* key : {"modules_to_not_convert", "ignored_layers", "ignore"}) {
    auto it = q.find(key);
    if (it == q.end() || it->is_null()) continue;
    if (!it->is_array()) return Error(WrongType(where, key, "an array of strings", *it));
    for (size_t i = 0; i < it->size(); ++i) {
      const json& e = (*it)[i];
      if (!e.is_string()) {
        return Error(
            WrongType(where, std::string(key) + "[" + std::to_string(i) + "]", "a string", e));
      }
      std::string n = e.get<std::string>();
      if (n.rfind("re:", 0) == 0) n = n.substr(3);  // compressed-tensors' regular expressions
      auto has = [&n](const char* part) { return n.find(part) != std::string::npos; };
      // "model.layers.12.self_attn": only layer 12's part stays 16-bit.
      int layer = -1;
      if (const size_t at = n.find("layers."); at != std::string::npos) {
        size_t end = at + 7;
        int v = 0;
        while (end < n.size() && n[end] >= '0' && n[end] <= '9' && v < 1000000) {
          v = v * 10 + (n[end++] - '0');
        }
        if (end > at + 7 && end < n.size() && n[end] == '.') layer = v;
      }
      QuantParts parts = layer >= 0
                             ? s.PartsAt(layer)
                             : QuantParts{s.attention, s.dense_ffn, s.experts, s.shared_experts};
      bool placed = true;
      if (has("shared_expert")) {
        parts.shared_experts = false;
      } else if (has("experts")) {
        parts.experts = false;
      } else if (has("attn") || has("attention")) {
        parts.attention = false;
      } else if (has("router") || has("embed") || has("lm_head") || has("norm") || has("vision") ||
                 has("visual") || has("multi_modal") ||
                 (has("gate") && !has("gate_proj") && !has("gate_up"))) {
        // Kept 16-bit by the planner anyway (embeddings, head, routers, norms, vision tower).
      } else if (has("mlp")) {
        parts.dense_ffn = false;
      } else {
        placed = false;
        s.notes.push_back(std::string(key) + " entry '" + n +
                          "' names no part the planner prices apart; ignored");
      }
      if (!placed) continue;
      if (layer < 0) {
        s.attention = parts.attention;
        s.dense_ffn = parts.dense_ffn;
        s.experts = parts.experts;
        s.shared_experts = parts.shared_experts;
        continue;
      }
      bool found = false;
      for (auto& [l, p] : s.layer_parts) {
        if (l == layer) {
          p = parts;
          found = true;
        }
      }
      if (!found) s.layer_parts.emplace_back(layer, parts);
      if (has("_proj")) {
        s.notes.push_back(std::string(key) + " entry '" + n +
                          "' names one projection: the planner keeps that layer's whole part "
                          "16-bit (it prices parts, not single projections)");
      }
    }
  }
  return s;
}

Result<ModelSpec> ParseLanguageModel(const json& config, std::string_view origin,
                                     const std::string& type, const std::string& family,
                                     std::vector<std::string> warnings);

}  // namespace

Result<ModelSpec> ParseHfConfig(const json& config, std::string_view origin) {
  if (!config.is_object()) {
    return Error(Status::InvalidArgument(std::string(origin) + ": expected a JSON object"));
  }
  auto type_it = config.find("model_type");
  if (type_it != config.end() && !type_it->is_null() && !type_it->is_string()) {
    return Error(WrongType(origin, "model_type", "a string", *type_it));
  }
  if (type_it == config.end() || !type_it->is_string()) {
    return Error(Status::InvalidArgument(
        std::string(origin) + ": missing field 'model_type' (one of " + KnownFamilies() + ")"));
  }
  const std::string outer_type = type_it->get<std::string>();

  // Multimodal configs keep the language model under text_config (Gemma 3, Llama 4).
  const json* text = &config;
  std::string text_origin(origin);
  std::string type = outer_type;
  if (auto t = config.find("text_config"); t != config.end() && !t->is_null()) {
    if (!t->is_object()) return Error(WrongType(origin, "text_config", "an object", *t));
    text = &*t;
    text_origin = std::string(origin) + ": text_config";
    if (auto tt = t->find("model_type"); tt != t->end() && !tt->is_null()) {
      if (!tt->is_string()) return Error(WrongType(text_origin, "model_type", "a string", *tt));
      type = tt->get<std::string>();
    }
  }
  std::vector<std::string> warnings;
  const char* family = FamilyOf(type);
  if (family == nullptr) family = FamilyOf(outer_type);
  if (family == nullptr) {
    std::string because;
    family = GuessFamily(*text, &because);
    if (family == nullptr) {
      return Error(Status::InvalidArgument(std::string(origin) + ": unsupported model_type '" +
                                           type + "' (known: " + KnownFamilies() +
                                           "), and its fields match none of these families"));
    }
    warnings.push_back("model_type '" + type + "' is not a known family; its fields (" + because +
                       ") match " + family + ", so it is read as " + family +
                       ": check the parameter count against the model card");
  }
  GP_ASSIGN_OR_RETURN(ModelSpec m,
                      ParseLanguageModel(*text, text_origin, type, family, std::move(warnings)));
  m.name = std::string(origin);

  if (auto v = config.find("vision_config"); v != config.end() && !v->is_null()) {
    if (!v->is_object()) return Error(WrongType(origin, "vision_config", "an object", *v));
    const std::string where = std::string(origin) + ": vision_config";
    if (HasAll(*v, {"depth", "hidden_size", "intermediate_size", "patch_size"})) {
      GP_ASSIGN_OR_RETURN(m.vision_params, QwenVisionParams(*v, where, m.hidden));
    } else if (HasAll(*v, {"hidden_size", "intermediate_size", "num_hidden_layers", "patch_size",
                           "image_size"})) {
      GP_ASSIGN_OR_RETURN(m.vision_params, VisionParams(*v, where, m.hidden, family));
    } else {
      // A tower of another shape: the language model is still sized; the tower is said to be
      // left out rather than guessed.
      m.warnings.push_back(where +
                           " is neither a ViT (hidden_size, intermediate_size, num_hidden_layers, "
                           "patch_size, image_size) nor Qwen2.5-VL's (depth, ...): the vision "
                           "tower is not counted");
    }
  }
  if (auto q = config.find("quantization_config"); q != config.end() && !q->is_null()) {
    GP_ASSIGN_OR_RETURN(m.quant, ParseQuantization(*q, origin));
  }
  if (Status st = Validate(m); !st.ok()) return Error(st);
  return m;
}

namespace {

Result<ModelSpec> ParseLanguageModel(const json& config, std::string_view origin,
                                     const std::string& type, const std::string& family,
                                     std::vector<std::string> warnings) {
  const Reader r(config, origin, type);
  ModelSpec m;
  m.name = std::string(origin);
  m.architecture = type;
  m.warnings = std::move(warnings);
  // A field the family's code defaults when the file leaves it out: take the default and say so.
  auto defaulted = [&](const char* key, int64_t fallback, const char* whose) -> Result<int64_t> {
    if (r.Has(key)) return r.Int<int64_t>({key});
    m.warnings.push_back(std::string("'") + key + "' not in " + std::string(origin) + ": " + whose +
                         "'s default " + std::to_string(fallback) + " assumed");
    return fallback;
  };

  const bool gpt2 = family == "gpt2";
  const bool bert = family == "bert";
  const bool t5 = family == "t5";
  const bool neox = family == "gpt_neox";
  const bool chatglm = family == "chatglm";
  const bool falcon = family == "falcon";
  const bool deepseek = family == "deepseek_v2" || family == "deepseek_v3";
  const bool gemma = family == "gemma" || family == "gemma2" || family == "gemma3";

  if (bert) {
    // BERT / RoBERTa (encoder-only): word, position and token-type embeddings with a LayerNorm
    // (the same 2h as GPT-2's final norm), post-LN layers with biases on every linear layer, a
    // GELU MLP, and the pooler (BertModel, as the published 110M / 340M count it; the MLM head's
    // decoder is tied to the word embedding).
    GP_ASSIGN_OR_RETURN(m.num_layers, r.Int<int>({"num_hidden_layers"}));
    GP_ASSIGN_OR_RETURN(m.hidden, r.Int<int64_t>({"hidden_size"}));
    GP_ASSIGN_OR_RETURN(m.num_heads, r.Int<int>({"num_attention_heads"}));
    GP_ASSIGN_OR_RETURN(m.vocab, r.Int<int64_t>({"vocab_size"}));
    GP_ASSIGN_OR_RETURN(m.ffn, r.Int<int64_t>({"intermediate_size"}));
    GP_ASSIGN_OR_RETURN(m.max_positions, r.Int<int64_t>({"max_position_embeddings"}));
    GP_ASSIGN_OR_RETURN(m.token_types, r.IntOr<int64_t>("type_vocab_size", 2));
    m.num_kv_heads = m.num_heads;
    m.learned_positions = true;
    m.tied_embeddings = true;
    m.ffn_kind = FfnKind::kPlain;
    m.norm_kind = NormKind::kLayer;
    m.linear_bias = true;
    m.encoder_only = true;
    m.pooler = true;
  } else if (t5) {
    // T5 / mT5 / umT5 / Flan-T5 / UL2 (T5ForConditionalGeneration): the shared embedding, an
    // encoder of num_layers blocks and a decoder of num_decoder_layers blocks (cross-attention
    // added), RMS-style norms with one vector and no biases anywhere, q/k/v/o of num_heads x d_kv
    // (not d_model / heads: T5-3B and 11B have 32 and 128 heads of 128 over d_model 1024), the
    // DenseReluDense MLP (wi, wo) or the gated one (wi_0, wi_1, wo) of feed_forward_proj
    // "gated-*", and an lm_head that is the shared embedding unless tie_word_embeddings is false
    // (T5 v1.1, mT5, Flan-T5, UL2). is_encoder_decoder false: the encoder alone (T5EncoderModel).
    GP_ASSIGN_OR_RETURN(const int encoder, r.Int<int>({"num_layers"}));
    GP_ASSIGN_OR_RETURN(const int decoder, r.IntOr<int>("num_decoder_layers", encoder));
    GP_ASSIGN_OR_RETURN(m.hidden, r.Int<int64_t>({"d_model"}));
    GP_ASSIGN_OR_RETURN(m.num_heads, r.Int<int>({"num_heads"}));
    GP_ASSIGN_OR_RETURN(m.head_dim, r.Int<int>({"d_kv"}));
    GP_ASSIGN_OR_RETURN(m.ffn, r.Int<int64_t>({"d_ff"}));
    GP_ASSIGN_OR_RETURN(m.vocab, r.Int<int64_t>({"vocab_size"}));
    GP_ASSIGN_OR_RETURN(m.relative_attention_buckets,
                        r.IntOr<int>("relative_attention_num_buckets", 32));
    GP_ASSIGN_OR_RETURN(const bool enc_dec, r.BoolOr("is_encoder_decoder", true));
    if (encoder <= 0 || (enc_dec && decoder <= 0)) {
      return Error(Status::InvalidArgument(std::string(origin) +
                                           ": num_layers and num_decoder_layers must be > 0"));
    }
    std::string proj = "relu";
    if (auto fp = config.find("feed_forward_proj"); fp != config.end() && !fp->is_null()) {
      if (!fp->is_string()) return Error(WrongType(origin, "feed_forward_proj", "a string", *fp));
      proj = fp->get<std::string>();
    }
    m.ffn_kind = proj.rfind("gated-", 0) == 0 ? FfnKind::kGated : FfnKind::kPlain;
    // T5Config and UMT5Config tie the head by default, MT5Config does not.
    GP_ASSIGN_OR_RETURN(m.tied_embeddings, r.BoolOr("tie_word_embeddings", type != "mt5"));
    m.relative_bias_every_layer = type == "umt5";  // UMT5: a bias table in every self-attention
    m.num_kv_heads = m.num_heads;
    m.norm_kind = NormKind::kRms;
    if (enc_dec) {
      m.num_layers = encoder + decoder;
      m.encoder_layers = encoder;
    } else {
      m.num_layers = encoder;
      m.encoder_only = true;
      m.tied_embeddings = true;  // T5EncoderModel has no head
    }
  } else if (gpt2) {
    GP_ASSIGN_OR_RETURN(m.num_layers, r.Int<int>({"n_layer", "num_hidden_layers"}));
    GP_ASSIGN_OR_RETURN(m.hidden, r.Int<int64_t>({"n_embd", "hidden_size"}));
    GP_ASSIGN_OR_RETURN(m.num_heads, r.Int<int>({"n_head", "num_attention_heads"}));
    GP_ASSIGN_OR_RETURN(m.vocab, r.Int<int64_t>({"vocab_size"}));
    GP_ASSIGN_OR_RETURN(m.max_positions,
                        r.Int<int64_t>({"n_positions", "max_position_embeddings"}));
    m.num_kv_heads = m.num_heads;
    GP_ASSIGN_OR_RETURN(m.ffn, r.IntOr<int64_t>("n_inner", 4 * m.hidden));
    m.learned_positions = true;
    GP_ASSIGN_OR_RETURN(m.tied_embeddings, r.BoolOr("tie_word_embeddings", true));
    m.ffn_kind = FfnKind::kPlain;
    m.norm_kind = NormKind::kLayer;
    m.linear_bias = true;
  } else if (chatglm) {
    // ChatGLM / GLM-4 (THUDM): Megatron-style names, fused query_key_value and dense_h_to_4h
    // (gate and up together), separate output_layer.
    GP_ASSIGN_OR_RETURN(m.num_layers, r.Int<int>({"num_layers"}));
    GP_ASSIGN_OR_RETURN(m.hidden, r.Int<int64_t>({"hidden_size"}));
    GP_ASSIGN_OR_RETURN(m.num_heads, r.Int<int>({"num_attention_heads"}));
    GP_ASSIGN_OR_RETURN(m.vocab, r.Int<int64_t>({"padded_vocab_size", "vocab_size"}));
    GP_ASSIGN_OR_RETURN(m.ffn, r.Int<int64_t>({"ffn_hidden_size"}));
    GP_ASSIGN_OR_RETURN(const bool mqa, r.BoolOr("multi_query_attention", false));
    m.num_kv_heads = m.num_heads;
    if (mqa) {
      GP_ASSIGN_OR_RETURN(m.num_kv_heads, r.Int<int>({"multi_query_group_num"}));
    }
    GP_ASSIGN_OR_RETURN(m.qkv_bias, r.BoolOr("add_qkv_bias", false));
    GP_ASSIGN_OR_RETURN(m.linear_bias, r.BoolOr("add_bias_linear", false));
    GP_ASSIGN_OR_RETURN(const bool rms, r.BoolOr("rmsnorm", true));
    m.norm_kind = rms ? NormKind::kRms : NormKind::kLayer;
    GP_ASSIGN_OR_RETURN(m.tied_embeddings, r.BoolOr("tie_word_embeddings", false));
  } else if (falcon) {
    GP_ASSIGN_OR_RETURN(m.num_layers, r.Int<int>({"num_hidden_layers", "n_layer"}));
    GP_ASSIGN_OR_RETURN(m.hidden, r.Int<int64_t>({"hidden_size"}));
    GP_ASSIGN_OR_RETURN(m.num_heads, r.Int<int>({"num_attention_heads", "n_head"}));
    GP_ASSIGN_OR_RETURN(m.vocab, r.Int<int64_t>({"vocab_size"}));
    GP_ASSIGN_OR_RETURN(m.ffn, r.IntOr<int64_t>("ffn_hidden_size", 4 * m.hidden));
    GP_ASSIGN_OR_RETURN(const bool new_arch, r.BoolOr("new_decoder_architecture", false));
    GP_ASSIGN_OR_RETURN(const bool multi_query, r.BoolOr("multi_query", true));
    GP_ASSIGN_OR_RETURN(const bool parallel, r.BoolOr("parallel_attn", true));
    if (new_arch) {
      GP_ASSIGN_OR_RETURN(m.num_kv_heads, r.Int<int>({"num_kv_heads"}));
    } else {
      m.num_kv_heads = multi_query ? 1 : m.num_heads;
    }
    // new architecture: ln_attn and ln_mlp; parallel attention: one input_layernorm.
    m.norms_per_layer = new_arch ? 2 : (parallel ? 1 : 2);
    GP_ASSIGN_OR_RETURN(m.linear_bias, r.BoolOr("bias", false));
    m.ffn_kind = FfnKind::kPlain;
    m.norm_kind = NormKind::kLayer;
    GP_ASSIGN_OR_RETURN(m.tied_embeddings, r.BoolOr("tie_word_embeddings", true));
  } else {
    GP_ASSIGN_OR_RETURN(m.num_layers, r.Int<int>({"num_hidden_layers"}));
    GP_ASSIGN_OR_RETURN(m.hidden, r.Int<int64_t>({"hidden_size"}));
    GP_ASSIGN_OR_RETURN(m.num_heads, r.Int<int>({"num_attention_heads"}));
    if (family == "gemma3") {
      GP_ASSIGN_OR_RETURN(m.vocab, defaulted("vocab_size", 262208, "Gemma3TextConfig"));
    } else {
      GP_ASSIGN_OR_RETURN(m.vocab, r.Int<int64_t>({"vocab_size"}));
    }
    GP_ASSIGN_OR_RETURN(m.num_kv_heads, r.IntOr<int>("num_key_value_heads", m.num_heads));
    GP_ASSIGN_OR_RETURN(m.ffn, r.Int<int64_t>({"intermediate_size"}));
    GP_ASSIGN_OR_RETURN(m.tied_embeddings, r.BoolOr("tie_word_embeddings", gemma));
  }
  if (m.num_heads <= 0) {
    return Error(
        Status::InvalidArgument(std::string(origin) + ": num_attention_heads must be > 0"));
  }
  if (!t5) {
    GP_ASSIGN_OR_RETURN(m.head_dim, r.IntOr<int>(chatglm ? "kv_channels" : "head_dim",
                                                 static_cast<int>(m.hidden / m.num_heads)));
  }

  if (family == "nemotron") {
    // Nemotron-4 / Minitron (transformers' NemotronForCausalLM): a two-matrix MLP with squared
    // ReLU (up_proj, down_proj), LayerNorm1P norms (weight and bias), biases only where
    // attention_bias / mlp_bias say.
    m.ffn_kind = FfnKind::kPlain;
    m.norm_kind = NormKind::kLayer;
  }
  if (!bert && !gpt2 && !chatglm && !falcon && !neox) {
    GP_ASSIGN_OR_RETURN(m.mlp_bias, r.BoolOr("mlp_bias", false));
  }
  if (neox) {
    m.ffn_kind = FfnKind::kPlain;
    m.norm_kind = NormKind::kLayer;
    m.linear_bias = true;
  }
  if (family == "qwen2" || family == "qwen2_moe") m.qkv_bias = true;
  if (family == "qwen3" || family == "qwen3_moe" || family == "qwen3_next" || family == "gemma3") {
    m.qk_norm = true;
  }
  if (!chatglm && !falcon) {
    GP_ASSIGN_OR_RETURN(const bool attention_bias, r.BoolOr("attention_bias", false));
    if (attention_bias) m.qkv_bias = true;
    // gpt_oss and llama put attention_bias on o_proj too; glm4_moe only on q/k/v.
    if (attention_bias && (family == "gpt_oss" || family == "llama" || family == "nemotron")) {
      m.o_bias = true;
    }
  }
  if (family == "internlm2") {
    GP_ASSIGN_OR_RETURN(const bool bias, r.BoolOr("bias", false));
    m.qkv_bias = m.o_bias = bias;
  }
  if (family == "glm4_moe") {
    GP_ASSIGN_OR_RETURN(m.qk_norm, r.BoolOr("use_qk_norm", false));
  }
  if (family == "gemma2" || family == "gemma3") m.norms_per_layer = 4;  // sandwich norms

  // --- Attention pattern.
  GP_ASSIGN_OR_RETURN(const int64_t window, r.IntOr<int64_t>("sliding_window", 0));
  if (r.Has("layer_types")) {
    GP_ASSIGN_OR_RETURN(const int64_t chunk, r.IntOr<int64_t>("attention_chunk_size", 0));
    GP_ASSIGN_OR_RETURN(m.attention, ReadLayerTypes(config, m.num_layers, window, chunk, origin));
  } else if (family == "gemma2") {
    // Gemma 2: even layers local (sliding), odd layers global.
    GP_ASSIGN_OR_RETURN(const int64_t w, defaulted("sliding_window", 4096, "Gemma2Config"));
    for (int i = 0; i < m.num_layers; ++i) {
      m.attention.push_back(i % 2 == 0 ? LayerAttention{AttentionKind::kSliding, w}
                                       : LayerAttention{AttentionKind::kFull, 0});
    }
  } else if (family == "gemma3") {
    // Gemma 3: every sliding_window_pattern-th layer (counting from 1) is global.
    GP_ASSIGN_OR_RETURN(const int64_t w, defaulted("sliding_window", 4096, "Gemma3TextConfig"));
    GP_ASSIGN_OR_RETURN(const int64_t pattern,
                        defaulted("sliding_window_pattern", 6, "Gemma3TextConfig"));
    if (pattern <= 0) {
      return Error(Status::InvalidArgument(std::string(origin) +
                                           ": field 'sliding_window_pattern' must be > 0"));
    }
    for (int i = 0; i < m.num_layers; ++i) {
      m.attention.push_back((i + 1) % pattern != 0 ? LayerAttention{AttentionKind::kSliding, w}
                                                   : LayerAttention{AttentionKind::kFull, 0});
    }
  } else if (family == "qwen3_next") {
    GP_ASSIGN_OR_RETURN(const int interval, r.Int<int>({"full_attention_interval"}));
    if (interval <= 0) {
      return Error(Status::InvalidArgument(std::string(origin) +
                                           ": field 'full_attention_interval' must be > 0"));
    }
    for (int i = 0; i < m.num_layers; ++i) {
      m.attention.push_back((i + 1) % interval != 0 ? LayerAttention{AttentionKind::kLinear, 0}
                                                    : LayerAttention{AttentionKind::kFull, 0});
    }
  } else if (family == "minimax") {
    // attn_type_list: 0 = lightning (linear) attention, 1 = softmax attention.
    GP_ASSIGN_OR_RETURN(const std::vector<json> list,
                        LayerList(config, "attn_type_list", m.num_layers, origin));
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_number_integer() || (list[i] != 0 && list[i] != 1)) {
        return Error(
            WrongType(origin, "attn_type_list[" + std::to_string(i) + "]", "0 or 1", list[i]));
      }
      m.attention.push_back(list[i] == 0 ? LayerAttention{AttentionKind::kLinear, 0}
                                         : LayerAttention{AttentionKind::kFull, 0});
    }
  } else if (family == "llama4") {
    // Layers with RoPE use chunked attention; every no_rope_layer_interval-th layer (NoPE) is
    // global. no_rope_layers lists 1 (RoPE) / 0 (NoPE) per layer; empty means the default rule.
    GP_ASSIGN_OR_RETURN(const int64_t chunk, r.IntOr<int64_t>("attention_chunk_size", 0));
    std::vector<bool> rope(static_cast<size_t>(m.num_layers), true);
    const bool listed = r.Has("no_rope_layers") && config.at("no_rope_layers").is_array() &&
                        !config.at("no_rope_layers").empty();
    if (listed) {
      GP_ASSIGN_OR_RETURN(const std::vector<json> list,
                          LayerList(config, "no_rope_layers", m.num_layers, origin));
      for (size_t i = 0; i < list.size(); ++i) {
        if (!list[i].is_number_integer()) {
          return Error(
              WrongType(origin, "no_rope_layers[" + std::to_string(i) + "]", "0 or 1", list[i]));
        }
        rope[i] = list[i] != 0;
      }
    } else {
      GP_ASSIGN_OR_RETURN(const int interval, r.IntOr<int>("no_rope_layer_interval", 4));
      if (interval <= 0) {
        return Error(Status::InvalidArgument(std::string(origin) +
                                             ": field 'no_rope_layer_interval' must be > 0"));
      }
      for (int i = 0; i < m.num_layers; ++i) rope[i] = (i + 1) % interval != 0;
    }
    if (chunk > 0) {
      for (int i = 0; i < m.num_layers; ++i) {
        m.attention.push_back(rope[i] ? LayerAttention{AttentionKind::kChunked, chunk}
                                      : LayerAttention{AttentionKind::kFull, 0});
      }
    }
  } else if (window > 0 && (family == "mistral" || family == "mixtral" || family == "phi3")) {
    // These apply sliding_window to every layer when it is set (Mistral 7B v0.1: 4096).
    m.attention = Uniform(m.num_layers, {AttentionKind::kSliding, window});
  } else if (window > 0 && (family == "qwen2" || family == "qwen2_moe" || family == "qwen3" ||
                            family == "qwen3_moe")) {
    GP_ASSIGN_OR_RETURN(const bool use, r.BoolOr("use_sliding_window", false));
    if (use) {
      // Qwen2: layers from max_window_layers on use the window.
      GP_ASSIGN_OR_RETURN(const int from, r.IntOr<int>("max_window_layers", 0));
      for (int i = 0; i < m.num_layers; ++i) {
        m.attention.push_back(i >= from ? LayerAttention{AttentionKind::kSliding, window}
                                        : LayerAttention{AttentionKind::kFull, 0});
      }
    }
  }

  // --- Linear attention layers.
  if (family == "qwen3_next") {
    m.output_gate = true;
    m.linear.kind = LinearAttentionKind::kGatedDeltaNet;
    GP_ASSIGN_OR_RETURN(m.linear.num_key_heads, r.Int<int>({"linear_num_key_heads"}));
    GP_ASSIGN_OR_RETURN(m.linear.num_value_heads, r.Int<int>({"linear_num_value_heads"}));
    GP_ASSIGN_OR_RETURN(m.linear.key_head_dim, r.Int<int>({"linear_key_head_dim"}));
    GP_ASSIGN_OR_RETURN(m.linear.value_head_dim, r.Int<int>({"linear_value_head_dim"}));
    GP_ASSIGN_OR_RETURN(m.linear.conv_kernel, r.Int<int>({"linear_conv_kernel_dim"}));
  } else if (family == "minimax") {
    m.linear.kind = LinearAttentionKind::kLightning;
  } else if (m.CountAttention(AttentionKind::kLinear) > 0) {
    return Error(Status::InvalidArgument(std::string(origin) +
                                         ": linear_attention layers are read for qwen3_next and "
                                         "minimax only (model_type '" +
                                         type + "')"));
  }

  // --- Mixture of experts.
  if (family == "mixtral" || family == "gpt_oss" || family == "minimax") {
    GP_ASSIGN_OR_RETURN(m.moe.num_experts, r.Int<int>({"num_local_experts"}));
    GP_ASSIGN_OR_RETURN(m.moe.top_k, r.Int<int>({"num_experts_per_tok", "experts_per_token"}));
    m.moe.expert_ffn = m.ffn;
  }
  if (family == "minimax") {
    GP_ASSIGN_OR_RETURN(m.moe.shared_ffn, r.IntOr<int64_t>("shared_intermediate_size", 0));
  }
  if (family == "gpt_oss") {
    m.attention_sinks = true;
    m.expert_bias = true;
    m.moe.router_bias = true;
  }
  if (family == "llama4") {
    // intermediate_size is an expert's width; intermediate_size_mlp the dense layers' FFN. Every
    // MoE layer also has one shared expert of the expert width.
    GP_ASSIGN_OR_RETURN(m.moe.num_experts, r.Int<int>({"num_local_experts"}));
    GP_ASSIGN_OR_RETURN(m.moe.top_k, r.Int<int>({"num_experts_per_tok"}));
    m.moe.expert_ffn = m.ffn;
    m.moe.shared_ffn = m.ffn;
    GP_ASSIGN_OR_RETURN(m.moe.layer_freq, r.IntOr<int>("interleave_moe_layer_step", 1));
    GP_ASSIGN_OR_RETURN(m.ffn, r.IntOr<int64_t>("intermediate_size_mlp", m.ffn));
    // moe_layers, when written out, names the MoE layers and wins over the step.
    if (auto ml = config.find("moe_layers"); ml != config.end() && !ml->is_null()) {
      if (!ml->is_array()) return Error(WrongType(origin, "moe_layers", "an array", *ml));
      for (size_t i = 0; i < ml->size(); ++i) {
        const json& v = (*ml)[i];
        const std::string at = "moe_layers[" + std::to_string(i) + "]";
        if (!v.is_number_integer()) return Error(WrongType(origin, at, "an integer", v));
        const int64_t layer = v.get<int64_t>();
        const int64_t previous = m.moe.layers.empty() ? -1 : m.moe.layers.back();
        if (layer <= previous || layer >= m.num_layers) {
          return Error(
              Status::InvalidArgument(std::string(origin) + ": " + at + " (" +
                                      std::to_string(layer) + ") must be a layer index in 0.." +
                                      std::to_string(m.num_layers - 1) + ", in ascending order"));
        }
        m.moe.layers.push_back(static_cast<int>(layer));
      }
    }
  }
  if (family == "qwen3_moe" || family == "qwen2_moe" || family == "qwen3_next") {
    GP_ASSIGN_OR_RETURN(m.moe.num_experts, r.Int<int>({"num_experts"}));
    GP_ASSIGN_OR_RETURN(m.moe.top_k, r.Int<int>({"num_experts_per_tok"}));
    GP_ASSIGN_OR_RETURN(m.moe.expert_ffn, r.Int<int64_t>({"moe_intermediate_size"}));
    GP_ASSIGN_OR_RETURN(m.moe.layer_freq, r.IntOr<int>("decoder_sparse_step", 1));
    if (family == "qwen2_moe" || family == "qwen3_next") {
      GP_ASSIGN_OR_RETURN(m.moe.shared_ffn, r.IntOr<int64_t>("shared_expert_intermediate_size", 0));
      m.moe.shared_expert_gate = m.moe.shared_ffn > 0;
    }
    if (r.Has("mlp_only_layers")) {
      GP_ASSIGN_OR_RETURN(const std::vector<json> dense, [&]() -> Result<std::vector<json>> {
        const json& v = config.at("mlp_only_layers");
        if (!v.is_array()) {
          return Error(WrongType(origin, "mlp_only_layers", "an array", v));
        }
        return std::vector<json>(v.begin(), v.end());
      }());
      if (!dense.empty()) {
        return Error(Status::InvalidArgument(std::string(origin) +
                                             ": a non-empty 'mlp_only_layers' is not supported "
                                             "(dense layers among MoE layers by index)"));
      }
    }
  }
  if (deepseek) {
    m.mla.enabled = true;
    GP_ASSIGN_OR_RETURN(m.mla.q_lora_rank, r.IntOr<int>("q_lora_rank", 0));
    GP_ASSIGN_OR_RETURN(m.mla.kv_lora_rank, r.Int<int>({"kv_lora_rank"}));
    GP_ASSIGN_OR_RETURN(m.mla.qk_nope_head_dim, r.Int<int>({"qk_nope_head_dim"}));
    GP_ASSIGN_OR_RETURN(m.mla.qk_rope_head_dim, r.Int<int>({"qk_rope_head_dim"}));
    GP_ASSIGN_OR_RETURN(m.mla.v_head_dim, r.Int<int>({"v_head_dim"}));
    m.head_dim = m.mla.qk_nope_head_dim + m.mla.qk_rope_head_dim;
    m.num_kv_heads = m.num_heads;
  }
  if (deepseek || family == "glm4_moe") {
    if (r.Has("n_routed_experts")) {
      GP_ASSIGN_OR_RETURN(m.moe.num_experts, r.Int<int>({"n_routed_experts"}));
      GP_ASSIGN_OR_RETURN(m.moe.top_k, r.Int<int>({"num_experts_per_tok"}));
      GP_ASSIGN_OR_RETURN(m.moe.expert_ffn, r.Int<int64_t>({"moe_intermediate_size"}));
      GP_ASSIGN_OR_RETURN(const int64_t shared_experts, r.IntOr<int64_t>("n_shared_experts", 0));
      m.moe.shared_ffn = shared_experts * m.moe.expert_ffn;
      GP_ASSIGN_OR_RETURN(m.moe.first_dense_layers, r.IntOr<int>("first_k_dense_replace", 0));
      GP_ASSIGN_OR_RETURN(m.moe.layer_freq, r.IntOr<int>("moe_layer_freq", 1));
      // V3 and GLM-4.5 route with sigmoid scores plus a per-expert correction bias; V2 has none.
      m.moe.router_bias = family != "deepseek_v2";
    }
    GP_ASSIGN_OR_RETURN(m.mtp_layers, r.IntOr<int>("num_nextn_predict_layers", 0));
  }
  return m;
}

}  // namespace

Status Validate(const ModelSpec& m) {
  const std::string& n = m.name;
  if (m.num_layers <= 0) return Status::InvalidArgument(n + ": layers must be > 0");
  if (m.hidden <= 0) return Status::InvalidArgument(n + ": hidden size must be > 0");
  if (m.num_heads <= 0) return Status::InvalidArgument(n + ": heads must be > 0");
  if (m.vocab <= 0) return Status::InvalidArgument(n + ": vocab must be > 0");
  if (m.ffn <= 0 && !(m.IsMoe() && m.moe.first_dense_layers == 0)) {
    return Status::InvalidArgument(n + ": ffn (intermediate size) must be > 0");
  }
  if (m.num_kv_heads <= 0 || m.num_heads % m.num_kv_heads != 0) {
    return Status::InvalidArgument(n + ": kv heads (" + std::to_string(m.num_kv_heads) +
                                   ") must divide heads (" + std::to_string(m.num_heads) + ")");
  }
  if (m.head_dim <= 0) return Status::InvalidArgument(n + ": head_dim must be > 0");
  if (m.IsMoe()) {
    if (m.moe.top_k <= 0 || m.moe.top_k > m.moe.num_experts) {
      return Status::InvalidArgument(n + ": top-k (" + std::to_string(m.moe.top_k) +
                                     ") must be in 1.." + std::to_string(m.moe.num_experts));
    }
    if (m.moe.expert_ffn <= 0) return Status::InvalidArgument(n + ": expert ffn must be > 0");
  } else if (m.moe.top_k != 0) {
    return Status::InvalidArgument(n + ": top-k given for a dense model (set --experts too)");
  }
  return Status::Ok();
}

Status ApplyOverrides(const ShapeOverrides& o, ModelSpec& m) {
  const bool head_dim_follows =
      !m.mla.enabled && static_cast<std::int64_t>(m.head_dim) * m.num_heads == m.hidden;
  // GPT-style configs derive the FFN width as 4 x hidden; keep that rule when only hidden changes.
  const bool ffn_follows = m.ffn_kind == FfnKind::kPlain && m.ffn == 4 * m.hidden;
  if (o.layers && m.IsEncoderDecoder()) {
    return Status::InvalidArgument(m.name +
                                   ": --layers does not apply to an encoder-decoder model (its "
                                   "encoder and decoder depths are num_layers and "
                                   "num_decoder_layers of its config.json)");
  }
  if (o.layers) m.num_layers = *o.layers;
  if (o.hidden) {
    m.hidden = *o.hidden;
    if (ffn_follows && !o.ffn) m.ffn = 4 * m.hidden;
  }
  if (o.heads) {
    // Keep MHA models MHA when only the head count changes.
    if (m.num_kv_heads == m.num_heads && !o.kv_heads) m.num_kv_heads = *o.heads;
    m.num_heads = *o.heads;
  }
  if (o.kv_heads) m.num_kv_heads = *o.kv_heads;
  if (o.ffn) {
    m.ffn = *o.ffn;
    if (m.architecture == "mixtral") m.moe.expert_ffn = *o.ffn;
  }
  if (o.vocab) m.vocab = *o.vocab;
  if (o.experts) {
    m.moe.num_experts = *o.experts;
    if (m.moe.num_experts > 0 && m.moe.expert_ffn == 0) m.moe.expert_ffn = m.ffn;
  }
  if (o.top_k) m.moe.top_k = *o.top_k;
  if (o.mtp_layers) {
    if (*o.mtp_layers < 0) {
      return Status::InvalidArgument(m.name + ": --mtp-layers must be >= 0, not " +
                                     std::to_string(*o.mtp_layers));
    }
    m.mtp_layers = *o.mtp_layers;
  }
  if (m.num_heads > 0 && head_dim_follows && (o.hidden || o.heads)) {
    if (m.hidden % m.num_heads != 0) {
      return Status::InvalidArgument(m.name + ": heads (" + std::to_string(m.num_heads) +
                                     ") must divide hidden (" + std::to_string(m.hidden) + ")");
    }
    m.head_dim = static_cast<int>(m.hidden / m.num_heads);
  }
  if (m.mla.enabled && o.kv_heads) {
    return Status::InvalidArgument(m.name +
                                   ": --kv-heads does not apply to multi-latent attention");
  }
  return Validate(m);
}

Result<std::vector<PresetInfo>> ListPresets(const std::filesystem::path& models_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(models_dir, ec)) {
    return Error(Status::NotFound(models_dir.string() + ": model preset folder not found"));
  }
  std::vector<PresetInfo> out;
  for (const auto& entry : std::filesystem::directory_iterator(models_dir, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    auto j = ReadJsonFile(entry.path());
    if (!j) return Error(j.error());
    if (!j->contains("gpupool")) continue;  // a sample config, not a preset
    GP_ASSIGN_OR_RETURN(PresetInfo p, ReadPresetMeta(*j, entry.path()));
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(),
            [](const PresetInfo& a, const PresetInfo& b) { return a.name < b.name; });
  return out;
}

namespace {

// Words that name a variant of a model rather than its shape: fine-tunes and quantised copies.
constexpr std::string_view kTuneWords[] = {"instruct", "chat", "hf", "base", "it", "sft", "dpo"};
constexpr std::string_view kQuantWords[] = {"fp8",  "int8",  "int4",  "awq",     "gptq",
                                            "w8a8", "w4a16", "w8a16", "dynamic", "quantized",
                                            "bnb",  "4bit",  "8bit",  "nvfp4",   "mxfp4"};

bool IsQuantisationWord(std::string_view w) {
  return std::find(std::begin(kQuantWords), std::end(kQuantWords), w) != std::end(kQuantWords);
}

// The part after the organisation ("meta-llama/Llama-3.1-8B" -> "Llama-3.1-8B").
std::string_view TailOfName(std::string_view name) {
  const auto slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

// `name` split at '-', '_' and ' ', lower-cased, without the variant words (collected in
// `dropped` when given), joined as Normalize joins: "Llama-3.1-8B-Instruct" -> "llama318b".
std::string WithoutVariantWords(std::string_view name, std::vector<std::string>* dropped) {
  std::string out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    const std::string lower = AlnumLower(word);
    const bool tune =
        std::find(std::begin(kTuneWords), std::end(kTuneWords), lower) != std::end(kTuneWords);
    if (tune || IsQuantisationWord(lower)) {
      if (dropped != nullptr) dropped->push_back(lower);
    } else {
      out += lower;
    }
    word.clear();
  };
  for (char c : name) {
    if (c == '-' || c == '_' || c == ' ') {
      flush();
    } else {
      word += c;
    }
  }
  flush();
  return out;
}

}  // namespace

Result<ModelSpec> LoadModel(std::string_view name_or_path,
                            const std::filesystem::path& models_dir) {
  std::error_code ec;
  std::filesystem::path path(name_or_path);
  if (std::filesystem::is_directory(path, ec)) path /= "config.json";
  if (std::filesystem::is_regular_file(path, ec)) {
    auto j = ReadJsonFile(path);
    if (!j) return Error(j.error());
    GP_ASSIGN_OR_RETURN(ModelSpec m, ParseHfConfig(*j, path.string()));
    if (j->contains("gpupool")) {
      GP_ASSIGN_OR_RETURN(const PresetInfo meta, ReadPresetMeta(*j, path));
      m.name = meta.name;
    }
    return m;
  }
  auto presets = ListPresets(models_dir);
  if (!presets) return Error(presets.error());
  // "meta-llama/Meta-Llama-3-8B": match the part after the organisation too.
  const std::string key = Normalize(name_or_path);
  std::string tail_key = key;
  if (auto slash = name_or_path.rfind('/'); slash != std::string_view::npos) {
    tail_key = Normalize(name_or_path.substr(slash + 1));
  }
  auto load = [](const PresetInfo& p) -> Result<ModelSpec> {
    auto j = ReadJsonFile(p.path);
    if (!j) return Error(j.error());
    auto m = ParseHfConfig(*j, p.path.string());
    if (m) m->name = p.name;
    return m;
  };
  std::string known;
  for (const PresetInfo& p : *presets) {
    bool match = Normalize(p.name) == key || Normalize(p.name) == tail_key;
    for (const auto& a : p.aliases)
      match = match || Normalize(a) == key || Normalize(a) == tail_key;
    if (match) return load(p);
    known += (known.empty() ? "" : ", ") + p.name;
  }
  // "meta-llama/Llama-3.1-8B-Instruct", "Llama-3.3-70B-Instruct-FP8": the repository of a
  // fine-tune or a quantised copy of a preset's model. Match without the variant words, once.
  std::vector<std::string> dropped;
  const std::string base = WithoutVariantWords(TailOfName(name_or_path), &dropped);
  if (!dropped.empty() && !base.empty()) {
    const PresetInfo* found = nullptr;
    for (const PresetInfo& p : *presets) {
      // Aliases may name the organisation ("mistralai/Mixtral-8x7B-v0.1"): compare their tails.
      bool match = WithoutVariantWords(p.name, nullptr) == base;
      for (const auto& a : p.aliases) {
        match = match || WithoutVariantWords(TailOfName(a), nullptr) == base;
      }
      if (match) {
        found = &p;
        break;
      }
    }
    if (found != nullptr) {
      auto m = load(*found);
      if (!m) return m;
      std::string words;
      bool quantised = false;
      for (const std::string& w : dropped) {
        words += (words.empty() ? "'" : ", '") + w + "'";
        quantised = quantised || IsQuantisationWord(w);
      }
      m->warnings.push_back("'" + std::string(name_or_path) + "' read as the preset " +
                            found->name + " (the same shape without " + words + ")" +
                            (quantised ? "; a checkpoint's own quantisation is not known from "
                                         "its name: give --precision, or --model with its "
                                         "config.json"
                                       : ""));
      return m;
    }
  }
  return Error(Status::NotFound("unknown model '" + std::string(name_or_path) +
                                "': not a preset, a config.json or a folder holding one "
                                "(presets: " +
                                known + ")"));
}

}  // namespace gpupool::planner

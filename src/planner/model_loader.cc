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

constexpr std::string_view kKnownTypes =
    "llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, deepseek_v2, deepseek_v3, gpt2, "
    "gpt_neox";

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

Result<ModelSpec> ParseHfConfig(const json& config, std::string_view origin) {
  if (!config.is_object()) {
    return Error(Status::InvalidArgument(std::string(origin) + ": expected a JSON object"));
  }
  auto type_it = config.find("model_type");
  if (type_it != config.end() && !type_it->is_null() && !type_it->is_string()) {
    return Error(WrongType(origin, "model_type", "a string", *type_it));
  }
  if (type_it == config.end() || !type_it->is_string()) {
    return Error(Status::InvalidArgument(std::string(origin) +
                                         ": missing field 'model_type' (one of " +
                                         std::string(kKnownTypes) + ")"));
  }
  const std::string type = type_it->get<std::string>();
  const Reader r(config, origin, type);
  ModelSpec m;
  m.name = std::string(origin);
  m.architecture = type;

  const bool gpt2 = type == "gpt2";
  const bool neox = type == "gpt_neox";
  const bool llama_like = type == "llama" || type == "mistral" || type == "mixtral" ||
                          type == "qwen2" || type == "qwen2_moe" || type == "qwen3" ||
                          type == "qwen3_moe";
  const bool deepseek = type == "deepseek_v2" || type == "deepseek_v3";
  if (!gpt2 && !neox && !llama_like && !deepseek) {
    return Error(Status::InvalidArgument(std::string(origin) + ": unsupported model_type '" + type +
                                         "' (known: " + std::string(kKnownTypes) + ")"));
  }

  if (gpt2) {
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
  } else {
    GP_ASSIGN_OR_RETURN(m.num_layers, r.Int<int>({"num_hidden_layers"}));
    GP_ASSIGN_OR_RETURN(m.hidden, r.Int<int64_t>({"hidden_size"}));
    GP_ASSIGN_OR_RETURN(m.num_heads, r.Int<int>({"num_attention_heads"}));
    GP_ASSIGN_OR_RETURN(m.vocab, r.Int<int64_t>({"vocab_size"}));
    GP_ASSIGN_OR_RETURN(m.num_kv_heads, r.IntOr<int>("num_key_value_heads", m.num_heads));
    GP_ASSIGN_OR_RETURN(m.ffn, r.Int<int64_t>({"intermediate_size"}));
    GP_ASSIGN_OR_RETURN(m.tied_embeddings, r.BoolOr("tie_word_embeddings", false));
  }
  if (m.num_heads <= 0) {
    return Error(
        Status::InvalidArgument(std::string(origin) + ": num_attention_heads must be > 0"));
  }
  GP_ASSIGN_OR_RETURN(m.head_dim,
                      r.IntOr<int>("head_dim", static_cast<int>(m.hidden / m.num_heads)));

  if (neox) {
    m.ffn_kind = FfnKind::kPlain;
    m.norm_kind = NormKind::kLayer;
    m.linear_bias = true;
  }
  if (type == "qwen2" || type == "qwen2_moe") m.qkv_bias = true;
  if (type == "qwen3" || type == "qwen3_moe") m.qk_norm = true;
  GP_ASSIGN_OR_RETURN(const bool attention_bias, r.BoolOr("attention_bias", false));
  if (attention_bias) m.qkv_bias = true;

  if (type == "mixtral") {
    GP_ASSIGN_OR_RETURN(m.moe.num_experts, r.Int<int>({"num_local_experts"}));
    GP_ASSIGN_OR_RETURN(m.moe.top_k, r.Int<int>({"num_experts_per_tok"}));
    m.moe.expert_ffn = m.ffn;
  }
  if (type == "qwen3_moe" || type == "qwen2_moe") {
    GP_ASSIGN_OR_RETURN(m.moe.num_experts, r.Int<int>({"num_experts"}));
    GP_ASSIGN_OR_RETURN(m.moe.top_k, r.Int<int>({"num_experts_per_tok"}));
    GP_ASSIGN_OR_RETURN(m.moe.expert_ffn, r.Int<int64_t>({"moe_intermediate_size"}));
    GP_ASSIGN_OR_RETURN(m.moe.layer_freq, r.IntOr<int>("decoder_sparse_step", 1));
    if (type == "qwen2_moe") {
      GP_ASSIGN_OR_RETURN(m.moe.shared_ffn, r.IntOr<int64_t>("shared_expert_intermediate_size", 0));
      m.moe.shared_expert_gate = m.moe.shared_ffn > 0;
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
    if (r.Has("n_routed_experts")) {
      GP_ASSIGN_OR_RETURN(m.moe.num_experts, r.Int<int>({"n_routed_experts"}));
      GP_ASSIGN_OR_RETURN(m.moe.top_k, r.Int<int>({"num_experts_per_tok"}));
      GP_ASSIGN_OR_RETURN(m.moe.expert_ffn, r.Int<int64_t>({"moe_intermediate_size"}));
      GP_ASSIGN_OR_RETURN(const int64_t shared_experts, r.IntOr<int64_t>("n_shared_experts", 0));
      m.moe.shared_ffn = shared_experts * m.moe.expert_ffn;
      GP_ASSIGN_OR_RETURN(m.moe.first_dense_layers, r.IntOr<int>("first_k_dense_replace", 0));
      GP_ASSIGN_OR_RETURN(m.moe.layer_freq, r.IntOr<int>("moe_layer_freq", 1));
      // V3 routes with sigmoid scores plus a per-expert correction bias; V2 has none.
      m.moe.router_bias = type == "deepseek_v3";
    }
    GP_ASSIGN_OR_RETURN(m.mtp_layers, r.IntOr<int>("num_nextn_predict_layers", 0));
  }
  if (Status st = Validate(m); !st.ok()) return Error(st);
  return m;
}

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
  std::string known;
  for (const PresetInfo& p : *presets) {
    bool match = Normalize(p.name) == key || Normalize(p.name) == tail_key;
    for (const auto& a : p.aliases)
      match = match || Normalize(a) == key || Normalize(a) == tail_key;
    if (match) {
      auto j = ReadJsonFile(p.path);
      if (!j) return Error(j.error());
      auto m = ParseHfConfig(*j, p.path.string());
      if (m) m->name = p.name;
      return m;
    }
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return Error(Status::NotFound("unknown model '" + std::string(name_or_path) +
                                "': not a preset, a config.json or a folder holding one "
                                "(presets: " +
                                known + ")"));
}

}  // namespace gpupool::planner

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
      if (!it->is_number_integer()) {
        return Error(Status::InvalidArgument(std::string(origin_) + ": field '" + k +
                                             "' must be an integer"));
      }
      if (it->is_number_unsigned()
              ? it->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max())
              : !std::in_range<T>(it->get<std::int64_t>())) {
        return Error(Status::InvalidArgument(std::string(origin_) + ": field '" + k + "' (" +
                                             it->dump() + ") is out of range"));
      }
      return static_cast<T>(it->get<std::int64_t>());
    }
    std::string names;
    for (const char* k : keys) names += (names.empty() ? "" : " or ") + std::string("'") + k + "'";
    return Error(Status::InvalidArgument(std::string(origin_) + ": missing field " + names +
                                         " (required for model_type '" + type_ + "')"));
  }
  int64_t IntOr(const char* key, int64_t fallback) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null() || !it->is_number_integer()) return fallback;
    return it->get<int64_t>();
  }
  bool BoolOr(const char* key, bool fallback) const {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_boolean()) return fallback;
    return it->get<bool>();
  }
  bool Has(const char* key) const {
    auto it = j_.find(key);
    return it != j_.end() && !it->is_null();
  }

 private:
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

Result<json> ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error(Status::IoError(path.string() + ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(Status::InvalidArgument(path.string() + ": not valid JSON"));
  if (!j.is_object()) {
    return Error(Status::InvalidArgument(path.string() + ": expected a JSON object"));
  }
  return j;
}

}  // namespace

Result<ModelSpec> ParseHfConfig(const json& config, std::string_view origin) {
  if (!config.is_object()) {
    return Error(Status::InvalidArgument(std::string(origin) + ": expected a JSON object"));
  }
  auto type_it = config.find("model_type");
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
    m.ffn = r.IntOr("n_inner", 4 * m.hidden);
    m.learned_positions = true;
    m.tied_embeddings = r.BoolOr("tie_word_embeddings", true);
    m.ffn_kind = FfnKind::kPlain;
    m.norm_kind = NormKind::kLayer;
    m.linear_bias = true;
  } else {
    GP_ASSIGN_OR_RETURN(m.num_layers, r.Int<int>({"num_hidden_layers"}));
    GP_ASSIGN_OR_RETURN(m.hidden, r.Int<int64_t>({"hidden_size"}));
    GP_ASSIGN_OR_RETURN(m.num_heads, r.Int<int>({"num_attention_heads"}));
    GP_ASSIGN_OR_RETURN(m.vocab, r.Int<int64_t>({"vocab_size"}));
    m.num_kv_heads = static_cast<int>(r.IntOr("num_key_value_heads", m.num_heads));
    GP_ASSIGN_OR_RETURN(m.ffn, r.Int<int64_t>({"intermediate_size"}));
    m.tied_embeddings = r.BoolOr("tie_word_embeddings", false);
  }
  if (m.num_heads <= 0) {
    return Error(
        Status::InvalidArgument(std::string(origin) + ": num_attention_heads must be > 0"));
  }
  m.head_dim = static_cast<int>(r.IntOr("head_dim", m.hidden / m.num_heads));

  if (neox) {
    m.ffn_kind = FfnKind::kPlain;
    m.norm_kind = NormKind::kLayer;
    m.linear_bias = true;
  }
  if (type == "qwen2" || type == "qwen2_moe") m.qkv_bias = true;
  if (type == "qwen3" || type == "qwen3_moe") m.qk_norm = true;
  if (r.BoolOr("attention_bias", false)) m.qkv_bias = true;

  if (type == "mixtral") {
    GP_ASSIGN_OR_RETURN(m.moe.num_experts, r.Int<int>({"num_local_experts"}));
    GP_ASSIGN_OR_RETURN(m.moe.top_k, r.Int<int>({"num_experts_per_tok"}));
    m.moe.expert_ffn = m.ffn;
  }
  if (type == "qwen3_moe" || type == "qwen2_moe") {
    GP_ASSIGN_OR_RETURN(m.moe.num_experts, r.Int<int>({"num_experts"}));
    GP_ASSIGN_OR_RETURN(m.moe.top_k, r.Int<int>({"num_experts_per_tok"}));
    GP_ASSIGN_OR_RETURN(m.moe.expert_ffn, r.Int<int64_t>({"moe_intermediate_size"}));
    m.moe.layer_freq = static_cast<int>(r.IntOr("decoder_sparse_step", 1));
    if (type == "qwen2_moe") {
      m.moe.shared_ffn = r.IntOr("shared_expert_intermediate_size", 0);
      m.moe.shared_expert_gate = m.moe.shared_ffn > 0;
    }
  }
  if (deepseek) {
    m.mla.enabled = true;
    m.mla.q_lora_rank = static_cast<int>(r.IntOr("q_lora_rank", 0));
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
      m.moe.shared_ffn = r.IntOr("n_shared_experts", 0) * m.moe.expert_ffn;
      m.moe.first_dense_layers = static_cast<int>(r.IntOr("first_k_dense_replace", 0));
      m.moe.layer_freq = static_cast<int>(r.IntOr("moe_layer_freq", 1));
      // V3 routes with sigmoid scores plus a per-expert correction bias; V2 has none.
      m.moe.router_bias = type == "deepseek_v3";
    }
    m.mtp_layers = static_cast<int>(r.IntOr("num_nextn_predict_layers", 0));
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
  const bool head_dim_follows = !m.mla.enabled && m.head_dim * m.num_heads == m.hidden;
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
    auto meta = j->find("gpupool");
    if (meta == j->end() || !meta->is_object()) continue;  // a sample config, not a preset
    PresetInfo p;
    p.path = entry.path();
    p.name = meta->value("name", entry.path().stem().string());
    if (auto a = meta->find("aliases"); a != meta->end() && a->is_array()) {
      for (const auto& s : *a) {
        if (s.is_string()) p.aliases.push_back(s.get<std::string>());
      }
    }
    if (auto v = meta->find("published_total"); v != meta->end() && v->is_number()) {
      p.published_total = v->get<double>();
    }
    if (auto v = meta->find("published_active"); v != meta->end() && v->is_number()) {
      p.published_active = v->get<double>();
    }
    if (auto v = meta->find("source"); v != meta->end() && v->is_string()) {
      p.source = v->get<std::string>();
    }
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
    auto m = ParseHfConfig(*j, path.string());
    if (m) {
      if (auto meta = j->find("gpupool"); meta != j->end() && meta->is_object()) {
        m->name = meta->value("name", m->name);
      }
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

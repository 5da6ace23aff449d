// Model loading: Hugging Face config.json files and the presets under data/models/.
//
// - ParseHfConfig reads one config.json document. Families (model_type values): llama, mistral,
//   mixtral, qwen2 (qwen2_5_vl), qwen2_moe, qwen3, qwen3_moe, qwen3_next, deepseek_v2, deepseek_v3
//   (kimi_k2), gpt2, gpt_neox, gemma, gemma2, gemma3 (gemma3_text), llama4 (llama4_text), gpt_oss,
//   glm4_moe, chatglm, phi3, internlm2, falcon, nemotron, minimax (minimax_m1, minimax_text_01). A
//   multimodal config's language model is read from `text_config` (errors then name "FILE:
//   text_config") and its `vision_config` counted into ModelSpec::vision_params;
//   `quantization_config` fills ModelSpec::quant (mxfp4, fp8, awq, gptq; any other quant_method is
//   an InvalidArgument). The layer pattern (`layer_types` and the family fields, model_spec.h)
//   fills ModelSpec::attention. A missing required field is an InvalidArgument naming the field and
//   the model_type. An unknown model_type whose fields match a family is read as that family, with
//   a warning in ModelSpec::warnings naming the type, the fields and the family (as are defaults
//   the family's code supplies for a field the file leaves out); one matching no family is an
//   InvalidArgument listing the known types. Every member read is strict: one of the wrong JSON
//   type is an InvalidArgument naming the document and the member, never a default
//   (`"num_key_value_heads": 8.0` is refused: HF configs write integers); absent or null means
//   "not given". Nothing is half applied: on error no ModelSpec is returned.
// - A file that is not valid JSON is an InvalidArgument "PATH:LINE:COLUMN: not valid JSON: why"
//   (the column counted in bytes).
// - LoadModel resolves --model: a preset name (case-insensitive, punctuation-insensitive:
//   "llama-3-8b", "Llama3-8B", "meta-llama/Meta-Llama-3-8B"), a path to a config.json, or a folder
//   holding one. A name that matches no preset as it is but does once its variant words are
//   left out (fine-tunes: instruct, chat, hf, base, it, sft, dpo; quantised copies: fp8, int8,
//   int4, awq, gptq, w8a8, w4a16, w8a16, dynamic, quantized, bnb, 4bit, 8bit, nvfp4, mxfp4) is
//   that preset, with a warning naming the words left out (and, for quantisation words, that the
//   precision must be given). NotFound lists the presets.
// - Presets are config.json documents with an extra "gpupool" member: {"name", "aliases",
//   "published_total", "published_active", "source"}; the published figures are what the tests
//   compare parameter counts with.
// - ApplyOverrides applies the shape flags; Validate checks the result is a usable shape.
//
// Thread safety: functions are reentrant; they read files but hold no state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "planner/model_spec.h"

namespace gpupool::planner {

struct PresetInfo {
  std::string name;
  std::vector<std::string> aliases;
  double published_total = 0;   // parameters, as the model's authors state them
  double published_active = 0;  // MoE: per token; 0 = dense
  std::string source;
  std::filesystem::path path;
};

// `origin` names the document in error messages ("config.json", a path or a preset).
Result<ModelSpec> ParseHfConfig(const nlohmann::json& config, std::string_view origin);

// The presets in `models_dir` (normally DataDir()/models), sorted by name.
Result<std::vector<PresetInfo>> ListPresets(const std::filesystem::path& models_dir);

// Resolves a preset name, a config.json path, or a folder holding config.json.
Result<ModelSpec> LoadModel(std::string_view name_or_path, const std::filesystem::path& models_dir);

struct ShapeOverrides {
  std::optional<int> layers;
  std::optional<int64_t> hidden;
  std::optional<int> heads;
  std::optional<int> kv_heads;
  std::optional<int64_t> ffn;  // dense FFN; for MoE models also the expert FFN when no dense
  std::optional<int64_t> vocab;
  std::optional<int> experts;
  std::optional<int> top_k;
  std::optional<int> mtp_layers;  // multi-token-prediction layers trained with the model
};

// Applies the overrides (head_dim follows hidden/heads unless the config set it apart) and
// validates the result.
Status ApplyOverrides(const ShapeOverrides& o, ModelSpec& m);

// InvalidArgument naming the first inconsistent field (heads not dividing hidden, kv_heads not
// dividing heads, top_k > experts, non-positive sizes).
Status Validate(const ModelSpec& m);

}  // namespace gpupool::planner

// ModelSpec: the shape of a decoder-only transformer, as the planner needs it, and its parameter
// counts (total, active per token, per layer, embeddings), worked out from the shape alone.
//
// Where shapes come from (model_loader.h): a Hugging Face config.json (llama, mistral, mixtral,
// qwen2, qwen2_moe, qwen3, qwen3_moe, deepseek_v2/v3, gpt2, gpt_neox) or a preset shipped under
// data/models/ (the same format), then shape flags override single fields (ApplyOverrides).
//
// Counting convention (docs/planner.md "Parameter counts"):
// - Every weight matrix and bias the Hugging Face checkpoint holds for the main model, including
//   norms, routers and learned position tables; tied embeddings are counted once.
// - DeepSeek's multi-token-prediction (MTP) module is NOT in Total(); MtpParams() gives it apart,
//   because DeepSeek-V3 publishes 671B for the main model and 685B with the 14B MTP module.
// - Active parameters are those one token touches: all non-expert weights plus top_k routed experts
//   and the shared experts of every MoE layer (the convention of Mixtral's 12.9B and
//   DeepSeek-V3's 37B).
//
// Thread safety: values, freely copyable. Functions are pure.
#pragma once

#include <cstdint>
#include <string>

namespace gpupool::planner {

enum class FfnKind {
  kGated,  // SwiGLU/GeGLU: gate, up and down projections (3 matrices of hidden x ffn)
  kPlain,  // GELU MLP: up and down (2 matrices), as GPT-2/3 and GPT-NeoX
};

enum class NormKind {
  kRms,    // RMSNorm: one weight vector
  kLayer,  // LayerNorm: weight and bias
};

struct MoeSpec {
  int num_experts = 0;              // routed experts per MoE layer; 0 = dense model
  int top_k = 0;                    // routed experts per token
  int64_t expert_ffn = 0;           // intermediate size of one routed expert
  int64_t shared_ffn = 0;           // total intermediate size of the shared expert(s), 0 = none
  bool shared_expert_gate = false;  // qwen2_moe: a hidden x 1 gate on the shared expert
  bool router_bias = false;         // deepseek_v3: e_score_correction_bias (one per expert)
  int first_dense_layers = 0;  // deepseek first_k_dense_replace: leading layers with a dense FFN
  int layer_freq = 1;          // every layer_freq-th layer (after the dense ones) is MoE
};

struct MlaSpec {
  bool enabled = false;  // multi-head latent attention (DeepSeek-V2/V3)
  int q_lora_rank = 0;   // 0 = no query compression (q_proj is hidden x heads*qk_head_dim)
  int kv_lora_rank = 0;  // compressed KV latent width (cached)
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;  // decoupled RoPE key width (cached, shared by all heads)
  int v_head_dim = 0;
};

struct ModelSpec {
  std::string name;          // "Llama-3-8B" or the config's path
  std::string architecture;  // Hugging Face model_type: "llama", "deepseek_v3", ...
  int num_layers = 0;
  int64_t hidden = 0;
  int num_heads = 0;
  int num_kv_heads = 0;  // grouped-query attention; == num_heads for MHA
  int head_dim = 0;      // per-head width of Q/K/V (not MLA)
  int64_t ffn = 0;       // intermediate size of a dense FFN layer
  int64_t vocab = 0;
  int64_t max_positions = 0;  // learned position table rows (gpt2/gpt3); 0 = rotary
  bool learned_positions = false;
  bool tied_embeddings = false;
  FfnKind ffn_kind = FfnKind::kGated;
  NormKind norm_kind = NormKind::kRms;
  bool qkv_bias = false;     // qwen2: biases on q, k, v
  bool linear_bias = false;  // gpt2/gpt_neox: biases on every linear layer
  bool qk_norm = false;      // qwen3: RMSNorm on q and k per head
  int mtp_layers = 0;        // deepseek num_nextn_predict_layers
  MoeSpec moe;
  MlaSpec mla;

  bool IsMoe() const { return moe.num_experts > 0; }
  // True when layer `i` (0-based) has routed experts.
  bool IsMoeLayer(int i) const;
  int NumMoeLayers() const;
};

// Parameter breakdown of one layer.
struct LayerParams {
  int64_t attention = 0;       // projections, their biases, q/k norms, MLA norms
  int64_t norms = 0;           // the layer's two pre-norms
  int64_t dense_ffn = 0;       // dense MLP (dense layers) -- 0 in MoE layers
  int64_t routed_experts = 0;  // all routed experts (MoE layers)
  int64_t one_expert = 0;      // a single routed expert
  int64_t shared_experts = 0;  // shared expert(s), incl. their gate
  int64_t router = 0;          // router weight (+ bias)

  int64_t Total() const {
    return attention + norms + dense_ffn + routed_experts + shared_experts + router;
  }
  // Parameters touched per token: routed experts counted top_k times one expert.
  int64_t Active(int top_k) const {
    return attention + norms + dense_ffn + shared_experts + router + one_expert * top_k;
  }
  // Weights of linear layers (quantisable): everything except norms and router biases.
  int64_t NonExpertLinear() const { return attention + dense_ffn + shared_experts + router; }
};

LayerParams CountLayer(const ModelSpec& m, int layer);

struct ParamCounts {
  int64_t total = 0;      // main model
  int64_t active = 0;     // per token
  int64_t embedding = 0;  // token embedding (+ learned positions)
  int64_t lm_head = 0;    // output projection; 0 when tied
  int64_t final_norm = 0;
  int64_t layers_total = 0;   // sum over layers
  int64_t experts_total = 0;  // routed experts over all layers
  int64_t mtp = 0;            // DeepSeek MTP module (not in total)
};

ParamCounts CountParams(const ModelSpec& m);

// K/V head width of standard attention; MLA query/key head width (nope + rope).
int QkHeadDim(const ModelSpec& m);
int VHeadDim(const ModelSpec& m);

// Forward FLOPs per token of the attention score and value products for a context of `ctx`
// tokens before this one (2 multiply-adds per element: QK^T and PV), summed over layers.
double AttentionFlopsPerToken(const ModelSpec& m, double ctx);

}  // namespace gpupool::planner

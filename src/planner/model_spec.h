// ModelSpec: the shape of a decoder-only transformer, as the planner needs it, and its parameter
// counts (total, active per token, per layer, embeddings), worked out from the shape alone.
//
// Where shapes come from (model_loader.h): a Hugging Face config.json (the families listed there)
// or a preset shipped under data/models/ (the same format), then shape flags override single
// fields (ApplyOverrides).
//
// Layers need not be alike (docs/planner.md "Attention kinds"): each layer has an attention kind
// (full, sliding window, chunked, linear/constant state) from the config's layer pattern, and a
// layer is dense or MoE (interleaved MoE, dense first layers). The KV cache of a sliding or
// chunked layer stops growing at its window; a linear-attention layer keeps a fixed state per
// sequence instead of a per-token cache.
//
// Counting convention (docs/planner.md "Parameter counts"):
// - Every weight matrix and bias the Hugging Face checkpoint holds for the main model, including
//   norms, routers and learned position tables; tied embeddings are counted once.
// - Multi-token-prediction (MTP) modules (DeepSeek-V3, GLM-4.5) are NOT in the total;
//   ParamCounts::mtp gives them apart, because DeepSeek-V3 publishes 671B for the main model and
//   685B with the 14B MTP module.
// - A multimodal model's vision tower (and its projector) is NOT in the total either;
//   ModelSpec::vision_params holds it apart (the planner sizes the language model; serving loads
//   the tower too, so inference weights add it).
// - Active parameters are those one token touches: all non-expert weights plus top_k routed experts
//   and the shared experts of every MoE layer (the convention of Mixtral's 12.9B and
//   DeepSeek-V3's 37B).
//
// Thread safety: values, freely copyable. Functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gpupool::planner {

enum class FfnKind {
  kGated,  // SwiGLU/GeGLU: gate, up and down projections (3 matrices of hidden x ffn)
  kPlain,  // GELU MLP: up and down (2 matrices), as GPT-2/3 and GPT-NeoX
};

enum class NormKind {
  kRms,    // RMSNorm: one weight vector
  kLayer,  // LayerNorm: weight and bias
};

// How one layer attends (docs/planner.md "Attention kinds").
enum class AttentionKind {
  kFull,     // every earlier token: the KV cache grows with the context
  kSliding,  // the last `window` tokens (Gemma 2/3 local layers, GPT-OSS, Mistral): KV capped
  kChunked,  // tokens of its own chunk of `window` (Llama 4 local layers): KV capped at a chunk
  kLinear,   // linear attention / recurrent state (Gated DeltaNet, lightning): fixed state
};

struct LayerAttention {
  AttentionKind kind = AttentionKind::kFull;
  int64_t window = 0;  // tokens kept: the sliding window or the chunk size; 0 for full / linear
};

// "full", "sliding", "chunked", "linear".
const char* AttentionKindName(AttentionKind k);

enum class LinearAttentionKind {
  kNone,
  kGatedDeltaNet,  // Qwen3-Next: in_proj_qkvz, in_proj_ba, causal conv1d, gated RMSNorm, out_proj
  kLightning,      // MiniMax-01/M1: fused qkv, output gate, RMSNorm, out_proj (model heads/dims)
};

// Shape of the linear-attention layers of a hybrid model. Gated DeltaNet has its own head counts
// and widths; lightning attention uses the model's num_heads x head_dim.
struct LinearAttentionSpec {
  LinearAttentionKind kind = LinearAttentionKind::kNone;
  int num_key_heads = 0;
  int num_value_heads = 0;
  int key_head_dim = 0;
  int value_head_dim = 0;
  int conv_kernel = 0;  // Gated DeltaNet's causal convolution width
};

// A checkpoint's own quantisation (config.json `quantization_config`): which linear layers are
// stored quantised and their bytes per weight with the scales (and zero points) counted.
// Embeddings, the output head, routers and norms stay 16-bit unless stated, as in the checkpoints.
enum class QuantMethod {
  kNone,
  kMxfp4,     // OCP microscaling FP4: 4-bit E2M1 values + one 8-bit E8M0 scale per 32 -> 4.25 bits
  kFp8,       // FP8 E4M3, with one FP32 scale per block (weight_block_size) or per tensor
  kIntGroup,  // AWQ / GPTQ: b-bit integers, per group an FP16 scale and a b-bit zero point
  // llm-compressor's compressed-tensors: config_groups give the weights' bits (float or int),
  // strategy (tensor, channel, group) and the input activations' precision; `ignore` lists the
  // modules kept 16-bit.
  kCompressedTensors,
};

// The precision a quantised checkpoint's matmuls run at: 16-bit for weight-only formats, FP8 or
// INT8 when the activations are quantised too (W8A8).
enum class QuantActivations { kSixteenBit, kFp8, kInt8 };

// Which linear parts of a layer are stored quantised (false = kept 16-bit).
struct QuantParts {
  bool attention = true;
  bool dense_ffn = true;
  bool experts = true;
  bool shared_experts = true;
};

struct QuantSpec {
  QuantMethod method = QuantMethod::kNone;
  std::string label;              // "mxfp4", "fp8 block 128x128", "awq int4 group 128"
  double bytes_per_weight = 2.0;  // quantised linear layers, scales included
  bool attention = true;          // which linear parts are stored quantised (every layer)
  bool dense_ffn = true;
  bool experts = true;
  bool shared_experts = true;
  QuantActivations activations = QuantActivations::kSixteenBit;
  // 8-bit matmuls with a scale per block or group of the weights (FP8 weight_block_size,
  // compressed-tensors strategy "block" / "group"): DeepSeek-V3's recipe, whose GEMMs apply the
  // scales inside the K loop; per-tensor and per-channel scales are applied once in the epilogue.
  bool block_scaled = false;
  // Layers an entry of modules_to_not_convert / ignore / ignored_layers names by index
  // ("model.layers.0.mlp.down_proj"): that layer's part is kept 16-bit. A projection inside a part
  // keeps the whole part 16-bit (stated in notes).
  std::vector<std::pair<int, QuantParts>> layer_parts;
  std::vector<std::string> notes;  // patterns of modules_to_not_convert the planner did not place

  // The parts of layer `i` stored quantised: the global flags, less what names layer i.
  QuantParts PartsAt(int i) const {
    QuantParts p{attention, dense_ffn, experts, shared_experts};
    for (const auto& [layer, parts] : layer_parts) {
      if (layer == i) p = parts;
    }
    return p;
  }
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
  // Llama 4 `moe_layers`: the MoE layers by index, ascending; empty = the two rules above.
  std::vector<int> layers;
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
  bool qkv_bias = false;         // qwen2: biases on q, k, v
  bool linear_bias = false;      // gpt2/gpt_neox: biases on every linear layer
  bool mlp_bias = false;         // config `mlp_bias` (llama, nemotron): biases on the MLP only
  bool qk_norm = false;          // qwen3: RMSNorm on q and k per head
  bool o_bias = false;           // bias on the attention output projection (gpt_oss)
  bool attention_sinks = false;  // gpt_oss: one learned sink logit per head per layer
  bool output_gate = false;      // qwen3_next gated attention: q_proj also emits a per-dim gate
  bool expert_bias = false;      // gpt_oss: biases on the experts' projections
  int norms_per_layer = 2;       // Gemma 2/3 sandwich norms: 4
  int mtp_layers = 0;            // deepseek / glm4_moe num_nextn_predict_layers
  // Encoder-only models (bert, roberta): bidirectional attention, no KV cache or decoding;
  // token-type (segment) embedding rows counted with the embedding; the pooler (dense h x h + bias)
  // counted as the model's output projection (ParamCounts::lm_head).
  bool encoder_only = false;
  int64_t token_types = 0;
  bool pooler = false;
  // Encoder-decoder models (t5, mt5, umt5): layers [0, encoder_layers) are the encoder's blocks
  // (self-attention, FFN, two norms), layers [encoder_layers, num_layers) the decoder's (causal
  // self-attention, cross-attention over the encoder's output, FFN, three norms); 0 for every
  // other model. The shared token embedding feeds both stacks; each stack ends in its own final
  // norm. T5's relative position bias (buckets x heads) sits in the first self-attention layer of
  // each stack (every self-attention layer for umt5: relative_bias_every_layer).
  int encoder_layers = 0;
  int relative_attention_buckets = 0;
  bool relative_bias_every_layer = false;
  MoeSpec moe;
  MlaSpec mla;
  // One entry per layer; empty means every layer is full attention (the common case).
  std::vector<LayerAttention> attention;
  LinearAttentionSpec linear;
  QuantSpec quant;
  int64_t vision_params = 0;  // vision tower + projector of a multimodal config, apart
  // What the loader assumed (an unknown model_type read as a known family, defaults taken from
  // the family's code rather than the file); shown to the user.
  std::vector<std::string> warnings;

  bool IsMoe() const { return moe.num_experts > 0; }
  bool IsEncoderDecoder() const { return encoder_layers > 0; }
  // Blocks of the decoder stack of an encoder-decoder model (0 otherwise).
  int DecoderLayers() const { return IsEncoderDecoder() ? num_layers - encoder_layers : 0; }
  // True for a decoder block of an encoder-decoder model (it has cross-attention).
  bool IsCrossAttentionLayer(int i) const { return IsEncoderDecoder() && i >= encoder_layers; }
  // Layer `i`'s attention (kFull when `attention` is empty).
  LayerAttention AttentionAt(int i) const;
  // Layers of each kind.
  int CountAttention(AttentionKind k) const;
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

  // Encoder-decoder decoder blocks: their cross-attention (q, k, v, o over the encoder's output),
  // a part of `attention`, as are T5's relative bias table and the third norm a part of `norms`.
  int64_t cross_attention = 0;

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
// tokens before this one (2 multiply-adds per element: QK^T and PV), summed over layers. A
// sliding or chunked layer sees at most its window; a linear layer costs its state update and
// read instead (2 x 2 x value heads x key dim x value dim), independent of `ctx`.
double AttentionFlopsPerToken(const ModelSpec& m, double ctx);

// Tokens whose K/V a layer keeps for a sequence of `context` tokens: the context for full
// attention, min(context, window) for sliding and chunked layers (a chunked layer's worst case,
// a full chunk), 0 for linear layers (they keep a fixed state instead).
int64_t KvTokensHeld(const LayerAttention& a, int64_t context);

// Elements of one linear-attention layer's state for one sequence, on all GPUs together:
// Gated DeltaNet value heads x key dim x value dim plus the convolution's last (kernel - 1)
// inputs; lightning attention heads x head_dim x head_dim. 0 when the model has no linear layers.
int64_t LinearStateElements(const ModelSpec& m);

}  // namespace gpupool::planner

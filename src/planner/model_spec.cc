#include "planner/model_spec.h"

#include <algorithm>

namespace gpupool::planner {

const char* AttentionKindName(AttentionKind k) {
  switch (k) {
    case AttentionKind::kFull:
      return "full";
    case AttentionKind::kSliding:
      return "sliding";
    case AttentionKind::kChunked:
      return "chunked";
    case AttentionKind::kLinear:
      return "linear";
  }
  return "full";
}

LayerAttention ModelSpec::AttentionAt(int i) const {
  if (attention.empty() || i < 0) return {};
  // A --layers override may ask for more layers than the config lists: the pattern repeats.
  return attention[static_cast<size_t>(i) % attention.size()];
}

int ModelSpec::CountAttention(AttentionKind k) const {
  int n = 0;
  for (int i = 0; i < num_layers; ++i) n += AttentionAt(i).kind == k ? 1 : 0;
  return n;
}

int64_t KvTokensHeld(const LayerAttention& a, int64_t context) {
  switch (a.kind) {
    case AttentionKind::kFull:
      return context;
    case AttentionKind::kSliding:
    case AttentionKind::kChunked:
      return a.window > 0 ? std::min(context, a.window) : context;
    case AttentionKind::kLinear:
      return 0;
  }
  return context;
}

int64_t LinearStateElements(const ModelSpec& m) {
  const LinearAttentionSpec& x = m.linear;
  switch (x.kind) {
    case LinearAttentionKind::kGatedDeltaNet: {
      const int64_t key_dim = int64_t{x.num_key_heads} * x.key_head_dim;
      const int64_t value_dim = int64_t{x.num_value_heads} * x.value_head_dim;
      const int64_t recurrent = int64_t{x.num_value_heads} * x.key_head_dim * x.value_head_dim;
      const int64_t conv = (2 * key_dim + value_dim) * (x.conv_kernel - 1);
      return recurrent + conv;
    }
    case LinearAttentionKind::kLightning:
      return int64_t{m.num_heads} * m.head_dim * m.head_dim;
    case LinearAttentionKind::kNone:
      return 0;
  }
  return 0;
}

bool ModelSpec::IsMoeLayer(int i) const {
  if (!IsMoe()) return false;
  if (!moe.layers.empty()) return std::binary_search(moe.layers.begin(), moe.layers.end(), i);
  if (i < moe.first_dense_layers) return false;
  const int freq = moe.layer_freq > 0 ? moe.layer_freq : 1;
  // Hugging Face's convention (deepseek moe_layer_freq, qwen decoder_sparse_step): layer i is MoE
  // when (i + 1) % freq == 0 counting from 1 (deepseek counts from the first non-dense layer).
  if (moe.first_dense_layers > 0) return (i - moe.first_dense_layers) % freq == 0;
  return (i + 1) % freq == 0;
}

int ModelSpec::NumMoeLayers() const {
  int n = 0;
  for (int i = 0; i < num_layers; ++i) n += IsMoeLayer(i) ? 1 : 0;
  return n;
}

int QkHeadDim(const ModelSpec& m) {
  return m.mla.enabled ? m.mla.qk_nope_head_dim + m.mla.qk_rope_head_dim : m.head_dim;
}

int VHeadDim(const ModelSpec& m) { return m.mla.enabled ? m.mla.v_head_dim : m.head_dim; }

namespace {

int64_t NormParams(const ModelSpec& m, int64_t width) {
  return m.norm_kind == NormKind::kLayer ? 2 * width : width;
}

// One MLP of intermediate width f: gated has gate+up+down, plain has up+down (+ biases).
int64_t MlpParams(const ModelSpec& m, int64_t f, bool bias) {
  const int64_t h = m.hidden;
  if (m.ffn_kind == FfnKind::kGated) {
    return 3 * h * f + (bias ? 2 * f + h : 0);
  }
  return 2 * h * f + (bias ? f + h : 0);
}

// A linear-attention layer's mixer (LinearAttentionSpec says where each term comes from).
int64_t LinearAttentionParams(const ModelSpec& m) {
  const int64_t h = m.hidden;
  const LinearAttentionSpec& x = m.linear;
  if (x.kind == LinearAttentionKind::kGatedDeltaNet) {
    const int64_t key_dim = int64_t{x.num_key_heads} * x.key_head_dim;
    const int64_t value_dim = int64_t{x.num_value_heads} * x.value_head_dim;
    return h * (2 * key_dim + 2 * value_dim)            // in_proj_qkvz
           + h * 2 * x.num_value_heads                  // in_proj_ba
           + (2 * key_dim + value_dim) * x.conv_kernel  // depthwise conv1d, no bias
           + 2 * int64_t{x.num_value_heads}             // dt_bias, A_log
           + x.value_head_dim                           // gated RMSNorm
           + value_dim * h;                             // out_proj
  }
  // Lightning attention: qkv (fused), output gate, RMSNorm over heads x head_dim, out_proj.
  const int64_t q = int64_t{m.num_heads} * m.head_dim;
  return 3 * h * q + h * q + q + q * h;
}

int64_t AttentionParams(const ModelSpec& m, int layer) {
  const int64_t h = m.hidden;
  const int64_t a = m.num_heads;
  if (m.AttentionAt(layer).kind == AttentionKind::kLinear &&
      m.linear.kind != LinearAttentionKind::kNone) {
    return LinearAttentionParams(m);
  }
  if (m.mla.enabled) {
    const MlaSpec& x = m.mla;
    const int64_t qk = x.qk_nope_head_dim + x.qk_rope_head_dim;
    int64_t p = 0;
    if (x.q_lora_rank > 0) {
      p += h * x.q_lora_rank + x.q_lora_rank + int64_t{x.q_lora_rank} * a * qk;  // q_a, norm, q_b
    } else {
      p += h * a * qk;  // q_proj
    }
    p += h * (x.kv_lora_rank + x.qk_rope_head_dim);                          // kv_a_proj_with_mqa
    p += x.kv_lora_rank;                                                     // kv_a_layernorm
    p += int64_t{x.kv_lora_rank} * a * (x.qk_nope_head_dim + x.v_head_dim);  // kv_b_proj
    p += a * x.v_head_dim * h;                                               // o_proj
    return p;
  }
  const int64_t d = m.head_dim;
  const int64_t q = a * d;
  const int64_t kv = int64_t{m.num_kv_heads} * d;
  int64_t p = h * q * (m.output_gate ? 2 : 1) + 2 * h * kv + q * h;
  if (m.qkv_bias || m.linear_bias) p += q + 2 * kv;
  if (m.linear_bias || m.o_bias) p += h;  // output projection bias
  if (m.qk_norm) p += 2 * d;
  if (m.attention_sinks) p += a;
  return p;
}

}  // namespace

LayerParams CountLayer(const ModelSpec& m, int layer) {
  LayerParams lp;
  lp.attention = AttentionParams(m, layer);
  lp.norms = m.norms_per_layer * NormParams(m, m.hidden);
  // T5: the relative position bias (buckets x heads) of each stack's first layer, or of every
  // layer (umt5); a decoder block adds cross-attention (q, k, v, o of the same widths, no bias
  // table) and its norm (T5's EncDecAttention and its layer_norm).
  const bool first_of_stack = layer == 0 || (m.IsEncoderDecoder() && layer == m.encoder_layers);
  if (m.relative_attention_buckets > 0 && (first_of_stack || m.relative_bias_every_layer)) {
    lp.attention += int64_t{m.relative_attention_buckets} * m.num_heads;
  }
  if (m.IsCrossAttentionLayer(layer)) {
    lp.cross_attention = AttentionParams(m, layer);
    lp.attention += lp.cross_attention;
    lp.norms += NormParams(m, m.hidden);
  }
  if (m.IsMoeLayer(layer)) {
    lp.one_expert = MlpParams(m, m.moe.expert_ffn, m.linear_bias || m.mlp_bias || m.expert_bias);
    lp.routed_experts = lp.one_expert * m.moe.num_experts;
    if (m.moe.shared_ffn > 0) {
      lp.shared_experts = MlpParams(m, m.moe.shared_ffn, m.linear_bias || m.mlp_bias) +
                          (m.moe.shared_expert_gate ? m.hidden : 0);
    }
    lp.router = m.hidden * m.moe.num_experts + (m.moe.router_bias ? m.moe.num_experts : 0);
  } else {
    lp.dense_ffn = MlpParams(m, m.ffn, m.linear_bias || m.mlp_bias);
  }
  return lp;
}

ParamCounts CountParams(const ModelSpec& m) {
  ParamCounts c;
  c.embedding = m.vocab * m.hidden + (m.learned_positions ? m.max_positions * m.hidden : 0) +
                m.token_types * m.hidden;
  c.lm_head = m.tied_embeddings ? 0 : m.vocab * m.hidden;
  if (m.pooler) c.lm_head += m.hidden * m.hidden + m.hidden;
  c.final_norm = NormParams(m, m.hidden) * (m.IsEncoderDecoder() ? 2 : 1);
  for (int i = 0; i < m.num_layers; ++i) {
    const LayerParams lp = CountLayer(m, i);
    c.layers_total += lp.Total();
    c.active += lp.Active(m.moe.top_k);
    c.experts_total += lp.routed_experts;
  }
  const int64_t outside = c.embedding + c.lm_head + c.final_norm;
  c.total = c.layers_total + outside;
  c.active += outside;
  if (m.mtp_layers > 0) {
    // DeepSeek-V3 MTP module as its checkpoint holds it: enorm, hnorm, eh_proj (2h x h), one full
    // (MoE) decoder layer, the shared head's norm, and its own copies of embedding and head.
    const LayerParams last = CountLayer(m, m.num_layers - 1);
    const int64_t per = 2 * NormParams(m, m.hidden) + 2 * m.hidden * m.hidden + last.Total() +
                        NormParams(m, m.hidden) + 2 * m.vocab * m.hidden;
    c.mtp = per * m.mtp_layers;
  }
  return c;
}

double AttentionFlopsPerToken(const ModelSpec& m, double ctx) {
  // QK^T: heads x qk_dim multiply-adds per context token; PV: heads x v_dim. 2 FLOPs each.
  const double per_context_token = 2.0 * m.num_heads * (QkHeadDim(m) + VHeadDim(m));
  if (m.attention.empty()) return per_context_token * ctx * m.num_layers;
  double linear_state = 0;  // one token's state update and read: 2 products of the state size
  if (m.linear.kind == LinearAttentionKind::kGatedDeltaNet) {
    linear_state =
        2.0 * 2.0 * m.linear.num_value_heads * m.linear.key_head_dim * m.linear.value_head_dim;
  } else if (m.linear.kind == LinearAttentionKind::kLightning) {
    linear_state = 2.0 * 2.0 * m.num_heads * double(m.head_dim) * m.head_dim;
  }
  double total = 0;
  for (int i = 0; i < m.num_layers; ++i) {
    const LayerAttention a = m.AttentionAt(i);
    if (a.kind == AttentionKind::kLinear) {
      total += linear_state;
    } else if (a.window > 0) {
      total += per_context_token * std::min(ctx, double(a.window));
    } else {
      total += per_context_token * ctx;
    }
  }
  return total;
}

}  // namespace gpupool::planner

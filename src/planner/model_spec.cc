#include "planner/model_spec.h"

namespace gpupool::planner {

bool ModelSpec::IsMoeLayer(int i) const {
  if (!IsMoe()) return false;
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
int64_t MlpParams(const ModelSpec& m, int64_t f) {
  const int64_t h = m.hidden;
  if (m.ffn_kind == FfnKind::kGated) {
    return 3 * h * f + (m.linear_bias ? 2 * f + h : 0);
  }
  return 2 * h * f + (m.linear_bias ? f + h : 0);
}

int64_t AttentionParams(const ModelSpec& m) {
  const int64_t h = m.hidden;
  const int64_t a = m.num_heads;
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
  int64_t p = h * q + 2 * h * kv + q * h;
  if (m.qkv_bias || m.linear_bias) p += q + 2 * kv;
  if (m.linear_bias) p += h;  // output projection bias
  if (m.qk_norm) p += 2 * d;
  return p;
}

}  // namespace

LayerParams CountLayer(const ModelSpec& m, int layer) {
  LayerParams lp;
  lp.attention = AttentionParams(m);
  lp.norms = 2 * NormParams(m, m.hidden);
  if (m.IsMoeLayer(layer)) {
    lp.one_expert = MlpParams(m, m.moe.expert_ffn);
    lp.routed_experts = lp.one_expert * m.moe.num_experts;
    if (m.moe.shared_ffn > 0) {
      lp.shared_experts =
          MlpParams(m, m.moe.shared_ffn) + (m.moe.shared_expert_gate ? m.hidden : 0);
    }
    lp.router = m.hidden * m.moe.num_experts + (m.moe.router_bias ? m.moe.num_experts : 0);
  } else {
    lp.dense_ffn = MlpParams(m, m.ffn);
  }
  return lp;
}

ParamCounts CountParams(const ModelSpec& m) {
  ParamCounts c;
  c.embedding = m.vocab * m.hidden + (m.learned_positions ? m.max_positions * m.hidden : 0);
  c.lm_head = m.tied_embeddings ? 0 : m.vocab * m.hidden;
  c.final_norm = NormParams(m, m.hidden);
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
  const double per_layer = 2.0 * m.num_heads * (QkHeadDim(m) + VHeadDim(m)) * ctx;
  return per_layer * m.num_layers;
}

}  // namespace gpupool::planner

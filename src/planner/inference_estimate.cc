#include "planner/inference_estimate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "planner/encoder_estimate.h"
#include "planner/gpu_rates.h"

namespace gpupool::planner {
namespace {

constexpr int kInt4GroupSize = 128;
// Per group: one FP16 scale (16 bits) and one packed 4-bit zero point.
constexpr double kInt4GroupOverheadBits = 16.0 + 4.0;

std::string Name(hw::Precision p) { return PrecisionLabel(p); }

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

std::string_view ServingEngineName(ServingEngine e) {
  return e == ServingEngine::kVllm ? "vllm" : "generic";
}

Result<ServingEngine> ParseServingEngine(std::string_view s) {
  if (s == "vllm") return ServingEngine::kVllm;
  if (s == "generic") return ServingEngine::kGeneric;
  return Error(Status::InvalidArgument("--engine '" + std::string(s) +
                                       "' is not an accounting the planner knows (vllm, generic)"));
}

double QuantizedBytesPerParam(hw::Precision p) {
  if (p == hw::Precision::kInt4 || p == hw::Precision::kFp4) {
    return (4.0 + kInt4GroupOverheadBits / kInt4GroupSize) / 8.0;
  }
  return BytesPerElement(p);
}

double KvBytesPerTokenPerLayerPerGpu(const ModelSpec& m, int tp, double kv_bytes,
                                     int* heads_per_gpu) {
  if (m.mla.enabled) {
    if (heads_per_gpu != nullptr) *heads_per_gpu = 0;
    return double(m.mla.kv_lora_rank + m.mla.qk_rope_head_dim) * kv_bytes;
  }
  const int per_gpu = m.num_kv_heads >= tp ? m.num_kv_heads / tp : 1;
  if (heads_per_gpu != nullptr) *heads_per_gpu = per_gpu;
  return 2.0 * per_gpu * m.head_dim * kv_bytes;
}

double KvBytesPerTokenPerGpu(const ModelSpec& m, int tp, double kv_bytes, int* heads_per_gpu) {
  const int cached_layers = m.num_layers - m.CountAttention(AttentionKind::kLinear);
  return KvBytesPerTokenPerLayerPerGpu(m, tp, kv_bytes, heads_per_gpu) * cached_layers;
}

double LinearStateBytesPerSequencePerGpu(const ModelSpec& m, int tp) {
  const int layers = m.CountAttention(AttentionKind::kLinear);
  if (layers == 0) return 0;
  // The state is per head: split over TP when the heads divide, else every GPU keeps it all.
  const int heads = m.linear.kind == LinearAttentionKind::kGatedDeltaNet
                        ? std::min(m.linear.num_key_heads, m.linear.num_value_heads)
                        : m.num_heads;
  const int split = heads > 0 && heads % tp == 0 ? tp : 1;
  return double(LinearStateElements(m)) * kLinearStateBytes * layers / split;
}

double KvBytesPerSequencePerGpu(const ModelSpec& m, int tp, double kv_bytes, int64_t context) {
  const double per_layer = KvBytesPerTokenPerLayerPerGpu(m, tp, kv_bytes, nullptr);
  double tokens = 0;
  for (int i = 0; i < m.num_layers; ++i) tokens += double(KvTokensHeld(m.AttentionAt(i), context));
  return per_layer * tokens + LinearStateBytesPerSequencePerGpu(m, tp);
}

Result<InferEstimate> EstimateInference(const ModelSpec& m, const hw::GpuModel& gpu,
                                        const InferOptions& o) {
  if (m.encoder_only || m.IsEncoderDecoder()) {  // encoder_estimate.h
    GP_ASSIGN_OR_RETURN(EncoderInferEstimate r, EstimateEncoderInference(m, gpu, o));
    return std::move(r.base);
  }
  InferEstimate e;
  const int tp = o.tp;
  if (tp < 1) return Error(Status::InvalidArgument("--tp must be >= 1"));
  if (o.batch < 1) return Error(Status::InvalidArgument("--batch must be >= 1"));
  if (o.context < 1) return Error(Status::InvalidArgument("--context must be >= 1"));
  if (o.gpu_memory_utilization <= 0 || o.gpu_memory_utilization > 1) {
    return Error(Status::InvalidArgument("--gpu-memory-utilization must be in (0, 1]"));
  }
  if (m.num_heads % tp != 0) {
    return Error(Status::InvalidArgument("tp " + std::to_string(tp) + " does not divide the " +
                                         std::to_string(m.num_heads) + " attention heads of " +
                                         m.name));
  }
  if (!m.mla.enabled && m.num_kv_heads % tp != 0 && tp % m.num_kv_heads != 0) {
    return Error(Status::InvalidArgument(
        "tp " + std::to_string(tp) + " and the " + std::to_string(m.num_kv_heads) +
        " KV heads of " + m.name + " neither divide the other (KV heads cannot be split evenly)"));
  }

  // --- Which rate the matmuls run at.
  const auto sixteen = SixteenBitPrecision(gpu);
  if (!sixteen) {
    return Error(Status::InvalidArgument(gpu.name + " has no 16-bit tensor rate in the catalog"));
  }
  hw::Precision compute = o.precision;
  switch (o.precision) {
    case hw::Precision::kBf16:
    case hw::Precision::kFp16:
      if (!PeakTflops(gpu, o.precision)) {
        return Error(Status::InvalidArgument(gpu.name + " cannot run " + Name(o.precision) +
                                             " natively (" + gpu.architecture +
                                             "); use --precision " + Name(*sixteen)));
      }
      break;
    case hw::Precision::kFp8:
      if (!PeakTflops(gpu, hw::Precision::kFp8)) {
        return Error(Status::InvalidArgument(
            gpu.name + " (" + gpu.architecture +
            ") has no FP8 tensor cores, so FP8 weights and activations cannot run natively; use "
            "--precision int8 (W8A8" +
            std::string(PeakTflops(gpu, hw::Precision::kInt8) ? "" : ", weight-only here") +
            "), int4 (weight-only) or " + Name(*sixteen)));
      }
      break;
    case hw::Precision::kInt8:
      if (!PeakTflops(gpu, hw::Precision::kInt8)) {
        compute = *sixteen;
        e.notes.push_back(gpu.name + " has no INT8 tensor rate: weight-only INT8, matmuls at " +
                          Name(*sixteen));
      }
      break;
    case hw::Precision::kInt4:
      compute = *sixteen;
      if (o.checkpoint_weights && m.quant.method != QuantMethod::kNone) break;
      e.notes.push_back(
          "INT4 is weight-only (AWQ/GPTQ style): weights dequantised in the kernel, "
          "matmuls at " +
          Name(*sixteen) +
          "; group size 128 with FP16 scale and "
          "4-bit zero point");
      break;
    case hw::Precision::kFp4:
      if (!PeakTflops(gpu, hw::Precision::kFp4)) {
        return Error(Status::InvalidArgument(gpu.name +
                                             " has no FP4 tensor cores (Blackwell "
                                             "and later); use --precision int4 (weight-only)"));
      }
      break;
    default:
      return Error(
          Status::InvalidArgument("inference precision must be one of bf16, fp16, fp8, "
                                  "int8, int4"));
  }
  e.compute_precision = Name(compute);
  const double peak = *PeakTflops(gpu, compute) * 1e12;
  const double peak16 = *PeakTflops(gpu, *sixteen) * 1e12;
  const hw::Precision kv_precision = o.kv_precision.value_or(*sixteen);
  const double kv_bytes = BytesPerElement(kv_precision);

  // --- Weights.
  const ParamCounts pc = CountParams(m);
  double attention = 0, dense = 0, experts = 0, shared = 0, router = 0, norms = 0;
  for (int i = 0; i < m.num_layers; ++i) {
    const LayerParams lp = CountLayer(m, i);
    attention += double(lp.attention);
    dense += double(lp.dense_ffn);
    experts += double(lp.routed_experts);
    shared += double(lp.shared_experts);
    router += double(lp.router);
    norms += double(lp.norms);
  }
  const double linear = attention + dense + experts + shared;
  const double embed = double(pc.embedding + pc.lm_head);
  norms += double(pc.final_norm);
  const bool stored = o.checkpoint_weights && m.quant.method != QuantMethod::kNone;
  // Bytes per weight of each linear part, layer by layer (a checkpoint may keep one layer's part
  // 16-bit: quantization_config's modules_to_not_convert / ignore name it).
  const double b_low = QuantizedBytesPerParam(o.precision);
  double linear_bytes = 0, experts_bytes = 0;
  for (int i = 0; i < m.num_layers; ++i) {
    const LayerParams lp = CountLayer(m, i);
    const QuantParts parts = stored ? m.quant.PartsAt(i) : QuantParts{};
    const double b = stored ? m.quant.bytes_per_weight : b_low;
    const auto at = [b](bool quantised) { return quantised ? b : 2.0; };
    const double layer_experts = double(lp.routed_experts) * at(parts.experts);
    linear_bytes += double(lp.attention) * at(parts.attention) +
                    double(lp.dense_ffn) * at(parts.dense_ffn) + layer_experts +
                    double(lp.shared_experts) * at(parts.shared_experts);
    experts_bytes += layer_experts;
  }
  const double b_attention = stored ? m.quant.bytes_per_weight : b_low;
  if (stored) {
    const QuantSpec& q = m.quant;
    e.weights_format = q.label;
    e.notes.push_back("weights as the checkpoint stores them (" + q.label + ", " +
                      std::to_string(q.bytes_per_weight).substr(0, 6) + " B/weight with scales" +
                      (q.attention ? "" : "; attention 16-bit") +
                      (q.experts ? "" : "; experts 16-bit") +
                      (q.shared_experts ? "" : "; shared experts 16-bit") +
                      (q.dense_ffn ? "" : "; dense MLPs 16-bit") +
                      (q.layer_parts.empty()
                           ? std::string()
                           : "; " + std::to_string(q.layer_parts.size()) + " layers named apart") +
                      "; embeddings, head, routers, norms 16-bit)");
    for (const std::string& n : q.notes) e.notes.push_back(n);
  } else {
    e.weights_format = Name(o.precision);
  }
  e.weight_bytes_per_param = linear > 0 ? linear_bytes / linear : b_attention;
  const double embed_bytes =
      o.quantize_embeddings && !stored ? QuantizedBytesPerParam(o.precision) : 2.0;
  const double vision_bytes = double(m.vision_params) * 2.0 / tp;
  e.weights_bytes_per_gpu =
      (linear_bytes + embed * embed_bytes) / tp + (router + norms) * 2.0 + vision_bytes;
  e.weights_gib_per_gpu = e.weights_bytes_per_gpu / kGiB;
  e.weights_vision_gib_per_gpu = vision_bytes / kGiB;
  if (m.vision_params > 0) {
    e.notes.push_back("vision tower and projector (" + std::to_string(m.vision_params) +
                      " params, 16-bit) included in the weights");
  }
  for (const std::string& w : m.warnings) e.notes.push_back(w);

  // --- KV cache.
  KvBytesPerTokenPerLayerPerGpu(m, tp, kv_bytes, &e.kv_heads_per_gpu);
  e.kv_bytes_per_sequence_per_gpu = KvBytesPerSequencePerGpu(m, tp, kv_bytes, o.context);
  e.linear_state_bytes_per_sequence_per_gpu = LinearStateBytesPerSequencePerGpu(m, tp);
  e.kv_bytes_per_token_per_gpu = e.kv_bytes_per_sequence_per_gpu / double(o.context);
  e.kv_bytes_per_token_all_gpus = e.kv_bytes_per_token_per_gpu * tp;
  if (!m.attention.empty()) {
    std::string pattern;
    for (AttentionKind k : {AttentionKind::kFull, AttentionKind::kSliding, AttentionKind::kChunked,
                            AttentionKind::kLinear}) {
      const int n = m.CountAttention(k);
      if (n == 0) continue;
      pattern += (pattern.empty() ? "" : ", ") + std::to_string(n) + " " + AttentionKindName(k);
      for (int i = 0; i < m.num_layers; ++i) {
        if (m.AttentionAt(i).kind == k && m.AttentionAt(i).window > 0) {
          pattern += " (window " + std::to_string(m.AttentionAt(i).window) + ")";
          break;
        }
      }
    }
    e.notes.push_back(
        "attention layers: " + pattern + "; KV per sequence at " + std::to_string(o.context) +
        " tokens: " + std::to_string(int64_t(e.kv_bytes_per_sequence_per_gpu)) + " B per GPU" +
        (e.linear_state_bytes_per_sequence_per_gpu > 0
             ? " (linear-attention state " +
                   std::to_string(int64_t(e.linear_state_bytes_per_sequence_per_gpu)) + " B, FP32)"
             : ""));
  }
  if (!m.mla.enabled && m.num_kv_heads < tp) {
    e.notes.push_back(std::to_string(m.num_kv_heads) + " KV heads on tp " + std::to_string(tp) +
                      ": each KV head replicated on " + std::to_string(tp / m.num_kv_heads) +
                      " GPUs");
  }
  if (m.mla.enabled) {
    e.notes.push_back("MLA: compressed latent (" + std::to_string(m.mla.kv_lora_rank) + " + " +
                      std::to_string(m.mla.qk_rope_head_dim) +
                      " RoPE) cached per layer, replicated on every TP rank");
  }
  e.kv_gib_per_gpu = e.kv_bytes_per_sequence_per_gpu * o.batch / kGiB;

  // --- Runtime overhead.
  const double h = double(m.hidden);
  double ffn_tokens = double(m.ffn);  // MLP intermediate width one token passes through
  if (m.IsMoe()) ffn_tokens = double(m.moe.top_k * m.moe.expert_ffn + m.moe.shared_ffn);
  const double qkv = double(m.num_heads) * QkHeadDim(m) * 2.0 +
                     (m.mla.enabled ? double(m.num_heads) * VHeadDim(m)
                                    : double(m.num_kv_heads) * m.head_dim * 2.0);
  // vLLM's serve defaults by device (see the header); the generic engine's 8192 tokens.
  std::string lower_name = gpu.name;
  for (char& c : lower_name) c = char(std::tolower(static_cast<unsigned char>(c)));
  const bool big_gpu = gpu.memory_gib.value >= 70 && lower_name.find("a100") == std::string::npos;
  e.max_batched_tokens =
      o.max_batched_tokens.value_or(o.engine == ServingEngine::kVllm && !big_gpu ? 2048 : 8192);
  e.max_num_seqs = o.max_num_seqs.value_or(big_gpu ? 1024 : 256);
  if (e.max_batched_tokens < 1) {
    return Error(Status::InvalidArgument("--max-batched-tokens must be >= 1"));
  }
  const double act_tokens =
      double(std::min<int64_t>(e.max_batched_tokens, int64_t(o.batch) * o.context));
  // residual + norm output (2 x 2h), QKV (2 bytes each), MLP gate/up/product (3 x 2 bytes).
  const double per_token = 4.0 * h + 2.0 * qkv / tp + 6.0 * ffn_tokens / tp;
  e.engine = std::string(ServingEngineName(o.engine));
  const double prompt = double(o.prompt_tokens > 0 ? o.prompt_tokens : o.context);
  const double heads_per_gpu = double(m.num_heads) / tp;
  if (!o.flash_attention) {
    if (o.engine == ServingEngine::kVllm) {
      return Error(Status::InvalidArgument(
          "--eager-attention: vLLM always runs a fused attention kernel; use --engine generic "
          "for an eager (Hugging Face transformers) server"));
    }
    // One forward holds floor(tokens / q) sequences of q = min(prompt, tokens) tokens; each layer
    // in turn materialises heads x q x q scores (the full square: the mask is added, not skipped).
    const double q = std::min(prompt, act_tokens);
    const double seqs = std::max(1.0, std::floor(act_tokens / q));
    e.eager_scores_gib = heads_per_gpu * seqs * q * q * kEagerScoreBytes / kGiB;
  }
  e.forward_activation_gib = act_tokens * per_token / kGiB + e.eager_scores_gib;
  double memory_total_gib = gpu.memory_gib.value;
  if (o.engine == ServingEngine::kVllm) {
    if (e.max_num_seqs < 1) return Error(Status::InvalidArgument("--max-num-seqs must be >= 1"));
    if (gpu.cuda_total_gib.value > 0) memory_total_gib = gpu.cuda_total_gib.value;
    // The profile run's tokens are max_batched_tokens whatever the batch asked for.
    const double tokens = double(e.max_batched_tokens);
    e.forward_activation_gib = tokens * per_token / kGiB;
    e.sampler_activation_gib =
        (tokens * h * 2.0 + double(e.max_num_seqs) * double(m.vocab) * kVllmSamplerBytesPerLogit) /
        kGiB;
    e.non_torch_gib = kVllmNonTorchGib + (tp > 1 ? kVllmCommBuffersGib : 0.0);
    e.activation_gib =
        o.activation_gib.value_or(std::max(e.forward_activation_gib, e.sampler_activation_gib));
    e.overhead_gib = o.overhead_gib.value_or(e.non_torch_gib + e.activation_gib);
  } else {
    const double logits = double(o.batch) * double(m.vocab) / tp * 4.0 * 2.0;  // fp32 + softmax
    e.cuda_context_gib = o.cuda_context_gib;
    e.workspace_gib = o.workspace_gib + (tp > 1 ? 0.25 : 0.0);
    e.activation_gib = o.activation_gib.value_or(e.forward_activation_gib + logits / kGiB);
    e.overhead_gib =
        o.overhead_gib.value_or(e.cuda_context_gib + e.workspace_gib + e.activation_gib);
  }

  e.total_gib_per_gpu = e.weights_gib_per_gpu + e.kv_gib_per_gpu + e.overhead_gib;
  e.budget_gib_per_gpu = memory_total_gib * o.gpu_memory_utilization;
  e.fits = e.total_gib_per_gpu <= e.budget_gib_per_gpu;
  const double free_gib = e.budget_gib_per_gpu - e.weights_gib_per_gpu - e.overhead_gib;
  e.kv_budget_gib_per_gpu = free_gib;
  e.max_kv_tokens =
      free_gib > 0 ? int64_t(std::floor(free_gib * kGiB / e.kv_bytes_per_token_per_gpu)) : 0;
  e.max_sequences_at_context =
      free_gib > 0 ? int64_t(std::floor(free_gib * kGiB / e.kv_bytes_per_sequence_per_gpu)) : 0;
  if (!e.fits) {
    e.notes.push_back(free_gib <= 0 ? "weights and overhead alone exceed the memory budget"
                                    : "KV cache for batch x context exceeds the memory left");
  }

  // --- Time.
  const double mem_bw = MemoryBytesPerSecond(gpu) * o.memory_efficiency;
  const double active_linear = double(pc.active) - double(pc.embedding) + double(m.vocab) * h;
  const auto tp_allreduce = [&](double bytes) {
    return CollectiveSeconds(Collective::kAllReduce, bytes, tp, 1, o.fabric);
  };
  // Decode: weights touched this step.
  double touched_bytes = e.weights_bytes_per_gpu;
  if (m.IsMoe()) {
    const double ek = double(m.moe.num_experts);
    const double frac = 1.0 - std::pow(1.0 - double(m.moe.top_k) / ek, double(o.batch));
    touched_bytes -= experts_bytes / tp * (1.0 - frac);
  }
  const double kv_read = e.kv_bytes_per_sequence_per_gpu * o.batch;
  const double decode_mem = (touched_bytes + kv_read) / mem_bw;
  const double decode_flops =
      double(o.batch) * (2.0 * active_linear + AttentionFlopsPerToken(m, double(o.context))) / tp;
  const double decode_compute = decode_flops / (peak * o.compute_efficiency);
  const double decode_comm = 2.0 * m.num_layers * tp_allreduce(double(o.batch) * h * 2.0);
  e.decode_bound = decode_mem >= decode_compute ? "memory" : "compute";
  if (o.step_overhead_ms < 0) {
    return Error(Status::InvalidArgument("--step-overhead-ms must be >= 0"));
  }
  const double step_overhead = o.step_overhead_ms * 1e-3;
  const double step = std::max(decode_mem, decode_compute) + decode_comm + step_overhead;
  e.decode_ms_per_token = step * 1e3;
  e.decode_tokens_per_second = double(o.batch) / step;

  const double prefill_tokens = prompt * o.batch;
  // Linear layers at the compute rate; attention (causal: half the context on average; eager
  // computes the whole square) at 16-bit.
  const double prefill_linear = prefill_tokens * 2.0 * active_linear / tp;
  const double prefill_attn =
      prefill_tokens * AttentionFlopsPerToken(m, o.flash_attention ? prompt / 2.0 : prompt) / tp;
  e.prefill_compute_seconds = prefill_linear / (peak * o.compute_efficiency) +
                              prefill_attn / (peak16 * o.compute_efficiency);
  if (!o.flash_attention) {
    // The scores' round trips through HBM, layer after layer, serialised with the matmuls.
    const int softmax_layers = m.num_layers - m.CountAttention(AttentionKind::kLinear);
    e.prefill_compute_seconds += double(softmax_layers) * double(o.batch) * heads_per_gpu * prompt *
                                 prompt * kEagerScoreTrafficBytes / mem_bw;
  }
  e.prefill_memory_seconds = e.weights_bytes_per_gpu / mem_bw;
  e.prefill_comm_seconds = 2.0 * m.num_layers * tp_allreduce(prefill_tokens * h * 2.0);
  e.prefill_seconds = std::max(e.prefill_compute_seconds, e.prefill_memory_seconds) +
                      e.prefill_comm_seconds + step_overhead;

  // --- What is modelled and what is assumed.
  e.modelled = {
      "weights: parameter count from the config x bytes per weight of each part (" +
          e.weights_format + ")",
      "KV cache: bytes per token from layers, KV heads per GPU, head size and KV precision",
      "decode step: max(weights + KV read at HBM bandwidth, FLOPs at the compute rate) + 2 TP "
      "all-reduces per layer (alpha-beta model, planner/comm_model.h)",
      "prefill: max(FLOPs at the compute rate, weights read once) + 2 TP all-reduces per layer",
  };
  if (o.engine == ServingEngine::kVllm) {
    e.modelled.push_back("vLLM start-up profile: activation peak = max(forward over " +
                         std::to_string(e.max_batched_tokens) + " tokens, sampler over " +
                         std::to_string(e.max_num_seqs) + " sequences x the vocabulary); KV gets " +
                         Fixed(memory_total_gib, 2) + " GiB x " +
                         Fixed(o.gpu_memory_utilization, 2) +
                         " less weights, activation peak and non-torch memory");
    e.assumptions.push_back("vLLM non-torch memory " + Fixed(kVllmNonTorchGib, 2) + " GiB" +
                            (tp > 1 ? " + " + Fixed(kVllmCommBuffersGib, 2) +
                                          " GiB of NCCL / custom all-reduce buffers with TP"
                                    : std::string()) +
                            " (calibrated on vLLM V1 start-up logs, H100)");
    e.assumptions.push_back("vLLM sampler peak " + Fixed(kVllmSamplerBytesPerLogit, 2) +
                            " B per sequence x vocabulary entry (calibrated on one log)");
    e.assumptions.push_back(
        "CUDA context and CUDA-graph pools sit in the 1 - gpu_memory_utilization headroom");
    if (gpu.cuda_total_gib.value <= 0) {
      e.assumptions.push_back("the catalog gives no CUDA-reported total for " + gpu.name +
                              ": the full " + Fixed(gpu.memory_gib.value, 0) + " GiB is used");
    }
  } else {
    e.assumptions.push_back("runtime overhead: CUDA context " + Fixed(e.cuda_context_gib, 2) +
                            " GiB and workspace " + Fixed(e.workspace_gib, 2) +
                            " GiB (planner defaults)");
  }
  if (!o.flash_attention) {
    e.modelled.push_back("eager attention: one layer's heads x q x q scores in memory (" +
                         Fixed(kEagerScoreBytes, 0) +
                         " B per element) and their HBM round trips in prefill (" +
                         Fixed(kEagerScoreTrafficBytes, 0) + " B per element per layer)");
  }
  if (o.overhead_gib) e.assumptions.push_back("runtime overhead given: --overhead-gib");
  e.assumptions.push_back("compute efficiency " + Fixed(o.compute_efficiency, 2) +
                          " of the dense peak, HBM efficiency " + Fixed(o.memory_efficiency, 2) +
                          " (planner constants)");
  e.assumptions.push_back(
      o.step_overhead_ms > 0
          ? "per-step serving cost " + Fixed(o.step_overhead_ms, 2) +
                " ms (scheduling, sampling, detokenising; --step-overhead-ms)"
          : "per-step serving costs (scheduling, sampling, detokenising) are not included "
            "(--step-overhead-ms)");
  return e;
}

}  // namespace gpupool::planner

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
  switch (e) {
    case ServingEngine::kVllm:
      return "vllm";
    case ServingEngine::kVllmV0:
      return "vllm-v0";
    case ServingEngine::kTensorRtLlm:
      return "trtllm";
    case ServingEngine::kFasterTransformer:
      return "fastertransformer";
    case ServingEngine::kGeneric:
      return "generic";
  }
  return "generic";
}

Result<ServingEngine> ParseServingEngine(std::string_view s) {
  if (s == "vllm" || s == "vllm-v1") return ServingEngine::kVllm;
  if (s == "vllm-v0") return ServingEngine::kVllmV0;
  if (s == "trtllm" || s == "tensorrt-llm" || s == "trt-llm") return ServingEngine::kTensorRtLlm;
  if (s == "fastertransformer" || s == "ft") return ServingEngine::kFasterTransformer;
  if (s == "generic") return ServingEngine::kGeneric;
  return Error(Status::InvalidArgument(
      "--engine '" + std::string(s) +
      "' is not an engine the planner knows (vllm, vllm-v0, trtllm, fastertransformer, generic)"));
}

double EngineHostMsPerStep(ServingEngine e) {
  return e == ServingEngine::kVllmV0 ? kVllmV0HostMsPerStep : 0.0;
}

bool UsesVllmAccounting(ServingEngine e) {
  return e == ServingEngine::kVllm || e == ServingEngine::kVllmV0;
}

bool UsesCudaGraphs(ServingEngine e) {
  return e == ServingEngine::kVllm || e == ServingEngine::kVllmV0 ||
         e == ServingEngine::kTensorRtLlm;
}

TrtllmBenchSettings TrtllmBenchHeuristic(double kv_cache_requests, int64_t isl, int64_t osl) {
  TrtllmBenchSettings s;
  if (!(kv_cache_requests > 0) || isl < 1 || osl < 1) return s;
  const double raw_bs = std::min(kv_cache_requests, 4096.0);
  const double raw_tokens = std::min(raw_bs * (1.0 + double(isl) / double(osl)), 32768.0);
  const auto round_up = [](double v, double step) { return int64_t(std::ceil(v / step) * step); };
  if (raw_bs < 256) {
    s.max_batch_size = int(std::max<int64_t>(64, round_up(raw_bs, 32)));
  } else if (raw_bs < 1024) {
    s.max_batch_size = int(round_up(raw_bs, 128));
  } else {
    s.max_batch_size = int(round_up(raw_bs, 256));
  }
  if (raw_tokens < 4096) {
    s.max_num_tokens = std::max<int64_t>(2048, round_up(raw_tokens, 256));
  } else if (raw_tokens < 8192) {
    s.max_num_tokens = round_up(raw_tokens, 512);
  } else {
    s.max_num_tokens = round_up(raw_tokens, 1024);
  }
  // Without chunked prefill a prompt must fit one iteration.
  if (s.max_num_tokens < isl) s.max_num_tokens = isl + s.max_batch_size;
  return s;
}

int TrtllmCudaGraphBatch(int batch, int max_batch_size, int64_t max_num_tokens) {
  const int64_t bound = std::min<int64_t>(max_batch_size, max_num_tokens);
  if (batch < 1 || batch > bound) return 0;
  for (const int size : kTrtllmCudaGraphBatchSizes) {
    if (size >= batch) return int(std::min<int64_t>(size, bound));
  }
  return 0;
}

double EpAllToAllBytes(const ModelSpec& m, double tokens) {
  if (!m.IsMoe()) return 0;
  return tokens * double(m.moe.top_k) * double(m.hidden) * kEpActivationBytes;
}

double ExpectedBusiestRankExperts(int experts, int ep, double p) {
  const int n = experts / ep;
  // Binomial(n, p) CDF by its terms; then E[max] = sum_{j<n} (1 - F(j)^ep).
  double term = std::pow(1.0 - p, n);  // P(X = 0)
  double cdf = 0;
  double expected = 0;
  for (int j = 0; j < n; ++j) {
    cdf += term;
    expected += 1.0 - std::pow(std::min(cdf, 1.0), ep);
    // P(X = j + 1) from P(X = j); p = 1 leaves every term 0 below n (cdf 0: the max is n).
    term = p >= 1.0 ? 0.0 : term * double(n - j) / double(j + 1) * p / (1.0 - p);
  }
  return expected;
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

Result<hw::Precision> ServingComputePrecision(const ModelSpec& m, const hw::GpuModel& gpu,
                                              const InferOptions& o,
                                              std::vector<std::string>* notes) {
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
        notes->push_back(gpu.name + " has no INT8 tensor rate: weight-only INT8, matmuls at " +
                         Name(*sixteen));
      }
      break;
    case hw::Precision::kInt4:
      compute = *sixteen;
      if (o.checkpoint_weights && m.quant.method != QuantMethod::kNone) break;
      notes->push_back(
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
  return compute;
}

Result<InferEstimate> EstimateInference(const ModelSpec& m, const hw::GpuModel& gpu,
                                        const InferOptions& o) {
  // Expert parallelism: vLLM's --enable-expert-parallel layout (the header comment).
  if (o.ep < 1) return Error(Status::InvalidArgument("--ep must be >= 1"));
  if (o.ep > 1) {
    const std::string flag = "--ep " + std::to_string(o.ep);
    if (!m.IsMoe()) {
      return Error(Status::InvalidArgument(flag + ": " + m.name +
                                           " is a dense model (no routed experts to spread)"));
    }
    if (m.moe.num_experts % o.ep != 0) {
      return Error(Status::InvalidArgument(flag + " does not divide the " +
                                           std::to_string(m.moe.num_experts) +
                                           " routed experts of " + m.name));
    }
    if (o.ep != o.tp) {
      return Error(Status::InvalidArgument(
          flag + " must equal --tp " + std::to_string(o.tp) +
          ": vLLM's --enable-expert-parallel spreads the experts over all TP x DP ranks of the "
          "replica (EP size = TP x DP, DP 1 here)"));
    }
  }
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
  GP_ASSIGN_OR_RETURN(const hw::Precision compute, ServingComputePrecision(m, gpu, o, &e.notes));
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
  // Routed experts: whole experts, E / ep per GPU, under EP (ep == tp, so the same bytes as TP's
  // slices); the rest TP-split.
  const int ep = o.ep;
  e.ep = ep;
  e.weights_bytes_per_gpu = experts_bytes / (ep > 1 ? ep : tp) +
                            (linear_bytes - experts_bytes + embed * embed_bytes) / tp +
                            (router + norms) * 2.0 + vision_bytes;
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
  const bool vllm = UsesVllmAccounting(o.engine);
  const bool trtllm = o.engine == ServingEngine::kTensorRtLlm;
  double memory_total_gib = gpu.memory_gib.value;
  if ((vllm || trtllm) && gpu.cuda_total_gib.value > 0) memory_total_gib = gpu.cuda_total_gib.value;
  const double prompt = double(o.prompt_tokens > 0 ? o.prompt_tokens : o.context);
  int64_t default_tokens = vllm && !big_gpu ? 2048 : 8192;
  // vLLM V1's serve defaults by device; V0's 256; TensorRT-LLM's max_batch_size 2048
  // (tensorrt_llm/llmapi/llm_args.py).
  int default_seqs = big_gpu ? 1024 : 256;
  if (o.engine == ServingEngine::kVllmV0) default_seqs = 256;
  if (trtllm) default_seqs = 2048;
  if (trtllm && o.output_tokens > 0 && !o.max_batched_tokens && !o.max_num_seqs) {
    // trtllm-bench's estimate of the sequences the KV cache holds: its fraction of all GPUs'
    // memory less the weights, over the KV bytes of one sequence of prompt + output tokens.
    const double seq_bytes =
        KvBytesPerSequencePerGpu(m, tp, kv_bytes, int64_t(std::llround(prompt)) + o.output_tokens) *
        tp;
    const double requests = (memory_total_gib * kGiB - e.weights_bytes_per_gpu) * tp *
                            o.gpu_memory_utilization / seq_bytes;
    const TrtllmBenchSettings bench =
        TrtllmBenchHeuristic(requests, int64_t(std::llround(prompt)), o.output_tokens);
    if (bench.max_batch_size > 0) {
      default_seqs = bench.max_batch_size;
      default_tokens = bench.max_num_tokens;
      e.trtllm_bench_settings = true;
    }
  }
  e.max_batched_tokens = o.max_batched_tokens.value_or(default_tokens);
  e.max_num_seqs = o.max_num_seqs.value_or(default_seqs);
  if (e.max_batched_tokens < 1) {
    return Error(Status::InvalidArgument("--max-batched-tokens must be >= 1"));
  }
  const double act_tokens =
      double(std::min<int64_t>(e.max_batched_tokens, int64_t(o.batch) * o.context));
  // residual + norm output (2 x 2h), QKV (2 bytes each), MLP gate/up/product (3 x 2 bytes).
  const double per_token = 4.0 * h + 2.0 * qkv / tp + 6.0 * ffn_tokens / tp;
  e.engine = std::string(ServingEngineName(o.engine));
  const double heads_per_gpu = double(m.num_heads) / tp;
  if (!o.flash_attention) {
    if (vllm) {
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
  if (vllm) {
    if (e.max_num_seqs < 1) return Error(Status::InvalidArgument("--max-num-seqs must be >= 1"));
    // The profile run's tokens are max_batched_tokens whatever the batch asked for.
    const double tokens = double(e.max_batched_tokens);
    e.forward_activation_gib = tokens * per_token / kGiB;
    e.sampler_activation_gib =
        (tokens * h * 2.0 + double(e.max_num_seqs) * double(m.vocab) * kVllmSamplerBytesPerLogit) /
        kGiB;
    // NCCL's NVLS buffers: NVLS on this link, above 2 GPUs, inside one node.
    if (tp > 2 && o.fabric.scale_up.nvls && tp <= o.fabric.gpus_per_node) {
      e.nvls_buffers_gib = kNcclNvlsBytesPerHead * tp / kGiB;
    }
    e.non_torch_gib = kVllmNonTorchGib + (tp > 1 ? kVllmCommBuffersGib : 0.0) + e.nvls_buffers_gib;
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
  if (trtllm) {
    // TensorRT-LLM: the KV cache gets kv_cache_free_gpu_mem_fraction of what is free after the
    // weights and the runtime (tensorrt_llm/_torch/pyexecutor/_util.py KvCacheCreator).
    const double rest = memory_total_gib - e.weights_gib_per_gpu - e.overhead_gib;
    e.budget_gib_per_gpu = e.weights_gib_per_gpu + e.overhead_gib +
                           (rest > 0 ? rest * o.gpu_memory_utilization : rest);
  }
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
    return AllReduceSeconds(bytes, tp, 1, o.fabric);  // NVLS where NCCL would use it
  };
  int moe_layers = 0;
  for (int i = 0; i < m.num_layers; ++i) moe_layers += CountLayer(m, i).routed_experts > 0 ? 1 : 0;
  // The communication of one forward over `tokens` tokens: TP all-reduces (2 per layer) and, with
  // EP, a dispatch + combine all-to-all per MoE layer in place of that layer's MLP all-reduce.
  struct Comm {
    double allreduce = 0, all_to_all = 0;
  };
  const auto forward_comm = [&](double tokens) {
    Comm c;
    const bool a2a = ep > 1 && o.ep_all_to_all;
    const int moe_reduces = a2a ? moe_layers : 0;
    c.allreduce = double(2 * m.num_layers - moe_reduces) * tp_allreduce(tokens * h * 2.0);
    if (a2a) {
      const double bytes = EpAllToAllBytes(m, tokens);
      c.all_to_all =
          2.0 * moe_layers * CollectiveSeconds(Collective::kAllToAll, bytes, ep, 1, o.fabric);
    }
    return c;
  };
  // Efficiencies: the option, else the kernel table's row, else 0.6. 8-bit matmuls take the FP8
  // figure for the checkpoint's scaling: per block (DeepSeek-V3's recipe) or per tensor / channel
  // (vLLM's --quantization fp8, ModelOpt's checkpoints, FP8-dynamic, INT8 W8A8, a preset).
  const bool eight_bit = compute == hw::Precision::kFp8 || compute == hw::Precision::kInt8;
  if (o.compute_efficiency) {
    e.gemm_efficiency = e.attention_efficiency = *o.compute_efficiency;
  } else if (o.kernels.loaded()) {
    e.gemm_efficiency =
        eight_bit ? o.kernels.Fp8Gemm(m.quant.block_scaled).value : o.kernels.gemm_16bit.value;
    e.attention_efficiency = o.kernels.flash.value;
  } else {
    e.gemm_efficiency = e.attention_efficiency = kDefaultInferComputeEfficiency;
  }
  if (!(e.gemm_efficiency > 0) || !(e.attention_efficiency > 0)) {
    return Error(Status::InvalidArgument("--efficiency must be > 0"));
  }
  // TensorRT-LLM's context attention in FP8: with an FP8 KV cache its paged context FMHA needs
  // FP8 attention, which an FP8 checkpoint (quantised activations) provides.
  const bool fp8_context_default =
      trtllm && kv_precision == hw::Precision::kFp8 && compute == hw::Precision::kFp8;
  e.fp8_context_attention = o.fp8_context_attention.value_or(fp8_context_default);
  if (e.fp8_context_attention && !PeakTflops(gpu, hw::Precision::kFp8)) {
    return Error(Status::InvalidArgument("--fp8-context-attention: " + gpu.name +
                                         " has no FP8 tensor rate in the catalog"));
  }
  const double prefill_attention_rate =
      peak16 * e.attention_efficiency * (e.fp8_context_attention ? kFp8AttentionSpeedup : 1.0);
  // Kernel costs: kernels per forward x time per kernel.
  e.cuda_graphs = o.cuda_graphs.value_or(UsesCudaGraphs(o.engine));
  e.kernel_us = o.kernel_us.value_or(e.cuda_graphs ? kKernelUsCudaGraph : kKernelUsLaunched);
  if (e.kernel_us < 0) return Error(Status::InvalidArgument("--kernel-us must be >= 0"));
  e.kernels_per_step =
      m.num_layers * kKernelsPerLayer + moe_layers * kMoeExtraKernelsPerLayer + kKernelsPerStep;
  const double kernel_seconds = e.kernels_per_step * e.kernel_us * 1e-6;
  e.cuda_graph_padding = e.cuda_graphs && o.cuda_graph_padding.value_or(trtllm);
  // The batch a decode step's GEMMs and all-reduces run at: padded up to a captured graph. A
  // batch no graph holds runs without one, its kernels launched one by one.
  const auto graph_batch = [&](int b) {
    return e.cuda_graph_padding ? TrtllmCudaGraphBatch(b, e.max_num_seqs, e.max_batched_tokens) : b;
  };
  const double launched_kernel_seconds =
      e.kernels_per_step * o.kernel_us.value_or(kKernelUsLaunched) * 1e-6;
  if (o.step_overhead_ms < 0) {
    return Error(Status::InvalidArgument("--step-overhead-ms must be >= 0"));
  }
  const double step_overhead = (EngineHostMsPerStep(o.engine) + o.step_overhead_ms) * 1e-3;

  // One decode step of `b` sequences holding `ctx` tokens each.
  // Roofline per kernel class, then summed (the kernels of a step run one after another): the
  // GEMMs stream the weights while they compute, max(weight read, linear FLOPs); attention
  // streams the KV cache, max(KV read, attention FLOPs). A step whose GEMMs are compute-bound and
  // whose attention is memory-bound pays both, which one max over the whole step would hide.
  struct Step {
    double gemm_memory = 0, gemm_compute = 0, attn_memory = 0, attn_compute = 0;
    double comm = 0, all_to_all = 0, kernels = 0, total = 0;
  };
  const auto decode_step = [&](int b, int64_t ctx) {
    Step st;
    const int padded = graph_batch(b);
    const int gb = padded > 0 ? padded : b;  // the rows the GEMMs and all-reduces carry
    double touched = e.weights_bytes_per_gpu;
    if (m.IsMoe()) {  // only the experts the batch routes to
      const double ek = double(m.moe.num_experts);
      const double frac = 1.0 - std::pow(1.0 - double(m.moe.top_k) / ek, double(gb));
      // TP: a 1/tp slice of every expert hit; EP: whole experts, the busiest GPU's.
      const double read =
          ep > 1 ? ExpectedBusiestRankExperts(m.moe.num_experts, ep, frac) / (ek / ep) : frac;
      touched -= experts_bytes / (ep > 1 ? ep : tp) * (1.0 - read);
    }
    const double kv_read = KvBytesPerSequencePerGpu(m, tp, kv_bytes, ctx) * b;
    st.gemm_memory = touched / mem_bw;
    st.attn_memory = kv_read / mem_bw;
    st.gemm_compute = double(gb) * 2.0 * active_linear / tp / (peak * e.gemm_efficiency);
    st.attn_compute =
        double(b) * AttentionFlopsPerToken(m, double(ctx)) / tp / (peak16 * e.attention_efficiency);
    const Comm c = forward_comm(double(gb));
    st.comm = c.allreduce;
    st.all_to_all = c.all_to_all;
    st.kernels = padded > 0 ? kernel_seconds : launched_kernel_seconds;
    st.total = std::max(st.gemm_memory, st.gemm_compute) +
               std::max(st.attn_memory, st.attn_compute) + st.kernels + st.comm + st.all_to_all +
               step_overhead;
    return st;
  };
  // The prefill of `b` sequences of `p` tokens in one forward (roofline of its FLOPs and one read
  // of the weights; attention causal: half the prompt on average, eager: the whole square).
  struct Prefill {
    double compute = 0, memory = 0, comm = 0, all_to_all = 0, total = 0;
  };
  const auto prefill = [&](int b, double p) {
    Prefill pf;
    const double tokens = p * b;
    const double linear_flops = tokens * 2.0 * active_linear / tp;
    const double attn_flops =
        tokens * AttentionFlopsPerToken(m, o.flash_attention ? p / 2.0 : p) / tp;
    const double linear_seconds = linear_flops / (peak * e.gemm_efficiency);
    double attn_seconds = attn_flops / prefill_attention_rate;
    if (!o.flash_attention) {
      // The scores' round trips through HBM, layer after layer, serialised with the matmuls.
      const int softmax_layers = m.num_layers - m.CountAttention(AttentionKind::kLinear);
      attn_seconds += double(softmax_layers) * double(b) * heads_per_gpu * p * p *
                      kEagerScoreTrafficBytes / mem_bw;
    }
    pf.compute = linear_seconds + attn_seconds;
    pf.memory = e.weights_bytes_per_gpu / mem_bw;
    const Comm c = forward_comm(tokens);
    pf.comm = c.allreduce;
    pf.all_to_all = c.all_to_all;
    // Per kernel class as in the decode step: the GEMMs overlap their weights' read, attention
    // (flash: its K/V from on-chip tiles) adds its own time.
    pf.total = std::max(linear_seconds, pf.memory) + attn_seconds + kernel_seconds + pf.comm +
               pf.all_to_all + step_overhead;
    return pf;
  };

  const Step step = decode_step(o.batch, o.context);
  e.decode_bound = step.gemm_memory >= step.gemm_compute
                       ? (step.attn_memory >= step.attn_compute ? "memory" : "mixed")
                       : (step.attn_memory >= step.attn_compute ? "mixed" : "compute");
  e.decode_memory_ms = (step.gemm_memory + step.attn_memory) * 1e3;
  e.decode_compute_ms = (step.gemm_compute + step.attn_compute) * 1e3;
  e.decode_gemm_ms = std::max(step.gemm_memory, step.gemm_compute) * 1e3;
  e.decode_attention_ms = std::max(step.attn_memory, step.attn_compute) * 1e3;
  e.decode_kernel_ms = step.kernels * 1e3;
  e.decode_graph_batch = e.cuda_graphs ? graph_batch(o.batch) : 0;
  e.decode_comm_ms = step.comm * 1e3;
  e.decode_host_ms = step_overhead * 1e3;
  e.decode_ep_all_to_all_ms = step.all_to_all * 1e3;
  e.ep_all_to_all_bytes_decode =
      ep > 1 && o.ep_all_to_all ? EpAllToAllBytes(m, double(o.batch)) : 0.0;
  e.decode_ms_per_token = step.total * 1e3;
  e.decode_tokens_per_second = double(o.batch) / step.total;

  const Prefill pf = prefill(o.batch, prompt);
  e.prefill_compute_seconds = pf.compute;
  e.prefill_memory_seconds = pf.memory;
  e.prefill_comm_seconds = pf.comm;
  e.prefill_ep_all_to_all_seconds = pf.all_to_all;
  e.prefill_kernel_seconds = kernel_seconds;
  e.prefill_seconds = pf.total;

  // --- A request end to end, and batched throughput, with an output length.
  if (o.output_tokens < 0) return Error(Status::InvalidArgument("--output-len must be >= 0"));
  if (o.num_requests < 0) return Error(Status::InvalidArgument("--num-requests must be >= 0"));
  e.output_tokens = o.output_tokens;
  if (o.output_tokens > 0) {
    const double osl = double(o.output_tokens);
    // The step at the mean context over the output: KV reads are linear in the context.
    const auto mean_ctx = int64_t(std::llround(prompt + osl / 2.0));
    e.ttft_seconds = e.prefill_seconds;
    e.tpot_ms = decode_step(o.batch, mean_ctx).total * 1e3;
    e.e2e_latency_seconds = e.ttft_seconds + (osl - 1.0) * e.tpot_ms * 1e-3;
    e.output_tokens_per_second = double(o.batch) * osl / e.e2e_latency_seconds;
    // The largest batch the KV cache holds at prompt + output tokens each, up to max_num_seqs:
    // the offline throughput engines report (all requests queued at once; each batch's prefill,
    // then its output steps).
    const double seq_bytes =
        KvBytesPerSequencePerGpu(m, tp, kv_bytes, int64_t(std::llround(prompt + osl)));
    const int64_t fit = free_gib > 0 ? int64_t(std::floor(free_gib * kGiB / seq_bytes)) : 0;
    e.max_throughput_batch = int(std::min<int64_t>(fit, e.max_num_seqs));
    if (e.max_throughput_batch >= 1) {
      const int b = e.max_throughput_batch;
      e.max_throughput_graph_batch = e.cuda_graphs ? graph_batch(b) : 0;
      const double t_step = decode_step(b, mean_ctx).total;
      e.max_throughput_tpot_ms = t_step * 1e3;
      const double t = prefill(b, prompt).total + (osl - 1.0) * t_step;
      e.max_throughput_tokens_per_second = double(b) * osl / t;
      if (o.num_requests > 0) {
        // A benchmark of num_requests requests queued at once: full waves of b, then the rest.
        const int64_t full = o.num_requests / b;
        const int rest = int(o.num_requests % b);
        double total = double(full) * t;
        if (rest > 0) {
          total += prefill(rest, prompt).total + (osl - 1.0) * decode_step(rest, mean_ctx).total;
        }
        e.max_throughput_waves = full + (rest > 0 ? 1 : 0);
        e.max_throughput_tokens_per_second = double(o.num_requests) * osl / total;
      }
    }
  }

  // --- What is modelled and what is assumed.
  const std::string reduces =
      ep > 1 && o.ep_all_to_all
          ? "2 TP all-reduces per dense layer, 1 per MoE layer (EP's combine replaces the other)"
          : "2 TP all-reduces per layer";
  e.modelled = {
      "weights: parameter count from the config x bytes per weight of each part (" +
          e.weights_format + ")",
      "KV cache: bytes per token from layers, KV heads per GPU, head size and KV precision",
      "decode step: max(weights read, GEMM FLOPs) + max(KV read, attention FLOPs) (a roofline "
      "per kernel class: the GEMMs and attention run one after the other; reads at HBM "
      "bandwidth, FLOPs at the compute rates) + " +
          std::to_string(e.kernels_per_step) + " kernels x " + Fixed(e.kernel_us, 1) + " us (" +
          (e.cuda_graphs ? "CUDA graphs" : "launched one by one") + ") + " + reduces +
          " (alpha-beta model, planner/comm_model.h)",
      "prefill: max(GEMM FLOPs, weights read once) + attention FLOPs + the same kernel costs + " +
          reduces,
  };
  if (ep > 1) {
    const std::string base =
        "expert parallelism " + std::to_string(ep) +
        " (vLLM --enable-expert-parallel, EP = TP): " + std::to_string(m.moe.num_experts / ep) +
        " whole routed experts per GPU per MoE layer, attention and the rest "
        "TP-split; a step reads the busiest GPU's experts (the expected "
        "maximum over the GPUs of the experts the batch hits on each)";
    if (o.ep_all_to_all) {
      e.modelled.push_back(
          base + "; per MoE layer a dispatch and a combine all-to-all of tokens x top_k " +
          std::to_string(m.moe.top_k) + " x hidden x 2 B (" +
          Fixed(e.ep_all_to_all_bytes_decode, 0) +
          " B per rank in a decode step; alpha-beta model, planner/comm_model.h) "
          "in place of its MLP all-reduce");
    } else {
      e.modelled.push_back(base +
                           "; communication as TP's (vLLM's DP-1 path: every rank holds the "
                           "tokens, the MLP's all-reduce combines the experts' outputs)");
    }
    e.assumptions.push_back(
        std::string("expert parallelism: each expert hit independently with the batch's routing "
                    "probability (no hot expert; no EPLB redundant experts)") +
        (o.ep_all_to_all ? ", 16-bit dispatch (no FP8 dispatch), the all-to-alls not overlapped "
                           "with compute (DeepEP / pplx kernels: --ep-all-to-all)"
                         : ""));
  }
  if (o.output_tokens > 0) {
    e.modelled.push_back(
        "end to end: TTFT (the prefill) + (output - 1) x the decode step at the mean context "
        "(prompt + output / 2); throughput: batch x output / that, and at the largest batch the KV "
        "cache holds at prompt + output tokens (up to max_num_seqs " +
        std::to_string(e.max_num_seqs) + ")");
  }
  if (o.num_requests > 0 && e.max_throughput_waves > 0) {
    e.modelled.push_back(
        "max throughput of " + std::to_string(o.num_requests) +
        " requests queued at once: " + std::to_string(e.max_throughput_waves) + " waves of up to " +
        std::to_string(e.max_throughput_batch) +
        " sequences, each its prefill then its output steps, the last holding " +
        std::to_string(o.num_requests - (e.max_throughput_waves - 1) * e.max_throughput_batch));
  }
  if (e.trtllm_bench_settings) {
    e.modelled.push_back(
        "trtllm-bench's throughput settings (tensorrt_llm/bench/build/tuning.py): max_batch_size " +
        std::to_string(e.max_num_seqs) + " and max_num_tokens " +
        std::to_string(e.max_batched_tokens) + " from its estimate of the sequences of " +
        std::to_string(int64_t(std::llround(prompt)) + o.output_tokens) +
        " tokens the KV cache holds (--max-num-seqs or --max-batched-tokens replace both)");
  }
  if (e.fp8_context_attention) {
    e.assumptions.push_back(
        "prefill attention in FP8 (TensorRT-LLM's FP8 context FMHA, used with "
        "an FP8 KV cache and an FP8 checkpoint): the 16-bit flash rate x " +
        Fixed(kFp8AttentionSpeedup, 2) +
        ", FlashAttention-3's FP8 over BF16 forward throughput on H100 "
        "(--fp8-context-attention off: 16-bit)");
  }
  if (e.cuda_graph_padding) {
    std::string sizes;
    for (const int size : kTrtllmCudaGraphBatchSizes) {
      if (size > std::min<int64_t>(e.max_num_seqs, e.max_batched_tokens)) break;
      sizes += (sizes.empty() ? "" : ", ") + std::to_string(size);
    }
    e.modelled.push_back(
        "CUDA graph padding: a decode batch runs its GEMMs and all-reduces at the smallest "
        "captured "
        "size that holds it (" +
        sizes + ", and min(max_batch_size, max_num_tokens) " +
        std::to_string(std::min<int64_t>(e.max_num_seqs, e.max_batched_tokens)) +
        "; TensorRT-LLM perf-overview.md's cuda_graph_config), attention at its real size" +
        (e.max_throughput_graph_batch > 0
             ? ": the max-throughput batch " + std::to_string(e.max_throughput_batch) +
                   " runs as " + std::to_string(e.max_throughput_graph_batch)
             : std::string()) +
        " (--cuda-graph-padding off: none)");
  }
  if (trtllm) {
    e.modelled.push_back("TensorRT-LLM: the KV cache gets " + Fixed(o.gpu_memory_utilization, 2) +
                         " of the " + Fixed(memory_total_gib, 2) +
                         " GiB left after weights and runtime overhead");
  }
  if (vllm) {
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
                            (e.nvls_buffers_gib > 0
                                 ? " + " + Fixed(e.nvls_buffers_gib, 3) +
                                       " GiB of NCCL NVLS buffers (32 MiB x tp, NCCL's nvls.cc)"
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
  e.assumptions.push_back(
      "compute efficiency " + Fixed(e.gemm_efficiency, 2) + " of the " + e.compute_precision +
      " dense peak for the linear layers and " + Fixed(e.attention_efficiency, 2) +
      " of the 16-bit peak for attention (" +
      (o.compute_efficiency ? std::string("--efficiency")
       : o.kernels.loaded()
           ? "kernel table, " + o.kernels.architecture + " row" +
                 (!eight_bit             ? ""
                  : m.quant.block_scaled ? ", gemm_fp8: weights scaled per block"
                                         : ", gemm_fp8_tensorwise: scales per tensor or channel")
           : std::string("planner default")) +
      "), HBM efficiency " + Fixed(o.memory_efficiency, 2) + " (planner constant)");
  e.assumptions.push_back(
      "kernel cost " + Fixed(e.kernel_us, 1) + " us per kernel" +
      (o.kernel_us ? std::string(" (--kernel-us)")
                   : std::string(e.cuda_graphs ? " under CUDA graphs (calibrated on a vLLM V1 "
                                                 "latency on H100)"
                                               : " launched one by one (calibrated on a "
                                                 "FasterTransformer latency on A100)")) +
      ", " + std::to_string(kKernelsPerLayer) + " kernels per layer (" +
      std::to_string(kMoeExtraKernelsPerLayer) + " more with experts) + " +
      std::to_string(kKernelsPerStep) + " per step");
  if (EngineHostMsPerStep(o.engine) > 0) {
    e.assumptions.push_back("vLLM V0's host time per step " +
                            Fixed(EngineHostMsPerStep(o.engine), 1) +
                            " ms (the GPU bubble of vllm-project/vllm issue 6854's profiles)");
  }
  e.assumptions.push_back(
      o.step_overhead_ms > 0
          ? "further per-step serving cost " + Fixed(o.step_overhead_ms, 2) +
                " ms (scheduling, sampling, detokenising; --step-overhead-ms)"
          : "no further per-step host cost beyond the engine's (--step-overhead-ms); host work "
            "that grows with the batch (scheduling, detokenising each sequence) is not modelled");
  return e;
}

}  // namespace gpupool::planner

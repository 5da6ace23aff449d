#include "planner/encoder_estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "planner/comm_model.h"
#include "planner/gpu_rates.h"

namespace gpupool::planner {
namespace {

// HBM efficiency of the training estimate's memory-bound passes (training_estimate.cc).
constexpr double kTrainHbmEfficiency = 0.8;

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Parameters of the model's layers by stack. `cross_kv`: the decoder's cross-attention K and V
// projections (applied to the encoder's output, once per input token).
struct StackParams {
  double encoder_linear = 0;  // encoder blocks (every block of an encoder-only model)
  double decoder_linear = 0;  // decoder blocks, cross-attention included
  double cross_kv = 0;
  double norms = 0;
  int encoder_layers = 0;
  int decoder_layers = 0;
};

StackParams SplitStacks(const ModelSpec& m) {
  StackParams s;
  const double kv = 2.0 * double(m.hidden) * m.num_heads * m.head_dim;
  for (int i = 0; i < m.num_layers; ++i) {
    const LayerParams lp = CountLayer(m, i);
    const double linear =
        double(lp.attention + lp.dense_ffn + lp.shared_experts + lp.router + lp.routed_experts);
    s.norms += double(lp.norms);
    if (m.IsCrossAttentionLayer(i)) {
      s.decoder_linear += linear;
      s.cross_kv += kv;
      ++s.decoder_layers;
    } else {
      s.encoder_linear += linear;
      ++s.encoder_layers;
    }
  }
  return s;
}

// Bytes of the MLP's intermediate activations per unit of its width: gate, up and product for a
// gated MLP, the GEMM output and the activation's output for a plain one (training_estimate.cc).
double MlpBytesPerWidth(const ModelSpec& m) { return m.ffn_kind == FfnKind::kGated ? 6.0 : 4.0; }

}  // namespace

int64_t TargetSeq(const TrainOptions& o) {
  return o.target_seq > 0 ? o.target_seq : std::max<int64_t>(1, o.seq / 4);
}

Result<EncoderInferEstimate> EstimateEncoderInference(const ModelSpec& m, const hw::GpuModel& gpu,
                                                      const InferOptions& o) {
  EncoderInferEstimate r;
  InferEstimate& e = r.base;
  if (!m.encoder_only && !m.IsEncoderDecoder()) {
    return Error(Status::InvalidArgument(m.name + " is neither an encoder nor encoder-decoder"));
  }
  r.encoder_decoder = m.IsEncoderDecoder();
  const int tp = o.tp;
  if (tp < 1) return Error(Status::InvalidArgument("--tp must be >= 1"));
  if (o.batch < 1) return Error(Status::InvalidArgument("--batch must be >= 1"));
  if (o.context < 1) return Error(Status::InvalidArgument("--context must be >= 1"));
  if (o.prompt_tokens < 0) return Error(Status::InvalidArgument("--prompt must be >= 0"));
  if (o.gpu_memory_utilization <= 0 || o.gpu_memory_utilization > 1) {
    return Error(Status::InvalidArgument("--gpu-memory-utilization must be in (0, 1]"));
  }
  if (o.step_overhead_ms < 0) {
    return Error(Status::InvalidArgument("--step-overhead-ms must be >= 0"));
  }
  if (m.num_heads % tp != 0) {
    return Error(Status::InvalidArgument("tp " + std::to_string(tp) + " does not divide the " +
                                         std::to_string(m.num_heads) + " attention heads of " +
                                         m.name));
  }
  if (!o.flash_attention) {
    return Error(Status::InvalidArgument(
        "--eager-attention is not modelled for encoder and encoder-decoder models (the engines "
        "measured run fused attention)"));
  }

  // --- Which rate the matmuls run at (ServingComputePrecision, as decoders).
  const auto sixteen = SixteenBitPrecision(gpu);
  if (!sixteen) {
    return Error(Status::InvalidArgument(gpu.name + " has no 16-bit tensor rate in the catalog"));
  }
  if (o.precision == hw::Precision::kFp4) {
    return Error(Status::InvalidArgument(
        "--precision fp4 is not modelled for encoder and encoder-decoder models"));
  }
  GP_ASSIGN_OR_RETURN(const hw::Precision compute, ServingComputePrecision(m, gpu, o, &e.notes));
  e.compute_precision = PrecisionLabel(compute);
  e.weights_format = PrecisionLabel(o.precision);
  // The flat default, not the kernel table's row that decoder serving reads: the encoder rows
  // of docs/planner-validation.md were computed with it (following the table is not done).
  const double efficiency = o.compute_efficiency.value_or(kDefaultInferComputeEfficiency);
  const double peak = *PeakTflops(gpu, compute) * 1e12 * efficiency;
  const double peak16 = *PeakTflops(gpu, *sixteen) * 1e12 * efficiency;
  const double mem_bw = MemoryBytesPerSecond(gpu) * o.memory_efficiency;
  const double kv_bytes = BytesPerElement(o.kv_precision.value_or(*sixteen));

  // --- Weights.
  const ParamCounts pc = CountParams(m);
  const StackParams st = SplitStacks(m);
  const double h = double(m.hidden);
  const double b_linear = QuantizedBytesPerParam(o.precision);
  const double b_embed = o.quantize_embeddings ? b_linear : 2.0;
  const double embed = double(pc.embedding + pc.lm_head);
  const double norms = st.norms + double(pc.final_norm);
  e.weight_bytes_per_param = b_linear;
  e.weights_bytes_per_gpu =
      ((st.encoder_linear + st.decoder_linear) * b_linear + embed * b_embed) / tp + norms * 2.0;
  e.weights_gib_per_gpu = e.weights_bytes_per_gpu / kGiB;
  for (const std::string& w : m.warnings) e.notes.push_back(w);

  // --- Lengths.
  r.input_tokens = o.prompt_tokens > 0 ? o.prompt_tokens : o.context;
  r.output_tokens = r.encoder_decoder ? o.context : 0;
  const double in_tokens = double(r.input_tokens);
  const double batch_in = in_tokens * o.batch;

  // --- KV cache (encoder-decoder): the decoder's self-attention and the cross-attention K/V.
  if (r.encoder_decoder) {
    const double per_layer = KvBytesPerTokenPerLayerPerGpu(m, tp, kv_bytes, &e.kv_heads_per_gpu);
    r.self_kv_bytes_per_token_per_gpu = per_layer * st.decoder_layers;
    r.cross_kv_bytes_per_token_per_gpu = per_layer * st.decoder_layers;
    r.cross_kv_bytes_per_sequence_per_gpu = r.cross_kv_bytes_per_token_per_gpu * in_tokens;
    e.kv_bytes_per_sequence_per_gpu = r.self_kv_bytes_per_token_per_gpu * double(o.context) +
                                      r.cross_kv_bytes_per_sequence_per_gpu;
    e.kv_bytes_per_token_per_gpu = e.kv_bytes_per_sequence_per_gpu / double(o.context);
    e.kv_bytes_per_token_all_gpus = e.kv_bytes_per_token_per_gpu * tp;
    e.kv_gib_per_gpu = e.kv_bytes_per_sequence_per_gpu * o.batch / kGiB;
  }

  // --- Runtime overhead: the generic accounting (CUDA context, workspace, the forward's peak).
  const double qkvo = 4.0 * m.num_heads * double(m.head_dim) * 2.0;
  const double per_token = 4.0 * h + (qkvo + MlpBytesPerWidth(m) * double(m.ffn)) / tp;
  const double logits =
      r.encoder_decoder ? double(o.batch) * double(m.vocab) / tp * 4.0 * 2.0 : 0.0;
  e.engine = std::string(ServingEngineName(ServingEngine::kGeneric));
  e.max_batched_tokens = int64_t(batch_in);
  e.forward_activation_gib = batch_in * per_token / kGiB;
  e.cuda_context_gib = o.cuda_context_gib;
  e.workspace_gib = o.workspace_gib + (tp > 1 ? 0.25 : 0.0);
  e.activation_gib = o.activation_gib.value_or(e.forward_activation_gib + logits / kGiB);
  e.overhead_gib = o.overhead_gib.value_or(e.cuda_context_gib + e.workspace_gib + e.activation_gib);
  if (o.engine == ServingEngine::kVllm) {
    e.notes.push_back(
        "memory follows the generic accounting (CUDA context + workspace + the forward's "
        "activations): the vLLM profile of inference_estimate.h is a decoder's");
  }
  e.total_gib_per_gpu = e.weights_gib_per_gpu + e.kv_gib_per_gpu + e.overhead_gib;
  e.budget_gib_per_gpu = gpu.memory_gib.value * o.gpu_memory_utilization;
  e.fits = e.total_gib_per_gpu <= e.budget_gib_per_gpu;
  const double free_gib = e.budget_gib_per_gpu - e.weights_gib_per_gpu - e.overhead_gib;
  e.kv_budget_gib_per_gpu = free_gib;
  if (r.encoder_decoder) {
    e.max_kv_tokens =
        free_gib > 0 ? int64_t(std::floor(free_gib * kGiB / e.kv_bytes_per_token_per_gpu)) : 0;
    e.max_sequences_at_context =
        free_gib > 0 ? int64_t(std::floor(free_gib * kGiB / e.kv_bytes_per_sequence_per_gpu)) : 0;
  } else {
    // No cache: what else fits is more sequences' activations.
    const double fixed =
        e.budget_gib_per_gpu - e.weights_gib_per_gpu - e.cuda_context_gib - e.workspace_gib;
    const double per_seq = in_tokens * per_token / kGiB;
    e.max_sequences_at_context = fixed > 0 ? int64_t(std::floor(fixed / per_seq)) : 0;
    e.max_kv_tokens = e.max_sequences_at_context * r.input_tokens;
  }
  if (!e.fits) {
    e.notes.push_back(free_gib <= 0 && r.encoder_decoder
                          ? "weights and overhead alone exceed the memory budget"
                          : (r.encoder_decoder ? "KV cache for batch x context exceeds the memory "
                                                 "left"
                                               : "weights and the batch's activations exceed the "
                                                 "memory budget"));
  }

  // --- The encoder's forward (the prefill of an encoder-decoder), kernel by kernel: each takes
  // the longer of its FLOPs at the compute rate and its bytes at HBM bandwidth, and at least
  // kMinKernelSeconds.
  const auto tp_allreduce = [&](double bytes) {
    return CollectiveSeconds(Collective::kAllReduce, bytes, tp, 1, o.fabric);
  };
  const double ad = double(m.num_heads) * m.head_dim;  // q (and k, v) width
  const double f_in = double(m.ffn) * (m.ffn_kind == FfnKind::kGated ? 2.0 : 1.0);
  const auto kernel = [](double seconds) { return std::max(kMinKernelSeconds, seconds); };
  // A GEMM of `tokens` rows through a weight of `in` x `out` split over TP.
  const auto gemm = [&](double tokens, double in, double out) {
    return kernel(std::max(2.0 * tokens * in * out / tp / peak, in * out * b_linear / tp / mem_bw));
  };
  const double attn_fwd = batch_in * 2.0 * m.num_heads * (2.0 * m.head_dim) * in_tokens / tp;
  const double enc_gemms = gemm(batch_in, h, 3.0 * ad) + gemm(batch_in, ad, h) +
                           gemm(batch_in, h, f_in) + gemm(batch_in, double(m.ffn), h);
  const double enc_attention = kernel(attn_fwd / peak16);
  const double enc_elementwise =
      kEncoderElementwiseKernels * kernel(batch_in * kEncoderElementwiseBytesPerHidden * h /
                                          kEncoderElementwiseKernels / mem_bw);
  // The decoder layers' cross-attention K and V of the encoder output: one GEMM each layer.
  const double cross_kv = gemm(batch_in, h, 2.0 * ad);
  r.forward_gemm_seconds = st.encoder_layers * enc_gemms + st.decoder_layers * cross_kv;
  r.forward_attention_seconds = st.encoder_layers * enc_attention;
  r.forward_elementwise_seconds = st.encoder_layers * enc_elementwise;
  r.forward_weights_read_seconds = (st.encoder_linear + st.cross_kv) * b_linear / tp / mem_bw;
  r.forward_comm_seconds = 2.0 * st.encoder_layers * tp_allreduce(batch_in * h * 2.0);
  const double step_overhead = o.step_overhead_ms * 1e-3;
  e.prefill_compute_seconds =
      r.forward_gemm_seconds + r.forward_attention_seconds + r.forward_elementwise_seconds;
  e.prefill_memory_seconds = r.forward_weights_read_seconds;
  e.prefill_comm_seconds = r.forward_comm_seconds;
  e.prefill_seconds = e.prefill_compute_seconds + e.prefill_comm_seconds + step_overhead;
  if (!r.encoder_decoder) {
    r.sequences_per_second = double(o.batch) / e.prefill_seconds;
    r.tokens_per_second = batch_in / e.prefill_seconds;
  }

  // --- The decoder's step (encoder-decoder), kernel by kernel as the forward: per layer the
  // self-attention's QKV and output GEMMs and its attention over the cached context, the
  // cross-attention's Q and output GEMMs and its attention over the input's K/V, the MLP's two
  // GEMMs and the element-wise kernels; then the head.
  if (r.encoder_decoder) {
    const double b = o.batch;
    const double ctx = double(o.context);
    const double kv_per_token_layer = KvBytesPerTokenPerLayerPerGpu(m, tp, kv_bytes, nullptr);
    const double attn_per_ctx = 2.0 * m.num_heads * (2.0 * m.head_dim) / tp;
    const auto attention = [&](double context) {
      return kernel(
          std::max(b * attn_per_ctx * context / peak16, b * context * kv_per_token_layer / mem_bw));
    };
    const double layer = gemm(b, h, 3.0 * ad) + attention(ctx) + gemm(b, ad, h) + gemm(b, h, ad) +
                         attention(in_tokens) + gemm(b, ad, h) + gemm(b, h, f_in) +
                         gemm(b, double(m.ffn), h) + kDecoderElementwiseKernels * kernel(0.0);
    const double head = kernel(std::max(2.0 * b * h * double(m.vocab) / tp / peak,
                                        h * double(m.vocab) * b_embed / tp / mem_bw));
    const double comm = 3.0 * st.decoder_layers * tp_allreduce(b * h * 2.0);
    // Which roofline the step's kernels sit on, before their floor.
    const double touched_bytes =
        (st.decoder_linear - st.cross_kv) * b_linear / tp + double(m.vocab) * h * b_embed / tp;
    const double mem = (touched_bytes + e.kv_bytes_per_sequence_per_gpu * b) / mem_bw;
    const double comp =
        b * 2.0 * (st.decoder_linear - st.cross_kv + double(m.vocab) * h) / tp / peak;
    const double kernels = st.decoder_layers * layer + head;
    e.decode_bound = kernels > 1.5 * std::max(mem, comp) ? "launch"
                     : mem >= comp                       ? "memory"
                                                         : "compute";
    const double step = kernels + comm + step_overhead;
    e.decode_ms_per_token = step * 1e3;
    e.decode_tokens_per_second = b / step;
  }

  // --- What is modelled and what is assumed.
  const std::string kind = r.encoder_decoder ? "encoder-decoder" : "encoder-only";
  e.modelled = {
      "weights: parameter count from the config x bytes per weight (" + e.weights_format + ")",
      kind +
          " forward: GEMM FLOPs at the compute rate + attention (the full s x s square) at the "
          "16-bit rate + element-wise traffic at HBM bandwidth, max with the weights read "
          "once, + 2 TP all-reduces per layer",
      "activations: residual, norm output, q/k/v/o and the MLP intermediate of one layer for "
      "batch x " +
          std::to_string(r.input_tokens) + " tokens",
  };
  if (r.encoder_decoder) {
    e.modelled.push_back(
        "KV cache: the decoder's self-attention K/V per output token plus the cross-attention K/V "
        "of the encoder output per input token, every decoder layer");
    e.modelled.push_back(
        "decode step, kernel by kernel: each GEMM the longer of its weights' read and its FLOPs, "
        "each attention the longer of its K/V read and its FLOPs, each kernel at least the "
        "kernel floor; + 3 TP all-reduces per decoder layer");
  }
  e.assumptions.push_back("runtime overhead: CUDA context " + Fixed(e.cuda_context_gib, 2) +
                          " GiB and workspace " + Fixed(e.workspace_gib, 2) +
                          " GiB (planner defaults, the generic engine's)");
  e.assumptions.push_back("compute efficiency " +
                          Fixed(o.compute_efficiency.value_or(kDefaultInferComputeEfficiency), 2) +
                          " of the dense peak, HBM efficiency " + Fixed(o.memory_efficiency, 2) +
                          " (planner constants)");
  e.assumptions.push_back("element-wise traffic " + Fixed(kEncoderElementwiseBytesPerHidden, 0) +
                          " h bytes per token per layer (fused kernels; training_estimate.h's "
                          "figure for them)");
  e.assumptions.push_back(
      "every kernel takes at least " + Fixed(kMinKernelSeconds * 1e6, 2) +
      " us (launch and tail; calibrated on FasterTransformer's BERT-Base at batch 1 x 128 on "
      "A100): " +
      std::to_string(kEncoderLayerKernels) + " kernels per encoder layer" +
      (r.encoder_decoder ? ", " + std::to_string(kDecoderLayerKernels) + " per decoder layer"
                         : std::string()));
  if (r.encoder_decoder) {
    e.assumptions.push_back("beam search is priced as batch x beams independent sequences");
  }
  return r;
}

Result<TrainEstimate> EstimateEncoderDecoderTraining(const ModelProfile& prof,
                                                     const hw::GpuModel& gpu,
                                                     const TrainOptions& o) {
  const ModelSpec& m = prof.spec;
  auto bad = [](std::string s) { return Error(Status::InvalidArgument(std::move(s))); };
  if (!m.IsEncoderDecoder()) return bad(m.name + " is not an encoder-decoder model");
  TrainEstimate e;
  Layout l = o.layout;
  const std::string why_pp =
      "an encoder-decoder's pipeline splits two stacks of different token counts (Megatron-LM's "
      "encoder/decoder split rank), which is not modelled";
  if (o.gpus < 1) return bad("--gpus must be >= 1");
  if (l.tp < 1 || l.pp < 1 || l.cp < 1 || l.ep < 1 || l.vp < 1 || l.dp < 0) {
    return bad("--tp, --pp, --cp, --ep must be >= 1");
  }
  if (l.pp > 1 || l.vp > 1) return bad("pp " + std::to_string(l.pp) + ": " + why_pp);
  if (l.cp > 1) {
    return bad("cp " + std::to_string(l.cp) +
               ": context parallelism is not modelled for encoder-decoder models");
  }
  if (l.ep > 1) return bad("--ep " + std::to_string(l.ep) + " given for a dense model");
  if (l.dp == 0) {
    if (o.gpus % l.tp != 0) {
      return bad("tp " + std::to_string(l.tp) + " does not divide --gpus " +
                 std::to_string(o.gpus));
    }
    l.dp = o.gpus / l.tp;
  } else if (int64_t{l.tp} * l.dp != o.gpus) {
    return bad("tp x dp = " + std::to_string(int64_t{l.tp} * l.dp) + " is not --gpus " +
               std::to_string(o.gpus));
  }
  if (m.num_heads % l.tp != 0) {
    return bad("tp " + std::to_string(l.tp) + " does not divide the " +
               std::to_string(m.num_heads) + " heads of " + m.name);
  }
  if (l.zero < 0 || l.zero > 3) return bad("--zero must be 0..3");
  if (l.micro_batch < 1) return bad("--micro-batch must be >= 1");
  if (o.seq < 1) return bad("--seq must be >= 1");
  if (o.target_seq < 0) return bad("--target-seq must be >= 0");
  if (l.recompute == Recompute::kOp || l.recompute == Recompute::kLayer) {
    return bad("--recompute " + RecomputeName(l.recompute) +
               " is not modelled for encoder-decoder models");
  }
  if (o.finetune != Finetune::kFull) {
    return bad("--finetune " + FinetuneName(o.finetune) +
               " is not modelled for encoder-decoder models");
  }
  if (o.offload != Offload::kNone) {
    return bad("--offload is not modelled for encoder-decoder models");
  }
  if (o.pipeline_runs != 1) {
    return bad("--pipeline-runs needs pipeline stages; encoder-decoder plans have none");
  }
  if (Status s = CheckOptimizerOptions(o); !s.ok()) return Error(s);
  e.layout = l;

  // --- Precision and rates (as training_estimate.cc).
  const auto sixteen = SixteenBitPrecision(gpu);
  if (o.precision != hw::Precision::kBf16 && o.precision != hw::Precision::kFp16 &&
      o.precision != hw::Precision::kFp8) {
    return bad("training precision must be bf16, fp16 or fp8");
  }
  if (!PeakTflops(gpu, o.precision)) {
    return bad(gpu.name + " (" + gpu.architecture + ") cannot train in " +
               PrecisionLabel(o.precision) + " natively");
  }
  if (!o.kernels.loaded()) {
    return bad(std::string("no kernel efficiency row for ") + gpu.name + ": load " +
               kKernelEfficiencyFile);
  }
  const bool fp8 = o.precision == hw::Precision::kFp8;
  const double peak16 = *PeakTflops(gpu, sixteen.value_or(o.precision)) * 1e12;
  const double peak_train = *PeakTflops(gpu, o.precision) * 1e12;
  const double gemm16 = o.compute_efficiency.value_or(o.kernels.gemm_16bit.value);
  const double fp8_gemm = o.kernels.Fp8Gemm(o.fp8_recipe == Fp8Recipe::kBlockwise).value;
  e.gemm_efficiency = fp8 ? o.fp8_compute_efficiency.value_or(fp8_gemm) : gemm16;
  const double rate_linear = peak_train * e.gemm_efficiency;
  const double rate_attn =
      peak16 * (o.flash_attention ? o.flash_efficiency.value_or(o.kernels.flash.value) : gemm16);
  e.tp_overlap = o.tp_overlap.value_or(fp8 ? o.kernels.fp8_tp_overlap.value : 0.0);

  // --- Batch.
  const double s = double(o.seq);
  const double t = double(TargetSeq(o));
  const int64_t dp_mb = int64_t{l.dp} * l.micro_batch;
  GP_ASSIGN_OR_RETURN(e.global_batch, GlobalBatch(o, dp_mb));
  e.microbatches = e.global_batch / dp_mb;
  const double mb = l.micro_batch;

  // --- Parameters and FLOPs per sequence.
  const StackParams st = SplitStacks(m);
  const double h = double(m.hidden);
  const double a = m.num_heads;
  const double d = m.head_dim;
  const double head = double(m.vocab) * h;
  const double attn_per_ctx = 2.0 * a * 2.0 * d;  // QK^T and PV per context token, forward
  const double enc_attn = attn_per_ctx * s * st.encoder_layers;        // per input token
  const double dec_attn = attn_per_ctx * (t + s) * st.decoder_layers;  // per target token
  const double linear_per_seq =
      st.encoder_linear * s + (st.decoder_linear - st.cross_kv) * t + st.cross_kv * s + head * t;
  const double attn_per_seq = enc_attn * s + dec_attn * t;
  const double model_flops_per_seq = 6.0 * linear_per_seq + 3.0 * attn_per_seq;
  const bool attn_recomputed = l.recompute == Recompute::kFull ||
                               (l.recompute == Recompute::kSelective && !o.flash_attention);
  const double attn_passes = 3.0 + (attn_recomputed ? 1.0 : 0.0);
  const double linear_passes = l.recompute == Recompute::kFull ? 8.0 : 6.0;
  e.model_flops_per_token = model_flops_per_seq / s;  // per input token
  e.model_flops_per_step = model_flops_per_seq * double(e.global_batch);
  e.hardware_flops_per_step =
      (linear_passes * linear_per_seq + attn_passes * attn_per_seq) * double(e.global_batch);

  // --- Memory per GPU (one stage: pp = 1).
  const double params = double(prof.counts.total);
  const double d_ne = l.dp;
  const StateBytes state = TrainingStateBytes(o);
  const double w_bytes = state.weights;
  const double g_bytes = state.gradients;
  const double opt_bytes = state.optimizer;
  e.bytes_per_param = state.Total();
  e.trainable_params = params;
  const double p = params / l.tp;
  e.params_per_gpu = p;
  MemoryParts& mp = e.memory;
  mp.weights_gib = p / (l.zero >= 3 ? d_ne : 1.0) * w_bytes / kGiB;
  mp.gradients_gib = p / (l.zero >= 2 ? d_ne : 1.0) * g_bytes / kGiB;
  mp.optimizer_gib = p / (l.zero >= 1 ? d_ne : 1.0) * opt_bytes / kGiB;
  const bool sp = o.sequence_parallel && l.tp > 1;
  const double sp_div = sp ? l.tp : 1.0;
  const bool gpt_style = m.ffn_kind == FfnKind::kPlain;  // trained with dropout
  const double kv_width = 2.0 * 2.0 * a * d / l.tp;      // cross K and V, 2 bytes each
  double act = 0;                                        // bytes per sequence
  if (l.recompute == Recompute::kFull) {
    // Each layer's input, the encoder output, and one (the largest) layer's working set.
    act = 2.0 * h / sp_div * (s * st.encoder_layers + t * st.decoder_layers) + 2.0 * h * s;
    const double enc_layer =
        s * LayerActivationBytesPerToken(m, false, l.tp, sp, Recompute::kNone, true, o.seq);
    const double dec_layer =
        t * LayerActivationBytesPerToken(m, false, l.tp, sp, Recompute::kNone, true, o.seq) +
        s * kv_width;
    act += std::max(enc_layer, dec_layer);
  } else {
    const double enc_tok =
        LayerActivationBytesPerToken(m, false, l.tp, sp, l.recompute, o.flash_attention, o.seq);
    const double dec_self = LayerActivationBytesPerToken(m, false, l.tp, sp, l.recompute,
                                                         o.flash_attention, TargetSeq(o));
    // Cross-attention per target token: norm input 2h and dropout mask h (split with sequence
    // parallelism), Q and the output projection's input; without flash (and without selective
    // recompute) the t x s softmax, its dropout mask and output.
    double cross = (2.0 * h + (gpt_style ? h : 0.0)) / sp_div + 2.0 * 2.0 * a * d / l.tp;
    if (!o.flash_attention && l.recompute == Recompute::kNone) {
      cross += (gpt_style ? 5.0 : 2.0) * a * s / l.tp;
    }
    act = s * enc_tok * st.encoder_layers + t * (dec_self + cross) * st.decoder_layers +
          s * kv_width * st.decoder_layers + 2.0 * h * s;
  }
  const double logits =
      (o.fused_cross_entropy ? kFusedCrossEntropyBytes : kEagerCrossEntropyBytes) * t *
      double(m.vocab) / l.tp;
  mp.activations_gib = (act + logits) * mb / kGiB;
  mp.buffers_gib = o.buffers_gib;
  if (l.zero >= 3) {
    double largest = 0;
    for (const LayerParams& lp : prof.layers) largest = std::max(largest, double(lp.Total()));
    mp.buffers_gib += ZeroThreeGatherGib(largest, l.tp);
  }
  TotalWithFragmentation(mp, o.allocator_fragmentation.value_or(0.0), o.buffers_gib);
  e.heaviest_stage = 0;
  e.memory_budget_gib = gpu.memory_gib.value;
  e.fits = mp.total_gib <= e.memory_budget_gib;

  // --- Time of one microbatch, then the step.
  const double hbm = MemoryBytesPerSecond(gpu) * kTrainHbmEfficiency;
  const double passes = 3.0 + (l.recompute == Recompute::kFull ? 1.0 : 0.0);
  double elementwise = passes *
                       o.elementwise_bytes_per_hidden.value_or(kElementwiseBytesPerHidden) * h /
                       sp_div * (s * st.encoder_layers + 1.5 * t * st.decoder_layers);
  if (!o.flash_attention) {
    // Eager attention: the softmax, mask and dropout passes over every score, as
    // training_estimate.cc (9 B per score GPT-style with dropout, 6 without), for the encoder's
    // s x s, the decoder's t x t and the cross-attention's t x s scores.
    const double per_score = gpt_style ? 9.0 : 6.0;
    elementwise += attn_passes * per_score * a / l.tp *
                   (s * s * st.encoder_layers + t * (t + s) * st.decoder_layers);
  }
  const double compute = mb * (linear_passes * linear_per_seq / (l.tp * rate_linear) +
                               attn_passes * attn_per_seq / (l.tp * rate_attn) + elementwise / hbm);
  const auto all_reduce = [&](double bytes) {
    return l.tp > 1 ? CollectiveSeconds(Collective::kAllReduce, bytes, l.tp, 1, o.fabric) : 0.0;
  };
  const double n_scale = l.recompute == Recompute::kFull ? 1.5 : 1.0;
  const double tp_comm = n_scale *
                         (4.0 * st.encoder_layers * all_reduce(mb * s * h * 2.0) +
                          6.0 * st.decoder_layers * all_reduce(mb * t * h * 2.0) +
                          st.decoder_layers * all_reduce(mb * s * h * 2.0)) *
                         (1.0 - e.tp_overlap);
  const double m_count = double(e.microbatches);
  e.compute_seconds = m_count * compute;
  e.tp_comm_seconds = m_count * tp_comm;
  const double zero3 = l.zero >= 3 ? 1.5 : 1.0;
  e.dp_comm_seconds =
      zero3 * CollectiveSeconds(Collective::kAllReduce, p * g_bytes, l.dp, l.tp, o.fabric);
  // The encoder-decoder path keeps a fixed hidden half of DP traffic (the decoder-only estimate
  // models the overlap; training_estimate.h).
  e.dp_exposed_seconds = e.dp_comm_seconds * (1.0 - o.dp_overlap.value_or(0.5));
  const double opt_shard = p / (l.zero >= 1 ? d_ne : 1.0);
  e.optimizer_seconds = 2.0 * opt_shard * (opt_bytes + w_bytes + g_bytes) / hbm;
  e.step_seconds =
      e.compute_seconds + e.tp_comm_seconds + e.dp_exposed_seconds + e.optimizer_seconds;
  const double exposed = e.tp_comm_seconds + e.dp_exposed_seconds;
  e.comm_share = exposed / e.step_seconds;
  double inter = 0;
  if (SpansNodes(l.tp, 1, o.fabric)) inter += e.tp_comm_seconds;
  if (SpansNodes(l.dp, l.tp, o.fabric)) inter += e.dp_exposed_seconds;
  e.inter_node_comm_seconds = inter;

  const double n = o.gpus;
  const double tokens_per_step = double(e.global_batch) * s;
  e.mfu = e.model_flops_per_step / (n * peak_train * e.step_seconds);
  e.mfu_bf16 = e.model_flops_per_step / (n * peak16 * e.step_seconds);
  e.hfu = e.hardware_flops_per_step / (n * peak_train * e.step_seconds);
  e.tokens_per_second_per_gpu = tokens_per_step / e.step_seconds / n;
  e.tokens = o.tokens;
  e.gpu_hours = o.tokens / e.tokens_per_second_per_gpu / 3600.0;
  e.days = e.gpu_hours / n / 24.0;
  e.ep_overlap = 0;

  e.notes.push_back("encoder-decoder: " + std::to_string(o.seq) + " input tokens (encoder) and " +
                    std::to_string(int64_t(t)) +
                    " target tokens (decoder) per sequence; tokens, tokens/s and the budget count "
                    "input tokens; FLOPs per token are per input token with the decoder's share");
  e.notes.push_back("kernel efficiency: " + o.kernels.architecture + " row of data/" +
                    kKernelEfficiencyFile + " (GEMMs at " + Fixed(e.gemm_efficiency, 2) +
                    " of the dense peak)");
  if (!e.fits) {
    e.notes.push_back("does not fit: needs " +
                      std::to_string(static_cast<int>(std::ceil(mp.total_gib))) + " GiB of " +
                      std::to_string(static_cast<int>(e.memory_budget_gib)) + " GiB");
  }
  return e;
}

}  // namespace gpupool::planner

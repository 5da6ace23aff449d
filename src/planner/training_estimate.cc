#include "planner/training_estimate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "planner/encoder_estimate.h"
#include "planner/gpu_rates.h"

namespace gpupool::planner {

std::string RecomputeName(Recompute r) {
  switch (r) {
    case Recompute::kNone:
      return "none";
    case Recompute::kSelective:
      return "selective";
    case Recompute::kOp:
      return "op";
    case Recompute::kFull:
      return "full";
  }
  return "?";
}

Result<Recompute> ParseRecompute(std::string_view s) {
  if (s == "none") return Recompute::kNone;
  if (s == "selective") return Recompute::kSelective;
  if (s == "op") return Recompute::kOp;
  if (s == "full") return Recompute::kFull;
  return Error(Status::InvalidArgument("unknown --recompute '" + std::string(s) +
                                       "' (one of none, selective, op, full)"));
}

std::string OffloadName(Offload o) {
  switch (o) {
    case Offload::kNone:
      return "none";
    case Offload::kOptimizer:
      return "optimizer";
    case Offload::kParams:
      return "params";
  }
  return "?";
}

Result<Offload> ParseOffload(std::string_view s) {
  if (s == "none") return Offload::kNone;
  if (s == "optimizer") return Offload::kOptimizer;
  if (s == "params") return Offload::kParams;
  return Error(Status::InvalidArgument("unknown --offload '" + std::string(s) +
                                       "' (one of none, optimizer, params)"));
}

std::string FinetuneName(Finetune f) {
  switch (f) {
    case Finetune::kFull:
      return "full";
    case Finetune::kLora:
      return "lora";
    case Finetune::kQlora:
      return "qlora";
  }
  return "?";
}

Result<Finetune> ParseFinetune(std::string_view s) {
  if (s == "full") return Finetune::kFull;
  if (s == "lora") return Finetune::kLora;
  if (s == "qlora") return Finetune::kQlora;
  return Error(Status::InvalidArgument("unknown --finetune '" + std::string(s) +
                                       "' (one of full, lora, qlora)"));
}

double LoraLayerParams(const ModelSpec& m, bool moe_layer, int rank) {
  const double r = rank;
  const double h = double(m.hidden);
  const double a = m.num_heads;
  const double kv = m.mla.enabled ? a : double(m.num_kv_heads);
  const double dqk = QkHeadDim(m);
  const double dv = VHeadDim(m);
  double p = r * ((h + a * dqk) + (h + kv * dqk) + (h + kv * dv) + (a * dv + h));
  const double mats = m.ffn_kind == FfnKind::kGated ? 3.0 : 2.0;  // gate, up, down
  auto mlp = [&](double width) { return mats * r * (h + width); };
  if (moe_layer) {
    p += m.moe.num_experts * mlp(double(m.moe.expert_ffn));
    if (m.moe.shared_ffn > 0) p += mlp(double(m.moe.shared_ffn));
  } else {
    p += mlp(double(m.ffn));
  }
  return p;
}

ModelProfile MakeProfile(const ModelSpec& model) {
  ModelProfile p;
  p.spec = model;
  p.counts = CountParams(model);
  p.layers.reserve(static_cast<size_t>(model.num_layers));
  for (int i = 0; i < model.num_layers; ++i) p.layers.push_back(CountLayer(model, i));
  return p;
}

double LayerActivationBytesPerToken(const ModelSpec& m, bool moe_layer, int tp, bool sp,
                                    Recompute recompute, bool flash, int64_t seq) {
  const double h = double(m.hidden);
  const double t = tp;
  const bool gpt_style = m.ffn_kind == FfnKind::kPlain;  // trained with dropout
  // Parts split over TP only with sequence parallelism: the two norm inputs (4h), the inputs of
  // the QKV and MLP blocks (2h + 2h), and dropout masks after attention and MLP (h + h).
  const double sp_part = 8.0 * h + (gpt_style ? 2.0 * h : 0.0);
  const double sp_div = sp ? t : 1.0;
  if (recompute == Recompute::kFull) return 2.0 * h / sp_div;  // the layer input only

  const double a = m.num_heads;
  const double dqk = QkHeadDim(m);
  const double dv = VHeadDim(m);
  const double kv = m.mla.enabled ? a : double(m.num_kv_heads);
  // Q, K (for QK^T), V, and the input of the output projection, 2 bytes each.
  double tp_part = 2.0 * a * dqk + 2.0 * kv * dqk + 2.0 * kv * dv + 2.0 * a * dv;
  if (!flash && recompute == Recompute::kNone) {
    // Softmax output (2as), and with dropout its mask (as) and output (2as).
    tp_part += (gpt_style ? 5.0 : 2.0) * a * double(seq);
  }
  const double mlp_bytes_per_width = m.ffn_kind == FfnKind::kGated ? 6.0 : 4.0;
  if (recompute == Recompute::kOp) {
    // torchtitan's op-level SAC keeps the layer input, the attention kernel's output and the
    // outputs of every other matmul (its policy counts mm calls and recomputes the even ones);
    // norms, activation functions and the other matmuls are recomputed. Matmul outputs of one
    // layer: q, k, v, o (h), the MLP's up (and gate) and down (h); experts top_k times.
    const double gated = m.ffn_kind == FfnKind::kGated ? 2.0 : 1.0;
    double mm_out = 2.0 * a * dqk + 2.0 * kv * dqk + 2.0 * kv * dv + 2.0 * h;
    if (moe_layer) {
      mm_out += m.moe.top_k * (2.0 * gated * double(m.moe.expert_ffn) + 2.0 * h);
      mm_out += 2.0 * gated * double(m.moe.shared_ffn) + (m.moe.shared_ffn > 0 ? 2.0 * h : 0.0);
    } else {
      mm_out += 2.0 * gated * double(m.ffn) + 2.0 * h;
    }
    return 2.0 * h / sp_div + (2.0 * a * dv + 0.5 * mm_out) / t;
  }
  if (moe_layer) {
    const double k = m.moe.top_k;
    tp_part += k * (4.0 * h + mlp_bytes_per_width * double(m.moe.expert_ffn));
    tp_part += mlp_bytes_per_width * double(m.moe.shared_ffn);
  } else {
    tp_part += mlp_bytes_per_width * double(m.ffn);
  }
  return sp_part / sp_div + tp_part / t;
}

namespace {

constexpr double kHbmEfficiency = 0.8;

}  // namespace

std::vector<int> StageLayerCounts(int layers, int pp) {
  std::vector<int> counts(static_cast<size_t>(pp), layers / pp);
  int extra = layers % pp;
  // Middle stages take the extra layers first: the first stage also holds the embedding and the
  // most microbatches in flight, the last the head and the logits.
  for (int s = 1; s < pp - 1 && extra > 0; ++s, --extra) ++counts[static_cast<size_t>(s)];
  for (int s : {0, pp - 1}) {
    if (extra > 0) {
      ++counts[static_cast<size_t>(s)];
      --extra;
    }
  }
  return counts;
}

std::vector<int> BalancedStageLayerCounts(const std::vector<double>& layer_cost, double last_extra,
                                          int pp) {
  const int n = static_cast<int>(layer_cost.size());
  std::vector<double> prefix(static_cast<size_t>(n) + 1, 0.0);
  for (int i = 0; i < n; ++i)
    prefix[static_cast<size_t>(i) + 1] =
        prefix[static_cast<size_t>(i)] + layer_cost[static_cast<size_t>(i)];
  const double inf = std::numeric_limits<double>::infinity();
  // best[k][i]: smallest possible largest stage cost putting the first i layers on k stages.
  std::vector<std::vector<double>> best(static_cast<size_t>(pp) + 1,
                                        std::vector<double>(static_cast<size_t>(n) + 1, inf));
  std::vector<std::vector<int>> cut(static_cast<size_t>(pp) + 1,
                                    std::vector<int>(static_cast<size_t>(n) + 1, 0));
  best[0][0] = 0;
  for (int k = 1; k <= pp; ++k) {
    for (int i = k; i <= n - (pp - k); ++i) {
      for (int j = k - 1; j < i; ++j) {
        double c = prefix[static_cast<size_t>(i)] - prefix[static_cast<size_t>(j)];
        if (k == pp) c += last_extra;
        const double v = std::max(best[static_cast<size_t>(k) - 1][static_cast<size_t>(j)], c);
        // Ties keep the later cut, so earlier stages (more microbatches in flight) stay lighter.
        if (v <= best[static_cast<size_t>(k)][static_cast<size_t>(i)]) {
          best[static_cast<size_t>(k)][static_cast<size_t>(i)] = v;
          cut[static_cast<size_t>(k)][static_cast<size_t>(i)] = j;
        }
      }
    }
  }
  std::vector<int> counts(static_cast<size_t>(pp), 0);
  int i = n;
  for (int k = pp; k >= 1; --k) {
    const int j = cut[static_cast<size_t>(k)][static_cast<size_t>(i)];
    counts[static_cast<size_t>(k) - 1] = i - j;
    i = j;
  }
  return counts;
}

namespace {

Status CheckLayout(const ModelSpec& m, const TrainOptions& o, Layout& l) {
  auto bad = [](std::string s) { return Status::InvalidArgument(std::move(s)); };
  const auto str = [](auto v) { return std::to_string(v); };
  if (o.gpus < 1) return bad("--gpus must be >= 1");
  if (l.tp < 1 || l.pp < 1 || l.cp < 1 || l.ep < 1 || l.vp < 1 || l.dp < 0) {
    return bad("--tp, --pp, --cp, --ep must be >= 1");
  }
  const int64_t tpc = int64_t{l.tp} * l.pp * l.cp;
  if (l.dp == 0) {
    if (o.gpus % tpc != 0) {
      return bad("tp x pp x cp = " + str(tpc) + " does not divide --gpus " + str(o.gpus));
    }
    l.dp = static_cast<int>(o.gpus / tpc);
  } else if (tpc * l.dp != o.gpus) {
    return bad("tp x pp x cp x dp = " + str(tpc * l.dp) + " is not --gpus " + str(o.gpus));
  }
  if (l.pp > m.num_layers) {
    return bad("pp " + str(l.pp) + " is more than the " + str(m.num_layers) + " layers");
  }
  if (m.num_layers % (l.pp * l.vp) != 0 && !o.uneven_stages) {
    return bad("pp" + std::string(l.vp > 1 ? " x virtual stages" : "") + " = " + str(l.pp * l.vp) +
               " does not divide the " + str(m.num_layers) + " layers of " + m.name +
               " (--uneven-stages allows unequal stages)");
  }
  if (m.num_heads % l.tp != 0) {
    return bad("tp " + str(l.tp) + " does not divide the " + str(m.num_heads) + " heads of " +
               m.name);
  }
  if (!m.mla.enabled && m.num_kv_heads % l.tp != 0 && l.tp % m.num_kv_heads != 0) {
    return bad("tp " + str(l.tp) + " and the " + str(m.num_kv_heads) + " KV heads of " + m.name +
               " neither divide the other");
  }
  if (l.ep > 1 && !m.IsMoe()) return bad("--ep " + str(l.ep) + " given for a dense model");
  if (m.IsMoe() && m.moe.num_experts % l.ep != 0) {
    return bad("ep " + str(l.ep) + " does not divide the " + str(m.moe.num_experts) + " experts");
  }
  if ((int64_t{l.dp} * l.cp) % l.ep != 0) {
    return bad("ep " + str(l.ep) + " does not divide dp x cp = " + str(int64_t{l.dp} * l.cp));
  }
  if (l.zero < 0 || l.zero > 3) return bad("--zero must be 0..3");
  if (l.micro_batch < 1) return bad("--micro-batch must be >= 1");
  if (o.seq < 1 || o.seq % l.cp != 0) {
    return bad("cp " + str(l.cp) + " does not divide --seq " + str(o.seq));
  }
  return Status::Ok();
}

}  // namespace

Result<TrainEstimate> EstimateTraining(const ModelSpec& model, const hw::GpuModel& gpu,
                                       const TrainOptions& options) {
  return EstimateTraining(MakeProfile(model), gpu, options);
}

Result<TrainEstimate> EstimateTraining(const ModelProfile& prof, const hw::GpuModel& gpu,
                                       const TrainOptions& o) {
  const ModelSpec& m = prof.spec;
  if (m.IsEncoderDecoder()) return EstimateEncoderDecoderTraining(prof, gpu, o);
  TrainEstimate e;
  Layout l = o.layout;
  if (Status st = CheckLayout(m, o, l); !st.ok()) return Error(st);
  e.layout = l;

  // --- Precision and rates.
  const auto sixteen = SixteenBitPrecision(gpu);
  if (o.precision != hw::Precision::kBf16 && o.precision != hw::Precision::kFp16 &&
      o.precision != hw::Precision::kFp8) {
    return Error(Status::InvalidArgument("training precision must be bf16, fp16 or fp8"));
  }
  if (!PeakTflops(gpu, o.precision)) {
    std::string why = gpu.name + " (" + gpu.architecture + ") cannot train in " +
                      PrecisionLabel(o.precision) + " natively";
    if (sixteen) why += "; use --precision " + PrecisionLabel(*sixteen);
    return Error(Status::InvalidArgument(why));
  }
  if (!o.kernels.loaded()) {
    return Error(Status::InvalidArgument(std::string("no kernel efficiency row for ") + gpu.name +
                                         ": load " + kKernelEfficiencyFile));
  }
  const bool fp8 = o.precision == hw::Precision::kFp8;
  const double peak16 = *PeakTflops(gpu, sixteen.value_or(o.precision)) * 1e12;
  const double peak_train = *PeakTflops(gpu, o.precision) * 1e12;
  const double gemm16 = o.compute_efficiency.value_or(o.kernels.gemm_16bit.value);
  e.gemm_efficiency = fp8 ? o.fp8_compute_efficiency.value_or(o.kernels.gemm_fp8.value) : gemm16;
  const double rate_linear = peak_train * e.gemm_efficiency;
  const double flash_eff = o.flash_efficiency.value_or(o.kernels.flash.value);
  e.tp_overlap = o.tp_overlap.value_or(fp8 ? o.kernels.fp8_tp_overlap.value : 0.0);

  // --- Batch.
  const int64_t dp_mb = int64_t{l.dp} * l.micro_batch;
  e.global_batch = o.global_batch;
  if (e.global_batch == 0) {
    const int64_t target = (int64_t{4} << 20) / o.seq;
    e.global_batch = std::max<int64_t>(1, (target + dp_mb - 1) / dp_mb) * dp_mb;
  }
  if (e.global_batch % dp_mb != 0) {
    return Error(Status::InvalidArgument("--global-batch " + std::to_string(e.global_batch) +
                                         " is not a multiple of dp x " +
                                         "micro-batch = " + std::to_string(dp_mb)));
  }
  e.microbatches = e.global_batch / dp_mb;
  const double m_count = double(e.microbatches);
  e.ep_overlap = o.ep_overlap.value_or(e.microbatches >= 2 ? kMoeA2aOverlap : 0.0);

  // --- Memory and time, stage by stage.
  const double h = double(m.hidden);
  const double vocab_h = double(m.vocab) * h;
  std::vector<int> stage_layers;
  if (m.num_layers % l.pp == 0 || !o.uneven_stages) {
    stage_layers = StageLayerCounts(m.num_layers, l.pp);
  } else {
    // Unequal stages: balance the per-token FLOPs, with the head (and MTP) on the last stage.
    const double attn = AttentionFlopsPerToken(m, double(o.seq)) / m.num_layers;
    std::vector<double> cost;
    for (const LayerParams& lp : prof.layers) {
      cost.push_back(6.0 * double(lp.Active(m.moe.top_k) - lp.norms) + 3.0 * attn);
    }
    double last_extra = 6.0 * double(m.vocab) * double(m.hidden);
    if (m.mtp_layers > 0) last_extra = last_extra * (1 + m.mtp_layers) + m.mtp_layers * cost.back();
    stage_layers = BalancedStageLayerCounts(cost, last_extra, l.pp);
  }
  const double w_bytes = 2.0 + (fp8 ? 1.0 : 0.0);
  const double g_bytes = o.grad_fp32 ? 4.0 : 2.0;
  const double opt_bytes = 12.0;
  e.bytes_per_param = w_bytes + g_bytes + opt_bytes;
  const bool adapters = o.finetune != Finetune::kFull;
  if (o.offload == Offload::kParams && l.zero < 3) {
    return Error(Status::InvalidArgument("--offload params needs --zero 3 (ZeRO-Infinity)"));
  }
  if (o.offload != Offload::kNone && o.fabric.host.bandwidth_gbs <= 0) {
    return Error(Status::InvalidArgument("CPU offload needs the fabric's host (PCIe) link"));
  }
  if (adapters && (o.lora_rank < 1 || fp8)) {
    return Error(Status::InvalidArgument(o.lora_rank < 1 ? "--lora-rank must be >= 1"
                                                         : "LoRA / QLoRA are priced in bf16 only"));
  }
  const double base_linear_bytes = o.finetune == Finetune::kQlora ? kNf4DoubleQuantBytes : 2.0;
  // Linear passes over frozen base weights: the weight-gradient GEMM is skipped.
  const double base_pass_cut = adapters ? 2.0 : 0.0;
  const double lora_dense = adapters ? LoraLayerParams(m, false, o.lora_rank) : 0.0;
  const double lora_moe = adapters && m.IsMoe() ? LoraLayerParams(m, true, o.lora_rank) : 0.0;
  // The MoE layer's adapters outside the routed experts (attention, shared experts).
  double lora_moe_unrouted = 0;
  if (adapters && m.IsMoe()) {
    ModelSpec no_routed = m;
    no_routed.moe.num_experts = 0;
    lora_moe_unrouted = LoraLayerParams(no_routed, true, o.lora_rank);
  }
  const double d_ne = double(l.dp) * l.cp;
  const double d_e = d_ne / l.ep;
  const double tokens_mb = double(o.seq) * l.micro_batch / l.cp;
  const bool sp = o.sequence_parallel && l.tp > 1;
  const bool last_tied_copy = m.tied_embeddings && l.pp > 1;

  double best_total = -1;
  double max_ne = 0, max_e = 0, max_stage_params = 0;
  const double attn_fwd_per_layer = AttentionFlopsPerToken(m, double(o.seq)) / m.num_layers;
  const double tp_ar_layer =
      l.tp > 1 ? CollectiveSeconds(Collective::kAllReduce, tokens_mb * h * 2.0, l.tp, 1, o.fabric)
               : 0.0;
  const double n_tp = l.recompute == Recompute::kFull ? 6.0 : 4.0;
  const double a2a_bytes = tokens_mb / (sp ? l.tp : 1) * m.moe.top_k * h * (fp8 ? 1.5 : 2.0);
  const double ep_a2a =
      l.ep > 1 ? CollectiveSeconds(Collective::kAllToAll, a2a_bytes, l.ep, l.tp * l.cp, o.fabric)
               : 0.0;
  const double kv_width =
      m.mla.enabled ? double(m.num_heads) * (QkHeadDim(m) + VHeadDim(m))
                    : 2.0 * std::max(1, m.num_kv_heads / l.tp) * double(m.head_dim) * l.tp;
  const double cp_bytes = double(o.seq) * l.micro_batch * kv_width * 2.0 / l.tp;
  const double cp_layer =
      l.cp > 1 ? 3.0 * CollectiveSeconds(Collective::kAllGather, cp_bytes, l.cp, l.tp, o.fabric)
               : 0.0;
  // Attention products run at 16-bit: flash kernels at flash_efficiency, eager batched GEMMs at
  // compute_efficiency; linear layers at the training precision's rate.
  const bool attn_recomputed = l.recompute == Recompute::kFull ||
                               (l.recompute == Recompute::kSelective && !o.flash_attention);
  const double attn_passes = 3.0 + (attn_recomputed ? 1.0 : 0.0);
  const double rate_attn = peak16 * (o.flash_attention ? flash_eff : gemm16);
  // Forward passes of the linear layers per step: 3 (forward, two backward GEMMs), +1 with full
  // recompute, +1/2 with op-level SAC (every other matmul recomputed).
  const double linear_passes = l.recompute == Recompute::kFull ? 8.0
                               : l.recompute == Recompute::kOp ? 7.0
                                                               : 6.0;
  // Memory-bound element-wise work (norms, residual adds, activation functions, dropout; with
  // eager attention also the softmax/mask/dropout passes over the a x s scores), per token per
  // layer: passes x kElementwiseBytesPerHidden x h + attention passes x (9 or 6) x a x s bytes.
  const double passes = 3.0 + (l.recompute == Recompute::kFull ? 1.0 : 0.0);
  double bytes_tok_layer = passes * o.elementwise_bytes_per_hidden * h / (sp ? l.tp : 1);
  if (!o.flash_attention) {
    const double per_score = m.ffn_kind == FfnKind::kPlain ? 9.0 : 6.0;
    bytes_tok_layer += attn_passes * per_score * m.num_heads * double(o.seq) / l.tp;
  }
  const double hbm = MemoryBytesPerSecond(gpu) * kHbmEfficiency;

  // The slowest stage sets the pipeline's pace.
  double stage_compute = 0, stage_tp = 0, stage_ep = 0, stage_cp = 0, stage_total = -1;
  double hw_per_token = 0;  // hardware FLOPs per token, all stages
  int first = 0;
  for (int s = 0; s < l.pp; ++s) {
    const int count = stage_layers[static_cast<size_t>(s)];
    double ne = 0, ex = 0, flops_model = 0, linear_hw = 0, act = 0, act_one_layer_max = 0;
    double lora = 0, base_linear = 0;  // adapter parameters; base weights of linear layers
    int moe_layers = 0;
    int attn_layers = count;
    double largest_layer = 0;  // parameters of the largest layer on one EP rank
    for (int i = first; i < first + count; ++i) {
      const LayerParams& lp = prof.layers[static_cast<size_t>(i)];
      ne += double(lp.Total() - lp.routed_experts);
      ex += double(lp.routed_experts);
      largest_layer = std::max(
          largest_layer, double(lp.Total() - lp.routed_experts) + double(lp.routed_experts) / l.ep);
      const bool moe = lp.routed_experts > 0;
      moe_layers += moe ? 1 : 0;
      const double linear = double(lp.Active(m.moe.top_k) - lp.norms);
      flops_model += (6.0 - base_pass_cut) * linear + 3.0 * attn_fwd_per_layer;
      linear_hw += (linear_passes - base_pass_cut) * linear;
      if (adapters) {
        const double layer_lora = moe ? lora_moe : lora_dense;
        lora += layer_lora;
        base_linear += double(lp.attention + lp.dense_ffn + lp.shared_experts + lp.routed_experts);
        // Adapters a token passes through: top_k of the routed experts' ones, all others.
        const double routed = moe ? lora_moe - lora_moe_unrouted : 0.0;
        const double touched =
            layer_lora - routed + routed * m.moe.top_k / std::max(1, m.moe.num_experts);
        flops_model += 6.0 * touched;
        linear_hw += linear_passes * touched;
      }
      act += LayerActivationBytesPerToken(m, moe, l.tp, sp, l.recompute, o.flash_attention, o.seq);
      act_one_layer_max = std::max(act_one_layer_max,
                                   LayerActivationBytesPerToken(m, moe, l.tp, sp, Recompute::kNone,
                                                                o.flash_attention, o.seq));
    }
    first += count;
    if (s == 0) ne += double(prof.counts.embedding);
    double logits_bytes = 0;
    if (s == l.pp - 1) {
      ne += double(prof.counts.lm_head + prof.counts.final_norm) + (last_tied_copy ? vocab_h : 0);
      flops_model += (6.0 - base_pass_cut) * vocab_h;
      linear_hw += (linear_passes - base_pass_cut) * vocab_h;
      // Logits and loss: Megatron's fused vocab-parallel cross-entropy keeps the 16-bit logits
      // and one FP32 copy whose softmax gradient it writes in place (2 + 4 B); PyTorch's eager
      // F.cross_entropy upcasts to FP32 (4), log_softmax saves its FP32 result (4), and the
      // backward holds the FP32 gradients of both (4 + 4) beside the 16-bit logits (2): 18 B.
      logits_bytes = (o.fused_cross_entropy ? 6.0 : 18.0) * tokens_mb * double(m.vocab) / l.tp;
      if (m.mtp_layers > 0) {
        // DeepSeek's multi-token prediction module trains with the model on the last stage: per
        // depth one more decoder layer, the 2h x h projection and another pass through the
        // (shared) output head.
        const LayerParams& last = prof.layers.back();
        const double mtp_linear = double(last.Active(m.moe.top_k) - last.norms) + 2.0 * h * h;
        ne += m.mtp_layers * (double(last.Total() - last.routed_experts) + 2.0 * h * h);
        ex += m.mtp_layers * double(last.routed_experts);
        flops_model += m.mtp_layers * (6.0 * (mtp_linear + vocab_h) + 3.0 * attn_fwd_per_layer);
        linear_hw += m.mtp_layers * linear_passes * (mtp_linear + vocab_h);
        moe_layers += m.mtp_layers;
        attn_layers += m.mtp_layers;
        act += m.mtp_layers * LayerActivationBytesPerToken(m, true, l.tp, sp, l.recompute,
                                                           o.flash_attention, o.seq);
      }
    }
    const double p_ne = ne / l.tp;
    const double p_e = ex / (double(l.ep) * l.tp);
    MemoryParts mp;
    double w = (p_ne / (l.zero >= 3 ? d_ne : 1.0) + p_e / (l.zero >= 3 ? d_e : 1.0)) * w_bytes;
    double g = (p_ne / (l.zero >= 2 ? d_ne : 1.0) + p_e / (l.zero >= 2 ? d_e : 1.0)) * g_bytes;
    double op = (p_ne / (l.zero >= 1 ? d_ne : 1.0) + p_e / (l.zero >= 1 ? d_e : 1.0)) * opt_bytes;
    // Gradients and optimizer states exist for these parameters per GPU (all, or the adapters).
    double grad_ne = p_ne, grad_e = p_e;
    if (adapters) {
      // Frozen base: linear weights at 2 B (LoRA) or NF4 (QLoRA), the rest (embeddings, head,
      // norms, routers) at 2 B; the adapters train with 16-bit weights and gradients and FP32
      // Adam states (sharded like full training), split over TP with their layers.
      const double base = (base_linear * base_linear_bytes + (ne + ex - base_linear) * 2.0) / l.tp /
                          (l.zero >= 3 ? d_ne : 1.0);
      const double ad = lora / l.tp;
      w = base + ad * 2.0 / (l.zero >= 3 ? d_ne : 1.0);
      g = ad * g_bytes / (l.zero >= 2 ? d_ne : 1.0);
      op = ad * opt_bytes / (l.zero >= 1 ? d_ne : 1.0);
      grad_ne = ad;
      grad_e = 0;
      e.trainable_params += lora;
    }
    double in_flight = std::min<double>(l.pp - s, m_count);
    // The interleaved schedule's warm-up runs more microbatch chunks on the first stage: its
    // activations are (1 + (pp - 1) / (pp x vp)) times 1F1B's (Korthikanti et al. 2022, 4.2.3).
    if (s == 0 && l.vp > 1 && m_count > 1) {
      in_flight *= 1.0 + double(l.pp - 1) / (double(l.pp) * l.vp);
    }
    double act_bytes = in_flight * act * tokens_mb + logits_bytes;
    if (l.recompute == Recompute::kFull) act_bytes += act_one_layer_max * tokens_mb;
    mp.weights_gib = w / kGiB;
    mp.gradients_gib = g / kGiB;
    mp.optimizer_gib = op / kGiB;
    mp.activations_gib = act_bytes / kGiB;
    mp.buffers_gib = o.buffers_gib;
    if (o.offload != Offload::kNone) {
      // Optimizer states (and FP32 master weights) and the gradients' home are in host memory;
      // gradients stream down in buckets as the backward produces them.
      mp.gradients_gib = 0;
      mp.optimizer_gib = 0;
    }
    if (o.offload == Offload::kParams) mp.weights_gib = 0;
    if (l.zero >= 3 && l.pp > 1 && o.fsdp_pp_unsharded) {
      // FSDP with pipeline stages keeps the stage's gathered 16-bit weights from the first
      // microbatch's forward to the last one's backward (torchtitan turns reshard_after_forward
      // off under PP, so each microbatch does not gather again): the stage's full TP shard.
      mp.buffers_gib += (p_ne + p_e) * 2.0 / kGiB;
    } else if (l.zero >= 3 && count > 0) {
      // ZeRO-3 gathers each layer's full (TP-sharded) weights before use, and prefetches the
      // next: two layers of 16-bit weights live at once.
      mp.buffers_gib += 2.0 * largest_layer / l.tp * 2.0 / kGiB;
    }
    mp.total_gib =
        mp.weights_gib + mp.gradients_gib + mp.optimizer_gib + mp.activations_gib + mp.buffers_gib;
    // The caching allocator reserves more than the tensors allocate (block rounding and
    // fragmentation); reported in the buffers part.
    const double frag = o.allocator_fragmentation * (mp.total_gib - o.buffers_gib);
    mp.buffers_gib += frag;
    mp.total_gib += frag;
    if (mp.total_gib > best_total) {
      best_total = mp.total_gib;
      e.memory = mp;
      e.heaviest_stage = s;
      e.params_per_gpu = p_ne + p_e;
    }
    max_stage_params = std::max(max_stage_params, p_ne + p_e + (adapters ? lora / l.tp : 0.0));
    max_ne = std::max(max_ne, grad_ne);
    max_e = std::max(max_e, grad_e);
    e.model_flops_per_token += flops_model;

    // Time of one microbatch (forward + backward) on this stage.
    // QLoRA dequantizes each NF4 weight to 16 bit before its forward and backward GEMMs (read
    // the NF4 bytes, write 2 B), at HBM bandwidth, once per pass and microbatch.
    const double dequant = o.finetune == Finetune::kQlora ? (passes - 1.0) * base_linear / l.tp *
                                                                (kNf4DoubleQuantBytes + 2.0) / hbm
                                                          : 0.0;
    const double compute =
        dequant +
        tokens_mb / l.tp *
            (linear_hw / rate_linear + attn_passes * attn_fwd_per_layer * attn_layers / rate_attn) +
        tokens_mb * bytes_tok_layer * attn_layers / hbm;
    hw_per_token += linear_hw + attn_passes * attn_fwd_per_layer * attn_layers;
    const double tp_c = n_tp * tp_ar_layer * count * (1.0 - e.tp_overlap);
    const double ep_c = n_tp * ep_a2a * moe_layers * (1.0 - e.ep_overlap);
    const double cp_c = cp_layer * count;
    if (compute + tp_c + ep_c + cp_c > stage_total) {
      stage_total = compute + tp_c + ep_c + cp_c;
      stage_compute = compute;
      stage_tp = tp_c;
      stage_ep = ep_c;
      stage_cp = cp_c;
    }
  }
  if (!adapters) e.trainable_params = double(prof.counts.total);
  e.memory_budget_gib = gpu.memory_gib.value;
  e.fits = e.memory.total_gib <= e.memory_budget_gib;

  // --- FLOPs and time.
  const double tokens_per_step = double(e.global_batch) * double(o.seq);
  e.model_flops_per_step = e.model_flops_per_token * tokens_per_step;
  e.hardware_flops_per_step = hw_per_token * tokens_per_step;
  const double p2p_bytes = tokens_mb * h * 2.0 / (sp ? l.tp : 1);
  const double pp_p2p = l.pp > 1 ? 2.0 * CollectiveSeconds(Collective::kSendRecv, p2p_bytes, 2,
                                                           l.tp * l.cp * l.dp, o.fabric)
                                 : 0.0;
  const double stage_time = stage_total + pp_p2p;
  const double slots = m_count + double(l.pp - 1) / l.vp;
  const double pipeline = slots * stage_time;
  // Parts add up to the step: m stage times split by kind, plus the bubble.
  e.compute_seconds = m_count * stage_compute;
  e.bubble_seconds = double(l.pp - 1) / l.vp * stage_time;
  e.tp_comm_seconds = m_count * stage_tp;
  e.ep_comm_seconds = m_count * stage_ep;
  e.cp_comm_seconds = m_count * stage_cp;
  e.pp_comm_seconds = m_count * pp_p2p;

  // DP: gradients of the heaviest stage, non-expert over DP x CP, experts over DP x CP / EP.
  const double zero3 = l.zero >= 3 ? 1.5 : 1.0;
  const int dne = static_cast<int>(d_ne);
  const int de = static_cast<int>(d_e);
  e.dp_comm_seconds =
      zero3 * (CollectiveSeconds(Collective::kAllReduce, max_ne * g_bytes, dne, l.tp, o.fabric) +
               CollectiveSeconds(Collective::kAllReduce, max_e * g_bytes, de, l.tp * l.cp * l.ep,
                                 o.fabric));
  e.dp_exposed_seconds = e.dp_comm_seconds * (1.0 - o.dp_overlap);
  const double opt_shard =
      (max_ne / (l.zero >= 1 ? d_ne : 1.0) + max_e / (l.zero >= 1 ? d_e : 1.0));
  e.optimizer_seconds =
      2.0 * opt_shard * (opt_bytes + w_bytes + g_bytes) / (MemoryBytesPerSecond(gpu) * 0.8);
  if (o.offload != Offload::kNone) {
    // Per step, of this GPU's partition: 16-bit gradients down, updated 16-bit weights up (PCIe,
    // one direction each, not overlapped), and the Adam step at host memory bandwidth instead of
    // the GPU's.
    const double pcie = o.fabric.host.bandwidth_gbs * 1e9 * o.fabric.host.achievable_fraction;
    const double shard = opt_shard;  // parameters this GPU's optimizer owns
    e.offload_pcie_bytes_per_step = shard * (g_bytes + 2.0);
    e.optimizer_seconds = 0;
    e.offload_seconds = e.offload_pcie_bytes_per_step / pcie +
                        shard * kCpuAdamBytesPerParam / (o.host_memory_gbs_per_gpu * 1e9 * 0.8);
    if (o.offload == Offload::kParams) {
      // Each microbatch fetches the stage's 16-bit weights (its TP shard) before the forward and
      // the backward (and the recompute): exposed where the fetch outlasts the compute it hides
      // under.
      const double fetch = (passes - 1.0) * (max_stage_params * 2.0) / pcie;
      e.offload_pcie_bytes_per_step += m_count * (passes - 1.0) * max_stage_params * 2.0;
      e.offload_seconds += m_count * std::max(0.0, fetch - stage_compute);
    }
  }
  e.step_seconds = pipeline + e.dp_exposed_seconds + e.optimizer_seconds + e.offload_seconds;

  // Exposed communication, and the part of it that crosses nodes.
  const double exposed = e.tp_comm_seconds + e.ep_comm_seconds + e.cp_comm_seconds +
                         e.pp_comm_seconds + e.dp_exposed_seconds;
  e.comm_share = exposed / e.step_seconds;
  double inter = 0;
  if (SpansNodes(l.tp, 1, o.fabric)) inter += e.tp_comm_seconds;
  if (SpansNodes(l.cp, l.tp, o.fabric)) inter += e.cp_comm_seconds;
  if (SpansNodes(l.ep, l.tp * l.cp, o.fabric)) inter += e.ep_comm_seconds;
  if (l.pp > 1 && SpansNodes(2, l.tp * l.cp * l.dp, o.fabric)) inter += e.pp_comm_seconds;
  if (SpansNodes(dne, l.tp, o.fabric)) inter += e.dp_exposed_seconds;
  e.inter_node_comm_seconds = inter;

  const double n = o.gpus;
  e.mfu = e.model_flops_per_step / (n * peak_train * e.step_seconds);
  e.mfu_bf16 = e.model_flops_per_step / (n * peak16 * e.step_seconds);
  e.hfu = e.hardware_flops_per_step / (n * peak_train * e.step_seconds);
  e.tokens_per_second_per_gpu = tokens_per_step / e.step_seconds / n;
  e.tokens = o.tokens;
  e.gpu_hours = o.tokens / e.tokens_per_second_per_gpu / 3600.0;
  e.days = e.gpu_hours / n / 24.0;

  if (l.tp > o.fabric.gpus_per_node) {
    e.notes.push_back("tp " + std::to_string(l.tp) +
                      " spans nodes: TP all-reduces cross the "
                      "scale-out network");
  }
  e.notes.push_back("kernel efficiency: " + o.kernels.architecture + " row of data/" +
                    kKernelEfficiencyFile + " (GEMMs at " +
                    std::to_string(e.gemm_efficiency).substr(0, 4) + " of the dense peak)");
  if (!e.fits) {
    e.notes.push_back("does not fit: heaviest stage needs " +
                      std::to_string(static_cast<int>(std::ceil(e.memory.total_gib))) + " GiB of " +
                      std::to_string(static_cast<int>(e.memory_budget_gib)) + " GiB");
  }
  return e;
}

}  // namespace gpupool::planner

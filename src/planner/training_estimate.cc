#include "planner/training_estimate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

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
    case Recompute::kLayer:
      return "layer";
  }
  return "?";
}

Result<Recompute> ParseRecompute(std::string_view s) {
  if (s == "none") return Recompute::kNone;
  if (s == "selective") return Recompute::kSelective;
  if (s == "op") return Recompute::kOp;
  if (s == "full") return Recompute::kFull;
  if (s == "layer") return Recompute::kLayer;
  return Error(Status::InvalidArgument("unknown --recompute '" + std::string(s) +
                                       "' (one of none, selective, op, full, layer)"));
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

std::string FrameworkName(Framework f) {
  switch (f) {
    case Framework::kAuto:
      return "auto";
    case Framework::kMegatron:
      return "megatron";
    case Framework::kPyTorch:
      return "pytorch";
  }
  return "?";
}

Result<Framework> ParseFramework(std::string_view s) {
  if (s == "auto") return Framework::kAuto;
  if (s == "megatron") return Framework::kMegatron;
  if (s == "pytorch") return Framework::kPyTorch;
  return Error(Status::InvalidArgument("unknown --framework '" + std::string(s) +
                                       "' (one of auto, megatron, pytorch)"));
}

Framework ResolveFramework(Framework f, int zero) {
  if (f != Framework::kAuto) return f;
  return zero >= 3 ? Framework::kPyTorch : Framework::kMegatron;
}

std::string Fp8RecipeName(Fp8Recipe r) {
  return r == Fp8Recipe::kBlockwise ? "blockwise" : "tensorwise";
}

Result<Fp8Recipe> ParseFp8Recipe(std::string_view s) {
  if (s == "tensorwise") return Fp8Recipe::kTensorwise;
  if (s == "blockwise") return Fp8Recipe::kBlockwise;
  return Error(Status::InvalidArgument("unknown --fp8-recipe '" + std::string(s) +
                                       "' (one of tensorwise, blockwise)"));
}

namespace {

// Input and output widths of one layer's linear projections as one token passes through them
// (routed experts top_k times).
struct LinearShape {
  double in = 0, out = 0;
};
std::vector<LinearShape> LayerLinears(const ModelSpec& m, bool moe_layer) {
  const double h = double(m.hidden);
  const double a = m.num_heads;
  const double kv = m.mla.enabled ? a : double(m.num_kv_heads);
  const double dqk = QkHeadDim(m);
  const double dv = VHeadDim(m);
  std::vector<LinearShape> v = {{h, a * dqk + kv * dqk + kv * dv}, {a * dv, h}};
  const double gate = m.ffn_kind == FfnKind::kGated ? 2.0 : 1.0;
  auto mlp = [&](double width, double times) {
    if (width <= 0 || times <= 0) return;
    v.push_back({h * times, gate * width * times});
    v.push_back({width * times, h * times});
  };
  if (moe_layer) {
    mlp(double(m.moe.expert_ffn), m.moe.top_k);
    mlp(double(m.moe.shared_ffn), 1.0);
  } else {
    mlp(double(m.ffn), 1.0);
  }
  return v;
}

}  // namespace

double ElementwiseBytesPerToken(const ModelSpec& m, bool moe_layer, Framework fw,
                                std::optional<double> per_hidden, int tp, bool sp) {
  const double h = double(m.hidden);
  const double sp_div = sp ? tp : 1;
  if (per_hidden) return *per_hidden * h / sp_div;
  if (fw != Framework::kMegatron) return kElementwiseBytesPerHidden * h / sp_div;
  // Norms (read h, write h) and the two residual adds (read 2h, write h), 2 B each: sharded over
  // TP only with sequence parallelism.
  const double seq_part = m.norms_per_layer * 4.0 * h + 2.0 * 6.0 * h;
  // The activation (SwiGLU reads gate and up and writes their product: 3 x 2 B per ffn element;
  // GELU reads and writes: 2 x 2 B) on each MLP a token passes through, split over TP.
  const double act = m.ffn_kind == FfnKind::kGated ? 6.0 : 4.0;
  double width = 0;
  if (moe_layer) {
    width = m.moe.top_k * double(m.moe.expert_ffn) + double(m.moe.shared_ffn);
  } else {
    width = double(m.ffn);
  }
  // Fused RoPE reads and writes the rotated parts of q and k.
  double rope = 0;
  if (m.mla.enabled) {
    rope = 4.0 * (m.num_heads + 1.0) * m.mla.qk_rope_head_dim;
  } else if (!m.learned_positions) {
    rope = 4.0 * (m.num_heads + m.num_kv_heads) * double(m.head_dim);
  }
  return seq_part / sp_div + (act * width + rope) / tp;
}

double Fp8CastBytesPerToken(const ModelSpec& m, bool moe_layer, Framework fw, int tp,
                            double recomputed) {
  double fwd = 0, bwd = 0;
  const std::vector<LinearShape> lin = LayerLinears(m, moe_layer);
  for (const LinearShape& l : lin) {
    bwd += 4.0 * l.out;
    fwd += (fw == Framework::kMegatron ? 1.0 : 4.0) * l.in;
  }
  // megatron: the attention output (flash attention writes 16 bit) is cast like any input.
  if (fw == Framework::kMegatron) fwd += 3.0 * lin[1].in;
  return (fwd * (1.0 + recomputed) + bwd) / tp;
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

// See the header (one ring per NIC; g members of the group in a node share g rails).
double GroupCollectiveSeconds(Collective c, double bytes, int n, int stride, const Fabric& f) {
  if (n <= 1 || bytes <= 0) return 0;
  if (!SpansNodes(n, stride, f) || c == Collective::kAllToAll || c == Collective::kSendRecv ||
      stride >= f.gpus_per_node || f.scale_out.achievable_fraction <= 0) {
    return CollectiveSeconds(c, bytes, n, stride, f);
  }
  const int per_node = std::min(n, std::max(1, f.gpus_per_node / std::max(1, stride)));
  LinkTier link = f.scale_out;
  const double bw = std::min(per_node * f.scale_out.EffectiveBytesPerSecond(),
                             f.scale_up.EffectiveBytesPerSecond());
  link.bandwidth_gbs = bw / 1e9 / link.achievable_fraction;
  return CollectiveOnLinkSeconds(c, bytes, n, link);
}

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

// Share of the layers fully recomputed: all with full, one in recompute_every with layer.
double RecomputedShare(const Layout& l) {
  if (l.recompute == Recompute::kFull) return 1.0;
  if (l.recompute == Recompute::kLayer) return 1.0 / l.recompute_every;
  return 0.0;
}

Status CheckLayout(const ModelSpec& m, const TrainOptions& o, Layout& l) {
  auto bad = [](std::string s) { return Status::InvalidArgument(std::move(s)); };
  const auto str = [](auto v) { return std::to_string(v); };
  if (o.gpus < 1) return bad("--gpus must be >= 1");
  if (l.tp < 1 || l.pp < 1 || l.cp < 1 || l.ep < 1 || l.vp < 1 || l.dp < 0) {
    return bad("--tp, --pp, --cp, --ep must be >= 1");
  }
  if (l.recompute_every < 1) return bad("--recompute-every must be >= 1");
  if (o.pipeline_runs < 1) return bad("--pipeline-runs must be >= 1");
  if (o.pipeline_runs != 1 && l.pp == 1) {
    return bad("--pipeline-runs " + str(o.pipeline_runs) + " needs pipeline stages (--pp > 1)");
  }
  if (Status s = CheckOptimizerOptions(o); !s.ok()) return s;
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

Status CheckOptimizerOptions(const TrainOptions& o) {
  if (!o.master_weights && o.grad_fp32) {
    return Status::InvalidArgument(
        "--no-master-weights with --grad-fp32: FP32 gradient buffers go with FP32 master weights "
        "(Megatron's main grads); pure 16-bit training keeps 16-bit gradients");
  }
  if (!o.master_weights && o.offload != Offload::kNone) {
    return Status::InvalidArgument(
        "--no-master-weights with --offload: ZeRO-Offload keeps FP32 master weights and Adam "
        "states in host memory");
  }
  return Status::Ok();
}

StateBytes TrainingStateBytes(const TrainOptions& o) {
  StateBytes b;
  b.weights = 2.0 + (o.precision == hw::Precision::kFp8 ? 1.0 : 0.0);
  b.gradients = o.grad_fp32 ? 4.0 : 2.0;
  b.optimizer = o.master_weights ? kAdamMixedPrecisionBytes : kAdamPure16BitBytes;
  return b;
}

double ZeroThreeGatherGib(double largest_layer_params, int tp) {
  return 2.0 * largest_layer_params / tp * 2.0 / kGiB;
}

double AllocatorReserve(const TrainOptions& o, Framework fw) {
  return o.allocator_fragmentation.value_or(fw == Framework::kPyTorch ? kPyTorchAllocatorReserve
                                                                      : 0.0);
}

void TotalWithFragmentation(MemoryParts& mp, double reserve, double buffers_gib) {
  mp.total_gib =
      mp.weights_gib + mp.gradients_gib + mp.optimizer_gib + mp.activations_gib + mp.buffers_gib;
  // The caching allocator reserves more than the tensors allocate (block rounding and
  // fragmentation); reported as its own part.
  const double frag = reserve * (mp.total_gib - buffers_gib);
  mp.allocator_reserve_gib = frag;
  mp.total_gib += frag;
}

Result<int64_t> GlobalBatch(const TrainOptions& o, int64_t dp_mb) {
  int64_t batch = o.global_batch;
  if (batch == 0) {
    const int64_t target = (int64_t{4} << 20) / o.seq;
    batch = std::max<int64_t>(1, (target + dp_mb - 1) / dp_mb) * dp_mb;
  }
  if (batch % dp_mb != 0) {
    return Error(Status::InvalidArgument(
        "--global-batch " + std::to_string(batch) +
        " is not a multiple of dp x micro-batch = " + std::to_string(dp_mb)));
  }
  return batch;
}

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
  const Framework fw = ResolveFramework(o.framework, l.zero);
  e.framework = fw;
  const double gemm16 = o.compute_efficiency.value_or(o.kernels.gemm_16bit.value);
  const hw::Sourced& fp8_row = o.kernels.Fp8Gemm(o.fp8_recipe == Fp8Recipe::kBlockwise);
  e.gemm_efficiency = fp8 ? o.fp8_compute_efficiency.value_or(fp8_row.value) : gemm16;
  const double rate_linear = peak_train * e.gemm_efficiency;
  const double flash_eff = o.flash_efficiency.value_or(
      fw == Framework::kMegatron ? o.kernels.flash_te.value : o.kernels.flash_fa2.value);
  e.flash_efficiency = flash_eff;
  e.tp_overlap = o.tp_overlap.value_or(fp8 ? o.kernels.fp8_tp_overlap.value : 0.0);

  // --- Batch.
  const int64_t dp_mb = int64_t{l.dp} * l.micro_batch;
  GP_ASSIGN_OR_RETURN(e.global_batch, GlobalBatch(o, dp_mb));
  e.microbatches = e.global_batch / dp_mb;
  if (e.microbatches % o.pipeline_runs != 0) {
    return Error(Status::InvalidArgument(
        "--pipeline-runs " + std::to_string(o.pipeline_runs) + " does not divide the " +
        std::to_string(e.microbatches) + " microbatches of a step (global batch " +
        std::to_string(e.global_batch) + " / (dp " + std::to_string(l.dp) + " x micro-batch " +
        std::to_string(l.micro_batch) + "))"));
  }
  const double m_count = double(e.microbatches);
  // Microbatches one pipeline schedule runs (the step runs pipeline_runs of them in turn).
  const double m_run = m_count / o.pipeline_runs;
  e.ep_overlap = o.ep_overlap.value_or(m_run >= 2 ? kMoeA2aOverlap : 0.0);

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
  const StateBytes state = TrainingStateBytes(o);
  const double w_bytes = state.weights;
  const double g_bytes = state.gradients;
  const double opt_bytes = state.optimizer;
  e.bytes_per_param = state.Total();
  const bool adapters = o.finetune != Finetune::kFull;
  if (o.offload == Offload::kParams && l.zero < 3) {
    return Error(Status::InvalidArgument("--offload params needs --zero 3 (ZeRO-Infinity)"));
  }
  if (o.offload != Offload::kNone && o.fabric.host.bandwidth_gbs <= 0) {
    return Error(Status::InvalidArgument("CPU offload needs the fabric's host (PCIe) link"));
  }
  if (adapters && o.lora_rank < 1) {
    return Error(Status::InvalidArgument("--lora-rank must be >= 1"));
  }
  if (o.finetune == Finetune::kQlora && fp8) {
    return Error(Status::InvalidArgument(
        "--finetune qlora with --precision fp8: QLoRA dequantizes its NF4 base to 16 bit for "
        "every GEMM; price it in bf16"));
  }
  // Frozen base weights of the linear layers: NF4 (QLoRA), 16-bit (LoRA), or with FP8 the
  // 16-bit weights plus the FP8 copy Transformer Engine casts them to for the GEMMs (as in full
  // FP8 training, w_bytes): NeMo's LoRA recipes run the frozen base in FP8.
  const double base_linear_bytes =
      o.finetune == Finetune::kQlora ? kNf4DoubleQuantBytes : (fp8 ? w_bytes : 2.0);
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
      l.tp > 1
          ? GroupCollectiveSeconds(Collective::kAllReduce, tokens_mb * h * 2.0, l.tp, 1, o.fabric)
          : 0.0;
  const double rc_share = RecomputedShare(l);
  // The recompute mode of layer i (0-based in the model): layer mode recomputes the k-th, 2k-th,
  // ... layer (1-based) in full and keeps every activation of the others.
  const auto layer_recompute = [&l](int i) {
    if (l.recompute != Recompute::kLayer) return l.recompute;
    return (i + 1) % l.recompute_every == 0 ? Recompute::kFull : Recompute::kNone;
  };
  const double n_tp = 4.0 + 2.0 * rc_share;
  const double a2a_bytes = tokens_mb / (sp ? l.tp : 1) * m.moe.top_k * h * (fp8 ? 1.5 : 2.0);
  const double ep_a2a =
      l.ep > 1 ? CollectiveSeconds(Collective::kAllToAll, a2a_bytes, l.ep, l.tp * l.cp, o.fabric)
               : 0.0;
  const double kv_width =
      m.mla.enabled ? double(m.num_heads) * (QkHeadDim(m) + VHeadDim(m))
                    : 2.0 * std::max(1, m.num_kv_heads / l.tp) * double(m.head_dim) * l.tp;
  const double cp_bytes = double(o.seq) * l.micro_batch * kv_width * 2.0 / l.tp;
  const double cp_layer = l.cp > 1 ? 3.0 * GroupCollectiveSeconds(Collective::kAllGather, cp_bytes,
                                                                  l.cp, l.tp, o.fabric)
                                   : 0.0;
  // Attention products run at 16-bit: flash kernels at flash_efficiency, eager batched GEMMs at
  // compute_efficiency; linear layers at the training precision's rate.
  const double attn_recomputed =
      rc_share + (l.recompute == Recompute::kSelective && !o.flash_attention ? 1.0 : 0.0);
  const double attn_passes = 3.0 + attn_recomputed;
  const double rate_attn = peak16 * (o.flash_attention ? flash_eff : gemm16);
  // Forward passes of the linear layers per step: 3 (forward, two backward GEMMs), +1 with full
  // recompute, +1/2 with op-level SAC (every other matmul recomputed).
  const double linear_passes = rc_share > 0                    ? 6.0 + 2.0 * rc_share
                               : l.recompute == Recompute::kOp ? 7.0
                                                               : 6.0;
  // Memory-bound element-wise work (norms, residual adds, activation functions, dropout; with
  // eager attention also the softmax/mask/dropout passes over the a x s scores), per token per
  // layer: passes x kElementwiseBytesPerHidden x h + attention passes x (9 or 6) x a x s bytes.
  const double passes = 3.0 + rc_share;
  // Per token per layer on one GPU: the element-wise kernels in every pass, FP8's casts, and with
  // eager attention the passes over the scores.
  auto layer_bytes = [&](bool moe_layer) {
    double b = passes *
               ElementwiseBytesPerToken(m, moe_layer, fw, o.elementwise_bytes_per_hidden, l.tp, sp);
    if (fp8) b += Fp8CastBytesPerToken(m, moe_layer, fw, l.tp, rc_share);
    return b;
  };
  const double dense_layer_bytes = layer_bytes(false);
  const double moe_layer_bytes = m.IsMoe() ? layer_bytes(true) : dense_layer_bytes;
  e.elementwise_bytes_per_token_layer =
      ElementwiseBytesPerToken(m, m.IsMoe(), fw, o.elementwise_bytes_per_hidden, l.tp, sp);
  e.fp8_cast_bytes_per_token_layer =
      fp8 ? Fp8CastBytesPerToken(m, m.IsMoe(), fw, l.tp, rc_share) : 0.0;
  double score_bytes = 0;
  if (!o.flash_attention) {
    const double per_score = m.ffn_kind == FfnKind::kPlain ? 9.0 : 6.0;
    score_bytes = attn_passes * per_score * m.num_heads * double(o.seq) / l.tp;
  }
  // FP8 covers the transformer layers' linear projections; the output layer stays 16-bit
  // (Megatron-Core / Transformer Engine apply FP8 inside the transformer layers only, torchao's
  // float8 conversion skips the output projection).
  const double rate_head = peak16 * gemm16;
  const double hbm = MemoryBytesPerSecond(gpu) * kHbmEfficiency;

  // The slowest stage sets the pipeline's pace.
  double stage_compute = 0, stage_tp = 0, stage_ep = 0, stage_cp = 0, stage_total = -1;
  double hw_per_token = 0;  // hardware FLOPs per token, all stages
  int first = 0;
  for (int s = 0; s < l.pp; ++s) {
    const int count = stage_layers[static_cast<size_t>(s)];
    double ne = 0, ex = 0, flops_model = 0, linear_hw = 0, act = 0, act_one_layer_max = 0;
    double head_hw = 0;                // output-layer FLOPs per token (16-bit)
    double ew_bytes = 0;               // element-wise bytes per token, all layers of the stage
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
      ew_bytes += (moe ? moe_layer_bytes : dense_layer_bytes) + score_bytes;
      act += LayerActivationBytesPerToken(m, moe, l.tp, sp, layer_recompute(i), o.flash_attention,
                                          o.seq);
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
      head_hw += (linear_passes - base_pass_cut) * vocab_h;
      // Logits and loss: Megatron's fused vocab-parallel cross-entropy keeps the 16-bit logits
      // and one FP32 copy whose softmax gradient it writes in place (2 + 4 B); PyTorch's eager
      // F.cross_entropy on FP32-upcast logits peaks in its backward, where log_softmax's saved
      // FP32 result (4), the incoming FP32 gradient (4) and the gradient it computes (4) are
      // alive at once: 12 B (torchtitan deletes the 16-bit logits before the backward; the FP32
      // copy is not saved).
      logits_bytes = (o.fused_cross_entropy ? kFusedCrossEntropyBytes : kEagerCrossEntropyBytes) *
                     tokens_mb * double(m.vocab) / l.tp;
      if (m.mtp_layers > 0) {
        // DeepSeek's multi-token prediction module trains with the model on the last stage: per
        // depth one more decoder layer, the 2h x h projection and another pass through the
        // (shared) output head.
        const LayerParams& last = prof.layers.back();
        const double mtp_linear = double(last.Active(m.moe.top_k) - last.norms) + 2.0 * h * h;
        ne += m.mtp_layers * (double(last.Total() - last.routed_experts) + 2.0 * h * h);
        ex += m.mtp_layers * double(last.routed_experts);
        flops_model += m.mtp_layers * (6.0 * (mtp_linear + vocab_h) + 3.0 * attn_fwd_per_layer);
        linear_hw += m.mtp_layers * linear_passes * mtp_linear;
        head_hw += m.mtp_layers * linear_passes * vocab_h;
        ew_bytes += m.mtp_layers * (moe_layer_bytes + score_bytes);
        moe_layers += m.mtp_layers;
        attn_layers += m.mtp_layers;
        act += m.mtp_layers * LayerActivationBytesPerToken(m, true, l.tp, sp,
                                                           layer_recompute(m.num_layers),
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
    double in_flight = std::min<double>(l.pp - s, m_run);
    // The interleaved schedule's warm-up runs more microbatch chunks on the first stage: its
    // activations are (1 + (pp - 1) / (pp x vp)) times 1F1B's (Korthikanti et al. 2022, 4.2.3).
    if (s == 0 && l.vp > 1 && m_run > 1) {
      in_flight *= 1.0 + double(l.pp - 1) / (double(l.pp) * l.vp);
    }
    double act_bytes = in_flight * act * tokens_mb + logits_bytes;
    if (rc_share > 0) act_bytes += act_one_layer_max * tokens_mb;
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
      // Routed experts whose expert-data-parallel group is one GPU (EP = DP x CP) have nothing
      // to shard: FSDP does not manage them (NeMo AutoModel's MoE parallelizer leaves them out
      // of fully_shard), so they have no gathered copy and their 16-bit gradients accumulate in
      // place (counted in g above).
      const bool fsdp_experts = d_e > 1.0;
      mp.buffers_gib += (p_ne + (fsdp_experts ? p_e : 0.0)) * 2.0 / kGiB;
      // ... and defers the gradient reduction to the last microbatch's backward: each backward
      // leaves the stage's unsharded gradients, which FSDP2 upcasts to its FP32 reduce dtype and
      // accumulates (torch.distributed.pipelining stage.py backward_maybe_with_nosync turns
      // requires_gradient_sync off; _fsdp_param.py to_accumulated_grad_if_needed).
      mp.gradients_gib +=
          (grad_ne + (fsdp_experts ? grad_e : 0.0)) * kFsdpAccumulatedGradBytes / kGiB;
    } else if (l.zero >= 3 && count > 0) {
      mp.buffers_gib += ZeroThreeGatherGib(largest_layer, l.tp);
    }
    TotalWithFragmentation(mp, AllocatorReserve(o, fw), o.buffers_gib);
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
    const double compute = dequant +
                           tokens_mb / l.tp *
                               (linear_hw / rate_linear + head_hw / rate_head +
                                attn_passes * attn_fwd_per_layer * attn_layers / rate_attn) +
                           tokens_mb * ew_bytes / hbm;
    hw_per_token += linear_hw + head_hw + attn_passes * attn_fwd_per_layer * attn_layers;
    const double tp_c = n_tp * tp_ar_layer * count * (1.0 - e.tp_overlap);
    const double ep_c = n_tp * ep_a2a * moe_layers * (1.0 - e.ep_overlap);
    // Context parallelism exchanges K/V around a ring while each step's attention runs on the
    // block already received (ring attention: Liu et al. 2023; Megatron-Core's context parallel
    // and torchtitan's both overlap the P2P with the attention kernel): per layer only what
    // outlasts that layer's attention is exposed.
    const double attn_layer_time = tokens_mb / l.tp * attn_passes * attn_fwd_per_layer / rate_attn;
    const double cp_c = std::max(0.0, cp_layer - attn_layer_time) * count;
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
  // Each pipeline run fills and drains the pipeline: (pp - 1) / vp stage times of bubble each.
  const double slots = m_count + o.pipeline_runs * double(l.pp - 1) / l.vp;
  const double pipeline = slots * stage_time;
  // Parts add up to the step: m stage times split by kind, plus the bubble.
  e.compute_seconds = m_count * stage_compute;
  e.bubble_seconds = o.pipeline_runs * double(l.pp - 1) / l.vp * stage_time;
  e.tp_comm_seconds = m_count * stage_tp;
  e.ep_comm_seconds = m_count * stage_ep;
  e.cp_comm_seconds = m_count * stage_cp;
  e.pp_comm_seconds = m_count * pp_p2p;

  // DP: the heaviest stage's parameters, non-expert over DP x CP, experts over DP x CP / EP.
  const int dne = static_cast<int>(d_ne);
  const int de = static_cast<int>(d_e);
  const int e_stride = l.tp * l.cp * l.ep;
  // Gradients travel in 16 bit under megatron (FP32 with --grad-fp32); PyTorch reduces them in
  // FP32 (AMP keeps FP32 gradients for DDP; FSDP's MixedPrecision reduce_dtype is FP32 in
  // torchtitan and Composer).
  const double rs_bytes = fw == Framework::kPyTorch ? 4.0 : g_bytes;
  // `pieces` collectives of equal size (FSDP issues one per layer, DDP one per bucket): each pays
  // the ring's per-step latency.
  auto dp_coll = [&](Collective c, double bytes_per_param, double pieces = 1.0) {
    pieces = std::max(1.0, pieces);
    return pieces *
           (GroupCollectiveSeconds(c, max_ne * bytes_per_param / pieces, dne, l.tp, o.fabric) +
            GroupCollectiveSeconds(c, max_e * bytes_per_param / pieces, de, e_stride, o.fabric));
  };
  // Compute one microbatch spends in its forward and in its backward (recompute included).
  const double fwd_mb = stage_compute * 2.0 / linear_passes;
  const double bwd_mb = stage_compute - fwd_mb;
  const double layers_per_stage = std::max(1.0, double(m.num_layers) / l.pp);
  double dp_exposed = 0;
  if (l.zero >= 3) {
    // FSDP / ZeRO-3: every layer's 16-bit weights are gathered before its forward and again
    // before its backward, and its gradients reduce-scattered after it; each prefetched under
    // the neighbouring layer's compute, so only what outlasts the compute is exposed, and at
    // least the first gather and the last reduce-scatter (one layer's).
    const double ag = dp_coll(Collective::kAllGather, 2.0, layers_per_stage);
    const double rs = dp_coll(Collective::kReduceScatter, rs_bytes, layers_per_stage);
    if (l.pp > 1 && o.fsdp_pp_unsharded) {
      // Under PP the stage stays gathered for the step: one gather, one reduce-scatter. The
      // gather is prefetched under the first forward; the reduce-scatter runs after the last
      // microbatch's backward, when the schedule calls FSDP's post-backward for the whole stage
      // (torch.distributed.pipelining, backward_maybe_with_nosync), with nothing left to hide
      // it under on the first stage, which finishes last.
      e.dp_comm_seconds = ag + rs;
      dp_exposed = std::max(ag / layers_per_stage, ag - fwd_mb) + rs;
    } else {
      // Gathered and reduced again for every microbatch (FSDP's default with accumulation).
      e.dp_comm_seconds = m_count * (2.0 * ag + rs);
      dp_exposed = m_count * (std::max(ag / layers_per_stage, ag - fwd_mb) +
                              std::max(rs / layers_per_stage, ag + rs - bwd_mb));
    }
  } else {
    // ZeRO-0/1/2: gradients are reduced in buckets as the last microbatch's backward produces
    // them (Megatron-Core buckets of max(40M, 1M x DP) parameters, PyTorch DDP's 25 MiB); what
    // outlasts that backward, and at least the last bucket, is exposed. ZeRO-1/2 then gather the
    // updated parameters: under the next step's first forward with megatron
    // (--overlap-param-gather), after the optimizer step with pytorch (DeepSpeed).
    const Collective red = l.zero == 0 ? Collective::kAllReduce : Collective::kReduceScatter;
    const double bucket_params =
        fw == Framework::kMegatron ? std::max(40e6, 1e6 * d_ne) : 25.0 * 1024 * 1024 / rs_bytes;
    const double grads = dp_coll(red, rs_bytes, std::ceil((max_ne + max_e) / bucket_params));
    const double tail = GroupCollectiveSeconds(
        red, std::min(max_ne + max_e, bucket_params) * rs_bytes, dne, l.tp, o.fabric);
    const double ag = l.zero >= 1 ? dp_coll(Collective::kAllGather, 2.0) : 0.0;
    e.dp_comm_seconds = grads + ag;
    dp_exposed = std::max(std::min(tail, grads), grads - bwd_mb) +
                 (fw == Framework::kMegatron ? std::max(0.0, ag - fwd_mb) : ag);
  }
  if (o.dp_overlap) {
    e.dp_exposed_seconds = e.dp_comm_seconds * (1.0 - *o.dp_overlap);
  } else {
    // While DP traffic overlaps compute, NCCL's kernels hold some of the SMs (one CTA per
    // channel), and the compute they share the GPU with runs that much slower.
    e.dp_interference_seconds =
        std::max(0.0, e.dp_comm_seconds - dp_exposed) * o.kernels.nccl_sm_share.value;
    e.dp_exposed_seconds = dp_exposed + e.dp_interference_seconds;
  }
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

namespace gpupool::planner {

namespace {

std::string Fix(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// "0.63 (Hopper row of data/planner/kernel_efficiency.yaml: calibration: ...)" or "0.7 (given:
// --efficiency)".
std::string Figure(const std::string& what, const hw::Sourced& row, const std::string& arch,
                   std::optional<double> given, const std::string& flag) {
  if (given) return what + " " + Fix(*given, 2) + " (given: " + flag + ")";
  return what + " " + Fix(row.value, 2) + " (" + arch + " row of data/" + kKernelEfficiencyFile +
         ": " + row.source + ")";
}

}  // namespace

TrainBasis TrainingBasis(const ModelSpec& m, const hw::GpuModel& gpu, const TrainOptions& o,
                         const TrainEstimate& e) {
  TrainBasis b;
  const Layout& l = e.layout;
  const bool fp8 = o.precision == hw::Precision::kFp8;
  const bool megatron = e.framework == Framework::kMegatron;
  const std::string arch = o.kernels.architecture;
  const auto peak = PeakTflops(gpu, o.precision);
  const std::string rc =
      RecomputeName(l.recompute) +
      (l.recompute == Recompute::kLayer ? " every " + std::to_string(l.recompute_every) : "");

  // --- Modelled: computed from the model, the layout and the catalog.
  b.modelled.push_back(
      m.name +
      ": FLOPs per token: 6 x the linear parameters a token passes through (incl. the output "
      "layer) + 12 x layers x sequence x attention width (the full s x s scores, as Narayanan et "
      "al. 2021 count them); hardware FLOPs add the recomputed forward (recompute " +
      rc + ")");
  b.modelled.push_back(
      "memory: weights, gradients and Adam states at " + Fix(e.bytes_per_param, 0) +
      " B per parameter before sharding, ZeRO-" + std::to_string(l.zero) + " over DP x CP = " +
      std::to_string(l.dp * l.cp) + "; activations per Korthikanti et al. 2022 (recompute " + rc +
      ", " + (o.flash_attention ? "flash attention" : "eager attention") +
      "), the 1F1B schedule's microbatches in flight; logits " +
      (o.fused_cross_entropy ? "6 B (fused cross-entropy)" : "12 B (eager F.cross_entropy)") +
      " per vocabulary entry");
  b.modelled.push_back("GEMMs: linear FLOPs at " + Fix(e.gemm_efficiency, 2) + " x the " +
                       PrecisionLabel(o.precision) + " dense peak of " + gpu.name + " (" +
                       (peak ? Fix(*peak, 0) : std::string("?")) + " TFLOPS, data/hw/gpus.yaml)" +
                       (fp8 ? "; the output layer at the 16-bit rate (FP8 covers the "
                              "transformer layers' projections)"
                            : ""));
  b.modelled.push_back(std::string("attention: ") +
                       (o.flash_attention
                            ? (megatron ? "Transformer Engine's fused attention" : "flash-attn 2") +
                                  std::string(" at ") + Fix(e.flash_efficiency, 2) +
                                  " of the 16-bit peak"
                            : std::string("eager batched GEMMs at the GEMM efficiency, softmax and "
                                          "mask passes over the scores at HBM bandwidth")));
  b.modelled.push_back(
      "element-wise kernels: " + Fix(e.elementwise_bytes_per_token_layer, 0) +
      " B per token per layer per pass on each GPU (" +
      (o.elementwise_bytes_per_hidden ? std::string("given: --elementwise-bytes ") +
                                            Fix(*o.elementwise_bytes_per_hidden, 0) + " x h"
       : megatron ? std::string("megatron: the fused norm, residual, activation and RoPE "
                                "kernels counted")
                  : std::string("pytorch: ") + Fix(kElementwiseBytesPerHidden, 0) +
                        " x h of unfused ops") +
      ") at 80 % of " + Fix(gpu.memory_bandwidth_gbs.value, 0) + " GB/s HBM");
  if (fp8) {
    b.modelled.push_back("FP8 casts: " + Fix(e.fp8_cast_bytes_per_token_layer, 0) +
                         " B per token per layer per step (" + Fp8RecipeName(o.fp8_recipe) +
                         " scaling; " +
                         (megatron ? "norms and activations write FP8 themselves"
                                   : "every linear input and output gradient cast") +
                         ")");
  }
  const std::string up = o.fabric.scale_up.name + " " + Fix(o.fabric.scale_up.bandwidth_gbs, 0) +
                         " GB/s x " + Fix(o.fabric.scale_up.achievable_fraction, 2);
  const std::string out = o.fabric.scale_out.name + " " + Fix(o.fabric.scale_out.bandwidth_gbs, 0) +
                          " GB/s x " + Fix(o.fabric.scale_out.achievable_fraction, 2);
  b.modelled.push_back("links (data/hw/interconnects.yaml): " + up + " inside a node of " +
                       std::to_string(o.fabric.gpus_per_node) + ", " + out +
                       " per GPU between nodes; a ring over g GPUs of each node gets g rails");
  if (l.tp > 1) {
    const double n_tp = 4.0 + 2.0 * RecomputedShare(l);
    b.modelled.push_back("TP: " + Fix(n_tp, n_tp == std::floor(n_tp) ? 0 : 2) +
                         " all-reduce volumes of tokens x h x 2 B per layer per microbatch, " +
                         Fix(100 * e.tp_overlap, 0) + " % hidden");
  }
  if (l.cp > 1) {
    b.modelled.push_back(
        "CP: K/V ring exchange (3 all-gather volumes per layer), exposed only where it outlasts "
        "the layer's attention (ring attention)");
  }
  if (l.pp > 1) {
    const std::string runs = std::to_string(o.pipeline_runs);
    b.modelled.push_back((o.pipeline_runs == 1
                              ? "PP: (microbatches + (pp - 1) / vp) stage times ("
                              : "PP: (microbatches + " + runs + " x (pp - 1) / vp) stage times (" +
                                    runs + " pipeline runs, ") +
                         std::to_string(e.microbatches) + " microbatches, vp " +
                         std::to_string(l.vp) + "), one activation send and receive each");
  }
  if (l.ep > 1) {
    b.modelled.push_back(
        "EP: dispatch and combine all-to-alls forward and backward per MoE "
        "layer, " +
        Fix(100 * e.ep_overlap, 0) + " % hidden");
  }
  if (!o.dp_overlap && e.dp_comm_seconds > 0) {
    b.modelled.push_back(
        l.zero >= 3
            ? "DP (FSDP / ZeRO-3): each layer's 16-bit weights gathered before its forward and "
              "backward and its gradients reduce-scattered, prefetched under the neighbouring "
              "layer: exposed where it outlasts the compute, at least one layer's gather and "
              "reduce-scatter; NCCL's CTAs take " +
                  Fix(100 * o.kernels.nccl_sm_share.value, 0) + " % of the SMs while it overlaps"
            : "DP (ZeRO-" + std::to_string(l.zero) +
                  "): gradients reduced in buckets under the last microbatch's backward, the "
                  "rest and at least the last bucket exposed" +
                  (l.zero >= 1 ? std::string(megatron ? "; parameters gathered under the first "
                                                        "forward"
                                                      : "; parameters gathered after the "
                                                        "optimizer step")
                               : std::string()) +
                  "; NCCL's CTAs take " + Fix(100 * o.kernels.nccl_sm_share.value, 0) +
                  " % of the SMs while it overlaps");
  }
  b.modelled.push_back("optimizer step: reads and writes its states at 80 % of HBM bandwidth");

  if (m.IsEncoderDecoder()) {
    b.modelled.push_back(
        "encoder-decoder: both stacks priced by encoder_estimate.h (eager element-wise traffic, "
        "a fixed half of DP communication hidden); the framework, FP8-cast and DP-overlap "
        "mechanisms apply to decoder-only models");
  }

  // --- Assumptions: constants, fitted figures and given values.
  b.assumptions.push_back(
      "framework " + FrameworkName(e.framework) +
      (o.framework == Framework::kAuto
           ? std::string(" (auto: pytorch with ZeRO-3, megatron otherwise; --framework)")
           : std::string(" (given: --framework)")));
  b.assumptions.push_back(
      Figure(fp8 ? "FP8 GEMM efficiency" : "GEMM efficiency",
             fp8 ? o.kernels.Fp8Gemm(o.fp8_recipe == Fp8Recipe::kBlockwise) : o.kernels.gemm_16bit,
             arch, fp8 ? o.fp8_compute_efficiency : o.compute_efficiency,
             fp8 ? "--fp8-efficiency" : "--efficiency"));
  if (fp8) {
    b.assumptions.push_back(Figure("16-bit GEMM efficiency (output layer)", o.kernels.gemm_16bit,
                                   arch, o.compute_efficiency, "--efficiency"));
  }
  if (o.flash_attention) {
    b.assumptions.push_back(Figure(megatron ? "fused-attention efficiency"
                                            : "flash-attn 2 "
                                              "efficiency",
                                   megatron ? o.kernels.flash_te : o.kernels.flash_fa2, arch,
                                   o.flash_efficiency, "--flash-efficiency"));
  }
  if (!megatron && !o.elementwise_bytes_per_hidden) {
    b.assumptions.push_back("eager element-wise traffic " + Fix(kElementwiseBytesPerHidden, 0) +
                            " x h per token per layer per pass (calibration: llm-foundry MPT-1b, "
                            "7b, 30b on H100, rows 24-26 of docs/planner-validation.md)");
  }
  b.assumptions.push_back(
      o.master_weights
          ? std::string("optimizer: Adam with FP32 master weights and moments (mixed precision; "
                        "--no-master-weights for pure 16-bit training)")
          : std::string("optimizer: pure 16-bit training, no master weights, Adam's moments in "
                        "16 bit (given: --no-master-weights)"));
  if (l.pp > 1) {
    b.assumptions.push_back(
        o.pipeline_runs == 1
            ? std::string("one pipeline schedule over the step's microbatches (--pipeline-runs)")
            : std::to_string(o.pipeline_runs) +
                  " pipeline schedules per step, each filling and draining the pipeline (given: "
                  "--pipeline-runs)");
  }
  b.assumptions.push_back("HBM at 80 % of its peak bandwidth (planner constant)");
  if (l.tp > 1) {
    b.assumptions.push_back(
        o.tp_overlap ? "TP overlap " + Fix(*o.tp_overlap, 2) + " (given: --tp-overlap)"
        : fp8        ? Figure("TP overlap", o.kernels.fp8_tp_overlap, arch, std::nullopt, "")
                     : std::string("TP communication not overlapped (--tp-overlap)"));
  }
  if (l.ep > 1) {
    b.assumptions.push_back(o.ep_overlap
                                ? "EP overlap " + Fix(*o.ep_overlap, 2) + " (given: --ep-overlap)"
                                : "EP overlap " + Fix(e.ep_overlap, 2) +
                                      " (calibration: DeepSeek-V3, row 14 of "
                                      "docs/planner-validation.md)");
  }
  if (o.dp_overlap) {
    b.assumptions.push_back("DP overlap " + Fix(*o.dp_overlap, 2) + " (given: --dp-overlap)");
  } else if (e.dp_comm_seconds > 0) {
    b.assumptions.push_back(
        Figure("NCCL SM share", o.kernels.nccl_sm_share, arch, std::nullopt, ""));
  }
  b.assumptions.push_back("buffers " + Fix(o.buffers_gib, 1) +
                          " GiB per GPU for the CUDA context, NCCL and allocator slack "
                          "(--buffers-gib; planner default 2)");
  if (o.allocator_fragmentation) {
    b.assumptions.push_back("allocator reserve " + Fix(*o.allocator_fragmentation, 2) +
                            " of the allocated memory (given: --allocator-fragmentation)");
  } else if (AllocatorReserve(o, e.framework) > 0) {
    b.assumptions.push_back(
        "allocator reserve " + Fix(AllocatorReserve(o, e.framework), 2) +
        " of the allocated memory: the pytorch stack's peak is what PyTorch's caching allocator "
        "reserves (calibration: torchtitan Llama 3.1 8B with FSDP on 8 H100, row 43 of "
        "docs/planner-validation.md; --allocator-fragmentation)");
  }
  b.assumptions.push_back(
      "not included: host-side overheads (kernel launches, data loading), checkpointing, "
      "evaluation and restarts after failures");
  return b;
}

}  // namespace gpupool::planner

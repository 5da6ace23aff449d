// `gpupool plan`: the capacity planner (src/planner). Subcommands:
//   plan models                       presets with their parameter counts
//   plan infer  --model --gpu ...     memory, KV capacity, prefill/decode time for serving
//   plan train  --model --gpu --gpus  memory of the heaviest stage, step time, MFU, GPU-hours
//   plan search --model --gpu --goal  fewest GPUs and best layouts, with discarded reasons
//   plan comm   --op --bytes --gpus --link   one collective as nccl-tests reports it
// Thin: parse flags, resolve the model and GPU, call the planner, print (text or --json).
// --emit-request prints the scheduler's job request instead (cluster/job_request.h): one replica
// per node of the plan's fabric. Exit codes: 0, 2 bad input, 1 other.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "common/data_dir.h"
#include "hw/catalog.h"
#include "planner/comm_benchmark.h"
#include "planner/comm_model.h"
#include "planner/encoder_estimate.h"
#include "planner/fabric.h"
#include "planner/gpu_rates.h"
#include "planner/inference_estimate.h"
#include "planner/kernel_efficiency.h"
#include "planner/layout_search.h"
#include "planner/model_loader.h"
#include "planner/plan_inputs.h"
#include "planner/plan_json.h"
#include "planner/training_estimate.h"

namespace gpupool::app {
namespace {

namespace pl = gpupool::planner;

std::string F(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Readable large counts: 8.03B, 131.1K.
std::string Big(double v) {
  const char* unit[] = {"", "K", "M", "B", "T"};
  int i = 0;
  while (std::abs(v) >= 1000 && i < 4) {
    v /= 1000;
    ++i;
  }
  return F(v, v < 10 ? 2 : 1) + unit[i];
}

// " (default X)" for a flag's help, from the value the planner's options start with, so the help
// cannot name a default the code does not use.
std::string Default(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " (default %g)", v);
  return buf;
}
std::string Default(const std::string& v) { return " (default " + v + ")"; }

const pl::TrainOptions kTrain{};
const pl::InferOptions kInfer{};

struct Common {
  pl::PlanInputs in;  // --model --gpu --precision --network --gpus-per-node and the overrides
  bool json = false;
  bool emit_request = false;
};

void AddCommonFlags(CLI::App* c, Common& f, bool gpu_required) {
  c->add_option("--model", f.in.model,
                "preset name (see `gpupool plan models`), config.json path, or a folder with one")
      ->required();
  auto* g =
      c->add_option("--gpu", f.in.gpu, "GPU model (catalog name or alias: H100, a100-80gb, ...)");
  if (gpu_required) g->required();
  c->add_option("--precision", f.in.precision,
                "auto|bf16|fp16|fp8|int8|int4 (auto: serve the weights as the checkpoint's "
                "quantization_config stores them, else bf16; train in bf16)" +
                    Default(std::string("auto")));
  c->add_option("--network", f.in.network,
                "scale-out network between nodes, a scale-out link of the hardware catalog: "
                "IB-HDR, IB-NDR, IB-XDR, RoCE-100G, RoCE-200G, RoCE-400G" +
                    Default(std::string(pl::kDefaultNetwork)));
  c->add_option("--gpus-per-node", f.in.gpus_per_node,
                "GPUs in one scale-up domain (default 8; 72 for GB200)");
  c->add_flag("--json", f.json, "print JSON (see docs/planner.md)");
  c->add_flag("--emit-request", f.emit_request,
              "print the scheduler job request {num_gpu, gpu_milli, gpu_models, gpu_memory_mib, "
              "replicas}: num_gpu per node, replicas = nodes (absent when one)");
  c->add_option("--layers", f.in.shape.layers, "override: decoder layers");
  c->add_option("--hidden", f.in.shape.hidden, "override: hidden size");
  c->add_option("--heads", f.in.shape.heads, "override: attention heads");
  c->add_option("--kv-heads", f.in.shape.kv_heads, "override: KV heads (GQA)");
  c->add_option("--ffn", f.in.shape.ffn, "override: FFN intermediate size");
  c->add_option("--vocab", f.in.shape.vocab, "override: vocabulary size");
  c->add_option("--experts", f.in.shape.experts, "override: routed experts");
  c->add_option("--top-k", f.in.shape.top_k, "override: experts per token");
  c->add_option("--mtp-layers", f.in.shape.mtp_layers,
                "override: multi-token-prediction layers trained with the model (DeepSeek's "
                "num_nextn_predict_layers; 0 trains without them, as NeMo AutoModel does)");
}

using Resolved = pl::ResolvedPlan;

Result<Resolved> Resolve(const Common& f) {
  auto r = pl::ResolvePlan(f.in, DataDir() / "models");
  if (!r) return r;
  for (const std::string& w : r->model.warnings)
    std::cerr << "gpupool plan: warning: " << w << "\n";
  return r;
}

// The kernel efficiency row of the plan's GPU architecture (data/planner/kernel_efficiency.yaml,
// the table the planner's tests read too).
Result<pl::KernelEfficiency> Kernels(const Resolved& r) { return r.kernels; }

// The kernel table's row for the GPU's architecture, for a serving estimate (plan infer and the
// serve search) as for training.
Status ApplyServingKernels(const Resolved& r, pl::InferOptions& o) {
  auto kernels = Kernels(r);
  if (!kernels) return kernels.error();
  o.kernels = *kernels;
  return Status::Ok();
}

Result<nlohmann::json> EmitRequest(int gpus, int tp, const Resolved& r, double gib_per_gpu) {
  return pl::PlanJobRequest(gpus, tp, r, gib_per_gpu);
}

void Fail(const Status& s, int& exit_code) {
  std::cerr << "gpupool plan: " << s.message() << "\n";
  exit_code = s.ExitCode();
}

// --- plan infer --------------------------------------------------------------------------
struct InferFlags {
  Common c;
  pl::InferOptions o;
  std::string engine = "vllm";
  bool eager = false;
  std::string kv_precision;
  std::optional<double> overhead_gib;
  bool graphs_on = false;
  bool graphs_off = false;
  std::string graph_padding;  // "on", "off" or empty (the engine's default)
  std::string fp8_context;    // the same for --fp8-context-attention
};

void PrintInfer(const pl::ModelSpec& m, const hw::GpuModel& g, const pl::InferOptions& o,
                const pl::InferEstimate& e) {
  const pl::ParamCounts pc = pl::CountParams(m);
  std::cout << m.name << " (" << Big(double(pc.total)) << " params"
            << (m.IsMoe() ? ", " + Big(double(pc.active)) + " active" : "") << ") on " << o.tp
            << " x " << g.name << ", " << e.weights_format << " weights (matmuls "
            << e.compute_precision << "), batch " << o.batch << " x context " << o.context << "\n";
  std::cout << "  weights            " << F(e.weights_gib_per_gpu) << " GiB per GPU ("
            << F(e.weight_bytes_per_param, 3) << " B/param in linear layers)\n";
  std::cout << "  KV cache           " << F(e.kv_bytes_per_token_per_gpu, 0) << " B/token per GPU"
            << (m.mla.enabled ? " (MLA latent)" : "")
            << (e.kv_heads_per_gpu > 0
                    ? " (" + std::to_string(e.kv_heads_per_gpu) + " KV heads per GPU)"
                    : "")
            << "; " << F(e.kv_gib_per_gpu) << " GiB for the batch\n";
  if (pl::UsesVllmAccounting(o.engine)) {
    std::cout << "  runtime overhead   " << F(e.overhead_gib)
              << " GiB as vLLM profiles it (activation peak " << F(e.activation_gib) << ": forward "
              << F(e.forward_activation_gib) << ", sampler " << F(e.sampler_activation_gib)
              << "; non-torch " << F(e.non_torch_gib) << ")\n";
  } else {
    std::cout << "  runtime overhead   " << F(e.overhead_gib) << " GiB (CUDA context "
              << F(e.cuda_context_gib) << ", workspace " << F(e.workspace_gib) << ", activations "
              << F(e.activation_gib) << ")\n";
  }
  if (o.engine == pl::ServingEngine::kTensorRtLlm) {
    std::cout << "  total              " << F(e.total_gib_per_gpu) << " GiB per GPU of "
              << F(e.budget_gib_per_gpu) << " (weights and overhead + "
              << F(o.gpu_memory_utilization, 2) << " x the rest) -> "
              << (e.fits ? "FITS" : "DOES NOT FIT") << "\n";
  } else {
    std::cout << "  total              " << F(e.total_gib_per_gpu) << " GiB per GPU of "
              << F(e.budget_gib_per_gpu) << " (" << F(o.gpu_memory_utilization, 2) << " x "
              << F(e.budget_gib_per_gpu / o.gpu_memory_utilization) << ") -> "
              << (e.fits ? "FITS" : "DOES NOT FIT") << "\n";
  }
  std::cout << "  max KV tokens      " << e.max_kv_tokens << " (" << e.max_sequences_at_context
            << " sequences at " << o.context << ")\n";
  std::cout << "  prefill            " << F(e.prefill_seconds * 1e3, 1) << " ms for "
            << (o.prompt_tokens > 0 ? o.prompt_tokens : o.context) << " tokens x " << o.batch
            << "\n";
  std::cout << "  decode             " << F(e.decode_ms_per_token) << " ms per step ("
            << e.decode_bound << "-bound), " << F(e.decode_tokens_per_second, 0) << " tokens/s\n";
  std::cout << "  decode step parts  GEMMs " << F(e.decode_gemm_ms) << " ms, attention "
            << F(e.decode_attention_ms) << " (reads " << F(e.decode_memory_ms) << ", FLOPs "
            << F(e.decode_compute_ms) << "), kernels " << F(e.decode_kernel_ms) << " ("
            << e.kernels_per_step << " x " << F(e.kernel_us, 1) << " us, "
            << (e.cuda_graphs ? "CUDA graphs" : "no CUDA graphs")
            << (e.cuda_graph_padding && e.decode_graph_batch > o.batch
                    ? ", padded to " + std::to_string(e.decode_graph_batch)
                    : std::string())
            << "), TP all-reduces " << F(e.decode_comm_ms) << ", host " << F(e.decode_host_ms)
            << "\n";
  if (e.ep > 1) {
    std::cout << "  expert parallel    EP " << e.ep << " (" << m.moe.num_experts / e.ep
              << " routed experts per GPU per MoE layer): ";
    if (e.ep_all_to_all_bytes_decode > 0) {
      std::cout << "all-to-all " << F(e.decode_ep_all_to_all_ms) << " ms of the decode step ("
                << F(e.ep_all_to_all_bytes_decode, 0) << " B per rank per dispatch), "
                << F(e.prefill_ep_all_to_all_seconds * 1e3, 1) << " ms of the prefill\n";
    } else {
      std::cout << "TP's all-reduces combine the experts (vLLM's DP-1 path; --ep-all-to-all for "
                   "DeepEP / pplx dispatch)\n";
    }
  }
  if (e.output_tokens > 0) {
    std::cout << "  request            TTFT " << F(e.ttft_seconds * 1e3, 1) << " ms, TPOT "
              << F(e.tpot_ms) << " ms (mean over " << e.output_tokens
              << " output tokens), end to end " << F(e.e2e_latency_seconds * 1e3, 1) << " ms; "
              << F(e.output_tokens_per_second, 0) << " output tokens/s at batch " << o.batch
              << "\n";
    std::cout << "  max throughput     "
              << (e.max_throughput_batch > 0
                      ? F(e.max_throughput_tokens_per_second, 0) + " output tokens/s (" +
                            F(e.max_throughput_tokens_per_second / o.tp, 0) +
                            " per GPU) at batch " + std::to_string(e.max_throughput_batch) +
                            (e.max_throughput_graph_batch > e.max_throughput_batch
                                 ? " (a graph of " + std::to_string(e.max_throughput_graph_batch) +
                                       ")"
                                 : std::string()) +
                            (e.max_throughput_waves > 0
                                 ? " over " + std::to_string(o.num_requests) + " requests in " +
                                       std::to_string(e.max_throughput_waves) + " waves"
                                 : std::string()) +
                            ", TPOT " + F(e.max_throughput_tpot_ms) + " ms"
                      : std::string("no sequence of prompt + output tokens fits"))
              << "\n";
  }
  for (const auto& n : e.notes) std::cout << "  note: " << n << "\n";
  for (const auto& n : e.modelled) std::cout << "  modelled: " << n << "\n";
  for (const auto& n : e.assumptions) std::cout << "  assumption: " << n << "\n";
}

// Encoder-only and encoder-decoder models (planner/encoder_estimate.h): the forward (encoder
// pass), and for an encoder-decoder the cross-attention K/V and the decode step.
void PrintEncoderInfer(const pl::ModelSpec& m, const hw::GpuModel& g, const pl::InferOptions& o,
                       const pl::EncoderInferEstimate& x) {
  const pl::InferEstimate& e = x.base;
  std::cout << m.name << " (" << Big(double(pl::CountParams(m).total)) << " params, "
            << (x.encoder_decoder ? "encoder-decoder" : "encoder-only") << ") on " << o.tp << " x "
            << g.name << ", " << e.weights_format << " weights (matmuls " << e.compute_precision
            << "), batch " << o.batch << " x " << x.input_tokens << " input tokens"
            << (x.encoder_decoder ? " -> " + std::to_string(x.output_tokens) + " output tokens"
                                  : std::string())
            << "\n";
  std::cout << "  weights            " << F(e.weights_gib_per_gpu) << " GiB per GPU\n";
  if (x.encoder_decoder) {
    std::cout << "  KV cache           " << F(x.self_kv_bytes_per_token_per_gpu, 0)
              << " B per output token (decoder self-attention) + "
              << F(x.cross_kv_bytes_per_token_per_gpu, 0)
              << " B per input token (cross-attention K/V) per GPU; " << F(e.kv_gib_per_gpu)
              << " GiB for the batch\n";
  }
  std::cout << "  runtime overhead   " << F(e.overhead_gib) << " GiB (CUDA context "
            << F(e.cuda_context_gib) << ", workspace " << F(e.workspace_gib) << ", activations "
            << F(e.activation_gib) << ")\n";
  std::cout << "  total              " << F(e.total_gib_per_gpu) << " GiB per GPU of "
            << F(e.budget_gib_per_gpu) << " -> " << (e.fits ? "FITS" : "DOES NOT FIT") << "\n";
  std::cout << "  " << (x.encoder_decoder ? "encoder pass     " : "forward          ") << "  "
            << F(e.prefill_seconds * 1e3, 2) << " ms: GEMMs " << F(x.forward_gemm_seconds * 1e3, 2)
            << ", attention " << F(x.forward_attention_seconds * 1e3, 2) << ", element-wise "
            << F(x.forward_elementwise_seconds * 1e3, 2) << " (weights read "
            << F(x.forward_weights_read_seconds * 1e3, 2) << "), TP "
            << F(x.forward_comm_seconds * 1e3, 2) << "\n";
  if (x.encoder_decoder) {
    std::cout << "  decode             " << F(e.decode_ms_per_token) << " ms per step ("
              << e.decode_bound << "-bound), " << F(e.decode_tokens_per_second, 0) << " tokens/s\n";
  } else {
    std::cout << "  throughput         " << F(x.sequences_per_second, 0) << " sequences/s, "
              << F(x.tokens_per_second, 0) << " tokens/s\n";
  }
  for (const auto& n : e.notes) std::cout << "  note: " << n << "\n";
  for (const auto& n : e.modelled) std::cout << "  modelled: " << n << "\n";
  for (const auto& n : e.assumptions) std::cout << "  assumption: " << n << "\n";
}

void RunInfer(InferFlags& f, int& exit_code) {
  auto r = Resolve(f.c);
  if (!r) return Fail(r.error(), exit_code);
  pl::InferOptions o = f.o;
  o.precision = r->infer_precision;
  o.checkpoint_weights = r->checkpoint_weights;
  o.fabric = r->fabric;
  o.overhead_gib = f.overhead_gib;
  if (f.graphs_on && f.graphs_off) {
    return Fail(Status::InvalidArgument("--cuda-graphs and --no-cuda-graphs contradict each other"),
                exit_code);
  }
  if (f.graphs_on || f.graphs_off) o.cuda_graphs = f.graphs_on;
  const auto on_off = [](const std::string& flag, const std::string& v,
                         std::optional<bool>* out) -> Status {
    if (v.empty()) return Status::Ok();
    if (v != "on" && v != "off") {
      return Status::InvalidArgument(flag + " must be on or off, not '" + v + "'");
    }
    *out = v == "on";
    return Status::Ok();
  };
  if (Status s = on_off("--cuda-graph-padding", f.graph_padding, &o.cuda_graph_padding); !s.ok()) {
    return Fail(s, exit_code);
  }
  if (Status s = on_off("--fp8-context-attention", f.fp8_context, &o.fp8_context_attention);
      !s.ok()) {
    return Fail(s, exit_code);
  }
  if (Status s = ApplyServingKernels(*r, o); !s.ok()) return Fail(s, exit_code);
  auto engine = pl::ParseServingEngine(f.engine);
  if (!engine) return Fail(engine.error(), exit_code);
  o.engine = *engine;
  o.flash_attention = !f.eager;
  // vLLM's --kv-cache-dtype spellings: "auto" is the model's 16-bit, fp8_e4m3 / fp8_e5m2 are FP8.
  if (!f.kv_precision.empty() && f.kv_precision != "auto") {
    const std::string label =
        f.kv_precision == "fp8_e4m3" || f.kv_precision == "fp8_e5m2" ? "fp8" : f.kv_precision;
    auto kp = pl::ParsePrecisionLabel(label);
    if (!kp) {
      return Fail(Status::InvalidArgument("--kv-precision: " + kp.error().message()), exit_code);
    }
    o.kv_precision = *kp;
  }
  auto e = pl::EstimateInference(r->model, *r->gpu, o);
  if (!e) return Fail(e.error(), exit_code);
  const bool encoder = r->model.encoder_only || r->model.IsEncoderDecoder();
  if (encoder && !f.c.emit_request) {
    auto x = pl::EstimateEncoderInference(r->model, *r->gpu, o);
    if (!x) return Fail(x.error(), exit_code);
    if (f.c.json) {
      nlohmann::json j = pl::InferJson(r->model, *r->gpu, o, x->base);
      j["encoder"] = {
          {"encoder_decoder", x->encoder_decoder},
          {"input_tokens", x->input_tokens},
          {"output_tokens", x->output_tokens},
          {"forward_seconds", x->base.prefill_seconds},
          {"forward_parts_seconds",
           {{"gemm", x->forward_gemm_seconds},
            {"attention", x->forward_attention_seconds},
            {"elementwise", x->forward_elementwise_seconds},
            {"weights_read", x->forward_weights_read_seconds},
            {"tp_comm", x->forward_comm_seconds}}},
          {"sequences_per_second", x->sequences_per_second},
          {"tokens_per_second", x->tokens_per_second},
          {"self_kv_bytes_per_token_per_gpu", x->self_kv_bytes_per_token_per_gpu},
          {"cross_kv_bytes_per_token_per_gpu", x->cross_kv_bytes_per_token_per_gpu},
          {"cross_kv_bytes_per_sequence_per_gpu", x->cross_kv_bytes_per_sequence_per_gpu}};
      std::cout << j.dump(2) << "\n";
    } else {
      PrintEncoderInfer(r->model, *r->gpu, o, *x);
    }
    exit_code = 0;
    return;
  }
  if (f.c.emit_request && !e->fits) {
    return Fail(
        Status::FailedPrecondition(r->model.name + " does not fit: " + F(e->total_gib_per_gpu, 1) +
                                   " GiB per GPU of " + F(e->budget_gib_per_gpu, 1) +
                                   "; no request emitted (try `gpupool plan search --goal serve`)"),
        exit_code);
  }
  if (f.c.emit_request) {
    auto request = EmitRequest(o.tp, o.tp, *r, e->total_gib_per_gpu);
    if (!request) return Fail(request.error(), exit_code);
    std::cout << request->dump() << "\n";
  } else if (f.c.json) {
    std::cout << pl::InferJson(r->model, *r->gpu, o, *e).dump(2) << "\n";
  } else {
    PrintInfer(r->model, *r->gpu, o, *e);
  }
  exit_code = 0;
}

// --- plan train --------------------------------------------------------------------------
struct TrainFlags {
  Common c;
  pl::TrainOptions o;
  std::string recompute = "selective";
  std::string cross_entropy = "fused";
  std::string finetune = "full";
  std::string offload = "none";
  std::string framework = "auto";
  std::string fp8_recipe = "tensorwise";
  bool eager = false;
  bool no_sp = false;
};

void PrintTrain(const pl::ModelSpec& m, const hw::GpuModel& g, const pl::TrainOptions& o,
                const pl::TrainEstimate& e) {
  const pl::ParamCounts pc = pl::CountParams(m);
  const pl::Layout& l = e.layout;
  std::cout << m.name << " (" << Big(double(pc.total)) << " params"
            << (m.IsMoe() ? ", " + Big(double(pc.active)) + " active" : "") << ") on " << o.gpus
            << " x " << g.name << ", " << pl::PrecisionLabel(o.precision) << "\n";
  std::cout << "  layout             tp " << l.tp << " x pp " << l.pp << " x dp " << l.dp
            << " x cp " << l.cp << (l.ep > 1 ? ", ep " + std::to_string(l.ep) : "")
            << (l.vp > 1 ? ", vp " + std::to_string(l.vp) : "") << ", ZeRO-" << l.zero
            << ", recompute " << pl::RecomputeName(l.recompute) << ", micro-batch " << l.micro_batch
            << ", global batch " << e.global_batch << " x " << o.seq << " tokens ("
            << e.microbatches << " microbatches)\n";
  std::cout << "  memory per GPU     " << F(e.memory.total_gib, 1) << " GiB of "
            << F(e.memory_budget_gib, 0) << " (stage " << e.heaviest_stage << "): weights "
            << F(e.memory.weights_gib, 1) << ", grads " << F(e.memory.gradients_gib, 1)
            << ", optimizer " << F(e.memory.optimizer_gib, 1) << ", activations "
            << F(e.memory.activations_gib, 1) << ", buffers " << F(e.memory.buffers_gib, 1)
            << (e.memory.allocator_reserve_gib > 0
                    ? ", allocator reserve " + F(e.memory.allocator_reserve_gib, 1)
                    : std::string())
            << " -> " << (e.fits ? "FITS" : "DOES NOT FIT") << "\n";
  const pl::StateBytes state = pl::TrainingStateBytes(o);
  std::cout << "  bytes per param    " << F(e.bytes_per_param, 0)
            << (o.finetune == pl::Finetune::kFull ? "" : " per adapter param")
            << " before sharding (bf16 weights 2 + grads " << F(state.gradients, 0)
            << (o.master_weights ? " + Adam fp32 master/m/v " : " + Adam bf16 m/v, no master ")
            << F(state.optimizer, 0)
            << (state.weights > 2.0 ? " + fp8 copy " + F(state.weights - 2.0, 0) : "") << ")\n";
  if (o.finetune != pl::Finetune::kFull) {
    std::cout << "  fine-tuning        " << pl::FinetuneName(o.finetune) << " rank " << o.lora_rank
              << ": " << Big(e.trainable_params) << " trainable adapter params; base weights "
              << (o.finetune == pl::Finetune::kQlora ? "NF4 with double quantization (0.516 B)"
                                                     : "16-bit")
              << ", no gradients or optimizer states\n";
  }
  std::cout << "  FLOPs              " << Big(e.model_flops_per_token)
            << (o.finetune == pl::Finetune::kFull
                    ? " per token (6N + attention), "
                    : " per token (4N frozen + 6 x adapters + attention), ")
            << Big(e.model_flops_per_step) << " per step\n";
  std::cout << "  framework          " << pl::FrameworkName(e.framework)
            << (o.framework == pl::Framework::kAuto ? " (auto)" : "") << "\n";
  std::cout << "  step               " << F(e.step_seconds, 3) << " s: compute "
            << F(e.compute_seconds, 3) << ", bubble " << F(e.bubble_seconds, 3) << ", TP "
            << F(e.tp_comm_seconds, 3) << ", CP " << F(e.cp_comm_seconds, 3) << ", EP "
            << F(e.ep_comm_seconds, 3) << ", PP " << F(e.pp_comm_seconds, 3) << ", DP exposed "
            << F(e.dp_exposed_seconds, 3) << " (of " << F(e.dp_comm_seconds, 3) << "), optimizer "
            << F(e.optimizer_seconds, 3)
            << (o.offload != pl::Offload::kNone
                    ? ", CPU offload " + F(e.offload_seconds, 3) + " (" +
                          F(e.offload_pcie_bytes_per_step / 1e9, 1) + " GB over PCIe)"
                    : "")
            << "\n";
  std::cout << "  MFU                " << F(100 * e.mfu, 1) << " % (HFU " << F(100 * e.hfu, 1)
            << " %), " << F(e.tokens_per_second_per_gpu, 0) << " tokens/s per GPU, comm share "
            << F(100 * e.comm_share, 1) << " %\n";
  std::cout << "  budget             " << Big(e.tokens) << " tokens: " << Big(e.gpu_hours)
            << " GPU-hours, " << F(e.days, 1) << " days on " << o.gpus << " GPUs\n";
  for (const auto& n : e.notes) std::cout << "  note: " << n << "\n";
  const pl::TrainBasis basis = pl::TrainingBasis(m, g, o, e);
  for (const auto& n : basis.modelled) std::cout << "  modelled: " << n << "\n";
  for (const auto& n : basis.assumptions) std::cout << "  assumption: " << n << "\n";
}

void RunTrain(TrainFlags& f, int& exit_code) {
  auto r = Resolve(f.c);
  if (!r) return Fail(r.error(), exit_code);
  pl::TrainOptions o = f.o;
  o.precision = r->precision;
  o.fabric = r->fabric;
  auto kernels = Kernels(*r);
  if (!kernels) return Fail(kernels.error(), exit_code);
  o.kernels = *kernels;
  o.fused_cross_entropy = f.cross_entropy == "fused";
  auto off = pl::ParseOffload(f.offload);
  if (!off) return Fail(off.error(), exit_code);
  o.offload = *off;
  auto ft = pl::ParseFinetune(f.finetune);
  if (!ft) return Fail(ft.error(), exit_code);
  o.finetune = *ft;
  if (f.cross_entropy != "fused" && f.cross_entropy != "eager") {
    return Fail(Status::InvalidArgument("--cross-entropy must be fused or eager, not '" +
                                        f.cross_entropy + "'"),
                exit_code);
  }
  auto rc = pl::ParseRecompute(f.recompute);
  if (!rc) return Fail(rc.error(), exit_code);
  o.layout.recompute = *rc;
  auto fw = pl::ParseFramework(f.framework);
  if (!fw) return Fail(fw.error(), exit_code);
  o.framework = *fw;
  auto recipe = pl::ParseFp8Recipe(f.fp8_recipe);
  if (!recipe) return Fail(recipe.error(), exit_code);
  o.fp8_recipe = *recipe;
  o.flash_attention = !f.eager;
  o.sequence_parallel = !f.no_sp;
  auto e = pl::EstimateTraining(r->model, *r->gpu, o);
  if (!e) return Fail(e.error(), exit_code);
  if (f.c.emit_request && !e->fits) {
    return Fail(Status::FailedPrecondition(r->model.name + " does not fit: heaviest stage needs " +
                                           F(e->memory.total_gib, 1) + " GiB per GPU of " +
                                           F(e->memory_budget_gib, 0) +
                                           "; no request emitted (try `gpupool plan search`)"),
                exit_code);
  }
  if (f.c.emit_request) {
    auto request = EmitRequest(o.gpus, e->layout.tp, *r, e->memory.total_gib);
    if (!request) return Fail(request.error(), exit_code);
    std::cout << request->dump() << "\n";
  } else if (f.c.json) {
    std::cout << pl::TrainJson(r->model, *r->gpu, o, *e).dump(2) << "\n";
  } else {
    PrintTrain(r->model, *r->gpu, o, *e);
  }
  exit_code = 0;
}

// --- plan search -------------------------------------------------------------------------
struct SearchFlags {
  Common c;
  std::string goal = "train";
  double tokens = 1e12;
  double days = 30;
  int max_gpus = 65536;
  int gpus = 0;  // search layouts on exactly this count instead of a goal
  int64_t seq = 4096;
  int64_t target_seq = 0;
  int64_t batch_tokens = int64_t{4} << 20;
  int top = 5;
  int show_discarded = 10;
  std::string framework = "auto";
  pl::InferOptions infer;
  std::string engine;  // serve: --engine (default vllm)
};

std::string LayoutText(const pl::Layout& l) {
  std::string s = "tp" + std::to_string(l.tp) + " pp" + std::to_string(l.pp) + " dp" +
                  std::to_string(l.dp) + " cp" + std::to_string(l.cp);
  if (l.ep > 1) s += " ep" + std::to_string(l.ep);
  if (l.vp > 1) s += " vp" + std::to_string(l.vp);
  s += " zero" + std::to_string(l.zero) + " " + pl::RecomputeName(l.recompute) + " mb" +
       std::to_string(l.micro_batch);
  return s;
}

void RunSearch(SearchFlags& f, int& exit_code) {
  auto r = Resolve(f.c);
  if (!r) return Fail(r.error(), exit_code);
  using nlohmann::json;
  if (f.goal == "serve") {
    pl::InferOptions o = f.infer;
    o.precision = r->infer_precision;
    o.checkpoint_weights = r->checkpoint_weights;
    o.fabric = r->fabric;
    if (Status st = ApplyServingKernels(*r, o); !st.ok()) return Fail(st, exit_code);
    if (!f.engine.empty()) {
      auto engine = pl::ParseServingEngine(f.engine);
      if (!engine) return Fail(engine.error(), exit_code);
      o.engine = *engine;
    }
    pl::ServeGoalResult s = pl::FewestGpusForServing(r->model, *r->gpu, o);
    if (!s.found) {
      std::cerr << "gpupool plan: no tensor-parallel degree up to 64 serves " << r->model.name
                << " at batch " << o.batch << " x context " << o.context << " on " << r->gpu->name
                << "\n";
      for (const auto& t : s.tried) std::cerr << "  tp " << t.gpus << ": " << t.outcome << "\n";
      exit_code = 1;
      return;
    }
    const auto& best = s.ranked.front();
    if (f.c.emit_request) {
      auto request = EmitRequest(best.tp, best.tp, *r, best.estimate.total_gib_per_gpu);
      if (!request) return Fail(request.error(), exit_code);
      std::cout << request->dump() << "\n";
    } else if (f.c.json) {
      json j = {{"goal", "serve"}, {"model", r->model.name}, {"gpu", r->gpu->name},
                {"gpus", best.tp}, {"tried", json::array()}, {"ranked", json::array()}};
      for (const auto& t : s.tried) j["tried"].push_back({{"tp", t.gpus}, {"outcome", t.outcome}});
      for (const auto& l : s.ranked) {
        pl::InferOptions lo = o;
        lo.tp = l.tp;
        j["ranked"].push_back(pl::InferJson(r->model, *r->gpu, lo, l.estimate));
      }
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << "Serve " << r->model.name << " at batch " << o.batch << " x context "
                << o.context << " on " << r->gpu->name << ": fewest GPUs = " << best.tp
                << " (tensor parallel)\n";
      for (const auto& t : s.tried) std::cout << "  tp " << t.gpus << ": " << t.outcome << "\n";
      for (const auto& l : s.ranked) {
        std::cout << "  tp " << l.tp << ": " << F(l.estimate.total_gib_per_gpu, 1)
                  << " GiB/GPU, max KV tokens " << l.estimate.max_kv_tokens << ", decode "
                  << F(l.estimate.decode_ms_per_token) << " ms/step, prefill "
                  << F(l.estimate.prefill_seconds * 1e3, 0) << " ms"
                  << (l.estimate.output_tokens > 0
                          ? ", " + F(l.estimate.max_throughput_tokens_per_second, 0) +
                                " output tokens/s at batch " +
                                std::to_string(l.estimate.max_throughput_batch)
                          : std::string())
                  << "\n";
      }
    }
    exit_code = 0;
    return;
  }
  if (f.goal != "train") {
    return Fail(Status::InvalidArgument("--goal must be train or serve"), exit_code);
  }
  pl::SearchOptions so;
  so.base.precision = r->precision;
  so.base.seq = f.seq;
  so.base.target_seq = f.target_seq;
  so.base.tokens = f.tokens;
  so.base.fabric = r->fabric;
  auto kernels = Kernels(*r);
  if (!kernels) return Fail(kernels.error(), exit_code);
  so.base.kernels = *kernels;
  auto fw = pl::ParseFramework(f.framework);
  if (!fw) return Fail(fw.error(), exit_code);
  so.base.framework = *fw;
  so.global_batch_tokens = f.batch_tokens;
  const pl::ModelProfile prof = pl::MakeProfile(r->model);
  auto roce = pl::ScaleOutTier(*r->catalog, "RoCE-400G");
  auto ib = pl::ScaleOutTier(*r->catalog, "IB-NDR");
  if (!roce || !ib) return Fail(!roce ? roce.error() : ib.error(), exit_code);
  pl::TrainGoalResult g;
  if (f.gpus > 0) {
    g.best = pl::SearchLayouts(prof, *r->gpu, f.gpus, so);
    g.found = !g.best.ranked.empty();
    if (g.found) {
      pl::TrainOptions chosen = so.base;
      chosen.gpus = f.gpus;
      chosen.layout = g.best.ranked.front().estimate.layout;
      chosen.global_batch = g.best.ranked.front().estimate.global_batch;
      pl::RecommendInterconnect(prof, *r->gpu, chosen, *roce, *ib, g.interconnect,
                                g.interconnect_reason);
    }
  } else {
    pl::TrainGoal goal{f.tokens, f.days, f.max_gpus};
    g = pl::FewestGpusForTraining(prof, *r->gpu, goal, so, *roce, *ib);
  }
  if (!g.found) {
    std::cerr << "gpupool plan: no layout of " << r->model.name << " on " << r->gpu->name
              << (f.gpus > 0 ? " x " + std::to_string(f.gpus)
                             : " meets " + Big(f.tokens) + " tokens in " + F(f.days, 1) +
                                   " days up to " + std::to_string(f.max_gpus) + " GPUs")
              << "\n";
    for (const auto& t : g.tried) std::cerr << "  " << t.gpus << " GPUs: " << t.outcome << "\n";
    std::vector<std::string> seen;
    for (const auto& d : g.best.discarded) {
      const std::string kind = d.reason.substr(0, d.reason.find_first_of("0123456789"));
      if (std::find(seen.begin(), seen.end(), kind) != seen.end()) continue;
      seen.push_back(kind);
      std::cerr << "  e.g. " << LayoutText(d.layout) << ": " << d.reason << "\n";
    }
    exit_code = 1;
    return;
  }
  const pl::SearchResult& best = g.best;
  const pl::TrainEstimate& top = best.ranked.front().estimate;
  if (f.c.emit_request) {
    auto request = EmitRequest(best.gpus, top.layout.tp, *r, top.memory.total_gib);
    if (!request) return Fail(request.error(), exit_code);
    std::cout << request->dump() << "\n";
  } else if (f.c.json) {
    json j = {{"goal", "train"},
              {"model", r->model.name},
              {"gpu", r->gpu->name},
              {"gpus", best.gpus},
              {"tokens", f.tokens},
              {"days_goal", f.days},
              {"evaluated", best.evaluated},
              {"interconnect", g.interconnect},
              {"interconnect_reason", g.interconnect_reason},
              {"tried", json::array()},
              {"ranked", json::array()},
              {"discarded", json::array()},
              {"discarded_count", best.discarded.size()}};
    for (const auto& t : g.tried) j["tried"].push_back({{"gpus", t.gpus}, {"outcome", t.outcome}});
    for (size_t i = 0; i < best.ranked.size() && int(i) < f.top; ++i) {
      pl::TrainOptions o = so.base;
      o.gpus = best.gpus;
      j["ranked"].push_back(pl::TrainJson(r->model, *r->gpu, o, best.ranked[i].estimate));
    }
    for (size_t i = 0; i < best.discarded.size() && int(i) < f.show_discarded; ++i) {
      j["discarded"].push_back({{"layout", pl::LayoutJson(best.discarded[i].layout)},
                                {"reason", best.discarded[i].reason}});
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "Train " << r->model.name << " on " << r->gpu->name << ": " << Big(f.tokens)
              << " tokens" << (f.gpus > 0 ? "" : " within " + F(f.days, 1) + " days") << "\n";
    for (const auto& t : g.tried) std::cout << "  " << t.gpus << " GPUs: " << t.outcome << "\n";
    std::cout << "Fewest GPUs: " << best.gpus << " (" << best.evaluated << " layouts evaluated, "
              << best.ranked.size() << " feasible)\n";
    std::cout << "  rank  layout                                  step s   MFU %  GiB/GPU  days\n";
    for (size_t i = 0; i < best.ranked.size() && int(i) < f.top; ++i) {
      const auto& e = best.ranked[i].estimate;
      char line[200];
      std::snprintf(line, sizeof line, "  %4zu  %-38s %7.3f  %6.1f  %7.1f  %5.1f\n", i + 1,
                    LayoutText(e.layout).c_str(), e.step_seconds, 100 * e.mfu, e.memory.total_gib,
                    e.days);
      std::cout << line;
    }
    std::cout << "Interconnect: " << g.interconnect << " (" << g.interconnect_reason << ")\n";
    {
      pl::TrainOptions chosen = so.base;
      chosen.gpus = best.gpus;
      const pl::TrainBasis basis = pl::TrainingBasis(r->model, *r->gpu, chosen, top);
      std::cout << "Basis of the first layout:\n";
      for (const auto& n : basis.modelled) std::cout << "  modelled: " << n << "\n";
      for (const auto& n : basis.assumptions) std::cout << "  assumption: " << n << "\n";
    }
    std::cout << "Discarded " << best.discarded.size() << " layouts, e.g.:\n";
    // One example of each kind of reason first (does not divide, needs memory, misses the
    // deadline, ...), then more of the rest up to --show-discarded.
    std::vector<size_t> shown;
    std::vector<std::string> kinds;
    for (size_t i = 0; i < best.discarded.size() && int(shown.size()) < f.show_discarded; ++i) {
      const std::string& why = best.discarded[i].reason;
      const std::string kind = why.substr(0, why.find_first_of("0123456789"));
      if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) continue;
      kinds.push_back(kind);
      shown.push_back(i);
    }
    for (size_t i = 0; i < best.discarded.size() && int(shown.size()) < f.show_discarded; ++i) {
      if (std::find(shown.begin(), shown.end(), i) == shown.end()) shown.push_back(i);
    }
    for (size_t i : shown) {
      std::cout << "  " << LayoutText(best.discarded[i].layout) << ": " << best.discarded[i].reason
                << "\n";
    }
  }
  exit_code = 0;
}

// --- plan comm ---------------------------------------------------------------------------
struct CommFlags {
  std::string op = "all-reduce";
  std::string bytes;
  int gpus = 8;
  std::string link;
  double factor = 2;
  std::string algorithm = "auto";
  bool json = false;
};

void RunComm(const CommFlags& f, int& exit_code) {
  auto op = pl::ParseCollective(f.op);
  if (!op) return Fail(op.error(), exit_code);
  auto range = pl::ParseByteRange(f.bytes);
  if (!range) return Fail(range.error(), exit_code);
  auto cat = hw::Catalog::Default();
  if (!cat) return Fail(cat.error(), exit_code);
  auto ic = (*cat)->FindInterconnect(f.link);
  if (!ic) {
    std::string names;
    for (const hw::Interconnect& i : (*cat)->interconnects()) {
      names += (names.empty() ? "" : ", ") + i.name;
    }
    return Fail(Status::NotFound("unknown --link '" + f.link + "' (" + names + ")"), exit_code);
  }
  const pl::LinkTier link = pl::TierOf(**ic);
  pl::CommSweepOptions o;
  o.op = *op;
  o.gpus = f.gpus;
  o.bytes = *range;
  o.factor = f.factor;
  auto algorithm = pl::ParseAllReduceAlgorithm(f.algorithm);
  if (!algorithm) return Fail(algorithm.error(), exit_code);
  o.algorithm = *algorithm;
  auto rows = pl::SweepCollective(o, link);
  if (!rows) return Fail(rows.error(), exit_code);
  if (f.json) {
    std::cout << pl::CommSweepJson(o, link, *rows).dump(2) << "\n";
    exit_code = 0;
    return;
  }
  std::cout << pl::CollectiveName(o.op) << " over " << o.gpus << " GPUs on " << link.name << " ("
            << F(link.bandwidth_gbs, 1) << " GB/s per direction x " << F(link.achievable_fraction)
            << ", " << F(link.latency_us, 1) << " us per step"
            << (link.nvls ? ", NVLink SHARP" : "")
            << (o.algorithm != pl::AllReduceAlgorithm::kAuto
                    ? ", algorithm " + std::string(pl::AllReduceAlgorithmName(o.algorithm))
                    : std::string())
            << "); busbw = algbw x " << F(pl::BusBandwidthFactor(o.op, o.gpus), 4) << "\n";
  std::printf("%15s %12s %12s %12s  %s\n", "size (B)", "time (us)", "algbw (GB/s)", "busbw (GB/s)",
              "algorithm");
  for (const pl::CollectiveTiming& t : *rows) {
    std::printf("%15.0f %12.2f %12.2f %12.2f  %s\n", t.bytes, t.seconds * 1e6, t.algbw_gbs,
                t.busbw_gbs, t.algorithm.c_str());
  }
  std::fflush(stdout);
  for (const std::string& m : pl::CommModelled(o, link)) std::cout << "  modelled: " << m << "\n";
  for (const std::string& a : pl::CommAssumptions(o, link)) {
    std::cout << "  assumption: " << a << "\n";
  }
  exit_code = 0;
}

void RunModels(bool json, int& exit_code) {
  auto presets = pl::ListPresets(DataDir() / "models");
  if (!presets) return Fail(presets.error(), exit_code);
  nlohmann::json j = nlohmann::json::array();
  for (const auto& p : *presets) {
    auto m = pl::LoadModel(p.name, DataDir() / "models");
    if (!m) return Fail(m.error(), exit_code);
    const pl::ParamCounts pc = pl::CountParams(*m);
    if (json) {
      nlohmann::json row = pl::ModelJson(*m);
      row["published_total"] = p.published_total;
      row["source"] = p.source;
      j.push_back(row);
    } else {
      char line[200];
      const std::string extra =
          (pc.mtp > 0 ? "  + MTP module " + Big(double(pc.mtp)) : std::string()) +
          (m->vision_params > 0 ? "  + vision " + Big(double(m->vision_params)) : std::string());
      std::snprintf(line, sizeof line, "%-18s %-12s total %8s (published %8s)  active %8s%s\n",
                    p.name.c_str(), m->architecture.c_str(), Big(double(pc.total)).c_str(),
                    Big(p.published_total).c_str(), Big(double(pc.active)).c_str(), extra.c_str());
      std::cout << line;
    }
  }
  if (json) std::cout << j.dump(2) << "\n";
  exit_code = 0;
}

}  // namespace

void AddPlanCommand(CLI::App& app, int& exit_code) {
  auto* plan = app.add_subcommand(
      "plan", "Capacity planner: memory, time and GPUs a model needs to serve or train");
  plan->require_subcommand(1);

  static bool models_json = false;
  auto* models = plan->add_subcommand("models", "List the model presets and parameter counts");
  models->add_flag("--json", models_json, "print JSON");
  models->callback([&exit_code] { RunModels(models_json, exit_code); });

  static InferFlags inf;
  auto* infer = plan->add_subcommand("infer", "Serving: per-GPU memory, KV capacity, latency");
  AddCommonFlags(infer, inf.c, true);
  infer->add_option("--tp,--tensor-parallel-size", inf.o.tp, "tensor-parallel GPUs");
  infer->add_option("--ep", inf.o.ep,
                    "expert-parallel degree for a MoE model (vLLM --enable-expert-parallel: whole "
                    "experts per GPU, TP's all-reduces; must equal --tp)");
  infer->add_flag("--ep-all-to-all", inf.o.ep_all_to_all,
                  "with --ep: a dispatch and a combine all-to-all per MoE layer (DeepEP / pplx "
                  "kernels) instead of the TP all-reduce");
  infer->add_option("--batch", inf.o.batch, "concurrent sequences");
  infer->add_option("--context,--max-model-len", inf.o.context,
                    "tokens per sequence in the KV cache (vLLM's --max-model-len)");
  infer->add_option("--prompt", inf.o.prompt_tokens, "prefill tokens (default: context)");
  infer->add_option(
      "--gpu-memory-utilization", inf.o.gpu_memory_utilization,
      "share of GPU memory the server may use" + Default(kInfer.gpu_memory_utilization));
  infer->add_option("--kv-precision,--kv-cache-dtype", inf.kv_precision,
                    "KV cache precision (default 16-bit; vLLM's auto, fp8, fp8_e4m3, fp8_e5m2 "
                    "are accepted)");
  infer->add_flag("--quantize-embeddings", inf.o.quantize_embeddings,
                  "store embeddings and head at --precision too");
  infer->add_option("--overhead-gib", inf.overhead_gib,
                    "replace the runtime overhead (CUDA context + workspace + activations)");
  infer->add_option(
      "--cuda-context-gib", inf.o.cuda_context_gib,
      "generic: CUDA context and non-torch memory" + Default(kInfer.cuda_context_gib));
  infer->add_option("--workspace-gib", inf.o.workspace_gib,
                    "generic: CUDA-graph pool, sampler workspace; +0.25 with tp > 1" +
                        Default(kInfer.workspace_gib));
  infer->add_option("--engine", inf.engine,
                    "whose accounting to follow: vllm (V1: start-up profile run, CUDA graphs), "
                    "vllm-v0 (V0: the same profile, 4 ms of host time per step), trtllm (KV gets "
                    "the free memory's fraction, CUDA graphs), fastertransformer (kernels "
                    "launched one by one) or generic (fixed CUDA context + workspace)" +
                        Default(std::string(pl::ServingEngineName(kInfer.engine))));
  infer->add_option("--step-overhead-ms", inf.o.step_overhead_ms,
                    "a further fixed host cost of one engine step (scheduling, sampling, "
                    "detokenising) added to each decode step and the prefill, beyond the "
                    "engine's own (vllm-v0: 4 ms)" +
                        Default(kInfer.step_overhead_ms));
  infer->add_option(
      "--output-len", inf.o.output_tokens,
      "generated tokens per sequence (OSL): adds TTFT, mean TPOT, end-to-end latency, "
      "and output throughput at --batch and at the largest batch the KV cache holds");
  infer->add_flag("--cuda-graphs", inf.graphs_on,
                  "steps replayed from CUDA graphs (default: the engine's: vllm, vllm-v0 and "
                  "trtllm yes, fastertransformer and generic no)");
  infer->add_flag("--no-cuda-graphs,--enforce-eager", inf.graphs_off,
                  "kernels launched one by one (TensorRT-LLM's C++ session runtime before its "
                  "PyTorch backend, vLLM --enforce-eager)");
  infer->add_option("--num-requests,--num-prompts", inf.o.num_requests,
                    "requests of an offline throughput benchmark queued at once (trtllm-bench's "
                    "dataset, vLLM's --num-prompts): max throughput over waves of the largest "
                    "batch, the last holding the rest (default: the steady state)");
  infer->add_option("--cuda-graph-padding", inf.graph_padding,
                    "on|off: decode batches padded up to a captured CUDA graph size, their GEMMs "
                    "and all-reduces run at it (default: on for trtllm, as trtllm-bench runs it; "
                    "off for the other engines)");
  infer->add_option("--fp8-context-attention", inf.fp8_context,
                    "on|off: prefill attention in FP8 (TensorRT-LLM's FP8 context FMHA; default: "
                    "on for trtllm with an FP8 KV cache and FP8 matmuls, else off)");
  infer->add_option("--kernel-us", inf.o.kernel_us,
                    "time per kernel beyond its bytes and FLOPs, microseconds (default " +
                        F(pl::kKernelUsCudaGraph, 1) + " with CUDA graphs, " +
                        F(pl::kKernelUsLaunched, 1) + " without)");
  infer->add_option("--efficiency", inf.o.compute_efficiency,
                    "share of the dense peak the matmuls reach (default: the GPU architecture's "
                    "row of data/planner/kernel_efficiency.yaml)");
  infer->add_flag("--eager-attention", inf.eager,
                  "generic engine: attention without a fused kernel (the scores in memory, their "
                  "HBM round trips in prefill)");
  infer->add_option("--max-num-seqs", inf.o.max_num_seqs,
                    "vllm: sequences the sampler's profile run covers (default as `vllm serve`: "
                    "1024 on GPUs of 70 GiB and more other than the A100, else 256); trtllm: "
                    "max_batch_size (default 2048; with --output-len trtllm-bench's heuristic)");
  infer->add_option("--max-batched-tokens,--max-num-batched-tokens", inf.o.max_batched_tokens,
                    "tokens in one prefill forward, the activation peak (default as `vllm "
                    "serve`: 8192 on GPUs of 70 GiB and more other than the A100, else 2048; "
                    "generic engine 8192; trtllm max_num_tokens, 8192, with --output-len "
                    "trtllm-bench's heuristic)");
  infer->callback([&exit_code] { RunInfer(inf, exit_code); });

  static TrainFlags tr;
  auto* train = plan->add_subcommand("train", "Training: memory, step time, MFU, GPU-hours");
  AddCommonFlags(train, tr.c, true);
  train->add_option("--gpus", tr.o.gpus, "GPU count")->required();
  train->add_option("--tp", tr.o.layout.tp, "tensor parallel");
  train->add_option("--pp", tr.o.layout.pp, "pipeline stages");
  train->add_option("--dp", tr.o.layout.dp, "data parallel (default: the rest)");
  train->add_option("--cp", tr.o.layout.cp, "context parallel");
  train->add_option("--ep", tr.o.layout.ep, "expert parallel (inside dp x cp)");
  train->add_option("--vp", tr.o.layout.vp, "virtual stages per GPU (interleaved 1F1B)");
  train->add_option("--zero", tr.o.layout.zero, "ZeRO stage 0-3 (1 = distributed optimizer)");
  train->add_option("--recompute", tr.recompute,
                    "none|selective|op|full|layer (selective: Megatron's; op: torchtitan's "
                    "per-operation checkpointing, every other matmul recomputed; layer: every "
                    "--recompute-every-th layer fully recomputed, torchtitan's selective layer "
                    "checkpointing)");
  train->add_option("--recompute-every", tr.o.layout.recompute_every,
                    "with --recompute layer: recompute every k-th layer (default 2)");
  train->add_option("--offload", tr.offload,
                    "none, optimizer (ZeRO-Offload: Adam states and step on the CPU, gradients and "
                    "weights over PCIe) or params (also the 16-bit weights, with --zero 3)" +
                        Default(std::string("none")));
  train->add_option("--host-memory-gbs", tr.o.host_memory_gbs_per_gpu,
                    "host memory bandwidth per GPU for the CPU Adam step" +
                        Default(kTrain.host_memory_gbs_per_gpu));
  train->add_option(
      "--finetune", tr.finetune,
      "full, lora (rank-r adapters on every linear projection, 16-bit frozen base) or "
      "qlora (the same on an NF4 double-quantized base)" +
          Default(std::string("full")));
  train->add_option("--lora-rank", tr.o.lora_rank,
                    "LoRA / QLoRA adapter rank" + Default(double(kTrain.lora_rank)));
  train->add_option("--cross-entropy", tr.cross_entropy,
                    "fused (Megatron's vocab-parallel kernel: logits 6 B per vocab entry) or eager "
                    "(PyTorch F.cross_entropy: 12 B)" +
                        Default(std::string("fused")));
  train->add_option("--allocator-fragmentation", tr.o.allocator_fragmentation,
                    "caching-allocator reserve over allocated memory, as a fraction (default: " +
                        F(pl::kPyTorchAllocatorReserve, 2) +
                        " with the pytorch stack, whose peak is PyTorch's reserved memory; 0 with "
                        "megatron)");
  train->add_flag("--fsdp-pp-resharded{false}", tr.o.fsdp_pp_unsharded,
                  "with ZeRO-3 and pp > 1, assume weights are resharded after each forward and "
                  "gradients reduced after each backward (default: as torch's pipeline schedules "
                  "run FSDP2, weights kept gathered and FP32 gradients accumulated unsharded for "
                  "the step)");
  train->add_option("--micro-batch", tr.o.layout.micro_batch, "sequences per microbatch");
  train->add_option("--global-batch", tr.o.global_batch, "sequences per step (default ~4M tokens)");
  train->add_option("--seq", tr.o.seq, "sequence length (encoder-decoder: input tokens)");
  train->add_option("--target-seq", tr.o.target_seq,
                    "encoder-decoder: target (decoder) tokens per sequence (default --seq / 4, "
                    "as Megatron-LM's and NeMo's T5 recipes' 512 / 128)");
  train->add_option("--tokens", tr.o.tokens, "training tokens" + Default(kTrain.tokens));
  train->add_flag("--grad-fp32", tr.o.grad_fp32, "FP32 gradient buffers (18 B/param)");
  train->add_flag("--no-master-weights{false}", tr.o.master_weights,
                  "pure 16-bit training: no FP32 master weights, Adam's two moments in the "
                  "parameters' 16-bit dtype (8 B/param: NeMo AutoModel, a Hugging Face model "
                  "loaded in bf16 without autocast)");
  train->add_option("--pipeline-runs", tr.o.pipeline_runs,
                    "with --pp > 1: the step's microbatches run as this many pipeline schedules, "
                    "each filling and draining the pipeline (gradient accumulation around "
                    "torch.distributed.pipelining's schedule.step(), as NeMo AutoModel does)" +
                        Default(double(kTrain.pipeline_runs)));
  train->add_flag("--eager-attention", tr.eager, "no flash attention: store the s x s scores");
  train->add_flag("--no-sequence-parallel", tr.no_sp, "TP without sequence parallelism");
  train->add_flag("--uneven-stages", tr.o.uneven_stages,
                  "allow pp not dividing the layers: contiguous stages chosen to make the "
                  "heaviest stage's FLOPs per token smallest, the head (and an MTP layer) counted "
                  "on the last stage (no effect when pp divides the layers)");
  train->add_option("--buffers-gib", tr.o.buffers_gib,
                    "CUDA context + NCCL + slack" + Default(kTrain.buffers_gib));
  train->add_option("--efficiency", tr.o.compute_efficiency,
                    "asymptotic share of the 16-bit dense peak large GEMMs reach (linear layers; "
                    "attention too with --eager-attention); default: the GPU architecture's row "
                    "of data/planner/kernel_efficiency.yaml");
  train->add_option("--fp8-efficiency", tr.o.fp8_compute_efficiency,
                    "the same for FP8 GEMMs, of the FP8 dense peak (default: the table's)");
  train->add_option(
      "--flash-efficiency", tr.o.flash_efficiency,
      "share of the 16-bit dense peak flash attention reaches (default: the table's)");
  train->add_option("--framework", tr.framework,
                    "software stack whose kernels and overlaps to price: megatron (Megatron-Core, "
                    "NeMo, Megatron-Bridge with Transformer Engine: fused element-wise kernels, "
                    "cuDNN attention, overlapped parameter gather), pytorch (eager PyTorch: "
                    "torchtitan, llm-foundry, Hugging Face with FSDP or DeepSpeed: unfused "
                    "element-wise ops, flash-attn 2, FP32 gradient reduction) or auto (pytorch "
                    "with --zero 3, megatron otherwise)" +
                        Default(std::string("auto")));
  train->add_option("--fp8-recipe", tr.fp8_recipe,
                    "FP8 scaling: tensorwise (Transformer Engine, torchao) or blockwise "
                    "(DeepSeek-V3's 128-element tiles)" +
                        Default(std::string("tensorwise")));
  train->add_option("--elementwise-bytes", tr.o.elementwise_bytes_per_hidden,
                    "element-wise traffic per token per layer per pass, in units of the hidden "
                    "size (default: the framework's: pytorch " +
                        F(pl::kElementwiseBytesPerHidden, 0) +
                        ", megatron counted per fused kernel)");
  train->add_option("--tp-overlap", tr.o.tp_overlap,
                    "share of TP communication hidden (default: the table's fp8_tp_overlap when "
                    "training in fp8, else 0)");
  train->add_option("--dp-overlap", tr.o.dp_overlap,
                    "share of DP communication hidden behind compute (default: modelled: FSDP "
                    "prefetch per layer, bucketed gradient reduction under the last backward)");
  train->add_option("--ep-overlap", tr.o.ep_overlap,
                    "share of EP all-to-all hidden (default " + F(pl::kMoeA2aOverlap, 1) +
                        " with two or more microbatches per pipeline, as DualPipe / Megatron-Core "
                        "1F1B all-to-all overlap; 0 with one)");
  train->callback([&exit_code] { RunTrain(tr, exit_code); });

  static SearchFlags se;
  auto* search = plan->add_subcommand(
      "search", "Fewest GPUs and best layouts for a goal, with why others were discarded");
  AddCommonFlags(search, se.c, true);
  search->add_option("--goal", se.goal, "train (tokens within days) or serve (context x batch)");
  search->add_option("--tokens", se.tokens, "train: token budget");
  search->add_option("--days", se.days, "train: deadline in days");
  search->add_option("--max-gpus", se.max_gpus, "train: largest GPU count to try");
  search->add_option("--gpus", se.gpus, "train: rank layouts on exactly this many GPUs");
  search->add_option("--seq", se.seq, "train: sequence length");
  search->add_option("--target-seq", se.target_seq,
                     "train, encoder-decoder: target tokens per sequence (default --seq / 4)");
  search->add_option("--batch-tokens", se.batch_tokens, "train: tokens per step (4Mi)");
  search->add_option("--top", se.top, "layouts to show");
  search->add_option("--framework", se.framework,
                     "train: software stack to price (megatron, pytorch, or auto: each layout by "
                     "its ZeRO stage, pytorch for ZeRO-3, as `plan train` does)" +
                         Default(std::string("auto")));
  search->add_option("--show-discarded", se.show_discarded, "discarded layouts to show");
  search->add_option("--batch", se.infer.batch, "serve: concurrent sequences");
  search->add_option("--context", se.infer.context, "serve: tokens per sequence");
  search->add_option("--gpu-memory-utilization", se.infer.gpu_memory_utilization,
                     "serve: share of GPU memory usable");
  search->add_option("--prompt", se.infer.prompt_tokens,
                     "serve: prefill tokens (default: context)");
  search->add_option(
      "--output-len", se.infer.output_tokens,
      "serve: generated tokens per sequence: adds end-to-end latency and throughput");
  search->add_option("--engine", se.engine,
                     "serve: vllm, vllm-v0, trtllm, fastertransformer or generic (default vllm)");
  search->callback([&exit_code] { RunSearch(se, exit_code); });

  static CommFlags cm;
  auto* comm = plan->add_subcommand(
      "comm", "One collective on one link: time, algorithm and bus bandwidth as nccl-tests");
  comm->add_option("--op", cm.op,
                   "all-reduce|all-gather|reduce-scatter|all-to-all" + Default(cm.op));
  comm->add_option("--bytes", cm.bytes,
                   "size in bytes (K/M/G/T = powers of 1024, nccl-tests' sizes), or a sweep "
                   "MIN:MAX")
      ->required();
  comm->add_option("--gpus", cm.gpus, "ranks" + Default(double(cm.gpus)));
  comm->add_option("--link", cm.link,
                   "a link of the hardware catalog: NVLink4, PCIe5-x16, IB-NDR, RoCE-400G, ...")
      ->required();
  comm->add_option("--factor", cm.factor, "sweep step (nccl-tests -f)" + Default(cm.factor));
  comm->add_option("--algorithm", cm.algorithm,
                   "all-reduce: auto (NCCL's pick: ring, tree, or NVLS on NVLink4/5), ring, tree "
                   "or nvls (as NCCL_ALGO=...)" +
                       Default(cm.algorithm));
  comm->add_flag("--json", cm.json, "print JSON (see docs/planner.md)");
  comm->callback([&exit_code] { RunComm(cm, exit_code); });
}

}  // namespace gpupool::app

// Training estimate: per-GPU memory of the heaviest pipeline stage, FLOPs per step, step time with
// the communication of every parallel dimension, MFU, throughput and GPU-hours for a token budget,
// for one model, GPU type, GPU count and layout (TP x PP x DP x CP, EP inside DP x CP).
//
// Memory per GPU (docs/planner.md "Training memory"):
// - Weights 2 B/param (+1 B FP8 cast cache when training in FP8), gradients 2 B (bf16, the
//   16 B/param convention of ZeRO, Rajbhandari et al. 2020) or 4 B (--grad-fp32: Megatron's FP32
//   main-grad buffer, giving the 18 B/param that Megatron's distributed-optimizer notes quote),
//   Adam states 12 B (FP32 master weights + two FP32 moments; 4 B, the moments in 16 bit, without
//   master weights: pure 16-bit training). ZeRO stage 1/2/3 divides optimizer /
//   +gradients / +weights by the data-parallel group (DP x CP; experts by DP x CP / EP).
// - Non-expert weights split over TP; routed experts over EP x TP. Stages get L/PP consecutive
//   layers; the first holds the embedding, the last the final norm and the head (and a copy of a
//   tied embedding). The estimate reports the heaviest stage.
// - Activations after Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
//   Transformer Models"), per layer per token: GPT-style (dropout) 34h + 5as bytes, split as
//   10h (norm inputs, layer inputs, dropout masks; divided by TP only with sequence parallelism)
//   + 24h + 5as (divided by TP). Generalised to GQA/MLA widths, SwiGLU (6f bytes: gate, up,
//   product) and MoE (top_k copies of the expert MLP plus dispatch/combine buffers). Selective
//   recompute and flash attention drop the as-term; full recompute keeps 2h per layer plus one
//   layer's working set. With 1F1B, stage i holds min(PP - i, microbatches) microbatches in flight;
//   the last stage also holds FP32 logits (4 s b V / TP bytes).
// - Buffers: CUDA context, NCCL and bucket buffers, allocator slack (buffers_gib, default 2); with
//   ZeRO-3 also two gathered layers of 16-bit weights (the one in use and the prefetched one).
//
// Time per step (docs/planner.md "Framework", "Step time", "Data parallelism"):
// - FLOPs per token (model FLOPs, MFU numerator): 6 x linear params touched (incl. the head, not
//   the embedding lookup) + 12 x L x s x (a d_qk + a d_v)/2 attention (= 12 L s h for MHA; the full
//   s x s score matrix, as Narayanan et al. 2021 and PaLM count it). Hardware FLOPs add the
//   recomputed forward (full: everything; selective with eager attention: the score products).
// - The software stack (Framework: megatron or pytorch, auto by the ZeRO stage) selects the
//   element-wise traffic, the attention kernel and how DP traffic overlaps.
// - Stage time per microbatch = linear FLOPs / (TP x peak x GEMM efficiency; FP8 for the layers'
//   projections, the output layer at 16 bit) + attention FLOPs / (TP x 16-bit peak x the stack's
//   attention efficiency) + element-wise bytes (ElementwiseBytesPerToken per pass, FP8 casts per
//   step; eager attention adds the softmax/mask/dropout passes over the a x s scores) at HBM
//   bandwidth x 0.8 + TP all-reduces (4 per layer, 6 with full recompute, of s b h x 2 bytes) + CP
//   K/V exchange beyond the layer's attention (ring attention) + EP all-to-alls (dispatch and
//   combine, forward and backward) + the PP send/recv; the pipeline takes (m + (PP-1)/V) stage
//   times (V = virtual stages, interleaved 1F1B bubble).
// - DP: ZeRO-3 gathers every layer's weights before its forward and backward and reduce-scatters
//   its gradients, per microbatch, prefetched under the neighbouring layer's compute; ZeRO-0/1/2
//   reduce gradients in buckets under the last microbatch's backward and gather ZeRO-1/2
//   parameters under the first forward (megatron) or after the step (pytorch). What outlasts the
//   compute is exposed (at least one layer's / bucket's collective), each collective pays its
//   ring latency, and NCCL's CTAs slow the compute they overlap (nccl_sm_share). --dp-overlap
//   replaces all this by a fixed hidden share. The optimizer step reads/writes its states at HBM
//   bandwidth.
// - Collectives come from comm_model.h over the fabric's scale-up (inside a node) and scale-out
//   links, with ranks ordered TP, CP, EP/DP, PP (TP innermost, as Megatron-LM); a DP or CP ring
//   with g members in a node uses g rails (GroupCollectiveSeconds).
//
// Errors: InvalidArgument naming the flag that does not divide (GPU count, layers, heads, KV
// heads, experts, batch) or a precision the GPU cannot train in. "Does not fit" is not an error:
// fits = false, with the memory parts saying why.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "hw/catalog.h"
#include "planner/comm_model.h"
#include "planner/kernel_efficiency.h"
#include "planner/model_spec.h"

namespace gpupool::planner {

// none: keep every activation; selective: Megatron's selective recompute (the attention score
// products, Korthikanti et al. 2022); op: per-operation selective checkpointing as torchtitan's
// `op` mode (saves the outputs of every other matmul and of the attention kernel, recomputes the
// rest: about half the linear forward again); full: keep each layer's input, recompute the layer;
// layer: full recompute on every k-th layer (Layout::recompute_every, default 2) and none on the
// others, as torchtitan's `selective` mode with a number (`selective_ac_option = "2"`: its
// checkpoint wrapper counts the blocks and wraps those whose count is a multiple of k).
enum class Recompute { kNone, kSelective, kOp, kFull, kLayer };
std::string RecomputeName(Recompute r);
Result<Recompute> ParseRecompute(std::string_view s);

// The software stack whose kernels and overlaps the step follows (docs/planner.md "Framework").
// megatron: Megatron-Core / NeMo / Megatron-Bridge with Transformer Engine: fused element-wise
//   kernels (norm + cast fused into the next GEMM, fused bias-activation, fused bias-dropout-add,
//   fused RoPE; counted per kernel below), TE's fused attention (cuDNN), FP8 casts fused into the
//   norms and activations, the distributed optimizer's all-gather hidden under the next forward
//   (--overlap-param-gather) and its reduce-scatter under the last backward.
// pytorch: eager PyTorch modules (torchtitan without torch.compile, llm-foundry / Composer, Hugging
//   Face with FSDP or DeepSpeed): unfused element-wise ops (kElementwiseBytesPerHidden), the
//   flash-attn 2 kernel (SDPA), FSDP gradients reduced in FP32, ZeRO-1/2 parameter all-gather after
//   the optimizer step.
// auto (the default): pytorch with ZeRO-3 (FSDP is PyTorch's and DeepSpeed's sharding; Megatron
//   runs ZeRO-1 as its distributed optimizer), megatron otherwise. Say --framework to choose.
enum class Framework { kAuto, kMegatron, kPyTorch };
std::string FrameworkName(Framework f);
Result<Framework> ParseFramework(std::string_view s);
// kAuto resolved for a ZeRO stage (see above); the others unchanged.
Framework ResolveFramework(Framework f, int zero);

// FP8 scaling: tensorwise (one scale per tensor: Transformer Engine's delayed or current scaling,
// torchao's tensorwise float8; the default) or blockwise (DeepSeek-V3's 1 x 128 activation and
// 128 x 128 weight tiles, whose scales are applied on CUDA cores every 128 elements of K, section
// 3.3.2 of its report): each has its GEMM efficiency in data/planner/kernel_efficiency.yaml.
enum class Fp8Recipe { kTensorwise, kBlockwise };
std::string Fp8RecipeName(Fp8Recipe r);
Result<Fp8Recipe> ParseFp8Recipe(std::string_view s);

// Element-wise traffic of eager PyTorch per token per layer per pass (3 passes: forward, backward;
// 4 with full recompute), in units of the hidden size h: norms, residual adds, activation
// functions, casts and layout copies as separate kernels, at HBM bandwidth x 0.8 (an eager RMSNorm
// alone upcasts to FP32 and makes four passes). 100 was chosen on the MPT H100 calibration rows
// (24-26 of docs/planner-validation.md) together with Hopper's GEMM efficiency. The megatron
// framework counts its fused kernels instead (ElementwiseBytesPerToken). This traffic runs at the
// GPU's bandwidth while GEMMs run at its tensor-core rate: FLOPs per token grow with h^2, these
// bytes with h, so it weighs most on small models and on GPUs with a high FLOP-per-byte ratio
// (H100 295, A100 153).
inline constexpr double kElementwiseBytesPerHidden = 100.0;

// Fine-tuning with frozen base weights (docs/planner.md "Fine-tuning"): LoRA (Hu et al. 2021)
// trains rank-r adapters A (r x in) and B (out x r) beside every linear projection of every layer
// (q, k, v, o and the MLP's or each expert's matrices, as QLoRA and PEFT's "all-linear" do); the
// base weights stay 16-bit (LoRA) or NF4 (QLoRA, Dettmers et al. 2023) and get no gradients or
// optimizer states. Backward computes input gradients through the base weights but no weight
// gradients: 4 instead of 6 FLOPs per base parameter per token.
enum class Finetune { kFull, kLora, kQlora };
std::string FinetuneName(Finetune f);
Result<Finetune> ParseFinetune(std::string_view s);

// Bytes per token per vocabulary entry (/ TP) of the logits and loss at their peak: Megatron's
// fused vocab-parallel cross-entropy (16-bit logits and one FP32 copy whose softmax gradient is
// written in place: 2 + 4) and PyTorch's eager F.cross_entropy on FP32-upcast logits (its
// backward holds log_softmax's saved FP32 output, the incoming FP32 gradient and the one it
// computes: 4 + 4 + 4; the 16-bit logits are deleted before the backward, as torchtitan does).
inline constexpr double kFusedCrossEntropyBytes = 6.0;
inline constexpr double kEagerCrossEntropyBytes = 12.0;

// FSDP2's unsharded gradients accumulated across a pipeline's microbatches, in its reduce dtype:
// FP32 in torchtitan (mixed_precision_reduce = float32) and Composer.
inline constexpr double kFsdpAccumulatedGradBytes = 4.0;

// Bytes per NF4 weight with double quantization (QLoRA section 3): 4 bits, an 8-bit absmax per
// block of 64 weights and an FP32 scale per 256 such blocks: (4 + 8/64 + 32/(64 x 256)) / 8.
inline constexpr double kNf4DoubleQuantBytes = (4.0 + 8.0 / 64.0 + 32.0 / (64.0 * 256.0)) / 8.0;

// LoRA adapter parameters of one layer at rank r: r x (in + out) for each linear projection.
double LoraLayerParams(const ModelSpec& m, bool moe_layer, int rank);

// CPU offload (Ren et al. 2021, ZeRO-Offload; Rajbhandari et al. 2021, ZeRO-Infinity):
// optimizer: FP32 master weights and Adam states live in host memory and the Adam step runs on
// the CPU; 16-bit gradients go down and updated 16-bit weights come back over PCIe each step (of
// the GPU's ZeRO partition). params (ZeRO-3 only): the 16-bit weights live in host memory too and
// each layer is fetched over PCIe before each pass, prefetched under the previous layer's compute.
enum class Offload { kNone, kOptimizer, kParams };
std::string OffloadName(Offload o);
Result<Offload> ParseOffload(std::string_view s);

// Host memory bandwidth per GPU the CPU Adam step can use: an assumption, a DGX-class host's two
// sockets x 8 DDR5-4800 channels x 8 B = 614.4 GB/s shared by 8 GPUs.
inline constexpr double kHostMemoryGbsPerGpu = 2 * 8 * 4.8 * 8 / 8.0;
// Bytes the CPU Adam step moves per parameter: reads FP32 weight, m, v and the 16-bit gradient,
// writes FP32 weight, m, v and the 16-bit copy sent back.
inline constexpr double kCpuAdamBytesPerParam = 28.0;

struct Layout {
  int tp = 1;
  int pp = 1;
  int dp = 0;  // 0 = derived: gpus / (tp x pp x cp)
  int cp = 1;
  int ep = 1;  // expert parallel, a divisor of dp x cp
  int vp = 1;  // virtual pipeline stages per GPU (interleaved schedule)
  int zero = 1;
  Recompute recompute = Recompute::kSelective;
  int recompute_every = 2;  // with Recompute::kLayer: every k-th layer (1-based) recomputed
  int micro_batch = 1;
};

struct TrainOptions {
  hw::Precision precision = hw::Precision::kBf16;
  int gpus = 8;
  Layout layout;
  int64_t global_batch = 0;  // sequences per step; 0 = the multiple of dp x micro_batch
                             // nearest above 4 Mi tokens
  int64_t seq = 4096;
  int64_t target_seq = 0;  // encoder-decoder: decoder tokens per sequence; 0 = seq / 4
  double tokens = 1e12;    // training budget for gpu_hours / days
  bool grad_fp32 = false;  // 18 B/param instead of 16 (Megatron FP32 main grads)
  // FP32 master weights beside the 16-bit ones (mixed precision, the 16 B/param of ZeRO). false:
  // pure 16-bit training: the parameters themselves are 16-bit and torch.optim.Adam keeps its
  // two moments in their dtype (2 + 2 + 4 B/param), as NeMo AutoModel trains (its models cast
  // to bf16 before FSDP2) and a Hugging Face model loaded in bf16 without autocast.
  bool master_weights = true;
  // Pipeline schedules per step: the step's microbatches run as this many schedule calls, each
  // filling and draining the pipeline (gradient accumulation around torch.distributed.
  // pipelining's schedule.step(), as NeMo AutoModel's recipes accumulate); 1: one schedule over
  // every microbatch of the step (Megatron-LM, torchtitan). Divides the microbatches.
  int pipeline_runs = 1;
  bool flash_attention = true;    // false: eager attention stores the s x s scores (5as term)
  bool sequence_parallel = true;  // with TP > 1
  bool uneven_stages = false;     // allow pp not dividing the layers (middle stages get +1)
  Offload offload = Offload::kNone;
  double host_memory_gbs_per_gpu = kHostMemoryGbsPerGpu;
  Finetune finetune = Finetune::kFull;
  int lora_rank = 16;
  double buffers_gib = 2.0;
  // Software stack (see Framework); kAuto resolves by the ZeRO stage.
  Framework framework = Framework::kAuto;
  Fp8Recipe fp8_recipe = Fp8Recipe::kTensorwise;
  // Bytes the element-wise kernels read and write per token per layer per pass, in units of the
  // hidden size; unset: the framework's (kElementwiseBytesPerHidden for pytorch, the fused kernels
  // counted by ElementwiseBytesPerToken for megatron).
  std::optional<double> elementwise_bytes_per_hidden;
  // Kernel efficiencies: the GPU architecture's row of data/planner/kernel_efficiency.yaml
  // (required: EstimateTraining refuses options without it). The optionals below replace one of
  // its figures (the CLI's --efficiency, --fp8-efficiency, --flash-efficiency, --gemm-k-half).
  KernelEfficiency kernels;
  std::optional<double> compute_efficiency;      // asymptotic share of the 16-bit dense peak
  std::optional<double> fp8_compute_efficiency;  // the same of the FP8 peak
  std::optional<double> flash_efficiency;        // share of the 16-bit peak flash attention reaches
  // Share of DP communication hidden; unset: the overlap mechanism (docs/planner.md "Data
  // parallelism"): FSDP / ZeRO-3 prefetches each layer's all-gather under the previous layer's
  // compute and reduce-scatters under the backward, so per microbatch only what exceeds the
  // compute it runs under (and the first gather, the last reduce-scatter) is exposed; ZeRO-0/1/2
  // reduce gradients in buckets under the last microbatch's backward (the last bucket exposed) and
  // gather ZeRO-1/2 parameters under the first forward (megatron) or after the step (pytorch).
  // NCCL's kernels take SMs from the compute they overlap (the kernel row's nccl_sm_share).
  std::optional<double> dp_overlap;
  // Share of the EP all-to-all hidden behind computation; unset: kMoeA2aOverlap when a pipeline
  // has two or more microbatches (one microbatch's all-to-all runs under another's compute, as
  // DualPipe and Megatron-Core's 1F1B A2A overlap do), else 0.
  std::optional<double> ep_overlap;
  // Share of TP communication hidden; unset: the kernel row's fp8_tp_overlap when training in
  // FP8 (Transformer Engine's userbuffer overlap, which FP8 recipes enable), else 0.
  std::optional<double> tp_overlap;
  // Cross-entropy: fused (Megatron's vocab-parallel kernel, logits kept once in FP32 with the
  // gradient written in place) or eager (PyTorch F.cross_entropy on FP32-upcast logits); bytes
  // per logit: kFusedCrossEntropyBytes, kEagerCrossEntropyBytes.
  bool fused_cross_entropy = true;
  // FSDP-style ZeRO-3 with pipeline stages keeps the stage's weights gathered from the first
  // forward to the last backward (torchtitan: reshard_after_forward is off when PP is on) and
  // its FP32 gradients unsharded until the last microbatch's backward (torch.distributed.
  // pipelining turns requires_gradient_sync off), then reduces them once.
  bool fsdp_pp_unsharded = true;
  // Caching-allocator reserve: reserved memory = allocated x (1 + this); unset: the stack's
  // (kPyTorchAllocatorReserve with pytorch, 0 with megatron, whose figures count allocations).
  std::optional<double> allocator_fragmentation;
  Fabric fabric;
};

struct MemoryParts {
  double weights_gib = 0;
  double gradients_gib = 0;
  double optimizer_gib = 0;
  double activations_gib = 0;
  double buffers_gib = 0;
  double allocator_reserve_gib = 0;  // reserved by the caching allocator beyond the tensors
  double total_gib = 0;
};

// ZeRO-3 gathers each layer's full (TP-sharded) weights before use and prefetches the next: two
// layers of 16-bit weights live at once, the largest layer's (`largest_layer_params`), GiB.
double ZeroThreeGatherGib(double largest_layer_params, int tp);
// The PyTorch caching allocator's reserve over what the tensors allocate, as a share of the
// allocated memory, for the pytorch stack's peak memory (what torchtitan logs and what an OOM
// depends on: reserved, not allocated). Calibration: torchtitan's Llama 3.1 8B with FSDP on 8
// H100 (row 43 of docs/planner-validation.md) reserves 82.4 GiB where the planner counts 70.25,
// of which 68.25 allocated besides the 2 GiB of fixed buffers: (82.4 - 70.25) / 68.25 = 0.178.
inline constexpr double kPyTorchAllocatorReserve = 0.18;
// The allocator reserve a run uses: the given one, else the stack's default.
double AllocatorReserve(const TrainOptions& o, Framework fw);
// Sums `mp` into total_gib, then adds the caching allocator's reserve beyond what the tensors
// allocate (`reserve` x everything but the fixed buffers) as allocator_reserve_gib and to total.
void TotalWithFragmentation(MemoryParts& mp, double reserve, double buffers_gib);

struct TrainEstimate {
  Layout layout;  // resolved (dp filled in)
  int64_t global_batch = 0;
  int64_t microbatches = 0;     // per pipeline per step
  double bytes_per_param = 0;   // weights + grads + optimizer before sharding (16, 18, 8; +1 FP8)
  double trainable_params = 0;  // all parameters, or the LoRA adapters
  int heaviest_stage = 0;
  MemoryParts memory;  // of the heaviest stage, per GPU
  double memory_budget_gib = 0;
  bool fits = false;
  double params_per_gpu = 0;  // heaviest stage
  double model_flops_per_token = 0;
  double model_flops_per_step = 0;
  double hardware_flops_per_step = 0;
  // Step parts (they add up to step_seconds): m stage times split by kind, the bubble, exposed DP,
  // the optimizer.
  double compute_seconds = 0;  // m x the slowest stage's compute
  double bubble_seconds = 0;   // (pp - 1) / vp stage times per pipeline run, every run
  double tp_comm_seconds = 0;  // per step, exposed
  double cp_comm_seconds = 0;
  double ep_comm_seconds = 0;
  double pp_comm_seconds = 0;
  double dp_comm_seconds = 0;  // total DP collective time
  double dp_exposed_seconds = 0;
  double optimizer_seconds = 0;
  double offload_seconds = 0;  // exposed PCIe transfers and the CPU Adam step (CPU offload)
  double offload_pcie_bytes_per_step = 0;  // per GPU
  double inter_node_comm_seconds = 0;      // exposed communication over scale-out links
  double comm_share = 0;                   // exposed communication / step
  double step_seconds = 0;
  double mfu = 0;       // against the training precision's dense peak
  double mfu_bf16 = 0;  // against the BF16 (16-bit) dense peak
  double hfu = 0;
  double tokens_per_second_per_gpu = 0;
  double tokens = 0;
  double gpu_hours = 0;
  Framework framework = Framework::kMegatron;    // as resolved
  double gemm_efficiency = 0;                    // the asymptote used (16-bit or FP8)
  double flash_efficiency = 0;                   // as used (the framework's attention kernel)
  double elementwise_bytes_per_token_layer = 0;  // per pass, per GPU, of the heaviest stage
  double fp8_cast_bytes_per_token_layer = 0;     // per step (forward and backward), per GPU
  double dp_interference_seconds = 0;  // compute lost to NCCL's SMs while DP traffic overlaps it
                                       // (part of dp_exposed_seconds)
  double ep_overlap = 0;               // as used
  double tp_overlap = 0;               // as used
  double days = 0;
  std::vector<std::string> notes;
};

// Each figure's basis (issue 12): what the estimate computes from the model, the layout and the
// hardware catalog ("modelled"), and what it takes as given: a planner constant, a fitted figure
// with the rows it was chosen on, or a value the caller gave (e.g. "given: --dp-overlap 0.5").
struct TrainBasis {
  std::vector<std::string> modelled;
  std::vector<std::string> assumptions;
};
TrainBasis TrainingBasis(const ModelSpec& model, const hw::GpuModel& gpu, const TrainOptions& o,
                         const TrainEstimate& e);

// Precomputed per-layer parameters of a model, reused across many layouts by the search.
struct ModelProfile {
  ModelSpec spec;
  ParamCounts counts;
  std::vector<LayerParams> layers;
};
ModelProfile MakeProfile(const ModelSpec& model);

// The global batch in sequences: --global-batch, or by default the smallest multiple of dp x
// micro-batch (`dp_mb`) of at least 4 x 2^20 / seq sequences (4M tokens); InvalidArgument naming
// --global-batch when it is not a multiple of `dp_mb`. Decoder and encoder-decoder estimates share
// it.
Result<int64_t> GlobalBatch(const TrainOptions& o, int64_t dp_mb);

Result<TrainEstimate> EstimateTraining(const ModelProfile& model, const hw::GpuModel& gpu,
                                       const TrainOptions& options);
Result<TrainEstimate> EstimateTraining(const ModelSpec& model, const hw::GpuModel& gpu,
                                       const TrainOptions& options);

// One collective of `bytes` over a DP, CP or TP group of n ranks `stride` apart (ranks laid out
// node by node). Inside a node: the scale-up link. Across nodes NCCL runs one ring per NIC and each
// ring crosses the node boundary once, so the g group members in one node share its g rails:
// min(g x rail, scale-up) per rank (nccl-tests over whole nodes report a bus bandwidth of about
// the NICs' sum: ~95 GB/s on 4 x 200 Gb/s NICs, NVIDIA/nccl-tests issue 252; ~350 GB/s on
// 8 x 400 Gb/s H200 nodes, issue 283). A group with one member per node (stride >= node size, e.g.
// DP beside TP 8), all-to-all and send/recv keep one rail, as comm_model.h prices them.
double GroupCollectiveSeconds(Collective c, double bytes, int n, int stride, const Fabric& f);

// Optimizer bytes per trained parameter before sharding: Adam with FP32 master weights and two
// FP32 moments (Rajbhandari et al. 2020), or, without master weights, the two moments in the
// parameters' 16-bit dtype.
inline constexpr double kAdamMixedPrecisionBytes = 12.0;
inline constexpr double kAdamPure16BitBytes = 4.0;
// Bytes per trained parameter before sharding, the one source for both estimators and `plan
// train`'s text: 16-bit weights (+1 B FP8 cast cache when training in FP8), gradients (2 B, 4 B
// with --grad-fp32) and the optimizer's states (above).
struct StateBytes {
  double weights = 0;
  double gradients = 0;
  double optimizer = 0;
  double Total() const { return weights + gradients + optimizer; }
};
StateBytes TrainingStateBytes(const TrainOptions& o);
// InvalidArgument when the optimizer options contradict each other (no master weights with
// FP32 gradient buffers or with CPU offload, which keeps FP32 master weights on the host).
Status CheckOptimizerOptions(const TrainOptions& o);

// Layers per pipeline stage: layers / pp each, the remainder to the middle stages first.
std::vector<int> StageLayerCounts(int layers, int pp);

// With --uneven-stages and pp not dividing the layers: contiguous stages that minimise the
// largest stage cost (dynamic programme over cut points), the last stage carrying `last_extra`.
std::vector<int> BalancedStageLayerCounts(const std::vector<double>& layer_cost, double last_extra,
                                          int pp);

// Share of the EP all-to-all hidden by default with two or more microbatches per pipeline: chosen
// on the DeepSeek-V3 case of docs/planner-validation.md (DualPipe, "near-zero all-to-all
// overhead"; calibration).
inline constexpr double kMoeA2aOverlap = 0.8;

// Element-wise bytes per token of one layer per pass on one GPU (TP-split parts divided by `tp`,
// the norm/residual part only with sequence parallelism). megatron counts Transformer Engine's
// fused kernels, each reading its inputs and writing its output once in 16 bit: every norm reads
// and writes h (4h bytes), each residual add reads 2h and writes h (6h), the activation reads its
// input and writes its output (SwiGLU 3 x ffn elements: 6 ffn bytes; GELU 4 ffn), fused RoPE reads
// and writes q and k; pytorch: kElementwiseBytesPerHidden x h (fitted). `per_hidden` replaces both.
double ElementwiseBytesPerToken(const ModelSpec& m, bool moe_layer, Framework fw,
                                std::optional<double> per_hidden, int tp, bool sp);

// FP8 casts per token of one layer per step on one GPU (Transformer Engine / torchao, tensorwise):
// backward, every linear's output gradient is cast and transposed (read 2 B, write 1 + 1 B: 4 B per
// element of its output); forward, every linear's input is cast the same way (4 B per input
// element) under pytorch, while megatron's fused norm and activation kernels write FP8 themselves
// (only the transposed copy, 1 B) and only the attention output is cast (4 B); the forward casts
// repeat with full recompute.
// `recomputed` is the share of layers fully recomputed (0 to 1).
double Fp8CastBytesPerToken(const ModelSpec& m, bool moe_layer, Framework fw, int tp,
                            double recomputed);

// Activation bytes per token of one layer (no pipeline factor), see the header comment.
double LayerActivationBytesPerToken(const ModelSpec& m, bool moe_layer, int tp, bool sp,
                                    Recompute recompute, bool flash, int64_t seq);

}  // namespace gpupool::planner

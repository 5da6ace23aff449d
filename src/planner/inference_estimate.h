// Inference estimate: per-GPU memory (weights, KV cache, runtime overhead), whether it fits, how
// many KV tokens the rest holds, and prefill / decode time from compute and memory bandwidth, for
// one model served with tensor parallelism (TP) on one GPU type.
//
// Model (docs/planner.md "Inference"):
// - Weights: linear layers at the weight precision (INT4 adds group scales: one FP16 scale and one
//   4-bit zero point per group of 128 weights = 4.156 bits/weight); embeddings, output head and
//   routers stay 16-bit unless quantize_embeddings; norms 16-bit. Linear layers and the vocabulary
//   are split over TP; norms are replicated.
// - Weights as the checkpoint stores them (`checkpoint_weights` with a quantization_config): the
//   quantised linear parts at the method's bytes per weight with scales (MXFP4 4.25 bits, FP8
//   block 1 + 4/(block) bytes, AWQ/GPTQ b + (16 + b)/group bits), the parts the config leaves
//   unquantised at 16-bit. A multimodal model's vision tower is loaded too (16-bit, split over TP).
// - KV cache per token per GPU and layer: 2 (K and V) x kv_heads_per_gpu x head_dim x kv bytes,
//   with kv_heads_per_gpu = kv_heads / tp, or 1 when kv_heads < tp (each GPU keeps a replica of
//   its head). MLA caches the compressed latent plus the RoPE key, (kv_lora_rank +
//   qk_rope_head_dim) x kv bytes, the same on every TP rank (the latent is not split by heads).
//   Per sequence of `context` tokens: each layer holds KvTokensHeld(layer, context) tokens (the
//   window for sliding and chunked layers), and each linear-attention layer a fixed state of
//   LinearStateElements x kLinearStateBytes (FP32, as the reference kernels keep it), split over
//   TP by heads. kv_bytes_per_token_per_gpu is that per-sequence figure divided by the context.
// - Runtime overhead, in the accounting of a serving engine (`engine`):
//   vLLM (the default; vllm/v1/worker/gpu_worker.py determine_available_memory and
//   vllm/utils memory_profiling, read for the mechanism): the budget is the total CUDA reports
//   (the catalog's cuda_total_gib) x gpu_memory_utilization; what the KV cache gets is the budget
//   less the weights, less the peak PyTorch memory of the start-up profile run, less the non-torch
//   memory the run added. The profile run is one forward over `max_batched_tokens` tokens and then
//   the sampler over `max_num_seqs` rows of logits; their peaks do not overlap, so the activation
//   peak is the larger of the forward's working set (residual, norm, QKV, MLP intermediates per
//   token) and the sampler's: the kept hidden states (tokens x h x 2 B) plus max_num_seqs x vocab
//   x kVllmSamplerBytesPerLogit (the logits and the sampler's FP32 copies, sort and probability
//   buffers; the sampler sees the whole vocabulary on every TP rank). Non-torch memory: kVllm-
//   NonTorchGib, plus kVllmCommBuffersGib when tp > 1 (NCCL channel buffers and vLLM's custom
//   all-reduce IPC buffers: a ring or tree has two peers per channel whatever the TP degree, so
//   the figure does not grow beyond TP 2), plus NCCL's NVLink SHARP buffers when tp > 2 on a link
//   with NVLS (NCCL enables NVLS only above 2 GPUs and allocates, per rank, NVLS_NCHANNELS (16) x
//   2 x NVLS_CHUNKSIZE (128 KiB) x NCCL_STEPS (8) for each of the tp NVLS heads: 32 MiB x tp;
//   NVIDIA/nccl src/transport/nvls.cc ncclNvlsInit / ncclNvlsBufferSetup). The CUDA context and
//   CUDA-graph pools are outside the budget (they live in the 1 - gpu_memory_utilization
//   headroom; vLLM V1 logs the graphs' memory apart, after the KV cache is sized).
//   generic: CUDA context + workspace (cuBLAS, NCCL; +0.25 GiB with TP) + the forward's peak plus
//   FP32 logits for `batch` sequences, all inside memory_gib x gpu_memory_utilization.
//   Each part is stated and can be overridden.
// - Decode step (one token for each of `batch` sequences): a roofline per kernel class, summed
//   (the GEMMs and the attention kernels run one after the other): max(weights read, GEMM time)
//   + max(KV read, attention time) + the forward's kernel costs + TP all-reduces + the engine's
//   host time. Reads: the weights touched this step (MoE: only the experts the batch routes to,
//   expected count E(1-(1-k/E)^batch)) and the batch's KV cache at HBM bandwidth x
//   memory_efficiency; GEMM time: 2 x active params at the compute precision's peak x the GEMM
//   efficiency (FP8 / INT8: gemm_fp8_tensorwise for scales per tensor or channel, gemm_fp8 for a
//   checkpoint scaled per block); attention time: its FLOPs at the 16-bit peak x the flash
//   efficiency (the kernel table's row, InferOptions::kernels). Kernel
//   costs: kernels per forward (kKernelsPerLayer ...) x the time per kernel of the engine (CUDA
//   graphs or launched one by one). TP all-reduces: NCCL's pick among ring, tree and NVLS
//   (planner/comm_model.h AllReduceSeconds).
// - Prefill of `prompt_tokens` x batch: max(GEMM time, weight-read time) + attention time + the
//   same kernel costs + TP all-reduces of the activations + the host time (the GEMMs stream the
//   weights while they compute, so those two overlap rather than add; attention comes after).
// - With output_tokens (OSL): TTFT = the prefill; TPOT = the decode step at the mean context
//   prompt + OSL / 2; end to end = TTFT + (OSL - 1) x TPOT; output tokens per second of `batch`
//   sequences started together; and the same at the largest batch the KV cache holds at prompt +
//   OSL tokens each, up to max_num_seqs (the offline throughput vLLM and trtllm-bench report).
// - Expert parallelism (`ep` > 1, MoE models only), after vLLM's `--enable-expert-parallel`
//   (docs.vllm.ai "Expert Parallel Deployment": EP size = TP size x DP size; the planner's replica
//   has DP 1, so ep must equal tp): the routed experts are not split by TP but placed whole, E / ep
//   experts per GPU (ep must divide E); attention, dense MLPs, shared experts, embeddings and the
//   head stay TP-split, so the KV cache is the TP layout's. Weights per GPU: routed experts / ep +
//   the rest as TP places it. A step reads, on each GPU, its share of the distinct experts the
//   batch hits, and the step waits for the busiest GPU: each expert is hit with probability
//   p = 1-(1-k/E)^tokens (the TP model's expected share), a GPU's E / ep experts are hit
//   Binomial(E / ep, p) times (hits taken as independent), and a GPU reads the expected maximum
//   over the ep GPUs, sum over j < E/ep of 1 - F(j)^ep (F the binomial CDF; the order statistic
//   of ep independent draws), whole experts each (ExpectedBusiestRankExperts). At batch 1 on
//   Mixtral (E 8, k 2, ep 8) that is 0.90 of an expert against TP's 0.25: EP reads more per GPU at
//   small batches; at large ones both read every expert. Communication, vLLM's DP-1 path (the
//   default): every TP rank holds all the tokens after the attention's all-reduce, runs its own
//   experts on those routed to them, and the MLP's TP all-reduce combines them, so the
//   communication is TP's. With ep_all_to_all (DeepEP / pplx kernels, vLLM's --all2all-backend
//   with DP > 1): each MoE layer dispatches the tokens to the experts' ranks and combines them
//   back, two all-to-alls of tokens x top_k x hidden x 2 B (16-bit activations) that one rank
//   sends (CollectiveSeconds kAllToAll on the fabric, its per-step latency included: the
//   small-message cost of a decode step), the combine in place of the MoE layer's TP all-reduce
//   (the attention's all-reduce stays).
// - Precision: FP8/INT8 weights compute at the GPU's FP8/INT8 rate (W8A8) when it has one; INT4 is
//   weight-only and computes at the 16-bit rate (stated as a fallback); INT8 on a GPU without an
//   INT8 rate falls back to weight-only. FP8 on a GPU without FP8 (A100, V100) is refused: FP8
//   weights would need a 16-bit dequantising kernel the planner does not assume.
//
// Errors: InvalidArgument for a layout or precision the GPU/model cannot run (with the reason).
// Thread safety: pure function of its inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hw/catalog.h"
#include "planner/comm_model.h"
#include "planner/kernel_efficiency.h"
#include "planner/model_spec.h"

namespace gpupool::planner {

// The serving engine whose accounting a figure follows: its start-up memory (the KV capacity) and
// the fixed costs of its steps (kernel launches, CUDA graphs).
// - vllm: vLLM V1 (the default): start-up profile run (below), decode from CUDA graphs.
// - vllm-v0: vLLM's V0 engine: the same profile, max_num_seqs 256 by default, CUDA graphs.
// - trtllm: TensorRT-LLM: the KV cache gets gpu_memory_utilization (its
//   kv_cache_free_gpu_mem_fraction, 0.9) of the memory left after weights and the runtime, decode
//   from CUDA graphs (the PyTorch backend's default), max_num_seqs (max_batch_size) 2048 and
//   max_batched_tokens (max_num_tokens) 8192, the LLM API's defaults. With an output length the
//   figures follow trtllm-bench's throughput run instead, the way TensorRT-LLM's own throughput
//   tables are measured: max_batch_size and max_num_tokens from its heuristic
//   (TrtllmBenchHeuristic) and decode batches padded up to a captured CUDA graph
//   (TrtllmCudaGraphBatch). With an FP8 KV cache and FP8 matmuls its context attention runs in
//   FP8 (InferOptions::fp8_context_attention).
// - fastertransformer: FasterTransformer: the generic accounting; kernels launched one by one from
//   C++ with a host synchronisation each step (no CUDA graphs).
// - generic: fixed CUDA context + workspace; kernels launched one by one (no CUDA graphs).
enum class ServingEngine { kVllm, kVllmV0, kTensorRtLlm, kFasterTransformer, kGeneric };
std::string_view ServingEngineName(ServingEngine e);
// "vllm", "vllm-v0", "trtllm" (also "tensorrt-llm", "trt-llm"), "fastertransformer" (also
// "ft") or "generic"; anything else is InvalidArgument naming --engine.
Result<ServingEngine> ParseServingEngine(std::string_view s);
// Whether the engine's memory follows vLLM's start-up profile (vllm, vllm-v0).
bool UsesVllmAccounting(ServingEngine e);
// Whether the engine replays its decode steps from CUDA graphs by default.
bool UsesCudaGraphs(ServingEngine e);

// trtllm-bench's throughput settings when the user gives neither (NVIDIA/TensorRT-LLM
// tensorrt_llm/bench/build/tuning.py, calc_engine_setting and finetune_setting; the PyTorch
// backend's benchmark passes both to the executor). `kv_cache_requests`: the sequences of
// isl + osl tokens the KV cache holds by its estimate, kv_cache_free_gpu_mem_fraction x (GPU
// memory x GPUs - the weights) / KV bytes per sequence. The batch is capped at 4096 and rounded up
// (to 32, at least 64, below 256; to 128 below 1024; to 256 above); the tokens per iteration,
// batch x (1 + isl / osl) capped at 32768, are rounded up (to 256, at least 2048, below 4096; to
// 512 below 8192; to 1024 above), and raised to isl + the batch when the prompt would not fit
// (chunked prefill is off by default). Pure: no model or GPU.
struct TrtllmBenchSettings {
  int max_batch_size = 0;
  int64_t max_num_tokens = 0;
};
TrtllmBenchSettings TrtllmBenchHeuristic(double kv_cache_requests, int64_t isl, int64_t osl);
// The CUDA graph batch sizes of TensorRT-LLM's published throughput runs (perf-overview.md's
// llm_options: cuda_graph_config with enable_padding and these sizes).
inline constexpr int kTrtllmCudaGraphBatchSizes[] = {1,   2,   4,   8,    16,   32,   64,  128,
                                                     256, 384, 512, 1024, 2048, 4096, 8192};
// The batch a decode step of `batch` sequences runs at under CUDA graphs with padding: the
// smallest captured size that holds it. The PyTorch backend keeps the sizes up to
// min(max_batch_size, max_num_tokens) and pads to that bound when the next size is beyond it
// (tensorrt_llm/_torch/pyexecutor/model_engine.py, _filter_cuda_graph_batch_sizes). 0 when no
// graph holds the batch (it runs without one).
int TrtllmCudaGraphBatch(int batch, int max_batch_size, int64_t max_num_tokens);

// vLLM constants (see the header comment; docs/planner-validation.md "Serving" lists the cases):
// - non-torch memory the profile run adds on one GPU: 0.13 GiB in every TP-1 log of the llm-d
//   table (Llama-3.1-8B, gpt-oss-20b/120b, Qwen3-0.6B/32B on H100, vLLM V1). Calibration.
// - + NCCL and custom all-reduce buffers with TP > 1: 0.55 - 0.13 = 0.42 GiB, from the one TP-2
//   log of that table (Llama-3.3-70B FP8). Calibration; TP 4 and 8 assume the same (see above).
// - bytes per logit row entry of the sampler's peak: 38.3, from Qwen3-0.6B's 5.56 GiB activation
//   peak (vocab 151,936, 1,024 sequences, its forward far below): (5.56 - 8192 x 1024 x 2 / 2^30)
//   x 2^30 / (1024 x 151936) = 38.26. Calibration.
inline constexpr double kVllmNonTorchGib = 0.13;
inline constexpr double kVllmCommBuffersGib = 0.42;
// NCCL's NVLS buffers per rank and per NVLS head (= per rank of the group inside one node):
// 16 channels x 2 (reduce and broadcast) x 128 KiB x 8 steps (NVIDIA/nccl src/transport/nvls.cc).
inline constexpr double kNcclNvlsBytesPerHead = 16.0 * 2.0 * 128.0 * 1024.0 * 8.0;
inline constexpr double kVllmSamplerBytesPerLogit = 38.26;
inline constexpr double kEagerScoreBytes = 2.0 + 4.0 + 2.0;
inline constexpr double kEagerScoreTrafficBytes = 2.0 + 2.0 + 2.0 + 2.0 + 4.0 + 4.0 + 2.0 + 2.0;

// Fixed costs of one forward step (docs/planner.md "Step costs"). A decode step is a chain of
// small kernels; each costs a fixed time beyond the bytes it reads: the launch (from the host, or
// from a CUDA graph), the ramp-up and tail of a grid too small to fill the GPU, and the gap before
// the next kernel may start (NVIDIA, "Getting Started with CUDA Graphs", 2019: a short kernel's
// launch overhead is of the order of its run time; CUDA graphs cut the host's part, not the
// GPU's). Kernels per layer in a decode step of a transformer layer: input norm, QKV GEMM, rotary
// embedding / KV-cache write, attention, output GEMM, residual add + norm, gate/up GEMM,
// activation, down GEMM, residual add = 10 (vLLM's LlamaDecoderLayer, FasterTransformer's
// ParallelGptDecoder and TensorRT-LLM's plugins each fuse a little differently, 9 to 11); an MoE
// layer adds the router GEMM, top-k, the token permutation and the weighted combine (+4). A step
// adds the embedding lookup, the final norm, the LM head and the sampler's kernels (6). TP
// all-reduces are priced by the communication model instead.
inline constexpr int kKernelsPerLayer = 10;
inline constexpr int kMoeExtraKernelsPerLayer = 4;
inline constexpr int kKernelsPerStep = 6;
// Time per kernel beyond its bytes and FLOPs, microseconds:
// - launched one by one from the host (FasterTransformer, a host synchronisation each step):
//   calibration on FasterTransformer's GPT-1.3B and GPT-6.7B on one A100
//   (docs/planner-validation.md, rows S15 and S17).
// - replayed from a CUDA graph (vLLM, TensorRT-LLM's PyTorch backend; also a TensorRT engine,
//   enqueued whole from C++): calibration on vLLM V1's Llama-3-8B latency on one H100 (row S25).
inline constexpr double kKernelUsLaunched = 12.5;
inline constexpr double kKernelUsCudaGraph = 4.0;
// FP8 attention's speed over 16-bit attention: FlashAttention-3's forward pass on H100 reaches
// about 1.2 PFLOPS in FP8 and 740 TFLOPS in BF16 (Shah et al. 2024, "FlashAttention-3", abstract
// and section 4): 1200 / 740 = 1.62. A published figure; no validation row chose it.
inline constexpr double kFp8AttentionSpeedup = 1200.0 / 740.0;
// The engine's own host time per step, ms, outside the GPU's work: vLLM's V0 engine synchronised
// with the host after every decode step to schedule, prepare inputs and process outputs in
// Python, "about 4ms of GPU bubble" per decode step in the profiles of vllm-project/vllm issue
// 6854 (July 2024, "5-13ms" in its summary; multi-step scheduling and V1 later hid it). 0 for the
// other engines, whose host work overlaps the GPU's (V1's separate engine-core process and
// asynchronous output, TensorRT-LLM's C++ executor) or is counted in the kernel costs
// (FasterTransformer's per-step synchronisation, calibrated with them).
inline constexpr double kVllmV0HostMsPerStep = 4.0;
double EngineHostMsPerStep(ServingEngine e);

// Share of the dense peak the matmuls reach when no kernel table is given (the table's per
// architecture and precision figures are used when it is: InferOptions::kernels).
inline constexpr double kDefaultInferComputeEfficiency = 0.6;

struct InferOptions {
  hw::Precision precision = hw::Precision::kBf16;  // weights of linear layers
  std::optional<hw::Precision> kv_precision;       // default: 16-bit (BF16, else FP16)
  bool quantize_embeddings = false;                // also store embeddings / head at `precision`
  // Price the weights as the checkpoint's quantization_config stores them (ModelSpec::quant)
  // instead of at `precision`; `precision` is then the rate the matmuls run at (FP8 for FP8
  // checkpoints, 16-bit for weight-only MXFP4 / AWQ / GPTQ).
  bool checkpoint_weights = false;
  int tp = 1;
  // Expert-parallel degree (vLLM --enable-expert-parallel; see the header comment): 1 = off; else
  // a MoE model only, dividing its routed experts, equal to tp.
  int ep = 1;
  // With ep > 1: price a dispatch and a combine all-to-all per MoE layer (DeepEP / pplx kernels,
  // vLLM's --all2all-backend for DP > 1) instead of the DP-1 path (each rank runs its experts on
  // the tokens every rank already holds, and the TP all-reduce combines them).
  bool ep_all_to_all = false;
  int batch = 1;              // concurrent sequences
  int64_t context = 4096;     // tokens per sequence held in the KV cache
  int64_t prompt_tokens = 0;  // prefill length; 0 = context
  double gpu_memory_utilization = 0.9;
  ServingEngine engine = ServingEngine::kVllm;
  // false: eager attention (no fused kernel; --engine generic only, as in Hugging Face
  // transformers' "eager" implementation): each layer materialises the heads x q x k scores,
  // kEagerScoreBytes per element at the softmax's peak (the 16-bit scores with the mask added,
  // their FP32 softmax, its 16-bit copy) and kEagerScoreTrafficBytes of HBM traffic per element
  // (written by QK^T, read and rewritten by the mask, read by the softmax, its FP32 output written
  // and read by the cast, the 16-bit probabilities written and read by PV); the masked half of the
  // causal square is computed too.
  bool flash_attention = true;
  // A further fixed cost of one engine step outside the GPU's work (scheduling, input
  // preparation, sampling's host sync, detokenising), added to each decode step and to the
  // prefill on top of the kernel costs and the engine's own (EngineHostMsPerStep). 0 unless given.
  double step_overhead_ms = 0;
  // Kernel costs (see kKernelsPerLayer): whether steps replay CUDA graphs (default: the engine's,
  // UsesCudaGraphs) and the time per kernel (default kKernelUsCudaGraph or kKernelUsLaunched
  // accordingly), counted once per kernel in every decode step and in the prefill forward.
  std::optional<bool> cuda_graphs;
  std::optional<double> kernel_us;
  // Whether decode batches are padded up to a captured CUDA graph batch size
  // (TrtllmCudaGraphBatch): the GEMMs and all-reduces run at the padded batch, attention at the
  // real one (a padding sequence holds one token). Default: on for trtllm (trtllm-bench turns it
  // on), off for the other engines. Only with CUDA graphs.
  std::optional<bool> cuda_graph_padding;
  // Prefill attention in FP8 (TensorRT-LLM's FP8 context FMHA) at kFp8AttentionSpeedup x the
  // 16-bit flash rate. Default: on for trtllm with an FP8 KV cache and FP8 matmuls (its paged
  // context FMHA over an FP8 cache requires FP8 attention, tensorrt_llm/_torch/attention_backend/
  // trtllm.py); the GPU needs an FP8 rate.
  std::optional<bool> fp8_context_attention;
  // Generated tokens per sequence (the output length, OSL). With it the estimate also gives the
  // request's end-to-end latency (TTFT + (OSL - 1) x the mean decode step over the output) and the
  // output throughput of `batch` sequences served together, and of the largest batch the KV cache
  // and max_num_seqs allow (the offline throughput engines report). 0: not computed.
  int64_t output_tokens = 0;
  // Requests in an offline throughput benchmark (trtllm-bench's dataset, vLLM's --num-prompts),
  // all queued at once: served in waves of the max-throughput batch, the last wave holding the
  // rest. 0: the steady state of full batches.
  int64_t num_requests = 0;
  // Tokens in one prefill forward (the activation peak) and, for vLLM, the sequences its sampler
  // profile covers. Unset: vLLM's `vllm serve` defaults (vllm/engine/arg_utils.py
  // get_batch_defaults): 8192 and 1024 on GPUs of 70 GiB and more whose name has no "A100", 2048
  // and 256 otherwise; the generic engine takes 8192 tokens.
  std::optional<int64_t> max_batched_tokens;
  std::optional<int> max_num_seqs;
  double cuda_context_gib = 1.0;         // CUDA context + non-torch allocations (cuBLAS, NCCL)
  double workspace_gib = 0.5;            // CUDA-graph pool, sampler; + 0.25 GiB when tp > 1
  std::optional<double> activation_gib;  // override the computed activation peak
  std::optional<double> overhead_gib;    // override the whole runtime overhead
  // Share of the dense peak the matmuls reach (linear layers and attention). Unset: the kernel
  // table's row for the GPU's architecture (gemm_16bit or gemm_fp8 for the linear layers at the
  // compute precision, flash for attention) when `kernels` is loaded, else
  // kDefaultInferComputeEfficiency.
  std::optional<double> compute_efficiency;
  KernelEfficiency kernels;        // data/planner/kernel_efficiency.yaml's row for the GPU
  double memory_efficiency = 0.8;  // share of HBM bandwidth a decode step reaches
  Fabric fabric;                   // for TP all-reduces
};

// The precision the matmuls of a serving estimate run at for weights at `o.precision` on `gpu`
// (the header's "Precision" rules: FP8 / INT8 at their own rates where the GPU has them, INT8
// weight-only without, INT4 weight-only at the 16-bit rate), with each fallback explained in
// `*notes`. InvalidArgument naming --precision's alternatives for one the GPU cannot run.
// EstimateInference and the encoder estimates share it.
Result<hw::Precision> ServingComputePrecision(const ModelSpec& m, const hw::GpuModel& gpu,
                                              const InferOptions& o,
                                              std::vector<std::string>* notes);

struct InferEstimate {
  std::string compute_precision;      // precision the matmuls run at
  double weight_bytes_per_param = 0;  // of quantised linear layers (INT4 incl. scales)
  double weights_bytes_per_gpu = 0;
  double weights_gib_per_gpu = 0;
  std::string weights_format;             // "bf16", "fp8", or the checkpoint's "mxfp4", ...
  double weights_vision_gib_per_gpu = 0;  // part of weights_gib_per_gpu
  double kv_bytes_per_token_per_gpu = 0;  // per-sequence KV / context (average at this context)
  double kv_bytes_per_token_all_gpus = 0;
  double kv_bytes_per_sequence_per_gpu = 0;  // at `context`, linear-attention state included
  double linear_state_bytes_per_sequence_per_gpu = 0;
  int kv_heads_per_gpu = 0;   // 0 for MLA
  double kv_gib_per_gpu = 0;  // for batch x context
  double cuda_context_gib = 0;
  double workspace_gib = 0;
  double activation_gib = 0;
  double forward_activation_gib = 0;  // the forward's part of the activation peak
  double sampler_activation_gib = 0;  // vLLM: the sampler's part (0 for generic)
  double non_torch_gib = 0;           // vLLM: non-torch memory of the profile run
  double nvls_buffers_gib = 0;        // part of non_torch_gib: NCCL's NVLS buffers (tp > 2)
  double overhead_gib = 0;
  std::string engine;                  // "vllm" or "generic"
  int64_t max_batched_tokens = 0;      // as used (the option or the engine's default)
  int max_num_seqs = 0;                // as used (vLLM; TensorRT-LLM's max_batch_size)
  bool trtllm_bench_settings = false;  // both from TrtllmBenchHeuristic
  double prefill_compute_seconds = 0;  // linear + attention at the compute rates
  double prefill_memory_seconds = 0;   // weights read once
  double prefill_comm_seconds = 0;     // TP all-reduces
  double eager_scores_gib = 0;         // eager attention: one layer's scores in the forward
  double total_gib_per_gpu = 0;
  double budget_gib_per_gpu = 0;     // memory x utilisation
  double kv_budget_gib_per_gpu = 0;  // what the KV cache gets: budget - weights - overhead
  bool fits = false;
  int64_t max_kv_tokens = 0;  // KV cache capacity per replica (0 if weights alone overflow)
  int64_t max_sequences_at_context = 0;
  double prefill_seconds = 0;
  double prefill_kernel_seconds = 0;    // fixed kernel costs of the prefill forward
  double decode_ms_per_token = 0;       // one decode step for the whole batch
  double decode_tokens_per_second = 0;  // batch / step
  std::string decode_bound;             // "memory", "compute" or "mixed" (GEMMs one, attention the
                                        // other)
  // The decode step's parts, ms: gemms + attention + kernels + TP all-reduces + host (memory and
  // compute are the reads and the FLOPs of both classes, for the record).
  double decode_memory_ms = 0;   // weights and KV read
  double decode_compute_ms = 0;  // GEMM and attention FLOPs
  // The step's two kernel classes, each its own roofline: max(weights read, GEMM FLOPs) and
  // max(KV read, attention FLOPs); the step is their sum + kernels + all-reduces + host.
  double decode_gemm_ms = 0;
  double decode_attention_ms = 0;
  double decode_kernel_ms = 0;
  double decode_comm_ms = 0;
  double decode_host_ms = 0;
  // Expert parallelism (ep > 1): the degree, the dispatch + combine all-to-alls of all MoE layers
  // in a decode step (ms) and in the prefill (s), and the bytes one rank sends in one all-to-all
  // of one decode step.
  int ep = 1;
  double decode_ep_all_to_all_ms = 0;
  double prefill_ep_all_to_all_seconds = 0;
  double ep_all_to_all_bytes_decode = 0;
  bool cuda_graphs = false;            // as used
  bool cuda_graph_padding = false;     // as used
  bool fp8_context_attention = false;  // as used
  int decode_graph_batch = 0;          // the batch's decode step as a graph runs it (0: no graph)
  int max_throughput_graph_batch = 0;  // the same for max_throughput_batch
  double kernel_us = 0;                // time per kernel, as used
  int kernels_per_step = 0;            // kernels of one decode forward (TP all-reduces apart)
  double gemm_efficiency = 0;       // share of the compute precision's peak the linear layers get
  double attention_efficiency = 0;  // share of the 16-bit peak attention gets
  // With output_tokens (OSL > 0): TTFT = prefill_seconds; the mean decode step over the output
  // (the KV read grows linearly with the context, so the step at prompt + OSL / 2);
  // e2e = TTFT + (OSL - 1) x tpot; output tokens per second of `batch` sequences started together,
  // batch x OSL / e2e (all GPUs of the replica); and the largest batch the KV cache (at prompt +
  // OSL tokens each) and max_num_seqs allow, with its output tokens per second.
  int64_t output_tokens = 0;
  double ttft_seconds = 0;
  double tpot_ms = 0;
  double e2e_latency_seconds = 0;
  double output_tokens_per_second = 0;
  int max_throughput_batch = 0;
  int64_t max_throughput_waves = 0;  // with num_requests: the waves they are served in
  double max_throughput_tpot_ms = 0;
  double max_throughput_tokens_per_second = 0;
  std::vector<std::string> notes;  // fallbacks, replication, assumptions
  // Which figures come from a model of a mechanism, and which rest on assumed constants.
  std::vector<std::string> modelled;
  std::vector<std::string> assumptions;
};

Result<InferEstimate> EstimateInference(const ModelSpec& model, const hw::GpuModel& gpu,
                                        const InferOptions& options);

// Bytes per weight of a quantised linear layer at `p`: INT4 4.156/8 (group 128 scales), FP8/INT8 1,
// 16-bit 2.
double QuantizedBytesPerParam(hw::Precision p);

// Expert parallelism: bytes one rank sends in one dispatch (or combine) all-to-all of one MoE
// layer over `tokens` tokens: tokens x top_k x hidden x kEpActivationBytes (16-bit activations).
// 0 for a dense model.
inline constexpr double kEpActivationBytes = 2.0;
double EpAllToAllBytes(const ModelSpec& model, double tokens);

// Expert parallelism: the expected number of experts the busiest of `ep` GPUs runs in one MoE
// layer, each GPU holding experts / ep of them, each hit with probability `p` (independently):
// E[max of ep draws of Binomial(experts / ep, p)] = sum over j = 0 .. experts/ep - 1 of
// 1 - F(j)^ep. ep = 1 gives experts x p (the mean); p = 1 gives experts / ep.
double ExpectedBusiestRankExperts(int experts, int ep, double p);

// Bytes of a linear-attention state element (FP32).
inline constexpr double kLinearStateBytes = 4.0;

// KV bytes per token of ONE softmax-attention layer on one GPU, and the KV heads each GPU holds.
double KvBytesPerTokenPerLayerPerGpu(const ModelSpec& model, int tp, double kv_bytes,
                                     int* heads_per_gpu);

// KV bytes per token on one GPU while no window is full: the per-layer figure times the layers
// that keep a KV cache (all but linear-attention layers).
double KvBytesPerTokenPerGpu(const ModelSpec& model, int tp, double kv_bytes, int* heads_per_gpu);

// KV cache of one sequence of `context` tokens on one GPU: each softmax layer's
// KvTokensHeld(context) tokens plus every linear-attention layer's state.
double KvBytesPerSequencePerGpu(const ModelSpec& model, int tp, double kv_bytes, int64_t context);

// The linear-attention layers' state of one sequence on one GPU (0 without such layers).
double LinearStateBytesPerSequencePerGpu(const ModelSpec& model, int tp);

}  // namespace gpupool::planner

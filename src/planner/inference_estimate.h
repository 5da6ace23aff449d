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
// - Runtime overhead: CUDA context + workspace (cuBLAS, NCCL) + peak activations of one forward
//   over `max_batched_tokens` tokens (residual, norm, QKV, MLP intermediates, and FP32 logits for
//   `batch` sequences). Each part is stated and can be overridden.
// - Decode step (one token for each of `batch` sequences): max(memory time, compute time) + TP
//   all-reduces, where memory time reads the weights touched this step (MoE: only the experts the
//   batch routes to, expected count E(1-(1-k/E)^batch)) and the batch's KV cache at HBM bandwidth x
//   memory_efficiency; compute is 2 x active params + attention FLOPs at the compute rate.
// - Prefill of `prompt_tokens` x batch: compute-bound at peak x compute_efficiency, plus weights
//   read once and TP all-reduces of the activations.
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
#include <vector>

#include "common/status.h"
#include "hw/catalog.h"
#include "planner/comm_model.h"
#include "planner/model_spec.h"

namespace gpupool::planner {

struct InferOptions {
  hw::Precision precision = hw::Precision::kBf16;  // weights of linear layers
  std::optional<hw::Precision> kv_precision;       // default: 16-bit (BF16, else FP16)
  bool quantize_embeddings = false;                // also store embeddings / head at `precision`
  // Price the weights as the checkpoint's quantization_config stores them (ModelSpec::quant)
  // instead of at `precision`; `precision` is then the rate the matmuls run at (FP8 for FP8
  // checkpoints, 16-bit for weight-only MXFP4 / AWQ / GPTQ).
  bool checkpoint_weights = false;
  int tp = 1;
  int batch = 1;              // concurrent sequences
  int64_t context = 4096;     // tokens per sequence held in the KV cache
  int64_t prompt_tokens = 0;  // prefill length; 0 = context
  double gpu_memory_utilization = 0.9;
  int64_t max_batched_tokens = 8192;     // tokens in one prefill forward (activation peak)
  double cuda_context_gib = 1.0;         // CUDA context + non-torch allocations (cuBLAS, NCCL)
  double workspace_gib = 0.5;            // CUDA-graph pool, sampler; + 0.25 GiB when tp > 1
  std::optional<double> activation_gib;  // override the computed activation peak
  std::optional<double> overhead_gib;    // override the whole runtime overhead
  double compute_efficiency = 0.6;       // share of dense peak a prefill reaches
  double memory_efficiency = 0.8;        // share of HBM bandwidth a decode step reaches
  Fabric fabric;                         // for TP all-reduces
};

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
  double overhead_gib = 0;
  double total_gib_per_gpu = 0;
  double budget_gib_per_gpu = 0;  // memory x utilisation
  bool fits = false;
  int64_t max_kv_tokens = 0;  // KV cache capacity per replica (0 if weights alone overflow)
  int64_t max_sequences_at_context = 0;
  double prefill_seconds = 0;
  double decode_ms_per_token = 0;       // one decode step for the whole batch
  double decode_tokens_per_second = 0;  // batch / step
  std::string decode_bound;             // "memory" or "compute"
  std::vector<std::string> notes;       // fallbacks, replication, assumptions
};

Result<InferEstimate> EstimateInference(const ModelSpec& model, const hw::GpuModel& gpu,
                                        const InferOptions& options);

// Bytes per weight of a quantised linear layer at `p`: INT4 4.156/8 (group 128 scales), FP8/INT8 1,
// 16-bit 2.
double QuantizedBytesPerParam(hw::Precision p);

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

// Encoder and encoder-decoder estimates (docs/planner.md "Encoders and encoder-decoders"): serving
// an encoder-only model (BERT, RoBERTa, a T5 encoder) or an encoder-decoder (T5, mT5, Flan-T5,
// UL2), and training an encoder-decoder. Decoder-only models go through inference_estimate.h and
// training_estimate.h; EstimateInference and EstimateTraining hand these kinds to the functions
// below, so the layout and serve searches take them too.
//
// Serving an encoder-only model (`prompt_tokens` or else `context` tokens per sequence, `batch`
// sequences): one forward pass, no KV cache and no decoding.
// - Weights as inference_estimate.h (linear layers at the weight precision, embeddings and norms
//   16-bit, linear layers and the vocabulary split over TP).
// - Activation peak of the forward: every token's residual and norm output (2 x 2h), one layer's
//   Q/K/V and attention output (4 x a x d_kv x 2 B) and its MLP intermediate (ffn x 2 B, the
//   gated MLP's two halves and their product 3 x ffn x 2 B), split over TP, for batch x tokens;
//   runtime overhead as the generic engine's (CUDA context + workspace, +0.25 GiB with TP).
// - Forward time = the sum over each layer's kernels (kEncoderLayerKernels) of the longer of the
//   kernel's FLOPs at its rate and its bytes at HBM bandwidth, and at least kMinKernelSeconds (a
//   kernel's launch and tail), plus the TP all-reduces (2 per layer). GEMMs: 2 x tokens x in x out
//   FLOPs at the compute rate against their weights' bytes; attention: the full bidirectional s x
//   s square, 2 a (d_qk + d_v) s FLOPs per token, at the 16-bit rate; element-wise:
//   kEncoderElementwiseBytesPerHidden x h bytes per token per layer over 4 kernels, the figure
//   training_estimate.h gives for fully fused kernels (two norms read and write 2h each, two
//   residual adds, the activation about 16h), which is what the engines measured here
//   (FasterTransformer, TensorRT) run. Large batches are GEMM-bound; under a few thousand tokens
//   the kernel floor dominates.
//
// Serving an encoder-decoder: `prompt_tokens` (default `context`) input tokens the encoder reads,
// `context` output tokens the decoder generates and caches per sequence.
// - KV cache per sequence on one GPU: the decoder's self-attention K/V, 2 x heads/TP x d_kv x KV
//   bytes per output token per decoder layer, plus the cross-attention K/V of the encoder's output,
//   the same width per input token per decoder layer, computed once by the encoder pass and held
//   until the sequence ends.
// - Encoder pass (the prefill): the encoder's forward over batch x input tokens as above, plus the
//   decoder layers' cross-attention K/V projections of the encoder output (2 x 2 x h x a x d_kv
//   FLOPs per input token per decoder layer).
// - Decode step (one token for each of `batch` sequences), kernel by kernel as the forward
//   (kDecoderLayerKernels per layer): each GEMM the longer of its weights' read and its FLOPs,
//   each attention the longer of its K/V read (self: the cached output tokens, cross: the input
//   tokens) and its FLOPs, each kernel at least kMinKernelSeconds; then the head; + 3 TP
//   all-reduces per decoder layer. The encoder and the cross K/V projections are not run again.
//   decode_bound is "launch" when the floors make the step more than 1.5 x its roofline.
//
// Training an encoder-decoder (`seq` input tokens, `target_seq` target tokens per sequence; 0 =
// seq / 4, Megatron-LM's and NeMo's T5 recipes' 512 / 128):
// - Model FLOPs per sequence = 6 x (encoder linear parameters x seq + decoder linear parameters
//   other than the cross K/V x target + cross K/V projections x seq + head x target) + 3 x
//   attention forward (encoder s x s, decoder self t x t, cross t x s, full squares as
//   training_estimate.h counts them). Throughput and budgets count input tokens (T5's "tokens").
// - Activations per layer after Korthikanti et al. 2022 (LayerActivationBytesPerToken of
//   training_estimate.h for the self-attention and MLP blocks), extended to cross-attention per
//   target token: the norm input and dropout mask (2h + h, split over TP with sequence
//   parallelism), Q and the output projection's input (2 x 2 a d_kv / TP), without flash the
//   softmax output (2 a s), its dropout mask and output (3 a s) over the s input tokens; per input
//   token per decoder layer the cross K and V (2 x 2 a d_kv / TP); once per input token the encoder
//   output (2h). Full recompute keeps each layer's input (2h) and the encoder output.
// - Step = GEMMs + attention + element-wise traffic (a decoder block has three sub-blocks: 1.5 x
//   the per-layer traffic) + TP all-reduces (4 per encoder layer, 6 per decoder layer and one of
//   the encoder output's gradient per decoder layer; x 1.5 with full recompute) + exposed DP
//   reduction + optimizer, with the constants of training_estimate.h (kernel efficiency row, DP
//   overlap, HBM at 0.8).
// - Layouts: TP x DP with ZeRO 0-3 and recompute none / selective / full. Pipeline, context and
//   expert parallelism, LoRA and CPU offload are refused with the reason (an encoder-decoder
//   pipeline splits two stacks of different token counts; Megatron-LM's split rank is not
//   modelled).
//
// Errors: InvalidArgument for a layout, precision or length the model cannot run, as the decoder
// estimates. Thread safety: pure functions.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "hw/catalog.h"
#include "planner/inference_estimate.h"
#include "planner/model_spec.h"
#include "planner/training_estimate.h"

namespace gpupool::planner {

// Element-wise bytes per token per layer of a fused inference forward, in units of h (see above).
inline constexpr double kEncoderElementwiseBytesPerHidden = 40.0;

// Kernels per layer, as FasterTransformer launches them. Encoder layer (its BERT layer): QKV GEMM,
// bias + transpose, fused attention, output GEMM, bias + residual + LayerNorm, MLP GEMM, bias +
// activation, MLP GEMM, bias + residual + LayerNorm: 4 GEMMs, 1 attention, 4 element-wise.
// Decoder layer (its T5 decoder): self QKV GEMM, self attention over the cache, output GEMM, cross
// Q GEMM, cross attention, output GEMM, two MLP GEMMs, and 5 element-wise kernels (three norms
// with their residual adds, the activation, the last residual add): 13.
inline constexpr int kEncoderElementwiseKernels = 4;
inline constexpr int kEncoderLayerKernels = 9;
inline constexpr int kDecoderElementwiseKernels = 5;
inline constexpr int kDecoderLayerKernels = 13;

// The shortest time one kernel takes, launch and tail included: FasterTransformer's BERT-Base at
// batch 1 x 128 on A100 takes 1.00 ms (docs/planner-validation.md E5), 12 layers x 9 kernels all
// far below it in FLOPs and bytes: 1.00 ms / 108 = 9.26 us. Calibration (E5), one figure for
// every GPU (untested beyond A100 and V100).
inline constexpr double kMinKernelSeconds = 1.00e-3 / (12 * kEncoderLayerKernels);

struct EncoderInferEstimate {
  InferEstimate base;  // memory, fits, prefill_seconds = the forward (or encoder pass)
  bool encoder_decoder = false;
  int64_t input_tokens = 0;   // per sequence, read by the encoder
  int64_t output_tokens = 0;  // per sequence, generated by the decoder (0 for encoder-only)
  double forward_gemm_seconds = 0;
  double forward_attention_seconds = 0;
  double forward_elementwise_seconds = 0;
  double forward_weights_read_seconds = 0;
  double forward_comm_seconds = 0;
  double sequences_per_second = 0;  // encoder-only: batch / forward
  double tokens_per_second = 0;     // encoder-only: input tokens / s
  // Encoder-decoder: KV of one sequence on one GPU, split in its two parts.
  double self_kv_bytes_per_token_per_gpu = 0;   // per output token, all decoder layers
  double cross_kv_bytes_per_token_per_gpu = 0;  // per input token, all decoder layers
  double cross_kv_bytes_per_sequence_per_gpu = 0;
};

// Serving an encoder-only or an encoder-decoder model (see the header comment). InvalidArgument
// for a decoder-only model.
Result<EncoderInferEstimate> EstimateEncoderInference(const ModelSpec& model,
                                                      const hw::GpuModel& gpu,
                                                      const InferOptions& options);

// Training an encoder-decoder (see the header comment). InvalidArgument for another model or a
// layout it does not model.
Result<TrainEstimate> EstimateEncoderDecoderTraining(const ModelProfile& model,
                                                     const hw::GpuModel& gpu,
                                                     const TrainOptions& options);

// The target (decoder) tokens per sequence a training estimate uses: options.target_seq, or
// seq / 4 (at least 1) when 0.
int64_t TargetSeq(const TrainOptions& options);

}  // namespace gpupool::planner

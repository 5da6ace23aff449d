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
// - Forward time = GEMM FLOPs at the compute rate (2 x linear parameters per token) + attention
//   FLOPs at the 16-bit rate (the full bidirectional s x s square, 2 a (d_qk + d_v) s per token per
//   layer) + element-wise traffic at HBM bandwidth, then max with the weights read once, plus the
//   TP all-reduces (2 per layer). The element-wise traffic is kEncoderElementwiseBytesPerHidden x h
//   bytes per token per layer: the figure training_estimate.h gives for fully fused kernels (two
//   norms read and write 2h each, two residual adds, the activation about 16h), which is what the
//   inference engines measured here (FasterTransformer, TensorRT) run.
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
// - Decode step (one token for each of `batch` sequences): max(decoder weights, the head and the
//   batch's self and cross K/V read at HBM bandwidth, FLOPs of the decoder's q/k/v/o, cross q/o,
//   MLP and head at the compute rate) + 3 TP all-reduces per decoder layer, as the decode step of
//   inference_estimate.h; the encoder and the cross K/V projections are not read again.
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

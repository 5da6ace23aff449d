// Kernel efficiency per GPU architecture and precision: the share of the dense peak that training
// kernels reach, read from data/planner/kernel_efficiency.yaml (the one source of these figures;
// `gpupool plan` and the planner's tests load the same file through LoadKernelEfficiency).
//
// The linear layers run at `gemm` x the dense peak (FP8: tensorwise or blockwise), attention at the
// stack's kernel figure (flash-attn 2 or Transformer Engine's fused attention); what differs
// between GPU generations beyond that is modelled, not tabled: the element-wise kernels (norms,
// activation functions, residual adds, casts) run at HBM bandwidth, so a GPU whose tensor cores
// outgrew its memory (H100: 295 FLOP/B, A100: 153) and a small model (GEMM FLOPs grow with h^2 per
// token, element-wise bytes with h) spend a larger share of the step outside GEMMs
// (training_estimate.h, "Step time").
//
// Errors: LoadKernelEfficiency returns NotFound for a missing file and InvalidArgument naming
// file:line and the field for a malformed row, a figure outside (0, 1], a duplicate architecture
// or a missing `default` row. Thread safety: values and pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "hw/catalog.h"

namespace gpupool::planner {

struct KernelEfficiency {
  std::string architecture;  // the row used: the GPU's architecture, or "default"
  hw::Sourced gemm_16bit;    // asymptotic share of the 16-bit dense peak a large GEMM reaches
  hw::Sourced gemm_fp8;      // the same for FP8 GEMMs, of the FP8 dense peak, with a scale per
                             // block (DeepSeek-V3's recipe: 128-element block scales)
  hw::Sourced gemm_fp8_tensorwise;  // FP8 GEMMs with a scale per tensor or channel (TE, torchao,
                                    // ModelOpt and vLLM's fp8 checkpoints)
  hw::Sourced flash;      // share of the 16-bit dense peak flash attention reaches (serving)
  hw::Sourced flash_fa2;  // training under pytorch: flash-attn 2 (SDPA), counting the full
                          // s x s score FLOPs as MFU does
  hw::Sourced flash_te;   // the same for Transformer Engine's fused attention (cuDNN; megatron)
  hw::Sourced fp8_tp_overlap;  // share of TP communication hidden when training in FP8 (TE)
  hw::Sourced nccl_sm_share;   // share of the SMs NCCL's kernels occupy while they overlap compute
  bool loaded() const { return !architecture.empty(); }
  // The FP8 GEMM figure for a scaling: per block (the GEMM applies the scales inside its K loop)
  // or per tensor / channel (applied once in the epilogue). Training's --fp8-recipe and a served
  // checkpoint's quantization_config both choose through this.
  const hw::Sourced& Fp8Gemm(bool block_scaled) const {
    return block_scaled ? gemm_fp8 : gemm_fp8_tensorwise;
  }
};

struct KernelEfficiencyTable {
  std::string file;
  std::vector<KernelEfficiency> rows;  // one per architecture, "default" among them
};

// The table file shipped with gpupool: DATA_DIR/planner/kernel_efficiency.yaml.
inline constexpr const char* kKernelEfficiencyFile = "planner/kernel_efficiency.yaml";

Result<KernelEfficiencyTable> LoadKernelEfficiency(const std::string& path);

// The row for `gpu.architecture` (case-insensitive), else the "default" row.
const KernelEfficiency& KernelEfficiencyFor(const KernelEfficiencyTable& table,
                                            const hw::GpuModel& gpu);

}  // namespace gpupool::planner

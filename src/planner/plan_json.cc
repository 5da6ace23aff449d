#include "planner/plan_json.h"

#include <cmath>
#include <optional>

#include "planner/encoder_estimate.h"
#include "planner/gpu_rates.h"

namespace gpupool::planner {

using nlohmann::json;

json ModelJson(const ModelSpec& m) {
  const ParamCounts pc = CountParams(m);
  json j = {{"name", m.name},
            {"architecture", m.architecture},
            {"layers", m.num_layers},
            {"hidden", m.hidden},
            {"heads", m.num_heads},
            {"kv_heads", m.num_kv_heads},
            {"head_dim", m.head_dim},
            {"ffn", m.ffn},
            {"vocab", m.vocab},
            {"params_total", pc.total},
            {"params_active", pc.active},
            {"params_embedding", pc.embedding + pc.lm_head}};
  if (m.IsMoe()) {
    j["experts"] = m.moe.num_experts;
    j["top_k"] = m.moe.top_k;
    j["expert_ffn"] = m.moe.expert_ffn;
  }
  if (m.mla.enabled) {
    j["mla"] = {{"kv_lora_rank", m.mla.kv_lora_rank}, {"qk_rope_head_dim", m.mla.qk_rope_head_dim}};
  }
  if (pc.mtp > 0) j["params_mtp_module"] = pc.mtp;
  if (m.IsEncoderDecoder()) {
    j["encoder_layers"] = m.encoder_layers;
    j["decoder_layers"] = m.DecoderLayers();
  }
  if (m.encoder_only) j["encoder_only"] = true;
  if (m.vision_params > 0) j["params_vision"] = m.vision_params;
  if (!m.attention.empty()) {
    json layers = json::object();
    for (AttentionKind k : {AttentionKind::kFull, AttentionKind::kSliding, AttentionKind::kChunked,
                            AttentionKind::kLinear}) {
      if (m.CountAttention(k) > 0) layers[AttentionKindName(k)] = m.CountAttention(k);
    }
    j["attention_layers"] = layers;
  }
  if (m.quant.method != QuantMethod::kNone) {
    j["checkpoint_quantization"] = {{"format", m.quant.label},
                                    {"bytes_per_weight", m.quant.bytes_per_weight}};
  }
  if (!m.warnings.empty()) j["warnings"] = m.warnings;
  return j;
}

json LayoutJson(const Layout& l) {
  json j = {{"tp", l.tp},
            {"pp", l.pp},
            {"dp", l.dp},
            {"cp", l.cp},
            {"ep", l.ep},
            {"vp", l.vp},
            {"zero", l.zero},
            {"recompute", RecomputeName(l.recompute)},
            {"micro_batch", l.micro_batch}};
  if (l.recompute == Recompute::kLayer) j["recompute_every"] = l.recompute_every;
  return j;
}

namespace {
json InferCoreJson(const ModelSpec& m, const hw::GpuModel& gpu, const InferOptions& o,
                   const InferEstimate& e);
}  // namespace

json InferJson(const ModelSpec& m, const hw::GpuModel& gpu, const InferOptions& o,
               const InferEstimate& e) {
  json j = InferCoreJson(m, gpu, o, e);
  // Serving engine accounting, prefill parts, modelled vs assumed (issue 12).
  j["engine"] = e.engine;
  j["overhead_parts_gib"]["non_torch"] = e.non_torch_gib;
  j["overhead_parts_gib"]["nvls_buffers"] = e.nvls_buffers_gib;
  j["overhead_parts_gib"]["forward_activations"] = e.forward_activation_gib;
  j["overhead_parts_gib"]["sampler_activations"] = e.sampler_activation_gib;
  j["kv_budget_gib_per_gpu"] = e.kv_budget_gib_per_gpu;
  j["max_num_seqs"] = e.max_num_seqs;
  j["max_batched_tokens"] = e.max_batched_tokens;
  j["trtllm_bench_settings"] = e.trtllm_bench_settings;
  j["prefill_parts_seconds"] = {{"compute", e.prefill_compute_seconds},
                                {"weights_read", e.prefill_memory_seconds},
                                {"tp_comm", e.prefill_comm_seconds},
                                {"kernels", e.prefill_kernel_seconds}};
  // Decode step parts and the kernel costs (issue 12, serving latency).
  j["decode_parts_ms"] = {
      {"memory", e.decode_memory_ms},  {"compute", e.decode_compute_ms},
      {"kernels", e.decode_kernel_ms}, {"tp_comm", e.decode_comm_ms},
      {"host", e.decode_host_ms},      {"ep_all_to_all", e.decode_ep_all_to_all_ms},
      {"gemms", e.decode_gemm_ms},     {"attention", e.decode_attention_ms}};
  j["prefill_parts_seconds"]["ep_all_to_all"] = e.prefill_ep_all_to_all_seconds;
  j["ep"] = e.ep;
  j["ep_all_to_all"] = e.ep > 1 && o.ep_all_to_all;
  j["ep_all_to_all_bytes_decode"] = e.ep_all_to_all_bytes_decode;
  j["step_costs"] = {{"cuda_graphs", e.cuda_graphs},
                     {"cuda_graph_padding", e.cuda_graph_padding},
                     {"fp8_context_attention", e.fp8_context_attention},
                     {"decode_graph_batch", e.decode_graph_batch},
                     {"kernel_us", e.kernel_us},
                     {"kernels_per_step", e.kernels_per_step},
                     {"gemm_efficiency", e.gemm_efficiency},
                     {"attention_efficiency", e.attention_efficiency},
                     {"memory_efficiency", o.memory_efficiency}};
  j["prompt_tokens"] = o.prompt_tokens > 0 ? o.prompt_tokens : o.context;
  j["output_tokens"] = e.output_tokens;
  if (e.output_tokens > 0) {
    j["ttft_seconds"] = e.ttft_seconds;
    j["tpot_ms"] = e.tpot_ms;
    j["e2e_latency_seconds"] = e.e2e_latency_seconds;
    j["output_tokens_per_second"] = e.output_tokens_per_second;
    j["max_throughput"] = {
        {"batch", e.max_throughput_batch},
        {"graph_batch", e.max_throughput_graph_batch},
        {"num_requests", o.num_requests},
        {"waves", e.max_throughput_waves},
        {"tpot_ms", e.max_throughput_tpot_ms},
        {"output_tokens_per_second", e.max_throughput_tokens_per_second},
        {"output_tokens_per_second_per_gpu", e.max_throughput_tokens_per_second / o.tp}};
  }
  j["modelled"] = e.modelled;
  j["assumptions"] = e.assumptions;
  return j;
}

namespace {
json InferCoreJson(const ModelSpec& m, const hw::GpuModel& gpu, const InferOptions& o,
                   const InferEstimate& e) {
  return {{"model", ModelJson(m)},
          {"gpu", gpu.name},
          {"precision", e.weights_format},
          {"compute_precision", e.compute_precision},
          {"tp", o.tp},
          {"batch", o.batch},
          {"context", o.context},
          {"gpu_memory_utilization", o.gpu_memory_utilization},
          {"weight_bytes_per_param", e.weight_bytes_per_param},
          {"weights_gib_per_gpu", e.weights_gib_per_gpu},
          {"kv_bytes_per_token_per_gpu", e.kv_bytes_per_token_per_gpu},
          {"kv_bytes_per_token_all_gpus", e.kv_bytes_per_token_all_gpus},
          {"kv_bytes_per_sequence_per_gpu", e.kv_bytes_per_sequence_per_gpu},
          {"linear_state_bytes_per_sequence_per_gpu", e.linear_state_bytes_per_sequence_per_gpu},
          {"kv_heads_per_gpu", e.kv_heads_per_gpu},
          {"kv_gib_per_gpu", e.kv_gib_per_gpu},
          {"overhead_gib", e.overhead_gib},
          {"overhead_parts_gib",
           {{"cuda_context", e.cuda_context_gib},
            {"workspace", e.workspace_gib},
            {"activations", e.activation_gib}}},
          {"total_gib_per_gpu", e.total_gib_per_gpu},
          {"budget_gib_per_gpu", e.budget_gib_per_gpu},
          {"fits", e.fits},
          {"max_kv_tokens", e.max_kv_tokens},
          {"max_sequences_at_context", e.max_sequences_at_context},
          {"prefill_seconds", e.prefill_seconds},
          {"decode_ms_per_token", e.decode_ms_per_token},
          {"decode_tokens_per_second", e.decode_tokens_per_second},
          {"decode_bound", e.decode_bound},
          {"fabric", FabricJson(o.fabric)},
          {"notes", e.notes}};
}

}  // namespace

json LinkJson(const LinkTier& t) {
  return {{"name", t.name},
          {"bandwidth_gbs", t.bandwidth_gbs},
          {"achievable_fraction", t.achievable_fraction},
          {"latency_us", t.latency_us}};
}

json FabricJson(const Fabric& f) {
  return {{"scale_up", LinkJson(f.scale_up)},
          {"scale_out", LinkJson(f.scale_out)},
          {"gpus_per_node", f.gpus_per_node}};
}

static json TrainCoreJson(const ModelSpec& m, const hw::GpuModel& gpu, const TrainOptions& o,
                          const TrainEstimate& e);

// The kernel-efficiency figures a training estimate used, each with where it came from.
json KernelsJson(const TrainOptions& o, const TrainEstimate& e) {
  auto fig = [](const hw::Sourced& s, const std::optional<double>& over) {
    if (over) return json{{"value", *over}, {"source", "command line"}};
    return json{{"value", s.value}, {"source", s.source}};
  };
  return {{"architecture", o.kernels.architecture},
          {"gemm_16bit", fig(o.kernels.gemm_16bit, o.compute_efficiency)},
          {"gemm_fp8", fig(o.kernels.gemm_fp8, o.fp8_compute_efficiency)},
          {"flash", fig(o.kernels.flash, o.flash_efficiency)},
          {"flash_te", fig(o.kernels.flash_te, o.flash_efficiency)},
          {"gemm_fp8_tensorwise", fig(o.kernels.gemm_fp8_tensorwise, o.fp8_compute_efficiency)},
          {"flash_fa2", fig(o.kernels.flash_fa2, o.flash_efficiency)},
          {"nccl_sm_share", fig(o.kernels.nccl_sm_share, std::nullopt)},
          {"gemm_efficiency_used", e.gemm_efficiency},
          {"elementwise_bytes_per_token_layer", e.elementwise_bytes_per_token_layer},
          {"fp8_cast_bytes_per_token_layer", e.fp8_cast_bytes_per_token_layer},
          {"flash_efficiency_used", e.flash_efficiency},
          {"tp_overlap", e.tp_overlap},
          {"ep_overlap", e.ep_overlap}};
}

json TrainJson(const ModelSpec& m, const hw::GpuModel& gpu, const TrainOptions& o,
               const TrainEstimate& e) {
  json j = TrainCoreJson(m, gpu, o, e);
  // Framework, FP8 recipe and each figure's basis (issue 12).
  j["framework"] = FrameworkName(e.framework);
  j["fp8_recipe"] = Fp8RecipeName(o.fp8_recipe);
  j["step_parts_seconds"]["dp_interference"] = e.dp_interference_seconds;
  const TrainBasis basis = TrainingBasis(m, gpu, o, e);
  j["modelled"] = basis.modelled;
  j["assumptions"] = basis.assumptions;
  return j;
}

static json TrainCoreJson(const ModelSpec& m, const hw::GpuModel& gpu, const TrainOptions& o,
                          const TrainEstimate& e) {
  return {{"model", ModelJson(m)},
          {"kernels", KernelsJson(o, e)},
          {"finetune", FinetuneName(o.finetune)},
          {"offload", OffloadName(o.offload)},
          {"offload_pcie_bytes_per_step", e.offload_pcie_bytes_per_step},
          {"lora_rank", o.finetune == Finetune::kFull ? 0 : o.lora_rank},
          {"trainable_params", e.trainable_params},
          {"gpu", gpu.name},
          {"precision", PrecisionLabel(o.precision)},
          {"gpus", o.gpus},
          {"layout", LayoutJson(e.layout)},
          {"seq", o.seq},
          {"target_seq", m.IsEncoderDecoder() ? TargetSeq(o) : 0},
          {"global_batch", e.global_batch},
          {"microbatches", e.microbatches},
          {"pipeline_runs", o.pipeline_runs},
          {"master_weights", o.master_weights},
          {"bytes_per_param", e.bytes_per_param},
          {"heaviest_stage", e.heaviest_stage},
          {"params_per_gpu", e.params_per_gpu},
          {"memory_gib_per_gpu",
           {{"weights", e.memory.weights_gib},
            {"gradients", e.memory.gradients_gib},
            {"optimizer", e.memory.optimizer_gib},
            {"activations", e.memory.activations_gib},
            {"buffers", e.memory.buffers_gib},
            {"allocator_reserve", e.memory.allocator_reserve_gib},
            {"total", e.memory.total_gib}}},
          {"memory_budget_gib", e.memory_budget_gib},
          {"fits", e.fits},
          {"model_flops_per_token", e.model_flops_per_token},
          {"model_flops_per_step", e.model_flops_per_step},
          {"hardware_flops_per_step", e.hardware_flops_per_step},
          {"step_seconds", e.step_seconds},
          {"step_parts_seconds",
           {{"compute", e.compute_seconds},
            {"bubble", e.bubble_seconds},
            {"tp_comm", e.tp_comm_seconds},
            {"cp_comm", e.cp_comm_seconds},
            {"ep_comm", e.ep_comm_seconds},
            {"pp_comm", e.pp_comm_seconds},
            {"dp_comm_exposed", e.dp_exposed_seconds},
            {"optimizer", e.optimizer_seconds},
            {"offload", e.offload_seconds}}},
          {"dp_comm_seconds", e.dp_comm_seconds},
          {"comm_share", e.comm_share},
          {"inter_node_comm_seconds", e.inter_node_comm_seconds},
          {"mfu", e.mfu},
          {"mfu_bf16", e.mfu_bf16},
          {"hfu", e.hfu},
          {"tokens_per_second_per_gpu", e.tokens_per_second_per_gpu},
          {"tokens", e.tokens},
          {"gpu_hours", e.gpu_hours},
          {"days", e.days},
          {"fabric", FabricJson(o.fabric)},
          {"notes", e.notes}};
}

json JobRequestJson(int num_gpu, const std::string& gpu_model, double gib_per_gpu) {
  return {{"num_gpu", num_gpu},
          {"gpu_milli", 1000},
          {"gpu_models", json::array({gpu_model})},
          {"gpu_memory_mib", static_cast<int64_t>(std::ceil(gib_per_gpu * 1024.0))}};
}

}  // namespace gpupool::planner

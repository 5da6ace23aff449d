#include "planner/kernel_efficiency.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "hw/yaml_reader.h"

namespace gpupool::planner {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A figure that must be a share of the peak: (0, 1].
Result<hw::Sourced> Share(const hw::YamlReader& r, std::string_view key) {
  GP_ASSIGN_OR_RETURN(hw::Sourced f, r.Figure(key));
  if (!(f.value > 0 && f.value <= 1)) return Error(r.Bad(key, "must be in (0, 1]"));
  return f;
}

}  // namespace

Result<KernelEfficiencyTable> LoadKernelEfficiency(const std::string& path) {
  GP_ASSIGN_OR_RETURN(const YAML::Node root, hw::LoadYamlFile(path));
  if (!root.IsSequence()) {
    return Error(
        Status::InvalidArgument(path + ": expected a list of rows ('- architecture: ...')"));
  }
  KernelEfficiencyTable t;
  t.file = path;
  bool has_default = false;
  for (const auto& node : root) {
    if (!node.IsMap()) {
      return Error(Status::InvalidArgument(path + ":" + std::to_string(hw::LineOf(node)) +
                                           ": expected a row (a mapping)"));
    }
    hw::YamlReader r(path, node, "");
    GP_RETURN_IF_ERROR(r.OnlyKeys({"architecture", "source", "sources", "verified", "gemm_16bit",
                                   "gemm_fp8", "gemm_fp8_tensorwise", "flash_fa2", "flash",
                                   "flash_te", "fp8_tp_overlap", "nccl_sm_share"}));
    GP_RETURN_IF_ERROR(r.LoadDefaults());
    KernelEfficiency k;
    GP_ASSIGN_OR_RETURN(k.architecture, r.String("architecture"));
    hw::YamlReader named(path, node, k.architecture);
    GP_RETURN_IF_ERROR(named.LoadDefaults());
    GP_ASSIGN_OR_RETURN(k.gemm_16bit, Share(named, "gemm_16bit"));
    GP_ASSIGN_OR_RETURN(k.gemm_fp8, Share(named, "gemm_fp8"));
    GP_ASSIGN_OR_RETURN(k.gemm_fp8_tensorwise, Share(named, "gemm_fp8_tensorwise"));
    GP_ASSIGN_OR_RETURN(k.flash, Share(named, "flash"));
    GP_ASSIGN_OR_RETURN(k.flash_fa2, Share(named, "flash_fa2"));
    GP_ASSIGN_OR_RETURN(k.flash_te, Share(named, "flash_te"));
    GP_ASSIGN_OR_RETURN(k.nccl_sm_share, named.Figure("nccl_sm_share"));
    if (k.nccl_sm_share.value < 0 || k.nccl_sm_share.value >= 1) {
      return Error(named.Bad("nccl_sm_share", "must be in [0, 1)"));
    }
    GP_ASSIGN_OR_RETURN(k.fp8_tp_overlap, named.Figure("fp8_tp_overlap"));
    if (k.fp8_tp_overlap.value < 0 || k.fp8_tp_overlap.value > 1) {
      return Error(named.Bad("fp8_tp_overlap", "must be in [0, 1]"));
    }
    for (const auto& seen : t.rows) {
      if (Lower(seen.architecture) == Lower(k.architecture)) {
        return Error(named.Bad("architecture", "appears twice"));
      }
    }
    has_default = has_default || Lower(k.architecture) == "default";
    t.rows.push_back(std::move(k));
  }
  if (!has_default) {
    return Error(Status::InvalidArgument(path + ": no 'default' row (used for architectures "
                                                "the table does not list)"));
  }
  return t;
}

const KernelEfficiency& KernelEfficiencyFor(const KernelEfficiencyTable& table,
                                            const hw::GpuModel& gpu) {
  const KernelEfficiency* fallback = nullptr;
  for (const auto& row : table.rows) {
    if (Lower(row.architecture) == Lower(gpu.architecture)) return row;
    if (Lower(row.architecture) == "default") fallback = &row;
  }
  return *fallback;  // LoadKernelEfficiency guarantees a default row
}

}  // namespace gpupool::planner

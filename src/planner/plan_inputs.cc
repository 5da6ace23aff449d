#include "planner/plan_inputs.h"

#include "cluster/job_request.h"
#include "common/data_dir.h"
#include "planner/gpu_rates.h"
#include "planner/plan_json.h"

namespace gpupool::planner {

Result<ResolvedPlan> ResolvePlan(const PlanInputs& in, const std::filesystem::path& models_dir,
                                 std::string* member) {
  auto model = LoadModel(in.model, models_dir);
  if (!model) {
    if (member != nullptr) *member = "model";
    return Error(model.error());
  }
  return ResolvePlan(std::move(*model), in, member);
}

Result<ResolvedPlan> ResolvePlan(ModelSpec model, const PlanInputs& in, std::string* member) {
  const auto fail = [member](const char* which, const Status& s) {
    if (member != nullptr) *member = which;
    return Error(s);
  };
  ResolvedPlan r;
  r.model = std::move(model);
  if (Status s = ApplyOverrides(in.shape, r.model); !s.ok()) return fail("shape", s);
  auto cat = hw::Catalog::Default();
  if (!cat) return fail("gpu", cat.error());
  r.catalog = *cat;
  auto gpu = r.catalog->FindGpu(in.gpu);
  if (!gpu) return fail("gpu", gpu.error());
  r.gpu = *gpu;
  auto fab = CatalogFabric(*r.catalog, *r.gpu, in.network, in.gpus_per_node);
  if (!fab) return fail("network", fab.error());
  r.fabric = *fab;
  auto table = LoadKernelEfficiency((DataDir() / kKernelEfficiencyFile).string());
  if (!table) return fail("gpu", table.error());
  r.kernels = KernelEfficiencyFor(*table, *r.gpu);
  if (in.precision == "auto") {
    r.precision = hw::Precision::kBf16;
    r.checkpoint_weights = r.model.quant.method != QuantMethod::kNone;
    // The matmuls run at the activations' precision: FP8 / INT8 for W8A8 checkpoints, 16-bit for
    // weight-only formats.
    switch (r.model.quant.activations) {
      case QuantActivations::kFp8:
        r.infer_precision = hw::Precision::kFp8;
        break;
      case QuantActivations::kInt8:
        r.infer_precision = hw::Precision::kInt8;
        break;
      case QuantActivations::kSixteenBit:
        r.infer_precision = hw::Precision::kBf16;
        break;
    }
    return r;
  }
  auto p = ParsePrecisionLabel(in.precision);
  if (!p) return fail("precision", p.error());
  r.precision = r.infer_precision = *p;
  return r;
}

Result<nlohmann::json> PlanJobRequest(int gpus, int tp, const ResolvedPlan& r, double gib_per_gpu) {
  auto shape = cluster::SplitIntoGang(gpus, r.fabric.gpus_per_node, tp);
  if (!shape) {
    return Error(Status::InvalidArgument("no job request for " + std::to_string(gpus) + " x " +
                                         r.gpu->name + ": " + shape.error().message()));
  }
  nlohmann::json j = JobRequestJson(shape->gpus_per_replica, r.gpu->name, gib_per_gpu);
  if (shape->replicas > 1) j["replicas"] = shape->replicas;
  return j;
}

}  // namespace gpupool::planner

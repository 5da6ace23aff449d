#include "placement/policy_registry.h"

#include "placement/bestfit_policy.h"
#include "placement/clustering_policy.h"
#include "placement/dotprod_policy.h"
#include "placement/fgd_policy.h"
#include "placement/fgd_window_policy.h"
#include "placement/packing_policy.h"
#include "placement/random_policy.h"

namespace gpupool::placement {

const std::vector<std::string>& PolicyNames() {
  static const std::vector<std::string> kNames = {"random",  "dotprod", "clustering", "packing",
                                                  "bestfit", "fgd",     "fgd-window"};
  return kNames;
}

Result<std::unique_ptr<Policy>> MakePolicy(std::string_view name, const PolicyContext& ctx) {
  if (name == "random") return std::make_unique<RandomPolicy>();
  if (name == "dotprod") return std::make_unique<DotProdPolicy>(ctx.paper_normalisers);
  if (name == "clustering") return std::make_unique<ClusteringPolicy>(ctx.paper_normalisers);
  if (name == "packing") return std::make_unique<PackingPolicy>();
  if (name == "bestfit") return std::make_unique<BestFitPolicy>(ctx.paper_normalisers);
  if (name == "fgd") return std::make_unique<FgdPolicy>(ctx.workload);
  if (name == "fgd-window") {
    FgdWindowOptions opt;
    opt.pack_near_ties = ctx.jobs_end;
    return std::make_unique<FgdWindowPolicy>(ctx.workload, opt);
  }
  std::string known;
  for (const auto& n : PolicyNames()) known += (known.empty() ? "" : ", ") + n;
  return Error(
      Status::NotFound("unknown policy '" + std::string(name) + "'; known policies: " + known));
}

}  // namespace gpupool::placement

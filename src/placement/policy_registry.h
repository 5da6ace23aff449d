// The policy registry: policies are looked up by name ("fgd", "packing", ...). An unknown name is
// a configuration error that lists the known ones.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "placement/policy.h"
#include "placement/workload.h"

namespace gpupool::placement {

// What a policy may be built from: the target workload (FGD and the project's own policies), and
// whether dotprod, bestfit and clustering normalise by the paper's fixed node (128,000 milli-CPU,
// 8,000 milli-GPU; the fill experiment sets it so its figures stay the published ones) instead of
// each node's own capacity (the default, right for a pool of mixed machines).
struct PolicyContext {
  Workload workload;
  bool paper_normalisers = false;
  // The placements end again (a scheduler whose jobs finish), unlike the fill experiment's pods:
  // fgd-window then gives FGD's ties and near ties to best fit (FgdWindowOptions::pack_near_ties).
  bool jobs_end = false;
};

// Names of every registered policy, in presentation order.
const std::vector<std::string>& PolicyNames();

// Builds the policy `name`; NotFound lists the known names.
Result<std::unique_ptr<Policy>> MakePolicy(std::string_view name, const PolicyContext& ctx);

}  // namespace gpupool::placement

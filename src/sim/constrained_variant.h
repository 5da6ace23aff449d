// Constrained variants of a pod list: the same pods, with a share of the GPU pods tied to GPU
// models (a gpu_spec), the way Weng et al. (USENIX ATC '23, Sec. 6) built their gpu_spec variants
// of the openb trace. The project tunes its policy on these and keeps the paper's own lists apart
// for checking (issue 9; docs/adr/0001-own-policy.md).
//
// Rule, for a share s and a draw d (the draw seeds the generator; the arrival order of a fill run
// has its own seed):
//  - exactly round(s x G) of the G GPU pods are chosen, uniformly without replacement;
//  - each chosen pod gets one model, drawn with probability proportional to the GPUs of that model
//    on the nodes that could hold the pod alone (enough GPUs, CPU and memory): the cluster's model
//    mix, so no pod is made impossible (or, with uniform_models, each such model equally likely);
//  - with probability `second_model_share` it also allows a second, different model drawn the same
//    way (the openb lists have specs such as "V100M16|V100M32").
// CPU-only pods and every other field are unchanged; the target workload is rebuilt, since the
// spec is part of a task class.
//
// Errors: InvalidArgument when s or second_model_share is outside [0, 1].
#pragma once

#include <cstdint>

#include "common/status.h"
#include "sim/fill_experiment.h"

namespace gpupool::sim {

struct ConstrainOptions {
  double share = 0.25;               // of the GPU pods
  std::uint64_t draw = 1;            // seeds the choice of pods and models
  double second_model_share = 0.25;  // of the constrained pods, allowing two models
  // false: a model's chance is its share of the GPUs (the cluster's model mix); true: every model
  // that could hold the pod is equally likely, which overloads the rare models (a harsher test).
  bool uniform_models = false;
};

// The variant of `in`; its trace_name is "<name>-spec<percent>-d<draw>" ("default-spec25-d3").
Result<FillInput> ConstrainVariant(const FillInput& in, const ConstrainOptions& opt);

}  // namespace gpupool::sim

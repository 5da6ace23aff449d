// Fragmentation of a node against a target workload, in milli-GPU. Source: Weng et al., ATC '23,
// Sec. 4.1, with the case rules of ../shared/specs/openb-fill.md. With L_g the milli left on GPU g
// and L their sum, the fragment of node n for task class m is
//   f = L                               m needs no GPU, or n's model is not allowed for m
//   f = sum of L_g over L_g < gpu_milli  m fits n (>= num_gpu GPUs with L_g >= gpu_milli and
//                                        cpu left >= m's cpu)
//   f = L                               otherwise
// and the node's expected fragment is F_n = sum over m of p_m f_n(m).
//
// The computation takes the node's CPU left and GPU lefts as plain arrays so FGD can evaluate a
// hypothetical "after" state without building a NodeState. No allocation.
#pragma once

#include <cstdint>

#include "cluster/cluster_state.h"
#include "placement/workload.h"

namespace gpupool::placement {

// F_n in milli-GPU for a node with `num_gpus` GPUs whose milli left are `gpu_left`, `cpu_left`
// milli-CPU left, and GPU model `model`.
double NodeFragment(const Workload& w, std::int64_t cpu_left, const std::int32_t* gpu_left,
                    int num_gpus, cluster::ModelId model);

inline double NodeFragment(const Workload& w, const cluster::NodeState& n) {
  return NodeFragment(w, n.cpu_left, n.gpu_left.data(), n.num_gpus, n.model);
}

}  // namespace gpupool::placement

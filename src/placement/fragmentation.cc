#include "placement/fragmentation.h"

namespace gpupool::placement {

double NodeFragment(const Workload& w, std::int64_t cpu_left, const std::int32_t* gpu_left,
                    int num_gpus, cluster::ModelId model) {
  // The GPUs' milli left in descending order with prefix sums: for a class of g milli, the GPUs
  // that fit it are a prefix of `left`, and the milli below g is the total minus that prefix's
  // sum. (Integers: the same fragments as summing the GPUs below g one by one.)
  std::int32_t left[cluster::kMaxGpusPerNode];
  std::int64_t prefix[cluster::kMaxGpusPerNode + 1];
  prefix[0] = 0;
  for (int g = 0; g < num_gpus; ++g) {
    int i = g;
    for (; i > 0 && left[i - 1] < gpu_left[g]; --i) left[i] = left[i - 1];
    left[i] = gpu_left[g];
  }
  for (int g = 0; g < num_gpus; ++g) prefix[g + 1] = prefix[g] + left[g];
  const std::int64_t total = prefix[num_gpus];
  if (total == 0) return 0.0;
  double f = 0;
  for (const TaskClass& m : w.classes) {
    std::int64_t frag = total;
    // The class fits when its num_gpu-th largest GPU has its milli (and CPU and model allow).
    if (m.num_gpu > 0 && m.num_gpu <= num_gpus && left[m.num_gpu - 1] >= m.gpu_milli &&
        cpu_left >= m.cpu_milli && cluster::ModelAllowed(m.allowed_models, model)) {
      int fitting = m.num_gpu;
      while (fitting < num_gpus && left[fitting] >= m.gpu_milli) ++fitting;
      frag = total - prefix[fitting];
    }
    f += m.weight * static_cast<double>(frag);
  }
  return f;
}

}  // namespace gpupool::placement

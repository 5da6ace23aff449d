#include "placement/fragmentation.h"

namespace gpupool::placement {

double NodeFragment(const Workload& w, std::int64_t cpu_left, const std::int32_t* gpu_left,
                    int num_gpus, cluster::ModelId model) {
  std::int64_t total = 0;
  for (int g = 0; g < num_gpus; ++g) total += gpu_left[g];
  if (total == 0) return 0.0;
  double f = 0;
  for (const TaskClass& m : w.classes) {
    std::int64_t frag = total;
    if (m.num_gpu > 0 && cpu_left >= m.cpu_milli &&
        cluster::ModelAllowed(m.allowed_models, model)) {
      int fitting = 0;
      std::int64_t below = 0;
      for (int g = 0; g < num_gpus; ++g) {
        if (gpu_left[g] >= m.gpu_milli) {
          ++fitting;
        } else {
          below += gpu_left[g];
        }
      }
      if (fitting >= m.num_gpu) frag = below;
    }
    f += m.weight * static_cast<double>(frag);
  }
  return f;
}

}  // namespace gpupool::placement

#include "cluster/pod_request.h"

#include <cstdint>
#include <string>

namespace gpupool::cluster {

Status ValidatePodRequest(const PodRequest& r) {
  if (r.cpu_milli < 0)
    return Status::InvalidArgument("cpu_milli: negative amount " + std::to_string(r.cpu_milli));
  if (r.memory_mib < 0)
    return Status::InvalidArgument("memory_mib: negative amount " + std::to_string(r.memory_mib));
  if (r.num_gpu < 0)
    return Status::InvalidArgument("num_gpu: negative amount " + std::to_string(r.num_gpu));
  if (r.gpu_milli < 0)
    return Status::InvalidArgument("gpu_milli: negative amount " + std::to_string(r.gpu_milli));
  if (r.gpu_memory_mib < 0) {
    return Status::InvalidArgument("gpu_memory_mib: negative amount " +
                                   std::to_string(r.gpu_memory_mib));
  }
  if (r.gpu_memory_mib > INT32_MAX) {
    return Status::InvalidArgument("gpu_memory_mib: " + std::to_string(r.gpu_memory_mib) +
                                   " is too large");
  }
  if (r.num_gpu == 0 && r.gpu_memory_mib != 0) {
    return Status::InvalidArgument("gpu_memory_mib: " + std::to_string(r.gpu_memory_mib) +
                                   " with num_gpu 0");
  }
  if (r.gpu_milli > 1000) {
    return Status::InvalidArgument("gpu_milli: " + std::to_string(r.gpu_milli) +
                                   " is over 1000 (one whole GPU)");
  }
  if (r.num_gpu > kMaxGpusPerNode) {
    return Status::InvalidArgument("num_gpu: " + std::to_string(r.num_gpu) + " is more than " +
                                   std::to_string(kMaxGpusPerNode) + " GPUs on one node");
  }
  if (r.num_gpu == 0 && r.gpu_milli != 0) {
    return Status::InvalidArgument("gpu_milli: " + std::to_string(r.gpu_milli) + " with num_gpu 0");
  }
  if (r.num_gpu > 0 && r.gpu_milli == 0) {
    return Status::InvalidArgument("gpu_milli: 0 with num_gpu " + std::to_string(r.num_gpu));
  }
  if (r.num_gpu > 1 && r.gpu_milli != 1000) {
    return Status::InvalidArgument(
        "gpu_milli: a " + std::to_string(r.num_gpu) +
        "-GPU pod must take whole GPUs (1000), not a fractional share of " +
        std::to_string(r.gpu_milli));
  }
  return Status::Ok();
}

}  // namespace gpupool::cluster

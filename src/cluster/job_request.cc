#include "cluster/job_request.h"

#include <algorithm>
#include <string>

namespace gpupool::cluster {
namespace {

Result<std::int64_t> Integer(const nlohmann::json& j, const char* member, std::int64_t fallback) {
  if (!j.contains(member)) return fallback;
  const auto& v = j.at(member);
  if (!v.is_number_integer()) {
    return Error(
        Status::InvalidArgument(std::string(member) + ": expected an integer, got " + v.dump()));
  }
  return v.get<std::int64_t>();
}

}  // namespace

Result<GangRequest> ParseJobRequest(const nlohmann::json& j, const ModelTable& models) {
  if (!j.is_object())
    return Error(Status::InvalidArgument("request: expected a JSON object, got " + j.dump()));
  static constexpr const char* kKnown[] = {"num_gpu",        "gpu_milli", "gpu_models",
                                           "gpu_memory_mib", "cpu_milli", "memory_mib",
                                           "replicas"};
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* k : kKnown) known |= (key == k);
    if (!known) {
      return Error(
          Status::InvalidArgument(key + ": unknown member (known: num_gpu, gpu_milli, gpu_models, "
                                        "gpu_memory_mib, cpu_milli, memory_mib, replicas)"));
    }
  }
  if (!j.contains("num_gpu")) return Error(Status::InvalidArgument("num_gpu: missing"));
  PodRequest r;
  auto num = Integer(j, "num_gpu", 0);
  if (!num) return Error(num.error());
  if (*num < 0 || *num > kMaxGpusPerNode) {
    return Error(Status::InvalidArgument("num_gpu: " + std::to_string(*num) +
                                         " is not between 0 and " +
                                         std::to_string(kMaxGpusPerNode)));
  }
  r.num_gpu = static_cast<std::int32_t>(*num);
  auto milli = Integer(j, "gpu_milli", r.num_gpu > 0 ? 1000 : 0);
  if (!milli) return Error(milli.error());
  if (*milli < 0 || *milli > 1000) {
    return Error(Status::InvalidArgument("gpu_milli: " + std::to_string(*milli) +
                                         " is not between 0 and 1000"));
  }
  r.gpu_milli = static_cast<std::int32_t>(*milli);
  auto gpu_mem = Integer(j, "gpu_memory_mib", 0);
  if (!gpu_mem) return Error(gpu_mem.error());
  r.gpu_memory_mib = *gpu_mem;
  auto cpu = Integer(j, "cpu_milli", 0);
  if (!cpu) return Error(cpu.error());
  r.cpu_milli = *cpu;
  auto mem = Integer(j, "memory_mib", 0);
  if (!mem) return Error(mem.error());
  r.memory_mib = *mem;
  if (j.contains("gpu_models")) {
    const auto& list = j.at("gpu_models");
    if (!list.is_array()) {
      return Error(Status::InvalidArgument("gpu_models: expected an array of model names, got " +
                                           list.dump()));
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = "gpu_models[" + std::to_string(i) + "]";
      if (!list[i].is_string())
        return Error(Status::InvalidArgument(where + ": expected a string, got " + list[i].dump()));
      const auto id = models.Find(list[i].get<std::string>());
      if (!id) {
        return Error(Status::InvalidArgument(where + ": unknown GPU model '" +
                                             list[i].get<std::string>() +
                                             "' (the cluster has: " + models.Known() + ")"));
      }
      r.allowed_models |= ModelMask{1} << *id;
    }
  }
  auto replicas = Integer(j, "replicas", 1);
  if (!replicas) return Error(replicas.error());
  if (*replicas < 1 || *replicas > kMaxReplicas) {
    return Error(Status::InvalidArgument("replicas: " + std::to_string(*replicas) +
                                         " is not between 1 and " + std::to_string(kMaxReplicas)));
  }
  if (Status s = ValidatePodRequest(r); !s.ok()) return Error(s);
  return GangRequest{r, static_cast<int>(*replicas)};
}

Result<GangShape> SplitIntoGang(int gpus, int gpus_per_node, int keep_together) {
  if (gpus < 1) {
    return Error(Status::InvalidArgument("gpus: " + std::to_string(gpus) + " is not positive"));
  }
  if (gpus_per_node < 1 || gpus_per_node > kMaxGpusPerNode) {
    return Error(Status::InvalidArgument(
        "gpus per node: " + std::to_string(gpus_per_node) + " is not between 1 and " +
        std::to_string(kMaxGpusPerNode) + " (the most GPUs a scheduler node holds)"));
  }
  if (keep_together < 1) {
    return Error(Status::InvalidArgument("GPUs kept together: " + std::to_string(keep_together) +
                                         " is not positive"));
  }
  if (gpus <= gpus_per_node) return GangShape{1, gpus};
  const int group = std::min(keep_together, gpus_per_node);
  int per_replica = 0;
  for (int d = gpus_per_node; d >= 1 && per_replica == 0; --d) {
    if (gpus % d == 0 && d % group == 0) per_replica = d;
  }
  // A group that does not divide the job: keep as many GPUs per node as divide evenly.
  for (int d = gpus_per_node; d >= 1 && per_replica == 0; --d) {
    if (gpus % d == 0) per_replica = d;
  }
  const int replicas = gpus / per_replica;
  if (replicas > kMaxReplicas) {
    return Error(Status::InvalidArgument("replicas: " + std::to_string(gpus) + " GPUs at " +
                                         std::to_string(per_replica) + " per node make " +
                                         std::to_string(replicas) + " replicas, more than " +
                                         std::to_string(kMaxReplicas)));
  }
  return GangShape{replicas, per_replica};
}

}  // namespace gpupool::cluster

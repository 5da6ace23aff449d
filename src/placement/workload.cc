#include "placement/workload.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace gpupool::placement {

Workload Workload::FromPods(const std::vector<WorkloadPod>& pods, double coverage) {
  using Key = std::tuple<std::int64_t, std::int32_t, std::int32_t, std::string>;
  struct Entry {
    TaskClass cls;
    std::size_t first_seen;
  };
  std::map<Key, Entry> groups;
  for (std::size_t i = 0; i < pods.size(); ++i) {
    const auto& r = pods[i].request;
    Key key{r.cpu_milli, r.gpu_milli, r.num_gpu, r.num_gpu == 0 ? std::string() : pods[i].spec_key};
    auto [it, inserted] = groups.try_emplace(key, Entry{});
    if (inserted) {
      it->second.cls =
          TaskClass{r.cpu_milli, r.num_gpu,
                    r.gpu_milli, r.num_gpu == 0 ? cluster::kAnyModel : r.allowed_models,
                    0,           0};
      it->second.first_seen = i;
    }
    ++it->second.cls.count;
  }
  std::vector<Entry> sorted;
  sorted.reserve(groups.size());
  for (auto& [k, e] : groups) sorted.push_back(e);
  std::sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) {
    if (a.cls.count != b.cls.count) return a.cls.count > b.cls.count;
    return a.first_seen < b.first_seen;
  });

  Workload w;
  w.total_pods = static_cast<std::int64_t>(pods.size());
  const double needed = coverage * static_cast<double>(w.total_pods);
  for (const auto& e : sorted) {
    if (static_cast<double>(w.covered_pods) >= needed) break;
    w.classes.push_back(e.cls);
    w.covered_pods += e.cls.count;
  }
  for (auto& c : w.classes) {
    c.weight = static_cast<double>(c.count) / static_cast<double>(w.covered_pods);
  }
  return w;
}

}  // namespace gpupool::placement

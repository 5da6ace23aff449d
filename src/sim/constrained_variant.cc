#include "sim/constrained_variant.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/rng.h"

namespace gpupool::sim {

namespace {

// GPUs of each model (by id) on the nodes that could hold `r` alone.
std::vector<std::int64_t> ModelWeights(const FillInput& in, const cluster::PodRequest& r) {
  std::vector<std::int64_t> w(static_cast<std::size_t>(in.models.size()), 0);
  for (const auto& n : in.nodes) {
    if (n.gpus.empty() || static_cast<int>(n.gpus.size()) < r.num_gpu ||
        n.cpu_milli < r.cpu_milli || n.memory_mib < r.memory_mib)
      continue;
    for (const auto& g : n.gpus) {
      if (const auto id = in.models.Find(g.model)) ++w[static_cast<std::size_t>(*id)];
    }
  }
  return w;
}

// A model id drawn with probability proportional to `w`; -1 when every weight is 0.
int Draw(Rng& rng, const std::vector<std::int64_t>& w) {
  std::int64_t total = 0;
  for (const auto x : w) total += x;
  if (total <= 0) return -1;
  auto pick = static_cast<std::int64_t>(rng.Uniform(static_cast<std::uint64_t>(total)));
  for (std::size_t m = 0; m < w.size(); ++m) {
    if (pick < w[m]) return static_cast<int>(m);
    pick -= w[m];
  }
  return -1;
}

}  // namespace

Result<FillInput> ConstrainVariant(const FillInput& in, const ConstrainOptions& opt) {
  if (!(opt.share >= 0 && opt.share <= 1))
    return Error(Status::InvalidArgument("share: must be between 0 and 1"));
  if (!(opt.second_model_share >= 0 && opt.second_model_share <= 1))
    return Error(Status::InvalidArgument("second model share: must be between 0 and 1"));
  FillInput out = in;
  std::vector<std::size_t> gpu_pods;
  for (std::size_t i = 0; i < out.pods.size(); ++i) {
    if (out.pods[i].request.num_gpu > 0) gpu_pods.push_back(i);
  }
  Rng rng(opt.draw);
  rng.Shuffle(gpu_pods);
  const auto chosen =
      static_cast<std::size_t>(std::llround(opt.share * static_cast<double>(gpu_pods.size())));
  for (std::size_t k = 0; k < chosen; ++k) {
    TracePod& p = out.pods[gpu_pods[k]];
    std::vector<std::int64_t> w = ModelWeights(out, p.request);
    if (opt.uniform_models) {
      for (auto& x : w) x = x > 0 ? 1 : 0;
    }
    const int first = Draw(rng, w);
    if (first < 0) continue;  // no node holds it at all: leave it as it was
    cluster::ModelMask mask = cluster::ModelMask{1} << first;
    std::string key = out.models.Name(static_cast<cluster::ModelId>(first));
    if (rng.UniformDouble() < opt.second_model_share) {
      w[static_cast<std::size_t>(first)] = 0;
      if (const int second = Draw(rng, w); second >= 0) {
        mask |= cluster::ModelMask{1} << second;
        key += "|" + out.models.Name(static_cast<cluster::ModelId>(second));
      }
    }
    p.request.allowed_models = mask;
    p.spec_key = std::move(key);
  }
  std::vector<placement::WorkloadPod> wp;
  wp.reserve(out.pods.size());
  for (const auto& p : out.pods) wp.push_back({p.request, p.spec_key});
  out.workload = placement::Workload::FromPods(wp);
  out.trace_name = in.trace_name + "-spec" + std::to_string(std::lround(100 * opt.share)) +
                   (opt.uniform_models ? "u" : "") + "-d" + std::to_string(opt.draw);
  return out;
}

}  // namespace gpupool::sim

#include "queue/queue_set.h"

#include <algorithm>
#include <cmath>

namespace gpupool::queue {

namespace {

Status Bad(const QueueSpec& q, const std::string& member, const std::string& what) {
  return Status::InvalidArgument("queue '" + q.name + "': " + member + ": " + what);
}

std::string Num(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

Result<QueueSet> QueueSet::Create(std::vector<QueueSpec> specs) {
  QueueSet set;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const QueueSpec& q = specs[i];
    if (q.name.empty()) {
      return Error(Status::InvalidArgument("queue " + std::to_string(i + 1) + ": name: empty"));
    }
    if (!set.index_.emplace(q.name, i).second) return Error(Bad(q, "name", "listed twice"));
    if (!(q.guaranteed_gpus >= 0) || std::isinf(q.guaranteed_gpus)) {
      return Error(Bad(q, "guaranteed", Num(q.guaranteed_gpus) + " is not a GPU count >= 0"));
    }
    if (!(q.limit_gpus >= q.guaranteed_gpus)) {
      return Error(
          Bad(q, "limit", Num(q.limit_gpus) + " is below the guarantee " + Num(q.guaranteed_gpus)));
    }
    if (!(q.weight > 0) || std::isinf(q.weight)) {
      return Error(Bad(q, "weight", Num(q.weight) + " is not positive"));
    }
  }
  set.parent_.assign(specs.size(), -1);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].parent.empty()) continue;
    const auto it = set.index_.find(specs[i].parent);
    if (it == set.index_.end()) {
      return Error(Bad(specs[i], "parent", "unknown queue '" + specs[i].parent + "'"));
    }
    set.parent_[i] = static_cast<int>(it->second);
  }
  // No cycles: from every queue the root is reached in fewer steps than there are queues.
  for (std::size_t i = 0; i < specs.size(); ++i) {
    int at = static_cast<int>(i);
    for (std::size_t steps = 0; at >= 0; ++steps) {
      if (steps > specs.size()) return Error(Bad(specs[i], "parent", "the parents form a cycle"));
      at = set.parent_[static_cast<std::size_t>(at)];
    }
  }
  // Children are guaranteed no more than their parent (when the parent has a guarantee).
  std::vector<double> children(specs.size(), 0);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (set.parent_[i] >= 0) {
      children[static_cast<std::size_t>(set.parent_[i])] += specs[i].guaranteed_gpus;
    }
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].guaranteed_gpus > 0 && children[i] > specs[i].guaranteed_gpus + 1e-9) {
      return Error(Bad(specs[i], "guaranteed",
                       "its children are guaranteed " + Num(children[i]) + " GPUs, more than its " +
                           Num(specs[i].guaranteed_gpus)));
    }
  }
  set.used_.assign(specs.size(), 0);
  set.specs_ = std::move(specs);
  return set;
}

double QueueSet::Borrowed(const std::string& name) const {
  const std::size_t i = Index(name);
  return std::max(0.0, used_[i] - specs_[i].guaranteed_gpus);
}

void QueueSet::Charge(const std::string& name, double gpus) {
  for (int at = static_cast<int>(Index(name)); at >= 0;
       at = parent_[static_cast<std::size_t>(at)]) {
    double& u = used_[static_cast<std::size_t>(at)];
    u += gpus;
    if (std::fabs(u) < 1e-9) u = 0;  // milli sums in doubles: no -0.000000001 left behind
  }
}

std::string QueueSet::LimitBlocker(const std::string& name, double gpus, bool empty) const {
  for (int at = static_cast<int>(Index(name)); at >= 0;
       at = parent_[static_cast<std::size_t>(at)]) {
    const auto i = static_cast<std::size_t>(at);
    if ((empty ? 0.0 : used_[i]) + gpus > specs_[i].limit_gpus + 1e-9) return specs_[i].name;
  }
  return "";
}

bool QueueSet::WithinGuarantee(const std::string& name, double gpus) const {
  const std::size_t i = Index(name);
  return used_[i] + gpus <= specs_[i].guaranteed_gpus + 1e-9;
}

double QueueSet::ShareRatio(const std::string& name) const {
  const std::size_t i = Index(name);
  const QueueSpec& q = specs_[i];
  if (q.guaranteed_gpus > 0) return used_[i] / (q.weight * q.guaranteed_gpus);
  return 1e9 + used_[i] / q.weight;
}

}  // namespace gpupool::queue

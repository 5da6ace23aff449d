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
    double tied = 0;  // the guarantee tied to models
    for (const auto& [model, share] : q.models) {
      if (model.empty()) return Error(Bad(q, "models", "a model name is empty"));
      const std::string m = "models." + model;
      if (!(share.guaranteed_gpus >= 0) || std::isinf(share.guaranteed_gpus)) {
        return Error(
            Bad(q, m + ".guaranteed", Num(share.guaranteed_gpus) + " is not a GPU count >= 0"));
      }
      if (!(share.limit_gpus >= share.guaranteed_gpus)) {
        return Error(Bad(q, m + ".limit",
                         Num(share.limit_gpus) + " is below the model's guarantee " +
                             Num(share.guaranteed_gpus)));
      }
      tied += share.guaranteed_gpus;
      if (tied > q.guaranteed_gpus + 1e-9) {
        return Error(Bad(q, m + ".guaranteed",
                         "the per-model guarantees come to " + Num(tied) +
                             " GPUs, more than the queue's guarantee " + Num(q.guaranteed_gpus)));
      }
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
  // Per model: what the children are guaranteed of a model beyond the parent's own guarantee of
  // it comes from the parent's untied part, for all models together.
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const QueueSpec& p = specs[i];
    if (!(p.guaranteed_gpus > 0)) continue;
    ModelGpus of_children;
    for (std::size_t c = 0; c < specs.size(); ++c) {
      if (set.parent_[c] != static_cast<int>(i)) continue;
      for (const auto& [model, share] : specs[c].models) {
        of_children[model] += share.guaranteed_gpus;
      }
    }
    double untied = p.guaranteed_gpus;
    for (const auto& [model, share] : p.models) untied -= share.guaranteed_gpus;
    for (const auto& [model, gpus] : of_children) {
      const auto own = p.models.find(model);
      const double tied = own == p.models.end() ? 0.0 : own->second.guaranteed_gpus;
      if (gpus <= tied + 1e-9) continue;
      if (gpus - tied > untied + 1e-9) {
        return Error(Bad(p, "models." + model + ".guaranteed",
                         "its children are guaranteed " + Num(gpus) + " GPUs of " + model +
                             ", more than it can cover: " + Num(tied) + " of " + model + " and " +
                             Num(std::max(0.0, untied)) + " of its guarantee tied to no model"));
      }
      untied -= gpus - tied;
    }
  }
  set.used_.assign(specs.size(), 0);
  set.by_model_.assign(specs.size(), {});
  set.model_guaranteed_.assign(specs.size(), 0);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    for (const auto& [model, share] : specs[i].models) {
      if (share.guaranteed_gpus > 0) set.model_guaranteed_[i] = 1;
      if (!std::isinf(share.limit_gpus)) set.any_model_limits_ = true;
    }
    if (set.model_guaranteed_[i]) set.any_model_guarantees_ = true;
  }
  set.specs_ = std::move(specs);
  return set;
}

namespace {

double ModelGuarantee(const QueueSpec& q, const std::string& model) {
  const auto it = q.models.find(model);
  return it == q.models.end() ? 0.0 : it->second.guaranteed_gpus;
}

// Per-model guarantees: the untied part of the guarantee less what the models use above their
// own guarantees (negative: the queue borrows that much).
double UntiedSlack(const QueueSpec& q, const ModelGpus& used_by_model, double used) {
  double slack = q.guaranteed_gpus;
  for (const auto& [model, share] : q.models) slack -= share.guaranteed_gpus;
  double modelled = 0;
  for (const auto& [model, u] : used_by_model) {
    slack -= std::max(0.0, u - ModelGuarantee(q, model));
    modelled += u;
  }
  // GPUs charged without a model (none from the scheduler) are covered by the untied part only.
  return slack - std::max(0.0, used - modelled);
}

}  // namespace

double QueueSet::Used(const std::string& name, const std::string& model) const {
  const ModelGpus& m = by_model_[Index(name)];
  const auto it = m.find(model);
  return it == m.end() ? 0.0 : it->second;
}

double QueueSet::Borrowed(const std::string& name) const {
  const std::size_t i = Index(name);
  if (!model_guaranteed_[i]) return std::max(0.0, used_[i] - specs_[i].guaranteed_gpus);
  const double borrowed = -UntiedSlack(specs_[i], by_model_[i], used_[i]);
  return borrowed > 1e-9 ? borrowed : 0.0;
}

double QueueSet::Borrowed(const std::string& name, const std::string& model) const {
  const std::size_t i = Index(name);
  const double over = Used(name, model) - ModelGuarantee(specs_[i], model);
  return std::max(0.0, std::min(over, Borrowed(name)));
}

void QueueSet::Charge(const std::string& name, double gpus, const ModelGpus& by_model) {
  for (int at = static_cast<int>(Index(name)); at >= 0;
       at = parent_[static_cast<std::size_t>(at)]) {
    const auto i = static_cast<std::size_t>(at);
    double& u = used_[i];
    u += gpus;
    if (std::fabs(u) < 1e-9) u = 0;  // milli sums in doubles: no -0.000000001 left behind
    for (const auto& [model, part] : by_model) {
      auto it = by_model_[i].try_emplace(model, 0.0).first;
      it->second += part;
      if (std::fabs(it->second) < 1e-9) by_model_[i].erase(it);  // only models in use are listed
    }
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

std::string QueueSet::ModelLimitBlocker(const std::string& name, const std::string& model,
                                        double gpus, bool empty) const {
  for (int at = static_cast<int>(Index(name)); at >= 0;
       at = parent_[static_cast<std::size_t>(at)]) {
    const auto i = static_cast<std::size_t>(at);
    const auto it = specs_[i].models.find(model);
    if (it == specs_[i].models.end()) continue;
    const double used = empty ? 0.0 : Used(specs_[i].name, model);
    if (used + gpus > it->second.limit_gpus + 1e-9) return specs_[i].name;
  }
  return "";
}

bool QueueSet::WithinGuarantee(const std::string& name, double gpus) const {
  const std::size_t i = Index(name);
  return used_[i] + gpus <= specs_[i].guaranteed_gpus + 1e-9;
}

bool QueueSet::WithinGuarantee(const std::string& name, double gpus,
                               const std::string& model) const {
  if (!model_guaranteed_[Index(name)]) return WithinGuarantee(name, gpus);
  return gpus <= GuaranteeLeft(name, model) + 1e-9;
}

double QueueSet::GuaranteeLeft(const std::string& name, const std::string& model) const {
  const std::size_t i = Index(name);
  const QueueSpec& q = specs_[i];
  if (!model_guaranteed_[i]) return std::max(0.0, q.guaranteed_gpus - used_[i]);
  const double slack = UntiedSlack(q, by_model_[i], used_[i]);
  if (slack < -1e-9) return 0.0;  // it borrows already
  return std::max(0.0, ModelGuarantee(q, model) - Used(name, model)) + std::max(0.0, slack);
}

std::vector<std::string> QueueSet::ModelNames() const {
  std::vector<std::string> out;
  for (const QueueSpec& q : specs_) {
    for (const auto& [model, share] : q.models) out.push_back(model);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double QueueSet::ShareRatio(const std::string& name) const {
  const std::size_t i = Index(name);
  const QueueSpec& q = specs_[i];
  if (q.guaranteed_gpus > 0) return used_[i] / (q.weight * q.guaranteed_gpus);
  return 1e9 + used_[i] / q.weight;
}

std::vector<std::string> QueueSet::LimitedPath(const std::string& name) const {
  std::vector<std::string> out;
  for (int i = static_cast<int>(Index(name)); i >= 0; i = parent_[static_cast<std::size_t>(i)]) {
    const QueueSpec& q = specs_[static_cast<std::size_t>(i)];
    bool limited = std::isfinite(q.limit_gpus);
    for (const auto& [model, share] : q.models)
      limited = limited || std::isfinite(share.limit_gpus);
    if (limited) out.push_back(q.name);
  }
  return out;
}

}  // namespace gpupool::queue

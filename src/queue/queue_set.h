// QueueSet: the queues that share the pool - each with a guaranteed share of GPUs, an upper
// limit, a weight and an optional parent (a hierarchy) - and what each uses now.
//
// A queue's usage counts its jobs and those of its descendants. Guarantees are lent: while a
// queue uses less than its guarantee, other queues may use the rest (they borrow: usage above
// their own guarantee), and the scheduler takes it back by preemption when a job of the lender
// needs it (reclaim, scheduler.h). A limit is hard: no job starts that would take its queue, or
// any ancestor, above its limit, borrowing included.
//
// Shares are in GPUs (a fractional job counts its share).
//
// Per GPU model (QueueSpec::models; the names are the pool's GPU model names, as
// cluster::ModelTable interns them and jobs name them in `gpu_models`). Usage is also kept per
// model: a job counts against the model of the GPUs it was placed on (Charge's `by_model`).
//   - guaranteed: that much of the queue's guarantee is of that model. The per-model guarantees
//     sum to at most guaranteed_gpus; the rest of the guarantee (the "untied" part) covers any
//     model. Usage of a model is covered by the model's own guarantee first; what is above it
//     on every model together is covered by the untied part; the rest is borrowed:
//       over_M   = max(0, used_M - guaranteed_M)
//       Borrowed = max(0, sum_M over_M - (guaranteed_gpus - sum_M guaranteed_M))
//     so a queue guaranteed 4 H100 and 4 A100 that runs 8 A100 borrows 4 (its H100 guarantee
//     does not cover A100 GPUs), where without per-model guarantees it would borrow none.
//     Borrowed(q, M) = min(over_M, Borrowed(q)) is what stopping GPUs of M could take back from
//     the queue without taking it under its guarantee (the per-model figures may add up to more
//     than Borrowed(q) when the untied part covers several models; reclaim takes no more than
//     Borrowed(q, M) from M). A queue without per-model guarantees computes Borrowed and
//     WithinGuarantee exactly as before (used - guaranteed).
//   - limit: the queue (with its descendants) uses at most that many GPUs of the model; it
//     holds like the total limit, which holds as well. A per-model limit above the total limit
//     is allowed (the total caps it).
// Hierarchy: where a parent has a guarantee, its children's per-model guarantees must be
// coverable by it: for every model, what the children are guaranteed of it beyond the parent's
// own guarantee of that model is taken from the parent's untied part, which must suffice for
// all models together (models in name order; the first that overruns is named).
//
// Errors: Create refuses a whole configuration with InvalidArgument naming the queue and the
// member at fault (empty or repeated name, unknown parent, a cycle, negative guarantee, a limit
// below the guarantee, a weight that is not positive, children guaranteed more than their
// parent; per model, as "models.H100.guaranteed": an empty model name, a negative guarantee,
// a limit below the model's guarantee, per-model guarantees summing to more than the
// guarantee, children guaranteed more of a model than the parent can cover); nothing is half
// applied. Whether the pool has GPUs of a model named here is the scheduler's check (it knows
// the pool).
//
// Thread safety: none; one owner (the scheduler).
#pragma once

#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace gpupool::queue {

// A queue's share of one GPU model (see the header comment).
struct ModelShare {
  double guaranteed_gpus = 0;  // of the queue's guaranteed_gpus, this much is of the model
  double limit_gpus = std::numeric_limits<double>::infinity();  // GPUs of the model at most
  friend bool operator==(const ModelShare&, const ModelShare&) = default;
};

// GPUs per model name.
using ModelGpus = std::map<std::string, double>;

struct QueueSpec {
  std::string name;
  std::string parent;  // "" = a top-level queue
  double guaranteed_gpus = 0;
  double limit_gpus = std::numeric_limits<double>::infinity();
  double weight = 1;
  std::map<std::string, ModelShare> models = {};  // by GPU model name; empty: any model alike
};

class QueueSet {
 public:
  static Result<QueueSet> Create(std::vector<QueueSpec> specs);

  bool Has(const std::string& name) const { return index_.contains(name); }
  const QueueSpec& spec(const std::string& name) const { return specs_[Index(name)]; }
  const std::vector<QueueSpec>& specs() const { return specs_; }

  // GPUs the queue's jobs and its descendants' use now.
  double Used(const std::string& name) const { return used_[Index(name)]; }
  // Of those, the GPUs of `model`.
  double Used(const std::string& name, const std::string& model) const;
  // The models the queue uses now (with its descendants), by name.
  const ModelGpus& UsedByModel(const std::string& name) const { return by_model_[Index(name)]; }
  // Usage above the guarantee (0 when within it; per model, see the header comment).
  double Borrowed(const std::string& name) const;
  // What of the borrowed GPUs are of `model`: min(over_M, Borrowed(name)).
  double Borrowed(const std::string& name, const std::string& model) const;
  // Adds `gpus` (negative: frees) to the queue and every ancestor, and each of `by_model`'s
  // parts to its model (they should sum to `gpus`; negative to free, as charged).
  void Charge(const std::string& name, double gpus, const ModelGpus& by_model = {});
  // The same for GPUs all of one model.
  void Charge(const std::string& name, double gpus, const std::string& model) {
    Charge(name, gpus, ModelGpus{{model, gpus}});
  }
  // The first queue on the path from `name` to the root whose limit `gpus` more would exceed
  // (counting nothing in use when `empty`); "" when none would.
  std::string LimitBlocker(const std::string& name, double gpus, bool empty = false) const;
  // The same for the per-model limits of `model` (the total limit is LimitBlocker's).
  std::string ModelLimitBlocker(const std::string& name, const std::string& model, double gpus,
                                bool empty = false) const;
  // Whether `gpus` more keeps the queue within its guarantee (the total only: a queue with
  // per-model guarantees asks the per-model form).
  bool WithinGuarantee(const std::string& name, double gpus) const;
  // Whether `gpus` more of `model` keep it within its guarantee: gpus <= GuaranteeLeft.
  bool WithinGuarantee(const std::string& name, double gpus, const std::string& model) const;
  // GPUs of `model` the queue may still add within its guarantee (0 while it borrows).
  double GuaranteeLeft(const std::string& name, const std::string& model) const;
  // Whether the queue's guarantee is tied to models (some models.X.guaranteed > 0).
  bool HasModelGuarantees(const std::string& name) const { return model_guaranteed_[Index(name)]; }
  // The queues on the path from `name` to the root that have a limit (in total or for some GPU
  // model), nearest first.
  std::vector<std::string> LimitedPath(const std::string& name) const;
  // Whether any queue has a per-model guarantee, or a per-model limit.
  bool any_model_guarantees() const { return any_model_guarantees_; }
  bool any_model_limits() const { return any_model_limits_; }
  // Every model name the specs name, by name.
  std::vector<std::string> ModelNames() const;
  // Usage relative to the weighted guarantee, the ordering key of fair share across queues
  // (lower first): used / (weight x guarantee), or used / weight without a guarantee
  // (then above every queue that has one).
  double ShareRatio(const std::string& name) const;

 private:
  std::size_t Index(const std::string& name) const { return index_.at(name); }

  std::vector<QueueSpec> specs_;
  std::vector<int> parent_;  // index, -1 for a top-level queue
  std::vector<double> used_;
  std::vector<ModelGpus> by_model_;     // usage per model
  std::vector<char> model_guaranteed_;  // HasModelGuarantees
  bool any_model_guarantees_ = false;
  bool any_model_limits_ = false;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace gpupool::queue

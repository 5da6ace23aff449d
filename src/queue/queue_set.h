// QueueSet: the queues that share the pool - each with a guaranteed share of GPUs, an upper
// limit, a weight and an optional parent (a hierarchy) - and what each uses now.
//
// A queue's usage counts its jobs and those of its descendants. Guarantees are lent: while a
// queue uses less than its guarantee, other queues may use the rest (they borrow: usage above
// their own guarantee), and the scheduler takes it back by preemption when a job of the lender
// needs it (reclaim, scheduler.h). A limit is hard: no job starts that would take its queue, or
// any ancestor, above its limit, borrowing included.
//
// Shares are in GPUs (a fractional job counts its share); per GPU model guarantees are not
// modelled yet.
//
// Errors: Create refuses a whole configuration with InvalidArgument naming the queue and the
// member at fault (empty or repeated name, unknown parent, a cycle, negative guarantee, a limit
// below the guarantee, a weight that is not positive, children guaranteed more than their
// parent); nothing is half applied.
//
// Thread safety: none; one owner (the scheduler).
#pragma once

#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace gpupool::queue {

struct QueueSpec {
  std::string name;
  std::string parent;  // "" = a top-level queue
  double guaranteed_gpus = 0;
  double limit_gpus = std::numeric_limits<double>::infinity();
  double weight = 1;
};

class QueueSet {
 public:
  static Result<QueueSet> Create(std::vector<QueueSpec> specs);

  bool Has(const std::string& name) const { return index_.contains(name); }
  const QueueSpec& spec(const std::string& name) const { return specs_[Index(name)]; }
  const std::vector<QueueSpec>& specs() const { return specs_; }

  // GPUs the queue's jobs and its descendants' use now.
  double Used(const std::string& name) const { return used_[Index(name)]; }
  // Usage above the guarantee (0 when within it).
  double Borrowed(const std::string& name) const;
  // Adds `gpus` (negative: frees) to the queue and every ancestor.
  void Charge(const std::string& name, double gpus);
  // The first queue on the path from `name` to the root whose limit `gpus` more would exceed
  // (counting nothing in use when `empty`); "" when none would.
  std::string LimitBlocker(const std::string& name, double gpus, bool empty = false) const;
  // Whether `gpus` more keeps the queue within its guarantee.
  bool WithinGuarantee(const std::string& name, double gpus) const;
  // Usage relative to the weighted guarantee, the ordering key of fair share across queues
  // (lower first): used / (weight x guarantee), or used / weight without a guarantee
  // (then above every queue that has one).
  double ShareRatio(const std::string& name) const;

 private:
  std::size_t Index(const std::string& name) const { return index_.at(name); }

  std::vector<QueueSpec> specs_;
  std::vector<int> parent_;  // index, -1 for a top-level queue
  std::vector<double> used_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace gpupool::queue

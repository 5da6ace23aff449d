// JobOrder: the ordering step of the scheduling cycle - which pending job the cycle considers
// first - kept apart from placement (where it goes), as Mesos keeps its sorter apart from its
// allocator. A replaceable part: this module ships `priority` (higher priority first, then
// submission order); queues with quotas, fair share and the like plug in behind the same
// interface.
//
// Contract: Sort() is a pure, deterministic total order over the jobs it is given (ties end on
// the submission sequence, which is unique).
// Thread safety: const methods only; share freely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scheduler/job.h"

namespace gpupool::scheduler {

// What the ordering step sees of a pending job.
struct PendingJob {
  JobId id = 0;
  JobRequest request;
  std::int64_t seq = 0;  // submission order, unique and increasing
};

class JobOrder {
 public:
  virtual ~JobOrder() = default;
  virtual std::string_view name() const = 0;
  // Puts `jobs` in the order the cycle considers them.
  virtual void Sort(std::vector<const PendingJob*>& jobs) const = 0;
};

// Higher priority first; equal priorities in submission order.
class PriorityOrder final : public JobOrder {
 public:
  std::string_view name() const override { return "priority"; }
  void Sort(std::vector<const PendingJob*>& jobs) const override;
};

// "fifo": submission order.
class FifoOrder final : public JobOrder {
 public:
  std::string_view name() const override { return "fifo"; }
  void Sort(std::vector<const PendingJob*>& jobs) const override;
};

// "sjf": shortest job first by the requested time limit (JobRequest::time_limit_s); jobs without
// a limit after all jobs with one; then submission order.
class SjfOrder final : public JobOrder {
 public:
  std::string_view name() const override { return "sjf"; }
  void Sort(std::vector<const PendingJob*>& jobs) const override;
};

// "qssf": Helios' quasi-shortest-service-first (Hu et al., SC '21): the smallest expected GPU
// time first, the duration estimate (JobRequest::duration_estimate_s) x the job's GPUs (milli-GPU
// of all replicas / 1000); jobs without an estimate after all jobs with one; then fewer GPUs,
// then submission order.
class QssfOrder final : public JobOrder {
 public:
  std::string_view name() const override { return "qssf"; }
  void Sort(std::vector<const PendingJob*>& jobs) const override;
};

// The ordering named `name` (priority, fifo, sjf, qssf); NotFound lists the known names.
Result<std::unique_ptr<JobOrder>> MakeJobOrder(std::string_view name);

}  // namespace gpupool::scheduler

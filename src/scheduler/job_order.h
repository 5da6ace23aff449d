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
#include <optional>
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
  // GPU time the job has received so far, in GPU-seconds (a running job's includes its current
  // run; the scheduler fills it from its clock before an order sees it).
  double attained_gpu_s = 0;
  int restarts = 0;  // times it was preempted and put back
  // The weighted dominant share of the job's queue at the start of the cycle (drf): the largest
  // of its GPU, CPU and memory in use over the pool's, divided by the queue's weight. The
  // scheduler fills it for orders that rank queues (JobOrder::ranks_queues).
  double queue_share = 0;
};

class JobOrder {
 public:
  virtual ~JobOrder() = default;
  virtual std::string_view name() const = 0;
  // Puts `jobs` in the order the cycle considers them.
  virtual void Sort(std::vector<const PendingJob*>& jobs) const = 0;
  // Whether `waiting` ranks far enough above the running job `running` to preempt it (when the
  // scheduler preempts at all, SchedulerOptions::preemption). Default: never. Must be monotone in
  // rank: if it holds for `running`, it holds for every job Sort() puts after `running`.
  virtual bool Preempts(const PendingJob& /*waiting*/, const PendingJob& /*running*/) const {
    return false;
  }
  // True when Preempts() may hold for some pair (the scheduler skips its preemption step
  // otherwise).
  virtual bool preemptive() const { return false; }
  // True when a job's rank moves with the service it receives (srtf, las, gittins): such an order
  // preempts as ranks cross, and a simulator lets it skip a job that does not fit instead of
  // blocking behind it (the published SRTF and LAS replays do not block). priority preempts only
  // across fixed priorities: false.
  virtual bool rank_follows_service() const { return false; }
  // True when the order itself ranks the queues against each other (drf, from
  // PendingJob::queue_share); the scheduler then keeps its order instead of putting the queue
  // furthest below its guarantee first.
  virtual bool ranks_queues() const { return false; }
  // True when the order ranks by JobRequest::service_profile (gittins): only then does a caller
  // need to build the profiles from the jobs that finished.
  virtual bool reads_service_profile() const { return false; }
  // True when the order ranks by JobRequest::duration_estimate_s (qssf): only then does the
  // service learn the estimates from the jobs that finished.
  virtual bool reads_duration_estimate() const { return false; }
  // The attained GPU time above `attained_gpu_s` at which a job's rank changes by itself (LAS's
  // next threshold), so that a simulator knows when to run a cycle; nullopt: never.
  virtual std::optional<double> NextBoundary(double /*attained_gpu_s*/) const {
    return std::nullopt;
  }
};

// Higher priority first; equal priorities in submission order. Preemptive: a waiting job
// preempts running jobs of a strictly lower priority (never one of its own priority).
class PriorityOrder final : public JobOrder {
 public:
  std::string_view name() const override { return "priority"; }
  void Sort(std::vector<const PendingJob*>& jobs) const override;
  bool Preempts(const PendingJob& waiting, const PendingJob& running) const override {
    return waiting.request.priority > running.request.priority;
  }
  bool preemptive() const override { return true; }
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
  bool reads_duration_estimate() const override { return true; }
};

// "srtf": shortest remaining time first, preemptive: remaining = the time limit
// (JobRequest::time_limit_s) minus the time the job has run (attained GPU time / its GPUs); jobs
// without a limit last; then submission order. A waiting job preempts running jobs with more time
// remaining. (A running job's remaining only shrinks, so no boundary is needed.)
class SrtfOrder final : public JobOrder {
 public:
  std::string_view name() const override { return "srtf"; }
  void Sort(std::vector<const PendingJob*>& jobs) const override;
  bool Preempts(const PendingJob& waiting, const PendingJob& running) const override;
  bool preemptive() const override { return true; }
  bool rank_follows_service() const override { return true; }
};

// "las": least attained service (Tiresias, Gu et al., NSDI '19, its discretised form): a job's
// level is the number of thresholds (GPU-seconds) its attained GPU time has reached; lower levels
// first, then submission order (first come, first served inside a level). A waiting job preempts
// running jobs of a higher level. Written `las` (thresholds 1 and 10 GPU-hours, chosen a priori)
// or `las:T1,T2,...` (GPU-seconds, increasing).
class LasOrder final : public JobOrder {
 public:
  explicit LasOrder(std::vector<double> thresholds_gpu_s)
      : thresholds_(std::move(thresholds_gpu_s)) {}
  std::string_view name() const override { return "las"; }
  void Sort(std::vector<const PendingJob*>& jobs) const override;
  bool Preempts(const PendingJob& waiting, const PendingJob& running) const override {
    return Level(waiting.attained_gpu_s) < Level(running.attained_gpu_s);
  }
  bool preemptive() const override { return true; }
  bool rank_follows_service() const override { return true; }
  std::optional<double> NextBoundary(double attained_gpu_s) const override;
  int Level(double attained_gpu_s) const;
  const std::vector<double>& thresholds() const { return thresholds_; }

 private:
  std::vector<double> thresholds_;
};

// "drf": weighted dominant resource fairness across queues (Ghodsi et al., NSDI '11): the jobs of
// the queue with the smallest weighted dominant share (PendingJob::queue_share) first; inside a
// queue, higher priority first, then submission order. Not preemptive.
class DrfOrder final : public JobOrder {
 public:
  std::string_view name() const override { return "drf"; }
  void Sort(std::vector<const PendingJob*>& jobs) const override;
  bool ranks_queues() const override { return true; }
};

// The ordering named `name` (priority, fifo, sjf, qssf, srtf, las, las:T1,T2,..., gittins, drf);
// NotFound lists the known names; InvalidArgument for bad LAS thresholds.
Result<std::unique_ptr<JobOrder>> MakeJobOrder(std::string_view name);

}  // namespace gpupool::scheduler

// ServiceMetrics: the counters and histograms of `gpupool serve` that are not state snapshots
// (those are computed at scrape time): scheduling-cycle latency, submission latency, submissions
// and placements. Exposed in Prometheus text format by PoolService::Metrics().
//
// Thread safety: every method may be called from any thread (atomics and one mutex per histogram).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace gpupool::server {

// A Prometheus histogram with fixed upper bounds in seconds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double seconds);
  // "# HELP", "# TYPE" and the _bucket/_sum/_count lines of metric `name`.
  std::string Format(const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;  // per bound, not cumulative; last = +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

struct ServiceMetrics {
  ServiceMetrics();
  Histogram cycle_seconds;
  Histogram submit_seconds;
  // The event stream's read of the pool's state (PoolService::StreamState): the whole read, and
  // the part of it that holds the service's lock.
  Histogram stream_state_seconds;
  Histogram stream_state_lock_seconds;
  std::atomic<std::uint64_t> submitted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> placed{0};
  std::atomic<std::uint64_t> finished{0};
  std::atomic<std::uint64_t> cycles{0};
  std::atomic<std::uint64_t> preempted{0};  // jobs the cycles chose to preempt
};

}  // namespace gpupool::server

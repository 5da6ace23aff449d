// DurationEstimator: a job's expected run time learned only from jobs that have already finished
// (never from the job's own duration), for orders that rank by it (qssf). The estimate is the
// mean run time of the most specific class with enough history, from most to least specific:
//   1. the same user (when the job names one);
//   2. the same queue and the same GPU count;
//   3. the same queue;
//   4. every job seen.
// A class needs `min_history` finished jobs to be used. Each class keeps the mean of its last
// `window` finished jobs (a bounded ring), so the estimate follows a workload that changes.
// The mean, not the median: ranking by expected run time (shortest expected processing time
// first) minimises the expected mean completion time on one machine (Rothkopf 1966), and it is
// the mean that this rule needs. Both constants are chosen a priori, not fitted to a trace.
//
// Both users feed it the same way (one rule): the replay (sim/replay.h, --estimator learned and
// `gittins`) with the jobs of a pool as they end in simulated time, and the service
// (server/pool_service.h, `--order qssf` and `gittins`) with the jobs it saw run and end, read back
// from its store at a start; a job gets what the estimator says at its submission (Inform), never
// revised while it waits.
//
// Thread safety: none; one owner.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "scheduler/gittins.h"
#include "scheduler/job.h"

namespace gpupool::scheduler {

// The GPUs a job counts as in its class (Observe's `gpus`): GPUs per replica x replicas, a share
// of one GPU counting one (the replay's TraceJob::num_gpus for the same request).
inline int JobGpuCount(const JobRequest& r) { return r.replica.num_gpu * r.replicas; }

class DurationEstimator {
 public:
  explicit DurationEstimator(int min_history = 3, int window = 100)
      : min_history_(min_history < 1 ? 1 : min_history), window_(window < 1 ? 1 : window) {}

  // A job of `gpus` GPUs of `user` (may be empty) in `queue` finished after `duration_s`;
  // `gpu_amount` is what it held, for its GPU time (a share of one GPU: 0.5); < 0: `gpus`.
  void Observe(const std::string& user, const std::string& queue, int gpus, std::int64_t duration_s,
               double gpu_amount = -1);
  // The expected run time in seconds of such a job; nullopt before anything has finished.
  std::optional<std::int64_t> Estimate(const std::string& user, const std::string& queue,
                                       int gpus) const;
  // The Gittins profile (scheduler/gittins.h) of the same class as Estimate picks, from the GPU
  // time (run time x GPUs) of its last `window` jobs; null before anything has finished. Built
  // once per class and change, shared by the requests that read it until the class changes.
  std::shared_ptr<const ServiceProfile> Profile(const std::string& user, const std::string& queue,
                                                int gpus) const;
  // What a job of that class gets when it is submitted: r.duration_estimate_s = Estimate(...) when
  // `estimate`, r.service_profile = Profile(...) when `profile`; the other is left as it is.
  void Inform(const std::string& user, const std::string& queue, int gpus, bool estimate,
              bool profile, JobRequest& r) const;

 private:
  struct Class {
    std::deque<std::int64_t> last;  // at most window_ run times, oldest first
    std::deque<double> gpu_s;       // their GPU time, in the same order
    std::int64_t sum = 0;
    mutable std::shared_ptr<const ServiceProfile> profile;  // of `gpu_s`; null when outdated
  };
  void Add(Class& c, std::int64_t duration_s, double gpu_amount) const;
  std::optional<std::int64_t> Mean(const Class* c) const;
  // The class Estimate reads for (user, queue, gpus), or nullptr.
  const Class* Pick(const std::string& user, const std::string& queue, int gpus) const;

  int min_history_;
  int window_;
  std::map<std::string, Class> by_user_;
  std::map<std::pair<std::string, int>, Class> by_queue_gpus_;
  std::map<std::string, Class> by_queue_;
  Class all_;
};

}  // namespace gpupool::scheduler

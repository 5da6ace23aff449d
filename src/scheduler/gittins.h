// The Gittins index of a job from the service of the jobs like it that have finished: the
// project's own order, `gittins`, ranks by it.
//
// A job that has received `a` GPU-seconds and whose total service S follows the distribution of
// its class (the jobs of its class that finished before it was submitted: same user, else same
// queue and GPU count, ...; scheduler::DurationEstimator) has the index
//
//   G(a) = max over d > 0 of  P(a < S <= a + d) / E[min(S, a + d) - a ; S > a]
//
// the best rate, per GPU-second still to give, at which giving it service finishes it (Gittins
// 1989; for one server it minimises the mean response time among policies that do not know
// each job's size, Aalto, Ayesta and Righter 2009). Tiresias (Gu et al., NSDI '19) ranks by the
// same index with one distribution for the whole cluster; Helios' QSSF (Hu et al., SC '21) learns
// per class but ranks by the class's mean alone and never revises it while a job runs. `gittins`
// does both: a class's distribution, and the index re-read as the job's attained service grows,
// so a job that has outlived most of its class falls behind newer ones (and is preempted by
// them), while one of a short class goes first.
//
// The index is read at fixed points of attained service (a geometric grid, as Tiresias
// discretises LAS into levels): 0, then kGridBase x kGridRatio^k GPU-seconds. A job's rank
// changes only when it crosses a point, so a simulator runs a cycle then (NextBoundary).
//
// Thread safety: plain values and pure functions; a ServiceProfile is immutable once built and
// shared between the requests of a class.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "scheduler/job_order.h"

namespace gpupool::scheduler {

// G(a) for the service values `sorted_service` (GPU-seconds, ascending; the class's sample) at
// attained service `attained`; 0 when no value exceeds `attained` (the job outlived them all)
// or the sample is empty.
double GittinsIndex(std::span<const double> sorted_service, double attained);

// The grid of attained service at which the index is read, in GPU-seconds: 0, 60, 120, 240, ...
// (chosen a priori: one minute of one GPU, doubling; 32 points reach about 4 x 10^9 GPU-s).
inline constexpr double kGridBase = 60;
inline constexpr double kGridRatio = 2;
inline constexpr int kGridPoints = 32;
// The grid point index k (0-based) with point(k) <= attained < point(k + 1).
int GridLevel(double attained_gpu_s);
// The attained service of grid point k.
double GridPoint(int k);

// A class's index at every grid point, built once from its sample.
struct ServiceProfile {
  std::vector<double> index;  // kGridPoints values
  int samples = 0;            // the size of the sample it was built from
  static ServiceProfile Build(std::vector<double> service_gpu_s);
  double At(double attained_gpu_s) const;
};

// "gittins": the highest index first (JobRequest::service_profile at the job's attained
// service); jobs without a profile (nothing of their pool has finished yet) before all others,
// first come first served, as a new job of LAS's first level; ties in submission order. A
// waiting job preempts running jobs of a lower index.
class GittinsOrder final : public JobOrder {
 public:
  std::string_view name() const override { return "gittins"; }
  void Sort(std::vector<const PendingJob*>& jobs) const override;
  bool Preempts(const PendingJob& waiting, const PendingJob& running) const override;
  bool preemptive() const override { return true; }
  bool rank_follows_service() const override { return true; }
  bool reads_service_profile() const override { return true; }
  std::optional<double> NextBoundary(double attained_gpu_s) const override;
};

}  // namespace gpupool::scheduler

#include "scheduler/job_order.h"

#include <algorithm>
#include <cstdint>

namespace gpupool::scheduler {

void PriorityOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  std::sort(jobs.begin(), jobs.end(), [](const PendingJob* a, const PendingJob* b) {
    if (a->request.priority != b->request.priority) {
      return a->request.priority > b->request.priority;
    }
    return a->seq < b->seq;
  });
}

void FifoOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  std::sort(jobs.begin(), jobs.end(),
            [](const PendingJob* a, const PendingJob* b) { return a->seq < b->seq; });
}

void SjfOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  auto key = [](const PendingJob* j) {
    return j->request.time_limit_s > 0 ? j->request.time_limit_s : INT64_MAX;
  };
  std::sort(jobs.begin(), jobs.end(), [&](const PendingJob* a, const PendingJob* b) {
    const std::int64_t ka = key(a);
    const std::int64_t kb = key(b);
    return ka != kb ? ka < kb : a->seq < b->seq;
  });
}

namespace {

// Milli-GPU of the whole job.
std::int64_t JobMilli(const JobRequest& r) {
  return r.replica.total_gpu_milli() * static_cast<std::int64_t>(r.replicas);
}

}  // namespace

void QssfOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  // (no estimate last, estimate x milli-GPU, milli-GPU, seq). The product as a double: exact
  // below 2^53, i.e. for estimates up to about 7 x 10^10 s on 128 GPUs.
  auto less = [](const PendingJob* a, const PendingJob* b) {
    const auto& ea = a->request.duration_estimate_s;
    const auto& eb = b->request.duration_estimate_s;
    if (ea.has_value() != eb.has_value()) return ea.has_value();
    const std::int64_t ma = JobMilli(a->request);
    const std::int64_t mb = JobMilli(b->request);
    if (ea.has_value() && eb.has_value()) {
      const double ka = static_cast<double>(*ea) * static_cast<double>(ma);
      const double kb = static_cast<double>(*eb) * static_cast<double>(mb);
      if (ka != kb) return ka < kb;
    }
    if (ma != mb) return ma < mb;
    return a->seq < b->seq;
  };
  std::sort(jobs.begin(), jobs.end(), less);
}

Result<std::unique_ptr<JobOrder>> MakeJobOrder(std::string_view name) {
  if (name == "priority") return std::make_unique<PriorityOrder>();
  if (name == "fifo") return std::make_unique<FifoOrder>();
  if (name == "sjf") return std::make_unique<SjfOrder>();
  if (name == "qssf") return std::make_unique<QssfOrder>();
  return Error(Status::NotFound("unknown job order '" + std::string(name) +
                                "'; known orders: priority, fifo, sjf, qssf"));
}

}  // namespace gpupool::scheduler

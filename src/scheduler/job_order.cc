#include "scheduler/job_order.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "common/strings.h"
#include "scheduler/gittins.h"

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

void QssfOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  // (no estimate last, estimate x milli-GPU, milli-GPU, seq). The product as a double: exact
  // below 2^53, i.e. for estimates up to about 7 x 10^10 s on 128 GPUs.
  auto less = [](const PendingJob* a, const PendingJob* b) {
    const auto& ea = a->request.duration_estimate_s;
    const auto& eb = b->request.duration_estimate_s;
    if (ea.has_value() != eb.has_value()) return ea.has_value();
    const std::int64_t ma = JobGpuMilli(a->request);
    const std::int64_t mb = JobGpuMilli(b->request);
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

namespace {

// Seconds of its time limit a job has left (infinity without a limit).
double Remaining(const PendingJob& j) {
  if (j.request.time_limit_s <= 0) return std::numeric_limits<double>::infinity();
  const double gpus = static_cast<double>(JobGpuMilli(j.request)) / 1000.0;
  const double ran = gpus > 0 ? j.attained_gpu_s / gpus : 0.0;
  return static_cast<double>(j.request.time_limit_s) - ran;
}

}  // namespace

void SrtfOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  std::sort(jobs.begin(), jobs.end(), [](const PendingJob* a, const PendingJob* b) {
    const double ra = Remaining(*a);
    const double rb = Remaining(*b);
    return ra != rb ? ra < rb : a->seq < b->seq;
  });
}

bool SrtfOrder::Preempts(const PendingJob& waiting, const PendingJob& running) const {
  return Remaining(waiting) < Remaining(running);
}

void DrfOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  std::sort(jobs.begin(), jobs.end(), [](const PendingJob* a, const PendingJob* b) {
    if (a->queue_share != b->queue_share) return a->queue_share < b->queue_share;
    if (a->request.priority != b->request.priority) {
      return a->request.priority > b->request.priority;
    }
    return a->seq < b->seq;
  });
}

int LasOrder::Level(double attained_gpu_s) const {
  int level = 0;
  while (level < static_cast<int>(thresholds_.size()) &&
         attained_gpu_s >= thresholds_[static_cast<std::size_t>(level)]) {
    ++level;
  }
  return level;
}

std::optional<double> LasOrder::NextBoundary(double attained_gpu_s) const {
  const int level = Level(attained_gpu_s);
  if (level >= static_cast<int>(thresholds_.size())) return std::nullopt;
  return thresholds_[static_cast<std::size_t>(level)];
}

void LasOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  std::sort(jobs.begin(), jobs.end(), [this](const PendingJob* a, const PendingJob* b) {
    const int la = Level(a->attained_gpu_s);
    const int lb = Level(b->attained_gpu_s);
    if (la != lb) return la < lb;
    return a->seq < b->seq;
  });
}

namespace {

// "T1,T2,...": increasing positive GPU-seconds.
Result<std::vector<double>> ParseThresholds(std::string_view text) {
  std::vector<double> out;
  for (const std::string_view field : Split(text, ',')) {
    const std::string part(field);
    double v = 0;
    try {
      std::size_t used = 0;
      v = std::stod(part, &used);
      if (used != part.size()) throw std::invalid_argument(part);
    } catch (const std::exception&) {
      return Error(
          Status::InvalidArgument("las: threshold '" + part + "' is not a number of GPU-seconds"));
    }
    if (!(v > 0) || (!out.empty() && v <= out.back())) {
      return Error(Status::InvalidArgument("las: thresholds must be positive and increasing ('" +
                                           std::string(text) + "')"));
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<JobOrder>> MakeJobOrder(std::string_view name) {
  if (name == "priority") return std::make_unique<PriorityOrder>();
  if (name == "las") return std::make_unique<LasOrder>(std::vector<double>{3600, 36000});
  if (name.starts_with("las:")) {
    auto t = ParseThresholds(name.substr(4));
    if (!t) return Error(t.error());
    return std::make_unique<LasOrder>(std::move(*t));
  }
  if (name == "fifo") return std::make_unique<FifoOrder>();
  if (name == "sjf") return std::make_unique<SjfOrder>();
  if (name == "qssf") return std::make_unique<QssfOrder>();
  if (name == "srtf") return std::make_unique<SrtfOrder>();
  if (name == "gittins") return std::make_unique<GittinsOrder>();
  if (name == "drf") return std::make_unique<DrfOrder>();
  return Error(Status::NotFound(
      "unknown job order '" + std::string(name) +
      "'; known orders: priority, fifo, sjf, qssf, srtf, las, las:T1,T2,..., gittins, drf"));
}

}  // namespace gpupool::scheduler

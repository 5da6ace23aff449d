#include "scheduler/job_order.h"

#include <algorithm>

namespace gpupool::scheduler {

void PriorityOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  std::sort(jobs.begin(), jobs.end(), [](const PendingJob* a, const PendingJob* b) {
    if (a->request.priority != b->request.priority) {
      return a->request.priority > b->request.priority;
    }
    return a->seq < b->seq;
  });
}

Result<std::unique_ptr<JobOrder>> MakeJobOrder(std::string_view name) {
  if (name == "priority") return std::make_unique<PriorityOrder>();
  return Error(
      Status::NotFound("unknown job order '" + std::string(name) + "'; known orders: priority"));
}

}  // namespace gpupool::scheduler

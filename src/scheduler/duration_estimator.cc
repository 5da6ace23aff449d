#include "scheduler/duration_estimator.h"

#include <vector>

namespace gpupool::scheduler {

void DurationEstimator::Add(Class& c, std::int64_t duration_s, double gpu_amount) const {
  c.last.push_back(duration_s);
  c.gpu_s.push_back(static_cast<double>(duration_s) * gpu_amount);
  c.sum += duration_s;
  if (static_cast<int>(c.last.size()) > window_) {
    c.sum -= c.last.front();
    c.last.pop_front();
    c.gpu_s.pop_front();
  }
  c.profile.reset();
}

std::optional<std::int64_t> DurationEstimator::Mean(const Class* c) const {
  if (c == nullptr || c->last.empty()) return std::nullopt;
  return c->sum / static_cast<std::int64_t>(c->last.size());
}

void DurationEstimator::Observe(const std::string& user, const std::string& queue, int gpus,
                                std::int64_t duration_s, double gpu_amount) {
  const double amount = gpu_amount < 0 ? static_cast<double>(gpus) : gpu_amount;
  if (!user.empty()) Add(by_user_[user], duration_s, amount);
  Add(by_queue_gpus_[{queue, gpus}], duration_s, amount);
  Add(by_queue_[queue], duration_s, amount);
  Add(all_, duration_s, amount);
}

const DurationEstimator::Class* DurationEstimator::Pick(const std::string& user,
                                                        const std::string& queue, int gpus) const {
  auto enough = [&](const auto& map, const auto& key) -> const Class* {
    const auto it = map.find(key);
    if (it == map.end() || static_cast<int>(it->second.last.size()) < min_history_) {
      return nullptr;
    }
    return &it->second;
  };
  if (!user.empty()) {
    if (const Class* c = enough(by_user_, user)) return c;
  }
  if (const Class* c = enough(by_queue_gpus_, std::pair<std::string, int>{queue, gpus})) return c;
  if (const Class* c = enough(by_queue_, queue)) return c;
  return all_.last.empty() ? nullptr : &all_;
}

std::optional<std::int64_t> DurationEstimator::Estimate(const std::string& user,
                                                        const std::string& queue, int gpus) const {
  return Mean(Pick(user, queue, gpus));
}

std::shared_ptr<const ServiceProfile> DurationEstimator::Profile(const std::string& user,
                                                                 const std::string& queue,
                                                                 int gpus) const {
  const Class* c = Pick(user, queue, gpus);
  if (c == nullptr) return nullptr;
  if (!c->profile) {
    c->profile = std::make_shared<const ServiceProfile>(
        ServiceProfile::Build(std::vector<double>(c->gpu_s.begin(), c->gpu_s.end())));
  }
  return c->profile;
}

void DurationEstimator::Inform(const std::string& user, const std::string& queue, int gpus,
                               bool estimate, bool profile, JobRequest& r) const {
  if (estimate) r.duration_estimate_s = Estimate(user, queue, gpus);
  if (profile) r.service_profile = Profile(user, queue, gpus);
}

}  // namespace gpupool::scheduler

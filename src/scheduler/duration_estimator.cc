#include "scheduler/duration_estimator.h"

namespace gpupool::scheduler {

void DurationEstimator::Add(Class& c, std::int64_t duration_s) const {
  c.last.push_back(duration_s);
  c.sum += duration_s;
  if (static_cast<int>(c.last.size()) > window_) {
    c.sum -= c.last.front();
    c.last.pop_front();
  }
}

std::optional<std::int64_t> DurationEstimator::Mean(const Class* c) const {
  if (c == nullptr || static_cast<int>(c->last.size()) < min_history_) return std::nullopt;
  return c->sum / static_cast<std::int64_t>(c->last.size());
}

void DurationEstimator::Observe(const std::string& user, const std::string& queue, int gpus,
                                std::int64_t duration_s) {
  if (!user.empty()) Add(by_user_[user], duration_s);
  Add(by_queue_gpus_[{queue, gpus}], duration_s);
  Add(by_queue_[queue], duration_s);
  Add(all_, duration_s);
}

std::optional<std::int64_t> DurationEstimator::Estimate(const std::string& user,
                                                        const std::string& queue, int gpus) const {
  auto find = [](const auto& map, const auto& key) -> const Class* {
    const auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  };
  if (!user.empty()) {
    if (auto m = Mean(find(by_user_, user))) return m;
  }
  if (auto m = Mean(find(by_queue_gpus_, std::pair<std::string, int>{queue, gpus}))) return m;
  if (auto m = Mean(find(by_queue_, queue))) return m;
  if (!all_.last.empty()) return all_.sum / static_cast<std::int64_t>(all_.last.size());
  return std::nullopt;
}

}  // namespace gpupool::scheduler

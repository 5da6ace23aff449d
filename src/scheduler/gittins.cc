#include "scheduler/gittins.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

namespace gpupool::scheduler {

double GittinsIndex(std::span<const double> sorted_service, double attained) {
  // The survivors s_1 <= ... <= s_k (values above `attained`). Serving up to s_i finishes the
  // i survivors at or below it, and costs each survivor min(s_j, s_i) - attained: the sum of
  // (s_j - attained) over the first i plus (k - i)(s_i - attained). Only the last of equal values
  // is a candidate (the ones before it leave out jobs that finish at the same point).
  const auto first = std::upper_bound(sorted_service.begin(), sorted_service.end(), attained);
  const auto k = static_cast<double>(sorted_service.end() - first);
  double best = 0;
  double cost_done = 0;  // sum of (s_j - attained) over the survivors up to i
  double i = 0;
  for (auto it = first; it != sorted_service.end(); ++it) {
    const double to_go = *it - attained;
    cost_done += to_go;
    i += 1;
    if (std::next(it) != sorted_service.end() && *std::next(it) == *it) continue;
    best = std::max(best, i / (cost_done + (k - i) * to_go));
  }
  return best;
}

namespace {

// The grid points, computed once.
const std::array<double, kGridPoints>& Points() {
  static const std::array<double, kGridPoints> kPoints = [] {
    std::array<double, kGridPoints> p{};
    for (int k = 1; k < kGridPoints; ++k) {
      p[static_cast<std::size_t>(k)] = kGridBase * std::pow(kGridRatio, k - 1);
    }
    return p;
  }();
  return kPoints;
}

}  // namespace

int GridLevel(double attained_gpu_s) {
  const auto& p = Points();
  // The last point <= attained (point 0 is 0; a negative or NaN attained is level 0).
  const auto it = std::upper_bound(p.begin() + 1, p.end(), attained_gpu_s);
  return static_cast<int>(it - p.begin()) - 1;
}

double GridPoint(int k) {
  return Points()[static_cast<std::size_t>(std::clamp(k, 0, kGridPoints - 1))];
}

ServiceProfile ServiceProfile::Build(std::vector<double> service_gpu_s) {
  std::sort(service_gpu_s.begin(), service_gpu_s.end());
  ServiceProfile p;
  p.samples = static_cast<int>(service_gpu_s.size());
  p.index.resize(kGridPoints);
  for (int k = 0; k < kGridPoints; ++k) {
    p.index[static_cast<std::size_t>(k)] = GittinsIndex(service_gpu_s, GridPoint(k));
  }
  return p;
}

double ServiceProfile::At(double attained_gpu_s) const {
  return index[static_cast<std::size_t>(GridLevel(attained_gpu_s))];
}

namespace {

// The rank key: higher first; no profile = infinity (before every job with one).
double Key(const PendingJob& j) {
  const auto& p = j.request.service_profile;
  return p ? p->At(j.attained_gpu_s) : std::numeric_limits<double>::infinity();
}

}  // namespace

void GittinsOrder::Sort(std::vector<const PendingJob*>& jobs) const {
  std::vector<std::pair<double, const PendingJob*>> keyed;
  keyed.reserve(jobs.size());
  for (const PendingJob* j : jobs) keyed.emplace_back(Key(*j), j);
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return a.second->seq < b.second->seq;
  });
  for (std::size_t i = 0; i < jobs.size(); ++i) jobs[i] = keyed[i].second;
}

bool GittinsOrder::Preempts(const PendingJob& waiting, const PendingJob& running) const {
  return Key(waiting) > Key(running);
}

std::optional<double> GittinsOrder::NextBoundary(double attained_gpu_s) const {
  const int level = GridLevel(attained_gpu_s);
  if (level + 1 >= kGridPoints) return std::nullopt;
  return GridPoint(level + 1);
}

}  // namespace gpupool::scheduler

#include "scheduler/job.h"

#include <array>
#include <utility>

namespace gpupool::scheduler {
namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 7> kNames = {{
    {JobState::kPending, "pending"},
    {JobState::kRunning, "running"},
    {JobState::kSucceeded, "succeeded"},
    {JobState::kFailed, "failed"},
    {JobState::kCancelled, "cancelled"},
    {JobState::kTimedOut, "timed_out"},
    {JobState::kLost, "lost"},
}};

}  // namespace

std::string_view JobStateName(JobState s) {
  for (const auto& [state, name] : kNames) {
    if (state == s) return name;
  }
  return "unknown";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (const auto& [state, n] : kNames) {
    if (n == name) return state;
  }
  return std::nullopt;
}

bool IsTerminal(JobState s) { return s != JobState::kPending && s != JobState::kRunning; }

}  // namespace gpupool::scheduler

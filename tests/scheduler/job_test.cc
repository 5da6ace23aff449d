#include "scheduler/job.h"

#include <gtest/gtest.h>

namespace gpupool::scheduler {
namespace {

TEST(JobStateTest, NamesRoundTripAndTerminalStatesAreTheFiveEndings) {
  const JobState all[] = {JobState::kPending, JobState::kRunning,   JobState::kSucceeded,
                          JobState::kFailed,  JobState::kCancelled, JobState::kTimedOut,
                          JobState::kLost};
  const char* names[] = {"pending",   "running",   "succeeded", "failed",
                         "cancelled", "timed_out", "lost"};
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(JobStateName(all[i]), names[i]);
    EXPECT_EQ(ParseJobState(names[i]), all[i]);
    EXPECT_EQ(IsTerminal(all[i]), i >= 2) << names[i];
  }
  EXPECT_FALSE(ParseJobState("done").has_value());
}

}  // namespace
}  // namespace gpupool::scheduler

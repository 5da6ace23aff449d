// The sort keys by name (the API's `sort=`) and the cursor of a row.
#include "store/job_sort.h"

#include <gtest/gtest.h>

namespace gpupool::store {
namespace {

TEST(JobSortTest, NamesRoundTripAndUnknownOnesAreNone) {
  for (const JobSortKey k :
       {JobSortKey::kId, JobSortKey::kName, JobSortKey::kUser, JobSortKey::kQueue,
        JobSortKey::kState, JobSortKey::kPriority, JobSortKey::kStarted, JobSortKey::kFinished}) {
    EXPECT_EQ(ParseJobSortKey(JobSortKeyName(k)), k);
  }
  EXPECT_EQ(ParseJobSortKey("gpus"), std::nullopt);
  EXPECT_EQ(JobSortKeyNames(), "id, name, user, queue, state, priority, started, finished");
  JobRow row;
  row.id = 4;
  row.started_ms = 1700;
  EXPECT_EQ(CursorAfter(row, JobSortKey::kStarted), (JobCursor{4, "", 1700}));
}

}  // namespace
}  // namespace gpupool::store

#include "scheduler/job_order.h"

#include <gtest/gtest.h>

namespace gpupool::scheduler {
namespace {

TEST(PriorityOrderTest, HigherPriorityFirstThenSubmissionOrder) {
  // (id, priority, seq): 1 (0, 1), 2 (5, 2), 3 (0, 3), 4 (5, 4) -> 2, 4, 1, 3.
  std::vector<PendingJob> jobs(4);
  const int prio[] = {0, 5, 0, 5};
  for (int i = 0; i < 4; ++i) {
    jobs[static_cast<std::size_t>(i)].id = i + 1;
    jobs[static_cast<std::size_t>(i)].request.priority = prio[i];
    jobs[static_cast<std::size_t>(i)].seq = i + 1;
  }
  std::vector<const PendingJob*> order = {&jobs[3], &jobs[0], &jobs[2], &jobs[1]};
  PriorityOrder().Sort(order);
  std::vector<JobId> ids;
  for (const auto* j : order) ids.push_back(j->id);
  EXPECT_EQ(ids, (std::vector<JobId>{2, 4, 1, 3}));
}

TEST(PriorityOrderTest, UnknownOrderListsTheKnownOnes) {
  auto o = MakeJobOrder("lottery");
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().message(), "unknown job order 'lottery'; known orders: priority");
  EXPECT_TRUE(MakeJobOrder("priority").has_value());
}

}  // namespace
}  // namespace gpupool::scheduler

#include "queue/queue_set.h"

#include <gtest/gtest.h>

namespace gpupool::queue {
namespace {

QueueSpec Q(const std::string& name, const std::string& parent, double guaranteed,
            double limit = std::numeric_limits<double>::infinity(), double weight = 1) {
  return QueueSpec{name, parent, guaranteed, limit, weight};
}

TEST(QueueSetTest, BadConfigurationsNameTheQueueAndTheMember) {
  const struct {
    std::vector<QueueSpec> specs;
    std::string message;
  } cases[] = {
      {{Q("", "", 1)}, "queue 1: name: empty"},
      {{Q("a", "", 1), Q("a", "", 2)}, "queue 'a': name: listed twice"},
      {{Q("a", "nowhere", 1)}, "queue 'a': parent: unknown queue 'nowhere'"},
      {{Q("a", "b", 0), Q("b", "a", 0)}, "queue 'a': parent: the parents form a cycle"},
      {{Q("a", "", -1)}, "queue 'a': guaranteed: -1 is not a GPU count >= 0"},
      {{Q("a", "", 8, 4)}, "queue 'a': limit: 4 is below the guarantee 8"},
      {{Q("a", "", 1, 8, 0)}, "queue 'a': weight: 0 is not positive"},
      {{Q("p", "", 6), Q("x", "p", 4), Q("y", "p", 4)},
       "queue 'p': guaranteed: its children are guaranteed 8 GPUs, more than its 6"},
  };
  for (const auto& c : cases) {
    const auto set = QueueSet::Create(c.specs);
    ASSERT_FALSE(set.has_value()) << c.message;
    EXPECT_EQ(set.error().message(), c.message);
  }
}

// p (limit 10) holds a (guaranteed 4, limit 6) and b (guaranteed 4).
TEST(QueueSetTest, UsageCountsDescendantsAndLimitsHoldUpTheTree) {
  auto made = QueueSet::Create({Q("p", "", 8, 10), Q("a", "p", 4, 6), Q("b", "p", 4)});
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  QueueSet& s = *made;
  s.Charge("a", 5);
  EXPECT_DOUBLE_EQ(s.Used("a"), 5);
  EXPECT_DOUBLE_EQ(s.Used("p"), 5);
  EXPECT_DOUBLE_EQ(s.Used("b"), 0);
  EXPECT_DOUBLE_EQ(s.Borrowed("a"), 1);  // 5 against a guarantee of 4
  EXPECT_DOUBLE_EQ(s.Borrowed("b"), 0);
  EXPECT_EQ(s.LimitBlocker("a", 1), "");   // 6 of 6
  EXPECT_EQ(s.LimitBlocker("a", 2), "a");  // 7 of 6
  EXPECT_EQ(s.LimitBlocker("b", 5), "");   // p: 10 of 10
  EXPECT_EQ(s.LimitBlocker("b", 6), "p");  // p: 11 of 10
  EXPECT_EQ(s.LimitBlocker("b", 6, /*empty=*/true), "");
  EXPECT_TRUE(s.WithinGuarantee("b", 4));
  EXPECT_FALSE(s.WithinGuarantee("a", 0.5));
  // Share ratios: a 5 / 4, b 0 / 4.
  EXPECT_DOUBLE_EQ(s.ShareRatio("a"), 1.25);
  EXPECT_DOUBLE_EQ(s.ShareRatio("b"), 0.0);
  s.Charge("a", -5);
  EXPECT_DOUBLE_EQ(s.Used("p"), 0);
}

}  // namespace
}  // namespace gpupool::queue

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

QueueSpec WithModels(QueueSpec q, std::map<std::string, ModelShare> models) {
  q.models = std::move(models);
  return q;
}

const double kNone = std::numeric_limits<double>::infinity();

TEST(QueueSetTest, BadPerModelSharesNameTheQueueAndTheMember) {
  const struct {
    std::vector<QueueSpec> specs;
    std::string message;
  } cases[] = {
      {{WithModels(Q("a", "", 4), {{"", {1, kNone}}})}, "queue 'a': models: a model name is empty"},
      {{WithModels(Q("a", "", 4), {{"H100", {-1, kNone}}})},
       "queue 'a': models.H100.guaranteed: -1 is not a GPU count >= 0"},
      {{WithModels(Q("a", "", 4), {{"H100", {4, 2}}})},
       "queue 'a': models.H100.limit: 2 is below the model's guarantee 4"},
      // In name order: A100 4 of 6, then H100 4 more: 8 > 6.
      {{WithModels(Q("a", "", 6), {{"H100", {4, kNone}}, {"A100", {4, kNone}}})},
       "queue 'a': models.H100.guaranteed: the per-model guarantees come to 8 GPUs, more than "
       "the queue's guarantee 6"},
      // p: 8 guaranteed, 4 of H100, 2 of A100, so 8 - 4 - 2 = 2 untied. Its children want 4 + 4
      // = 8 of H100: 8 - 4 = 4 more than its own H100, but only 2 are untied.
      {{WithModels(Q("p", "", 8), {{"H100", {4, kNone}}, {"A100", {2, kNone}}}),
        WithModels(Q("x", "p", 4), {{"H100", {4, kNone}}}),
        WithModels(Q("y", "p", 4), {{"H100", {4, kNone}}})},
       "queue 'p': models.H100.guaranteed: its children are guaranteed 8 GPUs of H100, more than "
       "it can cover: 4 of H100 and 2 of its guarantee tied to no model"},
      // p: 8 untied; the children's A100 take 6 of them, leaving 2 for their 4 of H100.
      {{Q("p", "", 8), WithModels(Q("x", "p", 6), {{"A100", {6, kNone}}}),
        WithModels(Q("y", "p", 2), {{"H100", {2, kNone}}}),
        WithModels(Q("z", "p", 0), {{"H100", {0, 1}}})},
       ""},
      {{Q("p", "", 8), WithModels(Q("x", "p", 4), {{"A100", {4, kNone}}}),
        WithModels(Q("y", "p", 4), {{"A100", {2, kNone}}, {"H100", {2, kNone}}})},
       ""},
      {{Q("p", "", 6), WithModels(Q("x", "p", 3), {{"A100", {3, kNone}}}),
        WithModels(Q("y", "p", 3), {{"A100", {2, kNone}}, {"H100", {2, kNone}}})},
       "queue 'y': models.H100.guaranteed: the per-model guarantees come to 4 GPUs, more than "
       "the queue's guarantee 3"},
      // p: 7 untied; the children's A100 3 + 3 = 6 take 6 of them, their H100 1 the last one.
      {{Q("p", "", 7), WithModels(Q("x", "p", 3), {{"A100", {3, kNone}}}),
        WithModels(Q("y", "p", 4), {{"A100", {3, kNone}}, {"H100", {1, kNone}}}),
        WithModels(Q("q", "", 1), {{"H100", {1, kNone}}})},
       ""},
      {{WithModels(Q("p", "", 6), {{"T4", {1, kNone}}}),
        WithModels(Q("x", "p", 3), {{"A100", {3, kNone}}}),
        WithModels(Q("y", "p", 3), {{"A100", {2, kNone}}, {"H100", {1, kNone}}})},
       "queue 'p': models.H100.guaranteed: its children are guaranteed 1 GPUs of H100, more than "
       "it can cover: 0 of H100 and 0 of its guarantee tied to no model"},
  };
  for (const auto& c : cases) {
    const auto set = QueueSet::Create(c.specs);
    if (c.message.empty()) {
      EXPECT_TRUE(set.has_value()) << set.error().message();
      continue;
    }
    ASSERT_FALSE(set.has_value()) << c.message;
    EXPECT_EQ(set.error().message(), c.message);
  }
}

// p: 10 guaranteed, 4 of them H100, at most 8 H100. Its children: a, 8 guaranteed (4 H100, at
// most 6 H100; 2 A100; 2 untied), and b (nothing guaranteed, any model).
TEST(QueueSetTest, PerModelUsageBorrowingAndLimits) {
  auto made = QueueSet::Create(
      {WithModels(Q("p", "", 10), {{"H100", {4, 8}}}),
       WithModels(Q("a", "p", 8), {{"H100", {4, 6}}, {"A100", {2, kNone}}}), Q("b", "p", 0)});
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  QueueSet& s = *made;
  EXPECT_TRUE(s.HasModelGuarantees("a"));
  EXPECT_FALSE(s.HasModelGuarantees("b"));
  EXPECT_TRUE(s.any_model_guarantees());
  EXPECT_TRUE(s.any_model_limits());
  EXPECT_EQ(s.ModelNames(), (std::vector<std::string>{"A100", "H100"}));
  s.Charge("a", 6, "A100");
  EXPECT_DOUBLE_EQ(s.Used("a"), 6);
  EXPECT_DOUBLE_EQ(s.Used("a", "A100"), 6);
  EXPECT_DOUBLE_EQ(s.Used("p", "A100"), 6);
  EXPECT_DOUBLE_EQ(s.Used("a", "H100"), 0);
  // a: A100 6 - 2 = 4 above its A100 guarantee, H100 0; 2 untied cover 2 of the 4: borrows 2
  // (6 of 8 in all: without per-model guarantees it would borrow none).
  EXPECT_DOUBLE_EQ(s.Borrowed("a"), 2);
  EXPECT_DOUBLE_EQ(s.Borrowed("a", "A100"), 2);  // min(4, 2)
  EXPECT_DOUBLE_EQ(s.Borrowed("a", "H100"), 0);
  // p: A100 6 above no A100 guarantee; 10 - 4 = 6 untied cover them: borrows 0.
  EXPECT_DOUBLE_EQ(s.Borrowed("p"), 0);
  // a borrows: nothing more is within its guarantee, not even H100.
  EXPECT_DOUBLE_EQ(s.GuaranteeLeft("a", "H100"), 0);
  EXPECT_FALSE(s.WithinGuarantee("a", 1, "H100"));
  s.Charge("a", -2, "A100");
  // a: A100 4, 2 above its guarantee, covered by the 2 untied: borrows 0.
  EXPECT_DOUBLE_EQ(s.Borrowed("a"), 0);
  EXPECT_DOUBLE_EQ(s.GuaranteeLeft("a", "H100"), 4);  // 4 - 0 of H100, 2 - 2 untied
  EXPECT_DOUBLE_EQ(s.GuaranteeLeft("a", "A100"), 0);  // max(0, 2 - 4) + 0
  EXPECT_TRUE(s.WithinGuarantee("a", 4, "H100"));
  EXPECT_FALSE(s.WithinGuarantee("a", 0.5, "A100"));
  // b, no per-model guarantee: the total as before (0 guaranteed), for every model.
  EXPECT_FALSE(s.WithinGuarantee("b", 1, "H100"));
  // Limits: a's H100 6, p's H100 8 (b's usage counts in p's).
  EXPECT_EQ(s.ModelLimitBlocker("a", "H100", 6), "");   // a 6 of 6, p 6 of 8
  EXPECT_EQ(s.ModelLimitBlocker("a", "H100", 7), "a");  // a 7 of 6
  EXPECT_EQ(s.ModelLimitBlocker("a", "A100", 100), "");
  EXPECT_EQ(s.LimitBlocker("a", 100), "");  // no total limit
  s.Charge("b", 3, "H100");
  EXPECT_DOUBLE_EQ(s.Borrowed("b"), 3);                 // 3 - 0 guaranteed
  EXPECT_DOUBLE_EQ(s.Borrowed("b", "H100"), 3);         // min(3 - 0, 3)
  EXPECT_EQ(s.ModelLimitBlocker("a", "H100", 6), "p");  // a 6 of 6, p 3 + 6 = 9 of 8
  EXPECT_EQ(s.ModelLimitBlocker("a", "H100", 6, /*empty=*/true), "");
  EXPECT_EQ(s.ModelLimitBlocker("b", "H100", 5), "");  // p: 3 + 5 = 8 of 8
  EXPECT_EQ(s.ModelLimitBlocker("b", "H100", 6), "p");
  // A gang across models: each part to its model.
  s.Charge("b", 2, {{"H100", 1}, {"A100", 1}});
  EXPECT_DOUBLE_EQ(s.Used("p", "H100"), 4);
  EXPECT_DOUBLE_EQ(s.Used("p", "A100"), 5);
  EXPECT_DOUBLE_EQ(s.Used("p"), 9);
  s.Charge("b", -2, {{"H100", -1}, {"A100", -1}});
  s.Charge("b", -3, "H100");
  s.Charge("a", -4, "A100");
  EXPECT_TRUE(s.UsedByModel("p").empty());
  EXPECT_DOUBLE_EQ(s.Used("p"), 0);
}

}  // namespace
}  // namespace gpupool::queue

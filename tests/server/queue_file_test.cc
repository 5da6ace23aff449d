#include "server/queue_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace gpupool::server {
namespace {

TEST(QueueFileTest, ReadsQueuesWithDefaults) {
  const auto q = ParseQueueFile(
      "queues:\n"
      "  - name: org\n"
      "    guaranteed: 16\n"
      "  - name: research\n"
      "    parent: org\n"
      "    guaranteed: 8\n"
      "    limit: 24\n"
      "    weight: 2\n",
      "q.yaml");
  ASSERT_TRUE(q.has_value()) << q.error().ToString();
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].name, "org");
  EXPECT_DOUBLE_EQ((*q)[0].guaranteed_gpus, 16);
  EXPECT_TRUE(std::isinf((*q)[0].limit_gpus));  // no limit
  EXPECT_DOUBLE_EQ((*q)[0].weight, 1);
  EXPECT_EQ((*q)[1].parent, "org");
  EXPECT_DOUBLE_EQ((*q)[1].limit_gpus, 24);
  EXPECT_DOUBLE_EQ((*q)[1].weight, 2);
}

TEST(QueueFileTest, ErrorsNameTheFileLineAndMember) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"queue: []\n", "q.yaml:1: queue: unknown member (known: order, queues)"},
      {"order: fifo\n", "q.yaml:1: queues: missing (a list of queues)"},
      {"queues:\n  - guaranteed: 4\n", "q.yaml:2: queues[0].name: missing"},
      {"queues:\n  - name: a\n    guarantee: 4\n",
       "q.yaml:3: queues[0].guarantee: unknown member (known: name, guaranteed, limit, weight, "
       "parent, models)"},
      {"queues:\n  - name: a\n    limit: lots\n",
       "q.yaml:3: queues[0].limit: 'lots' is not a number"},
      // The set's rules, at the line of the member (else of the queue).
      {"queues:\n  - name: a\n  - name: b\n    guaranteed: 8\n    limit: 4\n",
       "q.yaml:5: queues[1].limit: 4 is below the guarantee 8"},
      {"queues:\n  - name: a\n    parent: nowhere\n",
       "q.yaml:3: queues[0].parent: unknown queue 'nowhere'"},
      // A repeated name is the second queue of that name.
      {"queues:\n  - name: a\n  - name: b\n  - name: a\n",
       "q.yaml:4: queues[2].name: listed twice"},
      {"queues:\n  - name: a\n    parent: b\n  - name: b\n    parent: a\n",
       "q.yaml:3: queues[0].parent: the parents form a cycle"},
      {"queues:\n  - name: org\n    guaranteed: 4\n  - name: x\n    parent: org\n"
       "    guaranteed: 6\n",
       "q.yaml:3: queues[0].guaranteed: its children are guaranteed 6 GPUs, more than its 4"},
      {"queues:\n  - name: Big Team\n",
       "q.yaml:2: queues[0].name: 'Big Team' is not a queue name (1-64 of a-z, 0-9, '-', '_', "
       "'.')"},
      {"queues:\n  - name: a\n    weight: 0\n", "q.yaml:3: queues[0].weight: 0 is not positive"},
  };
  for (const auto& c : cases) {
    const auto q = ParseQueueFile(c.text, "q.yaml");
    ASSERT_FALSE(q.has_value()) << c.text;
    EXPECT_EQ(q.error().message(), c.message) << c.text;
  }
}

// The member at fault, for the API's error object; "" for text that is not YAML.
TEST(QueueFileTest, GivesTheMemberAtFault) {
  std::string member = "stale";
  EXPECT_FALSE(ParseQueueFile("queues:\n  - name: a\n    limit: x\n", "b", &member));
  EXPECT_EQ(member, "queues[0].limit");
  EXPECT_FALSE(ParseQueueFile("queues: 3\n", "b", &member));
  EXPECT_EQ(member, "queues");
  const auto bad = ParseQueueFile("queues: [\n", "request body", &member);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(member, "");
  EXPECT_TRUE(bad.error().message().starts_with("request body:")) << bad.error().message();
  EXPECT_TRUE(ParseQueueFile("queues: []\n", "b", &member).has_value());
  EXPECT_EQ(member, "");
}

// JSON is YAML: the API's JSON body reads the same; on one line, every error is at line 1.
TEST(QueueFileTest, ReadsJson) {
  const auto q = ParseQueueFile(R"({"queues": [{"name": "a", "limit": 4}, {"name": "b"}]})", "b");
  ASSERT_TRUE(q.has_value()) << q.error().ToString();
  ASSERT_EQ(q->size(), 2u);
  EXPECT_DOUBLE_EQ((*q)[0].limit_gpus, 4);
  EXPECT_EQ(ParseQueueFile(R"({"queues": [{"name": "a", "limits": 4}]})", "b").error().message(),
            "b:1: queues[0].limits: unknown member (known: name, guaranteed, limit, weight, "
            "parent, models)");
}

// The text leaves out the defaults and reads back as the same queues, exactly (0.1 + 0.2 is not
// 0.3 and stays so).
TEST(QueueFileTest, TextReadsBackAsTheSameQueues) {
  const std::vector<queue::QueueSpec> queues = {
      {"org", "", 16, std::numeric_limits<double>::infinity(), 1},
      {"research", "org", 0.1 + 0.2, 24, 2.5},
  };
  const std::string text = QueueFileText(queues);
  EXPECT_EQ(text,
            "queues:\n"
            "  - name: org\n"
            "    guaranteed: 16\n"
            "  - name: research\n"
            "    guaranteed: 0.30000000000000004\n"
            "    limit: 24\n"
            "    weight: 2.5\n"
            "    parent: org\n");
  const auto back = ParseQueueFile(text, "t");
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].guaranteed_gpus, 0.1 + 0.2);
  EXPECT_EQ((*back)[1].parent, "org");
  EXPECT_TRUE(std::isinf((*back)[0].limit_gpus));
  EXPECT_EQ(QueueFileText(*back), text);
  EXPECT_EQ(QueueFileText({}), "queues: []\n");
  EXPECT_TRUE(ParseQueueFile(QueueFileText({}), "t")->empty());
}

// One line per queue that changes: those of `before` in their order, then the added ones; the
// order of the queues alone changes nothing.
TEST(QueueFileTest, ChangesNameEachQueueAndMember) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<queue::QueueSpec> before = {
      {"org", "", 16, inf, 1}, {"research", "org", 8, 12, 1}, {"old", "", 0, inf, 1}};
  const std::vector<queue::QueueSpec> after = {
      {"vision", "research", 0, 6, 1}, {"research", "org", 8, inf, 2}, {"org", "", 16, inf, 1}};
  EXPECT_EQ(QueueChanges(before, after),
            (std::vector<std::string>{
                "'research': limit 12 -> none, weight 1 -> 2", "removed 'old'",
                "added 'vision' (guaranteed 0, limit 6, weight 1, parent research)"}));
  EXPECT_TRUE(QueueChanges(before, {before[2], before[0], before[1]}).empty());
  EXPECT_TRUE(QueueChanges({}, {}).empty());
}

// Per-model shares: a queue without its own `guaranteed` is guaranteed the sum of its models'.
TEST(QueueFileTest, ReadsPerModelShares) {
  const auto q = ParseQueueFile(
      "queues:\n"
      "  - name: a\n"
      "    models:\n"
      "      H100: {guaranteed: 4, limit: 6}\n"
      "      A100-SXM-80GB:\n"
      "        guaranteed: 2\n"
      "  - name: b\n"
      "    guaranteed: 10\n"
      "    models: {T4: {limit: 3}}\n",
      "q.yaml");
  ASSERT_TRUE(q.has_value()) << q.error().ToString();
  ASSERT_EQ(q->size(), 2u);
  const queue::QueueSpec& a = (*q)[0];
  EXPECT_DOUBLE_EQ(a.guaranteed_gpus, 6);  // 4 H100 + 2 A100
  ASSERT_EQ(a.models.size(), 2u);
  EXPECT_DOUBLE_EQ(a.models.at("H100").guaranteed_gpus, 4);
  EXPECT_DOUBLE_EQ(a.models.at("H100").limit_gpus, 6);
  EXPECT_DOUBLE_EQ(a.models.at("A100-SXM-80GB").guaranteed_gpus, 2);
  EXPECT_TRUE(std::isinf(a.models.at("A100-SXM-80GB").limit_gpus));
  const queue::QueueSpec& b = (*q)[1];
  EXPECT_DOUBLE_EQ(b.guaranteed_gpus, 10);  // its own, not its models' 0
  EXPECT_DOUBLE_EQ(b.models.at("T4").guaranteed_gpus, 0);
  EXPECT_DOUBLE_EQ(b.models.at("T4").limit_gpus, 3);
}

TEST(QueueFileTest, PerModelErrorsNameTheFileLineAndMember) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"queues:\n  - name: a\n    models: [H100]\n",
       "q.yaml:3: queues[0].models: must be a mapping of GPU model to {guaranteed, limit}"},
      {"queues:\n  - name: a\n    models:\n      H100: 4\n",
       "q.yaml:4: queues[0].models.H100: must be a mapping (guaranteed, limit)"},
      {"queues:\n  - name: a\n    models:\n      H100: {guaranted: 4}\n",
       "q.yaml:4: queues[0].models.H100.guaranted: unknown member (known: guaranteed, limit)"},
      {"queues:\n  - name: a\n    models:\n      H100:\n        limit: many\n",
       "q.yaml:5: queues[0].models.H100.limit: 'many' is not a number"},
      // The set's rules at the line of the model's member.
      {"queues:\n  - name: a\n    models:\n      H100:\n        guaranteed: 4\n"
       "        limit: 2\n",
       "q.yaml:6: queues[0].models.H100.limit: 2 is below the model's guarantee 4"},
      {"queues:\n  - name: a\n  - name: b\n    guaranteed: 4\n    models:\n"
       "      A100: {guaranteed: 2}\n      H100: {guaranteed: 3}\n",
       "q.yaml:7: queues[1].models.H100.guaranteed: the per-model guarantees come to 5 GPUs, more "
       "than the queue's guarantee 4"},
      // p: 4 untied; its child wants 6 of H100.
      {"queues:\n  - name: p\n    guaranteed: 4\n  - name: c\n    parent: p\n"
       "    guaranteed: 4\n    models:\n      H100: {guaranteed: 6}\n",
       "q.yaml:8: queues[1].models.H100.guaranteed: the per-model guarantees come to 6 GPUs, more "
       "than the queue's guarantee 4"},
      {"queues:\n  - name: p\n    guaranteed: 6\n    models:\n      T4: {guaranteed: 4}\n"
       "  - name: c\n    parent: p\n    models:\n      H100: {guaranteed: 3}\n",
       "q.yaml:5: queues[0].models.H100.guaranteed: its children are guaranteed 3 GPUs of H100, "
       "more than it can cover: 0 of H100 and 2 of its guarantee tied to no model"},
  };
  for (const auto& c : cases) {
    std::string member;
    const auto q = ParseQueueFile(c.text, "q.yaml", &member);
    ASSERT_FALSE(q.has_value()) << c.text;
    EXPECT_EQ(q.error().message(), c.message) << c.text;
    const std::string m = c.message;
    const std::size_t from = m.find("queues[");
    EXPECT_EQ(member, m.substr(from, m.find(": ", from) - from)) << c.text;
  }
}

// Per-model shares written out read back exactly, names that are not plain YAML quoted.
TEST(QueueFileTest, PerModelTextReadsBack) {
  const double inf = std::numeric_limits<double>::infinity();
  queue::QueueSpec a{"a", "", 8, inf, 1};
  a.models = {{"H100", {4, 6}}, {"A100", {0.1 + 0.2, inf}}, {"odd: name", {0, 2}}};
  const std::string text = QueueFileText({a});
  EXPECT_EQ(text,
            "queues:\n"
            "  - name: a\n"
            "    guaranteed: 8\n"
            "    models:\n"
            "      A100: {guaranteed: 0.30000000000000004}\n"
            "      H100: {guaranteed: 4, limit: 6}\n"
            "      \"odd: name\": {limit: 2}\n");
  const auto back = ParseQueueFile(text, "t");
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].models, a.models);
  EXPECT_EQ(QueueFileText(*back), text);
  EXPECT_TRUE(QueueChanges({a}, *back).empty());
}

TEST(QueueFileTest, ChangesNamePerModelMembers) {
  const double inf = std::numeric_limits<double>::infinity();
  queue::QueueSpec before{"a", "", 8, inf, 1};
  before.models = {{"H100", {4, inf}}, {"A100", {2, inf}}};
  queue::QueueSpec after = before;
  after.models = {{"H100", {4, 8}}, {"T4", {0, 2}}};
  queue::QueueSpec added{"v", "", 0, inf, 1};
  added.models = {{"T4", {0, 1}}};
  EXPECT_EQ(QueueChanges({before}, {after, added}),
            (std::vector<std::string>{
                "'a': models.A100 removed, models.H100.limit none -> 8, models.T4 added "
                "(guaranteed 0, limit 2)",
                "added 'v' (guaranteed 0, limit none, weight 1, T4 guaranteed 0 limit 1)"}));
}

// `order:` names the pool's job order; it is checked as `--order` is, written back first, and
// absent when the file names none.
TEST(QueueFileTest, TheOrderIsReadCheckedAndWrittenBack) {
  const auto c = ParseQueueConfig("order: las:3600,36000\nqueues:\n  - name: a\n", "q.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->order, "las:3600,36000");
  ASSERT_EQ(c->queues.size(), 1u);
  EXPECT_EQ(QueueConfigText(*c), "order: las:3600,36000\n" + QueueFileText(c->queues));
  const auto back = ParseQueueConfig(QueueConfigText(*c), "t");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->order, c->order);
  EXPECT_EQ(ParseQueueConfig("queues: []\n", "t")->order, "");
  EXPECT_EQ(QueueConfigText(QueueConfig{"", {}}), "queues: []\n");
  std::string member;
  const auto bad = ParseQueueConfig("queues: []\norder: soonest\n", "q.yaml", &member);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(member, "order");
  EXPECT_TRUE(bad.error().message().starts_with("q.yaml:2: order: ")) << bad.error().message();
  EXPECT_NE(bad.error().message().find("soonest"), std::string::npos) << bad.error().message();
  const auto list = ParseQueueConfig("order: [fifo]\nqueues: []\n", "q.yaml", &member);
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().message(), "q.yaml:1: order: must be the name of an order");
}

}  // namespace
}  // namespace gpupool::server

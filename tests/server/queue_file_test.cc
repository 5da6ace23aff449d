#include "server/queue_file.h"

#include <gtest/gtest.h>

#include <cmath>

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
      {"queue: []\n", "q.yaml:1: queues: missing (a list of queues)"},
      {"queues:\n  - guaranteed: 4\n", "q.yaml:2: queues[0].name: missing"},
      {"queues:\n  - name: a\n    guarantee: 4\n",
       "q.yaml:3: queues[0].guarantee: unknown member (known: name, guaranteed, limit, weight, "
       "parent)"},
      {"queues:\n  - name: a\n    limit: lots\n",
       "q.yaml:3: queues[0].limit: 'lots' is not a number"},
      {"queues:\n  - name: a\n  - name: b\n    guaranteed: 8\n    limit: 4\n",
       "q.yaml:3: queue 'b': limit: 4 is below the guarantee 8"},
      {"queues:\n  - name: a\n    parent: nowhere\n",
       "q.yaml:2: queue 'a': parent: unknown queue 'nowhere'"},
  };
  for (const auto& c : cases) {
    const auto q = ParseQueueFile(c.text, "q.yaml");
    ASSERT_FALSE(q.has_value()) << c.text;
    EXPECT_EQ(q.error().message(), c.message) << c.text;
  }
}

}  // namespace
}  // namespace gpupool::server

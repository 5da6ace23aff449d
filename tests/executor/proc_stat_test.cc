#include "executor/proc_stat.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor_test_util.h"

namespace gpupool::executor {
namespace {

TEST(ProcStatTest, ParsesFieldsAfterTheLastParenthesis) {
  // A command name with spaces and ')' in it, as a program may set with prctl(PR_SET_NAME).
  // Fields after the name: state (3), then 18 fields (4..21), then starttime (22) = 987654.
  const char* text =
      "1234 (a) b (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200 "
      "18446744073709551615\n";
  const auto stat = ParseProcStat(text);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->start_ticks, 987654);
}

TEST(ProcStatTest, RejectsMalformedText) {
  EXPECT_FALSE(ParseProcStat("").has_value());
  EXPECT_FALSE(ParseProcStat("1234 no parenthesis S 1").has_value());
  EXPECT_FALSE(ParseProcStat("1234 (x) S 1 2 3").has_value());  // too few fields
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x 1").has_value());
}

TEST(ProcStatTest, ReadsThisProcessLikeAnIndependentParser) {
  const auto stat = ReadProcStat(getpid());
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(std::string(1, stat->state), testing::StatField(getpid(), 3));
  EXPECT_EQ(std::to_string(stat->start_ticks), testing::StatField(getpid(), 22));
  EXPECT_TRUE(IsSameLiveProcess(getpid(), stat->start_ticks));
  EXPECT_FALSE(IsSameLiveProcess(getpid(), stat->start_ticks + 1));  // a reused pid
}

TEST(ProcStatTest, ZombieAndReapedChildrenAreNotLive) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_TRUE(testing::WaitFor([&] { return testing::StatField(child, 3) == "Z"; }));
  const auto zombie = ReadProcStat(child);
  ASSERT_TRUE(zombie.has_value());
  EXPECT_EQ(zombie->state, 'Z');
  EXPECT_FALSE(IsSameLiveProcess(child, zombie->start_ticks));
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  EXPECT_FALSE(ReadProcStat(child).has_value());
  EXPECT_FALSE(ReadProcStat(0).has_value());
  EXPECT_FALSE(ReadProcStat(-1).has_value());
}

}  // namespace
}  // namespace gpupool::executor

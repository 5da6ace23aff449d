#include "common/status.h"

#include <gtest/gtest.h>

namespace gpupool {
namespace {

TEST(StatusTest, OkHasNoMessageAndExitsZero) {
  Status s = Status::Ok();
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.ExitCode(), 0);
}

TEST(StatusTest, BadInputExitsTwoOtherFailuresOne) {
  EXPECT_EQ(Status::InvalidArgument("pods.csv:3: cpu_milli: not a number").ExitCode(), 2);
  EXPECT_EQ(Status::NotFound("no such policy").ExitCode(), 2);
  EXPECT_EQ(Status::IoError("disk full").ExitCode(), 1);
  EXPECT_EQ(Status::InvalidArgument("x").ToString(), "INVALID_ARGUMENT: x");
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Error(Status::InvalidArgument("odd"));
  return v / 2;
}

TEST(StatusTest, ResultCarriesValueOrError) {
  ASSERT_TRUE(Half(8).has_value());
  EXPECT_EQ(*Half(8), 4);
  ASSERT_FALSE(Half(3).has_value());
  EXPECT_EQ(Half(3).error().message(), "odd");
}

}  // namespace
}  // namespace gpupool

#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

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

// --- GP_RETURN_IF_ERROR and GP_ASSIGN_OR_RETURN
// --------------------------------------------------- Each helper records how far it got in
// `reached`, so a macro that swallowed an error (went on past it) or stopped on success shows up as
// a wrong step count, not only as a wrong value.

Status Check(bool ok) { return ok ? Status::Ok() : Status::NotFound("missing"); }

Status TwoChecks(bool first, bool second, int* reached) {
  *reached = 0;
  GP_RETURN_IF_ERROR(Check(first));
  *reached = 1;
  GP_RETURN_IF_ERROR(Check(second));
  *reached = 2;
  return Status::Ok();
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheFirstStatusErrorAndPassesOk) {
  int reached = -1;
  EXPECT_TRUE(TwoChecks(true, true, &reached).ok());
  EXPECT_EQ(reached, 2);
  const Status s = TwoChecks(true, false, &reached);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "missing");
  EXPECT_EQ(reached, 1);
  EXPECT_EQ(TwoChecks(false, true, &reached).code(), StatusCode::kNotFound);
  EXPECT_EQ(reached, 0);
}

// GP_RETURN_IF_ERROR on a Result<T> (value dropped) inside a function returning Result<T>.
Result<std::string> Describe(int v, int* reached) {
  *reached = 0;
  GP_RETURN_IF_ERROR(Half(v));  // Result<int> in a Result function
  *reached = 1;
  GP_RETURN_IF_ERROR(Check(v > 0));  // Status in a Result function
  *reached = 2;
  return "even " + std::to_string(v);
}

TEST(StatusMacrosTest, ReturnIfErrorTakesResultsAndWorksInResultFunctions) {
  int reached = -1;
  auto ok = Describe(8, &reached);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, "even 8");
  EXPECT_EQ(reached, 2);
  auto odd = Describe(3, &reached);
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().message(), "odd");  // Half's error, unchanged
  EXPECT_EQ(odd.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reached, 0);
  auto negative = Describe(-4, &reached);  // Half(-4) is fine, Check(false) fails
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(reached, 1);
}

// GP_ASSIGN_OR_RETURN into a declaration and into an existing member, in a Result function.
struct Pair {
  int a = -1;
  int b = -1;
};
Result<Pair> Quarters(int x, int y, int* reached) {
  *reached = 0;
  Pair p;
  GP_ASSIGN_OR_RETURN(const int half_x, Half(x));
  GP_ASSIGN_OR_RETURN(p.a, Half(half_x));
  *reached = 1;
  GP_ASSIGN_OR_RETURN(p.b, Half(y));
  *reached = 2;
  return p;
}

TEST(StatusMacrosTest, AssignOrReturnBindsValuesAndReturnsErrors) {
  int reached = -1;
  auto ok = Quarters(12, 10, &reached);  // 12/2/2 = 3, 10/2 = 5
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->a, 3);
  EXPECT_EQ(ok->b, 5);
  EXPECT_EQ(reached, 2);
  auto bad_inner = Quarters(6, 10, &reached);  // 6/2 = 3 is odd: the second Half fails
  ASSERT_FALSE(bad_inner.has_value());
  EXPECT_EQ(bad_inner.error().message(), "odd");
  EXPECT_EQ(reached, 0);
  auto bad_last = Quarters(12, 7, &reached);
  ASSERT_FALSE(bad_last.has_value());
  EXPECT_EQ(reached, 1);
}

// GP_ASSIGN_OR_RETURN in a function returning Status, with a move-only value, evaluating its
// expression once.
Result<std::unique_ptr<int>> Boxed(int v, int* calls) {
  ++*calls;
  if (v < 0) return Error(Status::Unavailable("negative"));
  return std::make_unique<int>(v);
}
Status Unbox(int v, int* out, int* calls) {
  GP_ASSIGN_OR_RETURN(std::unique_ptr<int> box, Boxed(v, calls));
  *out = *box;
  return Status::Ok();
}

TEST(StatusMacrosTest, AssignOrReturnWorksInStatusFunctionsWithMoveOnlyValues) {
  int out = 0;
  int calls = 0;
  EXPECT_TRUE(Unbox(7, &out, &calls).ok());
  EXPECT_EQ(out, 7);
  EXPECT_EQ(calls, 1);
  out = 0;
  const Status s = Unbox(-1, &out, &calls);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "negative");
  EXPECT_EQ(out, 0);  // not reached
  EXPECT_EQ(calls, 2);
}

// Two on one line need distinct hidden names (__COUNTER__, not __LINE__).
Result<int> SumOfHalves(int x, int y) {
  // clang-format off
  GP_ASSIGN_OR_RETURN(int a, Half(x)); GP_ASSIGN_OR_RETURN(int b, Half(y));
  // clang-format on
  return a + b;
}

TEST(StatusMacrosTest, AssignOrReturnTwiceOnOneLine) {
  EXPECT_EQ(SumOfHalves(4, 6).value(), 5);  // 2 + 3
  EXPECT_FALSE(SumOfHalves(4, 5).has_value());
}

// Error() converts to a Status, so `return Error(s);` means the same in both kinds of function.
TEST(StatusMacrosTest, ErrorConvertsToStatus) {
  const Status s = Error(Status::IoError("disk"));
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "disk");
}

}  // namespace
}  // namespace gpupool

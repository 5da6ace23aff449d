#include "executor/process_ref.h"

#include <gtest/gtest.h>

namespace gpupool::executor {
namespace {

TEST(ProcessRefTest, RoundTripsThroughJson) {
  const ProcessRef ref{4242, 123456789012, 4243};
  const nlohmann::json json = ToJson(ref);
  EXPECT_EQ(json, nlohmann::json::parse(
                      R"({"shepherd_pid":4242,"shepherd_start_ticks":123456789012,"pgid":4243})"));
  const auto back = ProcessRefFromJson(json);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(*back, ref);
  // The text form, as the service stores it.
  const auto reparsed = ProcessRefFromJson(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(reparsed.has_value());
  EXPECT_EQ(*reparsed, ref);
}

TEST(ProcessRefTest, IgnoresUnknownMembers) {
  const auto ref = ProcessRefFromJson(
      nlohmann::json::parse(R"({"shepherd_pid":1,"shepherd_start_ticks":0,"pgid":2,"x":true})"));
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(*ref, (ProcessRef{1, 0, 2}));
}

TEST(ProcessRefTest, ErrorsNameTheMember) {
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {R"([1,2,3])", "process ref: not a JSON object: [1,2,3]"},
      {R"({"shepherd_start_ticks":1,"pgid":2})", "process ref: shepherd_pid: missing"},
      {R"({"shepherd_pid":"12","shepherd_start_ticks":1,"pgid":2})",
       "process ref: shepherd_pid: not an integer: \"12\""},
      {R"({"shepherd_pid":1.5,"shepherd_start_ticks":1,"pgid":2})",
       "process ref: shepherd_pid: not an integer: 1.5"},
      {R"({"shepherd_pid":0,"shepherd_start_ticks":1,"pgid":2})",
       "process ref: shepherd_pid: 0 is out of range"},
      {R"({"shepherd_pid":2147483648,"shepherd_start_ticks":1,"pgid":2})",
       "process ref: shepherd_pid: 2147483648 is out of range"},
      {R"({"shepherd_pid":1,"shepherd_start_ticks":-1,"pgid":2})",
       "process ref: shepherd_start_ticks: -1 is out of range"},
      {R"({"shepherd_pid":1,"shepherd_start_ticks":18446744073709551615,"pgid":2})",
       "process ref: shepherd_start_ticks: 18446744073709551615 is out of range"},
      {R"({"shepherd_pid":1,"shepherd_start_ticks":1})", "process ref: pgid: missing"},
      {R"({"shepherd_pid":1,"shepherd_start_ticks":1,"pgid":-5})",
       "process ref: pgid: -5 is out of range"},
  };
  for (const Case& c : cases) {
    const auto ref = ProcessRefFromJson(nlohmann::json::parse(c.json));
    ASSERT_FALSE(ref.has_value()) << c.json;
    EXPECT_EQ(ref.error().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(ref.error().message(), c.message) << c.json;
  }
}

}  // namespace
}  // namespace gpupool::executor

#include "discovery/run_command.h"

#include <gtest/gtest.h>

namespace gpupool::discovery {
namespace {

TEST(RunCommandTest, CapturesOutputAndExitCode) {
  const CommandResult r = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"}, 10000);
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("out\n"), std::string::npos);
  EXPECT_NE(r.output.find("err\n"), std::string::npos);
}

TEST(RunCommandTest, MissingProgramDoesNotStart) {
  const CommandResult r = RunCommand({"/nonexistent/program"}, 10000);
  EXPECT_FALSE(r.started);
}

TEST(RunCommandTest, SlowProgramIsKilledAtTheLimit) {
  const CommandResult r = RunCommand({"sleep", "30"}, 200);
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
}

TEST(RunCommandTest, FindsProgramsOnTheGivenPath) {
  EXPECT_EQ(FindOnPath("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(FindOnPath("no-such-program-gpupool", "/bin:/usr/bin"), "");
}

}  // namespace
}  // namespace gpupool::discovery

#include "common/run_command.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "testing/temp_dir.h"

namespace gpupool {
namespace {

TEST(RunCommandTest, CapturesOutputAndExitCode) {
  const CommandResult r = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"}, 10000);
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("out\n"), std::string::npos);
  EXPECT_NE(r.output.find("err\n"), std::string::npos);
  EXPECT_EQ(r.error_output, "");
}

TEST(RunCommandTest, SeparateStderrKeepsTheStreamsApart) {
  CommandOptions o;
  o.separate_stderr = true;
  const CommandResult r = RunCommand({"sh", "-c", "echo out; echo err >&2; echo more; exit 5"}, o);
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(r.output, "out\nmore\n");
  EXPECT_EQ(r.error_output, "err\n");
}

TEST(RunCommandTest, ArgumentsReachTheProgramUninterpreted) {
  // printf '%s|' prints each argument as given; a shell would expand $(...), $HOME and the
  // quotes, split "a b" and glob '*'.
  const std::string awkward = "a b 'c' \"d\" $(echo no) $HOME * ;x";
  const CommandResult r = RunCommand({"printf", "%s|", awkward, ""}, 10000);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, awkward + "||");
}

TEST(RunCommandTest, RunsInTheGivenWorkingDirectoryWhateverItsName) {
  testing::TempDir tmp;
  const auto dir = tmp.path() / "it's a \"dir\" $(touch pwned)";
  std::filesystem::create_directories(dir);
  CommandOptions o;
  o.working_dir = dir.string();
  const CommandResult r = RunCommand({"pwd", "-P"}, o);
  EXPECT_EQ(r.exit_code, 0) << r.start_error;
  EXPECT_EQ(r.output, std::filesystem::canonical(dir).string() + "\n");
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "pwned"));
  EXPECT_FALSE(std::filesystem::exists(dir / "pwned"));
}

TEST(RunCommandTest, MissingWorkingDirectoryIsAStartError) {
  CommandOptions o;
  o.working_dir = "/nonexistent/gpupool-dir";
  const CommandResult r = RunCommand({"true"}, o);
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.start_error, "chdir /nonexistent/gpupool-dir: No such file or directory");
}

TEST(RunCommandTest, MissingProgramDoesNotStart) {
  const CommandResult r = RunCommand({"/nonexistent/program"}, 10000);
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.start_error, "exec /nonexistent/program: No such file or directory");
}

TEST(RunCommandTest, OutputIsCappedAndTheRestDrained) {
  CommandOptions o;
  o.max_output_bytes = 10;
  // 100,000 bytes: more than a pipe holds, so the child would block if the rest were not read.
  const CommandResult r = RunCommand({"head", "-c", "100000", "/dev/zero"}, o);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.output.size(), 10u);
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

TEST(RunCommandTest, FindOnPathPassesOverDirectoriesAndFilesThatCannotRun) {
  testing::TempDir a;  // a/tool: a file without execute permission
  testing::TempDir b;  // b/tool: a directory; b/tool2: an executable file
  const std::string tool = a.Write("tool", "#!/bin/sh\n");
  std::filesystem::permissions(tool, std::filesystem::perms::owner_read);
  std::filesystem::create_directory(b.File("tool"));
  const std::string tool2 = b.Write("tool2", "#!/bin/sh\n");
  std::filesystem::permissions(tool2, std::filesystem::perms::owner_all);
  const std::string both = a.path().string() + ":" + b.path().string();

  int why = 0;
  EXPECT_EQ(FindOnPath("tool", both, &why), "");
  EXPECT_EQ(why, EACCES);  // execvp: "Permission denied"
  EXPECT_EQ(FindOnPath("tool", b.path().string(), &why), "");
  EXPECT_EQ(why, ENOENT);  // a directory is not a program
  EXPECT_EQ(FindOnPath("tool2", both, &why), tool2);
}

}  // namespace
}  // namespace gpupool

// The binary's own flags (apps/gpupool/main.cc).
#include <gtest/gtest.h>

#include <regex>

#include "common/run_command.h"

namespace gpupool::app {
namespace {

TEST(MainTest, VersionNamesTheReleaseAndTheGitRevision) {
  const auto r = RunCommand({GPUPOOL_BINARY, "--version"}, 10000);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The project version of CMakeLists.txt and a 12-digit revision (or "unknown" outside git).
  EXPECT_TRUE(
      std::regex_match(r.output, std::regex(R"(gpupool 0\.1\.0 \(git ([0-9a-f]{12}|unknown)\)\n)")))
      << r.output;
}

}  // namespace
}  // namespace gpupool::app

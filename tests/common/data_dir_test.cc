// DataDir lookup (src/common/data_dir.h): GPUPOOL_DATA_DIR, then the install layout beside the
// binary, then the source tree only for a binary inside its build tree.
#include "common/data_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "testing/temp_dir.h"

namespace gpupool {
namespace {

namespace fs = std::filesystem;

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    source_data_ = tmp_.path() / "src" / "data";
    fs::create_directories(source_data_);
    probe_.install_relative = "../share/gpupool";
    probe_.build_dir = tmp_.path() / "src" / "build";
    probe_.source_data_dir = source_data_;
  }

  testing::TempDir tmp_;
  fs::path source_data_;
  DataDirProbe probe_;
};

TEST_F(DataDirTest, TheFirstPlaceThatAppliesWins) {
  // In the header's order: GPUPOOL_DATA_DIR, the install layout beside the binary
  // (<prefix>/bin/gpupool -> <prefix>/bin/../share/gpupool = <prefix>/share/gpupool), the source
  // tree for a binary inside its build tree. Each row's install directory is created before it
  // runs.
  const fs::path prefix = tmp_.path() / "prefix";
  const fs::path moved = tmp_.path() / "opt" / "moved-here";
  const fs::path staged = probe_.build_dir / "stage";  // an install into the build tree
  struct Case {
    const char* what;
    const char* env;  // GPUPOOL_DATA_DIR; nullptr: not set
    fs::path exe;
    fs::path install_dir;  // created when not empty
    fs::path want;
  };
  const std::vector<Case> cases = {
      // Taken as given, even when missing: the reader's error names it.
      {"environment wins even over an install layout", "/nowhere/gpupool-data",
       prefix / "bin" / "gpupool", prefix / "share" / "gpupool", "/nowhere/gpupool-data"},
      {"install layout beside the binary, wherever the tree was moved", nullptr,
       moved / "bin" / "gpupool", moved / "share" / "gpupool", moved / "share" / "gpupool"},
      {"install layout inside the build tree wins over the source tree", nullptr,
       staged / "bin" / "gpupool", staged / "share" / "gpupool", staged / "share" / "gpupool"},
      // build/apps/gpupool/../share/gpupool does not exist.
      {"binary in its build tree reads the source tree", nullptr,
       probe_.build_dir / "apps" / "gpupool" / "gpupool", fs::path(), source_data_},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    DataDirProbe probe = probe_;
    probe.env_set = c.env != nullptr;
    probe.env_value = c.env != nullptr ? c.env : "";
    probe.exe = c.exe;
    if (!c.install_dir.empty()) fs::create_directories(c.install_dir);
    auto dir = FindDataDir(probe);
    ASSERT_TRUE(dir.has_value()) << dir.error().message();
    EXPECT_EQ(*dir, c.want);
  }
}

TEST_F(DataDirTest, InstalledBinaryNeverReadsTheSourceTree) {
  // build-other shares a prefix of characters with build but is not inside it.
  for (const fs::path& exe : {tmp_.path() / "prefix" / "bin" / "gpupool",
                              tmp_.path() / "src" / "build-other" / "gpupool"}) {
    probe_.exe = exe;
    auto dir = FindDataDir(probe_);
    ASSERT_FALSE(dir.has_value()) << exe << " -> " << *dir;
    const std::string& m = dir.error().message();
    EXPECT_EQ(dir.error().code(), StatusCode::kNotFound);
    EXPECT_NE(m.find("GPUPOOL_DATA_DIR (not set)"), std::string::npos) << m;
    EXPECT_NE(m.find((exe.parent_path().parent_path() / "share" / "gpupool").string() +
                     " (install layout beside " + exe.string() + ": no such directory)"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find(source_data_.string() + " (source tree: not used"), std::string::npos) << m;
  }
}

TEST_F(DataDirTest, MissingSourceTreeIsNamed) {
  probe_.exe = probe_.build_dir / "apps" / "gpupool" / "gpupool";
  fs::remove(source_data_);
  auto dir = FindDataDir(probe_);
  ASSERT_FALSE(dir.has_value());
  EXPECT_NE(dir.error().message().find(source_data_.string() + " (source tree: no such directory)"),
            std::string::npos)
      << dir.error().message();
}

TEST_F(DataDirTest, UnknownBinaryLocationIsReported) {
  probe_.exe_error = "cannot read /proc/self/exe: No such file or directory";
  auto dir = FindDataDir(probe_);
  ASSERT_FALSE(dir.has_value());
  EXPECT_NE(dir.error().message().find(probe_.exe_error), std::string::npos)
      << dir.error().message();
}

TEST(DataDirProcessTest, ThisTestBinaryReadsTheSourceTreeItWasBuiltFrom) {
  // Test binaries live in the build tree and are never installed.
  const DataDirProbe probe = CurrentDataDirProbe();
  ASSERT_FALSE(probe.exe.empty()) << probe.exe_error;
  EXPECT_EQ(probe.exe.filename(), "data_dir_tests");
  EXPECT_EQ(probe.source_data_dir, fs::path(GPUPOOL_SOURCE_DATA_DIR));
  if (!probe.env_set) {
    auto dir = FindDataDir(probe);
    ASSERT_TRUE(dir.has_value()) << dir.error().message();
    EXPECT_EQ(*dir, fs::path(GPUPOOL_SOURCE_DATA_DIR));
  }
}

}  // namespace
}  // namespace gpupool

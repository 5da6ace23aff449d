// DataDir lookup (src/common/data_dir.h): GPUPOOL_DATA_DIR, then the install layout beside the
// binary, then the source tree only for a binary inside its build tree.
#include "common/data_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

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

TEST_F(DataDirTest, EnvironmentWinsEvenOverAnInstallLayout) {
  probe_.exe = tmp_.path() / "prefix" / "bin" / "gpupool";
  fs::create_directories(tmp_.path() / "prefix" / "share" / "gpupool");
  probe_.env_set = true;
  probe_.env_value = "/nowhere/gpupool-data";  // taken as given: the reader's error names it
  auto dir = FindDataDir(probe_);
  ASSERT_TRUE(dir.has_value()) << dir.error().message();
  EXPECT_EQ(*dir, fs::path("/nowhere/gpupool-data"));
}

TEST_F(DataDirTest, InstallLayoutIsFoundBesideTheBinary) {
  // <prefix>/bin/gpupool -> <prefix>/bin/../share/gpupool = <prefix>/share/gpupool.
  const fs::path prefix = tmp_.path() / "opt" / "moved-here";
  fs::create_directories(prefix / "share" / "gpupool");
  probe_.exe = prefix / "bin" / "gpupool";
  auto dir = FindDataDir(probe_);
  ASSERT_TRUE(dir.has_value()) << dir.error().message();
  EXPECT_EQ(*dir, prefix / "share" / "gpupool");
}

TEST_F(DataDirTest, InstallLayoutWinsOverTheSourceTreeInsideTheBuildTree) {
  // An install into a prefix inside the build directory still reads its own copy.
  const fs::path prefix = probe_.build_dir / "stage";
  fs::create_directories(prefix / "share" / "gpupool");
  probe_.exe = prefix / "bin" / "gpupool";
  auto dir = FindDataDir(probe_);
  ASSERT_TRUE(dir.has_value()) << dir.error().message();
  EXPECT_EQ(*dir, prefix / "share" / "gpupool");
}

TEST_F(DataDirTest, BinaryInItsBuildTreeReadsTheSourceTree) {
  probe_.exe = probe_.build_dir / "apps" / "gpupool" / "gpupool";
  auto dir = FindDataDir(probe_);
  ASSERT_TRUE(dir.has_value()) << dir.error().message();
  EXPECT_EQ(*dir, source_data_);
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

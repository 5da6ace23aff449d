// `cmake --install` (packaging/CMakeLists.txt, apps/gpupool/CMakeLists.txt): the installed tree
// holds the binary, its data, the man page and the systemd unit, and keeps working after it is
// moved, with GPUPOOL_DATA_DIR unset (src/common/data_dir.h: the install layout beside the binary).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/run_command.h"
#include "testing/temp_dir.h"

namespace gpupool {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Lines of a CSV file after its header.
int CsvRows(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  int rows = -1;
  while (std::getline(in, line)) {
    if (!line.empty()) ++rows;
  }
  return rows;
}

// The `- name: X` entries of a catalog file, read with a regex rather than the catalog's reader.
std::vector<std::string> CatalogNames(const fs::path& yaml) {
  std::vector<std::string> names;
  std::ifstream in(yaml);
  std::string line;
  const std::regex entry(R"(^- name: *([^ #]+))");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, entry)) names.push_back(m[1]);
  }
  return names;
}

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The installed binary must find its data by itself.
    unsetenv("GPUPOOL_DATA_DIR");
    ASSERT_FALSE(tmp_.path().empty());
    prefix_ = tmp_.path() / "prefix";
    const auto r = RunCommand(
        {GPUPOOL_CMAKE_COMMAND, "--install", GPUPOOL_BUILD_TREE, "--prefix", prefix_.string()},
        120000);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  testing::TempDir tmp_;
  fs::path prefix_;
};

TEST_F(InstallTest, PutsTheBinaryDataManPageAndUnitUnderThePrefix) {
  EXPECT_TRUE(fs::is_regular_file(prefix_ / "bin" / "gpupool"));
  // Every file of the source tree's data/ is installed under share/gpupool/ (licence notes too).
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(GPUPOOL_SOURCE_DATA_DIR)) {
    if (!e.is_regular_file()) continue;
    const fs::path rel = fs::relative(e.path(), GPUPOOL_SOURCE_DATA_DIR);
    EXPECT_TRUE(fs::is_regular_file(prefix_ / "share" / "gpupool" / rel)) << rel;
    ++files;
  }
  EXPECT_GT(files, 30);
  EXPECT_TRUE(fs::is_regular_file(prefix_ / "share/gpupool/traces/openb/LICENSE-NOTE.md"));
  EXPECT_TRUE(fs::is_regular_file(prefix_ / "share/man/man1/gpupool.1.gz"));
  // The unit runs the binary of this prefix as the gpupool user, its data in /var/lib/gpupool.
  const std::string unit = ReadFile(prefix_ / "lib/systemd/system/gpupool.service");
  EXPECT_NE(unit.find("\nExecStart=" + (prefix_ / "bin" / "gpupool").string() +
                      " serve --data-dir /var/lib/gpupool $GPUPOOL_OPTS\n"),
            std::string::npos)
      << unit;
  EXPECT_NE(unit.find("\nUser=gpupool\n"), std::string::npos);
  EXPECT_NE(unit.find("\nStateDirectory=gpupool\n"), std::string::npos);
  EXPECT_EQ(unit.find("@GPUPOOL_BINDIR@"), std::string::npos);
}

TEST_F(InstallTest, MovedTreeFindsItsDataAndRuns) {
  const fs::path moved = tmp_.path() / "somewhere" / "else";
  fs::create_directories(moved.parent_path());
  fs::rename(prefix_, moved);
  ASSERT_FALSE(fs::exists(prefix_));
  const std::string gpupool = (moved / "bin" / "gpupool").string();
  const fs::path data = moved / "share" / "gpupool";

  auto r = RunCommand({gpupool, "--version"}, 10000);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind(std::string("gpupool ") + GPUPOOL_TEST_VERSION + " (git ", 0), 0u)
      << r.output;

  // Every GPU of the installed catalog is listed, one row each.
  r = RunCommand({gpupool, "hw", "list", "--what", "gpus"}, 30000);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto names = CatalogNames(data / "hw" / "gpus.yaml");
  ASSERT_GT(names.size(), 10u);
  for (const auto& name : names) {
    EXPECT_NE(r.output.find("\n" + name + " "), std::string::npos) << name << " missing from:\n"
                                                                   << r.output;
  }

  // A short fill experiment on the bundled openb trace: two policies, one seed (about 0.1 s of
  // placement). The pod and node counts are the installed CSVs' rows.
  r = RunCommand(
      {gpupool, "sim", "fill", "--policy", "bestfit,fgd", "--seeds", "42", "--threads", "1"},
      120000);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const int pods = CsvRows(data / "traces/openb/openb_pod_list_default.csv");
  const int nodes = CsvRows(data / "traces/openb/openb_node_list_gpu_node.csv");
  EXPECT_EQ(pods, 8152);
  EXPECT_EQ(nodes, 1213);
  EXPECT_NE(r.output.find("trace default: unallocated GPU %"), std::string::npos) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\nbestfit +1 +1 +\d+\.\d\d )")))
      << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\nfgd +1 +1 +\d+\.\d\d )"))) << r.output;
  EXPECT_NE(r.output.find("2 runs (" + std::to_string(pods) + " pods, " + std::to_string(nodes) +
                          " nodes)"),
            std::string::npos)
      << r.output;
}

TEST_F(InstallTest, WithoutItsDataSaysWhereItLooked) {
  // The source tree still exists, but an installed binary never falls back to it.
  const fs::path data = prefix_ / "share" / "gpupool";
  fs::rename(data, tmp_.path() / "data-aside");
  const auto r = RunCommand({(prefix_ / "bin" / "gpupool").string(), "hw", "list"}, 30000);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no gpupool data directory found"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GPUPOOL_DATA_DIR (not set)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(data.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(std::string(GPUPOOL_SOURCE_DATA_DIR) + " (source tree: not used"),
            std::string::npos)
      << r.output;
}

TEST_F(InstallTest, DataDirEnvironmentStillOverrides) {
  // The moved data, named by GPUPOOL_DATA_DIR, while the install layout has none.
  const fs::path aside = tmp_.path() / "data-aside";
  fs::rename(prefix_ / "share" / "gpupool", aside);
  setenv("GPUPOOL_DATA_DIR", aside.c_str(), 1);
  const auto r =
      RunCommand({(prefix_ / "bin" / "gpupool").string(), "hw", "list", "--what", "gpus"}, 30000);
  unsetenv("GPUPOOL_DATA_DIR");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\nH100-SXM "), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gpupool

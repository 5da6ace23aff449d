// The Debian package (packaging/CMakeLists.txt): cpack builds gpupool_<version>_<arch>.deb from
// this build tree; it holds the binary, every data file, the man page and the systemd unit, runs
// its maintainer scripts, and its Depends names the package of every shared library the binary
// links (found here with readelf, ldd and dpkg -S, independently of dpkg-shlibdeps).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "common/run_command.h"
#include "testing/temp_dir.h"

namespace gpupool {
namespace {

namespace fs = std::filesystem;

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The package that owns `path` per dpkg -S ("libfmt9:amd64: /usr/lib/..." -> "libfmt9"); with a
// merged /usr the database may know the file under /lib or /usr/lib, so both are asked.
std::string OwningPackage(const fs::path& path) {
  std::set<std::string> candidates = {path.string()};
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (!ec) candidates.insert(real.string());
  for (const auto& c : std::set<std::string>(candidates)) {
    if (c.rfind("/usr/", 0) == 0)
      candidates.insert(c.substr(4));
    else
      candidates.insert("/usr" + c);
  }
  for (const auto& c : candidates) {
    const auto r = RunCommand({"dpkg", "-S", c}, 30000);
    if (r.exit_code != 0) continue;
    const auto colon = r.output.find(':');
    if (colon != std::string::npos) return r.output.substr(0, colon);
  }
  return "";
}

TEST(PackageTest, DebHoldsTheInstallAndNamesItsDependencies) {
  testing::TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  auto r = RunCommand(
      {GPUPOOL_CPACK_COMMAND, "-G", "DEB", "--config",
       std::string(GPUPOOL_BUILD_TREE) + "/CPackConfig.cmake", "-B", tmp.path().string()},
      600000);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const auto arch = RunCommand({"dpkg", "--print-architecture"}, 10000);
  ASSERT_EQ(arch.exit_code, 0) << arch.output;
  const fs::path deb = tmp.path() / (std::string("gpupool_") + GPUPOOL_TEST_VERSION + "_" +
                                     Trimmed(arch.output) + ".deb");
  ASSERT_TRUE(fs::is_regular_file(deb)) << r.output;

  // The file list: the binary, every file of data/, the man page, the unit.
  r = RunCommand({"dpkg-deb", "-c", deb.string()}, 60000);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::set<std::string> listed;
  {
    std::istringstream in(r.output);
    std::string line;
    while (std::getline(in, line)) {
      const auto dot = line.find(" ./");
      if (dot != std::string::npos) listed.insert(line.substr(dot + 3));
    }
  }
  EXPECT_TRUE(listed.count("usr/bin/gpupool")) << r.output;
  EXPECT_TRUE(listed.count("usr/share/man/man1/gpupool.1.gz")) << r.output;
  EXPECT_TRUE(listed.count("usr/lib/systemd/system/gpupool.service")) << r.output;
  int data_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(GPUPOOL_SOURCE_DATA_DIR)) {
    if (!e.is_regular_file()) continue;
    const auto rel = fs::relative(e.path(), GPUPOOL_SOURCE_DATA_DIR).string();
    EXPECT_TRUE(listed.count("usr/share/gpupool/" + rel)) << rel;
    ++data_files;
  }
  EXPECT_GT(data_files, 30);

  // The control fields and the maintainer scripts.
  r = RunCommand({"dpkg-deb", "--info", deb.string()}, 60000);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string info = r.output;
  EXPECT_NE(info.find("\n Package: gpupool\n"), std::string::npos) << info;
  EXPECT_NE(info.find(std::string("\n Version: ") + GPUPOOL_TEST_VERSION + "\n"), std::string::npos)
      << info;
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    EXPECT_TRUE(std::regex_search(
        info, std::regex(std::string(R"(\n +\d+ bytes, +\d+ lines +\* +)") + script + " ")))
        << script << " missing or not executable:\n"
        << info;
  }
  std::smatch m;
  ASSERT_TRUE(std::regex_search(info, m, std::regex(R"(\n Depends: ([^\n]*)\n)"))) << info;
  const std::string depends = ", " + std::string(m[1]) + ",";
  EXPECT_NE(depends.find(", adduser"), std::string::npos) << depends;

  // Every shared library the packaged binary needs (its NEEDED entries) comes from a package that
  // Depends names.
  const fs::path root = tmp.path() / "root";
  r = RunCommand({"dpkg-deb", "-x", deb.string(), root.string()}, 60000);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string binary = (root / "usr/bin/gpupool").string();
  const auto needed = RunCommand({"readelf", "-d", binary}, 30000);
  ASSERT_EQ(needed.exit_code, 0) << needed.output;
  const auto ldd = RunCommand({"ldd", binary}, 30000);
  ASSERT_EQ(ldd.exit_code, 0) << ldd.output;
  int libraries = 0;
  const std::regex needed_re(R"(\(NEEDED\) +Shared library: \[([^\]]+)\])");
  for (auto it = std::sregex_iterator(needed.output.begin(), needed.output.end(), needed_re);
       it != std::sregex_iterator(); ++it) {
    const std::string soname = (*it)[1];
    // ldd: "\tlibfmt.so.9 => /lib/x86_64-linux-gnu/libfmt.so.9 (0x...)".
    const std::string key = "\t" + soname + " => ";
    const auto at = ldd.output.find(key);
    ASSERT_NE(at, std::string::npos) << soname << " not resolved by ldd:\n" << ldd.output;
    const auto from = at + key.size();
    const std::string path = ldd.output.substr(from, ldd.output.find(' ', from) - from);
    const std::string package = OwningPackage(path);
    ASSERT_FALSE(package.empty()) << "no package owns " << path;
    // "libfmt9 (>= 9.1.0+ds1)" or "libfmt9," (names like libstdc++6 are not regexes).
    EXPECT_TRUE(depends.find(", " + package + " ") != std::string::npos ||
                depends.find(", " + package + ",") != std::string::npos)
        << soname << " comes from " << package << ", which Depends does not name: " << depends;
    ++libraries;
  }
  EXPECT_GE(libraries, 5) << needed.output;

  // The unit runs /usr/bin/gpupool serve as the gpupool user with its state in /var/lib/gpupool,
  // and keeps the GPUs reachable (no private /dev, no device allow-list).
  std::ifstream unit_file(root / "usr/lib/systemd/system/gpupool.service");
  std::stringstream unit;
  unit << unit_file.rdbuf();
  const std::string u = unit.str();
  EXPECT_NE(u.find("\nExecStart=/usr/bin/gpupool serve --data-dir /var/lib/gpupool"),
            std::string::npos)
      << u;
  EXPECT_NE(u.find("\nUser=gpupool\n"), std::string::npos) << u;
  EXPECT_NE(u.find("\nStateDirectory=gpupool\n"), std::string::npos) << u;
  for (const char* breaks_nvml :
       {"\nPrivateDevices=yes", "\nDevicePolicy=", "\nDeviceAllow=", "\nProtectClock=yes"}) {
    EXPECT_EQ(u.find(breaks_nvml), std::string::npos) << breaks_nvml;
  }

  // The man page names the package's version.
  r = RunCommand({"gzip", "-dc", (root / "usr/share/man/man1/gpupool.1.gz").string()}, 10000);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(
      r.output.find(std::string("\n.TH GPUPOOL 1 \"\" \"gpupool ") + GPUPOOL_TEST_VERSION + "\""),
      std::string::npos)
      << r.output.substr(0, 400);

  // The packaged binary runs from the unpacked tree and names the package's version.
  r = RunCommand({binary, "--version"}, 10000);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind(std::string("gpupool ") + GPUPOOL_TEST_VERSION + " (git ", 0), 0u)
      << r.output;
}

}  // namespace
}  // namespace gpupool

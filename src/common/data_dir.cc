#include "common/data_dir.h"

#include <cstdlib>
#include <system_error>

namespace gpupool {
namespace {

namespace fs = std::filesystem;

// `path` lies inside `dir`, both compared with symlinks resolved where they exist.
bool IsInside(const fs::path& path, const fs::path& dir) {
  if (dir.empty()) return false;
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(path, ec);
  if (ec) return false;
  const fs::path d = fs::weakly_canonical(dir, ec);
  if (ec) return false;
  const fs::path rel = p.lexically_relative(d);
  return !rel.empty() && *rel.begin() != "..";
}

bool IsDirectory(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

fs::path InstallLayoutDir(const DataDirProbe& probe) {
  if (probe.exe.empty()) return {};
  return (probe.exe.parent_path() / probe.install_relative).lexically_normal();
}

}  // namespace

DataDirProbe CurrentDataDirProbe() {
  DataDirProbe probe;
  if (const char* env = std::getenv("GPUPOOL_DATA_DIR"); env != nullptr && *env != '\0') {
    probe.env_set = true;
    probe.env_value = env;
  }
  std::error_code ec;
  probe.exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    probe.exe.clear();
    probe.exe_error = "cannot read /proc/self/exe: " + ec.message();
  }
  probe.install_relative = GPUPOOL_INSTALL_DATA_RELATIVE;
  probe.build_dir = GPUPOOL_BUILD_DIR;
  probe.source_data_dir = GPUPOOL_SOURCE_DATA_DIR;
  return probe;
}

Result<fs::path> FindDataDir(const DataDirProbe& probe) {
  if (probe.env_set) return fs::path(probe.env_value);
  std::string looked = "GPUPOOL_DATA_DIR (not set)";
  if (probe.exe.empty()) {
    looked += "; the install layout (" + probe.exe_error + ")";
    looked += "; the source tree's " + probe.source_data_dir.string() +
              " (not used: cannot tell whether this binary lies in its build tree)";
  } else {
    fs::path installed = InstallLayoutDir(probe);
    if (IsDirectory(installed)) return installed;
    looked += "; " + installed.string() + " (install layout beside " + probe.exe.string() +
              ": no such directory)";
    if (IsInside(probe.exe, probe.build_dir)) {
      if (IsDirectory(probe.source_data_dir)) return probe.source_data_dir;
      looked += "; " + probe.source_data_dir.string() + " (source tree: no such directory)";
    } else {
      looked += "; " + probe.source_data_dir.string() +
                " (source tree: not used, the binary is not in its build tree " +
                probe.build_dir.string() + ")";
    }
  }
  return Error(Status::NotFound("no gpupool data directory found; looked at " + looked +
                                ". Set GPUPOOL_DATA_DIR to the directory that holds hw/, "
                                "models/ and traces/, or reinstall gpupool"));
}

Result<fs::path> FindDataDir() { return FindDataDir(CurrentDataDirProbe()); }

fs::path DataDir() {
  const DataDirProbe probe = CurrentDataDirProbe();
  if (auto dir = FindDataDir(probe)) return *dir;
  return InstallLayoutDir(probe);
}

}  // namespace gpupool

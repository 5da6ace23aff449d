#include "executor/gpu_shim.h"

#include <filesystem>
#include <system_error>

#include "shim/shim_config.h"

namespace gpupool::executor {
namespace {

namespace fs = std::filesystem;

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool IsInside(const fs::path& path, const fs::path& dir) {
  std::error_code ec;
  const fs::path rel =
      fs::weakly_canonical(path, ec).lexically_relative(fs::weakly_canonical(dir, ec));
  return !ec && !rel.empty() && *rel.begin() != "..";
}

}  // namespace

Result<bool> NeedsGpuShim(const std::vector<std::string>& env) {
  const shim::ShimConfigResult r = shim::ParseShimConfig([&](const char* name) -> const char* {
    const std::string_view want(name);
    const char* value = nullptr;
    for (const std::string& entry : env) {
      if (entry.size() > want.size() && entry.compare(0, want.size(), want) == 0 &&
          entry[want.size()] == '=') {
        value = entry.c_str() + want.size() + 1;
      }
    }
    return value;
  });
  if (!r.error.empty()) return Error(Status::InvalidArgument(r.error));
  return r.config.enforces();
}

std::string PreloadWithShim(const std::string& shim, std::string_view existing) {
  std::string out = shim;
  std::size_t from = 0;
  while (from <= existing.size()) {
    std::size_t end = existing.find_first_of(": ", from);
    if (end == std::string_view::npos) end = existing.size();
    const std::string_view item = existing.substr(from, end - from);
    if (!item.empty() && item != shim) out += ":" + std::string(item);
    from = end + 1;
  }
  return out;
}

Result<std::string> FindGpuShim() {
  if (const char* env = std::getenv(kGpuShimEnv); env != nullptr && *env != '\0') {
    if (IsFile(env)) return std::string(env);
    return Error(Status::NotFound(std::string(kGpuShimEnv) + "=" + env + ": no such file"));
  }
  std::string looked = std::string(kGpuShimEnv) + " (not set)";
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed =
        (exe.parent_path() / GPUPOOL_SHIM_INSTALL_RELATIVE).lexically_normal();
    if (IsFile(installed)) return installed.string();
    looked += ", " + installed.string();
    if (IsInside(exe, GPUPOOL_BUILD_DIR)) {
      if (IsFile(GPUPOOL_SHIM_BUILD_PATH)) return std::string(GPUPOOL_SHIM_BUILD_PATH);
      looked += ", " + std::string(GPUPOOL_SHIM_BUILD_PATH);
    }
  } else {
    looked += ", the install layout (cannot read /proc/self/exe: " + ec.message() + ")";
  }
  return Error(Status::NotFound("libgpupool-cuda.so not found (looked at " + looked + ")"));
}

}  // namespace gpupool::executor

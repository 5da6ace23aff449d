// Helpers shared by the executor tests: scratch directories, file reading, bounded waits, and the
// set of this process's children read from /proc (independently of the code under test).
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace gpupool::executor::testing {

// A fresh directory under the test temp dir, removed at destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "gp_executor_XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = std::filesystem::canonical(pattern);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Polls `done` every 10 ms for at most `limit`; true once it holds. A bound on waiting for an
// event, not a timing assertion.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Field `index` (1-based, as in proc(5)) of /proc/<pid>/stat, "" when unreadable.
inline std::string StatField(int pid, int index) {
  const std::string text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  for (int i = 3; i <= index && rest >> field; ++i) {
    if (i == index) return field;
  }
  return "";
}

// Live (not zombie) children of this process.
inline std::set<int> LiveChildren() {
  std::set<int> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    if (StatField(pid, 4) == std::to_string(getpid()) && StatField(pid, 3) != "Z") {
      children.insert(pid);
    }
  }
  return children;
}

// True when `pid` no longer runs: no /proc entry, or a zombie waiting for its parent.
inline bool Gone(int pid) {
  const std::string state = StatField(pid, 3);
  return state.empty() || state == "Z" || state == "X";
}

}  // namespace gpupool::executor::testing

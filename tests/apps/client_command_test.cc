// The client commands through the real binary, where no server is needed: CLI11 flag wiring into
// the request body (`submit --dry-run`), one-line errors with exit 2 for bad input, and the
// connection settings' precedence as the unreachable-server message shows it (nothing listens on
// ports 1 and 2 of the loopback; no stand-in server is involved).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace {

using json = nlohmann::json;

struct Output {
  int code = -1;
  std::string out;  // stdout and stderr together
};

// Runs the binary with `args` (no shell) and `env` set on top of a cleared GPUPOOL_* environment.
Output RunGpupool(const std::vector<std::string>& args,
                  const std::vector<std::pair<std::string, std::string>>& env = {}) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    unsetenv("GPUPOOL_SERVER");
    unsetenv("GPUPOOL_TOKEN");
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    std::string binary = GPUPOOL_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  Output r;
  std::array<char, 4096> buf{};
  ssize_t n = 0;
  while ((n = read(fds[0], buf.data(), buf.size())) > 0) r.out.append(buf.data(), std::size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(ClientCommandTest, EveryFlagReachesTheBody) {
  Output r =
      RunGpupool({"submit",        "--dry-run", "--gpus",     "0.5",     "--gpu-memory", "10G",
                  "--model",       "H100",      "--model",    "A100,L4", "--replicas",   "2",
                  "--queue",       "q",         "--priority", "7",       "--time",       "2h",
                  "--name",        "n",         "--cpu",      "500m",    "--memory",     "1G",
                  "--env",         "A=1",       "--env",      "B=x y",   "--workdir",    "/w",
                  "--preemptible", "--requeue", "--",         "python3", "-c",           "print(1)",
                  "--epochs",      "3"});
  ASSERT_EQ(r.code, 0) << r.out;
  const json expected = {{"command", {"python3", "-c", "print(1)", "--epochs", "3"}},
                         {"name", "n"},
                         {"env", {{"A", "1"}, {"B", "x y"}}},
                         {"workdir", "/w"},
                         {"gpus", 0.5},
                         {"gpu_memory_mib", 10240},  // 10 x 1024
                         {"gpu_models", {"H100", "A100", "L4"}},
                         {"cpu_milli", 500},
                         {"memory_mib", 1024},
                         {"replicas", 2},
                         {"queue", "q"},
                         {"priority", 7},
                         {"time_limit_s", 7200},  // 2 x 3600
                         {"preemptible", true},
                         {"requeue", true}};
  EXPECT_EQ(json::parse(r.out), expected) << r.out;
}

TEST(ClientCommandTest, ACommandWithoutDashesAfterAModelIsNotSwallowed) {
  Output r = RunGpupool({"submit", "--dry-run", "--model", "H100", "sleep", "1"});
  ASSERT_EQ(r.code, 0) << r.out;
  const json body = json::parse(r.out);
  EXPECT_EQ(body["gpu_models"], (json{"H100"}));
  EXPECT_EQ(body["command"], (json{"sleep", "1"}));
}

TEST(ClientCommandTest, PlanFileWithFlagsOnTop) {
  const auto plan = std::filesystem::temp_directory_path() / "gpupool_client_command_plan.json";
  std::ofstream(plan) << R"({"num_gpu": 1, "gpu_milli": 250, "memory_mib": 4096})";
  Output r =
      RunGpupool({"submit", "--dry-run", "--plan", plan.string(), "--memory", "8G", "--", "x"});
  std::filesystem::remove(plan);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(json::parse(r.out),
            (json{{"command", {"x"}}, {"gpus", 0.25}, {"memory_mib", 8192}}));  // 8 x 1024
}

TEST(ClientCommandTest, BadInputIsOneLineAndExitTwo) {
  struct Case {
    std::vector<std::string> args;
    std::string line;
  };
  const Case cases[] = {
      {{"submit", "--gpu-memory", "20X", "--", "x"},
       "gpupool submit: --gpu-memory: '20X' is not a size (e.g. 20G = 20480 MiB, 512M; a plain "
       "number is MiB)\n"},
      {{"submit", "--gpus", "1"},
       "gpupool submit: no command: put it after `--`, e.g. gpupool "
       "submit --gpus 1 -- python3 train.py\n"},
      {{"job", "twelve"}, "gpupool job: ID: 'twelve' is not a job id\n"},
      {{"cancel", "3", "x"}, "gpupool cancel: ID: 'x' is not a job id\n"},
      {{"jobs", "--server", "ftp://h"},
       "gpupool jobs: --server: 'ftp://h' is not an http:// or https:// URL\n"}};
  for (const auto& c : cases) {
    Output r = RunGpupool(c.args);
    EXPECT_EQ(r.code, 2) << c.line;
    EXPECT_EQ(r.out, c.line);
  }
}

TEST(ClientCommandTest, ServerFlagBeatsEnvironmentAndTheMessageSaysWhichServer) {
  Output r = RunGpupool({"whoami", "--server", "http://127.0.0.1:1"},
                        {{"GPUPOOL_SERVER", "http://127.0.0.1:2"}});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("cannot reach the gpupool server at http://127.0.0.1:1 "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("gpupool serve"), std::string::npos) << r.out;
  r = RunGpupool({"nodes"}, {{"GPUPOOL_SERVER", "127.0.0.1:2"}});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("at http://127.0.0.1:2 "), std::string::npos) << r.out;
}

}  // namespace

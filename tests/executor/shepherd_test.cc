#include "executor/shepherd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

#include "executor/exit_record.h"
#include "executor_test_util.h"

namespace gpupool::executor {
namespace {

LaunchPlan Plan(const std::filesystem::path& job_dir, std::vector<std::string> argv) {
  LaunchSpec spec;
  spec.job_id = 1;
  spec.argv = std::move(argv);
  spec.job_dir = job_dir;
  auto plan = MakeLaunchPlan(spec, ServiceEnvironment());
  EXPECT_TRUE(plan.has_value()) << plan.error().ToString();
  return std::move(*plan);
}

std::set<std::string> OpenFds(int pid) {
  std::set<std::string> fds;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    fds.insert(e.path().filename().string());
  }
  return fds;
}

std::string Listed(const std::set<std::string>& fds) {
  std::string out;
  for (const std::string& fd : fds) out += (out.empty() ? "" : " ") + fd;
  return "open descriptors: " + out;
}

TEST(ShepherdTest, IsolatesTheJobAndWritesItsExitRecord) {
  testing::ScratchDir dir;
  const std::filesystem::path job_dir = dir.path() / "job";  // created by StartShepherd
  // A descriptor of the "service" that is not close-on-exec, like a listening socket.
  const int service_fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(service_fd, 0);
  const LaunchPlan plan = Plan(job_dir, {"sleep", "30"});
  const auto started = StartShepherd(plan);
  close(service_fd);
  ASSERT_TRUE(started.has_value()) << started.error().ToString();
  const int shepherd = started->shepherd_pid;
  const int job = started->job_pid;

  EXPECT_EQ(getsid(shepherd), shepherd);  // its own session
  EXPECT_NE(getsid(shepherd), getsid(0));
  EXPECT_EQ(getpgid(job), job);  // the job leads its own group
  EXPECT_EQ(testing::StatField(job, 4), std::to_string(shepherd));
  EXPECT_EQ(testing::ReadFile("/proc/" + std::to_string(shepherd) + "/comm"), "gp-shepherd\n");
  // Nothing of the service's survives in either process: just stdin, stdout and stderr.
  // (Until the job has exec'd, it may still hold the shepherd's close-on-exec descriptors, and
  // right after its exec `sleep` opens and closes files of its own while it sets its locale: so
  // wait until each process holds exactly these three. A leaked descriptor is never closed, so
  // the wait then fails.)
  const std::set<std::string> stdio{"0", "1", "2"};
  EXPECT_TRUE(testing::WaitFor([&] { return OpenFds(shepherd) == stdio; }))
      << Listed(OpenFds(shepherd));
  EXPECT_TRUE(testing::WaitFor([&] { return OpenFds(job) == stdio; })) << Listed(OpenFds(job));
  EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(job) + "/fd/1"),
            job_dir / "stdout.log");
  EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(job) + "/fd/0"), "/dev/null");

  ASSERT_EQ(kill(job, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(waitpid(shepherd, &wstatus, 0), shepherd);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  const auto record = ReadExitRecord(job_dir);
  ASSERT_TRUE(record.has_value() && record->has_value());
  EXPECT_EQ(**record, (ExitRecord{job, -1, SIGKILL}));
}

TEST(ShepherdTest, RemovesAStaleExitRecordBeforeStarting) {
  testing::ScratchDir dir;
  std::ofstream(dir.path() / kExitRecordName) << "{\"pid\":1,\"exit_code\":0,\"signal\":0}\n";
  const LaunchPlan plan = Plan(dir.path(), {"sleep", "30"});
  const auto started = StartShepherd(plan);
  ASSERT_TRUE(started.has_value());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / kExitRecordName));
  kill(-started->job_pid, SIGKILL);
  waitpid(started->shepherd_pid, nullptr, 0);
}

TEST(ShepherdTest, ExecFailureLeavesNothingBehind) {
  testing::ScratchDir dir;
  const std::set<int> before = testing::LiveChildren();
  const LaunchPlan plan = Plan(dir.path(), {"/nonexistent/program", "x"});
  const auto started = StartShepherd(plan);
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(started.error().message(),
            "cannot run '/nonexistent/program': No such file or directory");
  EXPECT_EQ(testing::LiveChildren(), before);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / kExitRecordName));
}

TEST(ShepherdTest, WorkdirMustBeADirectory) {
  testing::ScratchDir dir;
  LaunchPlan plan = Plan(dir.path(), {"/bin/true"});
  plan.workdir = (dir.path() / "missing").string();
  const std::set<int> before = testing::LiveChildren();
  const auto started = StartShepherd(plan);
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(started.error().message(), "workdir '" + plan.workdir + "' is not a directory");
  EXPECT_EQ(testing::LiveChildren(), before);
}

}  // namespace
}  // namespace gpupool::executor

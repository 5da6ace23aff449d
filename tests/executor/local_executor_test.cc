#include "executor/local_executor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "executor/exit_record.h"
#include "executor/proc_stat.h"
#include "executor_test_util.h"

namespace gpupool::executor {
namespace {

using std::chrono::milliseconds;
using testing::Gone;
using testing::ReadFile;
using testing::ScratchDir;
using testing::WaitFor;

LaunchSpec Spec(std::int64_t id, const std::filesystem::path& job_dir,
                std::vector<std::string> argv) {
  LaunchSpec spec;
  spec.job_id = id;
  spec.argv = std::move(argv);
  spec.job_dir = job_dir;
  return spec;
}

LaunchSpec Shell(std::int64_t id, const std::filesystem::path& job_dir, const std::string& script) {
  return Spec(id, job_dir, {"sh", "-c", script});
}

// Polls until the exit of `job_id` arrives (at most 30 s); other exits are kept in `others`.
std::optional<ExitInfo> AwaitExit(Executor& executor, std::int64_t job_id,
                                  std::vector<ExitInfo>* others = nullptr) {
  std::optional<ExitInfo> found;
  WaitFor([&] {
    for (ExitInfo& e : executor.Poll()) {
      if (e.job_id == job_id) {
        found = std::move(e);
      } else if (others != nullptr) {
        others->push_back(std::move(e));
      }
    }
    return found.has_value();
  });
  return found;
}

// A manual steady clock for grace deadlines.
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  LocalExecutor::SteadyNow Fn() {
    return [this] { return now; };
  }
};

TEST(LocalExecutorTest, ReportsExitCodeAndWritesLogs) {
  ScratchDir dir;
  LocalExecutor executor;
  const auto ref = executor.Launch(Shell(1, dir.path(), "echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(ref.has_value()) << ref.error().ToString();
  const auto exit = AwaitExit(executor, 1);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 3);
  EXPECT_EQ(exit->signal, 0);
  EXPECT_FALSE(exit->lost);
  EXPECT_EQ(exit->reason, "exited with code 3");
  EXPECT_EQ(ReadFile(dir.path() / "stdout.log"), "out\n");
  EXPECT_EQ(ReadFile(dir.path() / "stderr.log"), "err\n");
  EXPECT_EQ(executor.running(), 0u);
  EXPECT_TRUE(executor.Poll().empty());  // each exit once
}

TEST(LocalExecutorTest, EndedJobsCudaShimRegionsAreRemoved) {
  // The job makes its CUDA shim region (as the preloaded shim would) and ends; once Poll has
  // reported it, /dev/shm/gpupool-<job>-* is gone. Another job's region stays.
  testing::ScratchDir dir;
  LocalExecutor executor;
  const std::int64_t job = 870000000 + getpid();
  const std::string mine = "/dev/shm/gpupool-" + std::to_string(job) + "-GPU-test";
  const std::string other = "/dev/shm/gpupool-" + std::to_string(job + 1) + "-GPU-test";
  std::ofstream(other) << "x";
  ASSERT_TRUE(executor.Launch(Shell(job, dir.path(), "echo x > " + mine)).has_value());
  ASSERT_TRUE(AwaitExit(executor, job).has_value());
  EXPECT_FALSE(std::filesystem::exists(mine));
  EXPECT_TRUE(std::filesystem::exists(other));
  std::filesystem::remove(other);
}

TEST(LocalExecutorTest, LogsAreAppendedAcrossRuns) {
  ScratchDir dir;
  LocalExecutor executor;
  ASSERT_TRUE(executor.Launch(Shell(1, dir.path(), "echo first")).has_value());
  ASSERT_TRUE(AwaitExit(executor, 1).has_value());
  ASSERT_TRUE(executor.Launch(Shell(1, dir.path(), "echo second")).has_value());
  ASSERT_TRUE(AwaitExit(executor, 1).has_value());
  EXPECT_EQ(ReadFile(dir.path() / "stdout.log"), "first\nsecond\n");
}

TEST(LocalExecutorTest, ReportsTheSignalThatKilledTheJob) {
  ScratchDir dir;
  LocalExecutor executor;
  ASSERT_TRUE(executor.Launch(Shell(7, dir.path(), "kill -USR1 $$; sleep 10")).has_value());
  const auto exit = AwaitExit(executor, 7);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, -1);
  EXPECT_EQ(exit->signal, SIGUSR1);
  EXPECT_FALSE(exit->lost);
  EXPECT_EQ(exit->reason, "killed by SIGUSR1");
}

TEST(LocalExecutorTest, EnvironmentOverridesAndWorkdir) {
  ScratchDir dir;
  const std::filesystem::path workdir = dir.path() / "wd";
  std::filesystem::create_directory(workdir);
  ASSERT_EQ(setenv("GP_EXECUTOR_INHERITED", "from-service", 1), 0);
  ASSERT_EQ(setenv("GP_EXECUTOR_OVERRIDDEN", "from-service", 1), 0);
  LaunchSpec spec =
      Shell(2, dir.path() / "job",
            "echo \"$GP_EXECUTOR_INHERITED $GP_EXECUTOR_OVERRIDDEN $GP_EXECUTOR_NEW\"; pwd -P");
  spec.env = {{"GP_EXECUTOR_OVERRIDDEN", "from-job"}, {"GP_EXECUTOR_NEW", "new value"}};
  spec.workdir = workdir;
  LocalExecutor executor;
  ASSERT_TRUE(executor.Launch(spec).has_value());
  unsetenv("GP_EXECUTOR_INHERITED");
  unsetenv("GP_EXECUTOR_OVERRIDDEN");
  const auto exit = AwaitExit(executor, 2);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 0);
  EXPECT_EQ(ReadFile(dir.path() / "job" / "stdout.log"),
            "from-service from-job new value\n" + workdir.string() + "\n");
}

TEST(LocalExecutorTest, WorkdirDefaultsToTheJobDirectory) {
  ScratchDir dir;
  LocalExecutor executor;
  ASSERT_TRUE(executor.Launch(Shell(3, dir.path(), "pwd -P")).has_value());
  ASSERT_TRUE(AwaitExit(executor, 3).has_value());
  EXPECT_EQ(ReadFile(dir.path() / "stdout.log"), dir.path().string() + "\n");
}

TEST(LocalExecutorTest, ExecFailureIsReportedByLaunchWithNothingLeftRunning) {
  ScratchDir dir;
  LocalExecutor executor;
  const std::set<int> before = testing::LiveChildren();
  struct Case {
    std::vector<std::string> argv;
    std::string message;
  };
  const Case cases[] = {
      // Not on PATH: found out before any fork.
      {{"gp-no-such-program", "--x"}, "cannot run 'gp-no-such-program': No such file or directory"},
      // A path: execve in the job child fails and the errno travels back.
      {{"/nonexistent/bin/tool"}, "cannot run '/nonexistent/bin/tool': No such file or directory"},
      {{dir.path().string()}, "cannot run '" + dir.path().string() + "': Permission denied"},
  };
  for (const Case& c : cases) {
    const auto ref = executor.Launch(Spec(4, dir.path(), c.argv));
    ASSERT_FALSE(ref.has_value()) << c.message;
    EXPECT_EQ(ref.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(ref.error().message(), c.message);
  }
  EXPECT_EQ(testing::LiveChildren(), before);
  EXPECT_EQ(executor.running(), 0u);
  EXPECT_TRUE(executor.Poll().empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / kExitRecordName));
  // The id is free again.
  ASSERT_TRUE(executor.Launch(Spec(4, dir.path(), {"true"})).has_value());
  ASSERT_TRUE(AwaitExit(executor, 4).has_value());
}

TEST(LocalExecutorTest, RejectsADuplicateJobId) {
  ScratchDir dir;
  LocalExecutor executor;
  ASSERT_TRUE(executor.Launch(Spec(5, dir.path() / "a", {"sleep", "30"})).has_value());
  const auto again = executor.Launch(Spec(5, dir.path() / "b", {"true"}));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(executor.running(), 1u);
  ASSERT_TRUE(executor.Stop(5, milliseconds(0)).ok());
  ASSERT_TRUE(AwaitExit(executor, 5).has_value());
}

TEST(LocalExecutorTest, StopOfAnUnknownJobIsNotFound) {
  LocalExecutor executor;
  EXPECT_EQ(executor.Stop(99, milliseconds(10)).code(), StatusCode::kNotFound);
}

TEST(LocalExecutorTest, StopTerminatesAJobThatHonoursTerm) {
  ScratchDir dir;
  LocalExecutor executor;
  ASSERT_TRUE(executor.Launch(Spec(6, dir.path(), {"sleep", "100"})).has_value());
  ASSERT_TRUE(executor.Stop(6, std::chrono::minutes(10)).ok());
  const auto exit = AwaitExit(executor, 6);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->signal, SIGTERM);
  EXPECT_EQ(exit->reason, "killed by SIGTERM after Stop");
}

TEST(LocalExecutorTest, StopKillsAJobIgnoringTermOnceTheGraceHasPassed) {
  ScratchDir dir;
  FakeClock clock;
  LocalExecutor executor(clock.Fn());
  ASSERT_TRUE(
      executor
          .Launch(Shell(8, dir.path(), "trap '' TERM; echo ready; while :; do sleep 0.05; done"))
          .has_value());
  ASSERT_TRUE(WaitFor([&] { return ReadFile(dir.path() / "stdout.log") == "ready\n"; }));
  ASSERT_TRUE(executor.Stop(8, milliseconds(5000)).ok());
  // The clock has not moved: however long we poll, TERM is all the job gets, and it ignores it.
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(executor.Poll().empty());
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(executor.running(), 1u);
  clock.now += milliseconds(4999);
  EXPECT_TRUE(executor.Poll().empty());
  clock.now += milliseconds(1);  // the deadline: this Poll sends SIGKILL
  const auto exit = AwaitExit(executor, 8);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->signal, SIGKILL);
  EXPECT_EQ(exit->reason, "killed by SIGKILL after Stop (grace 5000 ms expired)");
}

TEST(LocalExecutorTest, StopSignalsTheWholeProcessGroup) {
  ScratchDir dir;
  LocalExecutor executor;
  // The grandchild notes the TERM it gets; the job's shell waits for it and then exits 0.
  const std::string script =
      "trap ':' TERM; "
      "sh -c 'trap \"echo got-term > term.txt; exit 0\" TERM; echo $$ > gc.pid; "
      "while :; do sleep 0.05; done' & "
      "wait; wait";
  ASSERT_TRUE(executor.Launch(Shell(9, dir.path(), script)).has_value());
  ASSERT_TRUE(WaitFor([&] { return ReadFile(dir.path() / "gc.pid").ends_with("\n"); }));
  ASSERT_TRUE(executor.Stop(9, std::chrono::minutes(10)).ok());
  const auto exit = AwaitExit(executor, 9);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 0) << exit->reason;
  EXPECT_EQ(ReadFile(dir.path() / "term.txt"), "got-term\n");
  EXPECT_TRUE(Gone(std::stoi(ReadFile(dir.path() / "gc.pid"))));
}

TEST(LocalExecutorTest, WhatTheJobLeftInItsGroupIsKilledWhenItEnds) {
  ScratchDir dir;
  LocalExecutor executor;
  ASSERT_TRUE(
      executor.Launch(Shell(10, dir.path(), "sleep 100 & echo $! > gc.pid; exit 4")).has_value());
  const auto exit = AwaitExit(executor, 10);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 4);
  const int grandchild = std::stoi(ReadFile(dir.path() / "gc.pid"));
  EXPECT_TRUE(WaitFor([&] { return Gone(grandchild); }));
}

TEST(LocalExecutorTest, AdoptsARunningJobAfterTheExecutorIsGone) {
  ScratchDir dir;
  nlohmann::json stored;  // what the service keeps in its database
  int pgid = 0;
  {
    LocalExecutor first;
    const auto ref = first.Launch(Shell(11, dir.path(), "sleep 2; exit 7"));
    ASSERT_TRUE(ref.has_value());
    stored = ToJson(*ref);
    pgid = ref->pgid;
  }
  EXPECT_FALSE(Gone(pgid));  // destroying the executor did not stop the job
  const auto ref = ProcessRefFromJson(stored);
  ASSERT_TRUE(ref.has_value());
  LocalExecutor second;
  const auto adopted = second.Adopt(11, *ref, dir.path());
  ASSERT_TRUE(adopted.has_value()) << adopted.error().ToString();
  EXPECT_TRUE(*adopted);
  EXPECT_EQ(second.running(), 1u);
  const auto exit = AwaitExit(second, 11);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 7);
  EXPECT_FALSE(exit->lost);
  EXPECT_EQ(second.running(), 0u);
}

TEST(LocalExecutorTest, JobsSurviveTheServiceBeingKilledWithItsProcessGroup) {
  ScratchDir dir;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // The "service": a child process in its own process group that launches a job, hands over the
  // ProcessRef it would have stored, and is then SIGKILLed together with its whole group.
  const pid_t service = fork();
  ASSERT_GE(service, 0);
  if (service == 0) {
    setpgid(0, 0);
    close(fds[0]);
    LocalExecutor executor;
    const auto ref = executor.Launch(Shell(20, dir.path(), "sleep 1; exit 9"));
    const std::string text = (ref ? ToJson(*ref).dump() : std::string("{}")) + "\n";
    (void)!write(fds[1], text.data(), text.size());
    for (;;) pause();
  }
  close(fds[1]);
  std::string text;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') text += c;
  close(fds[0]);
  setpgid(service, service);  // whichever of the two ran first
  ASSERT_EQ(kill(-service, SIGKILL), 0);
  ASSERT_EQ(waitpid(service, nullptr, 0), service);

  const auto ref = ProcessRefFromJson(nlohmann::json::parse(text));
  ASSERT_TRUE(ref.has_value()) << text;
  EXPECT_FALSE(Gone(ref->pgid));  // neither the kill of the service nor of its group reached it
  LocalExecutor restarted;
  const auto adopted = restarted.Adopt(20, *ref, dir.path());
  ASSERT_TRUE(adopted.has_value() && *adopted);
  const auto exit = AwaitExit(restarted, 20);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 9);
  EXPECT_EQ(exit->reason, "exited with code 9");
}

TEST(LocalExecutorTest, AdoptsAJobThatEndedWhileNobodyWatched) {
  ScratchDir dir;
  ProcessRef ref;
  {
    LocalExecutor first;
    ref = *first.Launch(Shell(12, dir.path(), "exit 5"));
  }
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(dir.path() / kExitRecordName); }));
  ASSERT_TRUE(
      WaitFor([&] { return !IsSameLiveProcess(ref.shepherd_pid, ref.shepherd_start_ticks); }));
  LocalExecutor second;
  const auto adopted = second.Adopt(12, ref, dir.path());
  ASSERT_TRUE(adopted.has_value());
  EXPECT_TRUE(*adopted);
  const std::vector<ExitInfo> exits = second.Poll();  // ended already: the very next Poll
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].job_id, 12);
  EXPECT_EQ(exits[0].exit_code, 5);
  EXPECT_EQ(exits[0].reason, "exited with code 5");
}

TEST(LocalExecutorTest, AdoptingADeadProcessWithoutARecordFails) {
  ScratchDir dir;
  // A process that existed and is gone: fork, read its start time, let it exit, reap it.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[1]);
    char c;
    (void)!read(fds[0], &c, 1);
    _exit(0);
  }
  close(fds[0]);
  const auto stat = ReadProcStat(child);
  ASSERT_TRUE(stat.has_value());
  close(fds[1]);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);

  LocalExecutor executor;
  const auto adopted = executor.Adopt(13, ProcessRef{child, stat->start_ticks, child}, dir.path());
  ASSERT_TRUE(adopted.has_value());
  EXPECT_FALSE(*adopted);
  EXPECT_EQ(executor.running(), 0u);
  EXPECT_EQ(executor.Stop(13, milliseconds(0)).code(), StatusCode::kNotFound);
}

TEST(LocalExecutorTest, AdoptionRequiresTheSameStartTime) {
  ScratchDir dir;
  LocalExecutor first;
  const auto ref = first.Launch(Spec(14, dir.path(), {"sleep", "100"}));
  ASSERT_TRUE(ref.has_value());
  // The same pid with another start time is another process (pid reuse): not ours to adopt.
  ProcessRef reused = *ref;
  reused.shepherd_start_ticks += 1;
  LocalExecutor second;
  const auto adopted = second.Adopt(14, reused, dir.path());
  ASSERT_TRUE(adopted.has_value());
  EXPECT_FALSE(*adopted);
  EXPECT_EQ(second.running(), 0u);
  ASSERT_TRUE(first.Stop(14, milliseconds(0)).ok());
  ASSERT_TRUE(AwaitExit(first, 14).has_value());
}

TEST(LocalExecutorTest, AnExitRecordOfAnotherProcessIsNotAdopted) {
  ScratchDir dir;
  // The shepherd is gone and the record left in the directory belongs to an earlier run.
  std::ofstream(dir.path() / kExitRecordName) << "{\"pid\":999999,\"exit_code\":0,\"signal\":0}\n";
  LocalExecutor executor;
  const auto adopted = executor.Adopt(15, ProcessRef{999998, 1, 999997}, dir.path());
  ASSERT_TRUE(adopted.has_value());
  EXPECT_FALSE(*adopted);
}

TEST(LocalExecutorTest, AdoptedJobsCanBeStopped) {
  ScratchDir dir;
  ProcessRef ref;
  {
    LocalExecutor first;
    ref = *first.Launch(Spec(16, dir.path(), {"sleep", "100"}));
  }
  LocalExecutor second;
  ASSERT_TRUE(*second.Adopt(16, ref, dir.path()));
  EXPECT_EQ(second.Adopt(16, ref, dir.path()).error().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(second.Stop(16, std::chrono::minutes(1)).ok());
  const auto exit = AwaitExit(second, 16);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->signal, SIGTERM);
}

TEST(LocalExecutorTest, AKilledShepherdMeansTheJobIsLost) {
  ScratchDir dir;
  LocalExecutor executor;
  const auto ref = executor.Launch(Spec(17, dir.path(), {"sleep", "100"}));
  ASSERT_TRUE(ref.has_value());
  ASSERT_EQ(kill(ref->shepherd_pid, SIGKILL), 0);
  const auto exit = AwaitExit(executor, 17);
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->lost);
  EXPECT_EQ(exit->reason,
            "lost: the shepherd ended without writing an exit record (shepherd killed by SIGKILL)");
  kill(-ref->pgid, SIGKILL);  // the orphaned job
}

TEST(LocalExecutorTest, LaunchesAndPollsFromSeveralThreads) {
  ScratchDir dir;
  LocalExecutor executor;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::atomic<int> launched{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::int64_t id = 100 + t * kPerThread + i;
        if (executor.Launch(Shell(id, dir.path() / std::to_string(id), "exit " + std::to_string(i)))
                .has_value()) {
          ++launched;
        }
      }
    });
  }
  std::map<std::int64_t, int> codes;
  WaitFor([&] {
    for (const ExitInfo& e : executor.Poll()) codes[e.job_id] = e.exit_code;
    return codes.size() == kThreads * kPerThread;
  });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(launched.load(), kThreads * kPerThread);
  ASSERT_EQ(codes.size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (const auto& [id, code] : codes) EXPECT_EQ(code, (id - 100) % kPerThread) << id;
}

TEST(LocalExecutorTest, TwoHundredJobsBackToBack) {
  ScratchDir dir;
  LocalExecutor executor;
  constexpr int kJobs = 200;
  const auto start = std::chrono::steady_clock::now();
  int exits = 0;
  int failures = 0;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(
        executor.Launch(Spec(1000 + i, dir.path() / std::to_string(i), {"true"})).has_value());
    for (const ExitInfo& e : executor.Poll()) {
      ++exits;
      if (e.exit_code != 0) ++failures;
    }
  }
  const auto launched = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] {
    for (const ExitInfo& e : executor.Poll()) {
      ++exits;
      if (e.exit_code != 0) ++failures;
    }
    return exits == kJobs;
  }));
  const auto done = std::chrono::steady_clock::now();
  EXPECT_EQ(failures, 0);
  const double launch_s = std::chrono::duration<double>(launched - start).count();
  const double total_s = std::chrono::duration<double>(done - start).count();
  std::printf("%d jobs: launched in %.3f s (%.0f launches/s), all exits in %.3f s (%.0f jobs/s)\n",
              kJobs, launch_s, kJobs / launch_s, total_s, kJobs / total_s);
}

}  // namespace
}  // namespace gpupool::executor

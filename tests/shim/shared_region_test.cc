#include "shim/shared_region.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace gpupool::shim {
namespace {

constexpr std::uint64_t kMiBytes = 1024ULL * 1024ULL;

class SharedRegionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = "/gpupool-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    SharedRegion::Unlink(name_);
  }
  void TearDown() override { SharedRegion::Unlink(name_); }
  std::string name_;
};

// Runs `child` in a forked process that is then SIGKILLed by itself; waits for it.
template <typename Fn>
void InChildThenKilled(Fn child) {
  const pid_t pid = fork();
  if (pid == 0) {
    child();
    raise(SIGKILL);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
}

TEST_F(SharedRegionTest, NameHasJobAndGpu) {
  EXPECT_EQ(SharedRegion::RegionName(42, 7, "GPU-ab"), "/gpupool-42-GPU-ab");
  EXPECT_EQ(SharedRegion::RegionName(0, 7, "GPU-ab"), "/gpupool-pid7-GPU-ab");
}

TEST_F(SharedRegionTest, ReserveStopsAtTheCap) {
  std::string error;
  std::unique_ptr<SharedRegion> r = SharedRegion::Open(name_, 1000 * kMiBytes, &error);
  ASSERT_NE(r, nullptr) << error;
  const int slot = r->Attach(getpid(), ProcessStartTicks(getpid()));
  ASSERT_GE(slot, 0);
  std::uint64_t used = 0;
  EXPECT_TRUE(r->Reserve(slot, 600 * kMiBytes));
  EXPECT_FALSE(r->Reserve(slot, 401 * kMiBytes, &used));  // 600 + 401 = 1001 > 1000
  EXPECT_EQ(used, 600 * kMiBytes);
  EXPECT_TRUE(r->Reserve(slot, 400 * kMiBytes));  // 600 + 400 = 1000
  r->Release(slot, 600 * kMiBytes);
  EXPECT_EQ(r->Used(), 400 * kMiBytes);
  // A second opener shares the same records and keeps the creator's cap.
  std::unique_ptr<SharedRegion> again = SharedRegion::Open(name_, 5 * kMiBytes, &error);
  ASSERT_NE(again, nullptr) << error;
  EXPECT_EQ(again->cap(), 1000 * kMiBytes);
  EXPECT_EQ(again->Used(), 400 * kMiBytes);
}

TEST_F(SharedRegionTest, DeadProcessRecordIsReaped) {
  // The child takes 700 of 1000 and is killed; its record goes at the next read: 0 used.
  std::string error;
  std::unique_ptr<SharedRegion> r = SharedRegion::Open(name_, 1000 * kMiBytes, &error);
  ASSERT_NE(r, nullptr) << error;
  InChildThenKilled([&] {
    const int slot = r->Attach(getpid(), ProcessStartTicks(getpid()));
    r->Reserve(slot, 700 * kMiBytes);
  });
  EXPECT_EQ(r->Used(), 0U);
  const int slot = r->Attach(getpid(), ProcessStartTicks(getpid()));
  EXPECT_TRUE(r->Reserve(slot, 1000 * kMiBytes));
}

TEST_F(SharedRegionTest, LockHeldByAKilledProcessDoesNotWedge) {
  // The child dies holding the robust mutex; the next Lock gets EOWNERDEAD and recovers, and the
  // dead child's 300 are reaped on the way.
  std::string error;
  std::unique_ptr<SharedRegion> r = SharedRegion::Open(name_, 1000 * kMiBytes, &error);
  ASSERT_NE(r, nullptr) << error;
  InChildThenKilled([&] {
    const int slot = r->Attach(getpid(), ProcessStartTicks(getpid()));
    r->Reserve(slot, 300 * kMiBytes);
    r->Lock();
  });
  ASSERT_TRUE(r->Lock());
  r->Unlock();
  EXPECT_EQ(r->Used(), 0U);
}

TEST_F(SharedRegionTest, UnlinkJobRemovesEveryGpuOfThatJobOnly) {
  // Job J has regions on two GPUs, job J+1 on one: UnlinkJob(J) removes 2 and leaves J+1's.
  const std::int64_t job = 880000000 + getpid();
  std::string error;
  for (const char* gpu : {"GPU-a", "GPU-b"}) {
    ASSERT_NE(SharedRegion::Open(SharedRegion::RegionName(job, 0, gpu), 0, &error), nullptr);
  }
  const std::string other = SharedRegion::RegionName(job + 1, 0, "GPU-a");
  ASSERT_NE(SharedRegion::Open(other, 0, &error), nullptr);
  EXPECT_EQ(SharedRegion::UnlinkJob(job), 2);
  EXPECT_EQ(SharedRegion::UnlinkJob(job), 0);
  EXPECT_TRUE(SharedRegion::Unlink(other));
}

TEST_F(SharedRegionTest, ReusedPidWithAnotherStartTimeIsNotTheSameProcess) {
  // A record naming this pid with a start time that is not ours is a former process of that pid.
  EXPECT_TRUE(ProcessAlive(getpid(), ProcessStartTicks(getpid())));
  EXPECT_FALSE(ProcessAlive(getpid(), ProcessStartTicks(getpid()) + 1));
  EXPECT_TRUE(ProcessAlive(getpid(), 0));
}

}  // namespace
}  // namespace gpupool::shim

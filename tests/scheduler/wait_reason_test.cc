#include "scheduler/wait_reason.h"

#include <gtest/gtest.h>

#include <set>

namespace gpupool::scheduler {
namespace {

TEST(WaitReasonTest, EveryCodeHasItsOwnSnakeCaseName) {
  const std::vector<std::pair<WaitCode, std::string>> names = {
      {WaitCode::kOverLimit, "over_limit"},
      {WaitCode::kOverQuota, "over_quota"},
      {WaitCode::kWaitingToBorrow, "waiting_to_borrow"},
      {WaitCode::kNodesUnavailable, "nodes_unavailable"},
      {WaitCode::kNoGpuOfModel, "no_gpu_of_model"},
      {WaitCode::kInsufficient, "insufficient"},
      {WaitCode::kFragmentation, "fragmentation"},
      {WaitCode::kTopology, "topology"},
      {WaitCode::kGangIncomplete, "gang_incomplete"},
      {WaitCode::kBehindHigherPriority, "behind_higher_priority"},
      {WaitCode::kReservationAhead, "reservation_ahead"},
      {WaitCode::kReserved, "reserved"},
      {WaitCode::kReservationLapsed, "reservation_lapsed"},
      {WaitCode::kWaitingForPartner, "waiting_for_partner"},
      {WaitCode::kPreempted, "preempted"},
      {WaitCode::kWaitingForVictims, "waiting_for_victims"},
  };
  std::set<std::string> seen;
  for (const auto& [code, name] : names) {
    EXPECT_EQ(WaitCodeName(code), name);
    EXPECT_TRUE(seen.insert(name).second) << name;
  }
}

TEST(WaitReasonTest, WordsAreNotNowAndTheMessagesJoined) {
  EXPECT_EQ(JoinWaitReasons({}), "");
  WaitReason a;
  a.message = "queue 'a' is at its limit (4 of 4 GPUs in use)";
  WaitReason b;
  b.message = "1 job(s) of the same shape ahead of it";
  EXPECT_EQ(JoinWaitReasons({a}), "not now: queue 'a' is at its limit (4 of 4 GPUs in use)");
  EXPECT_EQ(JoinWaitReasons({a, b}),
            "not now: queue 'a' is at its limit (4 of 4 GPUs in use); 1 job(s) of the same shape "
            "ahead of it");
}

}  // namespace
}  // namespace gpupool::scheduler

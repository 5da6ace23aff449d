#include "scheduler/wait_reason.h"

namespace gpupool::scheduler {

std::string_view WaitCodeName(WaitCode c) {
  switch (c) {
    case WaitCode::kOverLimit:
      return "over_limit";
    case WaitCode::kOverQuota:
      return "over_quota";
    case WaitCode::kWaitingToBorrow:
      return "waiting_to_borrow";
    case WaitCode::kNodesUnavailable:
      return "nodes_unavailable";
    case WaitCode::kNoGpuOfModel:
      return "no_gpu_of_model";
    case WaitCode::kInsufficient:
      return "insufficient";
    case WaitCode::kFragmentation:
      return "fragmentation";
    case WaitCode::kTopology:
      return "topology";
    case WaitCode::kGangIncomplete:
      return "gang_incomplete";
    case WaitCode::kBehindHigherPriority:
      return "behind_higher_priority";
    case WaitCode::kReservationAhead:
      return "reservation_ahead";
    case WaitCode::kReserved:
      return "reserved";
    case WaitCode::kReservationLapsed:
      return "reservation_lapsed";
    case WaitCode::kWaitingForPartner:
      return "waiting_for_partner";
    case WaitCode::kPreempted:
      return "preempted";
    case WaitCode::kWaitingForVictims:
      return "waiting_for_victims";
  }
  return "unknown";
}

std::string JoinWaitReasons(const std::vector<WaitReason>& reasons) {
  if (reasons.empty()) return std::string();
  std::string out = "not now: ";
  for (std::size_t k = 0; k < reasons.size(); ++k) {
    if (k > 0) out += "; ";
    out += reasons[k].message;
  }
  return out;
}

}  // namespace gpupool::scheduler

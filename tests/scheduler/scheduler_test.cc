#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <random>

namespace gpupool::scheduler {
namespace {

using cluster::NodeSpec;

NodeSpec Node(const std::string& name, int gpus, const std::string& model = "H100",
              std::vector<std::vector<int>> islands = {}, std::int64_t cpu_milli = 64000,
              std::int64_t memory_mib = 512 * 1024) {
  NodeSpec n;
  n.name = name;
  n.cpu_milli = cpu_milli;
  n.memory_mib = memory_mib;
  for (int g = 0; g < gpus; ++g) {
    n.gpus.push_back({model, 81920, name + "-gpu" + std::to_string(g), -1});
  }
  n.nvlink_islands = std::move(islands);
  return n;
}

JobRequest Whole(int gpus, int replicas = 1, int priority = 0) {
  JobRequest r;
  r.replica.num_gpu = gpus;
  r.replica.gpu_milli = 1000;
  r.replica.cpu_milli = 1000;
  r.replica.memory_mib = 1024;
  r.replicas = replicas;
  r.priority = priority;
  return r;
}

JobRequest Share(int milli) {
  JobRequest r;
  r.replica.num_gpu = 1;
  r.replica.gpu_milli = milli;
  r.replica.cpu_milli = 1000;
  r.replica.memory_mib = 1024;
  return r;
}

std::unique_ptr<Scheduler> Make(const std::vector<NodeSpec>& nodes, const std::string& policy,
                                int window = 0, int max_defer_cycles = 1) {
  SchedulerOptions opt;
  opt.policy = policy;
  opt.window = window;
  opt.max_defer_cycles = max_defer_cycles;
  opt.workload_half_life = 1e12;  // no decay: learned weights are plain frequencies
  auto s = Scheduler::Create(nodes, opt);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().ToString());
  return std::move(*s);
}

// A job that requires each replica's GPUs inside one NVLink island.
JobRequest Nvlink(int gpus, int replicas = 1) {
  JobRequest r = Whole(gpus, replicas);
  r.replica.require_nvlink = true;
  return r;
}

// Islands {0-3}, {4-7} of an 8-GPU node.
const std::vector<std::vector<int>> kTwoIslands = {{0, 1, 2, 3}, {4, 5, 6, 7}};

// Takes the GPUs of `mask` on node `node` for job `id` (1 CPU, 1 GiB), as a restored placement.
void Take(Scheduler& s, JobId id, int node, std::uint32_t mask, std::int64_t cpu_milli = 1000) {
  JobRequest r = Whole(std::popcount(mask));
  r.replica.cpu_milli = cpu_milli;
  ASSERT_TRUE(s.Allocate(id, {cluster::MakeAllocation(r.replica, node, mask)}, r).ok());
}

std::string NodeOf(const Scheduler& s, JobId id, std::size_t replica = 0) {
  const Placement* p = s.placement(id);
  if (p == nullptr || replica >= p->size()) return "";
  return s.node_spec((*p)[replica].node).name;
}

TEST(SchedulerTest, BestFitPutsFourGpusOnTheNodeTheyFillExactly) {
  // a: 8 free -> 4 left after; b: 4 free -> 0 left: bestfit scores b higher.
  auto s = Make({Node("a", 8), Node("b", 4)}, "bestfit");
  ASSERT_TRUE(s->AddPending(1, Whole(4)).ok());
  const CycleResult r = s->RunCycle();
  ASSERT_EQ(r.placed.size(), 1U);
  EXPECT_EQ(NodeOf(*s, 1), "b");
  EXPECT_EQ(std::popcount((*s->placement(1))[0].gpu_mask), 4);
  EXPECT_EQ(s->num_pending(), 0U);
}

TEST(SchedulerTest, GangGoesOnTheFewestNodesEachReplicaInsideOneIsland) {
  // Two 8-GPU nodes with islands {0-3}, {4-7}: 2 replicas x 4 GPUs fit on one node, one island
  // each (masks 0x0f and 0xf0), rather than on two nodes.
  auto s = Make({Node("a", 8, "H100", {{0, 1, 2, 3}, {4, 5, 6, 7}}),
                 Node("b", 8, "H100", {{0, 1, 2, 3}, {4, 5, 6, 7}})},
                "fgd");
  ASSERT_TRUE(s->AddPending(7, Whole(4, 2)).ok());
  s->RunCycle();
  const Placement* p = s->placement(7);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->size(), 2U);
  EXPECT_EQ((*p)[0].node, (*p)[1].node);
  std::vector<std::uint32_t> masks = {(*p)[0].gpu_mask, (*p)[1].gpu_mask};
  std::sort(masks.begin(), masks.end());
  EXPECT_EQ(masks, (std::vector<std::uint32_t>{0x0fU, 0xf0U}));
}

TEST(SchedulerTest, ARequiredNvlinkJobWaitsForOneIslandWithTopologyAsTheReason) {
  // a: islands {0-3}, {4-7}; GPUs 0, 1 and 4, 5 taken -> 4 free, 2 in each island.
  // A 4-GPU NVLink job: the free counts fit (4 free on a), no island has 4 -> topology, needed 4,
  // most_on_one 2 (the most free in one island), 1 replica.
  auto s = Make({Node("a", 8, "H100", kTwoIslands)}, "bestfit");
  Take(*s, 100, 0, 0x03);
  Take(*s, 101, 0, 0x30);
  ASSERT_TRUE(s->AddPending(1, Nvlink(4)).ok());
  s->RunCycle();
  EXPECT_EQ(s->placement(1), nullptr);
  const std::vector<WaitReason> why = s->PendingReasons(1);
  ASSERT_EQ(why.size(), 1U) << s->PendingReason(1);
  EXPECT_EQ(why[0].code, WaitCode::kTopology);
  EXPECT_EQ(why[0].resource, "gpus");
  EXPECT_EQ(why[0].replicas, 1);
  EXPECT_EQ(why[0].needed, 4);
  EXPECT_EQ(why[0].most_on_one, 2);
  EXPECT_EQ(s->PendingReason(1),
            "not now: needs 4 GPUs free inside one NVLink island, at most 2 free in one island on "
            "any node (it would fit now without the rule)");
  // The same job without the rule starts there, on the 4 free GPUs 2, 3, 6, 7 (0xCC).
  ASSERT_TRUE(s->AddPending(2, Whole(4)).ok());
  s->RunCycle();
  ASSERT_NE(s->placement(2), nullptr);
  EXPECT_EQ((*s->placement(2))[0].gpu_mask, 0xCCU);
}

TEST(SchedulerTest, ARequiredNvlinkJobIsAnotherShapeThanTheSameJobWithout) {
  // As above, both in one cycle: the NVLink job (first) fits nowhere; a cycle that remembered its
  // shape as the plain job's would skip job 2, which fits (GPUs 2, 3, 6, 7).
  auto s = Make({Node("a", 8, "H100", kTwoIslands)}, "bestfit");
  Take(*s, 100, 0, 0x03);
  Take(*s, 101, 0, 0x30);
  ASSERT_TRUE(s->AddPending(1, Nvlink(4)).ok());
  ASSERT_TRUE(s->AddPending(2, Whole(4)).ok());
  s->RunCycle();
  EXPECT_EQ(s->placement(1), nullptr);
  ASSERT_NE(s->placement(2), nullptr);
  EXPECT_EQ((*s->placement(2))[0].gpu_mask, 0xCCU);
}

TEST(SchedulerTest, ARequiredNvlinkOnAnIslandFreeNodeStartsInsideOneIsland) {
  // a: GPUs 0 and 4 taken -> 3 + 3 free; a 3-GPU NVLink job takes the fuller island that holds
  // it (tie: island 0): GPUs 1, 2, 3 = 0x0E.
  auto s = Make({Node("a", 8, "H100", kTwoIslands)}, "fgd");
  Take(*s, 100, 0, 0x11);
  ASSERT_TRUE(s->AddPending(1, Nvlink(3)).ok());
  s->RunCycle();
  ASSERT_NE(s->placement(1), nullptr);
  EXPECT_EQ((*s->placement(1))[0].gpu_mask, 0x0EU);
}

TEST(SchedulerTest, ARequiredNvlinkGangTakesOneIslandPerReplica) {
  // a: GPUs 0, 1, 4, 5 taken (2 + 2 free) and 48 of 64 CPU: bestfit's favourite, but no island
  //    holds 4. b: island 0 taken (island 1 free). c: island 1 taken (island 0 free).
  // A 2 x 4 NVLink gang: each of b and c holds one replica -> b GPUs 4-7 (0xF0), c 0-3 (0x0F).
  // (Without the rule a holds one replica too, on 2, 3, 6, 7, and bestfit would take it first.)
  auto s = Make({Node("a", 8, "H100", kTwoIslands), Node("b", 8, "H100", kTwoIslands),
                 Node("c", 8, "H100", kTwoIslands)},
                "bestfit");
  Take(*s, 100, 0, 0x33, 48000);
  Take(*s, 101, 1, 0x0F);
  Take(*s, 102, 2, 0xF0);
  ASSERT_TRUE(s->AddPending(1, Nvlink(4, 2)).ok());
  s->RunCycle();
  const Placement* p = s->placement(1);
  ASSERT_NE(p, nullptr) << s->PendingReason(1);
  ASSERT_EQ(p->size(), 2U);
  std::map<std::string, std::uint32_t> masks;
  for (const auto& a : *p) masks[s->node_spec(a.node).name] = a.gpu_mask;
  EXPECT_EQ(masks, (std::map<std::string, std::uint32_t>{{"b", 0xF0U}, {"c", 0x0FU}}));
}

TEST(SchedulerTest, ARequiredNvlinkGangSaysTopologyAndHowManyReplicasFit) {
  // a: 2 + 2 free; b: island 1 free (4). A 2 x 4 NVLink gang: b holds 1, a none -> 1 of 2 fit
  // (gang_incomplete); without the rule a holds 1 too, 2 of 2 -> topology, needed 4, most in one
  // island 4 (b's island 1).
  auto s = Make({Node("a", 8, "H100", kTwoIslands), Node("b", 8, "H100", kTwoIslands)}, "bestfit");
  Take(*s, 100, 0, 0x33);
  Take(*s, 101, 1, 0x0F);
  ASSERT_TRUE(s->AddPending(1, Nvlink(4, 2)).ok());
  s->RunCycle();
  EXPECT_EQ(s->placement(1), nullptr);
  const std::vector<WaitReason> why = s->PendingReasons(1);
  ASSERT_EQ(why.size(), 2U) << s->PendingReason(1);
  EXPECT_EQ(why[0].code, WaitCode::kTopology);
  EXPECT_EQ(why[0].replicas, 2);
  EXPECT_EQ(why[0].needed, 4);
  EXPECT_EQ(why[0].most_on_one, 4);
  EXPECT_EQ(why[1].code, WaitCode::kGangIncomplete);
  EXPECT_EQ(why[1].replicas_fit, 1);
  EXPECT_EQ(s->PendingReason(1),
            "not now: needs 4 GPUs free inside one NVLink island for each of 2 replicas, at most 4 "
            "free in one island on any node (2 of them would fit now without the rule); gang of 2 "
            "x (4 GPUs in one NVLink island, 1 CPU, 1 GiB memory) not yet placeable: 1 of 2 "
            "replicas fit now, all or none");
}

TEST(SchedulerTest, ARequiredNvlinkReplicaLargerThanEveryIslandIsNever) {
  // Islands of 4 GPUs on 8-GPU nodes: 6 GPUs in one island never fit; 4 do; 6 without the rule
  // do. A pool without islands never meets a multi-GPU rule; one GPU always does.
  auto s = Make({Node("a", 8, "H100", kTwoIslands), Node("b", 8, "L40S")}, "fgd");
  Status st = s->CheckFeasible(Nvlink(6));
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "never: 6 GPUs per replica inside one NVLink island (topology nvlink), but the largest "
            "island on a node has 4 GPUs");
  EXPECT_TRUE(s->CheckFeasible(Nvlink(4)).ok());
  EXPECT_TRUE(s->CheckFeasible(Whole(6)).ok());
  JobRequest on_l40s = Nvlink(2);
  on_l40s.replica.allowed_models = cluster::ModelMask{1} << *s->models().Find("L40S");
  EXPECT_EQ(s->CheckFeasible(on_l40s).message(),
            "never: 2 GPUs per replica inside one NVLink island (topology nvlink), but no node of "
            "L40S declares NVLink islands");
  on_l40s.replica.num_gpu = 1;
  EXPECT_TRUE(s->CheckFeasible(on_l40s).ok());
  // A gang of 4-GPU NVLink replicas: a holds 2 (one per island), b none -> 3 is never.
  EXPECT_TRUE(s->CheckFeasible(Nvlink(4, 2)).ok());
  EXPECT_EQ(s->CheckFeasible(Nvlink(4, 3)).message(),
            "never: a gang of 3 x (4 GPUs in one NVLink island, 1 CPU, 1 GiB memory), but the "
            "whole pool holds at most 2 such replicas");
}

TEST(SchedulerTest, GangIsAllOrNothingAndSaysHowManyReplicasFit) {
  // a has 8 GPUs, b has 4 with 2 taken: 3 x 4 GPUs = a (2 replicas) + nothing on b -> 2 of 3.
  auto s = Make({Node("a", 8), Node("b", 4)}, "bestfit");
  ASSERT_TRUE(s->AddPending(1, Whole(2)).ok());
  s->RunCycle();
  ASSERT_EQ(NodeOf(*s, 1), "b");  // bestfit: b is left with 2, a would be left with 6
  const auto before = s->state().gpu_allocated_milli();
  ASSERT_TRUE(s->AddPending(2, Whole(4, 3)).ok());
  s->RunCycle();
  EXPECT_EQ(s->placement(2), nullptr);
  EXPECT_EQ(s->state().gpu_allocated_milli(), before);  // nothing half placed
  // Every reason at once: 12 GPUs asked, 6 + 4 = 10 free; and 2 of the 3 replicas fit.
  EXPECT_EQ(s->PendingReason(2),
            "not now: needs 12 GPU(s) free, the pool has 10 free; gang of 3 x (4 GPUs, 1 CPU, "
            "1 GiB memory) not yet placeable: 2 of 3 replicas fit now, all or none");
}

TEST(SchedulerTest, NeverIsRefusedWithTheReason) {
  auto s = Make({Node("a", 8), Node("b", 4, "L40S")}, "fgd");
  Status st = s->CheckFeasible(Whole(9));
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "never: 9 GPUs per replica, but the largest node has 8");

  JobRequest on_l40s = Whole(8);
  on_l40s.replica.allowed_models = cluster::ModelMask{1} << *s->models().Find("L40S");
  EXPECT_EQ(s->CheckFeasible(on_l40s).message(),
            "never: 8 GPUs per replica, but the largest node of L40S has 4");

  JobRequest too_much_memory = Share(500);
  too_much_memory.replica.gpu_memory_mib = 100000;
  EXPECT_EQ(s->CheckFeasible(too_much_memory).message(),
            "never: 100000 MiB of GPU memory per GPU, but the largest GPU has 80 GiB");

  JobRequest cpu = Whole(1);
  cpu.replica.cpu_milli = 65000;
  EXPECT_EQ(s->CheckFeasible(cpu).message(),
            "never: 65 CPU per replica, but the largest node that has the GPUs has 64 CPU");

  // Gang: a holds 2 x 4, b holds 1 x 4 -> at most 3.
  EXPECT_EQ(s->CheckFeasible(Whole(4, 4)).message(),
            "never: a gang of 4 x (4 GPUs, 1 CPU, 1 GiB memory), but the whole pool holds at most "
            "3 such replicas");
  EXPECT_TRUE(s->CheckFeasible(Whole(4, 3)).ok());
}

TEST(SchedulerTest, FragmentedAndShortAreTold) {
  // Two 4-GPU nodes with 2 GPUs taken on each: 4 free in all, at most 2 on one node.
  auto s = Make({Node("a", 4), Node("b", 4)}, "bestfit");
  ASSERT_TRUE(s->Allocate(1, {cluster::MakeAllocation(Whole(2).replica, 0, 0b0011)}).ok());
  ASSERT_TRUE(s->Allocate(2, {cluster::MakeAllocation(Whole(2).replica, 1, 0b0011)}).ok());
  ASSERT_TRUE(s->AddPending(3, Whole(3)).ok());
  ASSERT_TRUE(s->AddPending(4, Whole(3)).ok());
  ASSERT_TRUE(s->AddPending(5, Whole(4, 2)).ok());
  s->RunCycle();
  EXPECT_EQ(s->PendingReason(3),
            "not now: fits in total but fragmented: 4 GPUs free in the pool, at most 2 free on "
            "one node (needs 3)");
  EXPECT_EQ(s->PendingReason(4),
            "not now: fits in total but fragmented: 4 GPUs free in the pool, at most 2 free on "
            "one node (needs 3); 1 job(s) of the same shape ahead of it");
  // The gang of 2 x 4 is short (8 asked, 4 free) and fragmented too (no node has 4 free).
  EXPECT_EQ(s->PendingReason(5),
            "not now: needs 8 GPU(s) free, the pool has 4 free; fits in total but fragmented: 4 "
            "GPUs free in the pool, at most 2 free on one node (needs 4)");
}

TEST(SchedulerTest, ShareReasonsCountMilli) {
  // One GPU with 700 taken: 300 free; a 500 share is short, not fragmented.
  auto s = Make({Node("a", 1)}, "bestfit");
  ASSERT_TRUE(s->Allocate(1, {cluster::MakeAllocation(Share(700).replica, 0, 1)}).ok());
  ASSERT_TRUE(s->AddPending(2, Share(500)).ok());
  s->RunCycle();
  EXPECT_EQ(s->PendingReason(2),
            "not now: needs 500 milli-GPU free, the pool has 300 milli-GPU free");
}

TEST(SchedulerTest, HigherPriorityGoesFirstWhateverTheSubmissionOrder) {
  auto s = Make({Node("a", 8)}, "fgd");
  ASSERT_TRUE(s->AddPending(1, Whole(8, 1, 0)).ok());
  ASSERT_TRUE(s->AddPending(2, Whole(8, 1, 5)).ok());
  s->RunCycle();
  EXPECT_EQ(s->placement(1), nullptr);
  EXPECT_EQ(NodeOf(*s, 2), "a");
  EXPECT_EQ(s->PendingReason(1), "not now: needs 8 GPU(s) free, the pool has 0 free");
}

TEST(SchedulerTest, AllocateAndReleaseAreCheckedAndExact) {
  auto s = Make({Node("a", 2)}, "fgd");
  const auto one = Whole(1).replica;
  // Overcommit: two replicas on the same GPU -> error, nothing booked.
  Status st = s->Allocate(
      1, {cluster::MakeAllocation(one, 0, 0b01), cluster::MakeAllocation(one, 0, 0b01)});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("job 1 replica 1"), std::string::npos) << st.message();
  EXPECT_EQ(s->state().gpu_allocated_milli(), 0);
  // A bad node index from a database row.
  cluster::Allocation bad = cluster::MakeAllocation(one, 5, 0b01);
  EXPECT_EQ(s->Allocate(2, {bad}).code(), StatusCode::kInvalidArgument);
  // Release twice.
  ASSERT_TRUE(s->Allocate(3, {cluster::MakeAllocation(one, 0, 0b10)}).ok());
  EXPECT_EQ(s->state().gpu_allocated_milli(), 1000);
  EXPECT_TRUE(s->Release(3).ok());
  EXPECT_EQ(s->Release(3).code(), StatusCode::kNotFound);
  EXPECT_EQ(s->state().gpu_allocated_milli(), 0);
}

TEST(SchedulerTest, ReleaseAndReplaceGivesTheSameDecisionAsNeverPlaced) {
  const std::vector<NodeSpec> nodes = {Node("a", 4), Node("b", 8), Node("c", 2)};
  for (const std::string policy : {"bestfit", "fgd", "dotprod", "clustering", "packing"}) {
    auto fresh = Make(nodes, policy);
    auto used = Make(nodes, policy);
    // `used` places and releases a job first.
    ASSERT_TRUE(used->AddPending(1, Share(300)).ok());
    used->RunCycle();
    ASSERT_TRUE(used->Release(1).ok());
    ASSERT_TRUE(fresh->AddPending(1, Share(300)).ok());  // the same observations for FGD
    ASSERT_TRUE(fresh->RemovePending(1).ok());
    ASSERT_TRUE(fresh->AddPending(2, Whole(2)).ok());
    ASSERT_TRUE(used->AddPending(2, Whole(2)).ok());
    fresh->RunCycle();
    used->RunCycle();
    ASSERT_NE(fresh->placement(2), nullptr) << policy;
    ASSERT_NE(used->placement(2), nullptr) << policy;
    EXPECT_EQ((*fresh->placement(2))[0].node, (*used->placement(2))[0].node) << policy;
    EXPECT_EQ((*fresh->placement(2))[0].gpu_mask, (*used->placement(2))[0].gpu_mask) << policy;
  }
}

TEST(SchedulerTest, CordonedNodesTakeNoWorkAndAllCordonedIsTold) {
  auto s = Make({Node("a", 4), Node("b", 4)}, "bestfit");
  ASSERT_TRUE(s->SetNodeCondition("a", NodeCondition::kCordoned).ok());
  ASSERT_TRUE(s->AddPending(1, Whole(1)).ok());
  s->RunCycle();
  EXPECT_EQ(NodeOf(*s, 1), "b");
  ASSERT_TRUE(s->SetNodeCondition("b", NodeCondition::kDraining).ok());
  ASSERT_TRUE(s->AddPending(2, Whole(1)).ok());
  s->RunCycle();
  EXPECT_EQ(s->PendingReason(2),
            "not now: every node is cordoned, draining or unhealthy (2 node(s))");
  ASSERT_TRUE(s->SetNodeCondition("a", NodeCondition::kReady).ok());
  s->RunCycle();
  EXPECT_EQ(NodeOf(*s, 2), "a");
  EXPECT_EQ(s->SetNodeCondition("zz", NodeCondition::kReady).code(), StatusCode::kNotFound);
}

TEST(SchedulerTest, LostGpuTakesNoNewWork) {
  auto s = Make({Node("a", 2)}, "bestfit");
  ASSERT_TRUE(s->SetGpuHealthy("a", 0, false).ok());
  ASSERT_TRUE(s->AddPending(1, Whole(1)).ok());
  ASSERT_TRUE(s->AddPending(2, Whole(1)).ok());
  s->RunCycle();
  ASSERT_NE(s->placement(1), nullptr);
  EXPECT_EQ((*s->placement(1))[0].gpu_mask, 0b10U);
  EXPECT_EQ(s->placement(2), nullptr);
  // Totals count what jobs hold: GPU 1's 1000 milli, not the lost GPU 0 (which takes no work).
  const PoolTotals t = s->Totals();
  EXPECT_EQ(t.allocated_milli, 1000);
  EXPECT_EQ(t.gpus_free, 1);
  EXPECT_EQ(t.gpus_unusable, 1);
  EXPECT_FALSE(s->gpu_healthy(0, 0));
  EXPECT_TRUE(s->gpu_healthy(0, 1));
}

TEST(SchedulerTest, TotalsByModelWorkedByHandAddUpToThePools) {
  // Two models; the learned workload is one class, 1 GPU x 500 milli (weight 1), so a node's
  // fragment is the milli left on its GPUs with less than 500 left when one GPU has >= 500 left,
  // else all it has left (fragmentation.h); cordoned nodes count no fragment.
  auto s = Make(
      {Node("h0", 2, "H100"), Node("h1", 2, "H100"), Node("l0", 4, "L40S"), Node("l1", 4, "L40S")},
      "bestfit");
  ASSERT_TRUE(s->AddPending(99, Share(500)).ok());
  s->RunCycle();  // learns the workload (and places job 99, released again)
  ASSERT_TRUE(s->Release(99).ok());
  ASSERT_EQ(s->workload().classes.size(), 1U);
  ASSERT_EQ(s->workload().classes[0].gpu_milli, 500);
  const auto take = [&](JobId id, int node, int gpu, int milli) {
    const JobRequest r = Share(milli);
    ASSERT_TRUE(s->Allocate(id, {cluster::MakeAllocation(r.replica, node, 1U << gpu)}, r).ok());
  };
  take(1, 0, 0, 700);  // h0: left 300, 0  -> nothing has 500 left: fragment 300
  take(2, 0, 1, 1000);
  take(3, 1, 0, 800);  // h1: left 200, 1000 -> fits: fragment 200
  take(4, 2, 0, 600);  // l0: left 400, 100, 1000, 1000 -> fits: fragment 400 + 100 = 500
  take(5, 2, 1, 900);
  take(6, 3, 0, 300);  // l1, cordoned: left 700, 1000 x 3; free but no fragment counted
  ASSERT_TRUE(s->SetNodeCondition("l1", NodeCondition::kCordoned).ok());
  const std::map<std::string, PoolTotals> m = s->TotalsByModel();
  ASSERT_EQ(m.size(), 2U);
  const PoolTotals& h = m.at("H100");
  EXPECT_EQ(h.gpus, 4);
  EXPECT_EQ(h.capacity_milli, 4000);
  EXPECT_EQ(h.allocated_milli, 2500);  // 700 + 1000 + 800: 1500 free
  EXPECT_EQ(h.gpus_whole_allocated, 1);
  EXPECT_EQ(h.gpus_shared, 2);
  EXPECT_EQ(h.gpus_free, 1);
  EXPECT_EQ(h.gpus_unusable, 0);
  EXPECT_DOUBLE_EQ(h.fragmented_milli, 500.0);  // 300 + 200: a third of the 1500 free
  const PoolTotals& l = m.at("L40S");
  EXPECT_EQ(l.gpus, 8);
  EXPECT_EQ(l.capacity_milli, 8000);
  EXPECT_EQ(l.allocated_milli, 1800);  // 600 + 900 + 300: 6200 free
  EXPECT_EQ(l.gpus_whole_allocated, 0);
  EXPECT_EQ(l.gpus_shared, 3);
  EXPECT_EQ(l.gpus_free, 5);
  EXPECT_EQ(l.gpus_unusable, 4);                // l1 is cordoned
  EXPECT_DOUBLE_EQ(l.fragmented_milli, 500.0);  // l0's 400 + 100; l1 counts none
  // The models add up to the pool.
  const PoolTotals t = s->Totals();
  EXPECT_EQ(h.gpus + l.gpus, t.gpus);
  EXPECT_EQ(h.capacity_milli + l.capacity_milli, t.capacity_milli);
  EXPECT_EQ(h.allocated_milli + l.allocated_milli, t.allocated_milli);
  EXPECT_EQ(h.gpus_whole_allocated + l.gpus_whole_allocated, t.gpus_whole_allocated);
  EXPECT_EQ(h.gpus_shared + l.gpus_shared, t.gpus_shared);
  EXPECT_EQ(h.gpus_free + l.gpus_free, t.gpus_free);
  EXPECT_EQ(h.gpus_unusable + l.gpus_unusable, t.gpus_unusable);
  EXPECT_NEAR(h.fragmented_milli + l.fragmented_milli, t.fragmented_milli, 1e-9);
  EXPECT_DOUBLE_EQ(t.fragmented_milli, 1000.0);
}

TEST(SchedulerTest, GpuInMigModeTakesNoJobWhileItsNeighboursDo) {
  NodeSpec a = Node("a", 4, "A100-SXM-80GB");
  a.gpus[1].mig_enabled = true;
  a.gpus[1].mig_instances = {{"7g.80gb", 81920, "MIG-a-1-0"}};
  for (const std::string policy : {"bestfit", "fgd"}) {
    SCOPED_TRACE(policy);
    auto s = Make({a}, policy);
    // Three one-GPU jobs take GPUs 0, 2 and 3; a fourth, and a share, find nothing: GPU 1 is
    // in MIG mode.
    for (JobId id = 1; id <= 4; ++id) ASSERT_TRUE(s->AddPending(id, Whole(1)).ok());
    ASSERT_TRUE(s->AddPending(5, Share(100)).ok());
    s->RunCycle();
    std::uint32_t taken = 0;
    for (JobId id = 1; id <= 3; ++id) {
      ASSERT_NE(s->placement(id), nullptr) << id;
      taken |= (*s->placement(id))[0].gpu_mask;
    }
    EXPECT_EQ(taken, 0b1101U);
    EXPECT_EQ(s->placement(4), nullptr);
    EXPECT_EQ(s->placement(5), nullptr);
    EXPECT_EQ(s->gpu_no_work_reason(0, 1),
              "MIG mode: gpupool does not place jobs on MIG instances yet");
    EXPECT_EQ(s->gpu_no_work_reason(0, 0), std::nullopt);
    EXPECT_TRUE(s->gpu_healthy(0, 1));
    // Totals: 3 GPUs allocated; GPU 1 holds nothing, so it counts free and unusable, as a lost
    // GPU does (LostGpuTakesNoNewWork).
    const PoolTotals t = s->Totals();
    EXPECT_EQ(t.gpus_whole_allocated, 3);
    EXPECT_EQ(t.gpus_free, 1);
    EXPECT_EQ(t.gpus_unusable, 1);
    EXPECT_EQ(t.allocated_milli, 3000);
    // A job for all four GPUs is not refused (MIG mode can be turned off): it waits, and the free
    // count leaves GPU 1 out (0 free now).
    ASSERT_TRUE(s->AddPending(6, Whole(4)).ok());
    s->RunCycle();
    EXPECT_EQ(s->placement(6), nullptr);
    EXPECT_EQ(s->PendingReason(6), "not now: needs 4 GPU(s) free, the pool has 0 free");
  }
  // A lost GPU gives the other reason.
  auto s = Make({Node("b", 2)}, "bestfit");
  ASSERT_TRUE(s->SetGpuHealthy("b", 0, false).ok());
  EXPECT_EQ(s->gpu_no_work_reason(0, 0), "unhealthy: lost or unreadable (NVML)");
}

TEST(SchedulerTest, NodesComeAndGo) {
  auto s = Make({Node("a", 2)}, "fgd");
  ASSERT_TRUE(s->AddPending(1, Whole(4)).ok());
  s->RunCycle();
  EXPECT_EQ(s->placement(1), nullptr);
  auto added = s->AddNode(Node("b", 4));
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(*added, 1);
  EXPECT_FALSE(s->AddNode(Node("b", 4)).has_value());  // the name is taken
  s->RunCycle();
  EXPECT_EQ(NodeOf(*s, 1), "b");
  EXPECT_EQ(s->RemoveNode("b").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(s->Release(1).ok());
  EXPECT_TRUE(s->RemoveNode("b").ok());
  EXPECT_FALSE(s->NodeIndex("b").has_value());
  EXPECT_EQ(s->Totals().gpus, 2);
}

TEST(SchedulerTest, WorkloadIsLearnedFromSubmittedRequestsOnly) {
  auto s = Make({Node("a", 8)}, "fgd");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s->AddPending(10 + i, Share(500)).ok());
  ASSERT_TRUE(s->AddPending(20, Whole(1)).ok());
  s->RunCycle();
  // 3 shares of 500 and one whole GPU seen: weights 3/4 and 1/4, most popular first.
  ASSERT_EQ(s->workload().classes.size(), 2U);
  EXPECT_EQ(s->workload().classes[0].gpu_milli, 500);
  EXPECT_NEAR(s->workload().classes[0].weight, 0.75, 1e-9);
  EXPECT_EQ(s->workload().classes[1].gpu_milli, 1000);
  EXPECT_NEAR(s->workload().classes[1].weight, 0.25, 1e-9);
}

TEST(SchedulerTest, AnEarlyWorkloadIsRelearnedWhenTheHistoryDoubles) {
  // relearn_every 64: after job 1 the workload is its one class; after 3 more (4 >= 2 x 1) the
  // cycle re-derives it, although fewer than 64 requests came.
  auto s = Make({Node("a", 8)}, "fgd");
  ASSERT_TRUE(s->AddPending(1, Whole(8)).ok());
  s->RunCycle();
  ASSERT_EQ(s->workload().classes.size(), 1U);
  EXPECT_EQ(s->workload().classes[0].num_gpu, 8);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s->AddPending(10 + i, Share(500)).ok());
  s->RunCycle();
  ASSERT_EQ(s->workload().classes.size(), 2U);
  EXPECT_EQ(s->workload().classes[0].gpu_milli, 500);  // 3 of 4 requests
  EXPECT_NEAR(s->workload().classes[0].weight, 0.75, 1e-9);
}

TEST(SchedulerTest, WindowPolicyPairsSharesThatFillAGpu) {
  // fgd-window groups 600 + 400 (sum 1000) onto one GPU in one window.
  auto s = Make({Node("a", 2), Node("b", 2)}, "fgd-window", 8);
  ASSERT_TRUE(s->AddPending(1, Share(600)).ok());
  ASSERT_TRUE(s->AddPending(2, Share(400)).ok());
  s->RunCycle();
  ASSERT_NE(s->placement(1), nullptr);
  ASSERT_NE(s->placement(2), nullptr);
  EXPECT_EQ((*s->placement(1))[0].node, (*s->placement(2))[0].node);
  EXPECT_EQ((*s->placement(1))[0].gpu_mask, (*s->placement(2))[0].gpu_mask);
}

// The window policy's waiting, in the service's cycle: two 470s (940, not an exact fill) fit now
// but wait one cycle for a better partner (max_defer_cycles = 1); the next cycle, with nothing
// freed and nothing new, places them as one group on one GPU.
TEST(SchedulerTest, AShareWaitsOneCycleForAPartnerThenGoes) {
  auto s = Make({Node("a", 2), Node("b", 2)}, "fgd-window", 8);
  ASSERT_TRUE(s->AddPending(1, Share(470)).ok());
  ASSERT_TRUE(s->AddPending(2, Share(470)).ok());
  CycleResult r = s->RunCycle();
  EXPECT_EQ(r.deferred, 2);
  EXPECT_TRUE(r.placed.empty());
  EXPECT_NE(s->PendingReason(1).find("waiting for a job to share its GPU"), std::string::npos)
      << s->PendingReason(1);
  r = s->RunCycle();
  EXPECT_EQ(r.deferred, 0);
  EXPECT_EQ(r.considered, 2);  // deferred jobs are tried again though nothing was freed
  ASSERT_NE(s->placement(1), nullptr);
  ASSERT_NE(s->placement(2), nullptr);
  EXPECT_EQ((*s->placement(1))[0].node, (*s->placement(2))[0].node);
  EXPECT_EQ((*s->placement(1))[0].gpu_mask, (*s->placement(2))[0].gpu_mask);
}

TEST(SchedulerTest, NoDeferCyclesMeansNoWaiting) {
  auto s = Make({Node("a", 2), Node("b", 2)}, "fgd-window", 8, /*max_defer_cycles=*/0);
  ASSERT_TRUE(s->AddPending(1, Share(470)).ok());
  const CycleResult r = s->RunCycle();
  EXPECT_EQ(r.deferred, 0);
  EXPECT_NE(s->placement(1), nullptr);
}

TEST(SchedulerTest, WithNothingFreedACycleTriesOnlyNewArrivals) {
  auto s = Make({Node("a", 2)}, "bestfit");
  ASSERT_TRUE(s->AddPending(1, Whole(2)).ok());
  ASSERT_TRUE(s->AddPending(2, Whole(1)).ok());
  CycleResult r = s->RunCycle();
  EXPECT_TRUE(r.full);  // the first cycle sees everything
  EXPECT_EQ(r.considered, 2);
  ASSERT_NE(s->placement(1), nullptr);  // 2 GPUs first (submitted first, same priority)
  ASSERT_TRUE(s->AddPending(3, Share(500)).ok());
  r = s->RunCycle();
  EXPECT_FALSE(r.full);
  EXPECT_EQ(r.considered, 1);  // job 3 only; job 2 cannot fit a fuller pool
  EXPECT_EQ(s->PendingReason(2), "not now: needs 1 GPU(s) free, the pool has 0 free");
  ASSERT_TRUE(s->Release(1).ok());
  r = s->RunCycle();
  EXPECT_TRUE(r.full);
  EXPECT_EQ(r.considered, 2);
  EXPECT_NE(s->placement(2), nullptr);
  EXPECT_NE(s->placement(3), nullptr);
}

TEST(SchedulerTest, BadRequestsAndUnknownNamesAreErrors) {
  auto s = Make({Node("a", 2)}, "fgd");
  JobRequest r = Whole(1, 0);
  EXPECT_EQ(s->AddPending(1, r).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(s->AddPending(1, Whole(1)).ok());
  EXPECT_EQ(s->AddPending(1, Whole(1)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s->RemovePending(99).code(), StatusCode::kNotFound);
  SchedulerOptions bad;
  bad.policy = "nope";
  EXPECT_FALSE(Scheduler::Create({Node("a", 1)}, bad).has_value());
  EXPECT_FALSE(Scheduler::Create({Node("a", 1), Node("a", 2)}, {}).has_value());
}

// Strict order: the first job that does not fit stops the cycle; nothing behind it starts, even
// what would fit, until it goes; its reason is its own, the others' name it.
TEST(SchedulerTest, StrictOrderLetsNoJobOvertakeTheHead) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  opt.strict_order = true;
  auto made = Scheduler::Create({Node("a", 8), Node("b", 8)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  ASSERT_TRUE(s.AddPending(1, Whole(6)).ok());
  ASSERT_TRUE(s.AddPending(2, Whole(6)).ok());
  ASSERT_TRUE(s.AddPending(3, Whole(4)).ok());  // fits nowhere after 1 and 2 (2 + 2 left)
  ASSERT_TRUE(s.AddPending(4, Whole(1)).ok());  // would fit, but is behind 3
  auto c = s.RunCycle();
  ASSERT_EQ(c.placed.size(), 2u);
  EXPECT_TRUE(s.is_pending(3));
  EXPECT_TRUE(s.is_pending(4));
  EXPECT_EQ(
      s.PendingReason(4),
      "not now: behind job 3, which does not fit yet (strict fifo order: no job overtakes it)");
  EXPECT_NE(s.PendingReason(3).find("not now"), std::string::npos);
  EXPECT_EQ(s.PendingReason(3).find("behind job"), std::string::npos);
  // A new 1-GPU job is behind 3 as well, even with nothing freed (the incremental cycle).
  ASSERT_TRUE(s.AddPending(5, Whole(1)).ok());
  EXPECT_TRUE(s.RunCycle().placed.empty());
  // When 1 ends, 3 goes, then 4 and 5 behind it.
  ASSERT_TRUE(s.Release(1).ok());
  c = s.RunCycle();
  std::vector<JobId> placed;
  for (const auto& [id, p] : c.placed) placed.push_back(id);
  EXPECT_EQ(placed, (std::vector<JobId>{3, 4, 5}));
  EXPECT_EQ(s.num_pending(), 0u);
}

TEST(SchedulerTest, WithoutStrictOrderAJobThatFitsGoesPastOneThatDoesNot) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  auto made = Scheduler::Create({Node("a", 8), Node("b", 8)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  ASSERT_TRUE(s.AddPending(1, Whole(6)).ok());
  ASSERT_TRUE(s.AddPending(2, Whole(6)).ok());
  ASSERT_TRUE(s.AddPending(3, Whole(4)).ok());
  ASSERT_TRUE(s.AddPending(4, Whole(1)).ok());
  EXPECT_EQ(s.RunCycle().placed.size(), 3u);
  EXPECT_TRUE(s.is_pending(3));
}

// The head leaves the queue (cancelled): the jobs behind it are tried again although nothing was
// freed.
TEST(SchedulerTest, StrictOrderMovesOnWhenTheHeadIsCancelled) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  opt.strict_order = true;
  auto made = Scheduler::Create({Node("a", 8)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  ASSERT_TRUE(s.AddPending(1, Whole(6)).ok());
  ASSERT_TRUE(s.AddPending(2, Whole(4)).ok());
  ASSERT_TRUE(s.AddPending(3, Whole(2)).ok());
  EXPECT_EQ(s.RunCycle().placed.size(), 1u);
  ASSERT_TRUE(s.RemovePending(2).ok());
  const auto c = s.RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 3);
}

std::unique_ptr<Scheduler> MakeLas(int gpus_per_node, int nodes = 1) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "las:100";  // one threshold: 100 GPU-seconds
  opt.preemption = true;
  std::vector<NodeSpec> specs;
  for (int i = 0; i < nodes; ++i) specs.push_back(Node("n" + std::to_string(i), gpus_per_node));
  auto s = Scheduler::Create(specs, opt);
  EXPECT_TRUE(s.has_value());
  return std::move(*s);
}

JobRequest Preemptible(int gpus) {
  JobRequest r = Whole(gpus);
  r.preemptible = true;
  return r;
}

// A request for 4 whole GPUs at priority 3, on a hand-built pool (priority order, preemption on):
//   a: 8 GPUs, all held by job 1 (priority 0, preemptible): 0 free; stopping job 1 frees 8 >= 4
//      -> after_preemption
//   b: 8 GPUs, 6 held by job 2 (priority 5 > 3: not below the request): 2 free < 4, nothing it
//      may stop -> later
//   c: 2 GPUs: 2 < 4 even empty -> never
//   d: 8 GPUs free but cordoned -> later
//   e: 8 GPUs, 4 held by job 3 (priority 0, not preemptible): 4 free >= 4 -> now
//   f: 8 GPUs, all held by job 4 (priority 0, not preemptible) -> later
TEST(SchedulerTest, NodeVerdictsSayNowAfterPreemptionLaterOrNeverPerNode) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "priority";
  opt.preemption = true;
  auto made = Scheduler::Create(
      {Node("a", 8), Node("b", 8), Node("c", 2), Node("d", 8), Node("e", 8), Node("f", 8)}, opt);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  Scheduler& s = **made;
  const auto hold = [&](JobId id, int node, std::uint32_t mask, int priority, bool preemptible) {
    JobRequest r = Whole(std::popcount(mask), 1, priority);
    r.preemptible = preemptible;
    ASSERT_TRUE(s.Allocate(id, {cluster::MakeAllocation(r.replica, node, mask)}, r).ok());
  };
  hold(1, 0, 0xFF, 0, true);
  hold(2, 1, 0x3F, 5, true);
  hold(3, 4, 0x0F, 0, false);
  hold(4, 5, 0xFF, 0, false);
  ASSERT_TRUE(s.SetNodeCondition("d", NodeCondition::kCordoned).ok());
  using V = Scheduler::NodeVerdict;
  EXPECT_EQ(
      s.NodeVerdicts(Whole(4, 1, 3)),
      (std::vector<V>{V::kAfterPreemption, V::kLater, V::kNever, V::kLater, V::kNow, V::kLater}));
  // At priority 0 job 1 is not below it: a is "later" too.
  EXPECT_EQ(s.NodeVerdicts(Whole(4, 1, 0)),
            (std::vector<V>{V::kLater, V::kLater, V::kNever, V::kLater, V::kNow, V::kLater}));
  // Without preemption nothing is "after preemption".
  opt.preemption = false;
  auto plain = Scheduler::Create({Node("a", 8)}, opt);
  ASSERT_TRUE(plain.has_value());
  JobRequest low = Whole(8);
  low.preemptible = true;
  ASSERT_TRUE((*plain)->Allocate(1, {cluster::MakeAllocation(low.replica, 0, 0xFF)}, low).ok());
  EXPECT_EQ((*plain)->NodeVerdicts(Whole(4, 1, 3)), (std::vector<V>{V::kLater}));
  EXPECT_EQ(NodeVerdictName(V::kAfterPreemption), "after_preemption");
}

// Job 1 (8 GPUs) runs from t 0; at t 20 it has 160 GPU-seconds (level 1). Job 2 (4 GPUs, level
// 0) does not fit, so it preempts job 1, which comes back pending with its history.
TEST(SchedulerTest, AWaitingJobPreemptsOneTheOrderRanksBelowIt) {
  auto s = MakeLas(8);
  ASSERT_TRUE(s->AddPending(1, Preemptible(8)).ok());
  EXPECT_EQ(s->RunCycle().placed.size(), 1u);
  s->SetClock(20);
  EXPECT_DOUBLE_EQ(s->Attained(1), 160.0);
  ASSERT_TRUE(s->AddPending(2, Preemptible(4)).ok());
  const auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{1}));
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 2);
  EXPECT_TRUE(s->is_pending(1));
  EXPECT_EQ(s->Restarts(1), 1);
  EXPECT_DOUBLE_EQ(s->Attained(1), 160.0);  // kept while it waits
  EXPECT_EQ(s->PendingReason(1), "not now: preempted by job 2 (las order)");
  // Job 2 runs from t 20: at t 30 it has 40 GPU-seconds.
  s->SetClock(30);
  EXPECT_DOUBLE_EQ(s->Attained(2), 40.0);
}

// Two level-1 jobs of 4 GPUs each hold the node; a level-0 job of 4 GPUs needs only one of them
// stopped: the lowest ranked (las: the later submitted of the same level). A job that is not
// preemptible is never a victim.
TEST(SchedulerTest, PreemptionStopsOnlyWhatIsNeededAndNeverANonPreemptibleJob) {
  auto s = MakeLas(8);
  ASSERT_TRUE(s->AddPending(1, Preemptible(4)).ok());
  ASSERT_TRUE(s->AddPending(2, Preemptible(4)).ok());
  EXPECT_EQ(s->RunCycle().placed.size(), 2u);
  s->SetClock(100);  // 400 GPU-seconds each: level 1
  ASSERT_TRUE(s->AddPending(3, Preemptible(4)).ok());
  auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{2}));
  EXPECT_NE(s->placement(1), nullptr);
  EXPECT_NE(s->placement(3), nullptr);

  // Job 4 (6 GPUs) and job 5 (2 GPUs), both level 1; job 6 needs 6. The lowest ranked, 5, is
  // stopped first but frees too little; stopping 4 too makes room, and then 5 is not needed:
  // only 4 is stopped.
  auto u = MakeLas(8);
  ASSERT_TRUE(u->AddPending(4, Preemptible(6)).ok());
  ASSERT_TRUE(u->AddPending(5, Preemptible(2)).ok());
  EXPECT_EQ(u->RunCycle().placed.size(), 2u);
  u->SetClock(100);
  ASSERT_TRUE(u->AddPending(6, Preemptible(6)).ok());
  c = u->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{4}));
  EXPECT_NE(u->placement(5), nullptr);

  auto t = MakeLas(8);
  ASSERT_TRUE(t->AddPending(1, Whole(8)).ok());  // not preemptible
  EXPECT_EQ(t->RunCycle().placed.size(), 1u);
  t->SetClock(100);
  ASSERT_TRUE(t->AddPending(2, Preemptible(4)).ok());
  c = t->RunCycle();
  EXPECT_TRUE(c.preempted.empty());
  EXPECT_TRUE(t->is_pending(2));
}

// When stopping every lower-ranked job would still not make room, nothing is stopped.
TEST(SchedulerTest, NoPreemptionThatWouldNotMakeTheJobFit) {
  auto s = MakeLas(8);
  ASSERT_TRUE(s->AddPending(1, Whole(4)).ok());        // not preemptible
  ASSERT_TRUE(s->AddPending(2, Preemptible(4)).ok());  // preemptible, level 1 by t 100
  EXPECT_EQ(s->RunCycle().placed.size(), 2u);
  s->SetClock(100);
  ASSERT_TRUE(s->AddPending(3, Preemptible(8)).ok());  // needs the whole node
  const auto c = s->RunCycle();
  EXPECT_TRUE(c.preempted.empty());
  EXPECT_NE(s->placement(2), nullptr);
}

JobRequest Limited(int gpus, std::int64_t limit_s) {
  JobRequest r = Whole(gpus);
  r.time_limit_s = limit_s;
  return r;
}

// Two 8-GPU nodes. At t 0: A (6 GPUs, limit 100) on one node, D (8, limit 1000) on the other.
// B (8 GPUs) heads the queue and fits nowhere: reserved for t 100, when A ends. C (2 GPUs, limit
// 500) fits now beside A but would still run at t 100 and leave B no node: it waits. E (2 GPUs,
// limit 50) ends by t 50: it goes. F (2 GPUs, no limit) runs forever: it waits.
TEST(SchedulerTest, EasyBackfillNeverDelaysTheReservation) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  opt.strict_order = true;
  opt.easy_backfill = true;
  auto made = Scheduler::Create({Node("a", 8), Node("b", 8)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  ASSERT_TRUE(s.AddPending(1, Limited(6, 100)).ok());   // A
  ASSERT_TRUE(s.AddPending(2, Limited(8, 1000)).ok());  // D
  ASSERT_EQ(s.RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s.AddPending(3, Limited(8, 50)).ok());   // B
  ASSERT_TRUE(s.AddPending(4, Limited(2, 500)).ok());  // C
  ASSERT_TRUE(s.AddPending(5, Limited(2, 50)).ok());   // E
  ASSERT_TRUE(s.AddPending(6, Whole(2)).ok());         // F, no limit
  const auto c = s.RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 5);
  ASSERT_TRUE(s.reservation().has_value());
  EXPECT_EQ(s.reservation()->first, 3);
  EXPECT_DOUBLE_EQ(s.reservation()->second, 100.0);
  EXPECT_EQ(s.PendingReason(4),
            "not now: would delay job 3, which holds a reservation (EASY backfill)");
  EXPECT_TRUE(s.is_pending(6));
  // At t 100 A has ended (and E long before): B starts on A's node, as reserved.
  s.SetClock(50);
  ASSERT_TRUE(s.Release(5).ok());
  s.RunCycle();
  s.SetClock(100);
  ASSERT_TRUE(s.Release(1).ok());
  const auto d = s.RunCycle();
  ASSERT_FALSE(d.placed.empty());
  EXPECT_EQ(d.placed[0].first, 3);
}

std::unique_ptr<Scheduler> MakeQueued(std::vector<queue::QueueSpec> queues, int gpus = 8) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "priority";
  opt.preemption = true;
  opt.queues = std::move(queues);
  auto s = Scheduler::Create({Node("n", gpus)}, opt);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().ToString());
  return std::move(*s);
}

JobRequest InQueue(const std::string& q, int gpus, bool preemptible = true) {
  JobRequest r = Whole(gpus);
  r.queue = q;
  r.preemptible = preemptible;
  return r;
}

const double kNoLimit = std::numeric_limits<double>::infinity();

TEST(SchedulerTest, AQueueLimitHoldsAJobThatWouldFit) {
  auto s = MakeQueued({{"a", "", 0, 4, 1}, {"b", "", 0, kNoLimit, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("a", 4)).ok());
  ASSERT_TRUE(s->AddPending(2, InQueue("a", 2)).ok());
  ASSERT_TRUE(s->AddPending(3, InQueue("b", 2)).ok());
  const auto c = s->RunCycle();
  EXPECT_EQ(c.placed.size(), 2u);
  EXPECT_TRUE(s->is_pending(2));
  EXPECT_EQ(s->PendingReason(2), "not now: queue 'a' is at its limit (4 of 4 GPUs in use)");
  EXPECT_DOUBLE_EQ(s->queues()->Used("a"), 4);
  EXPECT_DOUBLE_EQ(s->queues()->Used("b"), 2);
  // A job above the limit can never run; an unknown queue is refused.
  EXPECT_EQ(s->CheckFeasible(InQueue("a", 6)).message(),
            "never: queue 'a' is limited to 4 GPUs and the job asks for 6");
  EXPECT_EQ(s->AddPending(9, InQueue("zz", 1)).message(), "queue: unknown queue 'zz'");
  // Releasing frees the queue's share.
  ASSERT_TRUE(s->Release(1).ok());
  EXPECT_DOUBLE_EQ(s->queues()->Used("a"), 0);
  // A placement restored with its request (a restart) is charged to its queue; without one it
  // cannot be.
  const Placement restored = {cluster::MakeAllocation(InQueue("a", 4).replica, 0, 0b1111)};
  ASSERT_TRUE(s->Allocate(7, restored, InQueue("a", 4)).ok());
  EXPECT_DOUBLE_EQ(s->queues()->Used("a"), 4);
}

// Queues a and b, 4 GPUs guaranteed each, one 8-GPU node. a holds 4; a 4-GPU job of a came first
// and one of b after, with 4 GPUs free: b's goes first (b uses 0 of its 4, a 4 of 4).
TEST(SchedulerTest, TheQueueFurthestBelowItsGuaranteeGoesFirst) {
  auto s = MakeQueued({{"a", "", 4, kNoLimit, 1}, {"b", "", 4, kNoLimit, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("a", 4)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  ASSERT_TRUE(s->AddPending(2, InQueue("a", 4)).ok());
  ASSERT_TRUE(s->AddPending(3, InQueue("b", 4)).ok());
  const auto c = s->RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 3);
}

// b borrows a's idle guarantee (two 4-GPU jobs on the 8-GPU node); a's 4-GPU job, within its
// guarantee, reclaims: one of b's jobs (the lower ranked, the later one) is preempted.
TEST(SchedulerTest, AGuaranteeIsReclaimedFromTheQueueThatBorrowsIt) {
  auto s = MakeQueued({{"a", "", 4, kNoLimit, 1}, {"b", "", 4, kNoLimit, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("b", 4)).ok());
  ASSERT_TRUE(s->AddPending(2, InQueue("b", 4)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 2u);
  EXPECT_DOUBLE_EQ(s->queues()->Borrowed("b"), 4);
  ASSERT_TRUE(s->AddPending(3, InQueue("a", 4)).ok());
  const auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{2}));
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 3);
  EXPECT_EQ(s->PendingReason(2), "not now: preempted by job 3 (queue 'a' reclaims its guarantee)");
  ASSERT_EQ(s->PendingReasons(2).size(), 1u);
  EXPECT_EQ(s->PendingReasons(2)[0].code, WaitCode::kPreempted);
  EXPECT_EQ(s->PendingReasons(2)[0].job, 3);
  // Its rank from before it ran no longer holds: no position until a cycle ranks it again.
  EXPECT_EQ(s->QueuePosition(2), std::nullopt);
  EXPECT_DOUBLE_EQ(s->queues()->Borrowed("b"), 0);
  // Beyond its guarantee a queue does not reclaim: another 4-GPU job of a waits.
  ASSERT_TRUE(s->AddPending(4, InQueue("a", 4)).ok());
  EXPECT_TRUE(s->RunCycle().preempted.empty());
  EXPECT_TRUE(s->is_pending(4));
  ASSERT_TRUE(s->QueuePosition(2).has_value());
  EXPECT_EQ(s->QueuePosition(2)->queue, "b");
  EXPECT_EQ(s->QueuePosition(2)->position, 1);
}

// With preemption, a job that may not be preempted does not borrow: its queue's owner could not
// take the GPUs back. Queues a and b, 4 GPUs guaranteed each, on 8 GPUs. b's non-preemptible
// 4-GPU job 1 runs within b's guarantee (0 + 4 <= 4); b's non-preemptible job 2 (4 more: 8 > 4)
// waits, over b's guarantee, although a's 4 GPUs are idle; b's preemptible job 3 borrows them.
TEST(SchedulerTest, AJobThatMayNotBePreemptedDoesNotBorrow) {
  auto s = MakeQueued({{"a", "", 4, kNoLimit, 1}, {"b", "", 4, kNoLimit, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("b", 4, false)).ok());
  ASSERT_TRUE(s->AddPending(2, InQueue("b", 4, false)).ok());
  const auto c = s->RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 1);
  EXPECT_TRUE(s->is_pending(2));
  const auto reasons = s->PendingReasons(2);
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons[0].code, WaitCode::kOverQuota);
  EXPECT_EQ(reasons[0].message,
            "queue 'b' uses 4 of its 4 guaranteed GPUs and the job asks for 4: a job that may not "
            "be preempted does not borrow (its owner could not take it back), so it waits until "
            "its queue's guarantee holds it");
  ASSERT_TRUE(s->AddPending(3, InQueue("b", 4)).ok());
  const auto d = s->RunCycle();
  ASSERT_EQ(d.placed.size(), 1u);
  EXPECT_EQ(d.placed[0].first, 3);
  EXPECT_DOUBLE_EQ(s->queues()->Borrowed("b"), 4);
}

// Reclaim within the bound: every borrowed GPU is held by a preemptible job (the test above), so
// a job within its queue's guarantee starts, at the latest, once the borrowers have run their
// minimum run time (the service adds its re-check interval and the grace a victim is given to
// stop). Minimum run 60 s; b borrows a's 4 GPUs with job 1 from t 0; a's job 2 arrives at t 10:
// job 1 has run 10 < 60 s, so nothing is stopped; at t 60 (run 60 >= 60) job 1 is stopped and
// job 2 starts: 50 s after it arrived, within the bound of 60.
TEST(SchedulerTest, AGuaranteeIsReclaimedWithinTheMinimumRunTime) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  opt.preemption = true;
  opt.min_run_s = 60;
  opt.queues = {{"a", "", 4, kNoLimit, 1}, {"b", "", 4, kNoLimit, 1}};
  auto made = Scheduler::Create({Node("n", 8)}, opt);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  Scheduler& s = **made;
  ASSERT_TRUE(s.AddPending(1, InQueue("b", 8)).ok());
  ASSERT_EQ(s.RunCycle().placed.size(), 1u);
  EXPECT_DOUBLE_EQ(s.queues()->Borrowed("b"), 4);
  s.SetClock(10);
  ASSERT_TRUE(s.AddPending(2, InQueue("a", 4)).ok());
  EXPECT_TRUE(s.RunCycle().preempted.empty());
  EXPECT_TRUE(s.is_pending(2));
  s.SetClock(59);
  EXPECT_TRUE(s.RunCycle(/*full=*/true).preempted.empty());
  s.SetClock(60);
  const auto c = s.RunCycle(/*full=*/true);
  EXPECT_EQ(c.preempted, (std::vector<JobId>{1}));
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 2);
}

// With queues the order preempts inside a queue only. Queues a and b, nothing guaranteed, one
// 8-GPU node held by b's job 1 (priority 0). a's job 2 (priority 5, 4 GPUs) does not preempt it
// (across queues only guarantees decide); b's own job 3 (priority 5) does.
TEST(SchedulerTest, WithQueuesTheOrderPreemptsInsideTheJobsOwnQueueOnly) {
  auto s = MakeQueued({{"a", "", 0, kNoLimit, 1}, {"b", "", 0, kNoLimit, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("b", 8)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  JobRequest high_a = InQueue("a", 4);
  high_a.priority = 5;
  ASSERT_TRUE(s->AddPending(2, high_a).ok());
  EXPECT_TRUE(s->RunCycle(/*full=*/true).preempted.empty());
  EXPECT_TRUE(s->is_pending(2));
  JobRequest high_b = InQueue("b", 4);
  high_b.priority = 5;
  ASSERT_TRUE(s->AddPending(3, high_b).ok());
  const auto c = s->RunCycle(/*full=*/true);
  EXPECT_EQ(c.preempted, (std::vector<JobId>{1}));
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 3);
  // The 4 GPUs job 3 left free go to job 2 in the next cycle (a preemption places only the job
  // it was for).
  const auto d = s->RunCycle();
  ASSERT_EQ(d.placed.size(), 1u);
  EXPECT_EQ(d.placed[0].first, 2);
}

// A job its queue's limit holds back preempts lower-ranked jobs of its own queue to make room
// under the limit. Queue a limited to 4 GPUs on an 8-GPU node: job 1 (priority 0, 4 GPUs) runs;
// job 2 (priority 5, 4 GPUs) fits the node but not the limit: job 1 is stopped for it. Job 3
// (priority 0, 2 GPUs), held by the limit too, ranks below nothing running and stops nothing.
TEST(SchedulerTest, AJobHeldByItsQueuesLimitPreemptsLowerRankedJobsOfThatQueue) {
  auto s = MakeQueued({{"a", "", 0, 4, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("a", 4)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  JobRequest high = InQueue("a", 4);
  high.priority = 5;
  ASSERT_TRUE(s->AddPending(2, high).ok());
  const auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{1}));
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 2);
  EXPECT_DOUBLE_EQ(s->queues()->Used("a"), 4);
  ASSERT_TRUE(s->AddPending(3, InQueue("a", 2)).ok());
  EXPECT_TRUE(s->RunCycle(/*full=*/true).preempted.empty());
  EXPECT_TRUE(s->is_pending(3));
}

// drf ranks the queues by their weighted dominant share. One node of 4 GPUs, 64 CPUs, 512 GiB.
// Queue a runs 1 GPU with 48 CPUs (dominant: CPU, 0.75), queue b 2 GPUs with 2 CPUs (GPU, 0.5).
// 1 GPU is left; a's job 3 came before b's job 4, each 1 GPU and 1 CPU. drf starts b's (0.5 <
// 0.75); the default across queues, GPUs only (a uses 1, b 2), starts a's; with weight 2 for a,
// its share is 0.375 and drf starts a's.
std::vector<JobId> DrfPlaced(const std::string& order, double weight_a) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = order;
  opt.queues = {{"a", "", 0, kNoLimit, weight_a}, {"b", "", 0, kNoLimit, 1}};
  auto s = Scheduler::Create({Node("n", 4, "H100", {}, 64000, 512 * 1024)}, opt);
  EXPECT_TRUE(s.has_value());
  JobRequest cpu_heavy = InQueue("a", 1);
  cpu_heavy.replica.cpu_milli = 48000;
  EXPECT_TRUE((*s)->AddPending(1, cpu_heavy).ok());
  JobRequest gpu_heavy = InQueue("b", 2);
  gpu_heavy.replica.cpu_milli = 2000;
  EXPECT_TRUE((*s)->AddPending(2, gpu_heavy).ok());
  EXPECT_EQ((*s)->RunCycle().placed.size(), 2u);
  EXPECT_TRUE((*s)->AddPending(3, InQueue("a", 1)).ok());
  EXPECT_TRUE((*s)->AddPending(4, InQueue("b", 1)).ok());
  std::vector<JobId> placed;
  for (const auto& [id, p] : (*s)->RunCycle().placed) placed.push_back(id);
  return placed;
}

TEST(SchedulerTest, DrfStartsTheQueueWithTheSmallestWeightedDominantShare) {
  EXPECT_EQ(DrfPlaced("drf", 1), (std::vector<JobId>{4}));
  EXPECT_EQ(DrfPlaced("fifo", 1), (std::vector<JobId>{3}));
  EXPECT_EQ(DrfPlaced("drf", 2), (std::vector<JobId>{3}));
}

// ---- queues changed at run time (SetQueues)

// The names and limits of the scheduler's queues, for comparing a set before and after.
std::string QueueLimits(const Scheduler& s) {
  if (s.queues() == nullptr) return "none";
  std::string out;
  for (const auto& q : s.queues()->specs()) {
    out += q.name + ":" + std::to_string(q.limit_gpus) + "/" +
           std::to_string(s.queues()->Used(q.name)) + " ";
  }
  return out;
}

// a is limited to 2 of the node's 8 GPUs: job 1 (2 GPUs) runs, job 2 (2 GPUs) waits for the
// limit. Raising it to 4 charges job 1 again (a uses 2, b 1 for job 3) and the next cycle starts
// job 2 (2 + 2 = 4 <= 4), although nothing was freed.
TEST(SchedulerTest, SetQueuesRebuildsTheUsageAndAHeldJobStarts) {
  auto s = MakeQueued({{"a", "", 0, 2, 1}, {"b", "", 0, kNoLimit, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("a", 2)).ok());
  ASSERT_TRUE(s->AddPending(3, InQueue("b", 1)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s->AddPending(2, InQueue("a", 2)).ok());
  EXPECT_TRUE(s->RunCycle().placed.empty());
  EXPECT_EQ(s->PendingReason(2), "not now: queue 'a' is at its limit (2 of 2 GPUs in use)");

  ASSERT_TRUE(
      s->SetQueues({{"a", "", 0, 4, 1}, {"b", "", 0, kNoLimit, 1}, {"c", "", 0, 1, 1}}).ok());
  EXPECT_DOUBLE_EQ(s->queues()->Used("a"), 2);
  EXPECT_DOUBLE_EQ(s->queues()->Used("b"), 1);
  EXPECT_DOUBLE_EQ(s->queues()->Used("c"), 0);
  EXPECT_DOUBLE_EQ(s->queues()->spec("a").limit_gpus, 4);
  const auto c = s->RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 2);
  EXPECT_DOUBLE_EQ(s->queues()->Used("a"), 4);
}

// A limit below the usage: the two running 2-GPU jobs of a keep running (a uses 4 of 1); a
// 1-GPU job of a waits until a's usage is at most 1 - 1 = 0: not after the first release
// (2 + 1 > 1), after the second (0 + 1 <= 1).
TEST(SchedulerTest, SetQueuesAllowsALimitBelowTheUsage) {
  auto s = MakeQueued({{"a", "", 0, 4, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("a", 2)).ok());
  ASSERT_TRUE(s->AddPending(2, InQueue("a", 2)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s->SetQueues({{"a", "", 0, 1, 1}}).ok());
  EXPECT_DOUBLE_EQ(s->queues()->Used("a"), 4);
  EXPECT_EQ(s->num_placed(), 2u);
  ASSERT_TRUE(s->AddPending(3, InQueue("a", 1)).ok());
  EXPECT_TRUE(s->RunCycle().placed.empty());
  EXPECT_EQ(s->PendingReason(3), "not now: queue 'a' is at its limit (4 of 1 GPUs in use)");
  ASSERT_TRUE(s->Release(1).ok());
  EXPECT_TRUE(s->RunCycle().placed.empty());
  ASSERT_TRUE(s->Release(2).ok());
  const auto c = s->RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 3);
}

// Each bad change is refused with its reason, and the queues and their usage stay as they were.
TEST(SchedulerTest, ABadSetQueuesChangesNothing) {
  auto s = MakeQueued({{"a", "", 0, 4, 1}, {"b", "", 0, kNoLimit, 1}, {"idle", "", 0, 2, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("a", 2)).ok());
  ASSERT_TRUE(s->AddPending(2, InQueue("b", 1)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s->AddPending(3, InQueue("b", 3)).ok());
  ASSERT_TRUE(s->AddPending(4, InQueue("b", 1)).ok());
  const std::string before = QueueLimits(*s);
  JobRequest arriving = InQueue("idle", 2);
  const struct {
    std::vector<queue::QueueSpec> specs;
    std::vector<JobRequest> arriving;
    StatusCode code;
    std::string message;
  } cases[] = {
      // QueueSet's own rules.
      {{{"a", "", 3, 2, 1}, {"b", "", 0, kNoLimit, 1}},
       {},
       StatusCode::kInvalidArgument,
       "queue 'a': limit: 2 is below the guarantee 3"},
      // b holds job 2 (running) and jobs 3, 4 (pending): 3 jobs, whatever else is fine.
      {{{"a", "", 0, 4, 1}, {"idle", "", 0, 2, 1}},
       {},
       StatusCode::kFailedPrecondition,
       "queue 'b' is missing from the new queues but has 3 job(s) (2 pending, 1 running); keep it "
       "until they have ended, or cancel them"},
      // a submission between its check and its queueing counts as a job of its queue.
      {{{"a", "", 0, 4, 1}, {"b", "", 0, kNoLimit, 1}},
       {arriving},
       StatusCode::kFailedPrecondition,
       "queue 'idle' is missing from the new queues but has 1 job(s) (0 pending, 0 running, 1 "
       "being submitted); keep it until they have ended, or cancel them"},
      // pending job 3 asks for 3 GPUs: a limit of 2 on b would strand it (job 2 running over
      // the limit is fine).
      {{{"a", "", 0, 4, 1}, {"b", "", 0, 2, 1}, {"idle", "", 0, 2, 1}},
       {},
       StatusCode::kFailedPrecondition,
       "queue 'b': limit 2 is below the 3 GPUs of pending job 3 (queue 'b'), which could then "
       "never start; cancel it first or keep the limit"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(s->CheckQueues(c.specs, c.arriving).message(), c.message);
    const Status st = s->SetQueues(c.specs, c.arriving);
    EXPECT_EQ(st.code(), c.code) << st.ToString();
    EXPECT_EQ(st.message(), c.message);
    EXPECT_EQ(QueueLimits(*s), before);
  }
  // Without the stranded job the same limit is accepted: b uses 1 (job 2) and job 4 still fits.
  ASSERT_TRUE(s->RemovePending(3).ok());
  ASSERT_TRUE(s->SetQueues({{"a", "", 0, 4, 1}, {"b", "", 0, 2, 1}, {"idle", "", 0, 2, 1}}).ok());
  EXPECT_DOUBLE_EQ(s->queues()->Used("b"), 1);
  EXPECT_EQ(s->RunCycle().placed.size(), 1u);
}

// Per GPU model: node "h" has 8 H100, node "x" 8 A100 (model ids in node order: H100 0, A100 1).
std::unique_ptr<Scheduler> MakeTwoModels(std::vector<queue::QueueSpec> queues) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "priority";
  opt.preemption = true;
  opt.queues = std::move(queues);
  auto s = Scheduler::Create({Node("h", 8, "H100"), Node("x", 8, "A100")}, opt);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().ToString());
  return std::move(*s);
}

// A job of queue `q` asking for `gpus` GPUs of `model` ("": any model).
JobRequest OnModel(const Scheduler& s, const std::string& q, int gpus, const std::string& model) {
  JobRequest r = InQueue(q, gpus);
  if (!model.empty()) r.replica.allowed_models = cluster::ModelMask{1} << *s.models().Find(model);
  return r;
}

queue::QueueSpec WithModels(queue::QueueSpec q, std::map<std::string, queue::ModelShare> models) {
  q.models = std::move(models);
  return q;
}

// Queue a may use 4 H100 at most (any number of A100). Job 1 (4 H100) runs; job 2 (2 H100)
// waits with the model named; job 3 (2 GPUs, any model) goes to the A100 node although bestfit
// would put it on h's 4 free H100 (4 left there < 8 on x): it is narrowed to the models under
// their limits.
TEST(SchedulerTest, APerModelLimitHoldsAndTheReasonNamesTheModel) {
  auto s = MakeTwoModels({WithModels({"a", "", 0, kNoLimit, 1}, {{"H100", {0, 4}}})});
  ASSERT_TRUE(s->AddPending(1, OnModel(*s, "a", 4, "H100")).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  EXPECT_EQ(NodeOf(*s, 1), "h");
  ASSERT_TRUE(s->AddPending(2, OnModel(*s, "a", 2, "H100")).ok());
  ASSERT_TRUE(s->AddPending(3, OnModel(*s, "a", 2, "")).ok());
  const auto c = s->RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 3);
  EXPECT_EQ(NodeOf(*s, 3), "x");
  // a: 4 (job 1) + 2 (job 3) GPUs; 4 of H100, 2 of A100.
  EXPECT_DOUBLE_EQ(s->queues()->Used("a"), 6);
  EXPECT_DOUBLE_EQ(s->queues()->Used("a", "H100"), 4);
  EXPECT_DOUBLE_EQ(s->queues()->Used("a", "A100"), 2);
  EXPECT_EQ(s->PendingReason(2),
            "not now: queue 'a' is at its limit for H100 (4 of 4 H100 GPUs in use)");
  const std::vector<WaitReason> why = s->PendingReasons(2);
  ASSERT_EQ(why.size(), 1u);
  EXPECT_EQ(why[0].code, WaitCode::kOverLimit);
  EXPECT_EQ(why[0].queue, "a");
  EXPECT_EQ(why[0].models, "H100");
  EXPECT_EQ(why[0].used_gpus, 4);
  EXPECT_EQ(why[0].limit_gpus, 4);
  // More H100 than the limit, and nothing else allowed: never.
  EXPECT_EQ(s->CheckFeasible(OnModel(*s, "a", 6, "H100")).message(),
            "never: queue 'a' is limited to 4 GPUs of H100 and the job asks for 6");
  EXPECT_TRUE(s->CheckFeasible(OnModel(*s, "a", 6, "")).ok());  // A100 has no limit
  // Job 1 ends: 0 of 4 H100 in use, job 2 starts on h.
  ASSERT_TRUE(s->Release(1).ok());
  EXPECT_DOUBLE_EQ(s->queues()->Used("a", "H100"), 0);
  const auto d = s->RunCycle();
  ASSERT_EQ(d.placed.size(), 1u);
  EXPECT_EQ(d.placed[0].first, 2);
  EXPECT_EQ(NodeOf(*s, 2), "h");
}

// A job held by its queue's limit for a model preempts a lower-ranked job of its own queue on
// that model: a may use 4 H100. Job 1 (priority 0, 4 H100) runs; job 2 (priority 5, 4 H100 only)
// is over the H100 limit (4 + 4 = 8 of 4): stopping job 1 gives back 4 H100 (4 - 4 + 4 = 4 of
// 4), so job 1 is the victim. Job 3 (priority 5, 4 GPUs of any model) needs no victim: it is
// narrowed to A100 and starts on x.
TEST(SchedulerTest, AJobHeldByAPerModelLimitPreemptsItsQueuesJobOnThatModel) {
  auto s = MakeTwoModels({WithModels({"a", "", 0, kNoLimit, 1}, {{"H100", {0, 4}}})});
  ASSERT_TRUE(s->AddPending(1, OnModel(*s, "a", 4, "H100")).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  JobRequest high = OnModel(*s, "a", 4, "H100");
  high.priority = 5;
  ASSERT_TRUE(s->AddPending(2, high).ok());
  const auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{1}));
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 2);
  EXPECT_EQ(NodeOf(*s, 2), "h");
  EXPECT_DOUBLE_EQ(s->queues()->Used("a", "H100"), 4);
  JobRequest any = OnModel(*s, "a", 4, "");
  any.priority = 5;
  ASSERT_TRUE(s->AddPending(3, any).ok());
  const auto d = s->RunCycle();
  EXPECT_TRUE(d.preempted.empty());
  ASSERT_EQ(d.placed.size(), 1u);
  EXPECT_EQ(d.placed[0].first, 3);
  EXPECT_EQ(NodeOf(*s, 3), "x");
}

// Queue a is guaranteed 4 GPUs, all of H100; b nothing. b runs four 2-GPU jobs on the H100 node
// (1-4) and two 4-GPU jobs on the A100 node (5, 6): 16 GPUs, all borrowed, 8 of them H100.
// a's job 7 (4 GPUs, any model) is covered on H100 only (A100: 0 of its guarantee, nothing
// untied). The lowest ranked of b's jobs is 6, on A100, where job 7 would fit too; but the
// reclaim is of H100: only b's jobs wholly on H100 are candidates, lowest ranked first: 4
// (2 free, not enough), 3 (4 free: fits). Exactly those two stop; b's A100 jobs keep running.
TEST(SchedulerTest, APerModelGuaranteeReclaimsOnlyThatModelsGpus) {
  auto s = MakeTwoModels({WithModels({"a", "", 4, kNoLimit, 1}, {{"H100", {4, kNoLimit}}}),
                          {"b", "", 0, kNoLimit, 1}});
  for (JobId id = 1; id <= 4; ++id)
    ASSERT_TRUE(s->AddPending(id, OnModel(*s, "b", 2, "H100")).ok());
  for (JobId id = 5; id <= 6; ++id)
    ASSERT_TRUE(s->AddPending(id, OnModel(*s, "b", 4, "A100")).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 6u);
  EXPECT_DOUBLE_EQ(s->queues()->Borrowed("b"), 16);         // 16 - 0 guaranteed
  EXPECT_DOUBLE_EQ(s->queues()->Borrowed("b", "H100"), 8);  // min(8 - 0, 16)
  ASSERT_TRUE(s->AddPending(7, OnModel(*s, "a", 4, "")).ok());
  const auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{4, 3}));
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 7);
  EXPECT_EQ(NodeOf(*s, 7), "h");
  EXPECT_EQ(s->PendingReason(4),
            "not now: preempted by job 7 (queue 'a' reclaims its guarantee of H100)");
  EXPECT_NE(s->placement(5), nullptr);
  EXPECT_NE(s->placement(6), nullptr);
  // a: 4 of its 4 H100; b: 4 H100 + 8 A100, all borrowed, 4 of them H100.
  EXPECT_DOUBLE_EQ(s->queues()->Used("a", "H100"), 4);
  EXPECT_DOUBLE_EQ(s->queues()->Borrowed("a"), 0);
  EXPECT_DOUBLE_EQ(s->queues()->Borrowed("b"), 12);
  EXPECT_DOUBLE_EQ(s->queues()->Borrowed("b", "H100"), 4);
  // An A100 job of a: its guarantee covers no A100, so it reclaims nothing and waits, with the
  // model named (x is full: b's jobs 5 and 6).
  ASSERT_TRUE(s->AddPending(8, OnModel(*s, "a", 2, "A100")).ok());
  const auto d = s->RunCycle();
  EXPECT_TRUE(d.preempted.empty());
  EXPECT_TRUE(s->is_pending(8));
  const std::vector<WaitReason> why = s->PendingReasons(8);
  ASSERT_FALSE(why.empty());
  EXPECT_EQ(why[0].code, WaitCode::kOverQuota);
  EXPECT_EQ(why[0].models, "A100");
  EXPECT_EQ(why[0].message,
            "queue 'a' has none of its guarantee left for GPUs of A100 (it uses 4 of its 4 "
            "guaranteed GPUs, some tied to models): the job's 2 GPUs would all be borrowed, so it "
            "waits for idle GPUs (it reclaims none)");
}

// With preemption a job that may not be preempted does not borrow; with per-model guarantees it
// runs only on the models whose guarantee holds it. a is guaranteed 4, all H100. b's job 1 (4
// A100) leaves 4 free on x, 8 on h. a's job 2 (2 GPUs, any model, not preemptible) would go to
// x by bestfit (4 - 2 = 2 left there, 8 - 2 = 6 on h) but a's guarantee holds it on H100 only:
// h. a's job 3 (4 GPUs, not preemptible): H100 4 - 2 = 2 left < 4, A100 none: it waits.
TEST(SchedulerTest, ANonPreemptibleJobRunsOnlyWhereItsPerModelGuaranteeHoldsIt) {
  auto s = MakeTwoModels({WithModels({"a", "", 4, kNoLimit, 1}, {{"H100", {4, kNoLimit}}}),
                          {"b", "", 0, kNoLimit, 1}});
  ASSERT_TRUE(s->AddPending(1, OnModel(*s, "b", 4, "A100")).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  JobRequest fixed = OnModel(*s, "a", 2, "");
  fixed.preemptible = false;
  ASSERT_TRUE(s->AddPending(2, fixed).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  EXPECT_EQ(NodeOf(*s, 2), "h");
  EXPECT_DOUBLE_EQ(s->queues()->Borrowed("a"), 0);
  fixed.replica.num_gpu = 4;
  ASSERT_TRUE(s->AddPending(3, fixed).ok());
  EXPECT_TRUE(s->RunCycle().placed.empty());
  EXPECT_EQ(s->PendingReason(3),
            "not now: queue 'a' has no guarantee left that holds the job's 4 GPUs on a GPU model "
            "it may run on (A100|H100): a job that may not be preempted does not borrow (its "
            "owner could not take it back), so it waits until its queue's guarantee holds it");
  ASSERT_EQ(s->PendingReasons(3).size(), 1u);
  EXPECT_EQ(s->PendingReasons(3)[0].code, WaitCode::kOverQuota);
}

// The same pool without per-model guarantees reclaims across models as before: a's 4 GPUs (any
// model) are covered by its total guarantee of 4, and the lowest ranked of b's jobs, 6 (4 A100),
// makes room alone.
TEST(SchedulerTest, WithoutPerModelGuaranteesReclaimIgnoresModels) {
  auto s = MakeTwoModels({{"a", "", 4, kNoLimit, 1}, {"b", "", 0, kNoLimit, 1}});
  for (JobId id = 1; id <= 4; ++id)
    ASSERT_TRUE(s->AddPending(id, OnModel(*s, "b", 2, "H100")).ok());
  for (JobId id = 5; id <= 6; ++id)
    ASSERT_TRUE(s->AddPending(id, OnModel(*s, "b", 4, "A100")).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 6u);
  ASSERT_TRUE(s->AddPending(7, OnModel(*s, "a", 4, "")).ok());
  const auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{6}));
  EXPECT_EQ(NodeOf(*s, 7), "x");
  EXPECT_EQ(s->PendingReason(6), "not now: preempted by job 7 (queue 'a' reclaims its guarantee)");
}

// Per-model members are checked against the pool, and a per-model limit that would strand a
// pending job is refused like a total one; nothing changes.
TEST(SchedulerTest, SetQueuesChecksPerModelMembers) {
  auto s = MakeTwoModels({{"a", "", 0, kNoLimit, 1}});
  ASSERT_TRUE(s->AddPending(1, OnModel(*s, "a", 8, "H100")).ok());
  ASSERT_TRUE(s->AddPending(2, OnModel(*s, "a", 8, "H100")).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);  // job 2 waits for h
  EXPECT_EQ(s->SetQueues({WithModels({"a", "", 0, kNoLimit, 1}, {{"B200", {0, 4}}})}).message(),
            "queue 'a': models.B200: the pool has no GPUs of model 'B200' (it has: H100, A100)");
  EXPECT_EQ(s->SetQueues({WithModels({"a", "", 0, kNoLimit, 1}, {{"H100", {0, 4}}})}).message(),
            "queue 'a' is limited to 4 GPUs of H100, below the 8 GPUs of pending job 2 (queue "
            "'a') on every model it may run on: it could then never start; cancel it first or "
            "keep the limit");
  EXPECT_TRUE(s->queues()->spec("a").models.empty());
  // A100 only: job 2 may still run (on H100); job 1's 8 H100 are charged by model.
  ASSERT_TRUE(s->SetQueues({WithModels({"a", "", 0, kNoLimit, 1}, {{"A100", {0, 4}}})}).ok());
  EXPECT_DOUBLE_EQ(s->queues()->Used("a", "H100"), 8);
  EXPECT_DOUBLE_EQ(s->queues()->Used("a", "A100"), 0);
}

// An empty list turns the queues off: any queue name is then accepted; queues that leave out a
// running job's queue are refused, and with its queue they charge it again.
TEST(SchedulerTest, SetQueuesTurnsQueuesOffAndOn) {
  auto s = MakeQueued({{"a", "", 0, 4, 1}});
  ASSERT_TRUE(s->AddPending(1, InQueue("a", 2)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  ASSERT_TRUE(s->SetQueues({}).ok());
  EXPECT_EQ(s->queues(), nullptr);
  ASSERT_TRUE(s->AddPending(2, InQueue("other", 1)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  EXPECT_EQ(s->SetQueues({{"a", "", 0, 4, 1}}).message(),
            "queue 'other' is missing from the new queues but has 1 job(s) (0 pending, 1 running); "
            "keep it until they have ended, or cancel them");
  EXPECT_EQ(s->queues(), nullptr);
  ASSERT_TRUE(s->SetQueues({{"a", "", 0, 4, 1}, {"other", "", 0, kNoLimit, 1}}).ok());
  EXPECT_DOUBLE_EQ(s->queues()->Used("a"), 2);
  EXPECT_DOUBLE_EQ(s->queues()->Used("other"), 1);
}

// ---- preemption by the rules: minimum run time, least lost work, waiting for the victims

// One 8-GPU node, the priority order, preemption on.
std::unique_ptr<Scheduler> MakePreempting(double min_run_s, VictimChoice choice,
                                          bool wait_for_victims = false) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "priority";
  opt.preemption = true;
  opt.min_run_s = min_run_s;
  opt.victim_choice = choice;
  opt.wait_for_victims = wait_for_victims;
  auto s = Scheduler::Create({Node("n", 8)}, opt);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().ToString());
  return std::move(*s);
}

JobRequest AtPriority(int gpus, int priority, bool preemptible = true) {
  JobRequest r = Whole(gpus, 1, priority);
  r.preemptible = preemptible;
  return r;
}

// A strictly higher priority preempts; the same priority never does.
TEST(SchedulerTest, PriorityPreemptsOnlyAStrictlyLowerPriority) {
  auto s = MakePreempting(0, VictimChoice::kRank);
  ASSERT_TRUE(s->AddPending(1, AtPriority(8, 1)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  ASSERT_TRUE(s->AddPending(2, AtPriority(4, 1)).ok());
  EXPECT_TRUE(s->RunCycle().preempted.empty());
  ASSERT_TRUE(s->AddPending(3, AtPriority(4, 2)).ok());
  const auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{1}));
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 3);
  EXPECT_EQ(s->PendingReason(1), "not now: preempted by job 3 (priority order)");
}

// Minimum run time 60 s. Job 1 (4 GPUs) starts at t 0, job 2 (4 GPUs) at t 50, both priority 0.
// At t 70 job 3 (priority 5, 4 GPUs) needs one of them: job 2 (run 20 < 60) is no victim, so job 1
// (run 70 >= 60) is stopped, although the rank alone (the later submitted first) picks job 2, as
// the same run with no minimum shows. At t 30 neither has run 60 s: nothing is stopped.
TEST(SchedulerTest, AJobWithinItsMinimumRunTimeIsNoVictim) {
  const auto run = [](double min_run_s, double at) {
    auto s = MakePreempting(min_run_s, VictimChoice::kRank);
    EXPECT_TRUE(s->AddPending(1, AtPriority(4, 0)).ok());
    EXPECT_EQ(s->RunCycle().placed.size(), 1u);
    s->SetClock(std::min(at, 50.0));
    EXPECT_TRUE(s->AddPending(2, AtPriority(4, 0)).ok());
    EXPECT_EQ(s->RunCycle().placed.size(), 1u);
    s->SetClock(at);
    EXPECT_TRUE(s->AddPending(3, AtPriority(4, 5)).ok());
    return s->RunCycle().preempted;
  };
  EXPECT_EQ(run(60, 70), (std::vector<JobId>{1}));
  EXPECT_EQ(run(0, 70), (std::vector<JobId>{2}));
  EXPECT_TRUE(run(60, 30).empty());  // job 1 ran 30, job 2 (placed at t 30) 0
}

// Jobs 1 (priority 0) and 2 (priority 1), 4 GPUs each, run from t 0; job 2 checkpoints at t 100.
// At t 120 job 3 (priority 5, 4 GPUs) needs one of them. Lost work: job 1 120 s (no checkpoint),
// job 2 120 - 100 = 20 s. Least lost work stops job 2; the rank (lowest priority first) job 1.
TEST(SchedulerTest, LeastLostWorkPrefersTheJobThatJustCheckpointed) {
  for (const auto choice : {VictimChoice::kLeastLostWork, VictimChoice::kRank}) {
    auto s = MakePreempting(0, choice);
    ASSERT_TRUE(s->AddPending(1, AtPriority(4, 0)).ok());
    ASSERT_TRUE(s->AddPending(2, AtPriority(4, 1)).ok());
    ASSERT_EQ(s->RunCycle().placed.size(), 2u);
    s->SetClock(100);
    ASSERT_TRUE(s->Checkpointed(2).ok());
    s->SetClock(120);
    EXPECT_DOUBLE_EQ(s->LostWork(1), 120);
    EXPECT_DOUBLE_EQ(s->LostWork(2), 20);
    ASSERT_TRUE(s->AddPending(3, AtPriority(4, 5)).ok());
    const auto c = s->RunCycle();
    EXPECT_EQ(c.preempted, (std::vector<JobId>{choice == VictimChoice::kLeastLostWork ? 2 : 1}));
    EXPECT_EQ(s->Restarts(choice == VictimChoice::kLeastLostWork ? 2 : 1), 1);
  }
  auto s = MakePreempting(0, VictimChoice::kLeastLostWork);
  EXPECT_EQ(s->Checkpointed(9).code(), StatusCode::kNotFound);
}

// Least lost work, exactly enough freed: job 4 (6 GPUs, from t 0) and job 5 (2 GPUs, from t 5);
// at t 10 lost work is 10 and 5 s. Job 6 (priority 5) needs 6 GPUs: job 5 is taken first (less
// lost work) but frees only 2; job 4 too makes room (8 free), and then job 5 is not needed
// (6 free without it): only job 4 is stopped. A job that just started but is not preemptible
// (job 7, lost work 0) is never chosen: job 8 (lost work 10) is.
TEST(SchedulerTest, LeastLostWorkFreesExactlyWhatIsNeededAndSparesNonPreemptibleJobs) {
  auto s = MakePreempting(0, VictimChoice::kLeastLostWork);
  ASSERT_TRUE(s->AddPending(4, AtPriority(6, 0)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  s->SetClock(5);
  ASSERT_TRUE(s->AddPending(5, AtPriority(2, 0)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  s->SetClock(10);
  ASSERT_TRUE(s->AddPending(6, AtPriority(6, 5)).ok());
  const auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{4}));
  EXPECT_NE(s->placement(5), nullptr);
  EXPECT_NE(s->placement(6), nullptr);

  auto t = MakePreempting(0, VictimChoice::kLeastLostWork);
  ASSERT_TRUE(t->AddPending(8, AtPriority(4, 0)).ok());
  ASSERT_EQ(t->RunCycle().placed.size(), 1u);
  t->SetClock(10);
  ASSERT_TRUE(t->AddPending(7, AtPriority(4, 0, /*preemptible=*/false)).ok());
  ASSERT_EQ(t->RunCycle().placed.size(), 1u);
  ASSERT_TRUE(t->AddPending(9, AtPriority(4, 5)).ok());
  EXPECT_EQ(t->RunCycle().preempted, (std::vector<JobId>{8}));
}

// Reclaim, queues a and b (4 GPUs guaranteed each) on one 8-GPU node: b runs job 1 (4 GPUs),
// then jobs 2 and 3 (2 GPUs each) from t 0, and borrows 4. Job 1 checkpoints at t 95. At t 100
// job 4 of a (4 GPUs, within a's guarantee) reclaims. Rank (priority 0 for all: the later
// submitted first): 3 then 2, 2 + 2 = 4 borrowed GPUs: both stopped. Least lost work (job 1: 5 s,
// jobs 2 and 3: 100 s): job 1 alone covers what b borrows: only job 1 is stopped.
TEST(SchedulerTest, ReclaimTakesTheMostBorrowingQueueThenTheLeastLostWork) {
  for (const auto choice : {VictimChoice::kRank, VictimChoice::kLeastLostWork}) {
    SchedulerOptions opt;
    opt.policy = "bestfit";
    opt.order = "fifo";
    opt.preemption = true;
    opt.victim_choice = choice;
    opt.queues = {{"a", "", 4, kNoLimit, 1}, {"b", "", 4, kNoLimit, 1}};
    auto made = Scheduler::Create({Node("n", 8)}, opt);
    ASSERT_TRUE(made.has_value());
    Scheduler& s = **made;
    ASSERT_TRUE(s.AddPending(1, InQueue("b", 4)).ok());
    ASSERT_TRUE(s.AddPending(2, InQueue("b", 2)).ok());
    ASSERT_TRUE(s.AddPending(3, InQueue("b", 2)).ok());
    ASSERT_EQ(s.RunCycle().placed.size(), 3u);
    s.SetClock(95);
    ASSERT_TRUE(s.Checkpointed(1).ok());
    s.SetClock(100);
    ASSERT_TRUE(s.AddPending(4, InQueue("a", 4)).ok());
    auto c = s.RunCycle();
    std::sort(c.preempted.begin(), c.preempted.end());
    const std::vector<JobId> expected =
        choice == VictimChoice::kRank ? std::vector<JobId>{2, 3} : std::vector<JobId>{1};
    EXPECT_EQ(c.preempted, expected);
    EXPECT_NE(s.placement(4), nullptr);
  }
}

// wait_for_victims (the service): job 1 keeps its GPUs until the caller requeues it, job 3 is not
// placed meanwhile and chooses no second victim; after Requeue job 1 is pending with one more
// restart and its GPU time (8 GPUs x 10 s = 80), and the next cycle places job 3.
TEST(SchedulerTest, WithWaitForVictimsThePreemptorWaitsUntilTheVictimIsRequeued) {
  auto s = MakePreempting(0, VictimChoice::kLeastLostWork, /*wait_for_victims=*/true);
  ASSERT_TRUE(s->AddPending(1, AtPriority(8, 0)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);
  s->SetClock(10);
  ASSERT_TRUE(s->AddPending(3, AtPriority(4, 5)).ok());
  auto c = s->RunCycle();
  EXPECT_EQ(c.preempted, (std::vector<JobId>{1}));
  EXPECT_TRUE(c.placed.empty());
  EXPECT_NE(s->placement(1), nullptr);  // still booked: its process is being stopped
  EXPECT_EQ(s->PreemptedBy(1), std::optional<JobId>(3));
  EXPECT_EQ(s->PendingReason(3), "not now: waiting for preempted job(s) 1 to stop");
  ASSERT_EQ(s->PendingReasons(3).size(), 1u);
  EXPECT_EQ(s->PendingReasons(3)[0].code, WaitCode::kWaitingForVictims);
  EXPECT_EQ(s->PendingReasons(3)[0].victims, (std::vector<JobId>{1}));
  EXPECT_EQ(s->state().node(0).gpu_left[0], 0);
  // Cycles while it stops: nothing placed, no second preemption.
  c = s->RunCycle(/*full=*/true);
  EXPECT_TRUE(c.preempted.empty());
  EXPECT_TRUE(c.placed.empty());
  ASSERT_TRUE(s->Requeue(1).ok());
  EXPECT_TRUE(s->is_pending(1));
  EXPECT_EQ(s->Restarts(1), 1);
  EXPECT_DOUBLE_EQ(s->Attained(1), 80.0);
  EXPECT_FALSE(s->PreemptedBy(1).has_value());
  ASSERT_EQ(s->PendingReasons(1).size(), 1u);
  EXPECT_EQ(s->PendingReasons(1)[0].code, WaitCode::kPreempted);
  EXPECT_EQ(s->PendingReasons(1)[0].job, 3);
  EXPECT_EQ(s->QueuePosition(1), std::nullopt);  // ranked again by the next cycle
  c = s->RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);  // job 3; job 1 (8 GPUs) waits for it
  ASSERT_TRUE(s->QueuePosition(1).has_value());
  EXPECT_EQ(s->QueuePosition(1)->position, 1);
  EXPECT_EQ(c.placed[0].first, 3);
  EXPECT_TRUE(s->is_pending(1));
  EXPECT_EQ(s->Requeue(42).code(), StatusCode::kNotFound);
}

// ---------------------------------------------------------------- why pending

// The codes of a job's reasons, in the order PendingReasons lists them.
std::vector<std::string> Codes(const Scheduler& s, JobId id) {
  std::vector<std::string> out;
  for (const WaitReason& w : s.PendingReasons(id)) out.emplace_back(WaitCodeName(w.code));
  return out;
}

using Strings = std::vector<std::string>;

// Two 4-GPU nodes with 1 GPU taken on each: 3 + 3 = 6 free, at most 3 on one node -> a 4-GPU job
// fits in total but on no node.
TEST(SchedulerTest, FragmentationCountsTheFreeGpusAndTheMostOnOneNode) {
  auto s = Make({Node("a", 4), Node("b", 4)}, "bestfit");
  ASSERT_TRUE(s->Allocate(1, {cluster::MakeAllocation(Whole(1).replica, 0, 0b0001)}).ok());
  ASSERT_TRUE(s->Allocate(2, {cluster::MakeAllocation(Whole(1).replica, 1, 0b0001)}).ok());
  ASSERT_TRUE(s->AddPending(3, Whole(4)).ok());
  s->RunCycle();
  const std::vector<WaitReason> r = s->PendingReasons(3);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(WaitCodeName(r[0].code), "fragmentation");
  EXPECT_EQ(r[0].resource, "gpus");
  EXPECT_EQ(r[0].needed, 4);
  EXPECT_EQ(r[0].free, 6);
  EXPECT_EQ(r[0].most_on_one, 3);
  EXPECT_EQ(r[0].short_by, std::nullopt);
  EXPECT_EQ(s->PendingReason(3),
            "not now: fits in total but fragmented: 6 GPUs free in the pool, at most 3 free on "
            "one node (needs 4)");
}

// One 8-GPU node, 64 CPU: a 6-GPU job with 60 CPU runs. A 4-GPU job with 8 CPU is short of both:
// GPUs 4 - 2 = 2, CPU 8000 - 4000 = 4000 milli. The CPU is counted on nodes whose GPUs would fit:
// none here, so a 1-GPU job with 8 CPU is short of CPU only (at most 4 CPU beside a free GPU).
TEST(SchedulerTest, EveryShortResourceIsToldWithWhatIsMissing) {
  auto s = Make({Node("a", 8)}, "bestfit");
  JobRequest big = Whole(6);
  big.replica.cpu_milli = 60000;
  ASSERT_TRUE(s->AddPending(1, big).ok());
  s->RunCycle();
  ASSERT_NE(s->placement(1), nullptr);
  JobRequest four = Whole(4);
  four.replica.cpu_milli = 8000;
  JobRequest one = Whole(1);
  one.replica.cpu_milli = 8000;
  ASSERT_TRUE(s->AddPending(2, four).ok());
  ASSERT_TRUE(s->AddPending(3, one).ok());
  s->RunCycle();
  const std::vector<WaitReason> r = s->PendingReasons(2);
  ASSERT_EQ(r.size(), 1u);  // the GPUs alone; no node has the GPUs, so its CPU is not counted
  EXPECT_EQ(r[0].resource, "gpus");
  EXPECT_EQ(r[0].needed, 4);
  EXPECT_EQ(r[0].free, 2);
  EXPECT_EQ(r[0].short_by, 2);
  const std::vector<WaitReason> c = s->PendingReasons(3);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(WaitCodeName(c[0].code), "insufficient");
  EXPECT_EQ(c[0].resource, "cpu_milli");
  EXPECT_EQ(c[0].needed, 8000);
  EXPECT_EQ(c[0].free, 4000);
  EXPECT_EQ(c[0].short_by, 4000);
  EXPECT_EQ(s->PendingReason(3),
            "not now: CPU is short: needs 8 CPU, at most 4 CPU free on a node that has the GPUs");
}

// H100 node a is full, L40S node b is idle: a job for 2 H100 has no GPU of its model, while 4
// GPUs of another model are free.
TEST(SchedulerTest, NoGpuOfTheModelCountsTheOtherModelsFreeGpus) {
  auto s = Make({Node("a", 4), Node("b", 4, "L40S")}, "bestfit");
  ASSERT_TRUE(s->Allocate(1, {cluster::MakeAllocation(Whole(4).replica, 0, 0b1111)}).ok());
  JobRequest h100 = Whole(2);
  h100.replica.allowed_models = cluster::ModelMask{1} << *s->models().Find("H100");
  ASSERT_TRUE(s->AddPending(2, h100).ok());
  s->RunCycle();
  const std::vector<WaitReason> r = s->PendingReasons(2);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(WaitCodeName(r[0].code), "no_gpu_of_model");
  EXPECT_EQ(r[0].models, "H100");
  EXPECT_EQ(r[0].needed, 2);
  EXPECT_EQ(r[0].free, 0);
  EXPECT_EQ(r[0].free_other_models, 4);
  EXPECT_EQ(s->PendingReason(2),
            "not now: no H100 GPU free (needs 2 GPU(s); 4 GPU(s) free of other models)");
}

// Three 4-GPU nodes, 2 GPUs taken on a and on b: 2 + 2 + 4 = 8 free, 4 on c. A gang of 2 x 4
// needs 8 (not short) and 4 on one node (c has them: not fragmented), but only c holds a replica:
// 1 of 2 fit.
TEST(SchedulerTest, AGangThatOnlyPartlyFitsIsIncomplete) {
  auto s = Make({Node("a", 4), Node("b", 4), Node("c", 4)}, "bestfit");
  ASSERT_TRUE(s->Allocate(1, {cluster::MakeAllocation(Whole(2).replica, 0, 0b0011)}).ok());
  ASSERT_TRUE(s->Allocate(2, {cluster::MakeAllocation(Whole(2).replica, 1, 0b0011)}).ok());
  ASSERT_TRUE(s->AddPending(3, Whole(4, 2)).ok());
  s->RunCycle();
  const std::vector<WaitReason> r = s->PendingReasons(3);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(WaitCodeName(r[0].code), "gang_incomplete");
  EXPECT_EQ(r[0].replicas, 2);
  EXPECT_EQ(r[0].replicas_fit, 1);
}

// Queue a (limit 4) holds 3 GPUs on node n0, queue b 3 GPUs on n1: 1 + 1 GPU free. A 2-GPU job
// of a is over a's limit (3 + 2 > 4) AND fragmented (2 free, at most 1 on one node): both told.
// A 1-GPU job of a fits and is only over the limit (3 + 1 = 4 is within: it runs).
TEST(SchedulerTest, AJobOverItsQueueLimitThatIsAlsoFragmentedGetsBothReasons) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.queues = {{"a", "", 0, 4, 1}, {"b", "", 0, kNoLimit, 1}};
  auto made = Scheduler::Create({Node("n0", 4), Node("n1", 4)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  const JobRequest three_a = InQueue("a", 3, false);
  const JobRequest three_b = InQueue("b", 3, false);
  ASSERT_TRUE(s.Allocate(1, {cluster::MakeAllocation(three_a.replica, 0, 0b0111)}, three_a).ok());
  ASSERT_TRUE(s.Allocate(2, {cluster::MakeAllocation(three_b.replica, 1, 0b0111)}, three_b).ok());
  ASSERT_TRUE(s.AddPending(3, InQueue("a", 2, false)).ok());
  s.RunCycle();
  EXPECT_EQ(Codes(s, 3), (Strings{"over_limit", "fragmentation"}));
  const std::vector<WaitReason> r = s.PendingReasons(3);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].queue, "a");
  EXPECT_EQ(r[0].used_gpus, 3.0);
  EXPECT_EQ(r[0].limit_gpus, 4.0);
  EXPECT_EQ(r[0].job_gpus, 2.0);
  EXPECT_EQ(r[1].free, 2);
  EXPECT_EQ(r[1].most_on_one, 1);
  EXPECT_EQ(s.PendingReason(3),
            "not now: queue 'a' is at its limit (3 of 4 GPUs in use); fits in total but "
            "fragmented: 2 GPUs free in the pool, at most 1 free on one node (needs 2)");
}

// One 4-GPU node, no preemption. Queue a (guarantee 3) uses 1 GPU, b (guarantee 1) uses 3 (it
// borrows 2). Nothing is free. A 3-GPU job of a has 3 - 1 = 2 of its guarantee left and would
// borrow 1 + 3 - 3 = 1: waiting to borrow. A 1-GPU job of b: b already uses 3 of its 1, all of
// the job would be borrowed: over quota. Both are short of GPUs too.
TEST(SchedulerTest, AJobBeyondItsGuaranteeWaitsToBorrow) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.queues = {{"a", "", 3, kNoLimit, 1}, {"b", "", 1, kNoLimit, 1}};
  auto made = Scheduler::Create({Node("n", 4)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  const JobRequest one_a = InQueue("a", 1, false);
  const JobRequest three_b = InQueue("b", 3, false);
  ASSERT_TRUE(s.Allocate(1, {cluster::MakeAllocation(one_a.replica, 0, 0b0001)}, one_a).ok());
  ASSERT_TRUE(s.Allocate(2, {cluster::MakeAllocation(three_b.replica, 0, 0b1110)}, three_b).ok());
  ASSERT_TRUE(s.AddPending(3, InQueue("a", 3, false)).ok());
  ASSERT_TRUE(s.AddPending(4, InQueue("b", 1, false)).ok());
  s.RunCycle();
  EXPECT_EQ(Codes(s, 3), (Strings{"waiting_to_borrow", "insufficient"}));
  const WaitReason borrow = s.PendingReasons(3)[0];
  EXPECT_EQ(borrow.queue, "a");
  EXPECT_EQ(borrow.used_gpus, 1.0);
  EXPECT_EQ(borrow.guaranteed_gpus, 3.0);
  EXPECT_EQ(borrow.job_gpus, 3.0);
  EXPECT_EQ(borrow.message,
            "queue 'a' has 2 of its 3 guaranteed GPUs left: the job asks for 3, so 1 would be "
            "borrowed, and it waits for idle GPUs");
  EXPECT_EQ(s.PendingReasons(3)[1].short_by, 3);  // 3 asked, 0 free
  EXPECT_EQ(Codes(s, 4), (Strings{"over_quota", "insufficient"}));
  const WaitReason quota = s.PendingReasons(4)[0];
  EXPECT_EQ(quota.queue, "b");
  EXPECT_EQ(quota.used_gpus, 3.0);
  EXPECT_EQ(quota.guaranteed_gpus, 1.0);
}

// Two 4-GPU nodes with 2 GPUs taken on each (as FragmentedAndShortAreTold): job 4 has the same
// shape as job 3 ahead of it.
TEST(SchedulerTest, JobsOfTheSameShapeAheadAreNamed) {
  auto s = Make({Node("a", 4), Node("b", 4)}, "bestfit");
  ASSERT_TRUE(s->Allocate(1, {cluster::MakeAllocation(Whole(2).replica, 0, 0b0011)}).ok());
  ASSERT_TRUE(s->Allocate(2, {cluster::MakeAllocation(Whole(2).replica, 1, 0b0011)}).ok());
  ASSERT_TRUE(s->AddPending(3, Whole(3)).ok());
  ASSERT_TRUE(s->AddPending(4, Whole(3)).ok());
  ASSERT_TRUE(s->AddPending(5, Whole(3)).ok());
  s->RunCycle();
  EXPECT_EQ(Codes(*s, 3), (Strings{"fragmentation"}));
  EXPECT_EQ(Codes(*s, 5), (Strings{"fragmentation", "behind_higher_priority"}));
  const WaitReason ahead = s->PendingReasons(5)[1];
  EXPECT_EQ(ahead.job, 3);
  EXPECT_EQ(ahead.jobs_ahead, 2);  // 3 and 4
}

// As StrictOrderLetsNoJobOvertakeTheHead: a and b 8 GPUs, jobs 1 and 2 take 6 each; job 3 (4
// GPUs) sees 2 + 2 free, at most 2 on a node: fragmented; job 4 (1 GPU) would fit but waits
// behind 3.
TEST(SchedulerTest, StrictOrderNamesTheHeadAsTheJobAhead) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  opt.strict_order = true;
  auto made = Scheduler::Create({Node("a", 8), Node("b", 8)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  for (JobId id : {1, 2}) ASSERT_TRUE(s.AddPending(id, Whole(6)).ok());
  ASSERT_TRUE(s.AddPending(3, Whole(4)).ok());
  ASSERT_TRUE(s.AddPending(4, Whole(1)).ok());
  s.RunCycle();
  EXPECT_EQ(Codes(s, 3), (Strings{"fragmentation"}));
  EXPECT_EQ(s.PendingReasons(3)[0].free, 4);
  EXPECT_EQ(s.PendingReasons(3)[0].most_on_one, 2);
  const std::vector<WaitReason> r = s.PendingReasons(4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(WaitCodeName(r[0].code), "behind_higher_priority");
  EXPECT_EQ(r[0].job, 3);
}

// The EASY scenario above (EasyBackfillNeverDelaysTheReservation): C (job 4) fits now but would
// still run at t 100, when B (job 3) is reserved to start.
TEST(SchedulerTest, EasyBackfillNamesTheReservationAndItsTime) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  opt.strict_order = true;
  opt.easy_backfill = true;
  auto made = Scheduler::Create({Node("a", 8), Node("b", 8)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  ASSERT_TRUE(s.AddPending(1, Limited(6, 100)).ok());
  ASSERT_TRUE(s.AddPending(2, Limited(8, 1000)).ok());
  ASSERT_EQ(s.RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s.AddPending(3, Limited(8, 50)).ok());
  ASSERT_TRUE(s.AddPending(4, Limited(2, 500)).ok());
  s.RunCycle();
  const std::vector<WaitReason> r = s.PendingReasons(4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(WaitCodeName(r[0].code), "reservation_ahead");
  EXPECT_EQ(r[0].job, 3);
  EXPECT_EQ(r[0].reserved_at_s, 100.0);
  // The head itself: 8 GPUs asked, 2 free (on a) -> short by 6; and its reservation.
  EXPECT_EQ(Codes(s, 3), (Strings{"insufficient", "reserved"}));
  EXPECT_EQ(s.PendingReasons(3)[0].short_by, 6);
}

// One 1-GPU node, busy. Priority order: job 3 (priority 5) first, then 2 and 4 (priority 0, in
// submission order).
TEST(SchedulerTest, QueuePositionFollowsTheRankOfTheLastFullCycle) {
  auto s = Make({Node("a", 1)}, "bestfit");
  ASSERT_TRUE(s->Allocate(1, {cluster::MakeAllocation(Whole(1).replica, 0, 0b1)}).ok());
  ASSERT_TRUE(s->AddPending(2, Whole(1, 1, 0)).ok());
  ASSERT_TRUE(s->AddPending(3, Whole(1, 1, 5)).ok());
  ASSERT_TRUE(s->AddPending(4, Whole(1, 1, 0)).ok());
  EXPECT_EQ(s->QueuePosition(2), std::nullopt);  // no cycle has ranked it
  ASSERT_TRUE(s->RunCycle().full);
  const auto at = [&](JobId id) {
    const auto p = s->QueuePosition(id);
    return p ? p->queue + ":" + std::to_string(p->position) + "/" + std::to_string(p->count)
             : std::string("none");
  };
  EXPECT_EQ(at(3), ":1/3");
  EXPECT_EQ(at(2), ":2/3");
  EXPECT_EQ(at(4), ":3/3");
  EXPECT_EQ(at(1), "none");  // running
  // Job 5 (priority 9) arrives; nothing was freed, so the cycle is not full and ranks it after.
  ASSERT_TRUE(s->AddPending(5, Whole(1, 1, 9)).ok());
  ASSERT_FALSE(s->RunCycle().full);
  EXPECT_EQ(at(5), ":4/4");
  ASSERT_TRUE(s->RunCycle(/*full=*/true).full);
  EXPECT_EQ(at(5), ":1/4");
  EXPECT_EQ(at(4), ":4/4");
  // A job that leaves moves the ones behind it up.
  ASSERT_TRUE(s->RemovePending(3).ok());
  EXPECT_EQ(at(2), ":2/3");
  EXPECT_EQ(at(4), ":3/3");
}

// Queues a and b on one busy 1-GPU node: positions count inside each queue, in the order's rank.
TEST(SchedulerTest, QueuePositionCountsInsideTheJobsQueue) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.queues = {{"a", "", 0, kNoLimit, 1}, {"b", "", 0, kNoLimit, 1}};
  auto made = Scheduler::Create({Node("n", 1)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  const JobRequest busy = InQueue("a", 1, false);
  ASSERT_TRUE(s.Allocate(1, {cluster::MakeAllocation(busy.replica, 0, 0b1)}, busy).ok());
  ASSERT_TRUE(s.AddPending(2, InQueue("a", 1, false)).ok());
  ASSERT_TRUE(s.AddPending(3, InQueue("b", 1, false)).ok());
  JobRequest urgent = InQueue("a", 1, false);
  urgent.priority = 5;
  ASSERT_TRUE(s.AddPending(4, urgent).ok());
  ASSERT_TRUE(s.AddPending(5, InQueue("b", 1, false)).ok());
  s.RunCycle();
  const auto p4 = s.QueuePosition(4);
  ASSERT_TRUE(p4.has_value());
  EXPECT_EQ(p4->queue, "a");
  EXPECT_EQ(p4->position, 1);
  EXPECT_EQ(p4->count, 2);
  EXPECT_EQ(s.QueuePosition(2)->position, 2);
  EXPECT_EQ(s.QueuePosition(3)->queue, "b");
  EXPECT_EQ(s.QueuePosition(3)->position, 1);
  EXPECT_EQ(s.QueuePosition(5)->position, 2);
  EXPECT_EQ(s.QueuePosition(5)->count, 2);
}

// A queue's limit holds inside a scheduling window too. fgd-window places up to 64 jobs together,
// and a queue is charged once its job is placed, so a window takes at most one job of a capped
// queue. Queue a limited to 1 GPU: of four 1-GPU jobs, one starts (1 of 1), three wait over the
// limit. Queues b and c under parent p limited to 2: of two jobs each, two start in all.
TEST(SchedulerTest, AQueueLimitHoldsForTheJobsOfOneWindow) {
  SchedulerOptions opt;
  opt.policy = "fgd-window";
  opt.max_defer_cycles = 0;
  opt.queues = {{"a", "", 0, 1, 1},
                {"p", "", 0, 2, 1},
                {"b", "p", 0, kNoLimit, 1},
                {"c", "p", 0, kNoLimit, 1}};
  auto made = Scheduler::Create({Node("n", 8)}, opt);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  Scheduler& s = **made;
  for (JobId id = 1; id <= 4; ++id) ASSERT_TRUE(s.AddPending(id, InQueue("a", 1)).ok());
  for (JobId id = 5; id <= 8; ++id) {
    ASSERT_TRUE(s.AddPending(id, InQueue(id <= 6 ? "b" : "c", 1)).ok());
  }
  const auto c = s.RunCycle();
  EXPECT_EQ(c.placed.size(), 3u);
  EXPECT_DOUBLE_EQ(s.queues()->Used("a"), 1);
  EXPECT_DOUBLE_EQ(s.queues()->Used("p"), 2);
  for (const JobId id : {2, 3, 4}) {
    EXPECT_EQ(s.PendingReason(id), "not now: queue 'a' is at its limit (1 of 1 GPUs in use)") << id;
  }
  EXPECT_EQ(s.RunCycle(/*full=*/true).placed.size(), 0u);
}

// Strict order with queues blocks per queue. One 8-GPU node; job 1 (queue b, 4 GPUs) runs. In
// FIFO order: job 2 (queue a, 8 GPUs) does not fit (4 free) and heads queue a; job 3 (a, 2 GPUs)
// would fit but waits behind it; job 4 (b, 2 GPUs) is in another queue and starts. Without
// queues the strict head blocks everyone: job 4 waits too.
TEST(SchedulerTest, StrictOrderWithQueuesBlocksOnlyTheHeadsQueue) {
  const auto run = [](bool with_queues) {
    SchedulerOptions opt;
    opt.policy = "bestfit";
    opt.order = "fifo";
    opt.strict_order = true;
    if (with_queues) opt.queues = {{"a", "", 0, kNoLimit, 1}, {"b", "", 0, kNoLimit, 1}};
    auto made = Scheduler::Create({Node("n", 8)}, opt);
    EXPECT_TRUE(made.has_value()) << made.error().ToString();
    auto s = std::move(*made);
    EXPECT_TRUE(s->AddPending(1, InQueue("b", 4)).ok());
    EXPECT_EQ(s->RunCycle().placed.size(), 1u);
    EXPECT_TRUE(s->AddPending(2, InQueue("a", 8)).ok());
    EXPECT_TRUE(s->AddPending(3, InQueue("a", 2)).ok());
    EXPECT_TRUE(s->AddPending(4, InQueue("b", 2)).ok());
    s->RunCycle();
    return s;
  };
  const auto queued = run(true);
  EXPECT_TRUE(queued->is_pending(2));
  EXPECT_TRUE(queued->is_pending(3));
  EXPECT_FALSE(queued->is_pending(4));
  EXPECT_EQ(queued->PendingReason(3),
            "not now: behind job 2, which does not fit yet (strict fifo order in queue 'a': no job "
            "overtakes it)");
  // Once job 1 ends, 6 GPUs are free (job 4 holds 2): job 2 still waits, and job 3 behind it.
  // Once job 4 ends too, job 2 starts; job 3 then waits for room, behind no head.
  ASSERT_TRUE(queued->Release(1).ok());
  EXPECT_TRUE(queued->RunCycle().placed.empty());
  EXPECT_TRUE(queued->is_pending(3));
  ASSERT_TRUE(queued->Release(4).ok());
  const auto c = queued->RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 2);
  EXPECT_EQ(queued->PendingReason(3).rfind("not now: behind job", 0), std::string::npos);

  const auto global = run(false);
  EXPECT_TRUE(global->is_pending(4));
  EXPECT_EQ(global->PendingReason(4),
            "not now: behind job 2, which does not fit yet (strict fifo order: no job overtakes "
            "it)");
}

// ---- fgd-window where jobs end: FGD's ties and near ties go to best fit
// (FgdWindowOptions::pack_near_ties)

// An 8-GPU node and a 2-GPU node (64 cores each). The scheduler has seen only 1-GPU requests, so
// FGD's target workload is that one class, for which every free whole GPU is usable: placing a
// 1-GPU job leaves no fragment on either node, both score int(100 x sigmoid(0)) = 50, a tie.
// fgd-window gives the tie to best fit (paper normalisers, the same CPU on both nodes): the
// 2-GPU node is left with 1 GPU of 8, the 8-GPU node with 7 of 8, so the job goes to the small
// node and an 8-GPU job that follows starts at once, for every seed. FGD gives the tie to the
// seeded node order: for some seed the 1-GPU job lands on the 8-GPU node and the 8-GPU job waits.
TEST(SchedulerTest, FgdWindowBreaksFgdTiesByBestFitSoALargeNodeStaysWhole) {
  const auto large_starts = [](const std::string& policy, std::uint64_t seed) {
    SchedulerOptions opt;
    opt.policy = policy;
    opt.seed = seed;
    opt.max_defer_cycles = 0;
    auto made = Scheduler::Create({Node("big", 8), Node("small", 2)}, opt);
    EXPECT_TRUE(made.has_value());
    Scheduler& s = **made;
    EXPECT_TRUE(s.AddPending(1, Whole(1)).ok());
    const auto first = s.RunCycle();
    EXPECT_EQ(first.placed.size(), 1u);
    EXPECT_TRUE(s.AddPending(2, Whole(8)).ok());
    return !s.RunCycle().placed.empty();
  };
  int fgd_blocked = 0;
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    EXPECT_TRUE(large_starts("fgd-window", seed)) << "seed " << seed;
    if (!large_starts("fgd", seed)) ++fgd_blocked;
  }
  EXPECT_GT(fgd_blocked, 0);
}

// ---------------------------------------------------------------- gang reservation

JobRequest LimitedGang(int gpus, int replicas, std::int64_t limit_s) {
  JobRequest r = Whole(gpus, replicas);
  r.time_limit_s = limit_s;
  return r;
}

// The default (non-strict) mode, fifo order, bestfit, with gang_reservation.
std::unique_ptr<Scheduler> MakeGangReserving(const std::vector<NodeSpec>& nodes,
                                             double timeout_s = 0, bool reserve = true,
                                             int max_reservations = 1, bool index_order = false) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  opt.gang_reservation = reserve;
  opt.reservation_timeout_s = timeout_s;
  opt.max_reservations = max_reservations;
  opt.placer.index_order = index_order;  // ties to the lowest node index
  auto s = Scheduler::Create(nodes, opt);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().ToString());
  return std::move(*s);
}

// Two 8-GPU nodes. t 0: A (job 1, 6 GPUs, limit 100) on one node ("a" below), D (job 2, 8 GPUs,
// limit 1000) on the other. G (job 3, 2 replicas x 4 GPUs) fits nowhere (2 free, a replica
// needs 4): reserved for t 100, when A ends and a has 8 free = 2 x 4. Behind it:
//   C (job 4, 2 GPUs, limit 500): fits now (2 free on a), ends 0 + 500 = 500 > 100, and at t 100
//     a would have 8 - 2 = 6 free: one replica of G, not two -> waits (reservation_ahead).
//   E (job 5, 1 GPU, limit 50): ends 50 <= 100 -> starts (a: 6 + 1 = 7 used).
//   F (job 6, 1 GPU, no limit): runs for ever, and a would have 8 - 1 = 7 at t 100 -> waits.
// Without gang_reservation C takes the 2 free GPUs at once, E and F find none.
TEST(SchedulerTest, GangReservationHoldsBackOnlyJobsThatWouldDelayIt) {
  for (const bool reserve : {true, false}) {
    SCOPED_TRACE(reserve ? "gang_reservation" : "none");
    auto s = MakeGangReserving({Node("n1", 8), Node("n2", 8)}, 0, reserve);
    ASSERT_TRUE(s->AddPending(1, Limited(6, 100)).ok());   // A
    ASSERT_TRUE(s->AddPending(2, Limited(8, 1000)).ok());  // D
    ASSERT_EQ(s->RunCycle().placed.size(), 2u);
    ASSERT_TRUE(s->AddPending(3, LimitedGang(4, 2, 50)).ok());  // G
    ASSERT_TRUE(s->AddPending(4, Limited(2, 500)).ok());        // C
    ASSERT_TRUE(s->AddPending(5, Limited(1, 50)).ok());         // E
    ASSERT_TRUE(s->AddPending(6, Whole(1)).ok());               // F, no limit
    const auto c = s->RunCycle();
    ASSERT_EQ(c.placed.size(), 1u);
    if (!reserve) {
      EXPECT_EQ(c.placed[0].first, 4);
      EXPECT_FALSE(s->reservation().has_value());
      continue;
    }
    EXPECT_EQ(c.placed[0].first, 5);
    ASSERT_TRUE(s->reservation().has_value());
    EXPECT_EQ(s->reservation()->first, 3);
    EXPECT_DOUBLE_EQ(s->reservation()->second, 100.0);
    EXPECT_EQ(s->PendingReason(4),
              "not now: would delay job 3, which holds a reservation (gang reservation)");
    const std::vector<WaitReason> held = s->PendingReasons(6);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(WaitCodeName(held[0].code), "reservation_ahead");
    EXPECT_EQ(held[0].job, 3);
    EXPECT_EQ(held[0].reserved_at_s, 100.0);
    // The gang: its resources (2 free, a replica needs 4), then its reservation, no timeout.
    const std::vector<WaitReason> g = s->PendingReasons(3);
    ASSERT_FALSE(g.empty());
    EXPECT_EQ(WaitCodeName(g.back().code), "reserved");
    EXPECT_EQ(g.back().reserved_at_s, 100.0);
    EXPECT_FALSE(g.back().lapses_at_s.has_value());
    EXPECT_EQ(g.back().message.rfind("holds a reservation to start at t 100 on ", 0), 0u)
        << g.back().message;
  }
}

// Behind a gang's reservation the per-model limits narrow a job's models as in the walk. Node h
// (8 H100), node x (8 A100); queue a may use no H100, b weighs 10. t 0: b's job 1 (6 H100, limit
// 100) on h, a's job 2 (2 A100, limit 100) on x. b's gang 3 (2 x 8, limit 50) goes first (b
// 6 / 10 = 0.6 < a 2 / 1) and fits nowhere: reserved for t 100, when both end. a's job 4 (2 GPUs,
// any model, limit 50) ends by 50 <= 100 and may start; bestfit would take h's 2 free H100
// (8 - 6 = 2, an exact fit) but a's H100 limit leaves only A100: x.
TEST(SchedulerTest, BehindAGangReservationPerModelLimitsHold) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.gang_reservation = true;
  opt.queues = {WithModels({"a", "", 0, kNoLimit, 1}, {{"H100", {0, 0}}}),
                {"b", "", 0, kNoLimit, 10}};
  auto made = Scheduler::Create({Node("h", 8, "H100"), Node("x", 8, "A100")}, opt);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  Scheduler& s = **made;
  const auto limited = [&](const std::string& q, int gpus, const std::string& model,
                           std::int64_t limit_s) {
    JobRequest r = OnModel(s, q, gpus, model);
    r.time_limit_s = limit_s;
    return r;
  };
  ASSERT_TRUE(s.AddPending(1, limited("b", 6, "H100", 100)).ok());
  ASSERT_TRUE(s.AddPending(2, limited("a", 2, "A100", 100)).ok());
  ASSERT_EQ(s.RunCycle().placed.size(), 2u);
  JobRequest gang = LimitedGang(8, 2, 50);
  gang.queue = "b";
  ASSERT_TRUE(s.AddPending(3, gang).ok());
  ASSERT_TRUE(s.AddPending(4, limited("a", 2, "", 50)).ok());
  const auto c = s.RunCycle();
  ASSERT_TRUE(s.reservation().has_value());
  EXPECT_EQ(s.reservation()->first, 3);
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 4);
  EXPECT_EQ(NodeOf(s, 4), "x");
  EXPECT_DOUBLE_EQ(s.queues()->Used("a", "H100"), 0);
}

// The scenario above, run on: a job arriving while nothing was freed (a cycle of the arrivals
// only) meets the reservation too, and the gang starts at t 100 as reserved, all on A's node.
//   t 10: H (job 7, 1 GPU, limit 500) arrives; a has 8 - 7 = 1 free: H fits, but ends 510 > 100
//     and would leave a 7 free at t 100 -> waits.
//   t 50: E ends. Reserved still for t 100 (A's limit); C, F, H still wait.
//   t 100: A ends: a has 8 free -> G starts, 2 replicas x 4 GPUs on a.
TEST(SchedulerTest, GangReservationIsNeverDelayedAndTheGangStartsAtTheReservedTime) {
  auto s = MakeGangReserving({Node("n1", 8), Node("n2", 8)});
  ASSERT_TRUE(s->AddPending(1, Limited(6, 100)).ok());
  ASSERT_TRUE(s->AddPending(2, Limited(8, 1000)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 2u);
  const std::string a = NodeOf(*s, 1);
  ASSERT_TRUE(s->AddPending(3, LimitedGang(4, 2, 50)).ok());
  ASSERT_TRUE(s->AddPending(4, Limited(2, 500)).ok());
  ASSERT_TRUE(s->AddPending(5, Limited(1, 50)).ok());
  ASSERT_TRUE(s->AddPending(6, Whole(1)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 1u);  // E
  s->SetClock(10);
  ASSERT_TRUE(s->AddPending(7, Limited(1, 500)).ok());  // H
  const auto arrivals = s->RunCycle();
  EXPECT_FALSE(arrivals.full);
  EXPECT_TRUE(arrivals.placed.empty());
  EXPECT_EQ(Codes(*s, 7), (Strings{"reservation_ahead"}));
  s->SetClock(50);
  ASSERT_TRUE(s->Release(5).ok());
  EXPECT_TRUE(s->RunCycle().placed.empty());
  ASSERT_TRUE(s->reservation().has_value());
  EXPECT_DOUBLE_EQ(s->reservation()->second, 100.0);
  EXPECT_EQ(s->placement(3), nullptr);  // all or nothing: no replica holds GPUs meanwhile
  s->SetClock(100);
  ASSERT_TRUE(s->Release(1).ok());
  const auto d = s->RunCycle();
  ASSERT_EQ(d.placed.size(), 1u);
  EXPECT_EQ(d.placed[0].first, 3);
  ASSERT_NE(s->placement(3), nullptr);
  ASSERT_EQ(s->placement(3)->size(), 2u);
  EXPECT_EQ(NodeOf(*s, 3, 0), a);
  EXPECT_EQ(NodeOf(*s, 3, 1), a);
  EXPECT_FALSE(s->reservation().has_value());
}

// A gang never starts partly. Two 8-GPU nodes: X (job 1, 4 GPUs, limit 100) and Y (job 2, 8
// GPUs, limit 1000). G (job 3, 2 x 4 GPUs): one replica fits in the 4 free beside X, the other
// nowhere -> gang_incomplete (replicas_fit 1), nothing held. Reserved for t 100 (X
// ends: 8 free on X's node). Behind it P (job 4, 4 GPUs, limit 200) would leave 8 - 4 = 4 there
// at t 100, one replica -> waits, and the 4 GPUs stay free.
TEST(SchedulerTest, AGangThatPartlyFitsHoldsNothingAndKeepsItsReservation) {
  auto s = MakeGangReserving({Node("n1", 8), Node("n2", 8)});
  ASSERT_TRUE(s->AddPending(1, Limited(4, 100)).ok());   // X
  ASSERT_TRUE(s->AddPending(2, Limited(8, 1000)).ok());  // Y
  ASSERT_EQ(s->RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s->AddPending(3, LimitedGang(4, 2, 50)).ok());  // G
  ASSERT_TRUE(s->AddPending(4, Limited(4, 200)).ok());        // P
  EXPECT_TRUE(s->RunCycle().placed.empty());
  EXPECT_EQ(s->placement(3), nullptr);
  EXPECT_EQ(s->Totals().gpus_free, 4);
  // 2 x 4 = 8 asked, 4 free: short by 4 in the pool; one replica of two fits.
  EXPECT_EQ(Codes(*s, 3), (Strings{"insufficient", "gang_incomplete", "reserved"}));
  EXPECT_EQ(s->PendingReasons(3)[0].short_by, 4);
  EXPECT_EQ(s->PendingReasons(3)[1].replicas_fit, 1);
  EXPECT_EQ(Codes(*s, 4), (Strings{"reservation_ahead"}));
  ASSERT_TRUE(s->reservation().has_value());
  EXPECT_DOUBLE_EQ(s->reservation()->second, 100.0);
}

// Jobs without a time limit leave no start time: U (job 1, 8 GPUs) and V (job 2, 6 GPUs) run for
// ever on the two 8-GPU nodes; G (job 3, 2 x 4 GPUs) is reserved at infinity, timeout 300 s.
//   t 0: reservation first made; it lapses at 0 + 300 = 300. N (job 4, 2 GPUs, no limit) fits in
//     the 2 free but could hold them for ever -> waits (reservation_ahead, no reserved time). L
//     (job 5, 1 GPU, limit 50) ends at 50 -> starts.
//   t 300: lapsed. G waits without one until 300 + 300 = 600 and holds nothing back: N starts.
//   t 600: G reserves again (at infinity), lapsing at 600 + 300 = 900.
TEST(SchedulerTest, AReservationWithoutAStartTimeLapsesAfterItsTimeout) {
  auto s = MakeGangReserving({Node("n1", 8), Node("n2", 8)}, 300);
  ASSERT_TRUE(s->AddPending(1, Whole(8)).ok());  // U
  ASSERT_TRUE(s->AddPending(2, Whole(6)).ok());  // V
  ASSERT_EQ(s->RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s->AddPending(3, LimitedGang(4, 2, 50)).ok());  // G
  ASSERT_TRUE(s->AddPending(4, Whole(2)).ok());               // N
  ASSERT_TRUE(s->AddPending(5, Limited(1, 50)).ok());         // L
  const auto c = s->RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 5);
  ASSERT_TRUE(s->reservation().has_value());
  EXPECT_EQ(s->reservation()->first, 3);
  EXPECT_TRUE(std::isinf(s->reservation()->second));
  const std::vector<WaitReason> n = s->PendingReasons(4);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(WaitCodeName(n[0].code), "reservation_ahead");
  EXPECT_FALSE(n[0].reserved_at_s.has_value());
  WaitReason g = s->PendingReasons(3).back();
  EXPECT_EQ(WaitCodeName(g.code), "reserved");
  EXPECT_FALSE(g.reserved_at_s.has_value());
  EXPECT_EQ(g.lapses_at_s, 300.0);
  EXPECT_EQ(s->reservation_change_at(), 300.0);
  s->SetClock(50);
  ASSERT_TRUE(s->Release(5).ok());
  EXPECT_TRUE(s->RunCycle().placed.empty());  // still reserved: N waits
  s->SetClock(299);
  EXPECT_TRUE(s->RunCycle(true).placed.empty());
  // t 300: nothing was freed, yet the lapse makes the cycle a full one.
  s->SetClock(300);
  const auto lapse = s->RunCycle();
  EXPECT_TRUE(lapse.full);
  ASSERT_EQ(lapse.placed.size(), 1u);
  EXPECT_EQ(lapse.placed[0].first, 4);
  EXPECT_FALSE(s->reservation().has_value());
  g = s->PendingReasons(3).back();
  EXPECT_EQ(WaitCodeName(g.code), "reservation_lapsed");
  EXPECT_EQ(g.lapses_at_s, 300.0);
  EXPECT_EQ(g.reserve_again_at_s, 600.0);
  EXPECT_EQ(g.message,
            "its reservation lapsed at t 300 (not started within 300 s); it holds nothing back "
            "until t 600, then may reserve again");
  EXPECT_EQ(s->reservation_change_at(), 600.0);
  s->SetClock(600);
  s->RunCycle();
  ASSERT_TRUE(s->reservation().has_value());
  EXPECT_EQ(s->reservation()->first, 3);
  g = s->PendingReasons(3).back();
  EXPECT_EQ(WaitCodeName(g.code), "reserved");
  EXPECT_EQ(g.lapses_at_s, 900.0);
}

// While the first gang's reservation has lapsed, the next gang in rank order reserves. Two 8-GPU
// nodes, U (job 1, 8 GPUs) and V (job 2, 6 GPUs) without limits; G1 (job 3) and G2 (job 4), each
// 2 x 4 GPUs; timeout 100. t 0: G1 reserves (at infinity; G2 behind it fits nowhere). t 100: G1's
// lapses (until 200): G2, next in fifo order, reserves, its own timeout running to 100 + 100 =
// 200.
TEST(SchedulerTest, WhileAReservationHasLapsedTheNextGangReserves) {
  auto s = MakeGangReserving({Node("n1", 8), Node("n2", 8)}, 100);
  ASSERT_TRUE(s->AddPending(1, Whole(8)).ok());
  ASSERT_TRUE(s->AddPending(2, Whole(6)).ok());
  ASSERT_EQ(s->RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s->AddPending(3, LimitedGang(4, 2, 50)).ok());
  ASSERT_TRUE(s->AddPending(4, LimitedGang(4, 2, 50)).ok());
  s->RunCycle();
  ASSERT_TRUE(s->reservation().has_value());
  EXPECT_EQ(s->reservation()->first, 3);
  EXPECT_EQ(Codes(*s, 4).back(), "behind_higher_priority");  // same shape, nothing reserved
  s->SetClock(100);
  s->RunCycle();
  ASSERT_TRUE(s->reservation().has_value());
  EXPECT_EQ(s->reservation()->first, 4);
  EXPECT_EQ(WaitCodeName(s->PendingReasons(3).back().code), "reservation_lapsed");
  EXPECT_EQ(s->PendingReasons(4).back().lapses_at_s, 200.0);
}

// Strict order with EASY backfill and a timeout: the head's reservation lapses too. Two 8-GPU
// nodes, U (job 1, 8 GPUs) and V (job 2, 6 GPUs) without limits; B (job 3, 8 GPUs) heads the
// queue, reserved at infinity; timeout 100. C (job 4, 2 GPUs, no limit) fits but could hold them
// for ever -> waits. t 100: B's reservation lapses (until 200): C passes it.
TEST(SchedulerTest, TheEasyHeadsReservationLapsesAfterItsTimeout) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  opt.strict_order = true;
  opt.easy_backfill = true;
  opt.reservation_timeout_s = 100;
  auto made = Scheduler::Create({Node("n1", 8), Node("n2", 8)}, opt);
  ASSERT_TRUE(made.has_value());
  Scheduler& s = **made;
  ASSERT_TRUE(s.AddPending(1, Whole(8)).ok());
  ASSERT_TRUE(s.AddPending(2, Whole(6)).ok());
  ASSERT_EQ(s.RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s.AddPending(3, Limited(8, 50)).ok());
  ASSERT_TRUE(s.AddPending(4, Whole(2)).ok());
  EXPECT_TRUE(s.RunCycle().placed.empty());
  EXPECT_EQ(Codes(s, 4), (Strings{"reservation_ahead"}));
  EXPECT_EQ(Codes(s, 3), (Strings{"insufficient", "reserved"}));
  s.SetClock(100);
  const auto c = s.RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 4);
  EXPECT_FALSE(s.reservation().has_value());
  EXPECT_EQ(Codes(s, 3), (Strings{"insufficient", "reservation_lapsed"}));
}

TEST(SchedulerTest, ANegativeReservationTimeoutIsRefused) {
  SchedulerOptions opt;
  opt.reservation_timeout_s = -1;
  const auto made = Scheduler::Create({Node("n1", 8)}, opt);
  ASSERT_FALSE(made.has_value());
  EXPECT_EQ(made.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gpupool::scheduler

namespace gpupool::scheduler {
namespace {

JobRequest LimitedIn(const std::string& q, int gpus, std::int64_t limit_s) {
  JobRequest r = InQueue(q, gpus, /*preemptible=*/false);
  r.time_limit_s = limit_s;
  return r;
}

std::string Gpus(const Placement& p) {
  std::string out;
  for (const auto& a : p) {
    out += (out.empty() ? "" : " ") + std::to_string(a.node) + ":";
    for (int g = 0; g < 8; ++g) {
      if ((a.gpu_mask >> g) & 1u) out += std::to_string(g);
    }
  }
  return out;
}

// Strict order with queues and EASY backfill: each queue's blocked head holds a reservation, in
// rank order against the pool as the earlier ones leave it, and a job behind, in any queue,
// starts only if it delays none. Nodes n1 (index 0), n2 (1), 8 GPUs each; bestfit, ties to the
// lowest index; fifo; queues a, b, c (and z for the jobs already running), no guarantee, so the
// queues of the waiting jobs tie (nothing running) and the walk is fifo across them.
//   t 0: 1 (z, 6 GPUs, limit 100) on n1 [0-5]; 2 (z, 8, limit 200) on n2. Free: n1 [6,7].
//   3 (a, 4, limit 50): does not fit: a's head. Reserved t 100 (1 ends; n2 busy to 200) on
//     n1 [0-3], to 150.
//   4 (b, 4, limit 50): does not fit: b's head. At t 100 n1 has [4-7] beside 3: reserved t 100
//     on n1 [4-7], to 150.
//   5 (c, 2, limit 500): fits now on n1 [6,7] but would hold them at t 100, when 3 and 4 take
//     all of n1 (and 3 cannot go elsewhere: n2 is busy): it would delay 3. So it waits, c's
//     head, and reserves after them: t 100 is full, t 150 (3 and 4 end) n1 [0,1].
//   6 (a, 2, limit 50): behind a's head, fits on n1 [6,7] and ends by 50 <= 100: starts.
//   7 (b, 1, limit 500): behind b's head, nothing free: waits behind 4.
// Then: t 50 6 ends; t 100 1 ends: 3 and 4 start at their reserved time; 5 reserves t 150 again
// and 7 (b's head now, nothing free) t 150 beside it; t 150 3 and 4 end: 5 and 7 start.
TEST(SchedulerTest, StrictQueuesWithEasyBackfillEachHeadReservesAndNoneIsDelayed) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "fifo";
  opt.strict_order = true;
  opt.easy_backfill = true;
  opt.placer.index_order = true;
  for (const char* q : {"a", "b", "c", "z"}) opt.queues.push_back({q, "", 0, kNoLimit, 1});
  auto made = Scheduler::Create({Node("n1", 8), Node("n2", 8)}, opt);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  Scheduler& s = **made;
  ASSERT_TRUE(s.AddPending(1, LimitedIn("z", 6, 100)).ok());
  ASSERT_TRUE(s.AddPending(2, LimitedIn("z", 8, 200)).ok());
  ASSERT_EQ(s.RunCycle().placed.size(), 2u);
  ASSERT_TRUE(s.AddPending(3, LimitedIn("a", 4, 50)).ok());
  ASSERT_TRUE(s.AddPending(4, LimitedIn("b", 4, 50)).ok());
  ASSERT_TRUE(s.AddPending(5, LimitedIn("c", 2, 500)).ok());
  ASSERT_TRUE(s.AddPending(6, LimitedIn("a", 2, 50)).ok());
  ASSERT_TRUE(s.AddPending(7, LimitedIn("b", 1, 500)).ok());
  auto c = s.RunCycle();
  ASSERT_EQ(c.placed.size(), 1u);
  EXPECT_EQ(c.placed[0].first, 6);
  EXPECT_EQ(Gpus(c.placed[0].second), "0:67");
  const std::vector<Reservation>& r = s.reservations();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].job, 3);
  EXPECT_EQ(r[0].at, 100.0);
  EXPECT_EQ(Gpus(r[0].nodes), "0:0123");
  EXPECT_EQ(r[1].job, 4);
  EXPECT_EQ(r[1].at, 100.0);
  EXPECT_EQ(Gpus(r[1].nodes), "0:4567");
  EXPECT_EQ(r[2].job, 5);
  EXPECT_EQ(r[2].at, 150.0);
  EXPECT_EQ(Gpus(r[2].nodes), "0:01");
  EXPECT_EQ(Codes(s, 5), (Strings{"reservation_ahead", "reserved"}));
  EXPECT_EQ(s.PendingReasons(5)[0].job, 3);
  EXPECT_EQ(s.PendingReason(7),
            "not now: behind job 4, which does not fit yet (strict fifo order in queue 'b': no job "
            "overtakes it)");
  s.SetClock(50);
  ASSERT_TRUE(s.Release(6).ok());
  EXPECT_TRUE(s.RunCycle().placed.empty());
  s.SetClock(100);
  ASSERT_TRUE(s.Release(1).ok());
  c = s.RunCycle();
  ASSERT_EQ(c.placed.size(), 2u);
  EXPECT_EQ(c.placed[0].first, 3);
  EXPECT_EQ(c.placed[1].first, 4);
  ASSERT_EQ(s.reservations().size(), 2u);
  EXPECT_EQ(s.reservations()[0].job, 5);
  EXPECT_EQ(s.reservations()[0].at, 150.0);
  EXPECT_EQ(s.reservations()[1].job, 7);
  EXPECT_EQ(s.reservations()[1].at, 150.0);
  s.SetClock(150);
  ASSERT_TRUE(s.Release(3).ok());
  ASSERT_TRUE(s.Release(4).ok());
  c = s.RunCycle();
  ASSERT_EQ(c.placed.size(), 2u);
  EXPECT_EQ(c.placed[0].first, 5);
  EXPECT_EQ(c.placed[1].first, 7);
}

// Several gangs hold a reservation at once (max_reservations). Nodes n1 (index 0), n2 (1), 8 GPUs
// each; bestfit, ties to the lowest index; fifo, no strict order.
//   t 0: 1 (8 GPUs, limit 1000) on n1; 2 (6, limit 100) on n2 [0-5]. Free: n2 [6,7].
//   G1 (3: 2 x 8, limit 50) needs both nodes: reserved t 1000 (1 ends) on n1 + n2.
//   G2 (4: 2 x 4, limit 50): with max_reservations 2 it reserves too, against the pool as G1
//     leaves it: t 100 (2 ends) n2 [0-3] + [4-7], to 150 < 1000, clear of G1.
//   5 (2 GPUs, limit 500) fits now on n2 [6,7]; ends 500 <= 1000 (G1 unharmed), but at t 100 it
//     would hold 2 of n2, and G2 fits nowhere else (n1 busy): it delays G2 and waits.
//   6 (1 GPU, limit 50) ends by 50 <= 100: starts on n2 [6].
//   t 50 6 ends; t 100 2 ends: G2 starts at its reserved time.
// With max_reservations 1 only G1 reserves: 5 starts at t 0 (harmless to G1) and holds n2 to 500,
// 6 finds nothing free; G2 waits until t 500.
TEST(SchedulerTest, SeveralGangsReserveAndBackfillDelaysNone) {
  for (const int max : {2, 1}) {
    SCOPED_TRACE(max);
    auto s = MakeGangReserving({Node("n1", 8), Node("n2", 8)}, 0, true, max, true);
    ASSERT_TRUE(s->AddPending(1, Limited(8, 1000)).ok());
    ASSERT_TRUE(s->AddPending(2, Limited(6, 100)).ok());
    ASSERT_EQ(s->RunCycle().placed.size(), 2u);
    ASSERT_TRUE(s->AddPending(3, LimitedGang(8, 2, 50)).ok());
    ASSERT_TRUE(s->AddPending(4, LimitedGang(4, 2, 50)).ok());
    ASSERT_TRUE(s->AddPending(5, Limited(2, 500)).ok());
    ASSERT_TRUE(s->AddPending(6, Limited(1, 50)).ok());
    auto c = s->RunCycle();
    ASSERT_EQ(c.placed.size(), 1u);
    if (max == 1) {
      EXPECT_EQ(c.placed[0].first, 5);
      ASSERT_EQ(s->reservations().size(), 1u);
      // t 100: n2 has 6 free, one replica of G2; 6 (ends 150 <= 1000) starts there. t 150 it
      // ends: 7 free, still one replica. t 500 5 ends: G2 starts.
      s->SetClock(100);
      ASSERT_TRUE(s->Release(2).ok());
      c = s->RunCycle();
      ASSERT_EQ(c.placed.size(), 1u);
      EXPECT_EQ(c.placed[0].first, 6);
      s->SetClock(150);
      ASSERT_TRUE(s->Release(6).ok());
      EXPECT_TRUE(s->RunCycle().placed.empty());
      s->SetClock(500);
      ASSERT_TRUE(s->Release(5).ok());
      c = s->RunCycle();
      ASSERT_EQ(c.placed.size(), 1u);
      EXPECT_EQ(c.placed[0].first, 4);
      continue;
    }
    EXPECT_EQ(c.placed[0].first, 6);
    ASSERT_EQ(s->reservations().size(), 2u);
    EXPECT_EQ(s->reservations()[0].job, 3);
    EXPECT_EQ(s->reservations()[0].at, 1000.0);
    EXPECT_EQ(Gpus(s->reservations()[0].nodes), "0:01234567 1:01234567");
    EXPECT_EQ(s->reservations()[1].job, 4);
    EXPECT_EQ(s->reservations()[1].at, 100.0);
    EXPECT_EQ(Gpus(s->reservations()[1].nodes), "1:0123 1:4567");
    const std::vector<WaitReason> held = s->PendingReasons(5);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(WaitCodeName(held[0].code), "reservation_ahead");
    EXPECT_EQ(held[0].job, 4);
    EXPECT_EQ(held[0].reserved_at_s, 100.0);
    EXPECT_EQ(Codes(*s, 4).back(), "reserved");
    // Its nodes, as data and in words: both replicas on n2, GPUs 0-3 and 4-7.
    const WaitReason reserved = s->PendingReasons(4).back();
    EXPECT_EQ(reserved.reserved_nodes,
              (std::vector<ReservedReplica>{{"n2", {0, 1, 2, 3}}, {"n2", {4, 5, 6, 7}}}));
    EXPECT_EQ(reserved.message,
              "holds a reservation to start at t 100 on n2 (4 GPUs), n2 (4 GPUs) (when running "
              "jobs end by their time limits)");
    s->SetClock(50);
    ASSERT_TRUE(s->Release(6).ok());
    s->RunCycle();
    s->SetClock(100);
    ASSERT_TRUE(s->Release(2).ok());
    c = s->RunCycle();
    ASSERT_EQ(c.placed.size(), 1u);
    EXPECT_EQ(c.placed[0].first, 4);
  }
}

// Under gang reservation a single job that asks for more GPUs than any node has free reserves as
// a gang does. Nodes n1 (index 0), n2 (1), 8 GPUs each; bestfit, ties to the lowest index.
//   t 0: 1 (6 GPUs, limit 100) on n1 [0-5]; 2 (6, limit 200) on n2 [0-5]. Free: 2 + 2.
//   3 (8 GPUs, one replica, limit 50): 8 > 2 free on any node: reserved t 100 (1 ends) on n1.
//   4 (2, limit 500) fits on n1 [6,7] (bestfit's tie to n1), but would hold them at t 100 and 3
//     has no other node then (n2 busy to 200): waits. 5 (2, limit 50) ends by 50: starts there.
//   t 50 5 ends; t 100 1 ends: 3 starts at its reserved time, on n1, and 4 on n2 [6,7].
// Without gang reservation, or with it but reserve_wide_jobs off (only gangs reserve), 3 reserves
// nothing: 4 starts on n1 [6,7] (to 500), 5 on n2 [6,7], and at t 100 3 finds 6 free on n1: it
// waits until t 500.
TEST(SchedulerTest, UnderGangReservationAJobWiderThanAnyNodesFreeGpusReserves) {
  for (const int variant : {0, 1, 2}) {  // gang reservation; none; gangs only
    SCOPED_TRACE(variant);
    const bool reserve = variant == 0;
    SchedulerOptions opt;
    opt.policy = "bestfit";
    opt.order = "fifo";
    opt.gang_reservation = variant != 1;
    opt.reserve_wide_jobs = variant != 2;
    opt.placer.index_order = true;
    auto made = Scheduler::Create({Node("n1", 8), Node("n2", 8)}, opt);
    ASSERT_TRUE(made.has_value());
    auto s = std::move(*made);
    ASSERT_TRUE(s->AddPending(1, Limited(6, 100)).ok());
    ASSERT_TRUE(s->AddPending(2, Limited(6, 200)).ok());
    ASSERT_EQ(s->RunCycle().placed.size(), 2u);
    ASSERT_TRUE(s->AddPending(3, Limited(8, 50)).ok());
    ASSERT_TRUE(s->AddPending(4, Limited(2, 500)).ok());
    ASSERT_TRUE(s->AddPending(5, Limited(2, 50)).ok());
    auto c = s->RunCycle();
    if (!reserve) {
      ASSERT_EQ(c.placed.size(), 2u);
      EXPECT_EQ(c.placed[0].first, 4);
      EXPECT_EQ(Gpus(c.placed[0].second), "0:67");
      EXPECT_TRUE(s->reservations().empty());
      s->SetClock(100);
      ASSERT_TRUE(s->Release(1).ok());
      EXPECT_TRUE(s->RunCycle().placed.empty());
      continue;
    }
    ASSERT_EQ(c.placed.size(), 1u);
    EXPECT_EQ(c.placed[0].first, 5);
    ASSERT_EQ(s->reservations().size(), 1u);
    EXPECT_EQ(s->reservations()[0].job, 3);
    EXPECT_EQ(s->reservations()[0].at, 100.0);
    EXPECT_EQ(Gpus(s->reservations()[0].nodes), "0:01234567");
    EXPECT_EQ(s->PendingReasons(4)[0].job, 3);
    EXPECT_EQ(Codes(*s, 3).back(), "reserved");
    s->SetClock(50);
    ASSERT_TRUE(s->Release(5).ok());
    s->RunCycle();
    s->SetClock(100);
    ASSERT_TRUE(s->Release(1).ok());
    c = s->RunCycle();
    ASSERT_EQ(c.placed.size(), 2u);
    EXPECT_EQ(c.placed[0].first, 3);
    EXPECT_EQ(Gpus(c.placed[0].second), "0:01234567");
    EXPECT_EQ(c.placed[1].first, 4);  // n2's 2 free GPUs, which no reservation needs now
    EXPECT_EQ(Gpus(c.placed[1].second), "1:67");
  }
}

// Backfill never delays any reservation, on random workloads: after every cycle each reservation
// with a time still finds its nodes free at that time, beside every running job that its time
// limit keeps running then and every other reservation running then; both computed here from the
// placements, the runs' starts and the limits, on a fresh state of the pool (not the scheduler's
// reserved states). Two modes: strict order with queues and EASY backfill (each queue's head
// reserves), and gang reservation with up to 4 gangs (and single jobs wider than any node's free
// GPUs). Three 8-GPU nodes; jobs of 1, 2, 4, 8 GPUs and gangs of 2 x 4 and 2 x 8, every job
// running exactly its time limit.
TEST(SchedulerTest, BackfillNeverDelaysAnyReservationOnRandomWorkloads) {
  const std::vector<NodeSpec> nodes = {Node("n1", 8), Node("n2", 8), Node("n3", 8)};
  for (const bool strict : {true, false}) {
    SCOPED_TRACE(strict ? "strict queues, EASY" : "gang reservation, 4");
    std::mt19937_64 rng(strict ? 7 : 8);
    int reservations_seen = 0;
    int several = 0;  // cycles that ended with more than one reservation
    for (int trial = 0; trial < 20; ++trial) {
      SchedulerOptions opt;
      opt.policy = "bestfit";
      opt.order = "fifo";
      opt.strict_order = strict;
      opt.easy_backfill = strict;
      opt.gang_reservation = !strict;
      opt.max_reservations = 4;
      if (strict) {
        for (const char* q : {"a", "b", "c"}) opt.queues.push_back({q, "", 0, kNoLimit, 1});
      }
      auto made = Scheduler::Create(nodes, opt);
      ASSERT_TRUE(made.has_value());
      Scheduler& s = **made;
      cluster::ModelTable models;
      const auto empty = cluster::ClusterState::Build(nodes, models);
      ASSERT_TRUE(empty.has_value());
      std::map<JobId, std::int64_t> limit;
      std::multimap<std::int64_t, JobId> ends;
      std::int64_t t = 0;
      JobId next = 1;
      const int num_jobs = 40;
      while (next <= num_jobs || !ends.empty()) {
        std::int64_t arrival = next <= num_jobs ? t + static_cast<std::int64_t>(rng() % 30) : -1;
        std::int64_t now = arrival >= 0 ? arrival : ends.begin()->first;
        if (!ends.empty()) now = std::min(now, ends.begin()->first);
        t = now;
        s.SetClock(static_cast<double>(t));
        for (; !ends.empty() && ends.begin()->first == t; ends.erase(ends.begin())) {
          ASSERT_TRUE(s.Release(ends.begin()->second).ok());
        }
        if (arrival == t) {
          const int kind = static_cast<int>(rng() % 7);
          const int gpus[] = {1, 2, 4, 8, 4, 8, 1};
          JobRequest r = Whole(gpus[kind], kind == 4 || kind == 5 ? 2 : 1);
          r.time_limit_s = 1 + static_cast<std::int64_t>(rng() % 300);
          if (strict) r.queue = std::string(1, static_cast<char>('a' + rng() % 3));
          r.preemptible = false;
          limit[next] = r.time_limit_s;
          ASSERT_TRUE(s.AddPending(next, r).ok());
          ++next;
        }
        for (const auto& [id, p] : s.RunCycle().placed) ends.emplace(t + limit.at(id), id);
        const std::vector<Reservation>& res = s.reservations();
        reservations_seen += static_cast<int>(res.size());
        several += res.size() > 1 ? 1 : 0;
        for (const Reservation& r : res) {
          if (!std::isfinite(r.at)) continue;
          cluster::ClusterState at = *empty;
          for (const auto& [id, p] : s.placements()) {
            const double end = *s.RunSince(id) + static_cast<double>(limit.at(id));
            if (end <= r.at) continue;
            for (const auto& a : p) ASSERT_TRUE(at.Allocate(a).ok());
          }
          for (const Reservation& h : res) {
            if (h.job == r.job || !std::isfinite(h.at) || h.at > r.at || r.at >= h.ends) continue;
            for (const auto& a : h.nodes) ASSERT_TRUE(at.Allocate(a).ok()) << "job " << h.job;
          }
          for (const auto& a : r.nodes) {
            EXPECT_TRUE(at.Allocate(a).ok()) << "trial " << trial << " t " << t << ": job " << r.job
                                             << "'s nodes at " << r.at << " are taken";
          }
        }
      }
    }
    EXPECT_GT(reservations_seen, 100);
    EXPECT_GT(several, 20);
  }
}

TEST(SchedulerTest, MaxReservationsBelowOneIsRefused) {
  SchedulerOptions opt;
  opt.max_reservations = 0;
  EXPECT_EQ(Scheduler::Create({Node("n", 8)}, opt).error().message(),
            "max_reservations: 0 is not >= 1");
}

// The head of the queue and the free GPUs that cannot take it (what the dashboard's heat map marks
// fragmented). Node a: 4 H100, job 9 holding 500 milli of GPU 0; node b: 2 H100; node c: 4 A100,
// cordoned. Jobs 1 (3 whole GPUs) and 2 (2) fill a's GPUs 1-3 and b; job 3 (8) waits first.
TEST(SchedulerTest, TheHeadOfTheQueueAndTheGpusThatCannotTakeIt) {
  auto s = Make({Node("a", 4), Node("b", 2), Node("c", 4, "A100")}, "bestfit");
  ASSERT_TRUE(s->SetNodeCondition("c", NodeCondition::kCordoned).ok());
  JobRequest half = Share(500);
  ASSERT_TRUE(s->Allocate(9, {cluster::MakeAllocation(half.replica, 0, 0b0001)}, half).ok());
  EXPECT_EQ(s->HeadOfQueue(), std::nullopt);  // nothing pending
  ASSERT_TRUE(s->AddPending(1, Whole(3)).ok());
  ASSERT_TRUE(s->AddPending(2, Whole(2)).ok());
  ASSERT_TRUE(s->AddPending(3, Whole(8)).ok());
  EXPECT_EQ(s->HeadOfQueue(), std::nullopt);  // not ranked before a cycle
  s->RunCycle();
  // Job 1 took a's GPUs 1-3, job 2 b's two GPUs; job 3 (8 GPUs) waits first, then nothing.
  ASSERT_TRUE(s->is_pending(3));
  ASSERT_FALSE(s->is_pending(1));
  ASSERT_FALSE(s->is_pending(2));
  EXPECT_EQ(s->HeadOfQueue(), 3);
  // For job 3 only a's GPU 0 has something free (500 milli): a has 4 GPUs, fewer than 8. c is
  // cordoned, its GPUs all free.
  const std::vector<StrandedGpus> stranded = s->StrandedFor(3);
  ASSERT_EQ(stranded.size(), 2u);
  EXPECT_EQ(stranded[0].node, 0);
  EXPECT_EQ(stranded[0].gpus, 0b0001u);
  EXPECT_EQ(stranded[0].why, cluster::Misfit::kTooFewGpus);
  EXPECT_EQ(stranded[1].node, 2);
  EXPECT_EQ(stranded[1].gpus, 0b1111u);
  EXPECT_EQ(stranded[1].why, cluster::Misfit::kNotSchedulable);
  // A 1-GPU whole job behind it: on a, GPU 0 (500 free) cannot take a whole GPU, though the node
  // could hold the job were a GPU free: "gpus". Job 3 stays the head.
  ASSERT_TRUE(s->AddPending(4, Whole(1)).ok());
  s->RunCycle();
  EXPECT_EQ(s->HeadOfQueue(), 3);
  ASSERT_TRUE(s->RemovePending(3).ok());
  EXPECT_EQ(s->HeadOfQueue(), 4);
  const std::vector<StrandedGpus> for4 = s->StrandedFor(4);
  ASSERT_EQ(for4.size(), 2u);
  EXPECT_EQ(for4[0].node, 0);
  EXPECT_EQ(for4[0].gpus, 0b0001u);
  EXPECT_EQ(for4[0].why, cluster::Misfit::kGpus);
  // A share of 400 fits GPU 0's 500: nothing of a is stranded for it.
  ASSERT_TRUE(s->RemovePending(4).ok());
  ASSERT_TRUE(s->AddPending(5, Share(400)).ok());
  EXPECT_EQ(s->StrandedFor(5).size(), 1u);  // only the cordoned c
  EXPECT_TRUE(s->StrandedFor(77).empty());  // not pending
}

// With queues and wait_for_victims (the service), a job that may not be preempted (so may not
// borrow) preempts only when its queue's use, without the victims, then falls inside its
// guarantee; otherwise its victims would stop, come back onto the GPUs they left and be preempted
// again, over and over. Two 8-GPU nodes, two preemptible 8-GPU jobs of one queue, then an 8-GPU
// job of priority 5 that may not be preempted.
TEST(SchedulerTest, WithQueuesAJobThatMayNotBorrowPreemptsOnlyWhenItCanThenStart) {
  for (const double guaranteed : {0.0, 16.0}) {
    SCOPED_TRACE(guaranteed);
    SchedulerOptions opt;
    opt.policy = "bestfit";
    opt.order = "priority";
    opt.preemption = true;
    opt.wait_for_victims = true;
    opt.queues = {{"default", "", guaranteed}};
    auto made = Scheduler::Create({Node("a", 8), Node("b", 8)}, opt);
    ASSERT_TRUE(made.has_value()) << made.error().ToString();
    Scheduler& s = **made;
    ASSERT_TRUE(s.AddPending(1, InQueue("default", 8)).ok());
    ASSERT_TRUE(s.AddPending(2, InQueue("default", 8)).ok());
    ASSERT_EQ(s.RunCycle().placed.size(), 2u);
    JobRequest high = InQueue("default", 8, /*preemptible=*/false);
    high.priority = 5;
    ASSERT_TRUE(s.AddPending(3, high).ok());
    const auto c = s.RunCycle();
    if (guaranteed == 0) {
      // 16 used - 8 freed + 8 asked > 0 guaranteed: it could not start; nothing is preempted.
      EXPECT_TRUE(c.preempted.empty());
      EXPECT_TRUE(s.is_pending(3));
      EXPECT_NE(s.PendingReason(3).find("does not borrow"), std::string::npos)
          << s.PendingReason(3);
      EXPECT_TRUE(s.RunCycle(/*full=*/true).preempted.empty());
      continue;
    }
    // 16 - 8 + 8 <= 16: one victim; once its process has ended and the caller has put it back
    // in the queue, job 3 takes its GPUs and the victim waits.
    ASSERT_EQ(c.preempted.size(), 1u);
    const JobId victim = c.preempted[0];
    ASSERT_TRUE(s.Requeue(victim).ok());
    const auto next = s.RunCycle();
    EXPECT_TRUE(next.preempted.empty());
    ASSERT_EQ(next.placed.size(), 1u);
    EXPECT_EQ(next.placed[0].first, 3);
    EXPECT_TRUE(s.is_pending(victim));
    EXPECT_TRUE(s.RunCycle(/*full=*/true).preempted.empty());
  }
}

// The victims of a job that may not borrow are chosen to bring its queue inside its guarantee,
// not only to make room: on 3 nodes of 8 GPUs with 8 + 8 + 4 GPUs running (20 used, 16
// guaranteed), an 8-GPU job that may not be preempted fits once the 4-GPU job stops (node c),
// but 20 - 4 + 8 = 24 > 16; it needs 20 - 16 + 8 = 12 GPUs of its queue stopped, so two victims
// (4 + 8 or 8 + 8), after which it starts.
TEST(SchedulerTest, AJobThatMayNotBorrowChoosesVictimsThatBringItsQueueInsideItsGuarantee) {
  SchedulerOptions opt;
  opt.policy = "bestfit";
  opt.order = "priority";
  opt.preemption = true;
  opt.wait_for_victims = true;
  opt.queues = {{"default", "", 16.0}};
  auto made = Scheduler::Create({Node("a", 8), Node("b", 8), Node("c", 8)}, opt);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  Scheduler& s = **made;
  const std::map<JobId, double> gpus = {{1, 8}, {2, 8}, {3, 4}};
  for (const auto& [id, n] : gpus) {
    ASSERT_TRUE(s.AddPending(id, InQueue("default", static_cast<int>(n))).ok());
  }
  ASSERT_EQ(s.RunCycle().placed.size(), 3u);
  JobRequest high = InQueue("default", 8, /*preemptible=*/false);
  high.priority = 5;
  ASSERT_TRUE(s.AddPending(4, high).ok());
  const auto c = s.RunCycle();
  ASSERT_EQ(c.preempted.size(), 2u);
  double freed = 0;
  for (const JobId v : c.preempted) freed += gpus.at(v);
  EXPECT_GE(freed, 12.0);
  for (const JobId v : c.preempted) ASSERT_TRUE(s.Requeue(v).ok());
  const auto next = s.RunCycle();
  EXPECT_TRUE(next.preempted.empty());
  bool placed = false;
  for (const auto& p : next.placed) placed = placed || p.first == 4;
  EXPECT_TRUE(placed);
  EXPECT_TRUE(s.RunCycle(/*full=*/true).preempted.empty());
}

}  // namespace
}  // namespace gpupool::scheduler

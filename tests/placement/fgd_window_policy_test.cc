#include "placement/fgd_window_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "placement/fgd_policy.h"
#include "placement/placer.h"
#include "placement/window.h"
#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::Pod;

// Target workload: whole 1-GPU pods and 470-milli sharing pods, half each (no CPU term).
Workload TwoClassWorkload() {
  Workload w;
  w.classes.push_back(TaskClass{1000, 1, 1000, cluster::kAnyModel, 0.5, 1});
  w.classes.push_back(TaskClass{1000, 1, 470, cluster::kAnyModel, 0.5, 1});
  w.total_pods = w.covered_pods = 2;
  return w;
}

// `n` identical nodes of `gpus` GPUs and `cpu` milli-CPU.
cluster::ClusterState Nodes(int n, int gpus, std::int64_t cpu, cluster::ModelTable& models) {
  std::vector<cluster::NodeSpec> specs(static_cast<std::size_t>(n));
  for (auto& s : specs) {
    s.name = "n";
    s.cpu_milli = cpu;
    s.memory_mib = 1 << 20;
    s.gpus.assign(static_cast<std::size_t>(gpus), cluster::GpuSpec{"G2", 0, "", -1});
  }
  return *cluster::ClusterState::Build(specs, models);
}

// What one PlaceWindow call did: the allocations in commit order with the pods' indices, and the
// indices it deferred.
struct Outcome {
  std::vector<cluster::Allocation> placed;
  std::vector<std::size_t> placed_index;
  std::vector<std::size_t> deferred;
};

// Places `window` with the placer's policy on `state` (committing) under `timing`.
Outcome Call(Placer& placer, const std::vector<cluster::PodRequest>& window,
             cluster::ClusterState& state, const WindowTiming& timing) {
  std::vector<int> shapes;
  for (const auto& r : window) shapes.push_back(placer.ShapeId(r));
  Outcome out;
  PlaceWindow(
      placer, window, shapes, timing, state,
      [&](std::size_t i, const cluster::Allocation& a) {
        EXPECT_EQ(a.cpu_milli, window[i].cpu_milli);
        ASSERT_TRUE(state.Allocate(a).ok());
        out.placed.push_back(a);
        out.placed_index.push_back(i);
      },
      [&](std::size_t i) { out.deferred.push_back(i); });
  return out;
}

// Places `window` as the last call of a trace (flush: nothing waits); returns the allocations in
// commit order.
std::vector<cluster::Allocation> PlaceAll(Placer& placer,
                                          const std::vector<cluster::PodRequest>& window,
                                          cluster::ClusterState& state) {
  const Outcome o = Call(placer, window, state, WindowTiming{{}, 64, /*flush=*/true});
  EXPECT_TRUE(o.deferred.empty());
  return o.placed;
}

TEST(FormGroupsTest, FillsGpusBestFitDecreasing) {
  //                      0: 470  1: 810  2: 470  3: 160  4: 650  5: 320
  const std::vector<cluster::PodRequest> w = {Pod(1000, 1, 470), Pod(2000, 1, 810),
                                              Pod(3000, 1, 470), Pod(4000, 1, 160),
                                              Pod(5000, 1, 650), Pod(6000, 1, 320)};
  const WindowGroups g = FormGroups(w, FgdWindowOptions{});
  // Descending: 810, 650, 470(0), 470(2), 320; 160 is below min_member_milli (200).
  // 810 leaves 190: nothing of >= 200 fits -> alone.
  // 650 + 320 = 970, leaves 30 <= 100 -> group 0 (the 470s do not fit next to 650).
  // 470 + 470 = 940, leaves 60 <= 100 -> group 1.
  EXPECT_EQ(g.group, (std::vector<int>{1, -1, 1, -1, 0, 0}));
  ASSERT_EQ(g.requests.size(), 2u);
  EXPECT_EQ(g.requests[0].gpu_milli, 970);
  EXPECT_EQ(g.requests[0].cpu_milli, 5000 + 6000);
  EXPECT_EQ(g.requests[0].num_gpu, 1);
  EXPECT_EQ(g.requests[1].gpu_milli, 940);
  EXPECT_EQ(g.requests[1].cpu_milli, 1000 + 3000);
  EXPECT_EQ(g.requests[1].memory_mib, 2 * 1024);
}

TEST(FormGroupsTest, SmallPodsAreHoleFillersNotPartners) {
  const std::vector<cluster::PodRequest> w = {Pod(1000, 1, 810), Pod(1000, 1, 160)};
  // Default: 160 < 200, so 810 stays alone and 160 too.
  EXPECT_EQ(FormGroups(w, FgdWindowOptions{}).group, (std::vector<int>{-1, -1}));
  // Without the floor, 810 + 160 = 970 leaves 30: one group.
  FgdWindowOptions all;
  all.min_member_milli = 0;
  const WindowGroups g = FormGroups(w, all);
  EXPECT_EQ(g.group, (std::vector<int>{0, 0}));
  EXPECT_EQ(g.requests[0].gpu_milli, 970);
}

TEST(FormGroupsTest, KeepsOnlyGroupsThatNearlyFillTheGpu) {
  // 470 + 320 = 790 leaves 210 > 100: no group. 550 + 440 = 990 leaves 10: a group.
  EXPECT_EQ(FormGroups(std::vector{Pod(0, 1, 470), Pod(0, 1, 320)}, {}).group,
            (std::vector<int>{-1, -1}));
  EXPECT_EQ(FormGroups(std::vector{Pod(0, 1, 550), Pod(0, 1, 440)}, {}).group,
            (std::vector<int>{0, 0}));
  // 250 x 4 = 1000 exactly: a whole-GPU request.
  const WindowGroups g = FormGroups(std::vector(4, Pod(500, 1, 250)), {});
  EXPECT_EQ(g.group, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(g.requests[0].gpu_milli, 1000);
  EXPECT_EQ(g.requests[0].shape(), cluster::PodShape::kWholeGpus);
  // Whole-GPU and CPU-only pods never join a group.
  EXPECT_EQ(FormGroups(std::vector{Pod(0, 1, 1000), Pod(1000, 0, 0), Pod(0, 1, 470)}, {}).group,
            (std::vector<int>{-1, -1, -1}));
}

TEST(FormGroupsTest, FindsTheBestFillNotTheFirstFit) {
  // 500 + 300 = 800 (first fit; 250 no longer fits) would leave 200 > 100: no group. The
  // knapsack finds 500 + 250 + 250 = 1000 and leaves the 300 alone.
  const WindowGroups g =
      FormGroups(std::vector{Pod(0, 1, 500), Pod(0, 1, 300), Pod(0, 1, 250), Pod(0, 1, 250)}, {});
  EXPECT_EQ(g.group, (std::vector<int>{0, -1, 0, 0}));
  ASSERT_EQ(g.requests.size(), 1u);
  EXPECT_EQ(g.requests[0].gpu_milli, 1000);
  // At most max_members pods: with 2, 500 + 300 = 800 is the best and leaves 200: no group.
  FgdWindowOptions two;
  two.max_members = 2;
  EXPECT_EQ(
      FormGroups(std::vector{Pod(0, 1, 500), Pod(0, 1, 300), Pod(0, 1, 250), Pod(0, 1, 250)}, two)
          .group,
      (std::vector<int>{-1, -1, -1, -1}));
  // Equal fills: the larger partner wins (reached first in descending order): 600 + 400 over
  // 600 + 200 + 200; the two 200s are left alone (400 leaves 600).
  EXPECT_EQ(
      FormGroups(std::vector{Pod(0, 1, 200), Pod(0, 1, 600), Pod(0, 1, 200), Pod(0, 1, 400)}, {})
          .group,
      (std::vector<int>{-1, 0, -1, 0}));
}

TEST(FormGroupsTest, AnyMilliStepWorks) {
  // The knapsack steps by the gcd of the candidates' milli: 333 x 3 = 999 (step 333), 505 + 495 =
  // 1000 (step 5).
  EXPECT_EQ(FormGroups(std::vector(3, Pod(0, 1, 333)), {}).requests.at(0).gpu_milli, 999);
  EXPECT_EQ(FormGroups(std::vector{Pod(0, 1, 495), Pod(0, 1, 505)}, {}).group,
            (std::vector<int>{0, 0}));
}

TEST(FormGroupsTest, ModelConstraintsMustIntersect) {
  auto a = Pod(0, 1, 470);
  a.allowed_models = 0b01;
  auto b = Pod(0, 1, 470);
  b.allowed_models = 0b10;
  EXPECT_EQ(FormGroups(std::vector{a, b}, {}).group, (std::vector<int>{-1, -1}));
  // Any model + model 0 only: the group may use model 0 only.
  const WindowGroups g = FormGroups(std::vector{a, Pod(0, 1, 470)}, {});
  EXPECT_EQ(g.group, (std::vector<int>{0, 0}));
  EXPECT_EQ(g.requests[0].allowed_models, 0b01u);
}

TEST(FgdWindowPolicyTest, GroupMembersShareOneGpu) {
  cluster::ModelTable models;
  auto state = Nodes(4, 2, 64000, models);
  FgdWindowPolicy policy(TwoClassWorkload());
  Placer placer(policy, state.num_nodes(), 7);
  // 650 + 320 = 970: placed as one request, both on the same node and GPU, which keeps 30.
  const auto a = PlaceAll(placer, {Pod(1000, 1, 650), Pod(1000, 1, 320)}, state);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].node, a[1].node);
  EXPECT_EQ(a[0].gpu_mask, a[1].gpu_mask);
  EXPECT_EQ(a[0].gpu_milli, 650);
  EXPECT_EQ(a[1].gpu_milli, 320);
  const auto& n = state.node(a[0].node);
  EXPECT_EQ(n.gpu_left_sum, 2000 - 970);
  EXPECT_EQ(n.cpu_left, 64000 - 2000);
}

TEST(FgdWindowPolicyTest, An810And160ShareAGpuWhenSmallPodsMayPair) {
  cluster::ModelTable models;
  auto state = Nodes(4, 2, 64000, models);
  FgdWindowOptions opt;
  opt.min_member_milli = 0;
  FgdWindowPolicy policy(TwoClassWorkload(), opt);
  Placer placer(policy, state.num_nodes(), 3);
  const auto a = PlaceAll(placer, {Pod(1000, 1, 810), Pod(1000, 1, 160)}, state);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].node, a[1].node);
  EXPECT_EQ(a[0].gpu_mask, a[1].gpu_mask);
  EXPECT_EQ(state.node(a[0].node).gpu_left_sum, 2000 - 970);
}

TEST(FgdWindowPolicyTest, ASmallPodFillsA190HoleAlone) {
  cluster::ModelTable models;
  auto state = Nodes(4, 2, 64000, models);
  FgdWindowPolicy policy(TwoClassWorkload());
  Placer placer(policy, state.num_nodes(), 3);
  // An old 810 left a 190 hole on the last node of the seed's order: lefts [1000, 190].
  const int old = placer.node_order().back();
  ASSERT_TRUE(state
                  .Allocate(cluster::Allocation{
                      .node = old, .gpu_mask = 2, .gpu_milli = 810, .cpu_milli = 1000, .tag = 1})
                  .ok());
  const auto a = PlaceAll(placer, {Pod(1000, 1, 810), Pod(1000, 1, 160)}, state);
  ASSERT_EQ(a.size(), 2u);
  // Not grouped (160 < 200); in arrival order. F = 0.5 f(whole) + 0.5 f(470).
  // The 810: on an empty node [1000, 1000] -> [190, 1000]: F 0 -> 190, delta -190 -> 45; on the
  //   old node [1000, 190] -> [190, 190]: F 190 -> 380 (neither class fits), delta -190 -> 45.
  //   Tie: the first node of the seed's order (an empty one) wins.
  EXPECT_EQ(a[0].node, placer.node_order()[0]);
  // The 160: either 190 hole -> 30: F 190 -> 30, delta +160 -> int(100 sigmoid(0.16)) = 53; a
  //   free GPU: [1000, x] -> [840, x] loses the whole class: delta -420 at best -> 39. A hole
  //   wins; both holes tie at 53 and the earlier node in the order (the new 810's) takes it.
  EXPECT_EQ(a[1].gpu_milli, 160);
  EXPECT_EQ(a[1].node, a[0].node);
  EXPECT_EQ(a[1].gpu_mask, a[0].gpu_mask);
  EXPECT_EQ(state.node(a[0].node).gpu_left_sum, 2000 - 970);
  EXPECT_EQ(state.node(old).gpu_left_sum, 1190);
}

TEST(FgdWindowPolicyTest, PlacesInArrivalOrderWithAGroupAtItsEarliestPod) {
  cluster::ModelTable models;
  auto state = Nodes(4, 4, 64000, models);
  FgdWindowPolicy policy(TwoClassWorkload());
  Placer placer(policy, state.num_nodes(), 11);
  // A whole GPU, a 470, a CPU-only pod, a second 470: the 470s form a group placed at the first
  // 470's turn, so commits come as: whole, 470, 470, CPU-only.
  const auto a = PlaceAll(
      placer, {Pod(1000, 1, 1000), Pod(2000, 1, 470), Pod(3000, 0, 0), Pod(4000, 1, 470)}, state);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].cpu_milli, 1000);
  EXPECT_EQ(a[1].cpu_milli, 2000);
  EXPECT_EQ(a[2].cpu_milli, 4000);
  EXPECT_EQ(a[3].cpu_milli, 3000);
  EXPECT_EQ(a[1].node, a[2].node);
  EXPECT_EQ(a[1].gpu_mask, a[2].gpu_mask);
}

TEST(FgdWindowPolicyTest, CommitsNameEachPodsIndexInTheWindow) {
  cluster::ModelTable models;
  auto state = Nodes(4, 4, 64000, models);
  FgdWindowPolicy policy(TwoClassWorkload());
  Placer placer(policy, state.num_nodes(), 11);
  // As above: the 470s (1 and 3) are one group placed at pod 1's turn, each member committed
  // with its own index; pod 4 (9 GPUs) fits nowhere and is not committed.
  const std::vector<cluster::PodRequest> window = {Pod(1000, 1, 1000), Pod(2000, 1, 470),
                                                   Pod(3000, 0, 0), Pod(4000, 1, 470),
                                                   Pod(1000, 9, 1000)};
  const Outcome o = Call(placer, window, state, WindowTiming{{}, 64, true});
  EXPECT_EQ(o.placed_index, (std::vector<std::size_t>{0, 1, 3, 2}));
  EXPECT_TRUE(o.deferred.empty());
}

// Waiting is only for the pods a group could take (steps 1 and 5 of the header): a whole GPU, a
// CPU-only pod, a 160 (below min_member_milli) and an 810 (no partner of >= 200 fits next to it)
// go when they arrive; a lone 470 that has just arrived waits; at waited = max_wait - 1 it goes.
TEST(FgdWindowPolicyTest, OnlyPodsAGroupCouldTakeWait) {
  cluster::ModelTable models;
  auto state = Nodes(4, 4, 64000, models);
  FgdWindowPolicy policy(TwoClassWorkload());
  Placer placer(policy, state.num_nodes(), 11);
  const std::vector<cluster::PodRequest> window = {
      Pod(1000, 1, 1000), Pod(2000, 0, 0), Pod(3000, 1, 160), Pod(4000, 1, 810), Pod(5000, 1, 470)};
  const std::vector<int> young = {0, 0, 0, 0, 0};
  const Outcome o = Call(placer, window, state, WindowTiming{young, 64, false});
  EXPECT_EQ(o.placed_index, (std::vector<std::size_t>{0, 1, 2, 3}));
  EXPECT_EQ(o.deferred, (std::vector<std::size_t>{4}));
  // The same 470, its wait up (63 arrivals of 64): placed alone.
  const std::vector<int> old = {63};
  const Outcome late = Call(placer, {Pod(5000, 1, 470)}, state, WindowTiming{old, 64, false});
  EXPECT_EQ(late.placed_index, (std::vector<std::size_t>{0}));
  EXPECT_TRUE(late.deferred.empty());
}

// A group is placed when its oldest member's wait is up (step 4), not before: 470 + 470 leaves 60
// (> early_group_slack_milli = 0). Placed, both members share one GPU.
TEST(FgdWindowPolicyTest, AGroupGoesWhenItsOldestMembersWaitIsUp) {
  cluster::ModelTable models;
  auto state = Nodes(4, 2, 64000, models);
  FgdWindowPolicy policy(TwoClassWorkload());
  Placer placer(policy, state.num_nodes(), 5);
  const std::vector<cluster::PodRequest> pair = {Pod(1000, 1, 470), Pod(2000, 1, 470)};
  const std::vector<int> waiting = {10, 0};
  const Outcome wait = Call(placer, pair, state, WindowTiming{waiting, 64, false});
  EXPECT_TRUE(wait.placed.empty());
  EXPECT_EQ(wait.deferred, (std::vector<std::size_t>{0, 1}));
  const std::vector<int> due = {63, 53};
  const Outcome go = Call(placer, pair, state, WindowTiming{due, 64, false});
  ASSERT_EQ(go.placed.size(), 2u);
  EXPECT_EQ(go.placed[0].node, go.placed[1].node);
  EXPECT_EQ(go.placed[0].gpu_mask, go.placed[1].gpu_mask);
  EXPECT_TRUE(go.deferred.empty());
}

// A group that fills its GPU exactly (600 + 400) needs no better partner: placed at once.
TEST(FgdWindowPolicyTest, AnExactFillGoesAtOnce) {
  cluster::ModelTable models;
  auto state = Nodes(4, 2, 64000, models);
  FgdWindowPolicy policy(TwoClassWorkload());
  Placer placer(policy, state.num_nodes(), 5);
  const std::vector<int> young = {3, 0};
  const Outcome o =
      Call(placer, {Pod(1000, 1, 600), Pod(2000, 1, 400)}, state, WindowTiming{young, 64, false});
  ASSERT_EQ(o.placed.size(), 2u);
  EXPECT_EQ(o.placed[0].gpu_mask, o.placed[1].gpu_mask);
  EXPECT_EQ(state.node(o.placed[0].node).gpu_left_sum, 1000);
}

// Step 2: a 470 that arrives while a GPU has 530 left (an old 470 on it) completes that GPU to
// 60 <= hole_fill_slack_milli under FGD: placed at once instead of waiting.
TEST(FgdWindowPolicyTest, APodThatCompletesAGpuGoesAtOnce) {
  cluster::ModelTable models;
  auto state = Nodes(1, 2, 64000, models);
  ASSERT_TRUE(state.Allocate(cluster::MakeAllocation(Pod(0, 1, 470), 0, 0b10)).ok());
  FgdWindowPolicy policy(TwoClassWorkload());
  Placer placer(policy, 1, 1);
  // F = 0.5 f(whole) + 0.5 f(470) on lefts [1000, 530] is 265; GPU1 -> [1000, 60]: F = 0.5 x 60
  // + 0.5 x 60 = 60 (the better delta); GPU0 -> [530, 530]: F = 0.5 x 1060 + 0 = 530.
  const std::vector<int> young = {0};
  const Outcome o = Call(placer, {Pod(1000, 1, 470)}, state, WindowTiming{young, 64, false});
  ASSERT_EQ(o.placed.size(), 1u);
  EXPECT_EQ(o.placed[0].gpu_mask, 0b10u);
  EXPECT_TRUE(o.deferred.empty());
  // A fresh GPU pair leaves 530 after a 470: it waits.
  auto empty = Nodes(1, 2, 64000, models);
  Placer fresh(policy, 1, 1);
  const Outcome w = Call(fresh, {Pod(1000, 1, 470)}, empty, WindowTiming{young, 64, false});
  EXPECT_TRUE(w.placed.empty());
  EXPECT_EQ(w.deferred, (std::vector<std::size_t>{0}));
}

TEST(FgdWindowPolicyTest, SetWorkloadReachesTheScore) {
  // Node lefts [1000, 530] and a 470 pod (classes of no CPU):
  // whole-GPU workload: GPU1 -> [1000, 60]: F 530 -> 60, delta 470 -> int(100 sigmoid(0.47)) = 61;
  //   GPU0 -> [530, 530]: no GPU of 1000, F 530 -> 1060, delta -530 -> 37. Best GPU1, 61.
  // 470 workload: GPU0 -> [530, 530]: both fit, F 0 -> 0, delta 0 -> 50; GPU1 -> [1000, 60]:
  //   F 0 -> 60 -> int(100 sigmoid(-0.06)) = 48. Best GPU0, 50.
  Workload whole, share;
  whole.classes.push_back(TaskClass{0, 1, 1000, cluster::kAnyModel, 1.0, 1});
  share.classes.push_back(TaskClass{0, 1, 470, cluster::kAnyModel, 1.0, 1});
  cluster::ModelTable models;
  auto state = Nodes(1, 2, 64000, models);
  ASSERT_TRUE(state.Allocate(cluster::MakeAllocation(Pod(0, 1, 470), 0, 0b10)).ok());
  FgdWindowPolicy policy(whole);
  Placer placer(policy, 1, 1);
  const auto pod = Pod(1000, 1, 470);
  const int id = placer.ShapeId(pod);
  EXPECT_EQ(placer.ScoreNode(pod, id, state, 0).score, 61);
  EXPECT_EQ(placer.ScoreNode(pod, id, state, 0).gpu_mask, 0b10u);
  policy.SetWorkload(share);
  placer.InvalidateScores();
  EXPECT_EQ(placer.ScoreNode(pod, id, state, 0).score, 50);
  EXPECT_EQ(placer.ScoreNode(pod, id, state, 0).gpu_mask, 0b01u);
}

// Where jobs end (pack_near_ties) the score is FGD x 20 + best fit (paper normalisers: CPU /
// 128,000, GPUs / 8,000), so an FGD lead of a few levels yields to a node best fit much prefers.
// Workload (no CPU term): 1 GPU 0.68, 2 GPUs 0.30, 8 GPUs 0.02; a pod of 1 GPU and 1 core.
//   big (8 GPUs free, 96 cores left): F 0 -> 7 free, the 8-GPU class no longer fits: 0.02 x 7000
//     = 140; delta -140 -> int(100 sigmoid(-0.14)) = int(46.51) = 46.
//     best fit: 1 - 0.5 x 95000/128000 - 0.5 x 7000/8000 = 0.1914 -> 19.
//   small (2 GPUs free, 8 cores left): F 0.02 x 2000 = 40 -> 1 free: 0.30 x 1000 + 0.02 x 1000
//     = 320; delta -280 -> int(100 sigmoid(-0.28)) = int(43.05) = 43.
//     best fit: 1 - 0.5 x 7000/128000 - 0.5 x 1000/8000 = 0.9102 -> 91.
// FGD alone: big (46 > 43). Near ties: big 46 x 20 + 19 = 939, small 43 x 20 + 91 = 951 -> small.
// (Ties alone, FGD x 101 + best fit: big 4,665, small 4,434 -> big.)
TEST(FgdWindowPolicyTest, WhereJobsEndAFewLevelsOfFgdYieldToBestFit) {
  Workload w;
  w.classes.push_back(TaskClass{0, 1, 1000, cluster::kAnyModel, 0.68, 68});
  w.classes.push_back(TaskClass{0, 2, 1000, cluster::kAnyModel, 0.30, 30});
  w.classes.push_back(TaskClass{0, 8, 1000, cluster::kAnyModel, 0.02, 2});
  w.total_pods = w.covered_pods = 100;
  const auto big = testing::NodeBuilder().Cpu(128000).CpuLeft(96000).Gpus(8).Build();
  const auto small = testing::NodeBuilder().Cpu(16000).CpuLeft(8000).Gpus(2).Build();
  const auto pod = Pod(1000, 1, 1000);
  const FgdWindowPolicy fgd_only(w);
  EXPECT_EQ(fgd_only.Score(pod, big).score, 46);
  EXPECT_EQ(fgd_only.Score(pod, small).score, 43);
  FgdWindowOptions opt;
  opt.pack_near_ties = true;
  const FgdWindowPolicy near_ties(w, opt);
  EXPECT_EQ(near_ties.Score(pod, big).score, 939);
  EXPECT_EQ(near_ties.Score(pod, small).score, 951);
  // The GPUs inside the node stay FGD's choice.
  EXPECT_EQ(near_ties.Score(pod, small).gpu_mask, fgd_only.Score(pod, small).gpu_mask);
}

TEST(FgdWindowPolicyTest, AGroupThatFitsNowhereIsPlacedMemberByMember) {
  cluster::ModelTable models;
  // Nodes of 8 cores: a 470 pod of 5 cores fits, the pair (10 cores) fits no node.
  auto state = Nodes(3, 2, 8000, models);
  FgdWindowPolicy policy(TwoClassWorkload());
  Placer placer(policy, state.num_nodes(), 5);
  const auto a = PlaceAll(placer, {Pod(5000, 1, 470), Pod(5000, 1, 470)}, state);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_NE(a[0].node, a[1].node);
}

TEST(FgdWindowPolicyTest, AWindowOfOnePodIsFgd) {
  cluster::ModelTable models;
  auto mine = Nodes(6, 4, 32000, models);
  auto ref = Nodes(6, 4, 32000, models);
  FgdWindowPolicy policy(TwoClassWorkload());
  FgdPolicy fgd(TwoClassWorkload());
  Placer p_mine(policy, mine.num_nodes(), 9);
  Placer p_ref(fgd, ref.num_nodes(), 9);
  const std::vector<cluster::PodRequest> pods = {
      Pod(4000, 1, 470), Pod(2000, 1, 1000), Pod(3000, 1, 650),
      Pod(1000, 0, 0),   Pod(4000, 1, 470),  Pod(8000, 2, 1000),
      Pod(1000, 1, 320), Pod(2000, 1, 810),  Pod(3000, 1, 160)};
  for (const auto& r : pods) {
    // max_wait 1: no pod may wait.
    const auto a = Call(p_mine, {r}, mine, WindowTiming{{}, 1, false}).placed;
    const auto b = p_ref.Place(r, ref);
    ASSERT_EQ(a.size(), b.has_value() ? 1u : 0u);
    if (!b) continue;
    ASSERT_TRUE(ref.Allocate(*b).ok());
    EXPECT_EQ(a[0].node, b->node);
    EXPECT_EQ(a[0].gpu_mask, b->gpu_mask);
  }
}

TEST(FgdWindowPolicyTest, DeterministicPerSeed) {
  const std::vector<cluster::PodRequest> window = {
      Pod(4000, 1, 470), Pod(2000, 1, 1000), Pod(3000, 1, 650), Pod(1000, 0, 0),
      Pod(4000, 1, 470), Pod(1000, 1, 320),  Pod(2000, 1, 810), Pod(3000, 1, 230),
      Pod(3000, 1, 230), Pod(3000, 1, 230),  Pod(3000, 1, 230)};
  FgdWindowPolicy policy(TwoClassWorkload());
  auto run = [&](std::uint64_t seed) {
    cluster::ModelTable models;
    auto state = Nodes(8, 4, 32000, models);
    Placer placer(policy, state.num_nodes(), seed);
    std::vector<std::pair<int, std::uint32_t>> out;
    for (int rep = 0; rep < 3; ++rep) {
      for (const auto& a : PlaceAll(placer, window, state)) out.emplace_back(a.node, a.gpu_mask);
    }
    return out;
  };
  EXPECT_EQ(run(21), run(21));
  EXPECT_EQ(run(21).size(), 33u);  // everything fits: 3 windows x 11 pods
}

// Step 3a. A pool of 3 nodes of model A and 1 of model B (a quarter of the GPUs) whose workload
// has a class tied to B: B is reserved.
struct ReservedPool {
  cluster::ModelTable models;
  cluster::ClusterState state;
  Workload workload;
};

ReservedPool MakeReservedPool() {
  ReservedPool p;
  std::vector<cluster::NodeSpec> specs(4);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    specs[i].name = "n" + std::to_string(i);
    specs[i].cpu_milli = 64000;
    specs[i].memory_mib = 1 << 20;
    specs[i].gpus.assign(2, cluster::GpuSpec{i == 0 ? "B" : "A", 0, "", -1});
  }
  p.state = *cluster::ClusterState::Build(specs, p.models);
  const cluster::ModelMask b = cluster::ModelMask{1} << *p.models.Find("B");
  p.workload = TwoClassWorkload();
  p.workload.classes.push_back(TaskClass{1000, 1, 470, b, 0.0, 1});
  return p;
}

TEST(FormGroupsTest, AnUnconstrainedPodNeverJoinsAPodTiedToReservedModels) {
  const cluster::ModelMask a = 0b01, b = 0b10;
  auto tied = [](cluster::ModelMask m) {
    auto r = Pod(1000, 1, 470);
    r.allowed_models = m;
    return r;
  };
  const std::vector<cluster::PodRequest> w = {Pod(1000, 1, 470), tied(b)};
  // Nothing reserved: the pair is a group tied to b.
  EXPECT_EQ(FormGroups(w, FgdWindowOptions{}).group, (std::vector<int>{0, 0}));
  // b reserved: no group.
  EXPECT_EQ(FormGroups(w, FgdWindowOptions{}, b).group, (std::vector<int>{-1, -1}));
  // Two pods tied to b still pair; a pod tied to a|b may join an unconstrained one.
  EXPECT_EQ(FormGroups(std::vector{tied(b), tied(b)}, FgdWindowOptions{}, b).group,
            (std::vector<int>{0, 0}));
  EXPECT_EQ(FormGroups(std::vector{Pod(1000, 1, 470), tied(a | b)}, FgdWindowOptions{}, b).group,
            (std::vector<int>{0, 0}));
}

// A group of unconstrained pods keeps off the reserved model B, whatever the seed; with nothing
// reserved (minority_share 0) some seed's FGD choice puts it on B, so the rule is what holds it
// off.
TEST(FgdWindowPolicyTest, AnUnconstrainedGroupKeepsOffReservedModels) {
  const std::vector<cluster::PodRequest> pair = {Pod(1000, 1, 470), Pod(2000, 1, 470)};
  const std::vector<int> due = {63, 1};
  auto node_of_group = [&](double minority_share, std::uint64_t seed) {
    ReservedPool p = MakeReservedPool();
    FgdWindowOptions opt;
    opt.minority_share = minority_share;
    FgdWindowPolicy policy(p.workload, opt);
    Placer placer(policy, p.state.num_nodes(), seed);
    const Outcome o = Call(placer, pair, p.state, WindowTiming{due, 64, false});
    EXPECT_EQ(o.placed.size(), 2u);
    EXPECT_EQ(o.placed[0].gpu_mask, o.placed[1].gpu_mask);
    return o.placed.empty() ? -1 : o.placed[0].node;
  };
  bool on_b_without = false;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    EXPECT_NE(node_of_group(0.5, seed), 0) << "seed " << seed;
    on_b_without = on_b_without || node_of_group(0.0, seed) == 0;
  }
  EXPECT_TRUE(on_b_without);
}

}  // namespace
}  // namespace gpupool::placement

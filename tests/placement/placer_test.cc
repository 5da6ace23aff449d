#include "placement/placer.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "placement/bestfit_policy.h"
#include "placement/fgd_policy.h"
#include "placement/packing_policy.h"
#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::Pod;

cluster::ClusterState Identical(int n, cluster::ModelTable& models) {
  std::vector<cluster::NodeSpec> specs(static_cast<std::size_t>(n));
  for (auto& s : specs) {
    s.name = "n";
    s.cpu_milli = 64000;
    s.memory_mib = 65536;
    s.gpus.assign(8, cluster::GpuSpec{"G2", 0, "", -1});
  }
  return *cluster::ClusterState::Build(specs, models);
}

TEST(PlacerTest, TiesGoToTheFirstNodeOfTheSeedsOrder) {
  cluster::ModelTable models;
  auto state = Identical(50, models);
  PackingPolicy policy;
  std::set<int> firsts;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Placer placer(policy, state.num_nodes(), seed);
    // Every node is empty and identical: all tie at 25, so the winner is the best-priority node.
    auto a = placer.Place(Pod(1000, 1, 1000), state);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->node, placer.node_order()[0]);
    EXPECT_EQ(placer.node_rank()[static_cast<std::size_t>(a->node)], 0);
    firsts.insert(a->node);
  }
  EXPECT_GT(firsts.size(), 5u);  // the order depends on the seed
}

TEST(PlacerTest, TheOrderIsFixedPerSeedNotDrawnPerDecision) {
  cluster::ModelTable models;
  auto state = Identical(20, models);
  BestFitPolicy policy;
  Placer placer(policy, state.num_nodes(), 3);
  // BestFit prefers the fullest node, so the first pod's node keeps winning while it has room:
  // 8 whole-GPU pods of 1000 CPU all land on node_order()[0].
  for (int i = 0; i < 8; ++i) {
    auto a = placer.Place(Pod(1000, 1, 1000), state);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->node, placer.node_order()[0]);
    ASSERT_TRUE(state.Allocate(*a).ok());
  }
  // The ninth no longer fits there (no free GPU): it goes to the next node in the same order.
  auto a = placer.Place(Pod(1000, 1, 1000), state);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->node, placer.node_order()[1]);
}

TEST(PlacerTest, HigherScoreBeatsPriority) {
  cluster::ModelTable models;
  auto state = Identical(10, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 5);
  const int last = placer.node_order().back();
  // A shared pod on the worst-priority node makes it the only used node: packing scores it 95+.
  ASSERT_TRUE(state
                  .Allocate(cluster::Allocation{
                      .node = last, .gpu_mask = 1, .gpu_milli = 500, .cpu_milli = 1000, .tag = 1})
                  .ok());
  auto a = placer.Place(Pod(1000, 1, 300), state);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->node, last);
  EXPECT_EQ(a->gpu_mask, 1u);
}

TEST(PlacerTest, NothingFitsGivesNoPlacement) {
  cluster::ModelTable models;
  auto state = Identical(3, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 1);
  EXPECT_FALSE(placer.Place(Pod(1000, 9, 1000), state).has_value());    // 9 GPUs on 8-GPU nodes
  EXPECT_FALSE(placer.Place(Pod(100000, 1, 1000), state).has_value());  // CPU
}

TEST(PlacerTest, CacheRecomputesOnlyChangedNodes) {
  cluster::ModelTable models;
  auto state = Identical(10, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 1);
  const auto pod = Pod(1000, 1, 300);
  auto a = placer.Place(pod, state);
  ASSERT_TRUE(a.has_value());
  // The first decision scores all 10 nodes (packing never reaches 100, so no early stop).
  const auto first = placer.evaluations();
  EXPECT_EQ(first, 10u);
  ASSERT_TRUE(state.Allocate(*a).ok());
  placer.Place(pod, state);
  // The second decision re-scores only the node that changed.
  EXPECT_EQ(placer.evaluations() - first, 1u);
}

TEST(PlacerTest, EvictsTheLeastRecentlyUsedShape) {
  cluster::ModelTable models;
  auto state = Identical(4, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 1, PlacerOptions{.max_cached_shapes = 2});
  const auto a = Pod(1000, 1, 100), b = Pod(1000, 1, 200), c = Pod(1000, 1, 300);
  EXPECT_EQ(placer.ShapeId(a), 0);
  EXPECT_EQ(placer.ShapeId(b), 1);
  EXPECT_EQ(placer.ShapeId(a), 0);  // a used again: b is now the least recently used
  EXPECT_EQ(placer.ShapeId(c), 1);  // evicts b, reuses its row
  EXPECT_EQ(placer.evictions(), 1u);
  EXPECT_EQ(placer.cached_shapes(), 2);
  EXPECT_EQ(placer.ShapeId(a), 0);  // still cached
  EXPECT_EQ(placer.ShapeId(b), 1);  // c was least recent (a touched after it): b takes row 1
  // Id 1 now names b: placing c with its stale id 1 re-interns c (evicting a, the least recent)
  // and decides as a fresh Placer of the same seed does.
  Placer fresh(policy, state.num_nodes(), 1);
  const auto placed = placer.Place(c, 1, state);
  const auto expected = fresh.Place(c, state);
  ASSERT_TRUE(placed.has_value());
  EXPECT_EQ(*placed, *expected);
  EXPECT_EQ(placer.evictions(), 3u);
  EXPECT_EQ(placer.ShapeId(c), 0);
}

TEST(PlacerTest, ATinyCacheDecidesAsALargeOne) {
  // Five shapes through a cache of two: every decision equals the one of an unbounded cache.
  const std::vector<cluster::PodRequest> shapes = {
      Pod(1000, 1, 300), Pod(2000, 1, 1000), Pod(4000, 2, 1000), Pod(500, 1, 600), Pod(3000, 0, 0)};
  for (const bool bestfit : {false, true}) {
    PackingPolicy packing;
    BestFitPolicy best;
    const Policy& policy = bestfit ? static_cast<const Policy&>(best) : packing;
    cluster::ModelTable m1, m2;
    auto s1 = Identical(12, m1);
    auto s2 = Identical(12, m2);
    Placer small(policy, 12, 9, PlacerOptions{.max_cached_shapes = 2});
    Placer large(policy, 12, 9);
    std::vector<int> ids;
    for (const auto& r : shapes) ids.push_back(small.ShapeId(r));  // most are stale by now
    for (int i = 0; i < 60; ++i) {
      const auto k = static_cast<std::size_t>((i * 7) % 5);
      const auto a = small.Place(shapes[k], ids[k], s1);
      const auto b = large.Place(shapes[k], s2);
      ASSERT_EQ(a.has_value(), b.has_value()) << i;
      if (!a) continue;
      EXPECT_EQ(*a, *b) << i;
      ASSERT_TRUE(s1.Allocate(*a).ok());
      ASSERT_TRUE(s2.Allocate(*b).ok());
    }
    EXPECT_GT(small.evictions(), 0u);
    EXPECT_EQ(large.evictions(), 0u);
  }
}

TEST(PlacerTest, ACopyAndTheOriginalNeverShareAStaleScore) {
  cluster::ModelTable models;
  auto state = Identical(6, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 2);
  const auto pod = Pod(1000, 1, 300);
  ASSERT_TRUE(placer.Place(pod, state).has_value());
  // A what-if copy takes 500 milli on GPU0 of node 0 and is scored; the original then takes a
  // different 200 on the same GPU. With per-node counters both would now read the same version.
  cluster::ClusterState what_if = state;
  ASSERT_TRUE(what_if
                  .Allocate(cluster::Allocation{
                      .node = 0, .gpu_mask = 1, .gpu_milli = 500, .cpu_milli = 1000, .tag = 1})
                  .ok());
  ASSERT_TRUE(placer.Place(pod, what_if).has_value());
  ASSERT_TRUE(state
                  .Allocate(cluster::Allocation{
                      .node = 0, .gpu_mask = 1, .gpu_milli = 200, .cpu_milli = 1000, .tag = 1})
                  .ok());
  const int id = placer.ShapeId(pod);
  for (const cluster::ClusterState* s : {&state, &what_if, &state}) {
    for (int n = 0; n < s->num_nodes(); ++n) {
      const NodeScore expected = policy.Score(pod, s->node(n));
      const NodeScore got = placer.ScoreNode(pod, id, *s, n);
      EXPECT_EQ(got.score, expected.score) << n;
      EXPECT_EQ(got.gpu_mask, expected.gpu_mask) << n;
    }
  }
  // Packing on node 0, lefts [800, 1000 x 7] in the original: none fully free used -> the 300
  // goes to GPU0: max(100 - floor(800 x 100 / 1000) / 10, 50) = max(100 - 8, 50) = 92.
  EXPECT_EQ(placer.ScoreNode(pod, id, state, 0).score, 92);
  // In the copy, lefts [500, ...]: 100 - 50 / 10 = 95.
  EXPECT_EQ(placer.ScoreNode(pod, id, what_if, 0).score, 95);
}

TEST(PlacerTest, AnAddedNodeTakesASeededPlaceWithoutReshufflingTheOthers) {
  std::set<int> positions;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    cluster::ModelTable models;
    auto state = Identical(10, models);
    PackingPolicy policy;
    Placer placer(policy, state.num_nodes(), seed);
    const std::vector<int> before = placer.node_order();
    const auto pod = Pod(1000, 1, 1000);
    ASSERT_TRUE(placer.Place(pod, state).has_value());
    const auto evaluated = placer.evaluations();
    cluster::NodeSpec spec;
    spec.name = "new";
    spec.cpu_milli = 64000;
    spec.memory_mib = 65536;
    spec.gpus.assign(8, cluster::GpuSpec{"G2", 0, "", -1});
    auto added = state.AddNode(spec, models);
    ASSERT_TRUE(added.has_value());
    placer.OnNodeAdded(*added);
    std::vector<int> order = placer.node_order();
    ASSERT_EQ(order.size(), 11u);
    const auto pos = static_cast<std::size_t>(placer.node_rank()[10]);
    EXPECT_EQ(order[pos], 10);
    positions.insert(static_cast<int>(pos));
    order.erase(order.begin() + static_cast<std::ptrdiff_t>(pos));
    EXPECT_EQ(order, before) << seed;  // the others keep their order
    for (std::size_t i = 0; i < placer.node_order().size(); ++i)
      EXPECT_EQ(placer.node_rank()[static_cast<std::size_t>(placer.node_order()[i])],
                static_cast<int>(i));
    // The cache survives: the next decision scores only the new node; all 11 tie at packing's
    // max(33 - 8, 8) = 25, so the winner is the first node of the new order.
    const auto a = placer.Place(pod, state);
    EXPECT_EQ(placer.evaluations() - evaluated, 1u);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->node, placer.node_order()[0]);
    // The same seed and index give the same place.
    Placer again(policy, 10, seed);
    again.OnNodeAdded(10);
    EXPECT_EQ(again.node_order(), placer.node_order());
  }
  EXPECT_GT(positions.size(), 3u);  // the place depends on the seed
}

TEST(PlacerTest, InvalidateScoresRecomputesEveryNode) {
  cluster::ModelTable models;
  auto state = Identical(10, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 1);
  const auto pod = Pod(1000, 1, 300);
  ASSERT_TRUE(placer.Place(pod, state).has_value());
  EXPECT_EQ(placer.evaluations(), 10u);
  ASSERT_TRUE(placer.Place(pod, state).has_value());
  EXPECT_EQ(placer.evaluations(), 10u);  // all cached
  placer.InvalidateScores();
  ASSERT_TRUE(placer.Place(pod, state).has_value());
  EXPECT_EQ(placer.evaluations(), 20u);
}

// FGD's fragment before placement is cached per node version (Policy::NodeBase). Every decision
// over a run of mixed pods, on the original and on a what-if copy in turn, must be the one a
// scan of Score() over the nodes gives (the highest score, ties to the seeded order).
TEST(PlacerTest, TheCachedNodeBaseDecidesAsScoringEveryNode) {
  Workload w;
  w.classes.push_back(TaskClass{0, 1, 500, cluster::kAnyModel, 0.4, 4});
  w.classes.push_back(TaskClass{0, 1, 1000, cluster::kAnyModel, 0.4, 4});
  w.classes.push_back(TaskClass{0, 4, 1000, cluster::kAnyModel, 0.2, 2});
  FgdPolicy policy(w);
  cluster::ModelTable models;
  auto state = Identical(8, models);
  Placer placer(policy, state.num_nodes(), 5);
  auto brute = [&](const cluster::PodRequest& r, const cluster::ClusterState& s) {
    int best = -1;
    std::optional<cluster::Allocation> out;
    for (const int n : placer.node_order()) {
      if (!cluster::Fits(r, s.node(n))) continue;
      const NodeScore sc = policy.Score(r, s.node(n));
      if (sc.score > best) {
        best = sc.score;
        out = cluster::MakeAllocation(r, n, sc.gpu_mask);
      }
    }
    return out;
  };
  const std::vector<cluster::PodRequest> pods = {Pod(1000, 1, 300),  Pod(1000, 1, 500),
                                                 Pod(2000, 1, 1000), Pod(4000, 2, 1000),
                                                 Pod(500, 1, 700),   Pod(3000, 0, 0)};
  cluster::ClusterState what_if = state;
  int placed = 0;
  for (int i = 0; i < 80; ++i) {
    const auto& r = pods[static_cast<std::size_t>((i * 5) % 6)];
    cluster::ClusterState& s = (i % 3 == 2) ? what_if : state;
    const auto expected = brute(r, s);
    const auto got = placer.Place(r, s);
    ASSERT_EQ(got.has_value(), expected.has_value()) << i;
    if (!got) continue;
    EXPECT_EQ(*got, *expected) << i;
    ASSERT_TRUE(s.Allocate(*got).ok());
    ++placed;
  }
  EXPECT_GT(placed, 40);
}

// A new workload changes the node base: InvalidateScores must drop it with the scores.
TEST(PlacerTest, InvalidateScoresDropsTheNodeBaseOfTheOldWorkload) {
  Workload w;
  w.classes.push_back(TaskClass{0, 1, 500, cluster::kAnyModel, 1.0, 1});
  FgdPolicy policy(w);
  cluster::ModelTable models;
  auto state = Identical(4, models);
  ASSERT_TRUE(state
                  .Allocate(cluster::Allocation{
                      .node = 1, .gpu_mask = 0b11, .gpu_milli = 700, .cpu_milli = 1000, .tag = 1})
                  .ok());
  Placer placer(policy, state.num_nodes(), 3);
  const auto pod = Pod(1000, 1, 1000);
  ASSERT_TRUE(placer.Place(pod, state).has_value());
  // The new workload is pods of 8 whole GPUs. Node 1 (lefts 300, 300, 1000 x 6) had F = 600
  // (the two GPUs below 500); now no 8-GPU pod fits it, so F = 6,600. Taking GPU 2 leaves
  // F = 5,600: delta 1,000, score int(100 x sigmoid(1)) = 73. With the old base it would be
  // 600 - 5,600 = -5,000: score 0.
  Workload whole;
  whole.classes.push_back(TaskClass{0, 8, 1000, cluster::kAnyModel, 1.0, 1});
  policy.SetWorkload(whole);
  placer.InvalidateScores();
  const FgdPolicy fresh(whole);
  const int id = placer.ShapeId(pod);
  for (int n = 0; n < state.num_nodes(); ++n) {
    const NodeScore expected = fresh.Score(pod, state.node(n));
    const NodeScore got = placer.ScoreNode(pod, id, state, n);
    EXPECT_EQ(got.score, expected.score) << n;
    EXPECT_EQ(got.gpu_mask, expected.gpu_mask) << n;
  }
  EXPECT_EQ(placer.ScoreNode(pod, id, state, 1).score, 73);
}

// A decision re-scores only the nodes the state's journal lists (one here), and stays right when
// the shape's row was touched for another state in between or the journal dropped what the
// shape had not read.
TEST(PlacerTest, ADecisionReadsTheJournalAndFallsBackToEveryNode) {
  cluster::ModelTable models;
  auto state = Identical(10, models);
  BestFitPolicy policy;
  Placer placer(policy, state.num_nodes(), 4);
  const auto pod = Pod(1000, 1, 300);
  auto brute = [&](const cluster::ClusterState& s) {
    int best = -1;
    std::optional<cluster::Allocation> out;
    for (const int n : placer.node_order()) {
      if (!cluster::Fits(pod, s.node(n))) continue;
      const NodeScore sc = policy.Score(pod, s.node(n));
      if (sc.score > best) {
        best = sc.score;
        out = cluster::MakeAllocation(pod, n, sc.gpu_mask);
      }
    }
    return out;
  };
  auto a = placer.Place(pod, state);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(state.Allocate(*a).ok());
  const auto evaluated = placer.evaluations();
  a = placer.Place(pod, state);
  EXPECT_EQ(placer.evaluations() - evaluated, 1u);  // only the changed node
  EXPECT_EQ(a, brute(state));
  // A what-if copy where node order()[9] is almost full (7 whole GPUs, 50 cores), scored through
  // ScoreNode: best fit prefers it by far there (raw 100 x (1 - (0.5 x 13/64 + 0.5 x 700/8000))
  // = 85 against at most 5 for a node of the original), but the original must not see it.
  cluster::ClusterState what_if = state;
  const int last = placer.node_order()[9];
  ASSERT_TRUE(what_if
                  .Allocate(cluster::Allocation{.node = last,
                                                .gpu_mask = 0b0111'1111,
                                                .gpu_milli = 1000,
                                                .cpu_milli = 50000,
                                                .tag = 1})
                  .ok());
  EXPECT_EQ(policy.Score(pod, what_if.node(last)).score, 85);
  const int id = placer.ShapeId(pod);
  EXPECT_EQ(placer.ScoreNode(pod, id, what_if, last).score,
            policy.Score(pod, what_if.node(last)).score);
  for (int i = 0; i < 3; ++i) {
    a = placer.Place(pod, id, state);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a, brute(state)) << i;
    EXPECT_NE(a->node, last) << i;  // it is a fresh node in the original
    ASSERT_TRUE(state.Allocate(*a).ok());
  }
  // More changes than the journal keeps between two decisions of this shape.
  const auto other = Pod(500, 0, 0);
  for (int i = 0; i < 200; ++i) {
    const auto b = placer.Place(other, state);
    ASSERT_TRUE(b.has_value());
    ASSERT_TRUE(state.Allocate(*b).ok());
  }
  a = placer.Place(pod, id, state);
  EXPECT_EQ(a, brute(state));
}

TEST(PlacerTest, IndexOrderTiesToTheLowestNodeAndAddsNodesLast) {
  cluster::ModelTable models;
  auto state = Identical(5, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 99, PlacerOptions{.index_order = true});
  EXPECT_EQ(placer.node_order(), (std::vector<int>{0, 1, 2, 3, 4}));
  const auto a = placer.Place(Pod(1000, 1, 1000), state);  // all five tie
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->node, 0);
  placer.OnNodeAdded(5);
  EXPECT_EQ(placer.node_order(), (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace gpupool::placement

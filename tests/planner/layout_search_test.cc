#include "planner/layout_search.h"

#include <gtest/gtest.h>

#include <set>

#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

using testing::H100;
using testing::Preset;

SearchOptions Opts() {
  SearchOptions so;
  so.base.seq = 4096;
  so.base.fabric = testing::WithNetwork(H100());
  so.base.kernels = testing::KernelsFor(H100());
  return so;
}

TEST(CandidateGpuCountsTest, PowersThenWholeNodes) {
  // 1, 2, 4 below a node; then p and 1.5 p nodes: 8, 16, 24, 32, 48, 64, 96, 128.
  EXPECT_EQ(CandidateGpuCounts(8, 128),
            (std::vector<int>{1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128}));
}

TEST(LayoutSearchTest, RankedIsATotalOrderAndAllFit) {
  const ModelProfile p = MakeProfile(Preset("Llama-3-70B"));
  const SearchResult r = SearchLayouts(p, H100(), 64, Opts());
  ASSERT_FALSE(r.ranked.empty());
  for (size_t i = 1; i < r.ranked.size(); ++i) {
    EXPECT_LE(r.ranked[i - 1].estimate.step_seconds, r.ranked[i].estimate.step_seconds);
  }
  for (const auto& rl : r.ranked) {
    EXPECT_TRUE(rl.estimate.fits);
    const Layout& l = rl.estimate.layout;
    EXPECT_EQ(l.tp * l.pp * l.dp * l.cp, 64);
  }
  EXPECT_EQ(r.evaluated, static_cast<int64_t>(r.ranked.size() + r.discarded.size()));
}

TEST(LayoutSearchTest, DiscardedLayoutsSayWhy) {
  // 70B on 8 GPUs: tp 1 holds 141 GB of bf16 weights alone; every layout that fails says so.
  const ModelProfile p = MakeProfile(Preset("Llama-3-70B"));
  const SearchResult r = SearchLayouts(p, H100(), 8, Opts());
  ASSERT_FALSE(r.discarded.empty());
  std::set<std::string> kinds;
  for (const Discarded& d : r.discarded) {
    ASSERT_FALSE(d.reason.empty());
    kinds.insert(d.reason.substr(0, 5));
  }
  EXPECT_TRUE(kinds.count("needs")) << "memory reasons expected";
}

TEST(LayoutSearchTest, SameInputSameAnswer) {
  const ModelProfile p = MakeProfile(Preset("Mixtral-8x7B"));
  const SearchResult a = SearchLayouts(p, H100(), 32, Opts());
  const SearchResult b = SearchLayouts(p, H100(), 32, Opts());
  ASSERT_EQ(a.ranked.size(), b.ranked.size());
  for (size_t i = 0; i < a.ranked.size(); ++i) {
    EXPECT_EQ(a.ranked[i].estimate.layout.tp, b.ranked[i].estimate.layout.tp);
    EXPECT_EQ(a.ranked[i].estimate.layout.ep, b.ranked[i].estimate.layout.ep);
    EXPECT_EQ(a.ranked[i].estimate.step_seconds, b.ranked[i].estimate.step_seconds);
  }
  // MoE: expert parallel layouts are among the candidates.
  bool has_ep = false;
  for (const auto& rl : a.ranked) has_ep = has_ep || rl.estimate.layout.ep > 1;
  EXPECT_TRUE(has_ep);
}

TEST(FewestGpusTest, TrainGoalPicksTheSmallestCountThatMeetsIt) {
  const ModelProfile p = MakeProfile(Preset("Llama-3-8B"));
  TrainGoal goal;
  goal.tokens = 1e11;
  goal.days = 7;
  goal.max_gpus = 1024;
  const LinkTier roce = testing::Network("RoCE-400G");
  const LinkTier ib = testing::Network("IB-NDR");
  const TrainGoalResult r = FewestGpusForTraining(p, H100(), goal, Opts(), roce, ib);
  ASSERT_TRUE(r.found);
  const TrainEstimate& best = r.best.ranked.front().estimate;
  EXPECT_LE(best.days, 7.0);
  // Every smaller count tried says why it was not enough.
  ASSERT_FALSE(r.tried.empty());
  for (size_t i = 0; i + 1 < r.tried.size(); ++i) {
    EXPECT_LT(r.tried[i].gpus, r.best.gpus);
    EXPECT_EQ(r.tried[i].outcome.find("meets"), std::string::npos);
  }
  EXPECT_FALSE(r.interconnect.empty());
  EXPECT_FALSE(r.interconnect_reason.empty());
}

TEST(FewestGpusTest, OneNodeMeansNvlinkOnly) {
  const ModelProfile p = MakeProfile(Preset("Llama-3-8B"));
  TrainOptions o;
  o.gpus = 8;
  o.fabric = testing::WithNetwork(H100());
  o.kernels = testing::KernelsFor(H100());
  std::string choice, reason;
  RecommendInterconnect(p, H100(), o, testing::Network("RoCE-400G"), testing::Network("IB-NDR"),
                        choice, reason);
  EXPECT_EQ(choice, "NVLink only");
}

TEST(FewestGpusTest, SlowNetworkRecommendsInfiniBand) {
  // 70B data parallel over many nodes with a 100G RoCE rail vs NDR: the faster rail wins.
  const ModelProfile p = MakeProfile(Preset("Llama-3-70B"));
  TrainOptions o;
  o.gpus = 256;
  o.layout.tp = 8;
  o.layout.pp = 1;
  o.layout.zero = 3;
  o.fabric = testing::WithNetwork(H100());
  o.kernels = testing::KernelsFor(H100());
  std::string choice, reason;
  RecommendInterconnect(p, H100(), o, testing::Network("RoCE-100G"), testing::Network("IB-NDR"),
                        choice, reason);
  EXPECT_EQ(choice, "InfiniBand") << reason;
}

TEST(FewestGpusTest, ServeGoalFindsTheSmallestTensorParallelDegree) {
  // Llama-3-70B bf16 (131 GiB of weights): tp 1 and 2 cannot hold it in 72 GiB budgets, tp 4 can.
  InferOptions o;
  o.context = 8192;
  o.batch = 8;
  o.fabric = testing::WithNetwork(H100());
  const ServeGoalResult r = FewestGpusForServing(Preset("Llama-3-70B"), H100(), o);
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.ranked.front().tp, 4);
  EXPECT_EQ(r.tried.size(), 3u);  // tp 1, 2 fail; 4 fits
}

}  // namespace
}  // namespace gpupool::planner

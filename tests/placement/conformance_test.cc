// One conformance suite over every registered policy: scores in 0-100, purity (the same inputs
// give the same score, in any order), valid GPU choices, determinism per seed, and no
// overcommit over random runs, checked against a ledger kept independently of ClusterState.
#include <gtest/gtest.h>

#include <bit>
#include <map>

#include "common/rng.h"
#include "placement/placer.h"
#include "placement/policy_registry.h"
#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {

struct Fixture {
  cluster::ModelTable models;
  std::vector<cluster::NodeSpec> specs;
  std::vector<cluster::PodRequest> pods;
  PolicyContext ctx;
};

Fixture RandomFixture(std::uint64_t seed) {
  Fixture f;
  Rng rng(seed);
  const char* model_names[] = {"A", "B", "C"};
  const int gpu_counts[] = {0, 1, 2, 4, 8};
  for (int i = 0; i < 40; ++i) {
    cluster::NodeSpec n;
    n.name = "node" + std::to_string(i);
    n.cpu_milli = 8000 * static_cast<std::int64_t>(1 + rng.Uniform(16));
    n.memory_mib = 16384 * static_cast<std::int64_t>(1 + rng.Uniform(16));
    const int g = gpu_counts[rng.Uniform(5)];
    n.gpus.assign(static_cast<std::size_t>(g),
                  cluster::GpuSpec{model_names[rng.Uniform(3)], 0, "", -1});
    f.specs.push_back(n);
  }
  std::vector<WorkloadPod> wp;
  for (int i = 0; i < 600; ++i) {
    cluster::PodRequest r;
    r.cpu_milli = 500 * static_cast<std::int64_t>(1 + rng.Uniform(32));
    r.memory_mib = 1024 * static_cast<std::int64_t>(1 + rng.Uniform(64));
    switch (rng.Uniform(4)) {
      case 0:
        break;  // CPU-only
      case 1:
        r.num_gpu = 1;
        r.gpu_milli = static_cast<std::int32_t>(50 + 10 * rng.Uniform(95));
        break;
      case 2:
        r.num_gpu = 1;
        r.gpu_milli = 1000;
        break;
      default:
        r.num_gpu = 1 << rng.Uniform(4);
        r.gpu_milli = 1000;
        break;
    }
    if (r.num_gpu > 0 && rng.Uniform(5) == 0)
      r.allowed_models = 1 + rng.Uniform(7);  // some subset of A, B, C
    f.pods.push_back(r);
    wp.push_back({r, std::to_string(r.allowed_models)});
  }
  f.ctx.workload = Workload::FromPods(wp);
  return f;
}

class PolicyConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PolicyConformanceTest, ScoresArePureInRangeAndChooseValidGpus) {
  Fixture f = RandomFixture(11);
  auto policy = MakePolicy(GetParam(), f.ctx);
  ASSERT_TRUE(policy.has_value());
  auto state = cluster::ClusterState::Build(f.specs, f.models);
  ASSERT_TRUE(state.has_value());
  Placer placer(**policy, state->num_nodes(), 1);
  for (std::size_t i = 0; i < f.pods.size(); ++i) {
    const auto& r = f.pods[i];
    // Score every feasible node twice, in opposite orders: the same results.
    std::vector<NodeScore> forward(static_cast<std::size_t>(state->num_nodes()), NodeScore{-1, 0});
    for (int n = 0; n < state->num_nodes(); ++n) {
      if (!cluster::Fits(r, state->node(n))) continue;
      const NodeScore s = (*policy)->Score(r, state->node(n));
      forward[static_cast<std::size_t>(n)] = s;
      ASSERT_GE(s.score, 0);
      ASSERT_LE(s.score, 100);
      // The GPUs named fit: exactly num_gpu of them, each with enough milli left.
      ASSERT_EQ(std::popcount(s.gpu_mask), r.num_gpu);
      for (std::uint32_t m = s.gpu_mask; m != 0; m &= m - 1) {
        const int g = std::countr_zero(m);
        ASSERT_LT(g, state->node(n).num_gpus);
        ASSERT_GE(state->node(n).gpu_left[static_cast<std::size_t>(g)], r.gpu_milli);
      }
    }
    for (int n = state->num_nodes() - 1; n >= 0; --n) {
      if (!cluster::Fits(r, state->node(n))) continue;
      const NodeScore s = (*policy)->Score(r, state->node(n));
      ASSERT_EQ(s.score, forward[static_cast<std::size_t>(n)].score);
      ASSERT_EQ(s.gpu_mask, forward[static_cast<std::size_t>(n)].gpu_mask);
    }
    if (auto a = placer.Place(r, *state)) {
      ASSERT_TRUE(state->Allocate(*a).ok());
    }
  }
}

TEST_P(PolicyConformanceTest, NeverOvercommitsAndIsDeterministicPerSeed) {
  for (std::uint64_t seed : {1, 2, 3}) {
    Fixture f = RandomFixture(100 + seed);
    auto policy = MakePolicy(GetParam(), f.ctx);
    ASSERT_TRUE(policy.has_value());
    std::vector<std::vector<int>> runs;
    for (int repeat = 0; repeat < 2; ++repeat) {
      cluster::ModelTable models;
      auto state = cluster::ClusterState::Build(f.specs, models);
      ASSERT_TRUE(state.has_value());
      Placer placer(**policy, state->num_nodes(), seed);
      // Independent ledger: what was handed out per node and per GPU.
      std::map<int, std::int64_t> cpu, mem;
      std::map<std::pair<int, int>, std::int64_t> gpu;
      std::vector<int> decisions;
      for (const auto& r : f.pods) {
        auto a = placer.Place(r, *state);
        decisions.push_back(a ? a->node : -1);
        if (!a) continue;
        cpu[a->node] += r.cpu_milli;
        mem[a->node] += r.memory_mib;
        for (std::uint32_t m = a->gpu_mask; m != 0; m &= m - 1)
          gpu[{a->node, std::countr_zero(m)}] += r.gpu_milli;
        ASSERT_TRUE(state->Allocate(*a).ok());
      }
      for (const auto& [n, used] : cpu)
        ASSERT_LE(used, f.specs[static_cast<std::size_t>(n)].cpu_milli);
      for (const auto& [n, used] : mem)
        ASSERT_LE(used, f.specs[static_cast<std::size_t>(n)].memory_mib);
      for (const auto& [key, used] : gpu) ASSERT_LE(used, 1000);
      runs.push_back(decisions);
    }
    EXPECT_EQ(runs[0], runs[1]) << "seed " << seed;
  }
}

TEST_P(PolicyConformanceTest, ReleaseThenPlaceDecidesAsIfThePodNeverCame) {
  Fixture f = RandomFixture(7);
  auto policy = MakePolicy(GetParam(), f.ctx);
  ASSERT_TRUE(policy.has_value());
  cluster::ModelTable m1, m2;
  auto placed = cluster::ClusterState::Build(f.specs, m1);
  auto never = cluster::ClusterState::Build(f.specs, m2);
  ASSERT_TRUE(placed.has_value() && never.has_value());
  Placer p1(**policy, placed->num_nodes(), 5);
  Placer p2(**policy, never->num_nodes(), 5);
  // Both states take the same first half of the pods.
  const std::size_t half = f.pods.size() / 2;
  for (std::size_t i = 0; i < half; ++i) {
    const auto a = p1.Place(f.pods[i], *placed);
    const auto b = p2.Place(f.pods[i], *never);
    ASSERT_EQ(a, b);
    if (!a) continue;
    ASSERT_TRUE(placed->Allocate(*a).ok());
    ASSERT_TRUE(never->Allocate(*b).ok());
  }
  // Then each later pod is placed, allocated and released on `placed` only (the Placer of
  // `never` makes the same Place call, so the random policy's draws stay in step), and the next
  // pod's decision must be the same on both.
  for (std::size_t i = half; i + 1 < f.pods.size(); ++i) {
    const auto a = p1.Place(f.pods[i], *placed);
    const auto b = p2.Place(f.pods[i], *never);
    ASSERT_EQ(a, b) << i;
    if (!a) continue;
    ASSERT_TRUE(placed->Allocate(*a).ok());
    ASSERT_TRUE(placed->Release(*a).ok());
    for (int n = 0; n < placed->num_nodes(); ++n) {
      cluster::NodeState x = placed->node(n);
      x.version = never->node(n).version;
      ASSERT_EQ(x, never->node(n)) << "node " << n << " after pod " << i;
    }
    ASSERT_EQ(placed->gpu_allocated_milli(), never->gpu_allocated_milli());
  }
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, PolicyConformanceTest, ::testing::ValuesIn(PolicyNames()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(PolicyRegistryTest, UnknownNameListsTheKnownOnes) {
  auto p = MakePolicy("tetris", PolicyContext{});
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("fgd"), std::string::npos);
  EXPECT_NE(p.error().message().find("packing"), std::string::npos);
}

}  // namespace
}  // namespace gpupool::placement

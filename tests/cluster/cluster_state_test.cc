#include "cluster/cluster_state.h"

#include <gtest/gtest.h>

#include "testing/node_builder.h"

namespace gpupool::cluster {
namespace {
using testing::NodeBuilder;
using testing::Pod;

NodeSpec Spec(const std::string& name, std::int64_t cpu, int gpus, const std::string& model) {
  NodeSpec n;
  n.name = name;
  n.cpu_milli = cpu;
  n.memory_mib = 65536;
  for (int g = 0; g < gpus; ++g) n.gpus.push_back(GpuSpec{model, 0, "", -1});
  return n;
}

TEST(ClusterStateTest, BuildCountsCapacity) {
  ModelTable models;
  auto s = ClusterState::Build(
      {Spec("a", 32000, 2, "T4"), Spec("b", 96000, 8, "V100"), Spec("c", 8000, 0, "")}, models);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->num_gpus(), 10);
  EXPECT_EQ(s->gpu_capacity_milli(), 10000);
  EXPECT_EQ(s->node(1).num_free_gpus, 8);
  EXPECT_EQ(models.Name(s->node(1).model), "V100");
}

TEST(ClusterStateTest, RefusesMixedModelsOnANode) {
  ModelTable models;
  NodeSpec n = Spec("mixed", 1000, 1, "T4");
  n.gpus.push_back(GpuSpec{"V100", 0, "", -1});
  auto s = ClusterState::Build({n}, models);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("mixed"), std::string::npos);
}

TEST(ClusterStateTest, AllocateAndReleaseKeepAggregates) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  const auto v0 = s->node(0).version;
  Allocation share{.node = 0,
                   .gpu_mask = 0b10,
                   .gpu_milli = 300,
                   .cpu_milli = 4000,
                   .memory_mib = 1024,
                   .tag = 1};
  ASSERT_TRUE(s->Allocate(share).ok());
  // GPU1: 1000 - 300 = 700 left; sum 1700; one fully free GPU; CPU 32000 - 4000.
  EXPECT_EQ(s->node(0).gpu_left[1], 700);
  EXPECT_EQ(s->node(0).gpu_left_sum, 1700);
  EXPECT_EQ(s->node(0).num_free_gpus, 1);
  EXPECT_EQ(s->node(0).cpu_left, 28000);
  EXPECT_EQ(s->gpu_allocated_milli(), 300);
  EXPECT_NE(s->node(0).version, v0);
  ASSERT_TRUE(s->Release(share).ok());
  EXPECT_EQ(s->node(0).gpu_left_sum, 2000);
  EXPECT_EQ(s->node(0).num_free_gpus, 2);
  EXPECT_EQ(s->gpu_allocated_milli(), 0);
}

// A node state with the version left out, for "nothing changed but the version" checks.
NodeState NoVersion(NodeState n) {
  n.version = 0;
  return n;
}

bool Contains(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

TEST(ClusterStateTest, OvercommitIsAnErrorAndChangesNothing) {
  ModelTable models;
  NodeSpec spec = Spec("a", 32000, 2, "T4");
  spec.gpus[0].memory_mib = spec.gpus[1].memory_mib = 16384;
  auto s = ClusterState::Build({spec}, models);
  ASSERT_TRUE(s.has_value());
  ASSERT_TRUE(s->Allocate(Allocation{.node = 0,
                                     .gpu_mask = 0b1,
                                     .gpu_milli = 800,
                                     .gpu_memory_mib = 10000,
                                     .cpu_milli = 1000,
                                     .memory_mib = 1000,
                                     .tag = 1})
                  .ok());
  const NodeState before = s->node(0);
  struct Case {
    Allocation a;
    StatusCode code;
    std::string text;
  };
  const Case cases[] = {
      // GPU0: 1000 - 800 = 200 milli left, 300 asked.
      {{.node = 0, .gpu_mask = 0b1, .gpu_milli = 300, .tag = 1},
       StatusCode::kFailedPrecondition,
       "node 0 (a): GPU 0: 300 milli asked, 200 left"},
      // GPU0: 16384 - 10000 = 6384 MiB left, 7000 asked.
      {{.node = 0, .gpu_mask = 0b1, .gpu_milli = 100, .gpu_memory_mib = 7000, .tag = 1},
       StatusCode::kFailedPrecondition,
       "GPU 0: 7000 MiB of GPU memory asked, 6384 left"},
      // 32000 - 1000 = 31000 milli-CPU left.
      {{.node = 0, .cpu_milli = 40000},
       StatusCode::kFailedPrecondition,
       "40000 milli-CPU asked, 31000 left"},
      // 65536 - 1000 = 64536 MiB left.
      {{.node = 0, .memory_mib = 70000},
       StatusCode::kFailedPrecondition,
       "70000 MiB of memory asked, 64536 left"},
      // GPU1 fits but GPU0 does not: nothing is taken from GPU1 either.
      {{.node = 0, .gpu_mask = 0b11, .gpu_milli = 1000, .tag = 4},
       StatusCode::kFailedPrecondition,
       "GPU 0: 1000 milli asked, 200 left"},
      {{.node = 0, .gpu_mask = 0b100, .gpu_milli = 100},
       StatusCode::kInvalidArgument,
       "names GPU 2; the node has 2 GPUs"},
      {{.node = 1, .cpu_milli = 1}, StatusCode::kInvalidArgument, "node 1 out of range"},
      {{.node = -1}, StatusCode::kInvalidArgument, "node -1 out of range"},
      {{.node = 0, .cpu_milli = -5}, StatusCode::kInvalidArgument, "negative amount"},
      {{.node = 0, .gpu_mask = 0b10, .gpu_milli = 1200},
       StatusCode::kInvalidArgument,
       "gpu_milli 1200 is over 1000"},
  };
  for (const Case& c : cases) {
    const Status st = s->Allocate(c.a);
    EXPECT_EQ(st.code(), c.code) << c.text;
    EXPECT_TRUE(Contains(st, c.text)) << st.message();
    EXPECT_EQ(s->node(0), before) << c.text;  // version included: nothing changed
    EXPECT_EQ(s->gpu_allocated_milli(), 800);
  }
}

TEST(ClusterStateTest, ReleasingMoreThanAllocatedIsAnErrorAndChangesNothing) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  const Allocation share{.node = 0,
                         .gpu_mask = 0b10,
                         .gpu_milli = 300,
                         .cpu_milli = 4000,
                         .memory_mib = 1024,
                         .tag = 1};
  ASSERT_TRUE(s->Allocate(share).ok());
  const NodeState before = s->node(0);
  Allocation more_cpu = share;
  more_cpu.cpu_milli = 5000;  // 4000 allocated
  Allocation more_gpu = share;
  more_gpu.gpu_milli = 400;  // 300 allocated on GPU1
  Allocation other_gpu = share;
  other_gpu.gpu_mask = 0b01;  // nothing on GPU0
  Allocation other_tag = share;
  other_tag.tag = 1U << 2;  // no 2-GPU pod on the node
  const std::pair<Allocation, std::string> cases[] = {
      {more_cpu, "5000 milli-CPU given back, 4000 allocated"},
      {more_gpu, "GPU 1: 400 milli given back, 300 allocated"},
      {other_gpu, "GPU 0: 300 milli given back, 0 allocated"},
      {other_tag, "no pod of tag bit 2"},
  };
  for (const auto& [a, text] : cases) {
    const Status st = s->Release(a);
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << text;
    EXPECT_TRUE(Contains(st, text)) << st.message();
    EXPECT_EQ(s->node(0), before) << text;
  }
  ASSERT_TRUE(s->Release(share).ok());
  // A second release of the same pod gives back what is no longer allocated.
  EXPECT_EQ(s->Release(share).code(), StatusCode::kFailedPrecondition);
}

TEST(ClusterStateTest, ReleaseRestoresTheNodeAsIfThePodNeverCame) {
  ModelTable models;
  NodeSpec spec = Spec("a", 64000, 4, "A100");
  for (auto& g : spec.gpus) g.memory_mib = 40960;
  auto s = ClusterState::Build({spec}, models);
  ASSERT_TRUE(s.has_value());
  PodRequest share = Pod(2000, 1, 500);
  share.gpu_memory_mib = 8000;
  ASSERT_TRUE(s->Allocate(MakeAllocation(share, 0, 0b0001)).ok());
  const NodeState with_share = s->node(0);
  EXPECT_EQ(with_share.gpu_tags, 1u);  // bit 0: shared GPU
  const Allocation two = MakeAllocation(Pod(8000, 2, 1000), 0, 0b0110);
  ASSERT_TRUE(s->Allocate(two).ok());
  // Tags: shared (bit 0) and 2 whole GPUs (bit 2) = 0b101; free GPUs: only GPU3.
  EXPECT_EQ(s->node(0).gpu_tags, 0b101u);
  EXPECT_EQ(s->node(0).num_free_gpus, 1);
  ASSERT_TRUE(s->Release(two).ok());
  EXPECT_EQ(NoVersion(s->node(0)), NoVersion(with_share));
  EXPECT_NE(s->node(0).version, with_share.version);
  // Two pods of one tag: the tag stays until the last one leaves.
  ASSERT_TRUE(s->Allocate(MakeAllocation(share, 0, 0b0010)).ok());
  ASSERT_TRUE(s->Release(MakeAllocation(share, 0, 0b0001)).ok());
  EXPECT_EQ(s->node(0).gpu_tags, 1u);
  ASSERT_TRUE(s->Release(MakeAllocation(share, 0, 0b0010)).ok());
  EXPECT_EQ(s->node(0).gpu_tags, 0u);
  // Empty again: GPU memory 40960 each, 4 free GPUs, sum 4000.
  EXPECT_EQ(s->node(0).gpu_memory_left[0], 40960);
  EXPECT_EQ(s->node(0).gpu_memory_left[1], 40960);
  EXPECT_EQ(s->node(0).num_free_gpus, 4);
  EXPECT_EQ(s->node(0).gpu_left_sum, 4000);
  EXPECT_EQ(s->node(0).cpu_left, 64000);
  EXPECT_EQ(s->gpu_allocated_milli(), 0);
}

TEST(ClusterStateTest, VersionsAreUniqueAcrossCopies) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4"), Spec("b", 32000, 2, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  EXPECT_GE(s->node(0).version, 1u);
  EXPECT_NE(s->node(0).version, s->node(1).version);
  ClusterState copy = *s;
  EXPECT_EQ(copy.node(0).version, s->node(0).version);  // same contents, same version
  // Different changes to node 0 of each: once per-node counters would both read v0 + 1.
  ASSERT_TRUE(copy.Allocate(Allocation{.node = 0, .cpu_milli = 1000}).ok());
  ASSERT_TRUE(s->Allocate(Allocation{.node = 0, .cpu_milli = 2000}).ok());
  EXPECT_NE(copy.node(0).version, s->node(0).version);
}

// Every change of a node's version is in the journal, in order; a copy starts a journal of its
// own; a failed change writes nothing.
TEST(ClusterStateTest, TheJournalListsEveryChangedNodeInOrder) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4"), Spec("b", 32000, 2, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  const std::uint64_t start = s->journal_end();
  ASSERT_TRUE(s->Allocate(Allocation{.node = 1, .cpu_milli = 1000}).ok());
  ASSERT_TRUE(s->Allocate(Allocation{.node = 0, .cpu_milli = 1000}).ok());
  ASSERT_FALSE(s->Allocate(Allocation{.node = 0, .cpu_milli = 1'000'000}).ok());  // no change
  ASSERT_TRUE(s->SetSchedulable(1, false).ok());
  ASSERT_TRUE(s->SetSchedulable(1, false).ok());  // already cordoned: no change
  ASSERT_TRUE(s->SetGpuHealthy(0, 1, false).ok());
  ASSERT_TRUE(s->Release(Allocation{.node = 1, .cpu_milli = 1000}).ok());
  std::vector<int> changed;
  for (std::uint64_t p = start; p < s->journal_end(); ++p) changed.push_back(s->journal_node(p));
  EXPECT_EQ(changed, (std::vector<int>{1, 0, 1, 0, 1}));

  ClusterState copy = *s;
  EXPECT_NE(copy.journal_id(), s->journal_id());
  EXPECT_EQ(copy.journal_begin(), copy.journal_end());  // empty
  ASSERT_TRUE(copy.Allocate(Allocation{.node = 0, .cpu_milli = 1000}).ok());
  EXPECT_EQ(copy.journal_end() - copy.journal_begin(), 1u);
  EXPECT_EQ(s->journal_node(s->journal_end() - 1), 1);  // the original's is unchanged
  const std::uint64_t id = s->journal_id();
  ClusterState moved = std::move(*s);
  EXPECT_EQ(moved.journal_id(), id);  // a move keeps the journal
  EXPECT_NE(s->journal_id(), id);  // NOLINT(bugprone-use-after-move): the moved-from gets a new one
  copy = moved;
  EXPECT_NE(copy.journal_id(), moved.journal_id());
}

// The journal keeps a bounded tail: old positions are dropped, positions stay absolute.
TEST(ClusterStateTest, TheJournalDropsItsOldestEntries) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  const std::uint64_t start = s->journal_end();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(s->SetSchedulable(0, i % 2 == 1).ok());
  }
  EXPECT_EQ(s->journal_end() - start, 1000u);
  EXPECT_GT(s->journal_begin(), start);
  EXPECT_LE(s->journal_end() - s->journal_begin(), 4u * 1 + 64);
  EXPECT_EQ(s->journal_node(s->journal_end() - 1), 0);
}

TEST(ClusterStateTest, AddNodeAppendsAndGrowsTheTotals) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  auto i = s->AddNode(Spec("b", 96000, 8, "V100"), models);
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ(*i, 1);
  EXPECT_EQ(s->num_nodes(), 2);
  EXPECT_EQ(s->num_gpus(), 2 + 8);
  EXPECT_EQ(s->gpu_capacity_milli(), 10000);
  EXPECT_EQ(s->node_name(1), "b");
  EXPECT_EQ(models.Name(s->node(1).model), "V100");
  // A refused node changes nothing, the model table included.
  NodeSpec mixed = Spec("m", 1000, 1, "H100");
  mixed.gpus.push_back(GpuSpec{"L4", 0, "", -1});
  auto bad = s->AddNode(mixed, models);
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(Contains(bad.error(), "node m: mixes GPU models H100 and L4"));
  EXPECT_EQ(s->num_nodes(), 2);
  EXPECT_EQ(models.size(), 2);
}

TEST(ClusterStateTest, ACordonedNodeTakesNoWorkButReleases) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  const Allocation a = MakeAllocation(Pod(1000, 1, 1000), 0, 0b01);
  ASSERT_TRUE(s->Allocate(a).ok());
  ASSERT_TRUE(s->SetSchedulable(0, false).ok());
  EXPECT_FALSE(s->node(0).schedulable);
  EXPECT_FALSE(Fits(Pod(1000, 0, 0), s->node(0)));
  const Status refused = s->Allocate(MakeAllocation(Pod(1000, 1, 1000), 0, 0b10));
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(refused, "cordoned"));
  ASSERT_TRUE(s->Release(a).ok());
  EXPECT_EQ(s->node(0).num_free_gpus, 2);
  ASSERT_TRUE(s->SetSchedulable(0, true).ok());
  EXPECT_TRUE(Fits(Pod(1000, 2, 1000), s->node(0)));
  EXPECT_EQ(s->SetSchedulable(3, false).code(), StatusCode::kInvalidArgument);
}

// Each of Fits' checks, in its order, named by WhyNotFits: a 4-GPU T4 node with 32 CPUs and
// 64 GiB, GPU 0 half taken.
TEST(ClusterStateTest, WhyNotFitsNamesTheFirstCheckThatFails) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 4, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  ASSERT_TRUE(s->Allocate(MakeAllocation(Pod(1000, 1, 500), 0, 0b0001)).ok());
  const NodeState& n = s->node(0);
  EXPECT_EQ(WhyNotFits(Pod(1000, 3, 1000), n), Misfit::kFits);  // GPUs 1-3 are free
  EXPECT_EQ(WhyNotFits(Pod(1000, 4, 1000), n), Misfit::kGpus);  // GPU 0 is not whole
  EXPECT_EQ(WhyNotFits(Pod(1000, 4, 500), n), Misfit::kFits);   // but has 500 left
  EXPECT_EQ(WhyNotFits(Pod(1000, 4, 600), n), Misfit::kGpus);
  EXPECT_EQ(WhyNotFits(Pod(1000, 5, 100), n), Misfit::kTooFewGpus);
  EXPECT_EQ(WhyNotFits(Pod(32000, 1, 1000), n), Misfit::kCpu);  // 1 CPU is taken
  PodRequest big_memory = Pod(1000, 1, 1000);
  big_memory.memory_mib = 65536 + 1;
  EXPECT_EQ(WhyNotFits(big_memory, n), Misfit::kMemory);
  PodRequest other_model = Pod(1000, 1, 1000);
  other_model.allowed_models = ModelMask{1} << 5;  // a model id the node's T4 (id 0) is not
  EXPECT_EQ(WhyNotFits(other_model, n), Misfit::kModel);
  PodRequest island = Pod(1000, 2, 1000);
  island.require_nvlink = true;  // the node's islands are unknown
  EXPECT_EQ(WhyNotFits(island, n), Misfit::kIsland);
  ASSERT_TRUE(s->SetSchedulable(0, false).ok());
  EXPECT_EQ(WhyNotFits(Pod(0, 0, 0), s->node(0)), Misfit::kNotSchedulable);
  EXPECT_EQ(MisfitName(Misfit::kTooFewGpus), "too_few_gpus");
}

TEST(ClusterStateTest, AnUnhealthyGpuTakesNoWorkAndKeepsExactBooks) {
  ModelTable models;
  NodeSpec spec = Spec("a", 32000, 2, "T4");
  spec.gpus[0].memory_mib = spec.gpus[1].memory_mib = 16384;
  auto s = ClusterState::Build({spec}, models);
  ASSERT_TRUE(s.has_value());
  const Allocation a{.node = 0,
                     .gpu_mask = 0b01,
                     .gpu_milli = 400,
                     .gpu_memory_mib = 4000,
                     .cpu_milli = 1000,
                     .tag = 1};
  ASSERT_TRUE(s->Allocate(a).ok());
  ASSERT_TRUE(s->SetGpuHealthy(0, 0, false).ok());
  // GPU0 offers nothing: 0 left in the view; GPU1 still 1000. Sum 1000, one free GPU.
  EXPECT_EQ(s->node(0).gpu_left[0], 0);
  EXPECT_EQ(s->node(0).gpu_memory_left[0], 0);
  EXPECT_EQ(s->node(0).gpu_left_sum, 1000);
  EXPECT_EQ(s->node(0).num_free_gpus, 1);
  EXPECT_EQ(s->node(0).unhealthy_gpus, 0b01u);
  EXPECT_EQ(s->gpu_used_milli(0, 0), 400);
  EXPECT_EQ(s->gpu_allocated_milli(), 400);
  EXPECT_FALSE(Fits(Pod(1000, 2, 1000), s->node(0)));
  const Status refused = s->Allocate(Allocation{.node = 0, .gpu_mask = 0b01, .gpu_milli = 100});
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(refused, "GPU 0 is unhealthy"));
  // Its pod leaves: the books drop to 0; the view stays 0 while unhealthy.
  ASSERT_TRUE(s->Release(a).ok());
  EXPECT_EQ(s->gpu_used_milli(0, 0), 0);
  EXPECT_EQ(s->gpu_allocated_milli(), 0);
  EXPECT_EQ(s->node(0).gpu_left[0], 0);
  ASSERT_TRUE(s->SetGpuHealthy(0, 0, true).ok());
  EXPECT_EQ(s->node(0).gpu_left[0], 1000);
  EXPECT_EQ(s->node(0).gpu_memory_left[0], 16384);
  EXPECT_EQ(s->node(0).num_free_gpus, 2);
  EXPECT_EQ(s->node(0).gpu_left_sum, 2000);
  EXPECT_EQ(s->SetGpuHealthy(0, 2, false).code(), StatusCode::kInvalidArgument);
}

TEST(ClusterStateTest, AGpuInMigModeTakesNoWorkWhateverItsHealth) {
  ModelTable models;
  NodeSpec spec = Spec("a", 32000, 3, "A100");
  for (auto& g : spec.gpus) g.memory_mib = 81920;
  spec.gpus[1].mig_enabled = true;
  spec.gpus[1].mig_instances = {{"3g.40gb", 40960, "MIG-1"}, {"4g.40gb", 40960, "MIG-2"}};
  auto s = ClusterState::Build({spec}, models);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  // GPU1 offers nothing; GPUs 0 and 2 offer 1000 each: sum 2000, two free GPUs.
  const NodeState& n = s->node(0);
  EXPECT_EQ(n.gpu_left[1], 0);
  EXPECT_EQ(n.gpu_memory_left[1], 0);
  EXPECT_EQ(n.gpu_left_sum, 2000);
  EXPECT_EQ(n.num_free_gpus, 2);
  EXPECT_EQ(n.unhealthy_gpus, 0b010u);
  // Capacity counts it, as it counts an unhealthy GPU: 3 GPUs, 3000 milli.
  EXPECT_EQ(s->num_gpus(), 3);
  EXPECT_EQ(s->gpu_capacity_milli(), 3000);
  EXPECT_TRUE(s->gpu_in_mig_mode(0, 1));
  EXPECT_FALSE(s->gpu_in_mig_mode(0, 0));
  EXPECT_TRUE(s->gpu_healthy(0, 1));
  // Three whole GPUs do not fit; two do (GPUs 0 and 2); a share does not fit GPU1 alone.
  EXPECT_FALSE(Fits(Pod(1000, 3, 1000), n));
  EXPECT_TRUE(Fits(Pod(1000, 2, 1000), n));
  EXPECT_FALSE(GpuFits(Pod(1000, 1, 100), n, 1));
  const Status refused = s->Allocate(Allocation{.node = 0, .gpu_mask = 0b010, .gpu_milli = 100});
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(refused, "GPU 1 is in MIG mode"));
  // Lost and back: still out of work, as MIG mode is still on.
  ASSERT_TRUE(s->SetGpuHealthy(0, 1, false).ok());
  EXPECT_FALSE(s->gpu_healthy(0, 1));
  ASSERT_TRUE(s->SetGpuHealthy(0, 1, true).ok());
  EXPECT_TRUE(s->gpu_healthy(0, 1));
  EXPECT_EQ(s->node(0).unhealthy_gpus, 0b010u);
  EXPECT_EQ(s->node(0).gpu_left[1], 0);
  EXPECT_EQ(s->node(0).gpu_left_sum, 2000);
  // A healthy-GPU change on a neighbour leaves the MIG bit alone: bits 0 and 1, then bit 1.
  ASSERT_TRUE(s->SetGpuHealthy(0, 0, false).ok());
  EXPECT_EQ(s->node(0).unhealthy_gpus, 0b011u);
  ASSERT_TRUE(s->SetGpuHealthy(0, 0, true).ok());
  EXPECT_EQ(s->node(0).unhealthy_gpus, 0b010u);
  EXPECT_EQ(s->node(0).gpu_left[0], 1000);
}

TEST(ClusterStateTest, RemoveNodeLeavesATombstone) {
  ModelTable models;
  auto s = ClusterState::Build({Spec("a", 32000, 2, "T4"), Spec("b", 32000, 4, "T4")}, models);
  ASSERT_TRUE(s.has_value());
  const Allocation a = MakeAllocation(Pod(1000, 1, 500), 0, 0b01);
  ASSERT_TRUE(s->Allocate(a).ok());
  const Status busy = s->RemoveNode(0);
  EXPECT_EQ(busy.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(busy, "node 0 (a) still holds allocations"));
  EXPECT_EQ(s->num_gpus(), 6);
  ASSERT_TRUE(s->Release(a).ok());
  ASSERT_TRUE(s->RemoveNode(0).ok());
  EXPECT_EQ(s->num_nodes(), 2);  // indices stay
  EXPECT_TRUE(s->node(0).removed);
  EXPECT_FALSE(Fits(Pod(0, 0, 0), s->node(0)));
  // Totals: 6 - 2 = 4 GPUs, 4000 milli.
  EXPECT_EQ(s->num_gpus(), 4);
  EXPECT_EQ(s->gpu_capacity_milli(), 4000);
  EXPECT_EQ(s->RemoveNode(0).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s->SetSchedulable(0, true).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s->Allocate(Allocation{.node = 0}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s->node_name(1), "b");
  EXPECT_TRUE(Fits(Pod(1000, 4, 1000), s->node(1)));
}

TEST(ClusterStateTest, KeepsNvlinkIslandsAsMasks) {
  ModelTable models;
  NodeSpec spec = Spec("dgx", 128000, 8, "H100");
  spec.nvlink_islands = {{0, 1, 2, 3}, {4, 5, 6, 7}};
  auto s = ClusterState::Build({spec, Spec("plain", 1000, 2, "H100")}, models);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->node(0).num_islands, 2);
  EXPECT_EQ(s->node(0).island_masks[0], 0x0Fu);
  EXPECT_EQ(s->node(0).island_masks[1], 0xF0u);
  EXPECT_EQ(s->node(1).num_islands, 0);
  NodeSpec bad = spec;
  bad.nvlink_islands = {{0, 1}, {1, 2}};
  EXPECT_TRUE(Contains(ClusterState::Build({bad}, models).error(), "GPU 1 is in more than one"));
  bad.nvlink_islands = {{0, 8}};
  EXPECT_TRUE(Contains(ClusterState::Build({bad}, models).error(), "names GPU 8"));
  bad.nvlink_islands = std::vector<std::vector<int>>(9, std::vector<int>{});
  EXPECT_TRUE(Contains(ClusterState::Build({bad}, models).error(), "9 NVLink islands"));
  bad.nvlink_islands = {{}};
  EXPECT_TRUE(Contains(ClusterState::Build({bad}, models).error(), "is empty"));
}

TEST(FitsTest, ChecksEveryResourceAndTheModel) {
  const NodeState n = NodeBuilder().Cpu(8000).Gpus(2).Model(1).UsedMilli({1000, 400}).Build();
  // GPU0 full, GPU1 has 600 left; no fully free GPU.
  EXPECT_TRUE(Fits(Pod(8000, 1, 600), n));
  EXPECT_FALSE(Fits(Pod(8000, 1, 601), n));
  EXPECT_FALSE(Fits(Pod(8001, 0, 0), n));         // CPU
  EXPECT_FALSE(Fits(Pod(100, 1, 1000), n));       // no free GPU
  EXPECT_FALSE(Fits(Pod(100, 0, 0, 300000), n));  // memory
  PodRequest constrained = Pod(100, 1, 100);
  constrained.allowed_models = 0b01;  // only model 0; the node is model 1
  EXPECT_FALSE(Fits(constrained, n));
  constrained.allowed_models = 0b10;
  EXPECT_TRUE(Fits(constrained, n));
}

TEST(FitsTest, RequiredNvlinkNeedsTheGpusInsideOneIsland) {
  // Islands {0-3}, {4-7}; GPUs 0, 1 (island 0) and 4, 5 (island 1) taken: 4 GPUs free on the
  // node, but at most 2 in one island.
  const NodeState n = NodeBuilder()
                          .Cpu(64000)
                          .Gpus(8)
                          .Islands({0x0F, 0xF0})
                          .UsedMilli({1000, 1000, 0, 0, 1000, 1000})
                          .Build();
  PodRequest four = Pod(1000, 4, 1000);
  EXPECT_TRUE(Fits(four, n));  // 4 free on the node, islands only a preference
  four.require_nvlink = true;
  EXPECT_FALSE(Fits(four, n));  // 2 + 2 in two islands: no island holds 4
  PodRequest two = Pod(1000, 2, 1000);
  two.require_nvlink = true;
  EXPECT_TRUE(Fits(two, n));  // island 0 has {2, 3}
  PodRequest three = Pod(1000, 3, 1000);
  three.require_nvlink = true;
  EXPECT_FALSE(Fits(three, n));
  EXPECT_EQ(MostFittingInOneIsland(three, n), 2);
  EXPECT_EQ(IslandFitting(three, n, 0), 0x0CU);  // GPUs 2, 3
  EXPECT_EQ(IslandFitting(three, n, 1), 0xC0U);  // GPUs 6, 7

  // Unknown islands: a multi-GPU requirement never fits; one GPU always meets it.
  const NodeState unknown = NodeBuilder().Cpu(64000).Gpus(8).Build();
  EXPECT_FALSE(Fits(two, unknown));
  EXPECT_EQ(MostFittingInOneIsland(two, unknown), 0);
  PodRequest one = Pod(1000, 1, 1000);
  one.require_nvlink = true;
  EXPECT_TRUE(Fits(one, unknown));
  PodRequest share = Pod(1000, 1, 500);
  share.require_nvlink = true;
  EXPECT_TRUE(Fits(share, unknown));
}

}  // namespace
}  // namespace gpupool::cluster

namespace gpupool::cluster {
namespace {

TEST(GpuMemoryTest, RequestsCountGpuMemoryPerGpu) {
  ModelTable models;
  NodeSpec spec;
  spec.name = "h100";
  spec.cpu_milli = 64000;
  spec.memory_mib = 65536;
  spec.gpus.assign(2, GpuSpec{"H100", 81920, "", -1});  // 80 GiB each
  auto s = ClusterState::Build({spec}, models);
  ASSERT_TRUE(s.has_value());
  PodRequest r = testing::Pod(1000, 1, 300);
  r.gpu_memory_mib = 50000;
  ASSERT_TRUE(Fits(r, s->node(0)));
  ASSERT_TRUE(s->Allocate(MakeAllocation(r, 0, 0b01)).ok());
  // GPU0 has 81920 - 50000 = 31920 MiB left: a second 50000 MiB share fits only GPU1, though GPU0
  // has 700 milli left.
  EXPECT_FALSE(GpuFits(r, s->node(0), 0));
  EXPECT_TRUE(GpuFits(r, s->node(0), 1));
  ASSERT_TRUE(s->Allocate(MakeAllocation(r, 0, 0b10)).ok());
  EXPECT_FALSE(Fits(r, s->node(0)));
  // A request without GPU memory still fits on the milli left.
  EXPECT_TRUE(Fits(testing::Pod(1000, 1, 700), s->node(0)));
  // Two whole GPUs of 40000 MiB: no GPU is free any more.
  PodRequest whole = testing::Pod(1000, 2, 1000);
  whole.gpu_memory_mib = 40000;
  EXPECT_FALSE(Fits(whole, s->node(0)));
}

TEST(GpuMemoryTest, UnknownGpuMemoryFitsOnlyRequestsWithoutMemory) {
  const NodeState n = testing::NodeBuilder().Gpus(1).Build();  // gpu_memory_left = 0 (unknown)
  PodRequest r = testing::Pod(1000, 1, 1000);
  EXPECT_TRUE(Fits(r, n));
  r.gpu_memory_mib = 1;
  EXPECT_FALSE(Fits(r, n));
}

}  // namespace
}  // namespace gpupool::cluster

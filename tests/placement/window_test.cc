#include "placement/window.h"

#include <gtest/gtest.h>

#include <vector>

#include "placement/packing_policy.h"
#include "testing/node_builder.h"

namespace gpupool::placement {
namespace {
using testing::Pod;

TEST(PlaceWindowTest, CommitsEachPlacedPodWithItsIndexInArrivalOrder) {
  cluster::ModelTable models;
  std::vector<cluster::NodeSpec> specs(2);
  for (auto& s : specs) {
    s.name = "n";
    s.cpu_milli = 8000;
    s.memory_mib = 65536;
    s.gpus.assign(2, cluster::GpuSpec{"G2", 0, "", -1});
  }
  auto state = *cluster::ClusterState::Build(specs, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 3);
  // Pod 1 asks for 3 GPUs of 2-GPU nodes: it fits nowhere and is not committed.
  const std::vector<cluster::PodRequest> window = {Pod(1000, 1, 500), Pod(1000, 3, 1000),
                                                   Pod(2000, 2, 1000)};
  std::vector<int> shapes;
  for (const auto& r : window) shapes.push_back(placer.ShapeId(r));
  std::vector<std::size_t> indices;
  PlaceWindow(
      placer, window, shapes, WindowTiming{}, state,
      [&](std::size_t i, const cluster::Allocation& a) {
        EXPECT_EQ(a.cpu_milli, window[i].cpu_milli);
        ASSERT_TRUE(state.Allocate(a).ok());
        indices.push_back(i);
      },
      [](std::size_t i) { ADD_FAILURE() << "pod " << i << " deferred with max_wait 1"; });
  EXPECT_EQ(indices, (std::vector<std::size_t>{0, 2}));
}

// A policy without its own window rule batches: the window waits until it holds max_wait pods
// (its oldest pod's wait is up), or until flush, then is placed whole.
TEST(PlaceWindowTest, OtherPoliciesWaitForAFullWindow) {
  cluster::ModelTable models;
  std::vector<cluster::NodeSpec> specs(1);
  specs[0].name = "n";
  specs[0].cpu_milli = 8000;
  specs[0].memory_mib = 65536;
  specs[0].gpus.assign(4, cluster::GpuSpec{"G2", 0, "", -1});
  auto state = *cluster::ClusterState::Build(specs, models);
  PackingPolicy policy;
  Placer placer(policy, state.num_nodes(), 3);
  const std::vector<cluster::PodRequest> window = {Pod(1000, 1, 500), Pod(1000, 1, 500)};
  const std::vector<int> shapes = {placer.ShapeId(window[0]), placer.ShapeId(window[0])};
  auto call = [&](const WindowTiming& t) {
    std::vector<std::size_t> placed, deferred;
    PlaceWindow(
        placer, window, shapes, t, state,
        [&](std::size_t i, const cluster::Allocation& a) {
          ASSERT_TRUE(state.Allocate(a).ok());
          placed.push_back(i);
        },
        [&](std::size_t i) { deferred.push_back(i); });
    return std::pair{placed, deferred};
  };
  const std::vector<int> two_of_three = {1, 0};
  auto [p1, d1] = call(WindowTiming{two_of_three, 3, false});
  EXPECT_TRUE(p1.empty());
  EXPECT_EQ(d1, (std::vector<std::size_t>{0, 1}));
  auto [p2, d2] = call(WindowTiming{two_of_three, 3, true});  // flush
  EXPECT_EQ(p2, (std::vector<std::size_t>{0, 1}));
  EXPECT_TRUE(d2.empty());
  const std::vector<int> full = {2, 1};  // the oldest has waited max_wait - 1
  auto [p3, d3] = call(WindowTiming{full, 3, false});
  EXPECT_EQ(p3, (std::vector<std::size_t>{0, 1}));
  EXPECT_TRUE(d3.empty());
}

}  // namespace
}  // namespace gpupool::placement

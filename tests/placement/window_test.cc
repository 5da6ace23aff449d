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
  PlaceWindow(placer, window, shapes, state, [&](std::size_t i, const cluster::Allocation& a) {
    EXPECT_EQ(a.cpu_milli, window[i].cpu_milli);
    ASSERT_TRUE(state.Allocate(a).ok());
    indices.push_back(i);
  });
  EXPECT_EQ(indices, (std::vector<std::size_t>{0, 2}));
}

}  // namespace
}  // namespace gpupool::placement

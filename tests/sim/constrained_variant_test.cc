#include "sim/constrained_variant.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cluster/cluster_state.h"
#include "sim/openb_trace.h"
#include "testing/node_builder.h"

namespace gpupool::sim {
namespace {
using testing::Pod;

// Nodes of model A with 3 GPUs each and of model B with 1 GPU (so A holds 3/4 of the GPUs),
// `gpu_pods` one-GPU pods of 500 milli and `cpu_pods` CPU-only pods.
FillInput Input(int gpu_pods, int cpu_pods) {
  FillInput in;
  in.trace_name = "t";
  for (int i = 0; i < 10; ++i) {
    cluster::NodeSpec a;
    a.name = "a" + std::to_string(i);
    a.cpu_milli = 64000;
    a.memory_mib = 1 << 20;
    a.gpus.assign(3, cluster::GpuSpec{"A", 0, "", -1});
    in.nodes.push_back(a);
    cluster::NodeSpec b = a;
    b.name = "b" + std::to_string(i);
    b.gpus.assign(1, cluster::GpuSpec{"B", 0, "", -1});
    in.nodes.push_back(b);
  }
  EXPECT_TRUE(cluster::ClusterState::Build(in.nodes, in.models).has_value());
  for (int i = 0; i < gpu_pods + cpu_pods; ++i) {
    TracePod p;
    p.name = "p" + std::to_string(i);
    p.request = i < gpu_pods ? Pod(1000, 1, 500) : Pod(1000, 0, 0);
    in.pods.push_back(p);
  }
  return in;
}

int Constrained(const FillInput& in) {
  int n = 0;
  for (const auto& p : in.pods) n += p.request.allowed_models != cluster::kAnyModel ? 1 : 0;
  return n;
}

TEST(ConstrainVariantTest, TiesExactlyTheShareOfGpuPodsAndNoCpuPod) {
  const FillInput in = Input(1000, 500);
  ConstrainOptions opt;
  opt.share = 0.25;
  auto v = ConstrainVariant(in, opt);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(Constrained(*v), 250);  // round(0.25 x 1000)
  for (const auto& p : v->pods) {
    if (p.request.num_gpu == 0) {
      EXPECT_EQ(p.request.allowed_models, cluster::kAnyModel);
    }
    EXPECT_EQ(p.spec_key.empty(), p.request.allowed_models == cluster::kAnyModel) << p.name;
  }
  EXPECT_EQ(v->trace_name, "t-spec25-d1");
  opt.share = 0;
  EXPECT_EQ(Constrained(*ConstrainVariant(in, opt)), 0);
  opt.share = 1;
  EXPECT_EQ(Constrained(*ConstrainVariant(in, opt)), 1000);
}

// By the model mix: A holds 30 of the 40 GPUs, so about 3/4 of the constrained pods get A (2,000
// pods: standard deviation of the share 0.0097; 4 of them allowed). Uniformly: about 1/2.
TEST(ConstrainVariantTest, ModelsFollowTheClusterMixOrAreUniform) {
  const FillInput in = Input(4000, 0);
  ConstrainOptions opt;
  opt.share = 0.5;
  opt.second_model_share = 0;
  const cluster::ModelId a = *in.models.Find("A");
  for (const bool uniform : {false, true}) {
    opt.uniform_models = uniform;
    auto v = ConstrainVariant(in, opt);
    ASSERT_TRUE(v.has_value());
    int on_a = 0;
    for (const auto& p : v->pods) {
      if (p.request.allowed_models == cluster::kAnyModel) continue;
      EXPECT_EQ(std::popcount(p.request.allowed_models), 1);
      on_a += cluster::ModelAllowed(p.request.allowed_models, a) ? 1 : 0;
    }
    EXPECT_NEAR(on_a / 2000.0, uniform ? 0.5 : 0.75, 0.04) << (uniform ? "uniform" : "mix");
  }
}

TEST(ConstrainVariantTest, SecondModelsAndDrawsAreReproducible) {
  const FillInput in = Input(1000, 0);
  ConstrainOptions opt;
  opt.share = 0.4;
  opt.second_model_share = 1;
  auto v = ConstrainVariant(in, opt);
  ASSERT_TRUE(v.has_value());
  for (const auto& p : v->pods) {
    if (p.request.allowed_models == cluster::kAnyModel) continue;
    EXPECT_EQ(std::popcount(p.request.allowed_models), 2) << p.name;  // A|B or B|A
    EXPECT_TRUE(p.spec_key == "A|B" || p.spec_key == "B|A") << p.spec_key;
  }
  auto again = ConstrainVariant(in, opt);
  opt.draw = 2;
  auto other = ConstrainVariant(in, opt);
  std::vector<bool> first, second, third;
  for (std::size_t i = 0; i < in.pods.size(); ++i) {
    first.push_back(v->pods[i].spec_key.empty());
    second.push_back(again->pods[i].spec_key.empty());
    third.push_back(other->pods[i].spec_key.empty());
  }
  EXPECT_EQ(first, second);
  EXPECT_NE(first, third);
}

// A pod is only tied to models whose nodes could hold it: a 2-GPU pod never gets B (1-GPU nodes).
TEST(ConstrainVariantTest, NeverMakesAPodImpossible) {
  FillInput in = Input(0, 0);
  for (int i = 0; i < 200; ++i) in.pods.push_back(TracePod{"m", Pod(1000, 2, 1000), "", 0});
  ConstrainOptions opt;
  opt.share = 1;
  auto v = ConstrainVariant(in, opt);
  ASSERT_TRUE(v.has_value());
  for (const auto& p : v->pods) EXPECT_EQ(p.spec_key, "A");
}

TEST(ConstrainVariantTest, RejectsAShareOutsideZeroToOne) {
  ConstrainOptions opt;
  opt.share = 1.5;
  auto v = ConstrainVariant(Input(10, 0), opt);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
}

// The written pod list reads back to the same requests and specs.
TEST(ConstrainVariantTest, WrittenListReadsBack) {
  const FillInput in = Input(300, 100);
  ConstrainOptions opt;
  opt.share = 0.5;
  auto v = ConstrainVariant(in, opt);
  ASSERT_TRUE(v.has_value());
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("gp_constrained_" + std::to_string(getpid()) + ".csv"))
                               .string();
  ASSERT_TRUE(WriteOpenbPods(path, v->pods).ok());
  auto back = LoadOpenbPods(path, v->models);
  std::filesystem::remove(path);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  ASSERT_EQ(back->size(), v->pods.size());
  for (std::size_t i = 0; i < back->size(); ++i) {
    EXPECT_EQ((*back)[i].name, v->pods[i].name);
    EXPECT_EQ((*back)[i].spec_key, v->pods[i].spec_key);
    EXPECT_EQ((*back)[i].request.allowed_models, v->pods[i].request.allowed_models);
    EXPECT_EQ((*back)[i].request.gpu_milli, v->pods[i].request.gpu_milli);
    EXPECT_EQ((*back)[i].request.cpu_milli, v->pods[i].request.cpu_milli);
  }
}

}  // namespace
}  // namespace gpupool::sim

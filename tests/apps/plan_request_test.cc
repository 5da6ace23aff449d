// The planner's job request reaches the scheduler: `gpupool plan infer|train ... --emit-request`
// is read by cluster::ParseJobRequest and fits a cluster that has the GPUs it names; a plan wider
// than a node comes out as a gang of one replica per node.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "cluster/cluster_state.h"
#include "cluster/job_request.h"
#include "testing/run_program.h"

namespace gpupool {
namespace {

// stdout of `gpupool ARGS` (split at spaces); stderr is dropped, as the request goes to stdout.
std::string Capture(const std::string& args, int* code) {
  testing::ProgramRun run = testing::RunGpupool(testing::Words(args));
  *code = run.exit_code;
  return std::move(run.out);
}

cluster::NodeSpec Node(const std::string& name, const std::string& model, std::int64_t gpu_mib) {
  cluster::NodeSpec n;
  n.name = name;
  n.cpu_milli = 128000;
  n.memory_mib = 1 << 20;
  n.gpus.assign(8, cluster::GpuSpec{model, gpu_mib, "", -1});
  return n;
}

TEST(PlanRequestTest, EmittedRequestIsPlacedOnTheGpusItNames) {
  int code = 0;
  const std::string out = Capture(
      "plan infer --model llama-3-70b --precision fp8 --gpu h100 --tp 4 --emit-request", &code);
  ASSERT_EQ(code, 0) << out;
  cluster::ModelTable models;
  auto state = cluster::ClusterState::Build(
      {Node("a100", "A100-SXM-80GB", 81920), Node("h100", "H100-SXM", 81920)}, models);
  ASSERT_TRUE(state.has_value());
  auto r = cluster::ParseJobRequest(nlohmann::json::parse(out), models);
  ASSERT_TRUE(r.has_value()) << r.error().ToString() << "\n" << out;
  // One replica (tp 4 fits an 8-GPU node, so no "replicas" member) of 4 whole H100s, each with
  // the memory the plan needs (well under 80 GiB for 70B fp8 on 4 GPUs).
  EXPECT_FALSE(nlohmann::json::parse(out).contains("replicas")) << out;
  EXPECT_EQ(r->replicas, 1);
  const cluster::PodRequest& pod = r->replica;
  EXPECT_EQ(pod.num_gpu, 4);
  EXPECT_EQ(pod.gpu_milli, 1000);
  EXPECT_GT(pod.gpu_memory_mib,
            17 * 1024);  // 70.6B params x 1 byte / 4 GPUs = 16.4 GiB of weights alone
  EXPECT_LT(pod.gpu_memory_mib, 81920);
  EXPECT_FALSE(cluster::Fits(pod, state->node(0)));  // A100: not an allowed model
  EXPECT_TRUE(cluster::Fits(pod, state->node(1)));
}

TEST(PlanRequestTest, SixtyFourGpuPlanIsAGangOfEightNodes) {
  // The README's training plan: 64 H100 as tp 8 x pp 4 x dp 2 on 8-GPU nodes (the default).
  const std::string plan =
      "plan train --model llama-3-70b --precision bf16 --gpu h100 --gpus 64 --tp 8 --pp 4 "
      "--dp 2 --zero 1 --recompute selective --micro-batch 1 --global-batch 512 --seq 8192";
  int code = 0;
  const std::string out = Capture(plan + " --emit-request", &code);
  ASSERT_EQ(code, 0) << out;
  const std::string estimate = Capture(plan + " --json", &code);
  ASSERT_EQ(code, 0) << estimate;
  const double gib = nlohmann::json::parse(estimate)["memory_gib_per_gpu"]["total"].get<double>();

  const auto j = nlohmann::json::parse(out);
  // 64 GPUs / 8 per node = 8 replicas of 8 GPUs; each TP group of 8 is one whole node.
  EXPECT_EQ(j["replicas"], 8) << out;
  EXPECT_EQ(j["num_gpu"], 8) << out;
  // Per GPU, the same in every replica: the heaviest stage's need (~44.1 GiB) rounded up to a MiB.
  EXPECT_EQ(j["gpu_memory_mib"].get<std::int64_t>(),
            static_cast<std::int64_t>(std::ceil(gib * 1024.0)))
      << out;
  EXPECT_FALSE(j.contains("cpu_milli")) << out;  // the planner asks no CPU or host memory

  cluster::ModelTable models;
  std::vector<cluster::NodeSpec> nodes;
  for (int i = 0; i < 8; ++i) nodes.push_back(Node("h100-" + std::to_string(i), "H100-SXM", 81920));
  auto state = cluster::ClusterState::Build(nodes, models);
  ASSERT_TRUE(state.has_value());
  auto r = cluster::ParseJobRequest(j, models);
  ASSERT_TRUE(r.has_value()) << r.error().ToString() << "\n" << out;
  EXPECT_EQ(r->replicas, 8);
  EXPECT_EQ(r->replica.num_gpu, 8);
  EXPECT_EQ(r->replica.gpu_milli, 1000);
  EXPECT_EQ(r->total_gpus(), 64);  // 8 x 8: the plan's 64 GPUs
  // Each replica takes one whole 8 x H100 node (80 GiB = 81920 MiB > the ~45,140 MiB = 44.1 GiB
  // asked per GPU).
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(cluster::Fits(r->replica, state->node(i))) << i;
}

TEST(PlanRequestTest, ServingWiderThanANodeIsSplitAcrossNodes) {
  // tp 16 on 8-GPU nodes: 16 / 8 = 2 replicas of 8 (the request cannot ask 16 GPUs of one node).
  int code = 0;
  const std::string out =
      Capture("plan infer --model llama-3-70b --gpu h100 --tp 16 --emit-request", &code);
  ASSERT_EQ(code, 0) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["replicas"], 2) << out;
  EXPECT_EQ(j["num_gpu"], 8) << out;
}

}  // namespace
}  // namespace gpupool

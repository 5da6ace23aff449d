// The planner's job request reaches the scheduler: `gpupool plan infer ... --emit-request` is
// read by cluster::ParseJobRequest and placed on a cluster that has the GPUs it names.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cluster/cluster_state.h"
#include "cluster/job_request.h"

namespace gpupool {
namespace {

std::string Capture(const std::string& args, int* code) {
  const std::string cmd = std::string(GPUPOOL_BINARY) + " " + args;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (p != nullptr && std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  const int status = p != nullptr ? pclose(p) : -1;
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
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
  // 4 whole H100s, each with the memory the plan needs (well under 80 GiB for 70B fp8 on 4 GPUs).
  EXPECT_EQ(r->num_gpu, 4);
  EXPECT_EQ(r->gpu_milli, 1000);
  EXPECT_GT(r->gpu_memory_mib,
            17 * 1024);  // 70.6B params x 1 byte / 4 GPUs = 16.4 GiB of weights alone
  EXPECT_LT(r->gpu_memory_mib, 81920);
  EXPECT_FALSE(cluster::Fits(*r, state->node(0)));  // A100: not an allowed model
  EXPECT_TRUE(cluster::Fits(*r, state->node(1)));
}

}  // namespace
}  // namespace gpupool

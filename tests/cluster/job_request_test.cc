#include "cluster/job_request.h"

#include <gtest/gtest.h>

namespace gpupool::cluster {
namespace {

ModelTable Models() {
  ModelTable t;
  (void)t.Intern("A100-SXM-80GB");
  (void)t.Intern("H100-SXM");
  return t;
}

TEST(JobRequestTest, ParsesThePlannersRequest) {
  auto r = ParseJobRequest(
      nlohmann::json::parse(
          R"({"gpu_memory_mib":19769,"gpu_milli":1000,"gpu_models":["H100-SXM"],"num_gpu":4})"),
      Models());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->replicas, 1);  // no "replicas": the single pod of before gangs
  EXPECT_EQ(r->replica.num_gpu, 4);
  EXPECT_EQ(r->replica.gpu_milli, 1000);
  EXPECT_EQ(r->replica.gpu_memory_mib, 19769);
  EXPECT_EQ(r->replica.allowed_models, ModelMask{1} << 1);  // H100-SXM is model 1
  EXPECT_EQ(r->total_gpus(), 4);
}

TEST(JobRequestTest, ReadsAGangWithPerReplicaMembers) {
  auto r = ParseJobRequest(nlohmann::json::parse(R"({"replicas":8,"num_gpu":8,"gpu_milli":1000,
          "gpu_models":["H100-SXM"],"gpu_memory_mib":61000,"cpu_milli":96000,"memory_mib":1048576})"),
                           Models());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->replicas, 8);
  EXPECT_EQ(r->replica.num_gpu, 8);
  EXPECT_EQ(r->replica.gpu_memory_mib, 61000);  // per GPU, not divided by the replicas
  EXPECT_EQ(r->replica.cpu_milli, 96000);       // per replica
  EXPECT_EQ(r->replica.memory_mib, 1048576);
  EXPECT_EQ(r->total_gpus(), 64);  // 8 replicas x 8 GPUs
  // The largest gang: 4096 one-GPU replicas.
  auto big = ParseJobRequest(nlohmann::json::parse(R"({"replicas":4096,"num_gpu":1})"), Models());
  ASSERT_TRUE(big.has_value()) << big.error().ToString();
  EXPECT_EQ(big->total_gpus(), 4096);
}

TEST(JobRequestTest, DefaultsAndSharedRequests) {
  auto whole = ParseJobRequest(nlohmann::json::parse(R"({"num_gpu":2})"), Models());
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->replica.gpu_milli, 1000);
  EXPECT_EQ(whole->replica.allowed_models, kAnyModel);
  auto shared = ParseJobRequest(
      nlohmann::json::parse(R"({"num_gpu":1,"gpu_milli":250,"cpu_milli":4000})"), Models());
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->replica.shape(), PodShape::kSharedGpu);
  EXPECT_EQ(shared->replica.cpu_milli, 4000);
}

TEST(JobRequestTest, ErrorsNameTheMember) {
  struct Case {
    const char* json;
    const char* prefix;
  } cases[] = {
      {R"({"gpu_milli":500})", "num_gpu: missing"},
      {R"({"num_gpu":"4"})", "num_gpu: expected an integer"},
      {R"({"num_gpu":2,"gpu_milli":500})", "gpu_milli: a 2-GPU pod must take whole GPUs"},
      {R"({"num_gpu":1,"gpu_models":["H100-SXM","H300"]})",
       "gpu_models[1]: unknown GPU model 'H300'"},
      {R"({"num_gpu":1,"gpu_mem":5})", "gpu_mem: unknown member"},
      {R"({"num_gpu":1,"gpu_milli":1500})", "gpu_milli: 1500 is not between 0 and 1000"},
      {R"([1,2])", "request: expected a JSON object"},
      {R"({"num_gpu":17})", "num_gpu: 17 is not between 0 and 16"},  // per replica
      {R"({"num_gpu":8,"replicas":0})", "replicas: 0 is not between 1 and 4096"},
      {R"({"num_gpu":8,"replicas":-2})", "replicas: -2 is not between 1 and 4096"},
      {R"({"num_gpu":1,"replicas":4097})", "replicas: 4097 is not between 1 and 4096"},
      {R"({"num_gpu":8,"replicas":2.5})", "replicas: expected an integer, got 2.5"},
      {R"({"num_gpu":8,"replicas":"8"})", "replicas: expected an integer, got \"8\""},
      {R"({"num_gpu":8,"replica":8})", "replica: unknown member"},
  };
  for (const auto& c : cases) {
    auto r = ParseJobRequest(nlohmann::json::parse(c.json), Models());
    ASSERT_FALSE(r.has_value()) << c.json;
    EXPECT_EQ(r.error().message().rfind(c.prefix, 0), 0u) << r.error().message();
  }
}

TEST(JobRequestTest, SplitsAPlanIntoOneReplicaPerNode) {
  struct Case {
    int gpus, per_node, keep_together;
    GangShape want;
  } cases[] = {
      {64, 8, 8, {8, 8}},       // 64 / 8 = 8 nodes of 8
      {4, 8, 4, {1, 4}},        // fits one node: one replica of 4
      {8, 8, 8, {1, 8}},        // exactly one node
      {16, 8, 16, {2, 8}},      // TP 16 is wider than a node: groups of min(16, 8) = 8 -> 2 x 8
      {12, 8, 4, {3, 4}},       // 8 and 6 do not keep TP 4 whole (12 % 8 != 0; 6 % 4 != 0) -> 3 x 4
      {12, 8, 1, {2, 6}},       // nothing to keep together: largest divisor of 12 up to 8 is 6
      {24, 16, 8, {3, 8}},      // 16 does not divide 24; 12 does but 12 % 8 != 0 (cuts TP 8) -> 8
      {12, 8, 12, {2, 6}},      // group min(12, 8) = 8 divides nothing of 12 -> fallback 6 -> 2 x 6
      {13, 8, 1, {13, 1}},      // prime: one GPU per node
      {4096, 1, 1, {4096, 1}},  // the most replicas
  };
  for (const auto& c : cases) {
    auto got = SplitIntoGang(c.gpus, c.per_node, c.keep_together);
    ASSERT_TRUE(got.has_value()) << c.gpus << " " << got.error().ToString();
    EXPECT_EQ(*got, c.want) << c.gpus << " on " << c.per_node << " keeping " << c.keep_together
                            << ": got " << got->replicas << " x " << got->gpus_per_replica;
    EXPECT_EQ(got->replicas * got->gpus_per_replica, c.gpus);
  }
}

TEST(JobRequestTest, SplitRefusesWhatNoRequestCanSay) {
  struct Case {
    int gpus, per_node, keep_together;
    const char* message;
  } cases[] = {
      {0, 8, 1, "gpus: 0 is not positive"},
      {8, 0, 1, "gpus per node: 0 is not between 1 and 16 (the most GPUs a scheduler node holds)"},
      {144, 72, 8,
       "gpus per node: 72 is not between 1 and 16 (the most GPUs a scheduler node holds)"},
      {8, 8, 0, "GPUs kept together: 0 is not positive"},
      // 65536 / 8 = 8192 replicas > 4096
      {65536, 8, 8, "replicas: 65536 GPUs at 8 per node make 8192 replicas, more than 4096"},
  };
  for (const auto& c : cases) {
    auto got = SplitIntoGang(c.gpus, c.per_node, c.keep_together);
    ASSERT_FALSE(got.has_value()) << c.gpus;
    EXPECT_EQ(got.error().message(), c.message);
  }
}

}  // namespace
}  // namespace gpupool::cluster

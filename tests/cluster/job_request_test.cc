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
  EXPECT_EQ(r->num_gpu, 4);
  EXPECT_EQ(r->gpu_milli, 1000);
  EXPECT_EQ(r->gpu_memory_mib, 19769);
  EXPECT_EQ(r->allowed_models, ModelMask{1} << 1);  // H100-SXM is model 1
}

TEST(JobRequestTest, DefaultsAndSharedRequests) {
  auto whole = ParseJobRequest(nlohmann::json::parse(R"({"num_gpu":2})"), Models());
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->gpu_milli, 1000);
  EXPECT_EQ(whole->allowed_models, kAnyModel);
  auto shared = ParseJobRequest(
      nlohmann::json::parse(R"({"num_gpu":1,"gpu_milli":250,"cpu_milli":4000})"), Models());
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->shape(), PodShape::kSharedGpu);
  EXPECT_EQ(shared->cpu_milli, 4000);
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
  };
  for (const auto& c : cases) {
    auto r = ParseJobRequest(nlohmann::json::parse(c.json), Models());
    ASSERT_FALSE(r.has_value()) << c.json;
    EXPECT_EQ(r.error().message().rfind(c.prefix, 0), 0u) << r.error().message();
  }
}

}  // namespace
}  // namespace gpupool::cluster

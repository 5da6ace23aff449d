#include "server/job_spec.h"

#include <gtest/gtest.h>

namespace gpupool::server {
namespace {

using nlohmann::json;

const std::vector<std::string> kModels = {"H100-SXM", "H100-PCIe", "L40S"};

TEST(JobSpecTest, DefaultsAreFilledIn) {
  auto s = ParseSubmission(json{{"command", {"/usr/bin/python3", "x.py"}}}, kModels, false);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->name, "python3");
  EXPECT_EQ(s->num_gpu, 0);
  EXPECT_EQ(s->gpu_milli, 0);
  EXPECT_EQ(s->cpu_milli, 1000);
  EXPECT_EQ(s->memory_mib, 1024);
  EXPECT_EQ(s->replicas, 1);
  EXPECT_EQ(s->queue, "default");
}

TEST(JobSpecTest, GpusIsWholeCountOrAShareInThousandths) {
  struct Row {
    double gpus;
    int num_gpu, milli;
  };
  // 0.5 -> 1 GPU at 500; 0.001 -> 1 at 1; 3 -> 3 at 1000; 0 -> none.
  for (const Row& r : {Row{0.5, 1, 500}, Row{0.001, 1, 1}, Row{3, 3, 1000}, Row{0, 0, 0}}) {
    auto s = ParseSubmission(json{{"command", {"true"}}, {"gpus", r.gpus}}, kModels, false);
    ASSERT_TRUE(s.has_value()) << r.gpus;
    EXPECT_EQ(s->num_gpu, r.num_gpu) << r.gpus;
    EXPECT_EQ(s->gpu_milli, r.milli) << r.gpus;
  }
  auto bad = ParseSubmission(json{{"command", {"true"}}, {"gpus", 0.0005}}, kModels, false);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "gpus: 0.0005 is not a multiple of 0.001");
}

TEST(JobSpecTest, ModelsMatchIgnoringCaseOrAsAFamilyPrefix) {
  auto s = ParseSubmission(
      json{{"command", {"true"}}, {"gpus", 1}, {"gpu_models", {"h100", "l40s"}}}, kModels, false);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->gpu_models, (std::vector<std::string>{"H100-PCIe", "H100-SXM", "L40S"}));
  auto none = ParseSubmission(json{{"command", {"true"}}, {"gpus", 1}, {"gpu_models", {"H10"}}},
                              kModels, false);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().member, "gpu_models[0]");
}

TEST(JobSpecTest, TopologyIsAnyOrNvlinkAndReachesTheRequest) {
  // Absent: "any" (no rule); "nvlink": require_nvlink in the spec, the store format and the
  // scheduler's request.
  auto plain = ParseSubmission(json{{"command", {"true"}}, {"gpus", 4}}, kModels, false);
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->require_nvlink);
  EXPECT_EQ(SpecToJson(*plain)["resources"]["topology"], "any");
  auto s = ParseSubmission(json{{"command", {"true"}}, {"gpus", 4}, {"topology", "nvlink"}},
                           kModels, false);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_TRUE(s->require_nvlink);
  EXPECT_EQ(SpecToJson(*s)["resources"]["topology"], "nvlink");
  auto back = SpecFromJson(SpecToJson(*s));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *s);
  cluster::ModelTable table;
  auto r = ToJobRequest(*s, table);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->replica.require_nvlink);
  EXPECT_FALSE(ToJobRequest(*plain, table)->replica.require_nvlink);
  // What a version before topology stored (no "topology" in resources) reads as "any".
  json old = SpecToJson(*s);
  old["resources"].erase("topology");
  ASSERT_TRUE(SpecFromJson(old).has_value());
  EXPECT_FALSE(SpecFromJson(old)->require_nvlink);

  // A bad value or type names the member.
  auto bad = ParseSubmission(json{{"command", {"true"}}, {"gpus", 4}, {"topology", "NVLink4"}},
                             kModels, false);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().member, "topology");
  EXPECT_EQ(bad.error().message, "topology: 'NVLink4' is not a topology (known: any, nvlink)");
  auto wrong =
      ParseSubmission(json{{"command", {"true"}}, {"gpus", 4}, {"topology", true}}, kModels, false);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().member, "topology");
  EXPECT_EQ(wrong.error().message, "topology: must be a string, not boolean");
}

TEST(JobSpecTest, SpecRoundTripsThroughTheStoreFormatAndMapsToARequest) {
  auto s = ParseSubmission(json{{"command", {"sh", "-c", "x"}},
                                {"env", {{"B", "2"}, {"A", "1"}}},
                                {"gpus", 0.25},
                                {"gpu_memory_mib", 20480},
                                {"gpu_models", {"L40S"}},
                                {"replicas", 2},
                                {"priority", -3},
                                {"time_limit_s", 60},
                                {"requeue", true}},
                           kModels, false);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->env, (std::vector<std::pair<std::string, std::string>>{{"A", "1"}, {"B", "2"}}));
  auto back = SpecFromJson(SpecToJson(*s));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *s);
  cluster::ModelTable table;
  for (const auto& m : kModels) ASSERT_TRUE(table.Intern(m).has_value());
  auto r = ToJobRequest(*s, table);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->replica.num_gpu, 1);
  EXPECT_EQ(r->replica.gpu_milli, 250);
  EXPECT_EQ(r->replica.gpu_memory_mib, 20480);
  EXPECT_EQ(r->replica.allowed_models, cluster::ModelMask{1} << 2);  // L40S is id 2
  EXPECT_EQ(r->replicas, 2);
  EXPECT_EQ(r->priority, -3);
  EXPECT_DOUBLE_EQ(GpusValue(*s), 0.25);
}

}  // namespace
}  // namespace gpupool::server

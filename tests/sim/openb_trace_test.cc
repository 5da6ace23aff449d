#include "sim/openb_trace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace gpupool::sim {
namespace {

class OpenbTraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        ("gpupool_trace_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    models_.Intern("T4").value();
    models_.Intern("V100M16").value();
    models_.Intern("V100M32").value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const auto p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }

  std::filesystem::path dir_;
  cluster::ModelTable models_;
};

const char* kHeader11 =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_"
    "time,scheduled_time\n";

TEST_F(OpenbTraceTest, LoadsElevenColumnFormWithSpecs) {
  const auto p =
      Write("pods.csv", std::string(kHeader11) +
                            "p0,12000,16384,1,1000,,LS,Running,0,1,0\n"
                            "p1,6000,12288,1,460,V100M16|V100M32|V100M32,LS,Running,0,1,0\n"
                            "p2,88000,327680,8,1000,nan,Burstable,Succeeded,0,1,0\n"
                            "p3,4000,100,0,0,,BE,Running,0,1,0\n");
  auto pods = LoadOpenbPods(p, models_);
  ASSERT_TRUE(pods.has_value()) << pods.error().ToString();
  ASSERT_EQ(pods->size(), 4u);
  EXPECT_EQ((*pods)[1].request.gpu_milli, 460);
  // V100M16 is model 1, V100M32 model 2 -> mask 0b110; the key keeps the duplicate.
  EXPECT_EQ((*pods)[1].request.allowed_models, 0b110u);
  EXPECT_EQ((*pods)[1].spec_key, "V100M16|V100M32|V100M32");
  EXPECT_EQ((*pods)[2].request.num_gpu, 8);
  EXPECT_EQ((*pods)[2].request.allowed_models, 0u);  // "nan" = any
  EXPECT_EQ((*pods)[3].line, 5);
}

TEST_F(OpenbTraceTest, ReadsTheTimesOfTheElevenColumnForm) {
  const auto p = Write("times.csv", std::string(kHeader11) +
                                        "p0,1000,100,1,500,,LS,Running,10,500,12\n"
                                        "p1,1000,100,1,500,,LS,Pending,20,300,\n"
                                        "p2,1000,100,1,500,,LS,Running,30,20,30\n");
  auto pods = LoadOpenbPods(p, models_);
  ASSERT_FALSE(pods.has_value());  // p2 is deleted before it was created
  EXPECT_EQ(pods.error().message(), p + ":4: deletion_time: 20 is before creation_time 30");
  const auto q = Write("times2.csv", std::string(kHeader11) +
                                         "p0,1000,100,1,500,,LS,Running,10,500,12\n"
                                         "p1,1000,100,1,500,,LS,Pending,20,300,\n");
  pods = LoadOpenbPods(q, models_);
  ASSERT_TRUE(pods.has_value()) << pods.error().ToString();
  EXPECT_EQ((*pods)[0].creation_s, 10);
  EXPECT_EQ((*pods)[0].deletion_s, 500);
  EXPECT_EQ((*pods)[0].scheduled_s, 12);
  EXPECT_EQ((*pods)[1].scheduled_s, -1);  // never scheduled
}

TEST_F(OpenbTraceTest, LoadsFiveColumnForm) {
  const auto p =
      Write("pods5.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,100,1,500\np1,2000,200,2,1000\n");
  auto pods = LoadOpenbPods(p, models_);
  ASSERT_TRUE(pods.has_value()) << pods.error().ToString();
  ASSERT_EQ(pods->size(), 2u);
  EXPECT_EQ((*pods)[1].request.total_gpu_milli(), 2000);
}

TEST_F(OpenbTraceTest, LoadsNodes) {
  const auto p =
      Write("nodes.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,32000,1000,0,nan\n");
  auto nodes = LoadOpenbNodes(p);
  ASSERT_TRUE(nodes.has_value()) << nodes.error().ToString();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].gpus.size(), 2u);
  EXPECT_EQ((*nodes)[0].gpus[0].model, "P100");
  EXPECT_TRUE((*nodes)[1].gpus.empty());
}

TEST_F(OpenbTraceTest, MalformedPodsNameFileLineAndColumn) {
  const std::string h = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n";
  struct Case {
    const char* what;
    std::string text;
    std::string expected;  // after "<file>:"
  } cases[] = {
      {"missing column", h + "p0,1000,100,1,500,\np1,1000,100,1\n",
       "3: gpu_milli: missing (the line has 4 of 6 columns)"},
      {"non-number", h + "p0,1k,100,1,500,\n", "2: cpu_milli: '1k' is not an integer"},
      {"negative", h + "p0,1000,-100,1,500,\n", "2: memory_mib: negative amount -100"},
      {"over 1000", h + "p0,1000,100,1,1200,\n", "2: gpu_milli: 1200 is over 1000"},
      {"multi-GPU fractional", h + "p0,1000,100,2,500,\n", "2: gpu_milli: 500 with num_gpu 2"},
      {"unknown model", h + "p0,1000,100,1,500,T4|A100\n", "2: gpu_spec: unknown GPU model 'A100'"},
      {"empty file", "", "1: empty file"},
      {"header only", h, "1: no pods in the file"},
      {"missing header column", "name,cpu_milli,num_gpu,gpu_milli\n",
       "1: memory_mib: missing column"},
  };
  for (const auto& c : cases) {
    const auto p = Write("bad.csv", c.text);
    auto pods = LoadOpenbPods(p, models_);
    ASSERT_FALSE(pods.has_value()) << c.what;
    EXPECT_EQ(pods.error().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(pods.error().message().rfind(p + ":" + c.expected, 0), 0u)
        << c.what << ": " << pods.error().message();
  }
}

TEST_F(OpenbTraceTest, MissingFileIsReported) {
  auto pods = LoadOpenbPods((dir_ / "nope.csv").string(), models_);
  ASSERT_FALSE(pods.has_value());
  EXPECT_NE(pods.error().message().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace gpupool::sim

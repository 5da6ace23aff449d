// The pure half of `gpupool submit`: sizes, durations, GPU and CPU amounts, the request body from
// every flag, and the mapping of a `gpupool plan --emit-request` file. Expected values by hand.
#include "client_request.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace gpupool::app {
namespace {

using json = nlohmann::json;

TEST(ClientRequestTest, SizesInMib) {
  struct Case {
    const char* text;
    std::int64_t mib;
  };
  const Case cases[] = {{"20G", 20480},     // 20 x 1024
                        {"20Gi", 20480},    // same: binary units throughout
                        {"20GiB", 20480},   //
                        {"20g", 20480},     // case does not matter
                        {"512M", 512},      //
                        {"512Mi", 512},     //
                        {"512", 512},       // a plain number is MiB
                        {"1T", 1048576},    // 1024 x 1024
                        {"1.5G", 1536},     // 1.5 x 1024
                        {"0.5G", 512},      //
                        {"0", 0},           //
                        {"80GB", 81920},    // "GB" read as GiB, like the rest
                        {"65536", 65536}};  //
  for (const auto& c : cases) {
    auto r = ParseSizeMib(c.text, "--memory");
    ASSERT_TRUE(r.has_value()) << c.text << ": " << r.error().message();
    EXPECT_EQ(*r, c.mib) << c.text;
  }
}

TEST(ClientRequestTest, BadSizesNameTheFlag) {
  for (const char* text : {"", "G", "20X", "-1G", "1.2.3G", "20 G", "0.1G" /* 102.4 MiB */,
                           "1.2345G" /* more than 3 decimals */}) {
    auto r = ParseSizeMib(text, "--gpu-memory");
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().message().rfind("--gpu-memory: '" + std::string(text) + "'", 0), 0u)
        << r.error().message();
  }
}

TEST(ClientRequestTest, DurationsInSeconds) {
  struct Case {
    const char* text;
    std::int64_t seconds;
  };
  const Case cases[] = {{"90s", 90},      //
                        {"30m", 1800},    // 30 x 60
                        {"2h", 7200},     // 2 x 3600
                        {"1d", 86400},    // 24 x 3600
                        {"1h30m", 5400},  // 3600 + 1800
                        {"1d2h", 93600},  // 86400 + 7200
                        {"2m30s", 150},   // 120 + 30
                        {"3600", 3600},   // a plain number is seconds
                        {"45", 45}};      //
  for (const auto& c : cases) {
    auto r = ParseDurationSeconds(c.text, "--time");
    ASSERT_TRUE(r.has_value()) << c.text << ": " << r.error().message();
    EXPECT_EQ(*r, c.seconds) << c.text;
  }
}

TEST(ClientRequestTest, BadDurationsNameTheFlag) {
  for (const char* text : {"", "h", "2x", "1h30", "0", "0s", "-5m", "1.5h", "2 h"}) {
    auto r = ParseDurationSeconds(text, "--time");
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().message().rfind("--time: ", 0), 0u) << r.error().message();
  }
}

TEST(ClientRequestTest, GpuAndCpuAmountsInMilli) {
  EXPECT_EQ(ParseGpuMilli("2", "--gpus").value(), 2000);
  EXPECT_EQ(ParseGpuMilli("0.5", "--gpus").value(), 500);
  EXPECT_EQ(ParseGpuMilli("0.125", "--gpus").value(), 125);
  EXPECT_EQ(ParseGpuMilli("0", "--gpus").value(), 0);
  EXPECT_EQ(ParseGpuMilli("1.0", "--gpus").value(), 1000);
  EXPECT_FALSE(ParseGpuMilli("1.5", "--gpus").has_value());     // neither whole nor a share
  EXPECT_FALSE(ParseGpuMilli("0.0005", "--gpus").has_value());  // finer than 0.001
  EXPECT_FALSE(ParseGpuMilli("two", "--gpus").has_value());
  EXPECT_EQ(ParseCpuMilli("4", "--cpu").value(), 4000);
  EXPECT_EQ(ParseCpuMilli("0.5", "--cpu").value(), 500);
  EXPECT_EQ(ParseCpuMilli("500m", "--cpu").value(), 500);
  EXPECT_FALSE(ParseCpuMilli("4 cores", "--cpu").has_value());
  EXPECT_EQ(GpusJson(2000).dump(), "2");
  EXPECT_EQ(GpusJson(500).dump(), "0.5");
  EXPECT_EQ(GpusJson(125).dump(), "0.125");
}

TEST(ClientRequestTest, EveryFlagBecomesItsBodyMember) {
  SubmitFlags f;
  f.gpus = "2";
  f.gpu_memory = "20G";
  f.models = {"H100", "A100-80GB,L40S"};
  f.replicas = 4;
  f.queue = "research";
  f.priority = -3;
  f.time = "1h30m";
  f.name = "train";
  f.cpu = "8";
  f.memory = "64G";
  f.env = {"KEY=value", "EMPTY=", "EQ=a=b"};
  f.workdir = "project/run";
  f.preemptible = true;
  f.requeue = true;
  f.nvlink = true;
  f.command = {"python3", "train.py", "--epochs", "3"};
  auto body = BuildSubmitBody(f, json::object(), "/home/alice");
  ASSERT_TRUE(body.has_value()) << body.error().message();
  const json expected = {
      {"command", {"python3", "train.py", "--epochs", "3"}},
      {"name", "train"},
      {"env", {{"KEY", "value"}, {"EMPTY", ""}, {"EQ", "a=b"}}},
      {"workdir", "/home/alice/project/run"},
      {"gpus", 2},
      {"gpu_memory_mib", 20480},                      // 20 x 1024
      {"gpu_models", {"H100", "A100-80GB", "L40S"}},  // repeated and comma lists together
      {"cpu_milli", 8000},                            // 8 x 1000
      {"memory_mib", 65536},                          // 64 x 1024
      {"replicas", 4},
      {"queue", "research"},
      {"priority", -3},
      {"time_limit_s", 5400},  // 3600 + 30 x 60
      {"preemptible", true},
      {"requeue", true},
      {"topology", "nvlink"}};  // --nvlink
  EXPECT_EQ(*body, expected) << body->dump();
}

TEST(ClientRequestTest, OnlyTheCommandWhenNoFlagIsGiven) {
  SubmitFlags f;
  f.command = {"sleep", "60"};
  auto body = BuildSubmitBody(f, json::object(), "/tmp");
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body, (json{{"command", {"sleep", "60"}}}));
}

TEST(ClientRequestTest, AShareIsAFraction) {
  SubmitFlags f;
  f.gpus = "0.5";
  f.workdir = "/abs/dir";
  f.command = {"nvidia-smi"};
  auto body = BuildSubmitBody(f, json::object(), "/home/alice");
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ((*body)["gpus"].dump(), "0.5");
  EXPECT_EQ((*body)["workdir"], "/abs/dir");  // absolute stays as given
}

TEST(ClientRequestTest, BadFlagsAreRefusedByName) {
  SubmitFlags base;
  base.command = {"true"};
  struct Case {
    void (*set)(SubmitFlags&);
    const char* prefix;
  };
  const Case cases[] = {{[](SubmitFlags& f) { f.gpus = "1.5"; }, "--gpus: '1.5'"},
                        {[](SubmitFlags& f) { f.gpu_memory = "20X"; }, "--gpu-memory: '20X'"},
                        {[](SubmitFlags& f) { f.memory = "lots"; }, "--memory: 'lots'"},
                        {[](SubmitFlags& f) { f.cpu = "x"; }, "--cpu: 'x'"},
                        {[](SubmitFlags& f) { f.time = "2y"; }, "--time: '2y'"},
                        {[](SubmitFlags& f) { f.env = {"NOVALUE"}; }, "--env: 'NOVALUE'"},
                        {[](SubmitFlags& f) { f.env = {"=x"}; }, "--env: '=x'"},
                        {[](SubmitFlags& f) { f.models = {"H100,"}; }, "--model: 'H100,'"},
                        {[](SubmitFlags& f) { f.replicas = 0; }, "--replicas: '0'"},
                        {[](SubmitFlags& f) { f.command.clear(); }, "no command"}};
  for (const auto& c : cases) {
    SubmitFlags f = base;
    c.set(f);
    auto body = BuildSubmitBody(f, json::object(), "/");
    ASSERT_FALSE(body.has_value()) << c.prefix;
    EXPECT_EQ(body.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(body.error().message().rfind(c.prefix, 0), 0u) << body.error().message();
  }
}

TEST(ClientRequestTest, PlanWithAShare) {
  // What `plan ... --emit-request` writes for a half GPU of 10 GiB.
  const json plan = {{"num_gpu", 1},         {"gpu_milli", 500},
                     {"gpu_models", {"L4"}}, {"gpu_memory_mib", 10240},
                     {"cpu_milli", 2000},    {"memory_mib", 8192}};
  auto body = PlanToBody(plan, "plan.json");
  ASSERT_TRUE(body.has_value()) << body.error().message();
  EXPECT_EQ(body->dump(),
            R"({"cpu_milli":2000,"gpu_memory_mib":10240,"gpu_models":["L4"],"gpus":0.5,)"
            R"("memory_mib":8192})");
}

TEST(ClientRequestTest, PlanWithAGangAndFlagsOnTop) {
  // 8 replicas of 8 whole H100s: gpus = num_gpu per replica.
  const json plan = {{"num_gpu", 8},
                     {"gpu_milli", 1000},
                     {"gpu_models", {"H100-SXM"}},
                     {"gpu_memory_mib", 19769},
                     {"cpu_milli", 32000},
                     {"memory_mib", 262144},
                     {"replicas", 8}};
  auto mapped = PlanToBody(plan, "plan.json");
  ASSERT_TRUE(mapped.has_value()) << mapped.error().message();
  const json expected_plan = {
      {"gpus", 8},          {"gpu_models", {"H100-SXM"}}, {"gpu_memory_mib", 19769},
      {"cpu_milli", 32000}, {"memory_mib", 262144},       {"replicas", 8}};
  EXPECT_EQ(*mapped, expected_plan);
  // Flags given with --plan override the plan's members and add their own.
  SubmitFlags f;
  f.replicas = 2;
  f.queue = "big";
  f.command = {"torchrun", "train.py"};
  auto body = BuildSubmitBody(f, *mapped, "/");
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ((*body)["replicas"], 2);
  EXPECT_EQ((*body)["gpus"], 8);
  EXPECT_EQ((*body)["queue"], "big");
  EXPECT_EQ((*body)["command"], (json{"torchrun", "train.py"}));
}

TEST(ClientRequestTest, PlanWholeGpusWithoutMilliAndCpuOnly) {
  // gpu_milli absent: 1000 for num_gpu > 0 (the planner's convention).
  EXPECT_EQ(PlanToBody(json{{"num_gpu", 2}}, "p").value(), (json{{"gpus", 2}}));
  EXPECT_EQ(PlanToBody(json{{"num_gpu", 0}, {"cpu_milli", 500}}, "p").value(),
            (json{{"gpus", 0}, {"cpu_milli", 500}}));
}

TEST(ClientRequestTest, BadPlansNameFileAndMember) {
  struct Case {
    json plan;
    const char* prefix;
  };
  const Case cases[] = {
      {json{{"gpu_milli", 1000}}, "plan.json: num_gpu: missing"},
      {json{{"num_gpu", 2}, {"gpu_milli", 500}}, "plan.json: gpu_milli: 500 with num_gpu 2"},
      {json{{"num_gpu", 0}, {"gpu_milli", 500}}, "plan.json: gpu_milli: 500 with num_gpu 0"},
      {json{{"num_gpu", -1}}, "plan.json: num_gpu: expected a non-negative integer"},
      {json{{"num_gpu", 1}, {"gpus", 1}}, "plan.json: gpus: unknown member"},
      {json{{"num_gpu", 1}, {"gpu_models", "H100"}}, "plan.json: gpu_models: expected an array"},
      {json{{"num_gpu", 1}, {"replicas", 0}}, "plan.json: replicas: must be 1 or more"},
      {json::array(), "plan.json: expected the JSON object"}};
  for (const auto& c : cases) {
    auto r = PlanToBody(c.plan, "plan.json");
    ASSERT_FALSE(r.has_value()) << c.plan.dump();
    EXPECT_EQ(r.error().message().rfind(c.prefix, 0), 0u) << r.error().message();
  }
}

TEST(ClientRequestTest, PlanFileIsReadFromDisk) {
  const auto path = std::filesystem::temp_directory_path() / "gpupool_client_plan_test.json";
  std::ofstream(path) << R"({"num_gpu": 4, "gpu_milli": 1000, "gpu_models": ["H100-SXM"]})"
                      << "\n";
  auto body = LoadPlanFile(path);
  ASSERT_TRUE(body.has_value()) << body.error().message();
  EXPECT_EQ(*body, (json{{"gpus", 4}, {"gpu_models", {"H100-SXM"}}}));
  std::ofstream(path) << "{not json";
  auto bad = LoadPlanFile(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message().rfind(path.string() + ": not JSON", 0), 0u);
  std::filesystem::remove(path);
  EXPECT_FALSE(LoadPlanFile(path).has_value());
}

TEST(ClientRequestTest, ServerMembersPointAtFlags) {
  EXPECT_EQ(FlagForMember("gpus"), "--gpus");
  EXPECT_EQ(FlagForMember("gpu_memory_mib"), "--gpu-memory");
  EXPECT_EQ(FlagForMember("gpu_models[1]"), "--model");
  EXPECT_EQ(FlagForMember("env.PATH"), "--env");
  EXPECT_EQ(FlagForMember("time_limit_s"), "--time");
  EXPECT_EQ(FlagForMember("command[0]"), "the command after --");
  EXPECT_EQ(FlagForMember("topology"), "--nvlink");
  EXPECT_EQ(FlagForMember("user"), "");
}

TEST(ClientRequestTest, JobIds) {
  EXPECT_EQ(ParseJobId("12", "ID").value(), 12);
  for (const char* text : {"", "0", "-1", "12a", "1.0", "99999999999999999999"}) {
    auto r = ParseJobId(text, "ID");
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().ExitCode(), 2);
  }
}

}  // namespace
}  // namespace gpupool::app

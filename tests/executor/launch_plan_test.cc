#include "executor/launch_plan.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "executor_test_util.h"

namespace gpupool::executor {
namespace {

void WriteScript(const std::filesystem::path& path, std::filesystem::perms perms) {
  std::ofstream(path) << "#!/bin/sh\necho hi\n";
  std::filesystem::permissions(path, perms);
}

LaunchSpec Spec(std::vector<std::string> argv) {
  LaunchSpec spec;
  spec.job_id = 1;
  spec.argv = std::move(argv);
  spec.job_dir = "/jobs/1";
  return spec;
}

TEST(LaunchPlanTest, JobEnvironmentOverridesAndExtendsTheService) {
  LaunchSpec spec = Spec({"sh", "-c", "true"});
  spec.env = {{"HOME", "/job-home"}, {"NEW_VAR", "a=b"}};
  const auto plan = MakeLaunchPlan(spec, {"HOME=/service-home", "PATH=/usr/bin:/bin", "KEEP=1"});
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  EXPECT_EQ(plan->env, (std::vector<std::string>{"HOME=/job-home", "PATH=/usr/bin:/bin", "KEEP=1",
                                                 "NEW_VAR=a=b"}));
  ASSERT_EQ(plan->envp.size(), 5u);
  EXPECT_STREQ(plan->envp[0], "HOME=/job-home");
  EXPECT_EQ(plan->envp[4], nullptr);
  ASSERT_EQ(plan->argv.size(), 4u);
  EXPECT_STREQ(plan->argv[0], "sh");  // argv[0] as given, the resolved path goes to execve
  EXPECT_STREQ(plan->argv[2], "true");
  EXPECT_EQ(plan->argv[3], nullptr);
  EXPECT_TRUE(plan->program == "/usr/bin/sh" || plan->program == "/bin/sh") << plan->program;
}

TEST(LaunchPlanTest, FractionalJobsGetTheGpuShimPreloaded) {
  // A half GPU gets the shim first in LD_PRELOAD, before the service's own preload; a whole GPU
  // keeps the service's LD_PRELOAD as it was; no shim configured: nothing changes.
  LaunchSpec half = Spec({"/bin/true"});
  half.gpu_shim = "/opt/gpupool/lib/gpupool/libgpupool-cuda.so";
  half.env = {{"GPUPOOL_GPU_MILLI", "500"}, {"GPUPOOL_GPU_MEMORY_MIB", "0"}};
  const auto plan = MakeLaunchPlan(half, {"LD_PRELOAD=/usr/lib/libtrace.so"});
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  EXPECT_EQ(plan->env.front(),
            "LD_PRELOAD=/opt/gpupool/lib/gpupool/libgpupool-cuda.so:/usr/lib/libtrace.so");

  LaunchSpec whole = half;
  whole.env = {{"GPUPOOL_GPU_MILLI", "1000"}, {"GPUPOOL_GPU_MEMORY_MIB", "0"}};
  const auto whole_plan = MakeLaunchPlan(whole, {"LD_PRELOAD=/usr/lib/libtrace.so"});
  ASSERT_TRUE(whole_plan.has_value());
  EXPECT_EQ(whole_plan->env.front(), "LD_PRELOAD=/usr/lib/libtrace.so");

  LaunchSpec capped = whole;
  capped.env = {{"GPUPOOL_GPU_MILLI", "1000"}, {"GPUPOOL_GPU_MEMORY_MIB", "4096"}};
  const auto capped_plan = MakeLaunchPlan(capped, {});
  ASSERT_TRUE(capped_plan.has_value());
  EXPECT_EQ(capped_plan->env.back(), "LD_PRELOAD=/opt/gpupool/lib/gpupool/libgpupool-cuda.so");

  LaunchSpec no_shim = half;
  no_shim.gpu_shim.clear();
  const auto none = MakeLaunchPlan(no_shim, {});
  ASSERT_TRUE(none.has_value());
  for (const std::string& e : none->env) EXPECT_NE(e.rfind("LD_PRELOAD=", 0), 0U) << e;

  LaunchSpec bad = half;
  bad.env = {{"GPUPOOL_GPU_MILLI", "0.5"}};
  const auto refused = MakeLaunchPlan(bad, {});
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("GPUPOOL_GPU_MILLI='0.5'"), std::string::npos);
}

TEST(LaunchPlanTest, PathsDefaultToTheJobDirectory) {
  const auto plan = MakeLaunchPlan(Spec({"/bin/true"}), {});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->program, "/bin/true");
  EXPECT_EQ(plan->workdir, "/jobs/1");
  EXPECT_EQ(plan->stdout_path, "/jobs/1/stdout.log");
  EXPECT_EQ(plan->stderr_path, "/jobs/1/stderr.log");
  EXPECT_EQ(plan->record_path, "/jobs/1/exit.json");
  EXPECT_EQ(plan->record_temp_path, "/jobs/1/.exit.json.tmp");
  LaunchSpec spec = Spec({"/bin/true"});
  spec.workdir = "/work/here";
  EXPECT_EQ(MakeLaunchPlan(spec, {})->workdir, "/work/here");
}

TEST(LaunchPlanTest, ProgramIsFoundOnTheJobsPathFirst) {
  testing::ScratchDir job_bin;
  testing::ScratchDir service_bin;
  WriteScript(job_bin.path() / "gp-tool", std::filesystem::perms::owner_all);
  WriteScript(service_bin.path() / "gp-tool", std::filesystem::perms::owner_all);
  const std::string service_path = "PATH=" + service_bin.path().string();

  LaunchSpec spec = Spec({"gp-tool"});
  auto plan = MakeLaunchPlan(spec, {service_path});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->program, (service_bin.path() / "gp-tool").string());

  spec.env = {{"PATH", "/nonexistent:" + job_bin.path().string()}};
  plan = MakeLaunchPlan(spec, {service_path});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->program, (job_bin.path() / "gp-tool").string());
}

TEST(LaunchPlanTest, ResolveSkipsNonExecutablesAndDirectories) {
  testing::ScratchDir a;
  testing::ScratchDir b;
  WriteScript(a.path() / "tool", std::filesystem::perms::owner_read);
  std::filesystem::create_directory(b.path() / "tool");
  EXPECT_EQ(ResolveProgram("tool", a.path().string() + ":" + b.path().string()).error().message(),
            "cannot run 'tool': Permission denied");
  EXPECT_EQ(ResolveProgram("tool", b.path().string()).error().message(),
            "cannot run 'tool': No such file or directory");
  WriteScript(b.path() / "tool2", std::filesystem::perms::owner_all);
  EXPECT_EQ(*ResolveProgram("tool2", a.path().string() + ":" + b.path().string()),
            (b.path() / "tool2").string());
}

TEST(LaunchPlanTest, BadSpecsAreInvalidArguments) {
  struct Case {
    LaunchSpec spec;
    const char* message;
  };
  std::vector<Case> cases;
  cases.push_back({Spec({}), "job has an empty argv"});
  cases.push_back({Spec({"gp-no-such-program-anywhere"}),
                   "cannot run 'gp-no-such-program-anywhere': No such file or directory"});
  cases.push_back({Spec({"/bin/true", std::string("a\0b", 3)}), "argv[1] contains a NUL byte"});
  LaunchSpec bad_name = Spec({"/bin/true"});
  bad_name.env = {{"A=B", "c"}};
  cases.push_back({bad_name, "invalid environment variable name 'A=B'"});
  LaunchSpec empty_name = Spec({"/bin/true"});
  empty_name.env = {{"", "c"}};
  cases.push_back({empty_name, "invalid environment variable name ''"});
  LaunchSpec no_dir = Spec({"/bin/true"});
  no_dir.job_dir.clear();
  cases.push_back({no_dir, "job has no job_dir"});
  for (const Case& c : cases) {
    const auto plan = MakeLaunchPlan(c.spec, {"PATH=/usr/bin:/bin"});
    ASSERT_FALSE(plan.has_value()) << c.message;
    EXPECT_EQ(plan.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(plan.error().message(), c.message);
  }
}

TEST(LaunchPlanTest, ServiceEnvironmentIsEnviron) {
  ASSERT_EQ(setenv("GP_LAUNCH_PLAN_TEST", "x y", 1), 0);
  const std::vector<std::string> env = ServiceEnvironment();
  EXPECT_NE(std::find(env.begin(), env.end(), "GP_LAUNCH_PLAN_TEST=x y"), env.end());
  unsetenv("GP_LAUNCH_PLAN_TEST");
}

}  // namespace
}  // namespace gpupool::executor

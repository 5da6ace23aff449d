#include "discovery/doctor.h"

#include <gtest/gtest.h>

#include <map>

#include "discovery/fake_nvml_env.h"

namespace gpupool::discovery {
namespace {

// Probes answered from maps: files, programs on PATH, command outputs keyed by argv[0] + argv[1].
class FakeProbes : public DoctorProbes {
 public:
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> programs;  // name -> full path
  std::map<std::string, CommandResult> commands;
  std::optional<Result<NvmlReport>> nvml;
  std::vector<std::vector<std::string>> ran;
  ShimReport shim;
  ShimReport ProbeShim() override { return shim; }

  std::optional<std::string> ReadFile(const std::string& path) override {
    auto it = files.find(path);
    return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  bool Exists(const std::string& path) override { return files.contains(path); }
  std::string FindProgram(const std::string& name) override {
    auto it = programs.find(name);
    return it == programs.end() ? "" : it->second;
  }
  CommandResult Run(const std::vector<std::string>& argv, int) override {
    ran.push_back(argv);
    auto it = commands.find(argv[0] + (argv.size() > 1 ? " " + argv[1] : ""));
    return it == commands.end() ? CommandResult{} : it->second;
  }
  Result<NvmlReport> ProbeNvml() override {
    return nvml ? *nvml : Error(Status::Unavailable("no NVIDIA driver found"));
  }
};

// A program that ran and exited with `exit_code` (or, timed out, was killed) after printing
// `output`.
CommandResult Ran(int exit_code, std::string output, bool timed_out = false) {
  CommandResult r;
  r.started = true;
  r.timed_out = timed_out;
  r.exit_code = exit_code;
  r.output = std::move(output);
  return r;
}

CommandResult Ok(std::string output) { return Ran(0, std::move(output)); }

// A healthy machine: driver 550.54.15 (CUDA 12.4), 2 GPUs, nvcc 12.4, cuDNN 9, torch with CUDA,
// Docker with the nvidia runtime.
FakeProbes Healthy() {
  FakeProbes p;
  p.files["/proc/version"] = "Linux version 6.8.0-45-generic (buildd@lcy02) gcc 13";
  p.files["/proc/driver/nvidia/version"] =
      "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n"
      "GCC version:  gcc version 12.3.0\n";
  NvmlReport report;
  report.driver = {"550.54.15", "12.550.54.15", 12040};
  report.gpu_names = {"NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"};
  p.nvml = report;
  p.programs = {{"nvcc", "/usr/local/cuda/bin/nvcc"},
                {"python3", "/usr/bin/python3"},
                {"docker", "/usr/bin/docker"}};
  p.commands["/usr/local/cuda/bin/nvcc --version"] = Ok(
      "nvcc: NVIDIA (R) Cuda compiler driver\nCuda compilation tools, release 12.4, V12.4.131\n");
  p.commands["ldconfig -p"] =
      Ok("\tlibcudnn.so.9 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.9\n");
  p.commands["/usr/bin/python3 -c"] =
      Ok("some warning\nGPUPOOL_DOCTOR {\"python\": \"3.11.7\", \"torch\": \"2.4.0\", \"cuda\": "
         "\"12.1\", \"available\": true, \"devices\": 2}\n");
  p.commands["/usr/bin/docker info"] =
      Ok("{\"nvidia\":{\"path\":\"nvidia-container-runtime\"},"
         "\"runc\":{\"path\":\"runc\"}}\n");
  return p;
}

const DoctorCheck& Find(const std::vector<DoctorCheck>& checks, const std::string& name) {
  for (const DoctorCheck& c : checks) {
    if (c.name == name) return c;
  }
  static DoctorCheck none;
  ADD_FAILURE() << "no check " << name;
  return none;
}

TEST(DoctorTest, HealthyMachinePassesEveryCheck) {
  FakeProbes p = Healthy();
  const auto checks = RunDoctor(p);
  ASSERT_EQ(checks.size(), 8u);
  for (const DoctorCheck& c : checks) {
    EXPECT_EQ(c.state, CheckState::kOk) << c.name << ": " << c.detail;
    EXPECT_TRUE(c.next_step.empty()) << c.name;
  }
  EXPECT_TRUE(DoctorPassed(checks));
  EXPECT_EQ(Find(checks, "driver").detail, "NVIDIA kernel module 550.54.15");
  EXPECT_NE(Find(checks, "nvml").detail.find("2x NVIDIA H100 80GB HBM3"), std::string::npos);
  EXPECT_NE(Find(checks, "cuda_toolkit").detail.find("nvcc 12.4"), std::string::npos);
  EXPECT_NE(Find(checks, "cudnn").detail.find("libcudnn.so.9"), std::string::npos);
  EXPECT_NE(Find(checks, "python_torch").detail.find("torch 2.4.0 (CUDA 12.1)"), std::string::npos);
  EXPECT_NE(FormatDoctor(checks).find("Ready to run GPU jobs."), std::string::npos);
}

TEST(DoctorTest, NoDriverFailsWithNextSteps) {
  FakeProbes p = Healthy();
  p.files.erase("/proc/driver/nvidia/version");
  p.nvml.reset();  // NVML cannot load
  const auto checks = RunDoctor(p);
  EXPECT_EQ(Find(checks, "driver").state, CheckState::kMissing);
  EXPECT_NE(Find(checks, "driver").next_step.find("Install the NVIDIA driver"), std::string::npos);
  EXPECT_EQ(Find(checks, "nvml").state, CheckState::kMissing);
  EXPECT_FALSE(DoctorPassed(checks));
  const nlohmann::json j = DoctorJson(checks);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["checks"][0]["name"], "driver");
  EXPECT_EQ(j["checks"][0]["state"], "missing");
  EXPECT_EQ(j["checks"][0]["required"], true);
}

TEST(DoctorTest, ToolkitNewerThanDriverWarnsButPasses) {
  FakeProbes p = Healthy();
  p.commands["/usr/local/cuda/bin/nvcc --version"] =
      Ok("Cuda compilation tools, release 12.6, V12.6.20\n");
  const auto checks = RunDoctor(p);
  const DoctorCheck& cuda = Find(checks, "cuda_toolkit");
  EXPECT_EQ(cuda.state, CheckState::kWarning);
  EXPECT_NE(cuda.detail.find("newer than the driver supports (CUDA 12.4)"), std::string::npos);
  EXPECT_TRUE(DoctorPassed(checks));  // the toolkit is not needed to run jobs
}

TEST(DoctorTest, KernelModuleAndLibraryVersionsMustAgree) {
  FakeProbes p = Healthy();
  p.files["/proc/driver/nvidia/version"] =
      "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC 2024\n";
  const auto checks = RunDoctor(p);
  EXPECT_EQ(Find(checks, "nvml").state, CheckState::kMissing);
  EXPECT_NE(Find(checks, "nvml").next_step.find("reboot"), std::string::npos);
  EXPECT_FALSE(DoctorPassed(checks));
}

TEST(DoctorTest, NoGpusOrLostGpus) {
  FakeProbes none = Healthy();
  NvmlReport empty;
  empty.driver = {"550.54.15", "12.550.54.15", 12040};
  none.nvml = empty;
  EXPECT_EQ(Find(RunDoctor(none), "nvml").state, CheckState::kMissing);

  FakeProbes lost = Healthy();
  NvmlReport report = **lost.nvml;
  report.lost_gpus = 1;
  lost.nvml = report;
  const auto checks = RunDoctor(lost);
  EXPECT_EQ(Find(checks, "nvml").state, CheckState::kWarning);
  EXPECT_NE(Find(checks, "nvml").detail.find("1 GPU(s) lost"), std::string::npos);
}

TEST(DoctorTest, PythonTorchStates) {
  FakeProbes cpu = Healthy();
  cpu.commands["/usr/bin/python3 -c"] =
      Ok("GPUPOOL_DOCTOR {\"python\": \"3.12.1\", \"torch\": \"2.4.0+cpu\", \"cuda\": null, "
         "\"available\": false, \"devices\": 0}\n");
  EXPECT_NE(Find(RunDoctor(cpu), "python_torch").detail.find("CPU-only"), std::string::npos);

  FakeProbes unavailable = Healthy();
  unavailable.commands["/usr/bin/python3 -c"] =
      Ok("GPUPOOL_DOCTOR {\"python\": \"3.12.1\", \"torch\": \"2.4.0\", \"cuda\": \"12.1\", "
         "\"available\": false, \"devices\": 0}\n");
  const DoctorCheck u = Find(RunDoctor(unavailable), "python_torch");
  EXPECT_EQ(u.state, CheckState::kWarning);
  EXPECT_NE(u.detail.find("is_available() is False"), std::string::npos);

  FakeProbes no_torch = Healthy();
  no_torch.commands["/usr/bin/python3 -c"] = Ok(
      "GPUPOOL_DOCTOR {\"python\": \"3.12.1\", \"torch\": null, \"error\": \"ModuleNotFoundError: "
      "No module named 'torch'\"}\n");
  EXPECT_NE(Find(RunDoctor(no_torch), "python_torch").next_step.find("pip install torch"),
            std::string::npos);

  FakeProbes hung = Healthy();
  hung.commands["/usr/bin/python3 -c"] = Ran(-1, "", /*timed_out=*/true);
  EXPECT_NE(Find(RunDoctor(hung), "python_torch").detail.find("did not answer"), std::string::npos);

  FakeProbes no_python = Healthy();
  no_python.programs.erase("python3");
  EXPECT_EQ(Find(RunDoctor(no_python), "python_torch").detail, "python3 not found on PATH");
}

TEST(DoctorTest, WslUsesTheWindowsDriverLibraries) {
  FakeProbes p = Healthy();
  p.files["/proc/version"] = "Linux version 5.15.153.1-microsoft-standard-WSL2";
  p.files.erase("/proc/driver/nvidia/version");  // WSL has no kernel module of its own
  p.files["/usr/lib/wsl/lib/libnvidia-ml.so.1"] = "";
  p.files["/usr/lib/wsl/lib/libcuda.so.1"] = "";
  p.files["/dev/dxg"] = "";
  auto checks = RunDoctor(p);
  EXPECT_EQ(Find(checks, "driver").state, CheckState::kOk);
  EXPECT_NE(Find(checks, "driver").detail.find("WSL"), std::string::npos);
  EXPECT_EQ(Find(checks, "wsl").state, CheckState::kOk);
  EXPECT_TRUE(DoctorPassed(checks));

  p.files.erase("/dev/dxg");
  p.files.erase("/usr/lib/wsl/lib/libnvidia-ml.so.1");
  checks = RunDoctor(p);
  EXPECT_EQ(Find(checks, "wsl").state, CheckState::kMissing);
  EXPECT_NE(Find(checks, "wsl").detail.find("/dev/dxg"), std::string::npos);
  EXPECT_EQ(Find(checks, "driver").state, CheckState::kMissing);
  EXPECT_NE(Find(checks, "driver").next_step.find("Windows"), std::string::npos);
  EXPECT_FALSE(DoctorPassed(checks));
}

TEST(DoctorTest, DockerRuntimeStates) {
  FakeProbes no_runtime = Healthy();
  no_runtime.commands["/usr/bin/docker info"] = Ok("{\"runc\":{\"path\":\"runc\"}}\n");
  no_runtime.programs["nvidia-ctk"] = "/usr/bin/nvidia-ctk";
  const DoctorCheck d = Find(RunDoctor(no_runtime), "docker");
  EXPECT_EQ(d.state, CheckState::kWarning);
  EXPECT_NE(d.next_step.find("nvidia-ctk runtime configure"), std::string::npos);

  FakeProbes daemon_down = Healthy();
  daemon_down.commands["/usr/bin/docker info"] =
      Ran(1, "null\nCannot connect to the Docker daemon\n");
  EXPECT_NE(Find(RunDoctor(daemon_down), "docker").detail.find("Cannot connect"),
            std::string::npos);

  FakeProbes no_docker = Healthy();
  no_docker.programs.erase("docker");
  const auto checks = RunDoctor(no_docker);
  EXPECT_EQ(Find(checks, "docker").state, CheckState::kWarning);
  EXPECT_TRUE(DoctorPassed(checks));
}

TEST(DoctorTest, CudnnFromHeaderWhenNotInLoaderCache) {
  FakeProbes p = Healthy();
  p.commands["ldconfig -p"] = Ok("\tlibc.so.6 (libc6,x86-64) => /lib/libc.so.6\n");
  p.files["/usr/include/cudnn_version.h"] =
      "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 1\n#define CUDNN_PATCHLEVEL 0\n";
  EXPECT_EQ(Find(RunDoctor(p), "cudnn").detail,
            "cuDNN 9.1.0 header at /usr/include/cudnn_version.h");
  p.files.erase("/usr/include/cudnn_version.h");
  EXPECT_EQ(Find(RunDoctor(p), "cudnn").state, CheckState::kWarning);
}

TEST(DoctorTest, LdconfigOutsidePathIsFound) {
  FakeProbes p = Healthy();
  p.commands["/sbin/ldconfig -p"] = p.commands["ldconfig -p"];
  p.commands.erase("ldconfig -p");  // not on PATH: does not start
  EXPECT_EQ(Find(RunDoctor(p), "cudnn").state, CheckState::kOk);
}

TEST(DoctorTest, Parsers) {
  EXPECT_EQ(
      ParseKernelModuleVersion(
          "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  560.35.03  Release Build"),
      "560.35.03");
  EXPECT_EQ(ParseKernelModuleVersion("garbage"), "");
  EXPECT_EQ(ParseNvccRelease("Cuda compilation tools, release 11.8, V11.8.89"), 11080);
  EXPECT_FALSE(ParseNvccRelease("no version here").has_value());
}

TEST(DoctorTest, SystemProbesReportTheFakeNvml) {
  setenv("FAKE_NVML_SCRIPT", testing::ScriptPath("node4.json").c_str(), 1);
  SystemProbes probes({FAKE_NVML_LIBRARY});
  auto report = probes.ProbeNvml();
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->driver.driver_version, "550.54.15");
  EXPECT_EQ(report->gpu_names.size(), 4u);
  EXPECT_EQ(report->lost_gpus, 1);  // GPU 3 in node4.json
  SystemProbes missing({"/nonexistent/libnvidia-ml.so.1"});
  EXPECT_FALSE(missing.ProbeNvml().has_value());
}

TEST(DoctorTest, ShimReportsWhatItEnforces) {
  FakeProbes p = Healthy();
  p.shim.loaded = true;
  p.shim.info = GpupoolShimInfo{};
  p.shim.info.config_ok = 1;
  p.shim.info.job_id = 42;
  p.shim.info.gpu_milli = 250;
  p.shim.info.paced = 1;
  p.shim.info.memory_capped = 1;
  p.shim.info.driver_loaded = 1;
  snprintf(p.shim.info.library, sizeof(p.shim.info.library), "/usr/lib/gpupool/libgpupool-cuda.so");
  DoctorCheck c = Find(RunDoctor(p), "shim");
  EXPECT_EQ(c.state, CheckState::kOk);
  EXPECT_EQ(c.detail,
            "active (/usr/lib/gpupool/libgpupool-cuda.so), job 42; memory capped at 250/1000 of "
            "each GPU's (GPUPOOL_GPU_MILLI); kernel launches paced to 250/1000 of each GPU's time");
  p.shim.info.memory_mib = 4096;
  p.shim.info.gpu_milli = 1000;
  p.shim.info.paced = 0;
  c = Find(RunDoctor(p), "shim");
  EXPECT_EQ(c.detail,
            "active (/usr/lib/gpupool/libgpupool-cuda.so), job 42; memory capped at 4096 MiB per "
            "GPU (GPUPOOL_GPU_MEMORY_MIB); launches not paced");
  p.shim.info.config_ok = 0;
  snprintf(p.shim.info.error, sizeof(p.shim.info.error), "GPUPOOL_GPU_MILLI='x' is not ...");
  c = Find(RunDoctor(p), "shim");
  EXPECT_EQ(c.state, CheckState::kWarning);
  EXPECT_NE(c.detail.find("GPUPOOL_GPU_MILLI='x'"), std::string::npos);
}

TEST(DoctorTest, ShareWithoutShimWarnsWholeGpuDoesNot) {
  FakeProbes p = Healthy();
  p.shim.gpu_milli = "500";
  p.shim.gpu_memory_mib = "0";
  DoctorCheck c = Find(RunDoctor(p), "shim");
  EXPECT_EQ(c.state, CheckState::kWarning);
  EXPECT_NE(c.detail.find("not active, yet this process holds a share (GPUPOOL_GPU_MILLI=500"),
            std::string::npos);
  EXPECT_TRUE(DoctorPassed(RunDoctor(p)));  // not a required check
  p.shim.gpu_milli = "1000";
  c = Find(RunDoctor(p), "shim");
  EXPECT_EQ(c.state, CheckState::kOk);
  EXPECT_EQ(c.detail, "not active (no GPU fraction or memory cap in this process's environment)");
}

}  // namespace
}  // namespace gpupool::discovery

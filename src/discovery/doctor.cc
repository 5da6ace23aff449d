#include "discovery/doctor.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/strings.h"
#include "discovery/nvml_discovery.h"
#include "shim/shim_config.h"

namespace gpupool::discovery {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr const char* kProcDriverVersion = "/proc/driver/nvidia/version";
constexpr const char* kWslLibDir = "/usr/lib/wsl/lib";

// Printed by python3 before its JSON answer, so warnings on the same stream do not confuse us.
constexpr const char* kPythonMarker = "GPUPOOL_DOCTOR ";
constexpr const char* kPythonProbe =
    "import json, sys\n"
    "r = {'python': sys.version.split()[0], 'torch': None}\n"
    "try:\n"
    "    import torch\n"
    "    r['torch'] = torch.__version__\n"
    "    r['cuda'] = torch.version.cuda\n"
    "    r['available'] = bool(torch.cuda.is_available())\n"
    "    r['devices'] = torch.cuda.device_count() if r['available'] else 0\n"
    "except Exception as e:\n"
    "    r['error'] = type(e).__name__ + ': ' + str(e)\n"
    "print('GPUPOOL_DOCTOR ' + json.dumps(r))\n";

DoctorCheck Make(std::string name, CheckState state, bool required, std::string detail,
                 std::string next = "") {
  return {std::move(name), state, required, std::move(detail), std::move(next)};
}

bool IsWsl(DoctorProbes& probes) {
  auto version = probes.ReadFile("/proc/version");
  return version && Lower(*version).find("microsoft") != std::string::npos;
}

std::string FirstLine(const std::string& text) {
  const auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

// The last non-empty line of a failed command's output: usually the error message.
std::string LastLine(const std::string& text) {
  std::istringstream lines(text);
  std::string last;
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  return last.empty() ? "(no output)" : last;
}

// The first "N.N" or "N.N.N" token at or after `from` ("550.54.15"); "" when none.
std::string VersionToken(const std::string& text, std::size_t from) {
  std::size_t i = from;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) {
      ++j;
    }
    std::string token = text.substr(i, j - i);
    while (!token.empty() && token.back() == '.') token.pop_back();
    if (token.find('.') != std::string::npos) return token;
    i = j;
  }
  return "";
}

// The number after "#define NAME" in a C header; "" when absent.
std::string DefineValue(const std::string& header, const std::string& name) {
  const std::string key = "#define " + name;
  for (auto pos = header.find(key); pos != std::string::npos; pos = header.find(key, pos + 1)) {
    std::size_t i = pos + key.size();
    if (i < header.size() && header[i] != ' ' && header[i] != '\t') continue;  // a longer name
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < header.size() && std::isdigit(static_cast<unsigned char>(header[j]))) ++j;
    if (j > i) return header.substr(i, j - i);
  }
  return "";
}

DoctorCheck CheckDriver(DoctorProbes& probes, bool wsl, std::string& module_version) {
  auto text = probes.ReadFile(kProcDriverVersion);
  if (text) {
    module_version = ParseKernelModuleVersion(*text);
    if (!module_version.empty()) {
      return Make("driver", CheckState::kOk, true, "NVIDIA kernel module " + module_version);
    }
    return Make("driver", CheckState::kWarning, true,
                std::string(kProcDriverVersion) + " has no version: " + FirstLine(*text),
                "Check the driver installation with `nvidia-smi`.");
  }
  if (wsl) {
    const std::string lib = std::string(kWslLibDir) + "/libnvidia-ml.so.1";
    if (probes.Exists(lib)) {
      return Make("driver", CheckState::kOk, true,
                  "WSL: the Windows NVIDIA driver is exposed through " + lib);
    }
    return Make("driver", CheckState::kMissing, true,
                "WSL without the Windows NVIDIA driver libraries (" + lib + " is absent)",
                "Install the current NVIDIA driver for Windows on the host (it serves WSL too); do "
                "not install a Linux NVIDIA driver inside WSL. Then `wsl --shutdown` and reopen.");
  }
  return Make(
      "driver", CheckState::kMissing, true,
      std::string("no NVIDIA kernel module is loaded (") + kProcDriverVersion + " does not exist)",
      "Install the NVIDIA driver (your distribution's nvidia-driver package or NVIDIA's "
      "installer), reboot, and check `nvidia-smi`. On a cloud VM, pick an instance type "
      "with a GPU.");
}

DoctorCheck CheckNvml(DoctorProbes& probes, const std::string& module_version,
                      std::optional<int>& cuda_version) {
  auto report = probes.ProbeNvml();
  if (!report) {
    return Make("nvml", CheckState::kMissing, true, report.error().message(),
                "Fix the driver first (see the driver check); NVML ships with it.");
  }
  cuda_version = report->driver.cuda_version;
  std::string detail =
      "NVML " +
      (report->driver.nvml_version.empty() ? std::string("N/A") : report->driver.nvml_version) +
      ", driver " + report->driver.driver_version + ", CUDA " +
      CudaVersionString(report->driver.cuda_version) + ", " +
      std::to_string(report->gpu_names.size()) + " GPU(s)";
  if (!report->gpu_names.empty()) {
    std::map<std::string, int> counts;
    for (const std::string& n : report->gpu_names) ++counts[n];
    std::string list;
    for (const auto& [n, c] : counts)
      list += (list.empty() ? "" : ", ") + std::to_string(c) + "x " + n;
    detail += ": " + list;
  }
  if (report->gpu_names.empty()) {
    return Make(
        "nvml", CheckState::kMissing, true, detail + "; NVML sees no GPU",
        "Check that the GPU is visible (`lspci | grep -i nvidia`) and, in a container, that "
        "it was started with GPU access (`--gpus all`).");
  }
  if (!module_version.empty() && !report->driver.driver_version.empty() &&
      module_version != report->driver.driver_version) {
    return Make("nvml", CheckState::kMissing, true,
                detail + "; but the kernel module is " + module_version,
                "The user-space driver and the kernel module differ: reboot (or reload the nvidia "
                "modules) after a driver upgrade.");
  }
  if (report->lost_gpus > 0) {
    return Make("nvml", CheckState::kWarning, true,
                detail + "; " + std::to_string(report->lost_gpus) + " GPU(s) lost",
                "Run `gpupool smi` to see which GPU; check `dmesg` for Xid errors, then reset the "
                "GPU or reboot.");
  }
  return Make("nvml", CheckState::kOk, true, detail);
}

DoctorCheck CheckCuda(DoctorProbes& probes, const DoctorOptions& options,
                      std::optional<int> driver_cuda) {
  std::string nvcc = probes.FindProgram("nvcc");
  if (nvcc.empty() && probes.Exists("/usr/local/cuda/bin/nvcc")) nvcc = "/usr/local/cuda/bin/nvcc";
  if (nvcc.empty()) {
    return Make("cuda_toolkit", CheckState::kWarning, false,
                "nvcc not found on PATH or in /usr/local/cuda/bin",
                "Only needed to compile CUDA code (PyTorch wheels bring their own CUDA runtime). "
                "Install the CUDA toolkit matching CUDA " +
                    CudaVersionString(driver_cuda) + " or older, and add its bin/ to PATH.");
  }
  const CommandResult r = probes.Run({nvcc, "--version"}, options.command_timeout_ms);
  const std::optional<int> release = ParseNvccRelease(r.output);
  if (!r.started || r.exit_code != 0 || !release) {
    return Make("cuda_toolkit", CheckState::kWarning, false,
                nvcc + " --version failed: " + LastLine(r.output), "Reinstall the CUDA toolkit.");
  }
  const std::string found = "nvcc " + CudaVersionString(release) + " (" + nvcc + ")";
  if (!driver_cuda) {
    return Make("cuda_toolkit", CheckState::kOk, false,
                found + "; the driver's CUDA version is unknown");
  }
  if (*release > *driver_cuda) {
    return Make(
        "cuda_toolkit", CheckState::kWarning, false,
        found + " is newer than the driver supports (CUDA " + CudaVersionString(driver_cuda) + ")",
        "Programs built with it may fail with \"CUDA driver version is insufficient\": "
        "upgrade the driver, or use a toolkit no newer than CUDA " +
            CudaVersionString(driver_cuda) + ".");
  }
  return Make("cuda_toolkit", CheckState::kOk, false,
              found + ", driver supports up to CUDA " + CudaVersionString(driver_cuda));
}

DoctorCheck CheckCudnn(DoctorProbes& probes, const DoctorOptions& options) {
  // ldconfig lives in /sbin, which is often not on a user's PATH.
  CommandResult r = probes.Run({"ldconfig", "-p"}, options.command_timeout_ms);
  for (const char* path : {"/sbin/ldconfig", "/usr/sbin/ldconfig"}) {
    if (r.started) break;
    r = probes.Run({path, "-p"}, options.command_timeout_ms);
  }
  if (r.started && r.exit_code == 0) {
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      const auto pos = line.find("libcudnn.so");
      if (pos == std::string::npos) continue;
      std::string lib = line.substr(pos);
      lib = lib.substr(0, lib.find_first_of(" \t"));
      return Make("cudnn", CheckState::kOk, false, lib + " in the loader cache");
    }
  }
  for (const char* header :
       {"/usr/include/cudnn_version.h", "/usr/include/x86_64-linux-gnu/cudnn_version.h",
        "/usr/local/cuda/include/cudnn_version.h"}) {
    auto text = probes.ReadFile(header);
    if (!text) continue;
    std::string version;
    for (const char* key : {"CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"}) {
      const std::string v = DefineValue(*text, key);
      if (!v.empty()) version += (version.empty() ? "" : ".") + v;
    }
    return Make("cudnn", CheckState::kOk, false,
                "cuDNN " + (version.empty() ? std::string("(version unknown)") : version) +
                    " header at " + header);
  }
  return Make("cudnn", CheckState::kWarning, false,
              "no libcudnn in the loader cache (ldconfig -p) and no cudnn_version.h",
              "Only needed by frameworks that do not bundle it (PyTorch wheels do). Install cuDNN "
              "for your CUDA version (e.g. the nvidia-cudnn package or NVIDIA's archive).");
}

DoctorCheck CheckPython(DoctorProbes& probes, const DoctorOptions& options) {
  const std::string python = probes.FindProgram("python3");
  if (python.empty()) {
    return Make("python_torch", CheckState::kWarning, false, "python3 not found on PATH",
                "Install Python 3 to run PyTorch jobs.");
  }
  const CommandResult r = probes.Run({python, "-c", kPythonProbe}, options.python_timeout_ms);
  if (r.timed_out) {
    return Make("python_torch", CheckState::kWarning, false,
                "python3 did not answer within " +
                    std::to_string(options.python_timeout_ms / 1000) + " s (importing torch hung)",
                "Run `python3 -c 'import torch; print(torch.cuda.is_available())'` by hand.");
  }
  const auto pos = r.output.find(kPythonMarker);
  json answer;
  if (pos != std::string::npos) {
    answer = json::parse(FirstLine(r.output.substr(pos + std::string(kPythonMarker).size())),
                         nullptr, false);
  }
  if (!answer.is_object()) {
    return Make("python_torch", CheckState::kWarning, false,
                python + " failed: " + LastLine(r.output), "Check the Python installation.");
  }
  const std::string py = answer.value("python", std::string("?"));
  if (!answer.contains("torch") || answer["torch"].is_null()) {
    return Make("python_torch", CheckState::kWarning, false,
                "Python " + py + ", PyTorch not importable" +
                    (answer.contains("error") ? " (" + answer["error"].get<std::string>() + ")"
                                              : std::string()),
                "pip install torch (pick the CUDA build at pytorch.org for this driver's CUDA "
                "version).");
  }
  const std::string torch = answer["torch"].is_string() ? answer["torch"].get<std::string>() : "?";
  const std::string cuda = answer.contains("cuda") && answer["cuda"].is_string()
                               ? answer["cuda"].get<std::string>()
                               : "";
  const bool available = answer.value("available", false);
  const std::string head = "Python " + py + ", torch " + torch;
  if (cuda.empty()) {
    return Make("python_torch", CheckState::kWarning, false, head + " is a CPU-only build",
                "Install a CUDA build of PyTorch (see pytorch.org, e.g. pip install torch "
                "--index-url https://download.pytorch.org/whl/cu121).");
  }
  if (!available) {
    return Make("python_torch", CheckState::kWarning, false,
                head + " (CUDA " + cuda + "): torch.cuda.is_available() is False",
                "PyTorch cannot use the driver: check the driver and nvml checks above, and that "
                "the driver supports CUDA " +
                    cuda + " or newer.");
  }
  return Make("python_torch", CheckState::kOk, false,
              head + " (CUDA " + cuda + "): torch.cuda.is_available() is True, " +
                  std::to_string(answer.value("devices", 0)) + " device(s)");
}

DoctorCheck CheckWsl(DoctorProbes& probes, bool wsl) {
  if (!wsl) return Make("wsl", CheckState::kOk, false, "not WSL (native Linux)");
  const bool libcuda = probes.Exists(std::string(kWslLibDir) + "/libcuda.so.1");
  const bool dxg = probes.Exists("/dev/dxg");
  if (libcuda && dxg) {
    return Make("wsl", CheckState::kOk, true,
                std::string("WSL 2 with GPU paravirtualisation: /dev/dxg and ") + kWslLibDir +
                    "/libcuda.so.1 present");
  }
  std::string missing;
  if (!dxg) missing += "/dev/dxg";
  if (!libcuda)
    missing += std::string(missing.empty() ? "" : " and ") + kWslLibDir + "/libcuda.so.1";
  return Make("wsl", CheckState::kMissing, true, "WSL detected but " + missing + " absent",
              "Use WSL 2 (`wsl --set-version <distro> 2`), update WSL (`wsl --update`) and the "
              "Windows NVIDIA driver, and make sure " +
                  std::string(kWslLibDir) + " is on the loader path (ldconfig).");
}

DoctorCheck CheckDocker(DoctorProbes& probes, const DoctorOptions& options) {
  const std::string docker = probes.FindProgram("docker");
  const bool toolkit = !probes.FindProgram("nvidia-container-runtime").empty() ||
                       !probes.FindProgram("nvidia-ctk").empty();
  if (docker.empty()) {
    return Make("docker", CheckState::kWarning, false,
                std::string("docker not found on PATH") +
                    (toolkit ? " (the NVIDIA Container Toolkit is installed)" : ""),
                "Only needed for container jobs: install Docker and the NVIDIA Container Toolkit.");
  }
  const CommandResult r =
      probes.Run({docker, "info", "--format", "{{json .Runtimes}}"}, options.command_timeout_ms);
  if (r.started && r.exit_code == 0 && r.output.find("nvidia") != std::string::npos) {
    return Make("docker", CheckState::kOk, false, "Docker has the nvidia runtime");
  }
  if (!r.started || r.exit_code != 0) {
    return Make("docker", CheckState::kWarning, false,
                "`docker info` failed: " + LastLine(r.output),
                "Start the Docker daemon or add the user to the docker group.");
  }
  if (toolkit) {
    return Make("docker", CheckState::kWarning, false,
                "the NVIDIA Container Toolkit is installed but Docker has no nvidia runtime",
                "sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart "
                "docker");
  }
  return Make("docker", CheckState::kWarning, false, "Docker has no nvidia runtime",
              "Install the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime configure "
              "--runtime=docker` and restart Docker.");
}

}  // namespace

std::string_view CheckStateName(CheckState state) {
  switch (state) {
    case CheckState::kOk:
      return "ok";
    case CheckState::kWarning:
      return "warning";
    case CheckState::kMissing:
      return "missing";
  }
  return "missing";
}

std::string ParseKernelModuleVersion(const std::string& text) {
  const std::string line = FirstLine(text);
  const auto module = line.find("Kernel Module");
  std::string version = VersionToken(line, module == std::string::npos ? 0 : module);
  if (version.empty() && module != std::string::npos) version = VersionToken(line, 0);
  return version;
}

std::optional<int> ParseNvccRelease(const std::string& output) {
  const auto pos = output.find("release ");
  if (pos == std::string::npos) return std::nullopt;
  int major = 0;
  int minor = 0;
  if (std::sscanf(output.c_str() + pos, "release %d.%d", &major, &minor) != 2) return std::nullopt;
  return major * 1000 + minor * 10;
}

std::optional<std::string> SystemProbes::ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool SystemProbes::Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::string SystemProbes::FindProgram(const std::string& name) { return FindOnPath(name); }

CommandResult SystemProbes::Run(const std::vector<std::string>& argv, int timeout_ms) {
  return RunCommand(argv, timeout_ms);
}

Result<NvmlReport> SystemProbes::ProbeNvml() {
  auto nvml = NvmlLibrary::Open(nvml_options_);
  if (!nvml) return Error(nvml.error());
  NvmlReport report;
  report.driver = ReadDriverInfo(**nvml);
  auto gpus = DiscoverGpus(**nvml);
  if (!gpus) return Error(gpus.error());
  for (const GpuDevice& g : *gpus) {
    report.gpu_names.push_back(g.name.empty() ? "unknown GPU" : g.name);
    if (!g.ok()) ++report.lost_gpus;
  }
  return report;
}

ShimReport SystemProbes::ProbeShim() {
  ShimReport report;
  if (const char* v = std::getenv(shim::kGpuMilliEnv); v != nullptr) report.gpu_milli = v;
  if (const char* v = std::getenv(shim::kGpuMemoryMibEnv); v != nullptr) report.gpu_memory_mib = v;
  auto query = reinterpret_cast<GpupoolShimQueryFn>(dlsym(RTLD_DEFAULT, kShimQuerySymbol));
  if (query != nullptr) {
    report.info.size = sizeof(GpupoolShimInfo);
    report.loaded = query(&report.info) == 0;
  }
  return report;
}

namespace {

DoctorCheck CheckShim(DoctorProbes& probes) {
  const ShimReport r = probes.ProbeShim();
  if (r.loaded) {
    const GpupoolShimInfo& i = r.info;
    if (i.config_ok == 0) {
      return Make("shim", CheckState::kWarning, false,
                  std::string("active, but refusing CUDA: ") + i.error,
                  "fix the variable named (the executor sets it from the job's share)");
    }
    std::string detail = std::string("active (") + i.library + ")";
    detail += i.job_id > 0 ? ", job " + std::to_string(i.job_id) : ", no job id (per process)";
    if (i.memory_mib > 0) {
      detail += "; memory capped at " + std::to_string(i.memory_mib) +
                " MiB per GPU (GPUPOOL_GPU_MEMORY_MIB)";
    } else if (i.memory_capped != 0) {
      detail += "; memory capped at " + std::to_string(i.gpu_milli) +
                "/1000 of each GPU's (GPUPOOL_GPU_MILLI)";
    } else {
      detail += "; memory not capped";
    }
    detail += i.paced != 0 ? "; kernel launches paced to " + std::to_string(i.gpu_milli) +
                                 "/1000 of each GPU's time"
                           : "; launches not paced";
    if (i.driver_loaded == 0) {
      return Make("shim", CheckState::kWarning, false,
                  detail + "; the CUDA driver (libcuda.so.1) was not found",
                  "install the NVIDIA driver, or set GPUPOOL_SHIM_CUDA_LIBRARY");
    }
    return Make("shim", CheckState::kOk, false, detail);
  }
  // Not loaded: fine unless the environment gives this process a share the shim should enforce.
  const shim::ShimConfigResult share = shim::ParseShimConfig([&](const char* name) -> const char* {
    const auto& v = std::string_view(name) == shim::kGpuMilliEnv ? r.gpu_milli : r.gpu_memory_mib;
    return std::string_view(name) == shim::kJobIdEnv || !v ? nullptr : v->c_str();
  });
  if (!share.error.empty()) {
    return Make("shim", CheckState::kWarning, false, "not active; " + share.error,
                "fix the variable named");
  }
  if (share.config.enforces()) {
    return Make("shim", CheckState::kWarning, false,
                "not active, yet this process holds a share (GPUPOOL_GPU_MILLI=" +
                    r.gpu_milli.value_or("") + ", GPUPOOL_GPU_MEMORY_MIB=" +
                    r.gpu_memory_mib.value_or("") + "): its GPU memory and time are not enforced",
                "run it through `gpupool serve` with libgpupool-cuda.so installed, or set "
                "LD_PRELOAD to it");
  }
  return Make("shim", CheckState::kOk, false,
              "not active (no GPU fraction or memory cap in this process's environment)");
}

}  // namespace

std::vector<DoctorCheck> RunDoctor(DoctorProbes& probes, const DoctorOptions& options) {
  std::vector<DoctorCheck> checks;
  const bool wsl = IsWsl(probes);
  std::string module_version;
  std::optional<int> cuda_version;
  checks.push_back(CheckDriver(probes, wsl, module_version));
  checks.push_back(CheckNvml(probes, module_version, cuda_version));
  checks.push_back(CheckCuda(probes, options, cuda_version));
  checks.push_back(CheckCudnn(probes, options));
  checks.push_back(CheckPython(probes, options));
  checks.push_back(CheckWsl(probes, wsl));
  checks.push_back(CheckDocker(probes, options));
  checks.push_back(CheckShim(probes));
  return checks;
}

bool DoctorPassed(const std::vector<DoctorCheck>& checks) {
  return std::none_of(checks.begin(), checks.end(), [](const DoctorCheck& c) {
    return c.required && c.state == CheckState::kMissing;
  });
}

std::string FormatDoctor(const std::vector<DoctorCheck>& checks) {
  std::string out;
  for (const DoctorCheck& c : checks) {
    char head[64];
    std::snprintf(head, sizeof head, "[%-7s] %-13s", std::string(CheckStateName(c.state)).c_str(),
                  c.name.c_str());
    out += std::string(head) + c.detail + "\n";
    if (!c.next_step.empty()) out += std::string(24, ' ') + "next: " + c.next_step + "\n";
  }
  const bool passed = DoctorPassed(checks);
  out += passed ? "\nReady to run GPU jobs"
                : "\nNot ready to run GPU jobs: fix the required checks marked missing";
  const auto warnings = std::count_if(checks.begin(), checks.end(), [](const DoctorCheck& c) {
    return c.state == CheckState::kWarning;
  });
  if (warnings > 0) out += " (" + std::to_string(warnings) + " warning(s) above)";
  out += ".\n";
  return out;
}

ordered_json DoctorJson(const std::vector<DoctorCheck>& checks) {
  ordered_json list = ordered_json::array();
  for (const DoctorCheck& c : checks) {
    list.push_back({{"name", c.name},
                    {"state", CheckStateName(c.state)},
                    {"required", c.required},
                    {"detail", c.detail},
                    {"next_step", c.next_step}});
  }
  return {{"passed", DoctorPassed(checks)}, {"checks", list}};
}

}  // namespace gpupool::discovery

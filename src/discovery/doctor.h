// `gpupool doctor`: checks that a machine can run GPU jobs and says how to fix what is not there.
//
// Checks, in order: driver (kernel module version from /proc/driver/nvidia/version, or the WSL
// driver libraries), nvml (loads, initialises, sees GPUs; version agrees with the kernel module),
// cuda_toolkit (nvcc's version against the driver's CUDA version), cudnn (ldconfig cache or
// header), python_torch (python3, PyTorch and torch.cuda.is_available(), with a time limit), wsl
// (detects WSL and checks /usr/lib/wsl/lib and /dev/dxg), docker (Docker's NVIDIA runtime), shim
// (whether the CUDA shim, libgpupool-cuda.so, is active in this process and what it enforces; run
// inside a job, it says whether the job's GPU share holds: docs/shim.md).
//
// Each check is ok, warning or missing, with the reason and the next step. The machine passes when
// no *required* check is missing; only driver and nvml (and wsl, on WSL) are required: the rest
// matter for some jobs only and warn.
//
// Every outside fact comes through DoctorProbes, so tests drive the checks with a fake.
// Thread safety: RunDoctor is as thread-safe as its probes.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/run_command.h"
#include "common/status.h"
#include "discovery/gpu_info.h"
#include "discovery/nvml_library.h"
#include "shim/shim_info.h"

namespace gpupool::discovery {

enum class CheckState { kOk, kWarning, kMissing };

// "ok", "warning", "missing".
std::string_view CheckStateName(CheckState state);

struct DoctorCheck {
  std::string name;  // "driver", "nvml", ...
  CheckState state = CheckState::kMissing;
  bool required = false;  // a missing required check fails the doctor
  std::string detail;     // what was found, or why not
  std::string next_step;  // empty when ok
};

// The CUDA shim as this process sees it.
struct ShimReport {
  bool loaded = false;     // libgpupool-cuda.so is in this process (its query symbol was found)
  GpupoolShimInfo info{};  // what it reports, when loaded
  // The job's share as the environment gives it (nullopt: unset), for a shim that is missing.
  std::optional<std::string> gpu_milli;
  std::optional<std::string> gpu_memory_mib;
};

struct NvmlReport {
  DriverInfo driver;
  std::vector<std::string> gpu_names;  // by index; lost GPUs included
  int lost_gpus = 0;
};

class DoctorProbes {
 public:
  virtual ~DoctorProbes() = default;
  virtual std::optional<std::string> ReadFile(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // Full path of a program on PATH, "" when absent.
  virtual std::string FindProgram(const std::string& name) = 0;
  virtual CommandResult Run(const std::vector<std::string>& argv, int timeout_ms) = 0;
  virtual Result<NvmlReport> ProbeNvml() = 0;
  // Default: no shim and no share (a machine outside any job).
  virtual ShimReport ProbeShim() { return {}; }
};

// The real machine: files, PATH, child processes and NVML (loaded with `nvml_options`).
class SystemProbes : public DoctorProbes {
 public:
  explicit SystemProbes(NvmlLoadOptions nvml_options = {})
      : nvml_options_(std::move(nvml_options)) {}
  std::optional<std::string> ReadFile(const std::string& path) override;
  bool Exists(const std::string& path) override;
  std::string FindProgram(const std::string& name) override;
  CommandResult Run(const std::vector<std::string>& argv, int timeout_ms) override;
  Result<NvmlReport> ProbeNvml() override;
  // dlsym(RTLD_DEFAULT, kShimQuerySymbol) and the environment.
  ShimReport ProbeShim() override;

 private:
  NvmlLoadOptions nvml_options_;
};

struct DoctorOptions {
  int python_timeout_ms = 30000;  // importing torch can be slow on a cold cache
  int command_timeout_ms = 10000;
};

std::vector<DoctorCheck> RunDoctor(DoctorProbes& probes, const DoctorOptions& options = {});

// True when no required check is missing (exit code 0).
bool DoctorPassed(const std::vector<DoctorCheck>& checks);

std::string FormatDoctor(const std::vector<DoctorCheck>& checks);
nlohmann::ordered_json DoctorJson(const std::vector<DoctorCheck>& checks);

// Parsers, exposed for tests.
// "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  ..." -> "550.54.15".
std::string ParseKernelModuleVersion(const std::string& proc_version_text);
// nvcc --version output "... release 12.4, V12.4.131" -> 12040 (NVML's encoding); nullopt if
// absent.
std::optional<int> ParseNvccRelease(const std::string& nvcc_output);

}  // namespace gpupool::discovery

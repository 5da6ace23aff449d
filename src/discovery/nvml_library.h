// NvmlLibrary: NVML loaded at run time with dlopen and initialised. The build never links NVML; a
// machine without the NVIDIA driver gets a Status that says so, never a crash.
//
// Loading order: NvmlLoadOptions::library_path if set, else the environment variable
// GPUPOOL_NVML_LIBRARY if set (tests point it at the fake library), else "libnvidia-ml.so.1", then
// "libnvidia-ml.so". Entry points a driver lacks (older drivers) are left null; callers treat a
// null entry point as "not supported". The few that every driver has are required.
//
// Errors: kUnavailable with a message naming the cause and the fix: library not found, a required
// symbol missing, driver not loaded, library/driver version mismatch, no permission, other nvmlInit
// failure.
//
// Ownership and thread safety: the object owns the dlopen handle and one nvmlInit; the destructor
// calls nvmlShutdown and dlclose. NVML itself is thread-safe; the object is immutable after Open.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "discovery/nvml_api.h"

namespace gpupool::discovery {

inline constexpr const char* kNvmlLibraryEnv = "GPUPOOL_NVML_LIBRARY";

struct NvmlLoadOptions {
  std::string library_path;  // empty: GPUPOOL_NVML_LIBRARY, then the default names
};

// Function pointers resolved from the library; optional ones may be null.
struct NvmlFunctions {
  decltype(&::nvmlInit_v2) Init = nullptr;
  decltype(&::nvmlShutdown) Shutdown = nullptr;
  decltype(&::nvmlErrorString) ErrorString = nullptr;
  decltype(&::nvmlSystemGetDriverVersion) SystemGetDriverVersion = nullptr;
  decltype(&::nvmlSystemGetNVMLVersion) SystemGetNVMLVersion = nullptr;
  decltype(&::nvmlSystemGetCudaDriverVersion_v2) SystemGetCudaDriverVersion = nullptr;
  decltype(&::nvmlSystemGetProcessName) SystemGetProcessName = nullptr;
  decltype(&::nvmlDeviceGetCount_v2) DeviceGetCount = nullptr;
  decltype(&::nvmlDeviceGetHandleByIndex_v2) DeviceGetHandleByIndex = nullptr;
  decltype(&::nvmlDeviceGetName) DeviceGetName = nullptr;
  decltype(&::nvmlDeviceGetUUID) DeviceGetUUID = nullptr;
  decltype(&::nvmlDeviceGetMemoryInfo) DeviceGetMemoryInfo = nullptr;
  decltype(&::nvmlDeviceGetMemoryInfo_v2) DeviceGetMemoryInfoV2 = nullptr;
  decltype(&::nvmlDeviceGetPciInfo_v3) DeviceGetPciInfo = nullptr;
  decltype(&::nvmlDeviceGetCudaComputeCapability) DeviceGetCudaComputeCapability = nullptr;
  decltype(&::nvmlDeviceGetMigMode) DeviceGetMigMode = nullptr;
  decltype(&::nvmlDeviceGetMaxMigDeviceCount) DeviceGetMaxMigDeviceCount = nullptr;
  decltype(&::nvmlDeviceGetMigDeviceHandleByIndex) DeviceGetMigDeviceHandleByIndex = nullptr;
  decltype(&::nvmlDeviceGetGpuInstanceId) DeviceGetGpuInstanceId = nullptr;
  decltype(&::nvmlDeviceGetPowerManagementLimit) DeviceGetPowerManagementLimit = nullptr;
  decltype(&::nvmlDeviceGetUtilizationRates) DeviceGetUtilizationRates = nullptr;
  decltype(&::nvmlDeviceGetTemperature) DeviceGetTemperature = nullptr;
  decltype(&::nvmlDeviceGetPowerUsage) DeviceGetPowerUsage = nullptr;
  decltype(&::nvmlDeviceGetClockInfo) DeviceGetClockInfo = nullptr;
  decltype(&::nvmlDeviceGetTotalEccErrors) DeviceGetTotalEccErrors = nullptr;
  decltype(&::nvmlDeviceGetCurrentClocksThrottleReasons) DeviceGetCurrentClocksThrottleReasons =
      nullptr;
  decltype(&::nvmlDeviceGetComputeRunningProcesses_v3) DeviceGetComputeRunningProcesses = nullptr;
  decltype(&::nvmlDeviceGetNvLinkState) DeviceGetNvLinkState = nullptr;
  decltype(&::nvmlDeviceGetNvLinkRemotePciInfo_v2) DeviceGetNvLinkRemotePciInfo = nullptr;
  decltype(&::nvmlDeviceGetTopologyCommonAncestor) DeviceGetTopologyCommonAncestor = nullptr;
  decltype(&::nvmlDeviceGetCpuAffinity) DeviceGetCpuAffinity = nullptr;
  decltype(&::nvmlDeviceGetNumaNodeId) DeviceGetNumaNodeId = nullptr;
};

class NvmlLibrary {
 public:
  // Loads and initialises NVML. See the file comment for the order and the errors.
  static Result<std::unique_ptr<NvmlLibrary>> Open(const NvmlLoadOptions& options = {});

  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;
  ~NvmlLibrary();

  const NvmlFunctions& fn() const { return fn_; }
  // The path or name that dlopen accepted.
  const std::string& path() const { return path_; }
  // "GPU is lost (NVML error 15)".
  std::string ErrorString(nvmlReturn_t code) const;

 private:
  NvmlLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  void* handle_ = nullptr;
  std::string path_;
  NvmlFunctions fn_;
};

// The message for an nvmlInit failure: the cause in words and the next step.
std::string DescribeInitFailure(nvmlReturn_t code, const std::string& nvml_message);

}  // namespace gpupool::discovery

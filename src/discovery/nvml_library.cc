#include "discovery/nvml_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

namespace gpupool::discovery {
namespace {

// dlsym returns void*; converting it to a function pointer is what POSIX guarantees works.
template <typename Fn>
void Resolve(void* handle, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(handle, name));
}

}  // namespace

std::string DescribeInitFailure(nvmlReturn_t code, const std::string& nvml_message) {
  const std::string what =
      "nvmlInit failed: " + nvml_message + " (NVML error " + std::to_string(code) + ")";
  switch (code) {
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return what +
             ": the NVIDIA kernel driver is not loaded. Load it (`sudo modprobe nvidia`) or "
             "reinstall the driver, then run `gpupool doctor`.";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
      return what +
             ": the NVML library and the loaded kernel driver have different versions, usually "
             "after a driver upgrade without a reboot. Reboot the machine (or reload the nvidia "
             "kernel modules).";
    case NVML_ERROR_NO_PERMISSION:
      return what +
             ": no permission to open /dev/nvidia*. Add the user to the group that owns "
             "the device files, or run inside a container started with GPU access.";
    case NVML_ERROR_LIBRARY_NOT_FOUND:
      return what + ": NVML could not find a driver component. Reinstall the NVIDIA driver.";
    default:
      return what + ". Check the driver with `nvidia-smi` and `gpupool doctor`.";
  }
}

Result<std::unique_ptr<NvmlLibrary>> NvmlLibrary::Open(const NvmlLoadOptions& options) {
  std::vector<std::string> candidates;
  if (!options.library_path.empty()) {
    candidates.push_back(options.library_path);
  } else if (const char* env = std::getenv(kNvmlLibraryEnv); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  } else {
    candidates = {"libnvidia-ml.so.1", "libnvidia-ml.so"};
  }
  void* handle = nullptr;
  std::string tried;
  std::string last_error;
  for (const std::string& name : candidates) {
    handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) {
      std::unique_ptr<NvmlLibrary> lib(new NvmlLibrary(handle, name));
      NvmlFunctions& f = lib->fn_;
      Resolve(handle, "nvmlInit_v2", f.Init);
      Resolve(handle, "nvmlShutdown", f.Shutdown);
      Resolve(handle, "nvmlErrorString", f.ErrorString);
      Resolve(handle, "nvmlSystemGetDriverVersion", f.SystemGetDriverVersion);
      Resolve(handle, "nvmlSystemGetNVMLVersion", f.SystemGetNVMLVersion);
      Resolve(handle, "nvmlSystemGetCudaDriverVersion_v2", f.SystemGetCudaDriverVersion);
      Resolve(handle, "nvmlSystemGetProcessName", f.SystemGetProcessName);
      Resolve(handle, "nvmlDeviceGetCount_v2", f.DeviceGetCount);
      Resolve(handle, "nvmlDeviceGetHandleByIndex_v2", f.DeviceGetHandleByIndex);
      Resolve(handle, "nvmlDeviceGetName", f.DeviceGetName);
      Resolve(handle, "nvmlDeviceGetUUID", f.DeviceGetUUID);
      Resolve(handle, "nvmlDeviceGetMemoryInfo", f.DeviceGetMemoryInfo);
      Resolve(handle, "nvmlDeviceGetMemoryInfo_v2", f.DeviceGetMemoryInfoV2);
      Resolve(handle, "nvmlDeviceGetPciInfo_v3", f.DeviceGetPciInfo);
      Resolve(handle, "nvmlDeviceGetCudaComputeCapability", f.DeviceGetCudaComputeCapability);
      Resolve(handle, "nvmlDeviceGetMigMode", f.DeviceGetMigMode);
      Resolve(handle, "nvmlDeviceGetMaxMigDeviceCount", f.DeviceGetMaxMigDeviceCount);
      Resolve(handle, "nvmlDeviceGetMigDeviceHandleByIndex", f.DeviceGetMigDeviceHandleByIndex);
      Resolve(handle, "nvmlDeviceGetGpuInstanceId", f.DeviceGetGpuInstanceId);
      Resolve(handle, "nvmlDeviceGetPowerManagementLimit", f.DeviceGetPowerManagementLimit);
      Resolve(handle, "nvmlDeviceGetUtilizationRates", f.DeviceGetUtilizationRates);
      Resolve(handle, "nvmlDeviceGetTemperature", f.DeviceGetTemperature);
      Resolve(handle, "nvmlDeviceGetPowerUsage", f.DeviceGetPowerUsage);
      Resolve(handle, "nvmlDeviceGetClockInfo", f.DeviceGetClockInfo);
      Resolve(handle, "nvmlDeviceGetTotalEccErrors", f.DeviceGetTotalEccErrors);
      Resolve(handle, "nvmlDeviceGetCurrentClocksThrottleReasons",
              f.DeviceGetCurrentClocksThrottleReasons);
      Resolve(handle, "nvmlDeviceGetComputeRunningProcesses_v3",
              f.DeviceGetComputeRunningProcesses);
      Resolve(handle, "nvmlDeviceGetNvLinkState", f.DeviceGetNvLinkState);
      Resolve(handle, "nvmlDeviceGetNvLinkRemotePciInfo_v2", f.DeviceGetNvLinkRemotePciInfo);
      Resolve(handle, "nvmlDeviceGetTopologyCommonAncestor", f.DeviceGetTopologyCommonAncestor);
      Resolve(handle, "nvmlDeviceGetCpuAffinity", f.DeviceGetCpuAffinity);
      Resolve(handle, "nvmlDeviceGetNumaNodeId", f.DeviceGetNumaNodeId);
      // Same signatures under other names: drivers before R510 lack the _v3 process query (the
      // _v2 one fills the same struct); CUDA 12 drivers renamed throttle reasons "clock events".
      if (f.DeviceGetComputeRunningProcesses == nullptr) {
        Resolve(handle, "nvmlDeviceGetComputeRunningProcesses_v2",
                f.DeviceGetComputeRunningProcesses);
      }
      if (f.DeviceGetCurrentClocksThrottleReasons == nullptr) {
        Resolve(handle, "nvmlDeviceGetCurrentClocksEventReasons",
                f.DeviceGetCurrentClocksThrottleReasons);
      }

      const std::pair<const char*, bool> required[] = {
          {"nvmlInit_v2", f.Init != nullptr},
          {"nvmlShutdown", f.Shutdown != nullptr},
          {"nvmlErrorString", f.ErrorString != nullptr},
          {"nvmlDeviceGetCount_v2", f.DeviceGetCount != nullptr},
          {"nvmlDeviceGetHandleByIndex_v2", f.DeviceGetHandleByIndex != nullptr},
          {"nvmlDeviceGetName", f.DeviceGetName != nullptr},
          {"nvmlDeviceGetUUID", f.DeviceGetUUID != nullptr},
          {"nvmlDeviceGetMemoryInfo", f.DeviceGetMemoryInfo != nullptr},
      };
      for (const auto& [symbol, present] : required) {
        if (!present) {
          // Leave Shutdown unset so the destructor only closes the handle.
          f.Shutdown = nullptr;
          return Error(Status::Unavailable(
              name + " lacks " + symbol +
              ": the NVIDIA driver is too old or the library is not NVML. Install a current "
              "NVIDIA driver (R450 or newer)."));
        }
      }
      const nvmlReturn_t rc = f.Init();
      if (rc != NVML_SUCCESS) {
        const char* text = f.ErrorString(rc);
        const std::string message = text != nullptr ? text : "unknown error";
        f.Shutdown = nullptr;  // nothing to shut down
        return Error(Status::Unavailable(DescribeInitFailure(rc, message)));
      }
      return lib;
    }
    const char* err = dlerror();
    last_error = err != nullptr ? err : "unknown dlopen error";
    tried += (tried.empty() ? "" : ", ") + name;
  }
  return Error(Status::Unavailable(
      "no NVIDIA driver found: could not load NVML (tried " + tried + "; " + last_error +
      "). Install the NVIDIA driver, which ships libnvidia-ml.so.1, or check the loader path; "
      "`gpupool doctor` lists what is missing."));
}

NvmlLibrary::~NvmlLibrary() {
  if (fn_.Shutdown != nullptr) fn_.Shutdown();
  if (handle_ != nullptr) dlclose(handle_);
}

std::string NvmlLibrary::ErrorString(nvmlReturn_t code) const {
  const char* text = fn_.ErrorString != nullptr ? fn_.ErrorString(code) : nullptr;
  return std::string(text != nullptr ? text : "unknown error") + " (NVML error " +
         std::to_string(code) + ")";
}

}  // namespace gpupool::discovery

// A fake libnvidia-ml.so.1 for the discovery tests: exports the NVML entry points gpupool calls
// (declared in discovery/nvml_api.h) and answers them from a scripted description, a JSON file
// named by the environment variable FAKE_NVML_SCRIPT, read at each nvmlInit_v2.
//
// Script members (all optional):
//   init_error       nvmlInit_v2's return code (9 driver not loaded, 18 version mismatch, ...)
//   count_error      nvmlDeviceGetCount_v2's return code
//   driver_version, nvml_version, cuda_version (int, 12040 = 12.4)
//   process_names    {"<pid>": "name"}
//   pcie_levels      matrix of nvmlGpuTopologyLevel_t values by GPU index (default SYSTEM)
//   gpus: [{
//     name, uuid, bus_id ("00000000:18:00.0"), memory_total_mib, memory_used_mib,
//     memory_reserved_mib (counted as used by the v1 memory call only),
//     cc [major, minor], power_limit_mw, power_mw, temp, util [gpu, memory], sm_clock, mem_clock,
//     ecc [corrected, uncorrected], throttle (bit mask), numa_node, cpus [first, last],
//     mig (bool; absent = MIG not supported), mig_devices [{name, uuid, memory_total_mib, gi}],
//     nvlinks [remote bus id per active link], processes [{pid, used_mib}],
//     unsupported ["nvmlDeviceGetPowerUsage", ...]  -> NVML_ERROR_NOT_SUPPORTED
//     lost (bool)         every call on the GPU answers NVML_ERROR_GPU_IS_LOST
//     lost_handle (bool)  even nvmlDeviceGetHandleByIndex_v2 answers it
//     lost_if_exists (path)  lost from the moment that file exists (a GPU lost while a
//                            service runs; the service tests create the file)
//   }]
// Not thread-safe; the tests call it from one thread.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "discovery/nvml_api.h"

using nlohmann::json;

struct nvmlDevice_st {
  json spec;
  bool is_mig = false;
  std::vector<nvmlDevice_st*> migs;
};

namespace {

constexpr unsigned long long kMiB = 1024ULL * 1024ULL;

struct State {
  int init_count = 0;
  json script;
  std::vector<std::unique_ptr<nvmlDevice_st>> devices;  // GPUs first, then MIG devices
  std::size_t gpu_count = 0;
};

State& S() {
  static State state;
  return state;
}

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

// FAKE_NVML_LEGACY builds a driver of another generation: no nvmlDeviceGetMemoryInfo_v2 and no
// nvmlDeviceGetNumaNodeId, the process query only as _v2, throttle reasons only under the CUDA 12
// name "clock events". gpupool must fall back or show N/A.
#ifdef FAKE_NVML_LEGACY
#define FAKE_RUNNING_PROCESSES nvmlDeviceGetComputeRunningProcesses_v2
#define FAKE_THROTTLE_REASONS nvmlDeviceGetCurrentClocksEventReasons
#else
#define FAKE_RUNNING_PROCESSES nvmlDeviceGetComputeRunningProcesses_v3
#define FAKE_THROTTLE_REASONS nvmlDeviceGetCurrentClocksThrottleReasons
#endif

bool Unsupported(const nvmlDevice_st* d, const char* fn) {
  if (!d->spec.contains("unsupported")) return false;
  for (const auto& name : d->spec["unsupported"]) {
    if (name.is_string() && name.get<std::string>() == fn) return true;
  }
  return false;
}

// Common prologue of a device call: initialised, valid handle, not lost, supported.
nvmlReturn_t Check(nvmlDevice_t d, const char* fn) {
  if (S().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (d == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (d->spec.value("lost", false)) return NVML_ERROR_GPU_IS_LOST;
  if (const std::string f = d->spec.value("lost_if_exists", std::string()); !f.empty()) {
    if (std::ifstream(f).good()) return NVML_ERROR_GPU_IS_LOST;
  }
  if (Unsupported(d, fn)) return NVML_ERROR_NOT_SUPPORTED;
  return NVML_SUCCESS;
}

nvmlReturn_t CopyString(const std::string& s, char* out, unsigned int length) {
  if (out == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (s.size() + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  std::memcpy(out, s.c_str(), s.size() + 1);
  return NVML_SUCCESS;
}

void FillPci(const std::string& bus_id, nvmlPciInfo_t* pci) {
  std::memset(pci, 0, sizeof *pci);
  std::snprintf(pci->busId, sizeof pci->busId, "%s", bus_id.c_str());
  // Legacy form keeps four domain digits: "00000000:18:00.0" -> "0000:18:00.0".
  const std::string legacy = bus_id.size() > 4 ? bus_id.substr(4) : bus_id;
  std::snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%s", legacy.c_str());
  unsigned int domain = 0, bus = 0, device = 0, function = 0;
  if (std::sscanf(bus_id.c_str(), "%x:%x:%x.%x", &domain, &bus, &device, &function) == 4) {
    pci->domain = domain;
    pci->bus = bus;
    pci->device = device;
  }
}

}  // namespace

FAKE_EXPORT nvmlReturn_t nvmlInit_v2(void) {
  State& s = S();
  const char* path = std::getenv("FAKE_NVML_SCRIPT");
  json script = json::object();
  if (path != nullptr) {
    std::ifstream in(path);
    if (!in) return NVML_ERROR_UNKNOWN;
    script = json::parse(in, nullptr, false);
    if (script.is_discarded()) return NVML_ERROR_UNKNOWN;
  }
  const int init_error = script.value("init_error", 0);
  if (init_error != 0) return init_error;
  if (s.init_count++ > 0) return NVML_SUCCESS;
  s.script = script;
  s.devices.clear();
  const json gpus = script.value("gpus", json::array());
  s.gpu_count = gpus.size();
  for (const json& g : gpus) {
    auto dev = std::make_unique<nvmlDevice_st>();
    dev->spec = g;
    s.devices.push_back(std::move(dev));
  }
  for (std::size_t i = 0; i < s.gpu_count; ++i) {
    nvmlDevice_st* parent = s.devices[i].get();
    for (const json& m : parent->spec.value("mig_devices", json::array())) {
      auto mig = std::make_unique<nvmlDevice_st>();
      mig->spec = m;
      mig->is_mig = true;
      parent->migs.push_back(mig.get());
      s.devices.push_back(std::move(mig));
    }
  }
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlShutdown(void) {
  State& s = S();
  if (s.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (--s.init_count == 0) s.devices.clear();
  return NVML_SUCCESS;
}

FAKE_EXPORT const char* nvmlErrorString(nvmlReturn_t result) {
  switch (result) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_UNINITIALIZED:
      return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
      return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_NO_PERMISSION:
      return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND:
      return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE:
      return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST:
      return "GPU is lost";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
      return "Driver/library version mismatch";
    default:
      return "Unknown Error";
  }
}

FAKE_EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  if (S().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  return CopyString(S().script.value("driver_version", "550.54.15"), version, length);
}

FAKE_EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char* version, unsigned int length) {
  if (S().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  return CopyString(S().script.value("nvml_version", "12.550.54.15"), version, length);
}

FAKE_EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int* cuda) {
  if (S().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  *cuda = S().script.value("cuda_version", 12040);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlSystemGetProcessName(unsigned int pid, char* name,
                                                  unsigned int length) {
  if (S().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  const json names = S().script.value("process_names", json::object());
  const std::string key = std::to_string(pid);
  if (!names.contains(key)) return NVML_ERROR_NOT_FOUND;
  return CopyString(names[key].get<std::string>(), name, length);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  if (S().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  const int err = S().script.value("count_error", 0);
  if (err != 0) return err;
  *count = static_cast<unsigned int>(S().gpu_count);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  if (S().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (index >= S().gpu_count) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlDevice_st* d = S().devices[index].get();
  if (d->spec.value("lost_handle", false)) return NVML_ERROR_GPU_IS_LOST;
  *device = d;
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* name, unsigned int length) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetName"); rc != NVML_SUCCESS) return rc;
  return CopyString(d->spec.value("name", "NVIDIA Fake GPU"), name, length);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char* uuid, unsigned int length) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetUUID"); rc != NVML_SUCCESS) return rc;
  return CopyString(d->spec.value("uuid", "GPU-00000000-0000-0000-0000-000000000000"), uuid,
                    length);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* memory) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetMemoryInfo"); rc != NVML_SUCCESS) return rc;
  const unsigned long long total = d->spec.value("memory_total_mib", 0ULL) * kMiB;
  const unsigned long long used =
      (d->spec.value("memory_used_mib", 0ULL) + d->spec.value("memory_reserved_mib", 0ULL)) * kMiB;
  memory->total = total;
  memory->used = used;
  memory->free = total - used;
  return NVML_SUCCESS;
}

#ifndef FAKE_NVML_LEGACY  // R470-era drivers: no _v2 memory call
// v2 leaves driver-reserved memory out of "used"; v1 counts it (memory_reserved_mib, default 0).
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t* memory) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetMemoryInfo_v2"); rc != NVML_SUCCESS) return rc;
  if (memory->version != kNvmlMemoryV2Version) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  const unsigned long long total = d->spec.value("memory_total_mib", 0ULL) * kMiB;
  const unsigned long long used = d->spec.value("memory_used_mib", 0ULL) * kMiB;
  const unsigned long long reserved = d->spec.value("memory_reserved_mib", 0ULL) * kMiB;
  memory->total = total;
  memory->reserved = reserved;
  memory->used = used;
  memory->free = total - used - reserved;
  return NVML_SUCCESS;
}
#endif

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t* pci) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetPciInfo_v3"); rc != NVML_SUCCESS) return rc;
  FillPci(d->spec.value("bus_id", "00000000:00:00.0"), pci);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int* major,
                                                            int* minor) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetCudaComputeCapability"); rc != NVML_SUCCESS) {
    return rc;
  }
  const json cc = d->spec.value("cc", json::array({8, 0}));
  *major = cc[0].get<int>();
  *minor = cc[1].get<int>();
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int* current,
                                              unsigned int* pending) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetMigMode"); rc != NVML_SUCCESS) return rc;
  if (!d->spec.contains("mig")) return NVML_ERROR_NOT_SUPPORTED;
  *current = d->spec["mig"].get<bool>() ? 1U : 0U;
  *pending = *current;
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int* count) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetMaxMigDeviceCount"); rc != NVML_SUCCESS) return rc;
  if (!d->spec.contains("mig")) return NVML_ERROR_NOT_SUPPORTED;
  *count = 7;  // A100/H100: up to seven instances
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int index,
                                                             nvmlDevice_t* mig) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetMigDeviceHandleByIndex"); rc != NVML_SUCCESS) {
    return rc;
  }
  if (index >= d->migs.size()) return NVML_ERROR_NOT_FOUND;
  *mig = d->migs[index];
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t d, unsigned int* id) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetGpuInstanceId"); rc != NVML_SUCCESS) return rc;
  if (!d->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
  *id = d->spec.value("gi", 0U);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int* limit) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetPowerManagementLimit"); rc != NVML_SUCCESS) {
    return rc;
  }
  *limit = d->spec.value("power_limit_mw", 300000U);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* util) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetUtilizationRates"); rc != NVML_SUCCESS) return rc;
  const json u = d->spec.value("util", json::array({0, 0}));
  util->gpu = u[0].get<unsigned int>();
  util->memory = u[1].get<unsigned int>();
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int* temp) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetTemperature"); rc != NVML_SUCCESS) return rc;
  if (sensor != NVML_TEMPERATURE_GPU) return NVML_ERROR_INVALID_ARGUMENT;
  *temp = d->spec.value("temp", 30U);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int* power) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetPowerUsage"); rc != NVML_SUCCESS) return rc;
  *power = d->spec.value("power_mw", 50000U);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int* clock) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetClockInfo"); rc != NVML_SUCCESS) return rc;
  if (type == NVML_CLOCK_SM || type == NVML_CLOCK_GRAPHICS) {
    *clock = d->spec.value("sm_clock", 1000U);
  } else if (type == NVML_CLOCK_MEM) {
    *clock = d->spec.value("mem_clock", 1000U);
  } else {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t d, int error_type,
                                                     int counter_type, unsigned long long* count) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetTotalEccErrors"); rc != NVML_SUCCESS) return rc;
  if (counter_type != NVML_VOLATILE_ECC && counter_type != NVML_AGGREGATE_ECC) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  const json ecc = d->spec.value("ecc", json::array({0, 0}));
  *count = ecc[error_type == NVML_MEMORY_ERROR_TYPE_CORRECTED ? 0 : 1].get<unsigned long long>();
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t FAKE_THROTTLE_REASONS(nvmlDevice_t d, unsigned long long* reasons) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetCurrentClocksThrottleReasons"); rc != NVML_SUCCESS) {
    return rc;
  }
  *reasons = d->spec.value("throttle", 0ULL);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t FAKE_RUNNING_PROCESSES(nvmlDevice_t d, unsigned int* count,
                                                nvmlProcessInfo_t* infos) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetComputeRunningProcesses_v3"); rc != NVML_SUCCESS) {
    return rc;
  }
  const json procs = d->spec.value("processes", json::array());
  if (*count < procs.size()) {
    *count = static_cast<unsigned int>(procs.size());
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  *count = static_cast<unsigned int>(procs.size());
  for (std::size_t i = 0; i < procs.size(); ++i) {
    infos[i].pid = procs[i].value("pid", 0U);
    infos[i].usedGpuMemory = procs[i].contains("used_mib")
                                 ? procs[i]["used_mib"].get<unsigned long long>() * kMiB
                                 : NVML_VALUE_NOT_AVAILABLE;
    infos[i].gpuInstanceId = 0xFFFFFFFFU;
    infos[i].computeInstanceId = 0xFFFFFFFFU;
  }
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t d, unsigned int link,
                                                  int* is_active) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetNvLinkState"); rc != NVML_SUCCESS) return rc;
  if (link >= NVML_NVLINK_MAX_LINKS) return NVML_ERROR_INVALID_ARGUMENT;
  const json links = d->spec.value("nvlinks", json::array());
  if (links.empty()) return NVML_ERROR_NOT_SUPPORTED;
  *is_active = link < links.size() ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t d, unsigned int link,
                                                             nvmlPciInfo_t* pci) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetNvLinkRemotePciInfo_v2"); rc != NVML_SUCCESS) {
    return rc;
  }
  const json links = d->spec.value("nvlinks", json::array());
  if (link >= links.size()) return NVML_ERROR_INVALID_ARGUMENT;
  FillPci(links[link].get<std::string>(), pci);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetTopologyCommonAncestor(nvmlDevice_t a, nvmlDevice_t b,
                                                             int* level) {
  if (nvmlReturn_t rc = Check(a, "nvmlDeviceGetTopologyCommonAncestor"); rc != NVML_SUCCESS) {
    return rc;
  }
  if (nvmlReturn_t rc = Check(b, "nvmlDeviceGetTopologyCommonAncestor"); rc != NVML_SUCCESS) {
    return rc;
  }
  std::size_t ia = 0, ib = 0;
  for (std::size_t i = 0; i < S().gpu_count; ++i) {
    if (S().devices[i].get() == a) ia = i;
    if (S().devices[i].get() == b) ib = i;
  }
  const json levels = S().script.value("pcie_levels", json::array());
  *level = NVML_TOPOLOGY_SYSTEM;
  if (ia < levels.size() && ib < levels[ia].size()) *level = levels[ia][ib].get<int>();
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCpuAffinity(nvmlDevice_t d, unsigned int cpu_set_size,
                                                  unsigned long* cpu_set) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetCpuAffinity"); rc != NVML_SUCCESS) return rc;
  if (!d->spec.contains("cpus")) return NVML_ERROR_NOT_SUPPORTED;
  const unsigned int bits = static_cast<unsigned int>(sizeof(unsigned long) * 8);
  for (unsigned int w = 0; w < cpu_set_size; ++w) cpu_set[w] = 0;
  const unsigned int first = d->spec["cpus"][0].get<unsigned int>();
  const unsigned int last = d->spec["cpus"][1].get<unsigned int>();
  for (unsigned int cpu = first; cpu <= last && cpu / bits < cpu_set_size; ++cpu) {
    cpu_set[cpu / bits] |= 1UL << (cpu % bits);
  }
  return NVML_SUCCESS;
}

#ifndef FAKE_NVML_LEGACY  // added in later drivers
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetNumaNodeId(nvmlDevice_t d, unsigned int* node) {
  if (nvmlReturn_t rc = Check(d, "nvmlDeviceGetNumaNodeId"); rc != NVML_SUCCESS) return rc;
  if (!d->spec.contains("numa_node")) return NVML_ERROR_NOT_SUPPORTED;
  *node = d->spec["numa_node"].get<unsigned int>();
  return NVML_SUCCESS;
}
#endif

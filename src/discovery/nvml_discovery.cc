#include "discovery/nvml_discovery.h"

#include <climits>
#include <filesystem>
#include <fstream>
#include <optional>

#include "common/strings.h"
#include "discovery/model_names.h"

namespace gpupool::discovery {
namespace {

constexpr std::int64_t kMiB = std::int64_t{1024} * 1024;

std::int64_t BytesToMiB(unsigned long long bytes) {
  return static_cast<std::int64_t>(bytes / static_cast<unsigned long long>(kMiB));
}

std::string LostMessage(const NvmlLibrary& nvml, nvmlReturn_t rc) {
  return nvml.ErrorString(rc) +
         ": the GPU stopped answering (fell off the bus or hung). Drain the node, check `dmesg` "
         "for Xid errors, then reset the GPU or reboot.";
}

bool IsFatalForGpu(nvmlReturn_t rc) {
  return rc == NVML_ERROR_GPU_IS_LOST || rc == NVML_ERROR_RESET_REQUIRED;
}

// Calls device entry points, turning "GPU is lost" into a per-GPU error that stops further calls
// and every other failure into "no value".
class DeviceCalls {
 public:
  DeviceCalls(const NvmlLibrary& nvml, nvmlDevice_t device, std::string& error)
      : nvml_(nvml), device_(device), error_(error) {}

  template <typename Fn, typename... Args>
  bool Call(Fn fn, Args... args) {
    if (fn == nullptr || !error_.empty()) return false;
    const nvmlReturn_t rc = fn(device_, args...);
    if (rc == NVML_SUCCESS) return true;
    if (IsFatalForGpu(rc)) error_ = LostMessage(nvml_, rc);
    return false;
  }

 private:
  const NvmlLibrary& nvml_;
  nvmlDevice_t device_;
  std::string& error_;
};

std::string CString(const char* buffer, std::size_t size) {
  std::size_t n = 0;
  while (n < size && buffer[n] != '\0') ++n;
  return std::string(buffer, n);
}

int ReadNumaFromSysfs(const std::string& sys_root, const std::string& legacy_bus_id) {
  if (legacy_bus_id.empty()) return -1;
  const std::string id = Lower(legacy_bus_id);
  std::ifstream in(std::filesystem::path(sys_root) / "bus" / "pci" / "devices" / id / "numa_node");
  int node = -1;
  if (in >> node) return node < 0 ? -1 : node;
  return -1;
}

// Handles for all GPUs; a GPU whose handle cannot be had gets nullptr and an error.
struct Handles {
  std::vector<nvmlDevice_t> devices;
  std::vector<std::string> errors;
};

Result<Handles> GetHandles(const NvmlLibrary& nvml) {
  unsigned int count = 0;
  const nvmlReturn_t rc = nvml.fn().DeviceGetCount(&count);
  if (rc != NVML_SUCCESS) {
    return Error(Status::Unavailable("nvmlDeviceGetCount failed: " + nvml.ErrorString(rc) +
                                     ". Check the driver with `nvidia-smi`."));
  }
  Handles h;
  h.devices.assign(count, nullptr);
  h.errors.assign(count, "");
  for (unsigned int i = 0; i < count; ++i) {
    const nvmlReturn_t hr = nvml.fn().DeviceGetHandleByIndex(i, &h.devices[i]);
    if (hr != NVML_SUCCESS) {
      h.devices[i] = nullptr;
      h.errors[i] =
          IsFatalForGpu(hr) ? LostMessage(nvml, hr) : "cannot open GPU: " + nvml.ErrorString(hr);
    }
  }
  return h;
}

void ReadIdentity(const NvmlLibrary& nvml, DeviceCalls& call, std::string& name, std::string& uuid,
                  std::string& model) {
  char buf[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {};
  if (call.Call(nvml.fn().DeviceGetName, buf, NVML_DEVICE_NAME_V2_BUFFER_SIZE)) {
    name = CString(buf, sizeof buf);
    model = ModelOrRawName(name);
  }
  char ubuf[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
  if (call.Call(nvml.fn().DeviceGetUUID, ubuf, NVML_DEVICE_UUID_V2_BUFFER_SIZE)) {
    uuid = CString(ubuf, sizeof ubuf);
  }
}

struct MemoryMiB {
  std::int64_t total = 0;
  std::int64_t used = 0;
  std::int64_t free = 0;
};

// nvmlDeviceGetMemoryInfo_v2 where the driver has it (its "used" leaves out memory the driver
// reserves, as nvidia-smi shows it since R510), else the original call.
std::optional<MemoryMiB> ReadMemory(const NvmlLibrary& nvml, DeviceCalls& call) {
  nvmlMemory_v2_t v2{};
  v2.version = kNvmlMemoryV2Version;
  if (call.Call(nvml.fn().DeviceGetMemoryInfoV2, &v2)) {
    return MemoryMiB{BytesToMiB(v2.total), BytesToMiB(v2.used), BytesToMiB(v2.free)};
  }
  nvmlMemory_t v1{};
  if (call.Call(nvml.fn().DeviceGetMemoryInfo, &v1)) {
    return MemoryMiB{BytesToMiB(v1.total), BytesToMiB(v1.used), BytesToMiB(v1.free)};
  }
  return std::nullopt;
}

std::optional<bool> ReadMigMode(const NvmlLibrary& nvml, DeviceCalls& call) {
  unsigned int current = 0;
  unsigned int pending = 0;
  if (!call.Call(nvml.fn().DeviceGetMigMode, &current, &pending)) return std::nullopt;
  return current == NVML_DEVICE_MIG_ENABLE;
}

}  // namespace

std::string CpuListString(const std::vector<unsigned long>& mask) {
  constexpr int kBits = static_cast<int>(sizeof(unsigned long) * CHAR_BIT);
  std::string out;
  int run_start = -1;
  const int total = static_cast<int>(mask.size()) * kBits;
  auto flush = [&](int end) {  // CPUs [run_start, end) are set
    if (run_start < 0) return;
    if (!out.empty()) out += ',';
    out += std::to_string(run_start);
    if (end - 1 > run_start) out += "-" + std::to_string(end - 1);
    run_start = -1;
  };
  for (int cpu = 0; cpu < total; ++cpu) {
    const bool set = ((mask[cpu / kBits] >> (cpu % kBits)) & 1UL) != 0;
    if (set && run_start < 0) run_start = cpu;
    if (!set) flush(cpu);
  }
  flush(total);
  return out;
}

DriverInfo ReadDriverInfo(const NvmlLibrary& nvml) {
  DriverInfo info;
  const NvmlFunctions& f = nvml.fn();
  char buf[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE] = {};
  if (f.SystemGetDriverVersion != nullptr &&
      f.SystemGetDriverVersion(buf, NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE) == NVML_SUCCESS) {
    info.driver_version = CString(buf, sizeof buf);
  }
  char nbuf[NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE] = {};
  if (f.SystemGetNVMLVersion != nullptr &&
      f.SystemGetNVMLVersion(nbuf, NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE) == NVML_SUCCESS) {
    info.nvml_version = CString(nbuf, sizeof nbuf);
  }
  int cuda = 0;
  if (f.SystemGetCudaDriverVersion != nullptr &&
      f.SystemGetCudaDriverVersion(&cuda) == NVML_SUCCESS) {
    info.cuda_version = cuda;
  }
  return info;
}

Result<std::vector<GpuDevice>> DiscoverGpus(const NvmlLibrary& nvml,
                                            const DiscoveryOptions& options) {
  auto handles = GetHandles(nvml);
  if (!handles) return Error(handles.error());
  const NvmlFunctions& f = nvml.fn();
  std::vector<GpuDevice> gpus(handles->devices.size());
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    GpuDevice& g = gpus[i];
    g.index = static_cast<int>(i);
    g.error = handles->errors[i];
    DeviceCalls call(nvml, handles->devices[i], g.error);
    ReadIdentity(nvml, call, g.name, g.uuid, g.model);

    if (auto mem = ReadMemory(nvml, call)) g.memory_total_mib = mem->total;

    nvmlPciInfo_t pci{};
    std::string legacy_bus_id;
    if (call.Call(f.DeviceGetPciInfo, &pci)) {
      g.pci_bus_id = CString(pci.busId, sizeof pci.busId);
      legacy_bus_id = CString(pci.busIdLegacy, sizeof pci.busIdLegacy);
    }
    int major = 0;
    int minor = 0;
    if (call.Call(f.DeviceGetCudaComputeCapability, &major, &minor)) {
      g.cc_major = major;
      g.cc_minor = minor;
    }
    unsigned int limit = 0;
    if (call.Call(f.DeviceGetPowerManagementLimit, &limit)) g.power_limit_mw = limit;

    unsigned int numa = 0;
    if (call.Call(f.DeviceGetNumaNodeId, &numa)) {
      g.numa_node = static_cast<int>(numa);
    } else if (g.ok()) {
      g.numa_node = ReadNumaFromSysfs(options.host.sys_root, legacy_bus_id);
    }
    std::vector<unsigned long> mask(16, 0);  // 16 words: up to 1024 CPUs
    if (call.Call(f.DeviceGetCpuAffinity, static_cast<unsigned int>(mask.size()), mask.data())) {
      g.cpu_affinity = CpuListString(mask);
    }

    g.mig_enabled = ReadMigMode(nvml, call);
    unsigned int max_mig = 0;
    if (g.mig_enabled.value_or(false) && call.Call(f.DeviceGetMaxMigDeviceCount, &max_mig)) {
      for (unsigned int m = 0; m < max_mig; ++m) {
        nvmlDevice_t mig = nullptr;
        if (!call.Call(f.DeviceGetMigDeviceHandleByIndex, m, &mig) || mig == nullptr) continue;
        MigInstance inst;
        inst.index = static_cast<int>(m);
        std::string mig_error;  // a MIG device failing does not make the parent GPU lost
        DeviceCalls mig_call(nvml, mig, mig_error);
        std::string unused_model;
        ReadIdentity(nvml, mig_call, inst.name, inst.uuid, unused_model);
        if (auto mig_mem = ReadMemory(nvml, mig_call)) inst.memory_total_mib = mig_mem->total;
        unsigned int gi = 0;
        if (mig_call.Call(f.DeviceGetGpuInstanceId, &gi))
          inst.gpu_instance_id = static_cast<int>(gi);
        g.mig_instances.push_back(std::move(inst));
      }
    }
  }
  return gpus;
}

Topology DiscoverTopology(const NvmlLibrary& nvml, const std::vector<GpuDevice>& gpus) {
  auto handles = GetHandles(nvml);
  const NvmlFunctions& f = nvml.fn();
  const std::size_t n = gpus.size();
  std::vector<GpuLinkReport> reports(n);
  std::vector<std::vector<std::optional<int>>> levels(n, std::vector<std::optional<int>>(n));
  auto usable = [&](std::size_t i) {
    return handles && i < handles->devices.size() && handles->devices[i] != nullptr && gpus[i].ok();
  };
  for (std::size_t i = 0; i < n; ++i) {
    reports[i].bus_id = gpus[i].pci_bus_id;
    if (!usable(i) || f.DeviceGetNvLinkState == nullptr) continue;
    for (unsigned int link = 0; link < NVML_NVLINK_MAX_LINKS; ++link) {
      int active = NVML_FEATURE_DISABLED;
      if (f.DeviceGetNvLinkState(handles->devices[i], link, &active) != NVML_SUCCESS ||
          active != NVML_FEATURE_ENABLED) {
        continue;
      }
      nvmlPciInfo_t remote{};
      std::string remote_bus;
      if (f.DeviceGetNvLinkRemotePciInfo != nullptr &&
          f.DeviceGetNvLinkRemotePciInfo(handles->devices[i], link, &remote) == NVML_SUCCESS) {
        remote_bus = CString(remote.busId, sizeof remote.busId);
      }
      reports[i].nvlink_remote.push_back(remote_bus);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if (!usable(i) || !usable(j) || f.DeviceGetTopologyCommonAncestor == nullptr) continue;
      int level = 0;
      if (f.DeviceGetTopologyCommonAncestor(handles->devices[i], handles->devices[j], &level) ==
          NVML_SUCCESS) {
        levels[i][j] = level;
      }
    }
  }
  Topology topo = BuildTopology(reports, levels);
  // A lost GPU's links are unknown, whatever its peers claim.
  for (std::size_t i = 0; i < n; ++i) {
    if (gpus[i].ok()) continue;
    for (std::size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      topo.links[i][j] = {LinkKind::kUnknown, 0};
      topo.links[j][i] = {LinkKind::kUnknown, 0};
    }
  }
  return topo;
}

Result<std::vector<GpuSample>> SampleGpus(const NvmlLibrary& nvml) {
  auto handles = GetHandles(nvml);
  if (!handles) return Error(handles.error());
  const NvmlFunctions& f = nvml.fn();
  std::vector<GpuSample> samples(handles->devices.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    GpuSample& s = samples[i];
    s.index = static_cast<int>(i);
    s.error = handles->errors[i];
    DeviceCalls call(nvml, handles->devices[i], s.error);
    ReadIdentity(nvml, call, s.name, s.uuid, s.model);

    if (auto mem = ReadMemory(nvml, call)) {
      s.memory_total_mib = mem->total;
      s.memory_used_mib = mem->used;
      s.memory_free_mib = mem->free;
    }
    nvmlUtilization_t util{};
    if (call.Call(f.DeviceGetUtilizationRates, &util)) {
      s.gpu_util_pct = static_cast<int>(util.gpu);
      s.memory_util_pct = static_cast<int>(util.memory);
    }
    unsigned int value = 0;
    if (call.Call(f.DeviceGetTemperature, NVML_TEMPERATURE_GPU, &value)) {
      s.temperature_c = static_cast<int>(value);
    }
    if (call.Call(f.DeviceGetPowerUsage, &value)) s.power_draw_mw = value;
    if (call.Call(f.DeviceGetPowerManagementLimit, &value)) s.power_limit_mw = value;
    if (call.Call(f.DeviceGetClockInfo, NVML_CLOCK_SM, &value)) {
      s.sm_clock_mhz = static_cast<int>(value);
    }
    if (call.Call(f.DeviceGetClockInfo, NVML_CLOCK_MEM, &value)) {
      s.memory_clock_mhz = static_cast<int>(value);
    }
    unsigned long long count = 0;
    if (call.Call(f.DeviceGetTotalEccErrors, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC,
                  &count)) {
      s.ecc_corrected = static_cast<std::int64_t>(count);
    }
    if (call.Call(f.DeviceGetTotalEccErrors, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC,
                  &count)) {
      s.ecc_uncorrected = static_cast<std::int64_t>(count);
    }
    unsigned long long reasons = 0;
    if (call.Call(f.DeviceGetCurrentClocksThrottleReasons, &reasons)) s.throttle_reasons = reasons;
    s.mig_enabled = ReadMigMode(nvml, call);

    // Ask with room for 64 processes; NVML says how many there are when that is too few.
    std::vector<nvmlProcessInfo_t> infos(64);
    unsigned int n = static_cast<unsigned int>(infos.size());
    if (f.DeviceGetComputeRunningProcesses != nullptr && s.ok()) {
      nvmlReturn_t rc = f.DeviceGetComputeRunningProcesses(handles->devices[i], &n, infos.data());
      if (rc == NVML_ERROR_INSUFFICIENT_SIZE) {
        infos.resize(n + 8);
        n = static_cast<unsigned int>(infos.size());
        rc = f.DeviceGetComputeRunningProcesses(handles->devices[i], &n, infos.data());
      }
      if (IsFatalForGpu(rc)) s.error = LostMessage(nvml, rc);
      if (rc == NVML_SUCCESS) {
        for (unsigned int p = 0; p < n && p < infos.size(); ++p) {
          GpuProcess proc;
          proc.gpu_index = s.index;
          proc.pid = infos[p].pid;
          if (infos[p].usedGpuMemory != NVML_VALUE_NOT_AVAILABLE) {
            proc.used_memory_mib = BytesToMiB(infos[p].usedGpuMemory);
          }
          char pname[256] = {};
          if (f.SystemGetProcessName != nullptr &&
              f.SystemGetProcessName(proc.pid, pname, sizeof pname) == NVML_SUCCESS) {
            proc.name = CString(pname, sizeof pname);
          }
          s.processes.push_back(std::move(proc));
        }
      }
    }
  }
  return samples;
}

Result<NodeInventory> DiscoverNode(const NvmlLibrary& nvml, const DiscoveryOptions& options) {
  NodeInventory inv;
  auto host = ProbeHost(options.host);
  if (!host) return Error(host.error());
  inv.host = std::move(*host);
  inv.hostname = inv.host.hostname;
  inv.driver = ReadDriverInfo(nvml);
  auto gpus = DiscoverGpus(nvml, options);
  if (!gpus) return Error(gpus.error());
  inv.gpus = std::move(*gpus);
  inv.topology = DiscoverTopology(nvml, inv.gpus);
  return inv;
}

}  // namespace gpupool::discovery

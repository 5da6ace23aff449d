#include "discovery/smi_report.h"

#include <algorithm>

#include "discovery/json_optional.h"

namespace gpupool::discovery {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string NA() { return "N/A"; }

std::string Watts(const std::optional<std::int64_t>& mw) {
  if (!mw) return NA();
  return std::to_string((*mw + 500) / 1000) + "W";
}

std::string Opt(const std::optional<int>& v, const char* unit) {
  return v ? std::to_string(*v) + unit : NA();
}

std::string OptMiB(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) + "MiB" : NA();
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

const GpuDevice* DeviceAt(const SmiView& view, std::size_t i) {
  return i < view.devices.size() ? &view.devices[i] : nullptr;
}

std::string MigText(const std::optional<bool>& mig, const GpuDevice* dev) {
  if (!mig) return NA();
  if (!*mig) return "Off";
  const std::size_t n = dev != nullptr ? dev->mig_instances.size() : 0;
  return "On (" + std::to_string(n) + ")";
}

}  // namespace

std::string FormatColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

Result<SmiView> ReadSmiView(const NvmlLibrary& nvml, bool with_topology,
                            const DiscoveryOptions& options) {
  SmiView view;
  view.driver = ReadDriverInfo(nvml);
  auto devices = DiscoverGpus(nvml, options);
  if (!devices) return Error(devices.error());
  view.devices = std::move(*devices);
  auto samples = SampleGpus(nvml);
  if (!samples) return Error(samples.error());
  view.samples = std::move(*samples);
  // A GPU can be lost between the two reads; keep the two lists the same length.
  view.samples.resize(view.devices.size());
  for (std::size_t i = 0; i < view.samples.size(); ++i) view.samples[i].index = static_cast<int>(i);
  if (with_topology) view.topology = DiscoverTopology(nvml, view.devices);
  return view;
}

std::string FormatSmiTable(const SmiView& view) {
  std::string out = "Driver " +
                    (view.driver.driver_version.empty() ? NA() : view.driver.driver_version) +
                    "   CUDA " + CudaVersionString(view.driver.cuda_version) + "   NVML " +
                    (view.driver.nvml_version.empty() ? NA() : view.driver.nvml_version) + "\n";
  std::vector<std::vector<std::string>> rows = {
      {"GPU", "Name", "Model", "Bus-Id", "Temp", "Power/Cap", "Memory-Usage", "GPU-Util",
       "Mem-Util", "SM/Mem MHz", "ECC(C/U)", "MIG", "Throttle"}};
  std::vector<std::string> errors;
  std::vector<std::vector<std::string>> migs = {{"GPU", "MIG", "GI", "Name", "Memory", "UUID"}};
  for (std::size_t i = 0; i < view.samples.size(); ++i) {
    const GpuSample& s = view.samples[i];
    const GpuDevice* d = DeviceAt(view, i);
    const std::string error = !s.error.empty() ? s.error : (d != nullptr ? d->error : "");
    if (!error.empty()) {
      const std::string name = !s.name.empty() ? s.name : (d != nullptr ? d->name : "");
      rows.push_back({std::to_string(s.index), name.empty() ? NA() : name, "ERROR"});
      errors.push_back("GPU " + std::to_string(s.index) + ": " + error);
      continue;
    }
    std::string throttle = NA();
    if (s.throttle_reasons) {
      throttle =
          *s.throttle_reasons == 0 ? "none" : Join(ThrottleReasonNames(*s.throttle_reasons), ",");
    }
    std::string ecc = NA();
    if (s.ecc_corrected || s.ecc_uncorrected) {
      ecc = (s.ecc_corrected ? std::to_string(*s.ecc_corrected) : NA()) + "/" +
            (s.ecc_uncorrected ? std::to_string(*s.ecc_uncorrected) : NA());
    }
    std::string clocks = NA();
    if (s.sm_clock_mhz || s.memory_clock_mhz) {
      clocks = (s.sm_clock_mhz ? std::to_string(*s.sm_clock_mhz) : NA()) + "/" +
               (s.memory_clock_mhz ? std::to_string(*s.memory_clock_mhz) : NA());
    }
    rows.push_back(
        {std::to_string(s.index), s.name, s.model,
         d != nullptr && !d->pci_bus_id.empty() ? d->pci_bus_id : NA(), Opt(s.temperature_c, "C"),
         Watts(s.power_draw_mw) + " / " + Watts(s.power_limit_mw),
         OptMiB(s.memory_used_mib) + " / " + OptMiB(s.memory_total_mib), Opt(s.gpu_util_pct, "%"),
         Opt(s.memory_util_pct, "%"), clocks, ecc, MigText(s.mig_enabled, d), throttle});
    if (d != nullptr) {
      for (const MigInstance& m : d->mig_instances) {
        migs.push_back({std::to_string(s.index), std::to_string(m.index),
                        m.gpu_instance_id ? std::to_string(*m.gpu_instance_id) : NA(), m.name,
                        OptMiB(m.memory_total_mib), m.uuid});
      }
    }
  }
  out += FormatColumns(rows);
  for (const std::string& e : errors) out += e + "\n";
  if (migs.size() > 1) out += "\nMIG devices:\n" + FormatColumns(migs);

  out += "\nProcesses:\n";
  std::vector<std::vector<std::string>> procs = {{"GPU", "PID", "Name", "GPU-Memory"}};
  for (const GpuSample& s : view.samples) {
    for (const GpuProcess& p : s.processes) {
      procs.push_back({std::to_string(p.gpu_index), std::to_string(p.pid),
                       p.name.empty() ? NA() : p.name, OptMiB(p.used_memory_mib)});
    }
  }
  if (procs.size() == 1) {
    out += "No running processes found\n";
  } else {
    out += FormatColumns(procs);
  }
  return out;
}

ordered_json SmiJson(const SmiView& view) {
  ordered_json j;
  j["driver"] = {{"driver_version", view.driver.driver_version},
                 {"nvml_version", view.driver.nvml_version},
                 {"cuda_version", view.driver.cuda_version
                                      ? ordered_json(CudaVersionString(view.driver.cuda_version))
                                      : ordered_json(nullptr)}};
  ordered_json gpus = ordered_json::array();
  ordered_json procs = ordered_json::array();
  for (std::size_t i = 0; i < view.samples.size(); ++i) {
    const GpuSample& s = view.samples[i];
    const GpuDevice* d = DeviceAt(view, i);
    ordered_json g;
    g["index"] = s.index;
    g["uuid"] = !s.uuid.empty() ? s.uuid : (d != nullptr ? d->uuid : "");
    g["name"] = !s.name.empty() ? s.name : (d != nullptr ? d->name : "");
    g["model"] = !s.model.empty() ? s.model : (d != nullptr ? d->model : "");
    const std::string error = !s.error.empty() ? s.error : (d != nullptr ? d->error : "");
    g["error"] = error.empty() ? ordered_json(nullptr) : ordered_json(error);
    g["pci_bus_id"] = d != nullptr && !d->pci_bus_id.empty() ? ordered_json(d->pci_bus_id)
                                                             : ordered_json(nullptr);
    g["compute_capability"] = nullptr;
    if (d != nullptr && d->cc_major && d->cc_minor) {
      g["compute_capability"] = std::to_string(*d->cc_major) + "." + std::to_string(*d->cc_minor);
    }
    g["numa_node"] =
        d != nullptr && d->numa_node >= 0 ? ordered_json(d->numa_node) : ordered_json(nullptr);
    g["cpu_affinity"] = d != nullptr && !d->cpu_affinity.empty() ? ordered_json(d->cpu_affinity)
                                                                 : ordered_json(nullptr);
    g["memory_total_mib"] = OrNull(s.memory_total_mib);
    g["memory_used_mib"] = OrNull(s.memory_used_mib);
    g["memory_free_mib"] = OrNull(s.memory_free_mib);
    g["utilization_gpu_pct"] = OrNull(s.gpu_util_pct);
    g["utilization_memory_pct"] = OrNull(s.memory_util_pct);
    g["temperature_c"] = OrNull(s.temperature_c);
    g["power_draw_w"] = s.power_draw_mw
                            ? ordered_json(static_cast<double>(*s.power_draw_mw) / 1000.0)
                            : ordered_json(nullptr);
    g["power_limit_w"] = s.power_limit_mw
                             ? ordered_json(static_cast<double>(*s.power_limit_mw) / 1000.0)
                             : ordered_json(nullptr);
    g["clocks_sm_mhz"] = OrNull(s.sm_clock_mhz);
    g["clocks_memory_mhz"] = OrNull(s.memory_clock_mhz);
    g["ecc_corrected_volatile"] = OrNull(s.ecc_corrected);
    g["ecc_uncorrected_volatile"] = OrNull(s.ecc_uncorrected);
    g["throttle_reasons"] = s.throttle_reasons
                                ? ordered_json(ThrottleReasonNames(*s.throttle_reasons))
                                : ordered_json(nullptr);
    g["mig_enabled"] = OrNull(s.mig_enabled);
    ordered_json migs = ordered_json::array();
    if (d != nullptr) {
      for (const MigInstance& m : d->mig_instances) {
        migs.push_back({{"index", m.index},
                        {"uuid", m.uuid},
                        {"name", m.name},
                        {"memory_total_mib", OrNull(m.memory_total_mib)},
                        {"gpu_instance_id", OrNull(m.gpu_instance_id)}});
      }
    }
    g["mig_instances"] = migs;
    gpus.push_back(std::move(g));
    for (const GpuProcess& p : s.processes) {
      procs.push_back({{"gpu", p.gpu_index},
                       {"pid", p.pid},
                       {"name", p.name},
                       {"used_memory_mib", OrNull(p.used_memory_mib)}});
    }
  }
  j["gpus"] = gpus;
  j["processes"] = procs;
  if (!view.topology.links.empty()) {
    ordered_json matrix = ordered_json::array();
    for (const auto& row : view.topology.links) {
      ordered_json r = ordered_json::array();
      for (const GpuLink& l : row) r.push_back(LinkLabel(l));
      matrix.push_back(r);
    }
    j["topology"] = matrix;
    j["nvlink_islands"] = NvlinkIslands(view.topology);
  }
  return j;
}

std::string FormatTopologyMatrix(const SmiView& view) {
  const int n = view.topology.gpu_count();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {""};
  for (int j = 0; j < n; ++j) header.push_back("GPU" + std::to_string(j));
  header.push_back("CPU Affinity");
  header.push_back("NUMA Affinity");
  rows.push_back(header);
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> row = {"GPU" + std::to_string(i)};
    for (int j = 0; j < n; ++j) row.push_back(LinkLabel(view.topology.links[i][j]));
    const GpuDevice* d = DeviceAt(view, static_cast<std::size_t>(i));
    row.push_back(d != nullptr && !d->cpu_affinity.empty() ? d->cpu_affinity : NA());
    row.push_back(d != nullptr && d->numa_node >= 0 ? std::to_string(d->numa_node) : NA());
    rows.push_back(row);
  }
  std::string out = FormatColumns(rows);
  const auto islands = NvlinkIslands(view.topology);
  out += "\nNVLink islands: ";
  if (islands.empty()) out += "none";
  for (std::size_t k = 0; k < islands.size(); ++k) {
    std::vector<std::string> ids;
    for (int g : islands[k]) ids.push_back(std::to_string(g));
    out += (k == 0 ? "" : " ") + std::string("{") + Join(ids, ",") + "}";
  }
  out +=
      "\n\nLegend:\n"
      "  X    = the GPU itself\n"
      "  NV#  = connected by # NVLink links (directly or through NVSwitch)\n"
      "  PIX  = PCIe path through at most one PCIe switch\n"
      "  PXB  = PCIe path through several PCIe switches, no host bridge\n"
      "  PHB  = PCIe path through a host bridge (the CPU's root complex)\n"
      "  NODE = PCIe path across host bridges within one NUMA node\n"
      "  SYS  = PCIe path across NUMA nodes (the CPU interconnect, e.g. UPI or xGMI)\n"
      "  N/A  = unknown (the GPU is lost or NVML could not tell)\n";
  return out;
}

}  // namespace gpupool::discovery

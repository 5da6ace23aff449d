#include "discovery/prometheus_exporter.h"

#include <cstdio>
#include <functional>
#include <optional>

#include "discovery/nvml_discovery.h"

namespace gpupool::discovery {
namespace {

// Shortest decimal text for a value with at most three decimals ("120.5", "700").
std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s(buf);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

struct Family {
  const char* name;
  const char* type;  // "gauge" or "counter"
  const char* help;
  std::function<std::optional<double>(const GpuSample&)> value;
};

template <typename T>
std::optional<double> AsDouble(const std::optional<T>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

std::optional<double> MilliToUnit(const std::optional<std::int64_t>& v) {
  return v ? std::optional<double>(static_cast<double>(*v) / 1000.0) : std::nullopt;
}

std::string Labels(const GpuSample& s) {
  return "{gpu=\"" + std::to_string(s.index) + "\",uuid=\"" + EscapeLabelValue(s.uuid) +
         "\",model=\"" + EscapeLabelValue(s.model) + "\"}";
}

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatPrometheus(const std::vector<GpuSample>& samples) {
  const Family families[] = {
      {"DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).",
       [](const GpuSample& s) { return AsDouble(s.gpu_util_pct); }},
      {"DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).",
       [](const GpuSample& s) { return AsDouble(s.memory_util_pct); }},
      {"DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).",
       [](const GpuSample& s) { return AsDouble(s.memory_used_mib); }},
      {"DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).",
       [](const GpuSample& s) { return AsDouble(s.memory_free_mib); }},
      {"DCGM_FI_DEV_FB_TOTAL", "gauge", "Framebuffer memory total (in MiB).",
       [](const GpuSample& s) { return AsDouble(s.memory_total_mib); }},
      {"DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).",
       [](const GpuSample& s) { return AsDouble(s.temperature_c); }},
      {"DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).",
       [](const GpuSample& s) { return MilliToUnit(s.power_draw_mw); }},
      {"DCGM_FI_DEV_POWER_MGMT_LIMIT", "gauge", "Power management limit (in W).",
       [](const GpuSample& s) { return MilliToUnit(s.power_limit_mw); }},
      {"DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).",
       [](const GpuSample& s) { return AsDouble(s.sm_clock_mhz); }},
      {"DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).",
       [](const GpuSample& s) { return AsDouble(s.memory_clock_mhz); }},
      {"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter",
       "Corrected (single-bit) ECC errors since the driver loaded.",
       [](const GpuSample& s) { return AsDouble(s.ecc_corrected); }},
      {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter",
       "Uncorrected (double-bit) ECC errors since the driver loaded.",
       [](const GpuSample& s) { return AsDouble(s.ecc_uncorrected); }},
      {"DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "gauge",
       "Clock throttle reasons (NVML bit mask; 0 = not throttled).",
       [](const GpuSample& s) { return AsDouble(s.throttle_reasons); }},
      {"gpupool_gpu_processes", "gauge", "Compute processes running on the GPU.",
       [](const GpuSample& s) {
         return std::optional<double>(static_cast<double>(s.processes.size()));
       }},
  };
  std::string out;
  for (const Family& f : families) {
    std::string lines;
    for (const GpuSample& s : samples) {
      if (!s.ok()) continue;
      if (auto v = f.value(s)) lines += std::string(f.name) + Labels(s) + " " + Number(*v) + "\n";
    }
    if (lines.empty()) continue;
    out += std::string("# HELP ") + f.name + " " + f.help + "\n";
    out += std::string("# TYPE ") + f.name + " " + f.type + "\n";
    out += lines;
  }
  out += "# HELP gpupool_gpu_lost 1 when the GPU stopped answering NVML (lost or needs a reset).\n";
  out += "# TYPE gpupool_gpu_lost gauge\n";
  for (const GpuSample& s : samples) {
    out += "gpupool_gpu_lost" + Labels(s) + " " + (s.ok() ? "0" : "1") + "\n";
  }
  return out;
}

Result<std::string> CollectPrometheusMetrics(const NvmlLibrary& nvml) {
  auto samples = SampleGpus(nvml);
  if (!samples) return Error(samples.error());
  return FormatPrometheus(*samples);
}

}  // namespace gpupool::discovery

#include "discovery/host_probe.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace gpupool::discovery {
namespace {

namespace fs = std::filesystem;

bool ReadWholeFile(const fs::path& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

double ParseRateGbps(const std::string& rate) {
  try {
    std::size_t used = 0;
    const double v = std::stod(rate, &used);
    return used > 0 && v > 0 ? v : 0;
  } catch (...) {  // std::stod throws on text that is not a number
    return 0;
  }
}

std::vector<NicInfo> ProbeRdmaNics(const std::string& sys_root) {
  std::vector<NicInfo> nics;
  const fs::path root = fs::path(sys_root) / "class" / "infiniband";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return nics;
  for (const auto& dev : fs::directory_iterator(root, ec)) {
    NicInfo nic;
    nic.name = dev.path().filename().string();
    std::vector<std::string> ports;
    for (const auto& port : fs::directory_iterator(dev.path() / "ports", ec)) {
      ports.push_back(port.path().filename().string());
    }
    std::sort(ports.begin(), ports.end());
    for (const std::string& port : ports) {
      const fs::path p = dev.path() / "ports" / port;
      std::string rate;
      std::string layer;
      std::string state;
      if (!ReadWholeFile(p / "rate", rate)) continue;
      ReadWholeFile(p / "link_layer", layer);
      ReadWholeFile(p / "state", state);
      nic.port = std::atoi(port.c_str());
      nic.rate_gbps = ParseRateGbps(Trim(rate));
      nic.link_layer = Trim(layer);
      state = Trim(state);
      const auto colon = state.find(':');
      nic.state = Trim(colon == std::string::npos ? state : state.substr(colon + 1));
      break;
    }
    if (nic.link_layer == "InfiniBand") {
      nic.kind = cluster::FabricKind::kInfiniBand;
    } else if (nic.link_layer == "Ethernet") {
      nic.kind = cluster::FabricKind::kRoCE;  // an RDMA device with an Ethernet link layer
    }
    nics.push_back(std::move(nic));
  }
  std::sort(nics.begin(), nics.end(),
            [](const NicInfo& a, const NicInfo& b) { return a.name < b.name; });
  return nics;
}

Result<HostInfo> ProbeHost(const HostPaths& paths) {
  HostInfo host;
  const fs::path proc(paths.proc_root);
  std::string text;
  if (ReadWholeFile(proc / "sys" / "kernel" / "hostname", text)) host.hostname = Trim(text);

  if (!ReadWholeFile(proc / "cpuinfo", text)) {
    return Error(Status::IoError((proc / "cpuinfo").string() + ": cannot read"));
  }
  std::istringstream cpuinfo(text);
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("processor", 0) == 0 && line.find(':') != std::string::npos) ++host.cpu_count;
  }
  if (host.cpu_count == 0) {
    return Error(Status::IoError((proc / "cpuinfo").string() + ": no \"processor\" entries"));
  }

  if (!ReadWholeFile(proc / "meminfo", text)) {
    return Error(Status::IoError((proc / "meminfo").string() + ": cannot read"));
  }
  std::istringstream meminfo(text);
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("MemTotal:", 0) == 0) {
      std::istringstream fields(line.substr(9));
      std::int64_t kib = 0;
      fields >> kib;
      host.memory_mib = kib / 1024;
    }
  }
  if (host.memory_mib <= 0) {
    return Error(Status::IoError((proc / "meminfo").string() + ": no MemTotal line"));
  }
  host.nics = ProbeRdmaNics(paths.sys_root);
  return host;
}

}  // namespace gpupool::discovery

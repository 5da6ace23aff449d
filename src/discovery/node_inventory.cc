#include "discovery/node_inventory.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "discovery/json_optional.h"

namespace gpupool::discovery {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string_view FabricName(cluster::FabricKind kind) {
  switch (kind) {
    case cluster::FabricKind::kNone:
      return "none";
    case cluster::FabricKind::kEthernet:
      return "ethernet";
    case cluster::FabricKind::kRoCE:
      return "roce";
    case cluster::FabricKind::kInfiniBand:
      return "infiniband";
  }
  return "none";
}

std::optional<cluster::FabricKind> ParseFabric(std::string_view name) {
  if (name == "none") return cluster::FabricKind::kNone;
  if (name == "ethernet") return cluster::FabricKind::kEthernet;
  if (name == "roce") return cluster::FabricKind::kRoCE;
  if (name == "infiniband") return cluster::FabricKind::kInfiniBand;
  return std::nullopt;
}

// Reads optional members; a member of the wrong type is an error naming its path.
class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  template <typename T>
  void Get(const json& obj, const char* key, const std::string& where, T& out) {
    if (!status_.ok() || !obj.is_object() || !obj.contains(key) || obj[key].is_null()) return;
    try {
      out = obj[key].get<T>();
    } catch (const json::exception& e) {
      Fail(where + "." + key + ": " + e.what());
    }
  }
  template <typename T>
  void GetOptional(const json& obj, const char* key, const std::string& where,
                   std::optional<T>& out) {
    if (!status_.ok() || !obj.is_object() || !obj.contains(key) || obj[key].is_null()) return;
    T v{};
    Get(obj, key, where, v);
    if (status_.ok()) out = v;
  }
  void Fail(const std::string& what) {
    if (status_.ok()) status_ = Status::InvalidArgument(origin_ + ": " + what);
  }
  const Status& status() const { return status_; }

 private:
  std::string origin_;
  Status status_;
};

}  // namespace

cluster::NodeSpec ToNodeSpec(const NodeInventory& inv) {
  cluster::NodeSpec spec;
  spec.name = inv.hostname;
  spec.cpu_milli = static_cast<std::int64_t>(inv.host.cpu_count) * 1000;
  spec.memory_mib = inv.host.memory_mib;
  std::vector<int> position(inv.gpus.size(), -1);  // GPU index -> position in spec.gpus
  for (const GpuDevice& g : inv.gpus) {
    if (!g.ok()) continue;
    if (static_cast<int>(spec.gpus.size()) >= cluster::kMaxGpusPerNode) break;
    position[static_cast<std::size_t>(g.index)] = static_cast<int>(spec.gpus.size());
    cluster::GpuSpec gs;
    gs.model = g.model.empty() ? g.name : g.model;
    gs.memory_mib = g.memory_total_mib.value_or(0);
    gs.uuid = g.uuid;
    gs.numa_node = g.numa_node;
    gs.mig_enabled = g.mig_enabled.value_or(false);
    if (gs.mig_enabled) {
      for (const MigInstance& m : g.mig_instances) {
        // NVML names an instance "<GPU name> MIG <profile>": "NVIDIA A100-SXM4-80GB MIG 3g.40gb".
        const std::size_t at = m.name.rfind("MIG ");
        gs.mig_instances.push_back({at == std::string::npos ? m.name : m.name.substr(at + 4),
                                    m.memory_total_mib.value_or(0), m.uuid});
      }
    }
    spec.gpus.push_back(std::move(gs));
  }
  for (const std::vector<int>& island : NvlinkIslands(inv.topology)) {
    std::vector<int> kept;
    for (int idx : island) {
      if (idx >= 0 && idx < static_cast<int>(position.size()) && position[idx] >= 0) {
        kept.push_back(position[idx]);
      }
    }
    if (kept.size() >= 2) spec.nvlink_islands.push_back(std::move(kept));
  }
  for (const NicInfo& nic : inv.host.nics) {
    if (nic.kind == cluster::FabricKind::kNone) continue;
    spec.nics.push_back({nic.name, nic.kind, nic.rate_gbps});
  }
  return spec;
}

ordered_json InventoryToJson(const NodeInventory& inv) {
  ordered_json j;
  j["format"] = "gpupool-inventory";
  j["version"] = 1;
  j["hostname"] = inv.hostname;
  j["driver"] = {{"driver_version", inv.driver.driver_version},
                 {"nvml_version", inv.driver.nvml_version},
                 {"cuda_version", OrNull(inv.driver.cuda_version)}};
  ordered_json nics = ordered_json::array();
  for (const NicInfo& n : inv.host.nics) {
    nics.push_back({{"name", n.name},
                    {"port", n.port},
                    {"link_layer", n.link_layer},
                    {"state", n.state},
                    {"rate_gbps", n.rate_gbps},
                    {"kind", FabricName(n.kind)}});
  }
  j["host"] = {
      {"cpu_count", inv.host.cpu_count}, {"memory_mib", inv.host.memory_mib}, {"nics", nics}};
  ordered_json gpus = ordered_json::array();
  for (const GpuDevice& g : inv.gpus) {
    ordered_json migs = ordered_json::array();
    for (const MigInstance& m : g.mig_instances) {
      migs.push_back({{"index", m.index},
                      {"uuid", m.uuid},
                      {"name", m.name},
                      {"memory_total_mib", OrNull(m.memory_total_mib)},
                      {"gpu_instance_id", OrNull(m.gpu_instance_id)}});
    }
    ordered_json cc = nullptr;
    if (g.cc_major && g.cc_minor)
      cc = std::to_string(*g.cc_major) + "." + std::to_string(*g.cc_minor);
    ordered_json power = nullptr;
    if (g.power_limit_mw) power = static_cast<double>(*g.power_limit_mw) / 1000.0;
    gpus.push_back({{"index", g.index},
                    {"uuid", g.uuid},
                    {"name", g.name},
                    {"model", g.model},
                    {"error", g.error.empty() ? ordered_json(nullptr) : ordered_json(g.error)},
                    {"memory_total_mib", OrNull(g.memory_total_mib)},
                    {"pci_bus_id", g.pci_bus_id},
                    {"compute_capability", cc},
                    {"mig_enabled", OrNull(g.mig_enabled)},
                    {"mig_instances", migs},
                    {"numa_node", g.numa_node},
                    {"cpu_affinity", g.cpu_affinity},
                    {"power_limit_w", power}});
  }
  j["gpus"] = gpus;
  ordered_json matrix = ordered_json::array();
  for (const auto& row : inv.topology.links) {
    ordered_json r = ordered_json::array();
    for (const GpuLink& l : row) r.push_back(LinkLabel(l));
    matrix.push_back(r);
  }
  j["topology"] = matrix;
  j["nvlink_islands"] = NvlinkIslands(inv.topology);
  return j;
}

Result<NodeInventory> InventoryFromJson(const json& j, const std::string& origin) {
  Reader r(origin);
  if (!j.is_object()) return Error(Status::InvalidArgument(origin + ": not a JSON object"));
  std::string format;
  r.Get(j, "format", "", format);
  if (format != "gpupool-inventory") {
    return Error(Status::InvalidArgument(origin + ": format: expected \"gpupool-inventory\""));
  }
  int version = 0;
  r.Get(j, "version", "", version);
  if (version != 1) {
    return Error(Status::InvalidArgument(origin + ": version: " + std::to_string(version) +
                                         " is not supported (expected 1)"));
  }
  NodeInventory inv;
  r.Get(j, "hostname", "", inv.hostname);
  if (j.contains("driver")) {
    const json& d = j["driver"];
    r.Get(d, "driver_version", "driver", inv.driver.driver_version);
    r.Get(d, "nvml_version", "driver", inv.driver.nvml_version);
    r.GetOptional(d, "cuda_version", "driver", inv.driver.cuda_version);
  }
  if (j.contains("host")) {
    const json& h = j["host"];
    r.Get(h, "cpu_count", "host", inv.host.cpu_count);
    r.Get(h, "memory_mib", "host", inv.host.memory_mib);
    inv.host.hostname = inv.hostname;
    if (h.contains("nics") && h["nics"].is_array()) {
      for (std::size_t i = 0; i < h["nics"].size(); ++i) {
        const json& n = h["nics"][i];
        const std::string where = "host.nics[" + std::to_string(i) + "]";
        NicInfo nic;
        r.Get(n, "name", where, nic.name);
        r.Get(n, "port", where, nic.port);
        r.Get(n, "link_layer", where, nic.link_layer);
        r.Get(n, "state", where, nic.state);
        r.Get(n, "rate_gbps", where, nic.rate_gbps);
        std::string kind = "none";
        r.Get(n, "kind", where, kind);
        if (auto k = ParseFabric(kind)) {
          nic.kind = *k;
        } else {
          r.Fail(where + ".kind: \"" + kind + "\" is not one of none, ethernet, roce, infiniband");
        }
        inv.host.nics.push_back(std::move(nic));
      }
    }
  }
  if (j.contains("gpus") && j["gpus"].is_array()) {
    for (std::size_t i = 0; i < j["gpus"].size(); ++i) {
      const json& g = j["gpus"][i];
      const std::string where = "gpus[" + std::to_string(i) + "]";
      GpuDevice d;
      d.index = static_cast<int>(i);
      r.Get(g, "index", where, d.index);
      if (d.index != static_cast<int>(i)) r.Fail(where + ".index: expected " + std::to_string(i));
      r.Get(g, "uuid", where, d.uuid);
      r.Get(g, "name", where, d.name);
      r.Get(g, "model", where, d.model);
      r.Get(g, "error", where, d.error);
      r.GetOptional(g, "memory_total_mib", where, d.memory_total_mib);
      r.Get(g, "pci_bus_id", where, d.pci_bus_id);
      std::string cc;
      r.Get(g, "compute_capability", where, cc);
      if (!cc.empty()) {
        int major = 0;
        int minor = 0;
        if (std::sscanf(cc.c_str(), "%d.%d", &major, &minor) == 2) {
          d.cc_major = major;
          d.cc_minor = minor;
        } else {
          r.Fail(where + ".compute_capability: \"" + cc + "\" is not MAJOR.MINOR");
        }
      }
      r.GetOptional(g, "mig_enabled", where, d.mig_enabled);
      if (g.contains("mig_instances") && g["mig_instances"].is_array()) {
        for (std::size_t m = 0; m < g["mig_instances"].size(); ++m) {
          const json& mj = g["mig_instances"][m];
          const std::string mwhere = where + ".mig_instances[" + std::to_string(m) + "]";
          MigInstance inst;
          r.Get(mj, "index", mwhere, inst.index);
          r.Get(mj, "uuid", mwhere, inst.uuid);
          r.Get(mj, "name", mwhere, inst.name);
          r.GetOptional(mj, "memory_total_mib", mwhere, inst.memory_total_mib);
          r.GetOptional(mj, "gpu_instance_id", mwhere, inst.gpu_instance_id);
          d.mig_instances.push_back(std::move(inst));
        }
      }
      r.Get(g, "numa_node", where, d.numa_node);
      r.Get(g, "cpu_affinity", where, d.cpu_affinity);
      std::optional<double> watts;
      r.GetOptional(g, "power_limit_w", where, watts);
      if (watts) d.power_limit_mw = std::llround(*watts * 1000.0);
      inv.gpus.push_back(std::move(d));
    }
  }
  if (j.contains("topology") && j["topology"].is_array()) {
    const json& m = j["topology"];
    if (m.size() != inv.gpus.size() && !m.empty()) {
      r.Fail("topology: " + std::to_string(m.size()) + " rows for " +
             std::to_string(inv.gpus.size()) + " GPUs");
    }
    for (std::size_t i = 0; i < m.size() && r.status().ok(); ++i) {
      std::vector<GpuLink> row;
      if (!m[i].is_array() || m[i].size() != m.size()) {
        r.Fail("topology[" + std::to_string(i) + "]: expected " + std::to_string(m.size()) +
               " labels");
        break;
      }
      for (std::size_t k = 0; k < m[i].size(); ++k) {
        const std::string label = m[i][k].is_string() ? m[i][k].get<std::string>() : "";
        auto link = ParseLinkLabel(label);
        if (!link) {
          r.Fail("topology[" + std::to_string(i) + "][" + std::to_string(k) + "]: \"" + label +
                 "\" is not X, NV<n>, PIX, PXB, PHB, NODE, SYS or N/A");
          break;
        }
        row.push_back(*link);
      }
      inv.topology.links.push_back(std::move(row));
    }
  }
  if (!r.status().ok()) return Error(r.status());
  return inv;
}

Status WriteInventoryFile(const NodeInventory& inventory, const std::string& path) {
  std::ofstream out(path);
  if (!out) return Status::IoError(path + ": cannot open for writing");
  out << InventoryToJson(inventory).dump(2) << "\n";
  out.close();
  if (!out) return Status::IoError(path + ": write failed");
  return Status::Ok();
}

Result<NodeInventory> ReadInventoryFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(Status::IoError(path + ": cannot open"));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    return Error(Status::InvalidArgument(path + ": not valid JSON: " + e.what()));
  }
  return InventoryFromJson(j, path);
}

}  // namespace gpupool::discovery

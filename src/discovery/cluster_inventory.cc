#include "discovery/cluster_inventory.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "hw/yaml_reader.h"

namespace gpupool::discovery {
namespace {

constexpr std::int64_t kMib = std::int64_t{1} << 20;

// Where an error is: the file, and the entry ("nodes[2] h100") or "" at the top level.
struct Where {
  const std::string& file;
  std::string who;

  Status Bad(const YAML::Node& at, std::string_view field, std::string_view what) const {
    const int line = hw::LineOf(at);
    std::string msg = file;
    if (line > 0) msg += ":" + std::to_string(line);
    msg += ": ";
    if (!who.empty()) msg += who + ": ";
    msg += std::string(field) + ": " + std::string(what);
    return Status::InvalidArgument(std::move(msg));
  }
};

std::string Scalar(const YAML::Node& n) {
  return n.IsScalar() ? "'" + n.Scalar() + "'" : n.IsSequence() ? "a list" : "a mapping";
}

// Fails on a member not in `known` and on a member given twice (yaml-cpp keeps both).
Status CheckKeys(const Where& w, const YAML::Node& map, std::initializer_list<const char*> known) {
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    bool ok = false;
    for (const char* k : known) ok |= (key == k);
    if (!ok) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return w.Bad(kv.first, key, "unknown member (known: " + list + ")");
    }
    if (!seen.insert(key).second) return w.Bad(kv.first, key, "given twice");
  }
  return Status::Ok();
}

Result<std::int64_t> WholeNumber(const Where& w, const YAML::Node& n, std::string_view field) {
  if (n.IsScalar()) {
    try {
      return n.as<std::int64_t>();
    } catch (const YAML::Exception&) {
    }
  }
  return Error(w.Bad(n, field, "expected a whole number, got " + Scalar(n)));
}

// A whole number in 1..max.
Result<std::int64_t> Positive(const Where& w, const YAML::Node& n, std::string_view field,
                              std::int64_t max, std::string_view max_reason) {
  auto v = WholeNumber(w, n, field);
  if (!v) return v;
  if (*v <= 0) return Error(w.Bad(n, field, std::to_string(*v) + " is not positive"));
  if (*v > max) {
    return Error(w.Bad(n, field,
                       std::to_string(*v) + " is more than " + std::string(max_reason) + " (" +
                           std::to_string(max) + ")"));
  }
  return v;
}

Result<std::string> Text(const Where& w, const YAML::Node& n, std::string_view field) {
  if (!n.IsScalar() || n.Scalar().empty()) {
    return Error(w.Bad(n, field, "expected text, got " + (n.IsScalar() ? "''" : Scalar(n))));
  }
  return n.Scalar();
}

// "2048Gi" -> 2097152 MiB (see the header for the units).
Result<std::int64_t> MemoryMib(const Where& w, const YAML::Node& n) {
  constexpr std::string_view kField = "memory";
  if (!n.IsScalar())
    return Error(w.Bad(n, kField, "expected a size such as 2048Gi, got " + Scalar(n)));
  const std::string& text = n.Scalar();
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string unit = text.substr(digits);
  struct Unit {
    const char* name;
    std::int64_t bytes;
  };
  static constexpr Unit kUnits[] = {{"Ti", std::int64_t{1} << 40}, {"Gi", std::int64_t{1} << 30},
                                    {"Mi", std::int64_t{1} << 20}, {"T", 1'000'000'000'000},
                                    {"G", 1'000'000'000},          {"M", 1'000'000}};
  if (digits == 0 || digits > 15) {
    return Error(
        w.Bad(n, kField, "'" + text + "' is not a whole number with a unit (Ti, Gi, Mi, T, G, M)"));
  }
  if (unit.empty()) {
    return Error(w.Bad(
        n, kField,
        "'" + text + "' has no unit (write " + text + "Gi or " + text + "Mi, or memory_mib:)"));
  }
  const Unit* found = nullptr;
  for (const Unit& u : kUnits) {
    if (unit == u.name) found = &u;
  }
  if (found == nullptr) {
    return Error(w.Bad(
        n, kField,
        "'" + text + "': unknown unit '" + unit + "' (Ti, Gi, Mi are binary; T, G, M decimal)"));
  }
  const std::int64_t count = std::stoll(text.substr(0, digits));
  if (count == 0) return Error(w.Bad(n, kField, "'" + text + "' is not positive"));
  std::int64_t bytes = 0;
  if (__builtin_mul_overflow(count, found->bytes, &bytes)) {
    return Error(w.Bad(n, kField, "'" + text + "' is too large"));
  }
  const std::int64_t mib = bytes / kMib;  // rounded down
  if (mib == 0) return Error(w.Bad(n, kField, "'" + text + "' is less than 1 MiB"));
  return mib;
}

// Exactly one of `a` (converted by `from_a`) and `b` (already in the result's unit).
template <typename FromA, typename FromB>
Result<std::int64_t> OneOf(const Where& w, const YAML::Node& entry, const char* a, const char* b,
                           const char* hint, FromA from_a, FromB from_b) {
  const YAML::Node na = entry[a];
  const YAML::Node nb = entry[b];
  if (na.IsDefined() && nb.IsDefined()) {
    return Error(w.Bad(nb, b, std::string("give ") + a + " or " + b + ", not both"));
  }
  if (!na.IsDefined() && !nb.IsDefined()) {
    return Error(w.Bad(entry, a, std::string("missing (give ") + hint + ")"));
  }
  return na.IsDefined() ? from_a(na) : from_b(nb);
}

Result<std::vector<std::vector<int>>> Islands(const Where& w, const YAML::Node& entry, int gpus) {
  const YAML::Node all = entry["nvlink"];
  const YAML::Node list = entry["nvlink_islands"];
  std::vector<std::vector<int>> islands;
  if (all.IsDefined() && list.IsDefined()) {
    return Error(w.Bad(list, "nvlink_islands", "give nvlink or nvlink_islands, not both"));
  }
  if (all.IsDefined()) {
    if (!all.IsScalar() || (all.Scalar() != "all" && all.Scalar() != "none")) {
      return Error(w.Bad(all, "nvlink", "expected all or none, got " + Scalar(all)));
    }
    if (all.Scalar() == "all") {
      islands.emplace_back();
      for (int g = 0; g < gpus; ++g) islands.back().push_back(g);
    }
    return islands;
  }
  if (!list.IsDefined()) return islands;
  if (!list.IsSequence()) {
    return Error(w.Bad(list, "nvlink_islands",
                       "expected a list of lists of GPU indices, got " + Scalar(list)));
  }
  std::map<std::int64_t, std::size_t> island_of;  // GPU index -> island that holds it
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node island = list[i];
    const std::string where = "nvlink_islands[" + std::to_string(i) + "]";
    if (!island.IsSequence()) {
      return Error(w.Bad(island, where, "expected a list of GPU indices, got " + Scalar(island)));
    }
    if (island.size() == 0) return Error(w.Bad(island, where, "empty island"));
    islands.emplace_back();
    for (std::size_t k = 0; k < island.size(); ++k) {
      const std::string at = where + "[" + std::to_string(k) + "]";
      auto gpu = WholeNumber(w, island[k], at);
      if (!gpu) return Error(gpu.error());
      if (*gpu < 0 || *gpu >= gpus) {
        return Error(w.Bad(island[k], at,
                           "GPU " + std::to_string(*gpu) + " is out of range (the node has " +
                               std::to_string(gpus) + " GPUs: 0-" + std::to_string(gpus - 1) +
                               ")"));
      }
      const auto [it, fresh] = island_of.emplace(*gpu, i);
      if (!fresh) {
        return Error(w.Bad(island[k], at,
                           "GPU " + std::to_string(*gpu) + " is already in nvlink_islands[" +
                               std::to_string(it->second) + "]"));
      }
      islands.back().push_back(static_cast<int>(*gpu));
    }
  }
  return islands;
}

Result<std::vector<cluster::NicSpec>> Nics(const Where& w, const YAML::Node& entry) {
  std::vector<cluster::NicSpec> nics;
  const YAML::Node list = entry["nics"];
  if (!list.IsDefined()) return nics;
  if (!list.IsSequence()) {
    return Error(
        w.Bad(list, "nics", "expected a list of {name, kind, rate_gbps}, got " + Scalar(list)));
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node nic = list[i];
    const std::string where = "nics[" + std::to_string(i) + "]";
    if (!nic.IsMap()) {
      return Error(w.Bad(nic, where, "expected {name, kind, rate_gbps}, got " + Scalar(nic)));
    }
    const Where inner{w.file, w.who.empty() ? where : w.who + ": " + where};
    if (Status s = CheckKeys(inner, nic, {"name", "kind", "rate_gbps"}); !s.ok()) return Error(s);
    for (const char* required : {"name", "kind", "rate_gbps"}) {
      if (!nic[required].IsDefined()) return Error(inner.Bad(nic, required, "missing"));
    }
    cluster::NicSpec spec;
    auto name = Text(inner, nic["name"], "name");
    if (!name) return Error(name.error());
    spec.name = *name;
    const YAML::Node kind = nic["kind"];
    const std::string k = kind.IsScalar() ? kind.Scalar() : "";
    if (k == "ethernet") {
      spec.kind = cluster::FabricKind::kEthernet;
    } else if (k == "roce") {
      spec.kind = cluster::FabricKind::kRoCE;
    } else if (k == "infiniband") {
      spec.kind = cluster::FabricKind::kInfiniBand;
    } else {
      return Error(
          inner.Bad(kind, "kind", Scalar(kind) + " is not one of ethernet, roce, infiniband"));
    }
    const YAML::Node rate = nic["rate_gbps"];
    std::optional<double> gbps;
    if (rate.IsScalar()) {
      try {
        gbps = rate.as<double>();
      } catch (const YAML::Exception&) {
      }
    }
    if (!gbps) return Error(inner.Bad(rate, "rate_gbps", "expected a number, got " + Scalar(rate)));
    if (!(*gbps > 0)) {
      return Error(inner.Bad(rate, "rate_gbps", rate.Scalar() + " is not positive"));
    }
    spec.rate_gbps = *gbps;
    nics.push_back(std::move(spec));
  }
  return nics;
}

// "3g.40gb" (or "1g.10gb+me"): its compute slices (3) and nominal memory in GB (40); nullopt when
// the text is not of that form.
std::optional<std::pair<int, std::int64_t>> MigProfile(const std::string& text) {
  std::size_t i = 0;
  const auto number = [&]() -> std::int64_t {
    std::int64_t v = 0;
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 6) {
      v = v * 10 + (text[i++] - '0');
    }
    return i == start ? -1 : v;
  };
  const std::int64_t slices = number();
  if (slices < 1 || slices > kMaxMigSlices || text.compare(i, 2, "g.") != 0) return std::nullopt;
  i += 2;
  const std::int64_t gb = number();
  if (gb < 1 || text.compare(i, 2, "gb") != 0) return std::nullopt;
  i += 2;
  if (i != text.size() && text.substr(i) != "+me") return std::nullopt;
  return std::make_pair(static_cast<int>(slices), gb);
}

// The entry's `mig` member: GPU index -> its MIG instances (profile and memory; the UUIDs are set
// once the node has its name).
Result<std::map<int, std::vector<cluster::MigInstanceSpec>>> Mig(const Where& w,
                                                                 const YAML::Node& entry,
                                                                 int gpus) {
  std::map<int, std::vector<cluster::MigInstanceSpec>> out;
  const YAML::Node list = entry["mig"];
  if (!list.IsDefined()) return out;
  if (!list.IsSequence()) {
    return Error(w.Bad(list, "mig", "expected a list of {gpu, instances}, got " + Scalar(list)));
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string where = "mig[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
      return Error(w.Bad(item, where, "expected {gpu, instances}, got " + Scalar(item)));
    }
    const Where inner{w.file, w.who.empty() ? where : w.who + ": " + where};
    if (Status s = CheckKeys(inner, item, {"gpu", "instances"}); !s.ok()) return Error(s);
    for (const char* required : {"gpu", "instances"}) {
      if (!item[required].IsDefined()) return Error(inner.Bad(item, required, "missing"));
    }
    auto gpu = WholeNumber(inner, item["gpu"], "gpu");
    if (!gpu) return Error(gpu.error());
    if (*gpu < 0 || *gpu >= gpus) {
      return Error(inner.Bad(item["gpu"], "gpu",
                             "GPU " + std::to_string(*gpu) + " is out of range (the node has " +
                                 std::to_string(gpus) + " GPUs: 0-" + std::to_string(gpus - 1) +
                                 ")"));
    }
    const int g = static_cast<int>(*gpu);
    if (out.contains(g)) {
      return Error(inner.Bad(item["gpu"], "gpu", "GPU " + std::to_string(g) + " is listed twice"));
    }
    const YAML::Node instances = item["instances"];
    if (!instances.IsSequence()) {
      return Error(inner.Bad(
          instances, "instances",
          "expected a list of MIG profiles such as [3g.40gb, 4g.40gb], got " + Scalar(instances)));
    }
    std::vector<cluster::MigInstanceSpec> made;
    int slices = 0;
    for (std::size_t k = 0; k < instances.size(); ++k) {
      const YAML::Node inst = instances[k];
      const std::string at = "instances[" + std::to_string(k) + "]";
      std::optional<std::int64_t> memory_mib;
      if (inst.IsMap()) {
        const Where in_inst{inner.file, inner.who + ": " + at};
        if (Status s = CheckKeys(in_inst, inst, {"profile", "memory_mib"}); !s.ok()) {
          return Error(s);
        }
        if (!inst["profile"].IsDefined()) return Error(in_inst.Bad(inst, "profile", "missing"));
        if (inst["memory_mib"].IsDefined()) {
          auto mib = Positive(in_inst, inst["memory_mib"], "memory_mib", std::int64_t{1} << 40,
                              "any GPU has");
          if (!mib) return Error(mib.error());
          memory_mib = *mib;
        }
      }
      // Chosen, not assigned: assigning a YAML::Node writes through to the node it refers to.
      const YAML::Node profile_node = inst.IsMap() ? inst["profile"] : inst;
      const std::string text = profile_node.IsScalar() ? profile_node.Scalar() : "";
      const auto profile = MigProfile(text);
      if (!profile) {
        return Error(inner.Bad(profile_node, at,
                               Scalar(profile_node) +
                                   " is not a MIG profile (<slices>g.<memory>gb, e.g. 3g.40gb, "
                                   "with 1 to " +
                                   std::to_string(kMaxMigSlices) + " slices)"));
      }
      slices += profile->first;
      if (slices > kMaxMigSlices) {
        return Error(inner.Bad(profile_node, at,
                               "the instances take " + std::to_string(slices) +
                                   " compute slices, more than a GPU has (" +
                                   std::to_string(kMaxMigSlices) + ")"));
      }
      made.push_back({text, memory_mib.value_or(profile->second * 1024), ""});
    }
    out.emplace(g, std::move(made));
  }
  return out;
}

bool ValidName(const std::string& name) {
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return !name.empty();
}

// One `nodes` entry: the NodeSpec template (named as the entry) and its count (0 = no count).
struct Entry {
  cluster::NodeSpec node;
  std::int64_t count = 0;
};

Result<Entry> ParseEntry(const std::string& file, const YAML::Node& n, std::size_t index,
                         const hw::Catalog& catalog) {
  Where w{file, "nodes[" + std::to_string(index) + "]"};
  if (!n.IsMap()) {
    return Error(w.Bad(n, "(entry)",
                       "expected a mapping (name:, gpu_model:, gpus:, ...), got " + Scalar(n)));
  }
  Entry e;
  const YAML::Node name = n["name"];
  if (!name.IsDefined()) return Error(w.Bad(n, "name", "missing"));
  auto name_text = Text(w, name, "name");
  if (!name_text) return Error(name_text.error());
  if (!ValidName(*name_text)) {
    return Error(
        w.Bad(name, "name",
              "'" + *name_text + "' has characters other than letters, digits, '.', '_' and '-'"));
  }
  e.node.name = *name_text;
  w.who += " " + e.node.name;
  if (Status s =
          CheckKeys(w, n,
                    {"name", "count", "gpu_model", "gpus", "gpu_memory_mib", "cpu", "cpu_milli",
                     "memory", "memory_mib", "nvlink", "nvlink_islands", "nics", "mig"});
      !s.ok()) {
    return Error(s);
  }
  if (n["count"].IsDefined()) {
    auto count = Positive(w, n["count"], "count", kMaxNodeCount, "one entry may expand to");
    if (!count) return Error(count.error());
    e.count = *count;
  }
  for (const char* required : {"gpu_model", "gpus"}) {
    if (!n[required].IsDefined()) return Error(w.Bad(n, required, "missing"));
  }
  auto model_name = Text(w, n["gpu_model"], "gpu_model");
  if (!model_name) return Error(model_name.error());
  auto model = catalog.FindGpu(*model_name);
  if (!model) return Error(w.Bad(n["gpu_model"], "gpu_model", model.error().message()));
  auto gpus = Positive(w, n["gpus"], "gpus", cluster::kMaxGpusPerNode, "a node may hold");
  if (!gpus) return Error(gpus.error());
  std::int64_t gpu_mib = static_cast<std::int64_t>((*model)->memory_gib.value * 1024.0);
  if (n["gpu_memory_mib"].IsDefined()) {
    auto mib =
        Positive(w, n["gpu_memory_mib"], "gpu_memory_mib", std::int64_t{1} << 40, "any GPU has");
    if (!mib) return Error(mib.error());
    gpu_mib = *mib;
  }
  auto cpu = OneOf(
      w, n, "cpu", "cpu_milli", "cpu: cores or cpu_milli:",
      [&](const YAML::Node& v) -> Result<std::int64_t> {
        auto cores = Positive(w, v, "cpu", 1'000'000'000, "cores a node may have");
        if (!cores) return cores;
        return *cores * 1000;
      },
      [&](const YAML::Node& v) {
        return Positive(w, v, "cpu_milli", std::int64_t{1'000'000'000'000}, "a node may have");
      });
  if (!cpu) return Error(cpu.error());
  auto memory = OneOf(
      w, n, "memory", "memory_mib",
      "memory: 2048Gi or memory_mib:", [&](const YAML::Node& v) { return MemoryMib(w, v); },
      [&](const YAML::Node& v) {
        return Positive(w, v, "memory_mib", std::int64_t{1} << 40, "a node may have");
      });
  if (!memory) return Error(memory.error());
  const int gpu_count = static_cast<int>(*gpus);
  auto islands = Islands(w, n, gpu_count);
  if (!islands) return Error(islands.error());
  auto nics = Nics(w, n);
  if (!nics) return Error(nics.error());
  auto mig = Mig(w, n, gpu_count);
  if (!mig) return Error(mig.error());

  e.node.cpu_milli = *cpu;
  e.node.memory_mib = *memory;
  e.node.gpus.assign(static_cast<std::size_t>(gpu_count),
                     cluster::GpuSpec{(*model)->name, gpu_mib, "", -1});
  e.node.nvlink_islands = std::move(*islands);
  e.node.nics = std::move(*nics);
  for (auto& [g, instances] : *mig) {
    cluster::GpuSpec& gpu = e.node.gpus[static_cast<std::size_t>(g)];
    gpu.mig_enabled = true;
    gpu.mig_instances = std::move(instances);
  }
  return e;
}

}  // namespace

Result<ClusterInventory> ParseClusterInventory(std::string_view yaml_text,
                                               const std::string& origin,
                                               const hw::Catalog& catalog) {
  auto loaded = hw::LoadYamlText(yaml_text, origin);
  if (!loaded) return Error(loaded.error());
  // Read through a const node: yaml-cpp's non-const operator[] may add the key it looks up.
  const YAML::Node& root = *loaded;
  const Where top{origin, ""};
  if (!root.IsMap()) {
    return Error(top.Bad(root, "(file)",
                         root.IsNull() ? "empty (expected simulated: and nodes:)"
                                       : "expected a mapping with nodes:, got " + Scalar(root)));
  }
  if (Status s = CheckKeys(top, root, {"simulated", "nodes"}); !s.ok()) return Error(s);
  ClusterInventory out;
  const YAML::Node simulated = root["simulated"];
  if (simulated.IsDefined()) {
    bool ok = simulated.IsScalar();
    if (ok) {
      try {
        out.simulated = simulated.as<bool>();
      } catch (const YAML::Exception&) {
        ok = false;
      }
    }
    if (!ok) {
      return Error(
          top.Bad(simulated, "simulated", "expected true or false, got " + Scalar(simulated)));
    }
  }
  const YAML::Node nodes = root["nodes"];
  if (!nodes.IsDefined()) return Error(top.Bad(root, "nodes", "missing"));
  if (!nodes.IsSequence()) {
    return Error(top.Bad(nodes, "nodes", "expected a list of nodes, got " + Scalar(nodes)));
  }
  if (nodes.size() == 0) return Error(top.Bad(nodes, "nodes", "empty"));

  // Node name -> the entry that made it ("nodes[0] (line 5)"), for duplicates after expansion.
  std::map<std::string, std::string> made_by;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto entry = ParseEntry(origin, nodes[i], i, catalog);
    if (!entry) return Error(entry.error());
    const YAML::Node name_node = nodes[i]["name"];
    const std::string source =
        "nodes[" + std::to_string(i) + "] (line " + std::to_string(hw::LineOf(name_node)) + ")";
    const std::int64_t copies = entry->count > 0 ? entry->count : 1;
    for (std::int64_t c = 0; c < copies; ++c) {
      cluster::NodeSpec node = entry->node;
      if (entry->count > 0) node.name += "-" + std::to_string(c);
      const auto [it, fresh] = made_by.emplace(node.name, source);
      if (!fresh) {
        const Where w{origin, "nodes[" + std::to_string(i) + "] " + entry->node.name};
        return Error(w.Bad(
            name_node, "name",
            "node '" + node.name + "'" +
                (entry->count > 0 ? " (from count: " + std::to_string(entry->count) + ")" : "") +
                " is already defined by " + it->second));
      }
      for (std::size_t g = 0; g < node.gpus.size(); ++g) {
        node.gpus[g].uuid = "GPU-sim-" + node.name + "-" + std::to_string(g);
        for (std::size_t k = 0; k < node.gpus[g].mig_instances.size(); ++k) {
          node.gpus[g].mig_instances[k].uuid =
              "MIG-sim-" + node.name + "-" + std::to_string(g) + "-" + std::to_string(k);
        }
      }
      out.nodes.push_back(std::move(node));
    }
  }
  return out;
}

Result<ClusterInventory> ParseClusterInventory(std::string_view yaml_text,
                                               const std::string& origin) {
  auto catalog = hw::Catalog::Default();
  if (!catalog) return Error(catalog.error());
  return ParseClusterInventory(yaml_text, origin, **catalog);
}

Result<ClusterInventory> ReadClusterInventory(const std::filesystem::path& file,
                                              const hw::Catalog& catalog) {
  const std::string origin = file.string();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return Error(Status::NotFound(origin + ": no such file"));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Status::IoError(origin + ": cannot read"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error(Status::IoError(origin + ": cannot read"));
  return ParseClusterInventory(text.str(), origin, catalog);
}

Result<ClusterInventory> ReadClusterInventory(const std::filesystem::path& file) {
  auto catalog = hw::Catalog::Default();
  if (!catalog) return Error(catalog.error());
  return ReadClusterInventory(file, **catalog);
}

}  // namespace gpupool::discovery

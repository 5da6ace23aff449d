#include "hw/catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>
#include <utility>

#include "common/check.h"
#include "common/data_dir.h"
#include "common/strings.h"
#include "hw/name_match.h"
#include "hw/yaml_reader.h"

namespace gpupool::hw {
namespace {

constexpr std::array<std::pair<Precision, std::string_view>, 9> kPrecisionNames = {{
    {Precision::kFp64, "fp64"},
    {Precision::kFp32, "fp32"},
    {Precision::kTf32, "tf32"},
    {Precision::kBf16, "bf16"},
    {Precision::kFp16, "fp16"},
    {Precision::kFp8, "fp8"},
    {Precision::kInt8, "int8"},
    {Precision::kFp4, "fp4"},
    {Precision::kInt4, "int4"},
}};

// --- Loading ------------------------------------------------------------------------------------

Result<std::map<Precision, Sourced>> ReadRates(const YamlReader& r, std::string_view key) {
  std::map<Precision, Sourced> out;
  if (!r.Has(key)) return out;
  const YAML::Node node = r.Get(key);
  if (!node.IsMap()) return Error(r.Bad(key, "expected a mapping precision: figure"));
  for (const auto& kv : node) {
    const std::string field = std::string(key) + "." + kv.first.Scalar();
    auto p = ParsePrecision(kv.first.Scalar());
    if (!p) return Error(r.BadAt(kv.first, field, p.error().message()));
    GP_ASSIGN_OR_RETURN(Sourced figure, r.FigureFrom(kv.second, field));
    out[*p] = std::move(figure);
  }
  return out;
}

// What every entry of every catalog file starts with: its name (which then heads every error
// message about the entry), only the members in `keys`, its default source and verified flag
// (LoadDefaults) and its aliases. Sets entry.name, entry.source and entry.aliases and returns the
// reader for the rest of the entry.
template <typename Entry>
Result<YamlReader> ReadEntryHead(const std::string& file, const YAML::Node& node,
                                 const std::vector<std::string_view>& keys, Entry& entry) {
  YamlReader r(file, node, "");
  GP_ASSIGN_OR_RETURN(entry.name, r.String("name"));
  r = YamlReader(file, node, entry.name);
  GP_RETURN_IF_ERROR(r.OnlyKeys(keys));
  GP_RETURN_IF_ERROR(r.LoadDefaults());
  entry.source = r.default_source();
  GP_ASSIGN_OR_RETURN(entry.aliases, r.StringList("aliases"));
  return r;
}

Result<GpuModel> ReadGpu(const std::string& file, const YAML::Node& node) {
  GpuModel g;
  GP_ASSIGN_OR_RETURN(const YamlReader r, ReadEntryHead(file, node,
                                                        {"name",
                                                         "aliases",
                                                         "vendor",
                                                         "architecture",
                                                         "year",
                                                         "form_factor",
                                                         "pcie_gen",
                                                         "scale_up_link",
                                                         "sparsity",
                                                         "source",
                                                         "sources",
                                                         "verified",
                                                         "memory_gib",
                                                         "cuda_total_gib",
                                                         "memory_bandwidth_gbs",
                                                         "tdp_w",
                                                         "scale_up_bandwidth_gbs",
                                                         "dense_tflops",
                                                         "vector_tflops",
                                                         "notes"},
                                                        g));
  g.verified = r.default_verified();
  GP_ASSIGN_OR_RETURN(g.vendor, r.String("vendor"));
  GP_ASSIGN_OR_RETURN(g.architecture, r.String("architecture"));
  GP_ASSIGN_OR_RETURN(g.year, r.Int("year"));
  GP_ASSIGN_OR_RETURN(g.form_factor, r.String("form_factor"));
  GP_ASSIGN_OR_RETURN(g.pcie_gen, r.Int("pcie_gen"));
  GP_ASSIGN_OR_RETURN(g.scale_up_link, r.StringOr("scale_up_link", ""));
  GP_ASSIGN_OR_RETURN(g.structured_sparsity, r.BoolOr("sparsity", false));
  GP_ASSIGN_OR_RETURN(g.memory_gib, r.Figure("memory_gib"));
  GP_ASSIGN_OR_RETURN(g.memory_bandwidth_gbs, r.Figure("memory_bandwidth_gbs"));
  if (r.Has("cuda_total_gib")) {
    GP_ASSIGN_OR_RETURN(g.cuda_total_gib, r.Figure("cuda_total_gib"));
  }
  GP_ASSIGN_OR_RETURN(g.tdp_w, r.Figure("tdp_w"));
  GP_ASSIGN_OR_RETURN(g.scale_up_bandwidth_gbs, r.Figure("scale_up_bandwidth_gbs"));
  if (!r.Has("dense_tflops")) return Error(r.Bad("dense_tflops", "missing"));
  GP_ASSIGN_OR_RETURN(g.dense_tflops, ReadRates(r, "dense_tflops"));
  GP_ASSIGN_OR_RETURN(g.vector_tflops, ReadRates(r, "vector_tflops"));
  GP_ASSIGN_OR_RETURN(g.notes, r.StringList("notes"));
  if (g.source.empty())
    return Error(r.Bad("source", "missing (every entry needs a default source)"));
  if (g.pcie_gen < 1 || g.pcie_gen > 7) return Error(r.Bad("pcie_gen", "expected 1..7"));
  if (g.memory_gib.value <= 0) return Error(r.Bad("memory_gib", "must be positive"));
  if (g.cuda_total_gib.value < 0 || g.cuda_total_gib.value > g.memory_gib.value) {
    return Error(r.Bad("cuda_total_gib", "must be positive and at most memory_gib"));
  }
  return g;
}

Result<LinkKind> ParseLinkKind(const YamlReader& r) {
  GP_ASSIGN_OR_RETURN(const std::string kind, r.String("kind"));
  if (kind == "scale_up") return LinkKind::kScaleUp;
  if (kind == "pcie") return LinkKind::kPcie;
  if (kind == "scale_out") return LinkKind::kScaleOut;
  return Error(r.Bad("kind", "'" + kind + "' is not one of scale_up, pcie, scale_out"));
}

Result<Interconnect> ReadInterconnect(const std::string& file, const YAML::Node& node) {
  Interconnect link;
  GP_ASSIGN_OR_RETURN(const YamlReader r,
                      ReadEntryHead(file, node,
                                    {"name", "aliases", "kind", "source", "sources", "verified",
                                     "bandwidth_gbs", "latency_us", "achievable_fraction"},
                                    link));
  GP_ASSIGN_OR_RETURN(link.kind, ParseLinkKind(r));
  GP_ASSIGN_OR_RETURN(link.bandwidth_gbs, r.Figure("bandwidth_gbs"));
  GP_ASSIGN_OR_RETURN(link.latency_us, r.Figure("latency_us"));
  GP_ASSIGN_OR_RETURN(link.achievable_fraction_sourced, r.Figure("achievable_fraction"));
  link.achievable_fraction = link.achievable_fraction_sourced.value;
  if (link.achievable_fraction <= 0 || link.achievable_fraction > 1) {
    return Error(r.Bad("achievable_fraction", "expected a fraction in (0, 1]"));
  }
  if (link.bandwidth_gbs.value <= 0) return Error(r.Bad("bandwidth_gbs", "must be positive"));
  return link;
}

Result<CpuModel> ReadCpu(const std::string& file, const YAML::Node& node) {
  CpuModel c;
  GP_ASSIGN_OR_RETURN(const YamlReader r,
                      ReadEntryHead(file, node,
                                    {"name", "aliases", "vendor", "arch", "architecture", "year",
                                     "source", "sources", "verified", "cores", "base_ghz",
                                     "fp64_flops_per_cycle", "fp32_flops_per_cycle"},
                                    c));
  GP_ASSIGN_OR_RETURN(c.vendor, r.String("vendor"));
  GP_ASSIGN_OR_RETURN(c.arch, r.String("arch"));
  GP_ASSIGN_OR_RETURN(c.architecture, r.String("architecture"));
  GP_ASSIGN_OR_RETURN(c.year, r.Int("year"));
  GP_ASSIGN_OR_RETURN(c.cores, r.Figure("cores"));
  GP_ASSIGN_OR_RETURN(c.base_ghz, r.Figure("base_ghz"));
  GP_ASSIGN_OR_RETURN(c.fp64_flops_per_cycle, r.Figure("fp64_flops_per_cycle"));
  GP_ASSIGN_OR_RETURN(c.fp32_flops_per_cycle, r.Figure("fp32_flops_per_cycle"));
  if (c.cores.value < 1) return Error(r.Bad("cores", "must be at least 1"));
  if (c.base_ghz.value <= 0) return Error(r.Bad("base_ghz", "must be positive"));
  return c;
}

Result<ServerModel> ReadServer(const std::string& file, const YAML::Node& node) {
  ServerModel s;
  GP_ASSIGN_OR_RETURN(const YamlReader r,
                      ReadEntryHead(file, node,
                                    {"name", "aliases", "vendor", "source", "sources", "verified",
                                     "gpu", "gpu_count", "gpu_p2p_gbs", "cpu", "memory", "drives",
                                     "nics", "psus", "rack_units", "notes"},
                                    s));
  s.verified = r.default_verified();
  GP_ASSIGN_OR_RETURN(s.vendor, r.String("vendor"));
  GP_ASSIGN_OR_RETURN(s.gpu, r.String("gpu"));
  GP_ASSIGN_OR_RETURN(s.gpu_count, r.Int("gpu_count"));
  GP_ASSIGN_OR_RETURN(s.gpu_p2p_gbs, r.Figure("gpu_p2p_gbs"));
  GP_ASSIGN_OR_RETURN(s.rack_units, r.IntOr("rack_units", 0));
  GP_ASSIGN_OR_RETURN(s.notes, r.StringList("notes"));

  GP_ASSIGN_OR_RETURN(const YamlReader cpu, r.Child("cpu"));
  GP_RETURN_IF_ERROR(cpu.OnlyKeys({"model", "arch", "sockets", "cores_per_socket", "base_ghz"}));
  GP_ASSIGN_OR_RETURN(s.cpu.model, cpu.String("model"));
  GP_ASSIGN_OR_RETURN(s.cpu.arch, cpu.String("arch"));
  GP_ASSIGN_OR_RETURN(s.cpu.sockets, cpu.Int("sockets"));
  GP_ASSIGN_OR_RETURN(s.cpu.cores_per_socket, cpu.Int("cores_per_socket"));
  GP_ASSIGN_OR_RETURN(s.cpu.base_ghz, cpu.Number("base_ghz"));

  GP_ASSIGN_OR_RETURN(const YamlReader mem, r.Child("memory"));
  GP_RETURN_IF_ERROR(mem.OnlyKeys({"gib", "type", "mhz", "dimms", "dimm_gib"}));
  GP_ASSIGN_OR_RETURN(s.memory.gib, mem.Int("gib"));
  GP_ASSIGN_OR_RETURN(s.memory.type, mem.String("type"));
  GP_ASSIGN_OR_RETURN(s.memory.mhz, mem.IntOr("mhz", 0));
  GP_ASSIGN_OR_RETURN(s.memory.dimms, mem.IntOr("dimms", 0));
  GP_ASSIGN_OR_RETURN(s.memory.dimm_gib, mem.IntOr("dimm_gib", 0));

  GP_ASSIGN_OR_RETURN(const YamlReader psu, r.Child("psus"));
  GP_RETURN_IF_ERROR(psu.OnlyKeys({"count", "watts", "hot_swap"}));
  GP_ASSIGN_OR_RETURN(s.psus.count, psu.Int("count"));
  GP_ASSIGN_OR_RETURN(s.psus.watts, psu.IntOr("watts", 0));
  GP_ASSIGN_OR_RETURN(s.psus.hot_swap, psu.BoolOr("hot_swap", false));

  for (const std::string_view list : {"drives", "nics"}) {
    if (!r.Has(list)) continue;
    const YAML::Node items = r.Get(list);
    if (!items.IsSequence()) return Error(r.Bad(list, "expected a list"));
    for (const auto& item : items) {
      const YamlReader it(file, item, s.name + "." + std::string(list));
      if (list == "drives") {
        GP_RETURN_IF_ERROR(it.OnlyKeys({"kind", "count", "tb"}));
        Drive d;
        GP_ASSIGN_OR_RETURN(d.kind, it.String("kind"));
        GP_ASSIGN_OR_RETURN(d.count, it.Int("count"));
        GP_ASSIGN_OR_RETURN(d.tb, it.Number("tb"));
        if (d.kind != "nvme" && d.kind != "sata-ssd" && d.kind != "sas-ssd" && d.kind != "hdd") {
          return Error(
              it.Bad("kind", "'" + d.kind + "' is not one of nvme, sata-ssd, sas-ssd, hdd"));
        }
        s.drives.push_back(d);
      } else {
        GP_RETURN_IF_ERROR(it.OnlyKeys({"model", "kind", "gbps", "ports", "count"}));
        Nic n;
        GP_ASSIGN_OR_RETURN(n.model, it.String("model"));
        GP_ASSIGN_OR_RETURN(n.kind, it.String("kind"));
        GP_ASSIGN_OR_RETURN(n.gbps, it.Int("gbps"));
        GP_ASSIGN_OR_RETURN(n.ports, it.IntOr("ports", 1));
        GP_ASSIGN_OR_RETURN(n.count, it.Int("count"));
        if (n.kind != "ib" && n.kind != "ethernet" && n.kind != "vpi") {
          return Error(it.Bad("kind", "'" + n.kind + "' is not one of ib, ethernet, vpi"));
        }
        s.nics.push_back(n);
      }
    }
  }
  if (s.gpu_count < 1) return Error(r.Bad("gpu_count", "must be at least 1"));
  return s;
}

// Reads a YAML list of entries from dir/file. A missing optional file yields an empty list.
template <typename T, typename ReadFn>
Result<std::vector<T>> ReadList(const std::string& dir, const std::string& name, bool required,
                                ReadFn read) {
  const std::string path = (std::filesystem::path(dir) / name).string();
  std::vector<T> out;
  std::error_code ec;
  if (!required && !std::filesystem::exists(path, ec)) return out;
  GP_ASSIGN_OR_RETURN(const YAML::Node root, LoadYamlFile(path));
  if (!root.IsSequence()) {
    return Error(Status::InvalidArgument(path + ": expected a list of entries ('- name: ...')"));
  }
  for (const auto& node : root) {
    if (!node.IsMap()) {
      return Error(Status::InvalidArgument(
          fmt::format("{}:{}: expected an entry (a mapping)", path, LineOf(node))));
    }
    GP_ASSIGN_OR_RETURN(T entry, read(path, node));
    out.push_back(std::move(entry));
  }
  return out;
}

// Every spelling of every entry must name one entry only.
template <typename T>
Status CheckUniqueNames(const std::vector<T>& entries, const std::string& what) {
  std::map<std::string, std::string> seen;
  for (const auto& e : entries) {
    std::vector<std::string> spellings = e.aliases;
    spellings.push_back(e.name);
    std::set<std::string> own;
    for (const auto& s : spellings) {
      const std::string key = NormalizeName(s);
      if (key.empty())
        return Status::InvalidArgument(what + " " + e.name + ": empty name or alias");
      if (!own.insert(key).second) continue;
      const auto [it, inserted] = seen.emplace(key, e.name);
      if (!inserted) {
        return Status::InvalidArgument(what + " name '" + s + "' of " + e.name + " also names " +
                                       it->second);
      }
    }
  }
  return Status::Ok();
}

template <typename T>
Result<const T*> FindByName(const std::vector<T>& entries, std::string_view name,
                            std::string_view what) {
  const std::string key = NormalizeName(name);
  for (const auto& e : entries) {
    if (NormalizeName(e.name) == key) return &e;
    for (const auto& a : e.aliases) {
      if (NormalizeName(a) == key) return &e;
    }
  }
  std::vector<NameKeys> keys;
  for (const auto& e : entries) {
    NameKeys k{e.name, e.aliases};
    k.spellings.push_back(e.name);
    keys.push_back(std::move(k));
  }
  const auto close = ClosestNames(name, keys);
  std::string msg = fmt::format("unknown {} '{}'", what, name);
  if (!close.empty()) {
    msg += "; did you mean ";
    for (std::size_t i = 0; i < close.size(); ++i) msg += (i ? ", " : "") + close[i];
    msg += "?";
  } else {
    msg += "; known: ";
    for (std::size_t i = 0; i < entries.size(); ++i) msg += (i ? ", " : "") + entries[i].name;
  }
  return Error(Status::NotFound(msg));
}

}  // namespace

// --- Precision ----------------------------------------------------------------------------------

std::string_view PrecisionName(Precision p) {
  for (const auto& [v, name] : kPrecisionNames) {
    if (v == p) return name;
  }
  return "?";
}

Result<Precision> ParsePrecision(std::string_view name) {
  const std::string lower = Lower(name);
  for (const auto& [v, n] : kPrecisionNames) {
    if (lower == n) return v;
  }
  return Error(
      Status::InvalidArgument("unknown precision '" + std::string(name) +
                              "' (one of fp64, fp32, tf32, bf16, fp16, fp8, int8, fp4, int4)"));
}

bool IsTensorPrecision(Precision p) { return p != Precision::kFp64 && p != Precision::kFp32; }

const std::vector<Precision>& AllPrecisions() {
  static const std::vector<Precision> kAll = [] {
    std::vector<Precision> v;
    for (const auto& [p, name] : kPrecisionNames) v.push_back(p);
    return v;
  }();
  return kAll;
}

std::string_view LinkKindName(LinkKind kind) {
  switch (kind) {
    case LinkKind::kScaleUp:
      return "scale_up";
    case LinkKind::kPcie:
      return "pcie";
    case LinkKind::kScaleOut:
      return "scale_out";
  }
  return "?";
}

// --- GpuModel / CpuModel ------------------------------------------------------------------------

std::optional<double> GpuModel::DenseTflops(Precision p) const {
  const auto it = dense_tflops.find(p);
  if (it == dense_tflops.end()) return std::nullopt;
  return it->second.value;
}

std::optional<double> GpuModel::SparseTflops(Precision p) const {
  if (!structured_sparsity || !IsTensorPrecision(p)) return std::nullopt;
  const auto dense = DenseTflops(p);
  if (!dense) return std::nullopt;
  return 2 * *dense;
}

std::vector<std::pair<std::string, const Sourced*>> GpuModel::Figures() const {
  std::vector<std::pair<std::string, const Sourced*>> out = {
      {"memory_gib", &memory_gib},
      {"memory_bandwidth_gbs", &memory_bandwidth_gbs},
      {"tdp_w", &tdp_w},
      {"scale_up_bandwidth_gbs", &scale_up_bandwidth_gbs},
  };
  for (const auto& [p, s] : dense_tflops)
    out.emplace_back("dense." + std::string(PrecisionName(p)), &s);
  for (const auto& [p, s] : vector_tflops)
    out.emplace_back("vector." + std::string(PrecisionName(p)), &s);
  return out;
}

std::optional<double> CpuModel::PeakTflops(Precision p) const {
  double per_cycle = 0;
  if (p == Precision::kFp64) {
    per_cycle = fp64_flops_per_cycle.value;
  } else if (p == Precision::kFp32) {
    per_cycle = fp32_flops_per_cycle.value;
  } else {
    return std::nullopt;
  }
  return cores.value * base_ghz.value * per_cycle / 1000.0;
}

// --- Catalog ------------------------------------------------------------------------------------

Result<Catalog> Catalog::Load(const std::string& dir) {
  Catalog c;
  GP_ASSIGN_OR_RETURN(c.gpus_, ReadList<GpuModel>(dir, "gpus.yaml", true, ReadGpu));
  GP_ASSIGN_OR_RETURN(c.interconnects_,
                      ReadList<Interconnect>(dir, "interconnects.yaml", true, ReadInterconnect));
  GP_ASSIGN_OR_RETURN(c.cpus_, ReadList<CpuModel>(dir, "cpus.yaml", false, ReadCpu));
  GP_ASSIGN_OR_RETURN(c.servers_, ReadList<ServerModel>(dir, "servers.yaml", false, ReadServer));
  GP_RETURN_IF_ERROR(CheckUniqueNames(c.gpus_, "GPU"));
  GP_RETURN_IF_ERROR(CheckUniqueNames(c.interconnects_, "interconnect"));
  GP_RETURN_IF_ERROR(CheckUniqueNames(c.cpus_, "CPU"));
  GP_RETURN_IF_ERROR(CheckUniqueNames(c.servers_, "server"));
  const std::string gpus_file = (std::filesystem::path(dir) / "gpus.yaml").string();
  for (const auto& g : c.gpus_) {
    if (g.scale_up_link.empty()) continue;
    if (!c.FindInterconnect(g.scale_up_link)) {
      return Error(Status::InvalidArgument(gpus_file + ": " + g.name + ": scale_up_link: '" +
                                           g.scale_up_link + "' is not in interconnects.yaml"));
    }
  }
  const std::string servers_file = (std::filesystem::path(dir) / "servers.yaml").string();
  for (auto& s : c.servers_) {
    auto gpu = c.FindGpu(s.gpu);
    if (!gpu) {
      return Error(Status::InvalidArgument(servers_file + ": " + s.name +
                                           ": gpu: " + gpu.error().message()));
    }
    s.gpu = (*gpu)->name;  // canonical, so ServerGpu() is an exact look-up
  }
  return c;
}

Result<const Catalog*> Catalog::Default() {
  // Loaded once; a magic static is thread-safe, and the catalog is immutable afterwards.
  static const Result<Catalog> kLoaded = Load((DataDir() / "hw").string());
  if (!kLoaded) return Error(kLoaded.error());
  return &*kLoaded;
}

Result<const GpuModel*> Catalog::FindGpu(std::string_view name) const {
  return FindByName(gpus_, name, "GPU");
}

Result<const Interconnect*> Catalog::FindInterconnect(std::string_view name) const {
  return FindByName(interconnects_, name, "interconnect");
}

Result<const CpuModel*> Catalog::FindCpu(std::string_view name) const {
  return FindByName(cpus_, name, "CPU");
}

Result<const ServerModel*> Catalog::FindServer(std::string_view name) const {
  return FindByName(servers_, name, "server");
}

const GpuModel& Catalog::ServerGpu(const ServerModel& server) const {
  for (const auto& g : gpus_) {
    if (g.name == server.gpu) return g;
  }
  GP_CHECK(false && "Load() resolved every server's GPU");
  std::abort();
}

}  // namespace gpupool::hw

#include "hw/requirements.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <tuple>

#include "common/strings.h"
#include "hw/name_match.h"
#include "hw/yaml_reader.h"

namespace gpupool::hw {
namespace {

std::optional<double> ParseNumber(std::string_view s) {
  double v = 0;
  const auto* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(
      s.data(), end, v);  // NOLINT(bugprone-suspicious-stringview-data-usage): bounded by end
  if (ec != std::errc() || ptr != end || s.empty()) return std::nullopt;
  return v;
}

// Splits "123.4UNIT" into the number and the lower-cased unit.
std::optional<std::pair<double, std::string>> NumberWithUnit(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0 || s[i] == '.')) ++i;
  const auto number = ParseNumber(s.substr(0, i));
  if (!number) return std::nullopt;
  return std::make_pair(*number, Lower(Trim(s.substr(i))));
}

enum class FieldType { kNumber, kWord };

struct FieldInfo {
  std::string name;
  FieldType type;
};

const std::vector<FieldInfo>& Fields() {
  static const std::vector<FieldInfo> kFields = [] {
    std::vector<FieldInfo> f = {
        {"gpu.count", FieldType::kNumber},
        {"gpu.model", FieldType::kWord},
        {"gpu.vendor", FieldType::kWord},
        {"gpu.memory_gb", FieldType::kNumber},
        {"gpu.total_memory_gb", FieldType::kNumber},
        {"gpu.memory_bandwidth_gbs", FieldType::kNumber},
        {"gpu.p2p_gbs", FieldType::kNumber},
        {"gpu.scale_up_gbs", FieldType::kNumber},
        {"gpu.tdp_w", FieldType::kNumber},
    };
    for (const Precision p : AllPrecisions()) {
      f.push_back({"gpu." + std::string(PrecisionName(p)) + "_tflops", FieldType::kNumber});
    }
    f.push_back({"gpu.int8_tops", FieldType::kNumber});
    f.push_back({"gpu.int4_tops", FieldType::kNumber});
    const std::vector<FieldInfo> rest = {
        {"cpu.arch", FieldType::kWord},
        {"cpu.sockets", FieldType::kNumber},
        {"cpu.cores_per_socket", FieldType::kNumber},
        {"cpu.cores", FieldType::kNumber},
        {"cpu.base_ghz", FieldType::kNumber},
        {"memory.gb", FieldType::kNumber},
        {"memory.type", FieldType::kWord},
        {"memory.mhz", FieldType::kNumber},
        {"memory.dimms", FieldType::kNumber},
        {"memory.dimm_gb", FieldType::kNumber},
        {"drives", FieldType::kNumber},
        {"nics", FieldType::kNumber},
        {"psus.count", FieldType::kNumber},
        {"psus.hot_swap", FieldType::kNumber},
        {"psus.watts", FieldType::kNumber},
        {"rack_units", FieldType::kNumber},
    };
    f.insert(f.end(), rest.begin(), rest.end());
    return f;
  }();
  return kFields;
}

const FieldInfo* FindField(std::string_view name) {
  for (const auto& f : Fields()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// "gpu.fp16_tflops" -> fp16; "gpu.int8_tops" -> int8.
std::optional<Precision> RatePrecision(std::string_view field) {
  if (field.substr(0, 4) != "gpu.") return std::nullopt;
  std::string_view rest = field.substr(4);
  const auto us = rest.find('_');
  if (us == std::string_view::npos) return std::nullopt;
  const std::string_view unit = rest.substr(us + 1);
  if (unit != "tflops" && unit != "tops") return std::nullopt;
  auto p = ParsePrecision(rest.substr(0, us));
  if (!p) return std::nullopt;
  return *p;
}

Status ParseSelectors(Requirement& r, const std::string& where) {
  const auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(fmt::format("{}: {}: {}", where, r.field, what));
  };
  if (r.field == "drives") {
    if (r.args.size() != 2) return bad("expected drives[KIND, SIZE], e.g. drives[nvme, 7.68TB]");
    r.kind = Lower(r.args[0]);
    if (r.kind != "nvme" && r.kind != "sata-ssd" && r.kind != "sas-ssd" && r.kind != "hdd" &&
        r.kind != "ssd" && r.kind != "any") {
      return bad("drive kind '" + r.args[0] +
                 "' is not one of nvme, sata-ssd, sas-ssd, hdd, ssd, any");
    }
    const auto size = NumberWithUnit(r.args[1]);
    if (!size || (size->second != "tb" && size->second != "gb" && !size->second.empty())) {
      return bad("drive size '" + r.args[1] + "' is not like 480GB or 7.68TB");
    }
    r.min_tb = size->second == "gb" ? size->first / 1000.0 : size->first;
    return Status::Ok();
  }
  if (r.field == "nics") {
    if (r.args.size() < 2 || r.args.size() > 3) {
      return bad("expected nics[KIND, SPEED] or nics[KIND, SPEED, N-port], e.g. nics[ib, 400G]");
    }
    r.kind = Lower(r.args[0]);
    if (r.kind != "ib" && r.kind != "ethernet" && r.kind != "any") {
      return bad("NIC kind '" + r.args[0] + "' is not one of ib, ethernet, any");
    }
    const auto speed = NumberWithUnit(r.args[1]);
    if (!speed || (speed->second != "g" && speed->second != "gb" && speed->second != "gbe" &&
                   speed->second != "gbps" && !speed->second.empty())) {
      return bad("NIC speed '" + r.args[1] + "' is not like 400G");
    }
    r.min_gbps = static_cast<int>(std::lround(speed->first));
    if (r.args.size() == 3) {
      const std::string ports = Lower(r.args[2]);
      if (ports == "dual-port") {
        r.min_ports = 2;
      } else {
        const auto n = NumberWithUnit(ports);
        if (!n || n->second != "-port" || n->first < 1) {
          return bad("'" + r.args[2] + "' is not like 2-port or dual-port");
        }
        r.min_ports = static_cast<int>(n->first);
      }
    }
    return Status::Ok();
  }
  if (!r.args.empty()) return bad("takes no [arguments]");
  return Status::Ok();
}

// --- Checking -----------------------------------------------------------------------------------

bool Compare(double actual, CompareOp op, double required) {
  // A tolerance for decimal data (2.1 GHz stored as 2.1 must meet >= 2.1).
  constexpr double kEps = 1e-9;
  switch (op) {
    case CompareOp::kGe:
      return actual >= required - kEps;
    case CompareOp::kGt:
      return actual > required + kEps;
    case CompareOp::kLe:
      return actual <= required + kEps;
    case CompareOp::kLt:
      return actual < required - kEps;
    case CompareOp::kEq:
      return std::fabs(actual - required) <= kEps;
    case CompareOp::kNe:
      return std::fabs(actual - required) > kEps;
  }
  return false;
}

double Shortfall(double actual, CompareOp op, double required) {
  switch (op) {
    case CompareOp::kGe:
    case CompareOp::kGt:
      return required - actual;
    case CompareOp::kLe:
    case CompareOp::kLt:
      return actual - required;
    case CompareOp::kEq:
      return std::fabs(actual - required);
    case CompareOp::kNe:
      return 0;
  }
  return 0;
}

std::string Num(double v) { return fmt::format("{:g}", v); }

void SetNumeric(LineCheck& c, std::optional<double> actual) {
  const Requirement& r = *c.requirement;
  c.actual_value = actual;
  if (!actual) {
    c.met = false;
    c.actual = "not stated";
    c.note = "not stated in the catalog entry";
    return;
  }
  c.actual = Num(*actual);
  c.met = Compare(*actual, r.op, *r.number);
  if (!c.met) {
    c.shortfall = Shortfall(*actual, r.op, *r.number);
    c.shortfall_percent = *r.number != 0 ? 100.0 * c.shortfall / std::fabs(*r.number) : 0;
  }
}

// Items (drives or NIC cards) a server has, expanded one per physical item.
struct PoolItem {
  std::string kind;
  double size = 0;  // TB or Gb/s
  int ports = 1;
  bool used = false;
};

bool DriveQualifies(const PoolItem& d, const Requirement& r) {
  const bool kind_ok =
      r.kind == "any" || d.kind == r.kind ||
      (r.kind == "ssd" && (d.kind == "nvme" || d.kind == "sata-ssd" || d.kind == "sas-ssd"));
  return kind_ok && d.size >= r.min_tb - 1e-9;
}

bool NicQualifies(const PoolItem& n, const Requirement& r) {
  const bool kind_ok = r.kind == "any" || n.kind == r.kind || n.kind == "vpi";
  return kind_ok && n.size >= r.min_gbps && n.ports >= r.min_ports;
}

// How many items a ">=" or ">" line needs; other operators only count.
int Needed(const Requirement& r) {
  if (r.op == CompareOp::kGe) return static_cast<int>(std::ceil(*r.number - 1e-9));
  if (r.op == CompareOp::kGt) return static_cast<int>(std::floor(*r.number + 1e-9)) + 1;
  return 0;
}

struct PoolCount {
  int available = 0;   // qualifying items not taken by a more demanding line
  int qualifying = 0;  // qualifying items in all
};

// Counts, per drives/nics line, the qualifying items not taken by a more demanding line.
std::vector<PoolCount> CountPools(const ServerModel& s, const RequirementSheet& sheet) {
  std::vector<PoolCount> counts(sheet.lines.size());
  for (const std::string_view field : {"drives", "nics"}) {
    const bool drives = field == "drives";
    std::vector<PoolItem> pool;
    if (drives) {
      for (const auto& d : s.drives) {
        for (int i = 0; i < d.count; ++i) pool.push_back({d.kind, d.tb, 1, false});
      }
    } else {
      for (const auto& n : s.nics) {
        for (int i = 0; i < n.count; ++i)
          pool.push_back({n.kind, static_cast<double>(n.gbps), n.ports, false});
      }
    }
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < sheet.lines.size(); ++i) {
      if (sheet.lines[i].field == field) order.push_back(i);
    }
    // Most demanding line first; ties keep sheet order.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const auto& ra = sheet.lines[a];
      const auto& rb = sheet.lines[b];
      return drives ? ra.min_tb > rb.min_tb
                    : std::tie(ra.min_gbps, ra.min_ports) > std::tie(rb.min_gbps, rb.min_ports);
    });
    for (const std::size_t li : order) {
      const Requirement& r = sheet.lines[li];
      std::vector<PoolItem*> ok;
      for (auto& item : pool) {
        if (!(drives ? DriveQualifies(item, r) : NicQualifies(item, r))) continue;
        ++counts[li].qualifying;
        if (!item.used) ok.push_back(&item);
      }
      counts[li].available = static_cast<int>(ok.size());
      // Spend the least capable qualifying items; a card of the exact kind before a VPI card.
      std::stable_sort(ok.begin(), ok.end(), [&](const PoolItem* a, const PoolItem* b) {
        const int va = a->kind == "vpi" ? 1 : 0;
        const int vb = b->kind == "vpi" ? 1 : 0;
        return std::tie(a->size, a->ports, va) < std::tie(b->size, b->ports, vb);
      });
      const int take = std::min(Needed(r), counts[li].available);
      for (int i = 0; i < take; ++i) ok[static_cast<std::size_t>(i)]->used = true;
    }
  }
  return counts;
}

void CheckRate(LineCheck& c, const GpuModel& gpu, Precision p, bool accept_sparse) {
  const Requirement& r = *c.requirement;
  const auto dense = gpu.DenseTflops(p);
  const std::string pname(PrecisionName(p));
  if (!dense) {
    c.met = false;
    c.actual = "none";
    c.note = fmt::format(
        "no {} rate in the catalog for {} (no native support, or none published: see its "
        "notes)",
        pname, gpu.name);
    return;
  }
  SetNumeric(c, dense);
  const bool wants_more = r.op == CompareOp::kGe || r.op == CompareOp::kGt;
  if (!wants_more) return;
  if (!c.met) {
    const auto sparse = gpu.SparseTflops(p);
    if (sparse && Compare(*sparse, r.op, *r.number)) {
      c.sparse_only = true;
      if (accept_sparse) {
        c.met = true;
        c.shortfall = 0;
        c.shortfall_percent = 0;
        c.note = fmt::format(
            "met with 2:4 structured sparsity only (sparse {} {} {}; dense {}), as the sheet "
            "accepts sparse rates",
            Num(*sparse), CompareOpText(r.op), Num(*r.number), Num(*dense));
      } else {
        c.note = fmt::format(
            "met only with 2:4 structured sparsity: the datasheet's sparse {} {} {}, but "
            "dense work gets {}",
            Num(*sparse), CompareOpText(r.op), Num(*r.number), Num(*dense));
      }
    } else if (sparse) {
      c.note = fmt::format("short even with 2:4 sparsity (sparse {})", Num(*sparse));
    }
    if (p == Precision::kFp32) {
      const auto tf32 = gpu.DenseTflops(Precision::kTf32);
      if (tf32 && Compare(*tf32, r.op, *r.number)) {
        c.note = fmt::format("met only if the TF32 tensor rate ({}) is counted as FP32; FP32 is {}",
                             Num(*tf32), Num(*dense));
      }
    }
    return;
  }
  if (p == Precision::kFp64) {
    const auto it = gpu.vector_tflops.find(Precision::kFp64);
    if (it != gpu.vector_tflops.end() && !Compare(it->second.value, r.op, *r.number)) {
      c.note =
          fmt::format("met by the FP64 tensor-core rate; vector FP64 is {}", Num(it->second.value));
    }
  }
}

void CheckWord(LineCheck& c, const std::string& actual, bool equal) {
  const Requirement& r = *c.requirement;
  c.actual = actual.empty() ? "not stated" : actual;
  const bool want_equal = r.op == CompareOp::kEq;
  c.met = want_equal == equal;
  if (!c.met) c.note = fmt::format("{} is '{}'", r.field, c.actual);
}

}  // namespace

std::string_view CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
  }
  return "?";
}

const std::vector<std::string>& RequirementFields() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> v;
    for (const auto& f : Fields()) {
      if (f.name == "drives") {
        v.push_back("drives[KIND,SIZE]");
      } else if (f.name == "nics") {
        v.push_back("nics[KIND,SPEED(,N-port)]");
      } else {
        v.push_back(f.name);
      }
    }
    return v;
  }();
  return kNames;
}

Result<Requirement> ParseRequirementLine(std::string_view text, const std::string& where) {
  Requirement r;
  r.text = Trim(text);
  // Find the operator outside any [...].
  int depth = 0;
  std::size_t op_pos = std::string::npos;
  std::size_t op_len = 0;
  for (std::size_t i = 0; i < r.text.size(); ++i) {
    const char ch = r.text[i];
    if (ch == '[') ++depth;
    if (ch == ']') --depth;
    if (depth != 0) continue;
    if (ch == '>' || ch == '<' || ch == '=' || ch == '!') {
      op_pos = i;
      op_len = (i + 1 < r.text.size() && r.text[i + 1] == '=') ? 2 : 1;
      break;
    }
  }
  if (op_pos == std::string::npos) {
    return Error(Status::InvalidArgument(
        fmt::format("{}: '{}': expected FIELD OP VALUE, e.g. 'gpu.count >= 8'", where, r.text)));
  }
  const std::string op = r.text.substr(op_pos, op_len);
  if (op == ">=") {
    r.op = CompareOp::kGe;
  } else if (op == ">") {
    r.op = CompareOp::kGt;
  } else if (op == "<=") {
    r.op = CompareOp::kLe;
  } else if (op == "<") {
    r.op = CompareOp::kLt;
  } else if (op == "==") {
    r.op = CompareOp::kEq;
  } else if (op == "!=") {
    r.op = CompareOp::kNe;
  } else {
    return Error(Status::InvalidArgument(
        fmt::format("{}: '{}': operator '{}' is not one of >= > <= < == !=", where, r.text, op)));
  }
  std::string lhs = Trim(r.text.substr(0, op_pos));
  const std::string rhs = Trim(r.text.substr(op_pos + op_len));
  const auto bracket = lhs.find('[');
  if (bracket != std::string::npos) {
    if (lhs.back() != ']') {
      return Error(Status::InvalidArgument(fmt::format("{}: '{}': unclosed [", where, r.text)));
    }
    const std::string inner = lhs.substr(bracket + 1, lhs.size() - bracket - 2);
    std::size_t start = 0;
    while (start <= inner.size()) {
      std::size_t comma = inner.find(',', start);
      if (comma == std::string::npos) comma = inner.size();
      r.args.push_back(Trim(inner.substr(start, comma - start)));
      start = comma + 1;
    }
    lhs = Trim(lhs.substr(0, bracket));
  }
  r.field = Lower(lhs);
  const FieldInfo* info = FindField(r.field);
  if (info == nullptr) {
    std::string known;
    for (const auto& f : RequirementFields()) known += (known.empty() ? "" : ", ") + f;
    return Error(Status::InvalidArgument(fmt::format("{}: {}: unknown field (known: {})", where,
                                                     r.field.empty() ? "(none)" : r.field, known)));
  }
  if (rhs.empty()) {
    return Error(Status::InvalidArgument(
        fmt::format("{}: {}: missing value after '{}'", where, r.field, op)));
  }
  if (info->type == FieldType::kWord) {
    if (r.op != CompareOp::kEq && r.op != CompareOp::kNe) {
      return Error(Status::InvalidArgument(
          fmt::format("{}: {}: compares text, so only == or != (got '{}')", where, r.field, op)));
    }
    r.word = rhs;
  } else {
    r.number = ParseNumber(rhs);
    if (!r.number) {
      return Error(Status::InvalidArgument(
          fmt::format("{}: {}: '{}' is not a number", where, r.field, rhs)));
    }
  }
  GP_RETURN_IF_ERROR(ParseSelectors(r, where));
  return r;
}

Result<RequirementSheet> ParseRequirementSheet(std::string_view yaml, const std::string& file) {
  GP_ASSIGN_OR_RETURN(const YAML::Node root, LoadYamlText(yaml, file));
  if (!root.IsMap()) {
    return Error(
        Status::InvalidArgument(file + ": expected a mapping with name: and requirements:"));
  }
  const YamlReader r(file, root, "");
  GP_RETURN_IF_ERROR(r.OnlyKeys({"name", "source", "accept_sparse", "requirements", "notes"}));
  RequirementSheet sheet;
  sheet.file = file;
  GP_ASSIGN_OR_RETURN(sheet.name, r.StringOr("name", file));
  GP_ASSIGN_OR_RETURN(sheet.source, r.StringOr("source", ""));
  GP_ASSIGN_OR_RETURN(sheet.accept_sparse, r.BoolOr("accept_sparse", false));
  if (!r.Has("requirements")) return Error(r.Bad("requirements", "missing"));
  const YAML::Node list = r.Get("requirements");
  if (!list.IsSequence() || list.size() == 0) {
    return Error(
        r.Bad("requirements", "expected a non-empty list of lines like '- gpu.count >= 8'"));
  }
  for (const auto& item : list) {
    const std::string where = fmt::format("{}:{}", file, LineOf(item));
    if (!item.IsScalar()) {
      return Error(Status::InvalidArgument(
          where +
          ": requirements: expected a line like 'gpu.count >= 8' (quote it if it holds ': ')"));
    }
    GP_ASSIGN_OR_RETURN(Requirement req, ParseRequirementLine(item.Scalar(), where));
    req.line = LineOf(item);
    sheet.lines.push_back(std::move(req));
  }
  return sheet;
}

Result<RequirementSheet> LoadRequirementSheet(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Error(Status::NotFound(path + ": no such file"));
  std::ifstream in(path);
  if (!in) return Error(Status::IoError(path + ": cannot read"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseRequirementSheet(text, path);
}

ServerCheck CheckServer(const Catalog& catalog, const ServerModel& server,
                        const RequirementSheet& sheet) {
  ServerCheck out;
  out.server = &server;
  out.gpu = &catalog.ServerGpu(server);
  const GpuModel& gpu = *out.gpu;
  const std::vector<PoolCount> pool_counts = CountPools(server, sheet);
  for (std::size_t i = 0; i < sheet.lines.size(); ++i) {
    const Requirement& r = sheet.lines[i];
    LineCheck c;
    c.requirement = &r;
    const auto stated = [](int v) -> std::optional<double> {
      return v > 0 ? std::optional<double>(v) : std::nullopt;
    };
    if (const auto p = RatePrecision(r.field)) {
      CheckRate(c, gpu, *p, sheet.accept_sparse);
    } else if (r.field == "gpu.model") {
      auto wanted = catalog.FindGpu(r.word);
      const bool equal =
          wanted ? (*wanted)->name == gpu.name : NormalizeName(r.word) == NormalizeName(gpu.name);
      CheckWord(c, gpu.name, equal);
    } else if (r.field == "gpu.vendor") {
      CheckWord(c, gpu.vendor, Lower(r.word) == Lower(gpu.vendor));
    } else if (r.field == "cpu.arch") {
      CheckWord(c, server.cpu.arch, Lower(r.word) == Lower(server.cpu.arch));
    } else if (r.field == "memory.type") {
      CheckWord(c, server.memory.type, Lower(r.word) == Lower(server.memory.type));
    } else {
      std::optional<double> v;
      if (r.field == "gpu.count")
        v = server.gpu_count;
      else if (r.field == "gpu.memory_gb")
        v = gpu.memory_gib.value;
      else if (r.field == "gpu.total_memory_gb")
        v = gpu.memory_gib.value * server.gpu_count;
      else if (r.field == "gpu.memory_bandwidth_gbs")
        v = gpu.memory_bandwidth_gbs.value;
      else if (r.field == "gpu.p2p_gbs")
        v = server.gpu_p2p_gbs.value;
      else if (r.field == "gpu.scale_up_gbs")
        v = gpu.scale_up_bandwidth_gbs.value;
      else if (r.field == "gpu.tdp_w")
        v = gpu.tdp_w.value;
      else if (r.field == "cpu.sockets")
        v = server.cpu.sockets;
      else if (r.field == "cpu.cores_per_socket")
        v = server.cpu.cores_per_socket;
      else if (r.field == "cpu.cores")
        v = server.cpu.cores_per_socket * server.cpu.sockets;
      else if (r.field == "cpu.base_ghz")
        v = server.cpu.base_ghz;
      else if (r.field == "memory.gb")
        v = stated(server.memory.gib);
      else if (r.field == "memory.mhz")
        v = stated(server.memory.mhz);
      else if (r.field == "memory.dimms")
        v = stated(server.memory.dimms);
      else if (r.field == "memory.dimm_gb")
        v = stated(server.memory.dimm_gib);
      else if (r.field == "drives" || r.field == "nics")
        v = pool_counts[i].available;
      else if (r.field == "psus.count")
        v = server.psus.count;
      else if (r.field == "psus.hot_swap")
        v = server.psus.hot_swap ? server.psus.count : 0;
      else if (r.field == "psus.watts")
        v = stated(server.psus.watts);
      else if (r.field == "rack_units")
        v = stated(server.rack_units);
      SetNumeric(c, v);
      if (!c.met && r.field == "gpu.p2p_gbs" && gpu.scale_up_link.empty()) {
        c.note = "no NVLink-class link: GPUs talk over PCIe";
      }
      if (!c.met && (r.field == "drives" || r.field == "nics")) {
        const std::string what =
            r.field == "drives"
                ? fmt::format("{} drive(s) of >= {:g} TB", r.kind, r.min_tb)
                : fmt::format("{}-capable card(s) of >= {}G{}", r.kind, r.min_gbps,
                              r.min_ports > 1 ? fmt::format(" with >= {} ports", r.min_ports) : "");
        const PoolCount& pc = pool_counts[i];
        c.note = pc.qualifying == pc.available
                     ? fmt::format("has {} {}", pc.qualifying, what)
                     : fmt::format("has {} {}, {} of them counted by a more demanding line",
                                   pc.qualifying, what, pc.qualifying - pc.available);
      }
    }
    if (!c.met) ++out.failed;
    out.lines.push_back(std::move(c));
  }
  return out;
}

std::vector<ServerCheck> CheckServers(const Catalog& catalog, const RequirementSheet& sheet) {
  std::vector<ServerCheck> out;
  for (const auto& s : catalog.servers()) out.push_back(CheckServer(catalog, s, sheet));
  std::stable_sort(out.begin(), out.end(),
                   [](const ServerCheck& a, const ServerCheck& b) { return a.failed < b.failed; });
  return out;
}

}  // namespace gpupool::hw

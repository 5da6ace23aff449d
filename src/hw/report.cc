#include "hw/report.h"

#include <fmt/format.h>

#include <cmath>

#include "hw/text_table.h"

namespace gpupool::hw {
namespace {

std::string Cell(const Sourced& s) { return FormatNumber(s.value) + (s.verified ? "" : "*"); }

std::string RateCell(const GpuModel& g, Precision p) {
  const auto it = g.dense_tflops.find(p);
  return it == g.dense_tflops.end() ? "-" : Cell(it->second);
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string RateUnit(Precision p) {
  return p == Precision::kInt8 || p == Precision::kInt4 ? "TOPS" : "TFLOPS";
}

int CountUnverified(const GpuModel& g) {
  int n = 0;
  for (const auto& [name, s] : g.Figures()) n += s->verified ? 0 : 1;
  return n;
}

constexpr const char* kLegend = "* = not checked against a primary source (verified: false)\n";

std::string GpuListTable(const Catalog& c) {
  TextTable t({"GPU", "VENDOR", "ARCH", "YEAR", "MEM GiB", "HBM GB/s", "FP64", "FP32", "TF32",
               "BF16", "FP16", "FP8", "INT8", "FP4", "SCALE-UP", "GB/s", "TDP W"});
  for (const auto& g : c.gpus()) {
    t.AddRow({g.name, g.vendor, g.architecture, std::to_string(g.year), Cell(g.memory_gib),
              Cell(g.memory_bandwidth_gbs), RateCell(g, Precision::kFp64),
              RateCell(g, Precision::kFp32), RateCell(g, Precision::kTf32),
              RateCell(g, Precision::kBf16), RateCell(g, Precision::kFp16),
              RateCell(g, Precision::kFp8), RateCell(g, Precision::kInt8),
              RateCell(g, Precision::kFp4),
              g.scale_up_link.empty() ? "PCIe" + std::to_string(g.pcie_gen) : g.scale_up_link,
              Cell(g.scale_up_bandwidth_gbs), Cell(g.tdp_w)});
  }
  return "GPUs: dense peak TFLOPS (INT8 in TOPS; '-' = no native support); scale-up GB/s per GPU, "
         "both "
         "directions\n" +
         t.Render();
}

std::string LinkTable(const Catalog& c) {
  TextTable t({"LINK", "KIND", "GB/s PER DIR", "LATENCY us", "ACHIEVABLE"});
  for (const auto& l : c.interconnects()) {
    t.AddRow({l.name, std::string(LinkKindName(l.kind)), Cell(l.bandwidth_gbs), Cell(l.latency_us),
              Cell(l.achievable_fraction_sourced)});
  }
  return "Interconnects\n" + t.Render();
}

std::string ServerTable(const Catalog& c) {
  TextTable t(
      {"SERVER", "VENDOR", "GPUS", "GPU", "GPU-GPU GB/s", "CPU", "CORES", "MEMORY GiB", "NICS"});
  for (const auto& s : c.servers()) {
    int nics = 0;
    for (const auto& n : s.nics) nics += n.count;
    t.AddRow({s.name + (s.verified ? "" : "*"), s.vendor, std::to_string(s.gpu_count), s.gpu,
              Cell(s.gpu_p2p_gbs), fmt::format("{}x {}", s.cpu.sockets, s.cpu.model),
              std::to_string(s.cpu.sockets * s.cpu.cores_per_socket), std::to_string(s.memory.gib),
              std::to_string(nics)});
  }
  return "Servers (for `gpupool hw check`)\n" + t.Render();
}

std::string CpuTable(const Catalog& c) {
  TextTable t({"CPU", "VENDOR", "ARCH", "CORES", "BASE GHz", "FP64 TFLOPS", "FP32 TFLOPS"});
  for (const auto& cpu : c.cpus()) {
    t.AddRow({cpu.name, cpu.vendor, cpu.architecture, Cell(cpu.cores), Cell(cpu.base_ghz),
              FormatNumber(*cpu.PeakTflops(Precision::kFp64)) + "*",
              FormatNumber(*cpu.PeakTflops(Precision::kFp32)) + "*"});
  }
  return "CPUs (one socket; peak = cores x base GHz x FLOPs/cycle)\n" + t.Render();
}

std::string OpLine(const Requirement& r) { return r.text; }

}  // namespace

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{:.4f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

nlohmann::json FigureJson(const Sourced& s) {
  return {{"value", s.value}, {"source", s.source}, {"verified", s.verified}};
}

nlohmann::json GpuJson(const GpuModel& g) {
  nlohmann::json dense = nlohmann::json::object();
  nlohmann::json sparse = nlohmann::json::object();
  for (const auto& [p, s] : g.dense_tflops) {
    dense[std::string(PrecisionName(p))] = FigureJson(s);
    if (const auto sp = g.SparseTflops(p)) sparse[std::string(PrecisionName(p))] = *sp;
  }
  nlohmann::json vec = nlohmann::json::object();
  for (const auto& [p, s] : g.vector_tflops) vec[std::string(PrecisionName(p))] = FigureJson(s);
  return {{"name", g.name},
          {"aliases", g.aliases},
          {"vendor", g.vendor},
          {"architecture", g.architecture},
          {"year", g.year},
          {"form_factor", g.form_factor},
          {"pcie_gen", g.pcie_gen},
          {"scale_up_link", g.scale_up_link},
          {"scale_up_bandwidth_gbs", FigureJson(g.scale_up_bandwidth_gbs)},
          {"memory_gib", FigureJson(g.memory_gib)},
          {"memory_bandwidth_gbs", FigureJson(g.memory_bandwidth_gbs)},
          {"tdp_w", FigureJson(g.tdp_w)},
          {"structured_sparsity", g.structured_sparsity},
          {"dense_tflops", dense},
          {"sparse_tflops", sparse},
          {"vector_tflops", vec},
          {"source", g.source},
          {"notes", g.notes}};
}

nlohmann::json InterconnectJson(const Interconnect& l) {
  return {{"name", l.name},
          {"aliases", l.aliases},
          {"kind", std::string(LinkKindName(l.kind))},
          {"bandwidth_gbs_per_direction", FigureJson(l.bandwidth_gbs)},
          {"latency_us", FigureJson(l.latency_us)},
          {"achievable_fraction", FigureJson(l.achievable_fraction_sourced)},
          {"source", l.source}};
}

nlohmann::json CpuJson(const CpuModel& c) {
  return {{"name", c.name},
          {"aliases", c.aliases},
          {"vendor", c.vendor},
          {"arch", c.arch},
          {"architecture", c.architecture},
          {"year", c.year},
          {"cores", FigureJson(c.cores)},
          {"base_ghz", FigureJson(c.base_ghz)},
          {"fp64_flops_per_cycle", FigureJson(c.fp64_flops_per_cycle)},
          {"fp32_flops_per_cycle", FigureJson(c.fp32_flops_per_cycle)},
          {"fp64_peak_tflops", *c.PeakTflops(Precision::kFp64)},
          {"fp32_peak_tflops", *c.PeakTflops(Precision::kFp32)},
          {"source", c.source}};
}

nlohmann::json ServerJson(const Catalog& catalog, const ServerModel& s) {
  nlohmann::json drives = nlohmann::json::array();
  for (const auto& d : s.drives)
    drives.push_back({{"kind", d.kind}, {"count", d.count}, {"tb", d.tb}});
  nlohmann::json nics = nlohmann::json::array();
  for (const auto& n : s.nics) {
    nics.push_back({{"model", n.model},
                    {"kind", n.kind},
                    {"gbps", n.gbps},
                    {"ports", n.ports},
                    {"count", n.count}});
  }
  return {
      {"name", s.name},
      {"aliases", s.aliases},
      {"vendor", s.vendor},
      {"source", s.source},
      {"verified", s.verified},
      {"gpu", catalog.ServerGpu(s).name},
      {"gpu_count", s.gpu_count},
      {"gpu_p2p_gbs", FigureJson(s.gpu_p2p_gbs)},
      {"cpu",
       {{"model", s.cpu.model},
        {"arch", s.cpu.arch},
        {"sockets", s.cpu.sockets},
        {"cores_per_socket", s.cpu.cores_per_socket},
        {"base_ghz", s.cpu.base_ghz}}},
      {"memory",
       {{"gib", s.memory.gib},
        {"type", s.memory.type},
        {"mhz", s.memory.mhz},
        {"dimms", s.memory.dimms},
        {"dimm_gib", s.memory.dimm_gib}}},
      {"drives", drives},
      {"nics", nics},
      {"psus", {{"count", s.psus.count}, {"watts", s.psus.watts}, {"hot_swap", s.psus.hot_swap}}},
      {"rack_units", s.rack_units},
      {"notes", s.notes}};
}

std::string ListText(const Catalog& c, const std::string& what) {
  std::string out;
  const bool all = what == "all";
  if (all || what == "gpus") out += GpuListTable(c);
  if (all || what == "links") out += (out.empty() ? "" : "\n") + LinkTable(c);
  if (all || what == "servers") out += (out.empty() ? "" : "\n") + ServerTable(c);
  if (all || what == "cpus") out += (out.empty() ? "" : "\n") + CpuTable(c);
  return out + "\n" + kLegend;
}

nlohmann::json ListJson(const Catalog& c, const std::string& what) {
  nlohmann::json out = nlohmann::json::object();
  const bool all = what == "all";
  if (all || what == "gpus") {
    out["gpus"] = nlohmann::json::array();
    for (const auto& g : c.gpus()) out["gpus"].push_back(GpuJson(g));
  }
  if (all || what == "links") {
    out["interconnects"] = nlohmann::json::array();
    for (const auto& l : c.interconnects()) out["interconnects"].push_back(InterconnectJson(l));
  }
  if (all || what == "servers") {
    out["servers"] = nlohmann::json::array();
    for (const auto& s : c.servers()) out["servers"].push_back(ServerJson(c, s));
  }
  if (all || what == "cpus") {
    out["cpus"] = nlohmann::json::array();
    for (const auto& cpu : c.cpus()) out["cpus"].push_back(CpuJson(cpu));
  }
  return out;
}

std::string GpuText(const GpuModel& g) {
  std::string out =
      fmt::format("{} ({} {}, {}, {})\n", g.name, g.vendor, g.architecture, g.year, g.form_factor);
  if (!g.aliases.empty()) out += "  also: " + Join(g.aliases, ", ") + "\n";
  out += fmt::format("  host link: PCIe gen {}; scale-up: {}; 2:4 sparsity: {}\n", g.pcie_gen,
                     g.scale_up_link.empty() ? "none (PCIe only)" : g.scale_up_link,
                     g.structured_sparsity ? "yes (sparse = 2 x dense)" : "no");
  out += "  entry source: " + g.source + "\n\n";
  TextTable t({"FIGURE", "VALUE", "UNIT", "SPARSE", "VERIFIED", "SOURCE"});
  // A figure from the entry's own source says "entry source" (plus any derivation) instead of
  // repeating a long citation on every row.
  const auto source = [&](const std::string& s) {
    if (!g.source.empty() && s.rfind(g.source, 0) == 0)
      return "entry source" + s.substr(g.source.size());
    return s;
  };
  const auto add = [&](const std::string& name, const Sourced& s, const std::string& unit,
                       const std::string& sparse) {
    t.AddRow(
        {name, FormatNumber(s.value), unit, sparse, s.verified ? "yes" : "no", source(s.source)});
  };
  add("memory", g.memory_gib, "GiB", "");
  add("memory bandwidth", g.memory_bandwidth_gbs, "GB/s", "");
  add("scale-up bandwidth", g.scale_up_bandwidth_gbs, "GB/s", "");
  add("TDP", g.tdp_w, "W", "");
  for (const Precision p : AllPrecisions()) {
    const std::string pname(PrecisionName(p));
    const auto it = g.dense_tflops.find(p);
    if (it == g.dense_tflops.end()) {
      t.AddRow({pname + " dense", "-", RateUnit(p), "", "", "not supported natively"});
      continue;
    }
    const auto sparse = g.SparseTflops(p);
    add(pname + " dense", it->second, RateUnit(p), sparse ? FormatNumber(*sparse) : "");
    const auto v = g.vector_tflops.find(p);
    if (v != g.vector_tflops.end()) add(pname + " vector", v->second, RateUnit(p), "");
  }
  out += t.Render();
  for (const auto& n : g.notes) out += "  note: " + n + "\n";
  const int unverified = CountUnverified(g);
  if (unverified > 0) out += fmt::format("  {} figure(s) unverified\n", unverified);
  return out;
}

std::string InterconnectText(const Interconnect& l) {
  std::string out = fmt::format("{} ({})\n", l.name, LinkKindName(l.kind));
  if (!l.aliases.empty()) out += "  also: " + Join(l.aliases, ", ") + "\n";
  TextTable t({"FIGURE", "VALUE", "UNIT", "VERIFIED", "SOURCE"});
  const auto add = [&](const std::string& name, const Sourced& s, const std::string& unit) {
    t.AddRow({name, FormatNumber(s.value), unit, s.verified ? "yes" : "no", s.source});
  };
  add("bandwidth per direction", l.bandwidth_gbs, "GB/s");
  add("latency (one way)", l.latency_us, "us");
  add("achievable fraction", l.achievable_fraction_sourced, "");
  return out + "\n" + t.Render();
}

std::string CpuText(const CpuModel& c) {
  std::string out =
      fmt::format("{} ({} {}, {}, {})\n", c.name, c.vendor, c.architecture, c.arch, c.year);
  if (!c.aliases.empty()) out += "  also: " + Join(c.aliases, ", ") + "\n";
  TextTable t({"FIGURE", "VALUE", "VERIFIED", "SOURCE"});
  const auto add = [&](const std::string& name, const Sourced& s) {
    t.AddRow({name, FormatNumber(s.value), s.verified ? "yes" : "no", s.source});
  };
  add("cores", c.cores);
  add("base GHz", c.base_ghz);
  add("fp64 FLOPs/cycle/core", c.fp64_flops_per_cycle);
  add("fp32 FLOPs/cycle/core", c.fp32_flops_per_cycle);
  out += "\n" + t.Render();
  out += fmt::format(
      "  peak fp64 = {} x {} x {} / 1000 = {} TFLOPS; fp32 = {} TFLOPS (per socket)\n",
      FormatNumber(c.cores.value), FormatNumber(c.base_ghz.value),
      FormatNumber(c.fp64_flops_per_cycle.value), FormatNumber(*c.PeakTflops(Precision::kFp64)),
      FormatNumber(*c.PeakTflops(Precision::kFp32)));
  return out;
}

std::string ServerText(const Catalog& catalog, const ServerModel& s) {
  const GpuModel& g = catalog.ServerGpu(s);
  std::string out =
      fmt::format("{} ({}){}\n", s.name, s.vendor, s.verified ? "" : "  [unverified]");
  if (!s.aliases.empty()) out += "  also: " + Join(s.aliases, ", ") + "\n";
  out += "  source: " + s.source + "\n";
  out += fmt::format("  GPUs:    {} x {} ({} GiB each, {} GiB total); any two GPUs: {} GB/s ({})\n",
                     s.gpu_count, g.name, FormatNumber(g.memory_gib.value),
                     FormatNumber(g.memory_gib.value * s.gpu_count),
                     FormatNumber(s.gpu_p2p_gbs.value), s.gpu_p2p_gbs.source);
  out += fmt::format("  CPUs:    {} x {} ({}, {} cores at {} GHz base)\n", s.cpu.sockets,
                     s.cpu.model, s.cpu.arch, s.cpu.cores_per_socket, FormatNumber(s.cpu.base_ghz));
  const auto stated = [](int v) { return v > 0 ? std::to_string(v) : std::string("?"); };
  out += fmt::format("  memory:  {} GiB {} ({} x {} GiB at {} MHz)\n", s.memory.gib, s.memory.type,
                     stated(s.memory.dimms), stated(s.memory.dimm_gib), stated(s.memory.mhz));
  for (const auto& d : s.drives)
    out += fmt::format("  drive:   {} x {} TB {}\n", d.count, FormatNumber(d.tb), d.kind);
  for (const auto& n : s.nics) {
    out += fmt::format("  NIC:     {} x {} ({}, {} x {} Gb/s)\n", n.count, n.model, n.kind, n.ports,
                       n.gbps);
  }
  out += fmt::format("  power:   {} x {} W PSU{}\n", s.psus.count, s.psus.watts,
                     s.psus.hot_swap ? ", hot-swap" : "");
  if (s.rack_units > 0) out += fmt::format("  size:    {}U\n", s.rack_units);
  for (const auto& n : s.notes) out += "  note: " + n + "\n";
  return out;
}

std::string CompareText(const std::vector<const GpuModel*>& gpus) {
  std::vector<std::string> header = {""};
  for (const auto* g : gpus) header.push_back(g->name);
  TextTable t(header);
  const auto row = [&](const std::string& name, auto cell) {
    std::vector<std::string> cells = {name};
    for (const auto* g : gpus) cells.push_back(cell(*g));
    t.AddRow(std::move(cells));
  };
  row("vendor", [](const GpuModel& g) { return g.vendor; });
  row("architecture", [](const GpuModel& g) { return g.architecture; });
  row("year", [](const GpuModel& g) { return std::to_string(g.year); });
  row("memory GiB", [](const GpuModel& g) { return Cell(g.memory_gib); });
  row("memory GB/s", [](const GpuModel& g) { return Cell(g.memory_bandwidth_gbs); });
  for (const Precision p : AllPrecisions()) {
    row(std::string(PrecisionName(p)) + " dense " + RateUnit(p),
        [p](const GpuModel& g) { return RateCell(g, p); });
  }
  row("bf16 sparse TFLOPS", [](const GpuModel& g) {
    const auto s = g.SparseTflops(Precision::kBf16);
    return s ? FormatNumber(*s) : std::string("-");
  });
  // Ridge point of the roofline: FLOPs per byte of memory traffic needed to be compute-bound.
  row("bf16 FLOP/byte", [](const GpuModel& g) {
    const auto r = g.DenseTflops(Precision::kBf16);
    return r ? FormatNumber(std::round(*r * 1000 / g.memory_bandwidth_gbs.value))
             : std::string("-");
  });
  row("scale-up link", [](const GpuModel& g) {
    return g.scale_up_link.empty() ? "PCIe" + std::to_string(g.pcie_gen) : g.scale_up_link;
  });
  row("scale-up GB/s", [](const GpuModel& g) { return Cell(g.scale_up_bandwidth_gbs); });
  row("PCIe gen", [](const GpuModel& g) { return std::to_string(g.pcie_gen); });
  row("TDP W", [](const GpuModel& g) { return Cell(g.tdp_w); });
  row("unverified figures", [](const GpuModel& g) { return std::to_string(CountUnverified(g)); });
  return "Dense peak rates ('-' = no native support); bf16 FLOP/byte = dense bf16 / memory "
         "bandwidth\n" +
         t.Render() + "\n" + kLegend;
}

nlohmann::json CompareJson(const std::vector<const GpuModel*>& gpus) {
  nlohmann::json out = {{"gpus", nlohmann::json::array()}};
  for (const auto* g : gpus) out["gpus"].push_back(GpuJson(*g));
  return out;
}

std::string CheckText(const RequirementSheet& sheet, const std::vector<ServerCheck>& checks) {
  std::string out = fmt::format("{} ({}): {} requirement lines; 2:4-sparse rates {}\n", sheet.name,
                                sheet.file, sheet.lines.size(),
                                sheet.accept_sparse ? "accepted" : "not accepted (dense only)");
  if (!sheet.source.empty()) out += "  source: " + sheet.source + "\n";
  out += "\n";
  TextTable summary({"SERVER", "GPUS", "RESULT", "FAILED LINES"});
  for (const auto& c : checks) {
    summary.AddRow({c.server->name, fmt::format("{}x {}", c.server->gpu_count, c.gpu->name),
                    c.passes() ? "PASS" : "FAIL", fmt::format("{}/{}", c.failed, c.lines.size())});
  }
  out += summary.Render();
  for (const auto& c : checks) {
    if (c.passes()) continue;
    out += fmt::format("\n{} fails {} of {} lines:\n", c.server->name, c.failed, c.lines.size());
    TextTable t({"LINE", "REQUIREMENT", "HAS", "SHORT BY", "%", "WHY"});
    for (const auto& l : c.lines) {
      if (l.met) continue;
      const bool numeric = l.requirement->number.has_value() && l.actual_value.has_value();
      t.AddRow({std::to_string(l.requirement->line), OpLine(*l.requirement), l.actual,
                numeric ? FormatNumber(l.shortfall) : "",
                numeric ? FormatNumber(std::round(l.shortfall_percent * 10) / 10) : "", l.note});
    }
    out += t.Render();
  }
  int sparse_only = 0;
  for (const auto& c : checks) {
    for (const auto& l : c.lines) sparse_only += (l.sparse_only && !l.met) ? 1 : 0;
  }
  if (sparse_only > 0 && !sheet.accept_sparse) {
    out += fmt::format(
        "\n{} line(s) are met only by 2:4-sparse datasheet rates (2 x dense). Dense training and "
        "inference "
        "get the dense rate; set accept_sparse: true only if the buyer meant sparse.\n",
        sparse_only);
  }
  return out;
}

nlohmann::json CheckJson(const RequirementSheet& sheet, const std::vector<ServerCheck>& checks) {
  nlohmann::json servers = nlohmann::json::array();
  for (const auto& c : checks) {
    nlohmann::json lines = nlohmann::json::array();
    for (const auto& l : c.lines) {
      nlohmann::json j = {
          {"line", l.requirement->line}, {"requirement", l.requirement->text}, {"met", l.met},
          {"actual", l.actual},          {"sparse_only", l.sparse_only},       {"note", l.note}};
      if (l.actual_value) j["actual_value"] = *l.actual_value;
      if (!l.met && l.requirement->number && l.actual_value) {
        j["shortfall"] = l.shortfall;
        j["shortfall_percent"] = l.shortfall_percent;
      }
      lines.push_back(j);
    }
    servers.push_back({{"server", c.server->name},
                       {"gpu", c.gpu->name},
                       {"gpu_count", c.server->gpu_count},
                       {"passes", c.passes()},
                       {"failed", c.failed},
                       {"lines", lines}});
  }
  return {{"sheet",
           {{"name", sheet.name},
            {"file", sheet.file},
            {"source", sheet.source},
            {"accept_sparse", sheet.accept_sparse},
            {"lines", sheet.lines.size()}}},
          {"servers", servers}};
}

std::string SpeedupText(const SpeedupReport& r) {
  const auto& in = r.input;
  const auto& res = r.result;
  const std::string pname(PrecisionName(r.precision));
  const double p = in.parallel_fraction;
  std::string out =
      fmt::format("Amdahl speed-up, {} x {} against {} x {} ({}), parallel fraction p = {}\n\n",
                  in.gpus, r.gpu->name, in.sockets, r.cpu->name,
                  in.sockets == 1 ? "one socket" : "sockets", FormatNumber(p));
  out += fmt::format("  GPU peak  {} TFLOPS  ({} {} {})\n", FormatNumber(in.gpu_tflops),
                     r.gpu->name, r.vector ? "vector" : "dense", pname);
  out += fmt::format(
      "  CPU peak  {} TFLOPS  = {} cores x {} GHz x {} FLOP/cycle / 1000\n",
      FormatNumber(in.cpu_tflops), FormatNumber(r.cpu->cores.value),
      FormatNumber(r.cpu->base_ghz.value),
      FormatNumber(r.precision == Precision::kFp64 ? r.cpu->fp64_flops_per_cycle.value
                                                   : r.cpu->fp32_flops_per_cycle.value));
  out += fmt::format(
      "  k = (gpus x GPU peak) / (sockets x CPU peak) = ({} x {}) / ({} x {}) = {}\n", in.gpus,
      FormatNumber(in.gpu_tflops), in.sockets, FormatNumber(in.cpu_tflops), FormatNumber(res.k));
  out += fmt::format("  S = 1 / ((1 - p) + p / k) = 1 / ({} + {} / {}) = 1 / ({} + {}) = {}\n",
                     FormatNumber(res.serial_share), FormatNumber(p), FormatNumber(res.k),
                     FormatNumber(res.serial_share), FormatNumber(res.parallel_share),
                     FormatNumber(res.speedup));
  out += fmt::format(
      "  limit as k grows: 1 / (1 - p) = {}; S / k = {} % of the raw rate ratio survives\n",
      FormatNumber(res.limit), FormatNumber(std::round(res.efficiency * 1000) / 10));
  out +=
      "  (peak against peak: an upper bound; PCIe transfers and achieved efficiency are not "
      "counted)\n";
  return out;
}

std::string SpeedupSweepText(const std::vector<SpeedupReport>& rows) {
  if (rows.empty()) return "";
  const SpeedupReport& r = rows.front();
  const auto& in = r.input;
  std::string out =
      fmt::format("Amdahl speed-up, {} x {} against {} x {}, {} peak rates\n\n", in.gpus,
                  r.gpu->name, in.sockets, r.cpu->name, PrecisionName(r.precision));
  out +=
      fmt::format("  k = (gpus x GPU peak) / (sockets x CPU peak) = ({} x {}) / ({} x {}) = {}\n",
                  in.gpus, FormatNumber(in.gpu_tflops), in.sockets, FormatNumber(in.cpu_tflops),
                  FormatNumber(r.result.k));
  out += "  S = 1 / ((1 - p) + p / k); ceiling 1 / (1 - p)\n\n";
  TextTable t({"p", "S", "CEILING", "S / k"});
  for (const auto& row : rows) {
    t.AddRow({FormatNumber(row.input.parallel_fraction), FormatNumber(row.result.speedup),
              FormatNumber(row.result.limit),
              FormatNumber(std::round(row.result.efficiency * 1000) / 10) + "%"});
  }
  return out + t.Render();
}

nlohmann::json SpeedupSweepJson(const std::vector<SpeedupReport>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) out.push_back(SpeedupJson(r));
  return {{"results", out}};
}

nlohmann::json SpeedupJson(const SpeedupReport& r) {
  nlohmann::json limit =
      std::isinf(r.result.limit) ? nlohmann::json(nullptr) : nlohmann::json(r.result.limit);
  return {{"gpu", r.gpu->name},
          {"cpu", r.cpu->name},
          {"precision", std::string(PrecisionName(r.precision))},
          {"gpu_rate", r.vector ? "vector" : "dense"},
          {"gpus", r.input.gpus},
          {"sockets", r.input.sockets},
          {"parallel_fraction", r.input.parallel_fraction},
          {"gpu_peak_tflops", r.input.gpu_tflops},
          {"cpu_peak_tflops", r.input.cpu_tflops},
          {"k", r.result.k},
          {"speedup", r.result.speedup},
          {"limit", limit},
          {"efficiency", r.result.efficiency},
          {"formula", "S = 1 / ((1 - p) + p / k), k = gpus*gpu_peak / (sockets*cpu_peak)"}};
}

}  // namespace gpupool::hw

// `gpupool hw`: the hardware catalog (src/hw). list, show, compare, check, speedup; --json on
// each. Thin: parse flags, call src/hw, print. Exit codes: 0 ok, 2 bad input (unknown name,
// malformed sheet), 1 anything else.
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "hw/catalog.h"
#include "hw/name_match.h"
#include "hw/report.h"
#include "hw/requirements.h"
#include "hw/speedup.h"

namespace gpupool::app {
namespace {

struct HwArgs {
  std::string catalog_dir;  // empty: DataDir()/hw
  bool json = false;
  std::string what = "all";
  std::string name;
  std::vector<std::string> names;
  std::string sheet;
  bool accept_sparse = false;
  std::string gpu = "H100";
  std::string cpu = "EPYC-9654";
  std::vector<double> parallel_fractions = {0.95};
  std::string precision = "fp64";
  int gpus = 1;
  int sockets = 1;
  bool vector = false;
};

void Fail(const Status& s, int& exit_code) {
  std::cerr << "gpupool hw: " << s.message() << "\n";
  exit_code = s.ExitCode();
}

// The catalog to use: --catalog DIR, else the default one (loaded once).
Result<const hw::Catalog*> GetCatalog(const HwArgs& a) {
  if (a.catalog_dir.empty()) return hw::Catalog::Default();
  static Result<hw::Catalog> custom = hw::Catalog::Load(a.catalog_dir);
  if (!custom) return Error(custom.error());
  return &*custom;
}

void Print(const HwArgs& a, const nlohmann::json& json, const std::string& text) {
  if (a.json) {
    std::cout << json.dump(2) << "\n";
  } else {
    std::cout << text;
  }
}

void RunList(const HwArgs& a, int& exit_code) {
  auto c = GetCatalog(a);
  if (!c) return Fail(c.error(), exit_code);
  Print(a, hw::ListJson(**c, a.what), hw::ListText(**c, a.what));
}

// Looks the name up as a GPU, then an interconnect, a server and a CPU.
void RunShow(const HwArgs& a, int& exit_code) {
  auto c = GetCatalog(a);
  if (!c) return Fail(c.error(), exit_code);
  const hw::Catalog& cat = **c;
  if (auto g = cat.FindGpu(a.name)) return Print(a, hw::GpuJson(**g), hw::GpuText(**g));
  if (auto l = cat.FindInterconnect(a.name))
    return Print(a, hw::InterconnectJson(**l), hw::InterconnectText(**l));
  if (auto s = cat.FindServer(a.name))
    return Print(a, hw::ServerJson(cat, **s), hw::ServerText(cat, **s));
  if (auto p = cat.FindCpu(a.name)) return Print(a, hw::CpuJson(**p), hw::CpuText(**p));
  // Not found anywhere: suggest close names of every kind.
  std::vector<hw::NameKeys> keys;
  const auto add = [&keys](const auto& entries) {
    for (const auto& e : entries) {
      hw::NameKeys k{e.name, e.aliases};
      k.spellings.push_back(e.name);
      keys.push_back(std::move(k));
    }
  };
  add(cat.gpus());
  add(cat.interconnects());
  add(cat.servers());
  add(cat.cpus());
  std::string msg = "unknown name '" + a.name + "' (no GPU, interconnect, server or CPU)";
  const auto close = hw::ClosestNames(a.name, keys);
  for (std::size_t i = 0; i < close.size(); ++i) {
    msg += (i == 0 ? "; did you mean " : ", ") + close[i];
  }
  Fail(Status::NotFound(close.empty() ? msg + "; see `gpupool hw list`" : msg + "?"), exit_code);
}

void RunCompare(const HwArgs& a, int& exit_code) {
  auto c = GetCatalog(a);
  if (!c) return Fail(c.error(), exit_code);
  std::vector<const hw::GpuModel*> gpus;
  for (const auto& n : a.names) {
    auto g = (*c)->FindGpu(n);
    if (!g) return Fail(g.error(), exit_code);
    gpus.push_back(*g);
  }
  Print(a, hw::CompareJson(gpus), hw::CompareText(gpus));
}

void RunCheck(const HwArgs& a, int& exit_code) {
  auto c = GetCatalog(a);
  if (!c) return Fail(c.error(), exit_code);
  auto sheet = hw::LoadRequirementSheet(a.sheet);
  if (!sheet) return Fail(sheet.error(), exit_code);
  if (a.accept_sparse) sheet->accept_sparse = true;
  const auto checks = hw::CheckServers(**c, *sheet);
  Print(a, hw::CheckJson(*sheet, checks), hw::CheckText(*sheet, checks));
}

void RunSpeedup(const HwArgs& a, int& exit_code) {
  auto c = GetCatalog(a);
  if (!c) return Fail(c.error(), exit_code);
  auto gpu = (*c)->FindGpu(a.gpu);
  if (!gpu) return Fail(gpu.error(), exit_code);
  auto cpu = (*c)->FindCpu(a.cpu);
  if (!cpu) return Fail(cpu.error(), exit_code);
  auto precision = hw::ParsePrecision(a.precision);
  if (!precision) return Fail(precision.error(), exit_code);
  std::vector<hw::SpeedupReport> reports;
  for (const double p : a.parallel_fractions) {
    auto input = hw::SpeedupInputFor(**gpu, **cpu, *precision, p, a.gpus, a.sockets, a.vector);
    if (!input) return Fail(input.error(), exit_code);
    auto result = hw::AmdahlSpeedup(*input);
    if (!result) return Fail(result.error(), exit_code);
    reports.push_back({*gpu, *cpu, *precision, a.vector, *input, *result});
  }
  if (reports.size() == 1) {
    return Print(a, hw::SpeedupJson(reports[0]), hw::SpeedupText(reports[0]));
  }
  Print(a, hw::SpeedupSweepJson(reports), hw::SpeedupSweepText(reports));
}

}  // namespace

void AddHwCommand(CLI::App& app, int& exit_code) {
  static HwArgs args;
  auto* hw = app.add_subcommand(
      "hw", "Hardware catalog: GPUs, interconnects, servers, CPUs; requirement checks");
  hw->require_subcommand(1);
  hw->add_option("--catalog", args.catalog_dir,
                 "Catalog directory (default: hw/ of the data directory: $GPUPOOL_DATA_DIR, "
                 "else share/gpupool beside the installed binary)");

  auto* list = hw->add_subcommand("list", "List the catalog");
  list->add_option("--what", args.what, "all | gpus | links | servers | cpus")
      ->check(CLI::IsMember({"all", "gpus", "links", "servers", "cpus"}));
  list->add_flag("--json", args.json, "JSON output");
  list->callback([&exit_code] { RunList(args, exit_code); });

  auto* show = hw->add_subcommand(
      "show", "Show one GPU, interconnect, server or CPU with the source of each figure");
  show->add_option("name", args.name,
                   "Name in a common spelling (H100, a100-sxm4-80gb, 4090, NVLink4, DGX-H100)")
      ->required();
  show->add_flag("--json", args.json, "JSON output");
  show->callback([&exit_code] { RunShow(args, exit_code); });

  auto* compare = hw->add_subcommand("compare", "Compare GPUs side by side");
  compare->add_option("names", args.names, "Two or more GPU names")->required()->expected(2, 32);
  compare->add_flag("--json", args.json, "JSON output");
  compare->callback([&exit_code] { RunCompare(args, exit_code); });

  auto* check = hw->add_subcommand(
      "check",
      "Which catalog servers meet a requirement sheet (YAML), and by how much the others miss");
  check->add_option("sheet", args.sheet, "Requirement sheet (see docs/hw.md)")->required();
  check->add_flag("--accept-sparse", args.accept_sparse,
                  "Let 2:4-sparse rates meet tensor-rate lines");
  check->add_flag("--json", args.json, "JSON output");
  check->callback([&exit_code] { RunCheck(args, exit_code); });

  auto* speedup = hw->add_subcommand(
      "speedup", "Amdahl speed-up of a program on a GPU against a CPU, from peak rates");
  speedup->add_option("--gpu", args.gpu, "GPU name")->capture_default_str();
  speedup->add_option("--cpu", args.cpu, "CPU name (see `gpupool hw list --what cpus`)")
      ->capture_default_str();
  speedup
      ->add_option("-p,--parallel-fraction", args.parallel_fractions,
                   "Share of CPU run time the GPU accelerates, 0..1; several (0.5,0.9,0.99) give "
                   "a table")
      ->delimiter(',')
      ->capture_default_str();
  speedup->add_option("--precision", args.precision, "fp64 or fp32")->capture_default_str();
  speedup->add_option("--gpus", args.gpus, "Number of GPUs")->capture_default_str();
  speedup->add_option("--sockets", args.sockets, "Number of CPU sockets")->capture_default_str();
  speedup->add_flag("--vector", args.vector,
                    "Use the GPU's vector (non-tensor) rate where the catalog has one");
  speedup->add_flag("--json", args.json, "JSON output");
  speedup->callback([&exit_code] { RunSpeedup(args, exit_code); });
}

}  // namespace gpupool::app

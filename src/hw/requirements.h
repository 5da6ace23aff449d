// Requirement sheets (a tender's per-server minimums) and checking catalog servers against them.
//
// A sheet is YAML:
//   name: "University H100 tender 2024, per server"
//   source: "where the requirements come from"
//   accept_sparse: false          # may a 2:4-sparse rate meet a tensor-rate line? (default no)
//   requirements:
//     - gpu.count >= 8
//     - gpu.fp16_tflops >= 1900
//     - cpu.arch == x86
//     - drives[nvme, 7.68TB] >= 2
//     - nics[ib, 400G] >= 4
// Each line is `FIELD OP VALUE` with OP one of >= > <= < == !=; the fields are listed by
// RequirementFields() and in docs/hw.md. Errors name the file, the line and the field.
//
// Checking: every line is evaluated against a server; a failed line says by how much (the
// shortfall and its share of the requirement) and why, including the rate traps:
// - a tensor-rate line (tf32 and narrower) met only by the datasheet's 2:4-SPARSE figure, which
//   is 2 x the dense rate that dense work gets, fails unless accept_sparse is set;
// - an fp32 line met only by the TF32 tensor rate;
// - an fp64 line met only by the FP64 tensor-core rate (vector FP64 is half).
// Drives and NICs are counted exclusively: one card or drive serves one line. Lines of a kind are
// served from the most demanding (largest size or speed) down, each taking the least capable
// items that qualify, so a 400G card is not spent on a 25G line while a 25G card is free.
//
// Thread safety: pure functions over immutable inputs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hw/catalog.h"

namespace gpupool::hw {

enum class CompareOp { kGe, kGt, kLe, kLt, kEq, kNe };
std::string_view CompareOpText(CompareOp op);

struct Requirement {
  int line = 0;                   // 1-based line in the sheet
  std::string text;               // as written
  std::string field;              // "gpu.fp16_tflops", "drives", "nics"
  std::vector<std::string> args;  // bracket arguments, trimmed: {"nvme", "7.68TB"}
  CompareOp op = CompareOp::kGe;
  std::optional<double> number;  // numeric right-hand side
  std::string word;              // text right-hand side (cpu.arch == x86)
  // Parsed selectors (drives / nics).
  std::string kind;   // drives: nvme|sata-ssd|sas-ssd|hdd|ssd|any; nics: ib|ethernet|any
  double min_tb = 0;  // drives: per-drive size
  int min_gbps = 0;   // nics: per-port speed
  int min_ports = 1;  // nics: ports per card
};

struct RequirementSheet {
  std::string file;
  std::string name;
  std::string source;
  bool accept_sparse = false;
  std::vector<Requirement> lines;
};

// The fields a line may use, for help and errors ("gpu.fp16_tflops", "drives[KIND,SIZE]", ...).
const std::vector<std::string>& RequirementFields();

// Parses one line such as "nics[ib, 400G] >= 4". `where` prefixes errors ("sheet.yaml:12").
Result<Requirement> ParseRequirementLine(std::string_view text, const std::string& where);
// Parses a sheet from YAML text; `file` names it in errors.
Result<RequirementSheet> ParseRequirementSheet(std::string_view yaml, const std::string& file);
// Reads and parses a sheet file.
Result<RequirementSheet> LoadRequirementSheet(const std::string& path);

struct LineCheck {
  const Requirement* requirement = nullptr;
  bool met = false;
  std::string actual;  // what the server has, for display ("989.5", "DDR4", "0")
  std::optional<double> actual_value;
  double shortfall = 0;          // how far from the requirement when failed (same unit)
  double shortfall_percent = 0;  // shortfall / required x 100
  bool sparse_only = false;      // met only by the 2:4-sparse rate
  std::string note;              // why, the trap, or "not stated in the catalog"
};

struct ServerCheck {
  const ServerModel* server = nullptr;
  const GpuModel* gpu = nullptr;
  std::vector<LineCheck> lines;  // in sheet order
  int failed = 0;
  bool passes() const { return failed == 0; }
};

ServerCheck CheckServer(const Catalog& catalog, const ServerModel& server,
                        const RequirementSheet& sheet);
// Every catalog server, passing ones first, then by fewest failed lines, then catalog order.
std::vector<ServerCheck> CheckServers(const Catalog& catalog, const RequirementSheet& sheet);

}  // namespace gpupool::hw

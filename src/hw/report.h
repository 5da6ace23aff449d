// What `gpupool hw` prints: text tables and stable JSON for the catalog (list, show, compare),
// requirement checks and Amdahl speed-ups. The command layer only parses flags and calls these.
//
// Text: figures not checked against a primary source carry a trailing '*'; absent rates print
// "-". JSON (documented in docs/hw.md): numbers are plain, every figure object is
// {"value", "source", "verified"}, absent rates are omitted, and keys never change meaning.
//
// Thread safety: pure functions over immutable inputs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hw/catalog.h"
#include "hw/requirements.h"
#include "hw/speedup.h"

namespace gpupool::hw {

// "989.5", "1979", "0.49": shortest round-trip-ish form, at most 4 decimals.
std::string FormatNumber(double v);

nlohmann::json FigureJson(const Sourced& s);
nlohmann::json GpuJson(const GpuModel& gpu);
nlohmann::json InterconnectJson(const Interconnect& link);
nlohmann::json CpuJson(const CpuModel& cpu);
nlohmann::json ServerJson(const Catalog& catalog, const ServerModel& server);

// `hw list`: what = "all", "gpus", "links", "servers" or "cpus".
std::string ListText(const Catalog& catalog, const std::string& what);
nlohmann::json ListJson(const Catalog& catalog, const std::string& what);

// `hw show NAME`.
std::string GpuText(const GpuModel& gpu);
std::string InterconnectText(const Interconnect& link);
std::string CpuText(const CpuModel& cpu);
std::string ServerText(const Catalog& catalog, const ServerModel& server);

// `hw compare A B ...`: one column per GPU.
std::string CompareText(const std::vector<const GpuModel*>& gpus);
nlohmann::json CompareJson(const std::vector<const GpuModel*>& gpus);

// `hw check SHEET`.
std::string CheckText(const RequirementSheet& sheet, const std::vector<ServerCheck>& checks);
nlohmann::json CheckJson(const RequirementSheet& sheet, const std::vector<ServerCheck>& checks);

// `hw speedup`.
struct SpeedupReport {
  const GpuModel* gpu = nullptr;
  const CpuModel* cpu = nullptr;
  Precision precision = Precision::kFp64;
  bool vector = false;
  SpeedupInput input;
  SpeedupResult result;
};
std::string SpeedupText(const SpeedupReport& r);
nlohmann::json SpeedupJson(const SpeedupReport& r);
// Several parallel fractions on the same GPU and CPU (`-p 0.5,0.9,0.99`): k once, then one row per
// p with S, the 1 / (1 - p) ceiling and S / k. `rows` share gpu, cpu, precision and rates.
std::string SpeedupSweepText(const std::vector<SpeedupReport>& rows);
nlohmann::json SpeedupSweepJson(const std::vector<SpeedupReport>& rows);

}  // namespace gpupool::hw

#include "hw/requirements.h"

#include <gtest/gtest.h>

#include <map>

#include "hw/hw_test_util.h"

namespace gpupool::hw {
namespace {

using testing::Shipped;
using testing::TestDataDir;

const RequirementSheet& Tender() {
  static const Result<RequirementSheet> sheet =
      LoadRequirementSheet(TestDataDir() + "/h100_tender.yaml");
  if (!sheet) ADD_FAILURE() << sheet.error().ToString();
  static const RequirementSheet empty;
  return sheet ? *sheet : empty;
}

const ServerCheck& Find(const std::vector<ServerCheck>& checks, const std::string& name) {
  for (const auto& c : checks) {
    if (c.server->name == name) return c;
  }
  ADD_FAILURE() << "no check for " << name;
  static const ServerCheck none;
  return none;
}

// Failed lines of a check, keyed by the sheet line number.
std::map<int, const LineCheck*> Failed(const ServerCheck& c) {
  std::map<int, const LineCheck*> out;
  for (const auto& l : c.lines) {
    if (!l.met) out[l.requirement->line] = &l;
  }
  return out;
}

const LineCheck& Line(const ServerCheck& c, int line) {
  for (const auto& l : c.lines) {
    if (l.requirement->line == line) return l;
  }
  ADD_FAILURE() << "no line " << line;
  static const LineCheck none;
  return none;
}

// Sheet line numbers of tests/data/hw/h100_tender.yaml (first requirement on line 7).
constexpr int kBaseGhz = 10, kMemType = 12, kMemMhz = 15, kSata = 16, kNvme = 17, kIb400 = 18,
              kIb200 = 19, kFp32 = 21, kFp16 = 22, kP2p = 24, kEth25 = 25;

TEST(RequirementsTest, TenderSheetParses) {
  const RequirementSheet& s = Tender();
  ASSERT_EQ(s.lines.size(), 20u);
  EXPECT_FALSE(s.accept_sparse);
  EXPECT_EQ(s.lines.front().line, 7);
  EXPECT_EQ(s.lines.front().field, "cpu.arch");
  EXPECT_EQ(s.lines.front().word, "x86");
  const Requirement& nvme = s.lines[kNvme - 7];
  EXPECT_EQ(nvme.field, "drives");
  EXPECT_EQ(nvme.kind, "nvme");
  EXPECT_DOUBLE_EQ(nvme.min_tb, 7.68);
  EXPECT_DOUBLE_EQ(s.lines[kSata - 7].min_tb, 0.48);  // 480GB = 0.48 TB
  const Requirement& eth = s.lines[kEth25 - 7];
  EXPECT_EQ(eth.kind, "ethernet");
  EXPECT_EQ(eth.min_gbps, 25);
  EXPECT_EQ(eth.min_ports, 2);
  EXPECT_EQ(*s.lines[kFp16 - 7].number, 1900);
}

TEST(RequirementsTest, NoCatalogServerMeetsTheTenderOnDenseRates) {
  const auto checks = CheckServers(Shipped(), Tender());
  ASSERT_EQ(checks.size(), Shipped().servers().size());
  for (const auto& c : checks) EXPECT_FALSE(c.passes()) << c.server->name;
  // Sorted by fewest failures: the build made for the tender first.
  EXPECT_EQ(checks.front().server->name, "HGX-H100-TNHR");
}

TEST(RequirementsTest, TheTenderBuildFailsOnlyTheSparseFp16Line) {
  const auto checks = CheckServers(Shipped(), Tender());
  const ServerCheck& hgx = Find(checks, "HGX-H100-TNHR");
  const auto failed = Failed(hgx);
  ASSERT_EQ(failed.size(), 1u);
  ASSERT_EQ(failed.begin()->first, kFp16);
  const LineCheck& fp16 = *failed.begin()->second;
  // Dense H100 FP16 = 1979 / 2 = 989.5; short by 1900 - 989.5 = 910.5 = 47.92 % of 1900.
  EXPECT_DOUBLE_EQ(*fp16.actual_value, 989.5);
  EXPECT_DOUBLE_EQ(fp16.shortfall, 910.5);
  EXPECT_NEAR(fp16.shortfall_percent, 47.92, 0.01);
  // The sparse figure, 2 x 989.5 = 1979 >= 1900, is what meets the line: the trap.
  EXPECT_TRUE(fp16.sparse_only);
  EXPECT_NE(fp16.note.find("met only with 2:4 structured sparsity"), std::string::npos);
  EXPECT_NE(fp16.note.find("1979"), std::string::npos);
}

TEST(RequirementsTest, AcceptingSparseLetsOnlyTheTenderBuildPass) {
  RequirementSheet sheet = Tender();
  sheet.accept_sparse = true;
  const auto checks = CheckServers(Shipped(), sheet);
  int passing = 0;
  for (const auto& c : checks) passing += c.passes() ? 1 : 0;
  EXPECT_EQ(passing, 1);
  EXPECT_TRUE(checks.front().passes());
  EXPECT_EQ(checks.front().server->name, "HGX-H100-TNHR");
  const LineCheck& fp16 = Line(checks.front(), kFp16);
  EXPECT_TRUE(fp16.met);
  EXPECT_TRUE(fp16.sparse_only);
}

TEST(RequirementsTest, DgxH100MissesClockDrivesAndDenseFp16) {
  const auto checks = CheckServers(Shipped(), Tender());
  const ServerCheck& dgx = Find(checks, "DGX-H100");
  const auto failed = Failed(dgx);
  ASSERT_EQ(failed.size(), 4u);
  // Xeon 8480C base 2.0 GHz: short 2.1 - 2.0 = 0.1 = 4.76 %.
  ASSERT_TRUE(failed.count(kBaseGhz));
  EXPECT_NEAR(failed.at(kBaseGhz)->shortfall, 0.1, 1e-9);
  EXPECT_NEAR(failed.at(kBaseGhz)->shortfall_percent, 4.76, 0.01);
  // No SATA SSD at all; NVMe drives are 1.92 and 3.84 TB, none >= 7.68: 0 of 2, short 2 = 100 %.
  ASSERT_TRUE(failed.count(kSata));
  EXPECT_DOUBLE_EQ(failed.at(kSata)->shortfall, 2);
  ASSERT_TRUE(failed.count(kNvme));
  EXPECT_DOUBLE_EQ(*failed.at(kNvme)->actual_value, 0);
  EXPECT_DOUBLE_EQ(failed.at(kNvme)->shortfall_percent, 100);
  ASSERT_TRUE(failed.count(kFp16));
  EXPECT_TRUE(failed.at(kFp16)->sparse_only);
}

TEST(RequirementsTest, NicsServeOneLineEach) {
  const auto checks = CheckServers(Shipped(), Tender());
  const ServerCheck& dgx = Find(checks, "DGX-H100");
  // DGX H100: 8 single-port + 2 dual-port ConnectX-7 400G VPI, one 10GbE.
  // 400G line: all 10 qualify, 4 are taken (single-port first).
  EXPECT_DOUBLE_EQ(*Line(dgx, kIb400).actual_value, 10);
  // 200G line: 10 - 4 = 6 left, 2 taken (single-port).
  EXPECT_DOUBLE_EQ(*Line(dgx, kIb200).actual_value, 6);
  // 25G dual-port Ethernet: only the 2 dual-port cards have two ports; 10GbE is too slow.
  EXPECT_DOUBLE_EQ(*Line(dgx, kEth25).actual_value, 2);
  EXPECT_TRUE(Line(dgx, kEth25).met);

  // The tender build: 4 CX-7 (ib 400) + 2 CX-6 (ib 200) + 1 dual-port 25GbE.
  // The 400G line takes the 4 CX-7; the 200G line finds the 2 CX-6 left.
  const ServerCheck& hgx = Find(checks, "HGX-H100-TNHR");
  EXPECT_DOUBLE_EQ(*Line(hgx, kIb400).actual_value, 4);
  EXPECT_DOUBLE_EQ(*Line(hgx, kIb200).actual_value, 2);
  EXPECT_DOUBLE_EQ(*Line(hgx, kEth25).actual_value, 1);
}

TEST(RequirementsTest, DgxA100ShowsTheFp32AndNvlinkGaps) {
  const auto checks = CheckServers(Shipped(), Tender());
  const ServerCheck& dgx = Find(checks, "DGX-A100");
  const auto failed = Failed(dgx);
  // DDR4 (!= DDR5), 3200 MHz (short 1600 = 33.3 %), drives x2, no 400G card, FP32, FP16, NVLink.
  EXPECT_EQ(failed.size(), 8u);
  EXPECT_EQ(failed.at(kMemType)->actual, "DDR4");
  EXPECT_DOUBLE_EQ(failed.at(kMemMhz)->shortfall, 1600);
  EXPECT_DOUBLE_EQ(*failed.at(kIb400)->actual_value, 0);
  EXPECT_DOUBLE_EQ(failed.at(kIb400)->shortfall, 4);
  // FP32 19.5 vs 60: short 40.5 = 67.5 %; the TF32 tensor rate (156) would pass: say so.
  EXPECT_DOUBLE_EQ(failed.at(kFp32)->shortfall, 40.5);
  EXPECT_NEAR(failed.at(kFp32)->shortfall_percent, 67.5, 1e-9);
  EXPECT_NE(failed.at(kFp32)->note.find("TF32"), std::string::npos);
  // FP16 dense 312 and sparse 624 are both short of 1900: short by 1588 = 83.58 %, no sparse
  // rescue.
  EXPECT_DOUBLE_EQ(failed.at(kFp16)->shortfall, 1588);
  EXPECT_FALSE(failed.at(kFp16)->sparse_only);
  // NVLink 3: 600 vs 900, short 300 = 33.3 %.
  EXPECT_DOUBLE_EQ(failed.at(kP2p)->shortfall, 300);
  // The 200G line is met: the ten ConnectX-6 VPI cards run InfiniBand HDR.
  EXPECT_TRUE(Line(dgx, kIb200).met);
}

TEST(RequirementsTest, Mi300xFailsPairBandwidthAndDenseFp16) {
  const auto checks = CheckServers(Shipped(), Tender());
  const auto failed = Failed(Find(checks, "MI300X-Platform"));
  // One Infinity Fabric link per GPU pair: 128 GB/s vs 900, short 772 = 85.8 %.
  ASSERT_TRUE(failed.count(kP2p));
  EXPECT_DOUBLE_EQ(failed.at(kP2p)->shortfall, 772);
  // Dense FP16 1307.4 < 1900 (short 592.6 = 31.19 %), sparse 2614.8 >= 1900: the trap again.
  ASSERT_TRUE(failed.count(kFp16));
  EXPECT_NEAR(failed.at(kFp16)->shortfall, 592.6, 1e-9);
  EXPECT_TRUE(failed.at(kFp16)->sparse_only);
}

TEST(RequirementsTest, ArmServerFailsTheX86Line) {
  const auto checks = CheckServers(Shipped(), Tender());
  const ServerCheck& atlas = Find(checks, "Atlas-800T-A2");
  const LineCheck& arch = Line(atlas, 7);
  EXPECT_FALSE(arch.met);
  EXPECT_EQ(arch.actual, "arm");
}

// --- Parsing errors: file, line, field ----------------------------------------------------------

TEST(RequirementsTest, LineParsing) {
  auto r = ParseRequirementLine("  nics[IB, 400G, dual-port] >= 4 ", "f:1");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->field, "nics");
  EXPECT_EQ(r->kind, "ib");
  EXPECT_EQ(r->min_gbps, 400);
  EXPECT_EQ(r->min_ports, 2);
  EXPECT_EQ(r->op, CompareOp::kGe);
  EXPECT_EQ(ParseRequirementLine("gpu.tdp_w <= 700", "f:1")->op, CompareOp::kLe);
  EXPECT_EQ(ParseRequirementLine("gpu.count > 4", "f:1")->op, CompareOp::kGt);
  EXPECT_EQ(ParseRequirementLine("memory.type != DDR4", "f:1")->op, CompareOp::kNe);
  EXPECT_EQ(ParseRequirementLine("gpu.int8_tops >= 1000", "f:1")->field, "gpu.int8_tops");
}

TEST(RequirementsTest, BadLinesAreRefusedWithFileLineAndField) {
  const std::pair<const char*, const char*> table[] = {
      {"gpu.fp17_tflops >= 3", "sheet.yaml:4: gpu.fp17_tflops: unknown field"},
      {"gpu.count 8", "sheet.yaml:4: 'gpu.count 8': expected FIELD OP VALUE"},
      {"gpu.count >= eight", "sheet.yaml:4: gpu.count: 'eight' is not a number"},
      {"gpu.count >=", "sheet.yaml:4: gpu.count: missing value"},
      {"cpu.arch >= x86", "sheet.yaml:4: cpu.arch: compares text, so only == or !="},
      {"drives[nvme] >= 2", "sheet.yaml:4: drives: expected drives[KIND, SIZE]"},
      {"drives[tape, 1TB] >= 2", "sheet.yaml:4: drives: drive kind 'tape'"},
      {"nics[ib, 400Q] >= 2", "sheet.yaml:4: nics: NIC speed '400Q'"},
      {"gpu.count[2] >= 2", "sheet.yaml:4: gpu.count: takes no [arguments]"},
  };
  for (const auto& [line, expect] : table) {
    const std::string yaml =
        std::string("name: t\nrequirements:\n  - gpu.count >= 1\n  - ") + line + "\n";
    auto sheet = ParseRequirementSheet(yaml, "sheet.yaml");
    ASSERT_FALSE(sheet.has_value()) << line;
    EXPECT_EQ(sheet.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(sheet.error().ExitCode(), 2);
    EXPECT_NE(sheet.error().message().find(expect), std::string::npos)
        << line << " -> " << sheet.error().message();
  }
}

TEST(RequirementsTest, BadSheetsAreRefused) {
  // A mapping instead of a line (line 3), no requirements, a typo'd key, malformed YAML.
  auto item = ParseRequirementSheet("name: t\nrequirements:\n  - {gpu.count: 8}\n", "s.yaml");
  ASSERT_FALSE(item.has_value());
  EXPECT_NE(item.error().message().find("s.yaml:3: requirements: expected a line"),
            std::string::npos);

  auto none = ParseRequirementSheet("name: t\n", "s.yaml");
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("requirements: missing"), std::string::npos);

  auto typo = ParseRequirementSheet(
      "name: t\naccept_sparce: true\nrequirements:\n  - gpu.count >= 1\n", "s.yaml");
  ASSERT_FALSE(typo.has_value());
  EXPECT_NE(typo.error().message().find("s.yaml:2: accept_sparce: unknown field"),
            std::string::npos);

  auto malformed = ParseRequirementSheet("name: [t\nrequirements:\n", "s.yaml");
  ASSERT_FALSE(malformed.has_value());
  EXPECT_NE(malformed.error().message().find("malformed YAML"), std::string::npos);

  auto missing = LoadRequirementSheet("/nonexistent/sheet.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST(RequirementsTest, Fp64LineMetOnlyByTensorCoresSaysSo) {
  // H100: FP64 tensor 67 >= 40, but vector FP64 is 34 < 40.
  auto sheet =
      ParseRequirementSheet("name: t\nrequirements:\n  - gpu.fp64_tflops >= 40\n", "s.yaml");
  ASSERT_TRUE(sheet.has_value());
  const auto check = CheckServer(Shipped(), **Shipped().FindServer("DGX-H100"), *sheet);
  ASSERT_TRUE(check.passes());
  EXPECT_NE(check.lines[0].note.find("vector FP64 is 34"), std::string::npos);
}

TEST(RequirementsTest, UpperBoundsAndNotStatedValues) {
  // L40S TDP 350 <= 400 passes; DGX-B200 states no DIMM speed: "not stated" fails.
  auto sheet = ParseRequirementSheet(
      "name: t\nrequirements:\n  - gpu.tdp_w <= 400\n  - memory.mhz >= 4800\n", "s.yaml");
  ASSERT_TRUE(sheet.has_value());
  const auto l40s = CheckServer(Shipped(), **Shipped().FindServer("L40S-8GPU-PCIe"), *sheet);
  EXPECT_TRUE(l40s.lines[0].met);
  const auto b200 = CheckServer(Shipped(), **Shipped().FindServer("DGX-B200"), *sheet);
  // B200 1000 W > 400: short by 1000 - 400 = 600 = 150 %.
  EXPECT_FALSE(b200.lines[0].met);
  EXPECT_DOUBLE_EQ(b200.lines[0].shortfall, 600);
  EXPECT_DOUBLE_EQ(b200.lines[0].shortfall_percent, 150);
  EXPECT_FALSE(b200.lines[1].met);
  EXPECT_EQ(b200.lines[1].actual, "not stated");
}

}  // namespace
}  // namespace gpupool::hw

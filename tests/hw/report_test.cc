#include "hw/report.h"

#include <gtest/gtest.h>

#include "hw/hw_test_util.h"

namespace gpupool::hw {
namespace {

using testing::Shipped;
using testing::TestDataDir;

TEST(ReportTest, FormatNumberDropsTrailingZeros) {
  EXPECT_EQ(FormatNumber(989.5), "989.5");
  EXPECT_EQ(FormatNumber(1979.0), "1979");
  EXPECT_EQ(FormatNumber(3.6864), "3.6864");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.3");  // 0.30000000000000004 -> 4 decimals -> 0.3
  EXPECT_EQ(FormatNumber(18.174913194), "18.1749");
  EXPECT_EQ(FormatNumber(-0.00001), "0");
}

TEST(ReportTest, GpuJsonKeepsDenseAndSparseApartAndOmitsAbsentRates) {
  const nlohmann::json a100 = GpuJson(**Shipped().FindGpu("A100"));
  EXPECT_EQ(a100["name"], "A100-SXM-80GB");
  EXPECT_DOUBLE_EQ(a100["dense_tflops"]["bf16"]["value"].get<double>(), 312);
  EXPECT_DOUBLE_EQ(a100["sparse_tflops"]["bf16"].get<double>(), 624);  // 2 x 312
  EXPECT_FALSE(a100["dense_tflops"].contains("fp8"));                  // no FP8 on Ampere
  EXPECT_FALSE(a100["sparse_tflops"].contains("fp32"));                // not a tensor precision
  EXPECT_TRUE(a100["dense_tflops"]["bf16"].contains("source"));
  EXPECT_TRUE(a100["dense_tflops"]["bf16"].contains("verified"));
}

TEST(ReportTest, ShowMarksAbsentRatesAndUnverifiedFigures) {
  const std::string text = GpuText(**Shipped().FindGpu("H20"));
  EXPECT_NE(text.find("not supported natively"), std::string::npos);  // fp4
  EXPECT_NE(text.find("unverified"), std::string::npos);
  const std::string h100 = GpuText(**Shipped().FindGpu("H100"));
  EXPECT_NE(h100.find("(sparse 1979 / 2)"), std::string::npos);
}

TEST(ReportTest, CompareHasOneColumnPerGpu) {
  const std::vector<const GpuModel*> gpus = {*Shipped().FindGpu("H100"),
                                             *Shipped().FindGpu("MI300X")};
  const std::string text = CompareText(gpus);
  EXPECT_NE(text.find("H100-SXM"), std::string::npos);
  EXPECT_NE(text.find("MI300X"), std::string::npos);
  // bf16 FLOP/byte: H100 989.5 TFLOPS / 3350 GB/s x 1000 = 295.4 -> 295; MI300X 1307.4 / 5300 =
  // 246.7 -> 247.
  EXPECT_NE(text.find("295"), std::string::npos);
  EXPECT_NE(text.find("247"), std::string::npos);
  const nlohmann::json json = CompareJson(gpus);
  ASSERT_EQ(json["gpus"].size(), 2u);
  EXPECT_EQ(json["gpus"][1]["name"], "MI300X");
}

TEST(ReportTest, ListSectionsFollowWhat) {
  const std::string gpus = ListText(Shipped(), "gpus");
  EXPECT_NE(gpus.find("H100-SXM"), std::string::npos);
  EXPECT_EQ(gpus.find("IB-NDR"), std::string::npos);
  const std::string all = ListText(Shipped(), "all");
  for (const char* s : {"H100-SXM", "IB-NDR", "DGX-H100", "EPYC-9654"})
    EXPECT_NE(all.find(s), std::string::npos) << s;
  const nlohmann::json json = ListJson(Shipped(), "links");
  EXPECT_TRUE(json.contains("interconnects"));
  EXPECT_FALSE(json.contains("gpus"));
}

TEST(ReportTest, CheckTextExplainsTheSparseTrap) {
  auto sheet = LoadRequirementSheet(TestDataDir() + "/h100_tender.yaml");
  ASSERT_TRUE(sheet.has_value()) << sheet.error().ToString();
  const auto checks = CheckServers(Shipped(), *sheet);
  const std::string text = CheckText(*sheet, checks);
  EXPECT_NE(text.find("HGX-H100-TNHR"), std::string::npos);
  EXPECT_NE(text.find("met only with 2:4 structured sparsity"), std::string::npos);
  EXPECT_NE(text.find("910.5"), std::string::npos);  // 1900 - 989.5
  EXPECT_NE(text.find("47.9"), std::string::npos);   // 910.5 / 1900
  const nlohmann::json json = CheckJson(*sheet, checks);
  EXPECT_EQ(json["servers"][0]["server"], "HGX-H100-TNHR");
  EXPECT_EQ(json["servers"][0]["failed"], 1);
  EXPECT_FALSE(json["servers"][0]["passes"].get<bool>());
}

TEST(ReportTest, SpeedupShowsTheFormulaWithNumbers) {
  const GpuModel& h100 = **Shipped().FindGpu("H100");
  const CpuModel& epyc = **Shipped().FindCpu("EPYC-9654");
  auto in = SpeedupInputFor(h100, epyc, Precision::kFp64, 0.9, 1, 1, false);
  ASSERT_TRUE(in.has_value());
  auto res = AmdahlSpeedup(*in);
  ASSERT_TRUE(res.has_value());
  const SpeedupReport report{&h100, &epyc, Precision::kFp64, false, *in, *res};
  const std::string text = SpeedupText(report);
  EXPECT_NE(text.find("S = 1 / ((1 - p) + p / k)"), std::string::npos);
  EXPECT_NE(
      text.find("k = (gpus x GPU peak) / (sockets x CPU peak) = (1 x 67) / (1 x 3.6864) = 18.1749"),
      std::string::npos);
  EXPECT_NE(text.find("= 6.6881"), std::string::npos);
  EXPECT_NE(text.find("1 / (1 - p) = 10"), std::string::npos);
  const nlohmann::json json = SpeedupJson(report);
  EXPECT_NEAR(json["speedup"].get<double>(), 6.6881, 1e-4);
  EXPECT_NEAR(json["limit"].get<double>(), 10, 1e-12);
}

TEST(ReportTest, SpeedupSweepHasOneRowPerParallelFraction) {
  const GpuModel& h100 = **Shipped().FindGpu("H100");
  const CpuModel& xeon = **Shipped().FindCpu("8480");
  std::vector<SpeedupReport> rows;
  for (const double p : {0.5, 0.99, 1.0}) {
    auto in = SpeedupInputFor(h100, xeon, Precision::kFp64, p, 1, 1, false);
    ASSERT_TRUE(in.has_value());
    rows.push_back({&h100, &xeon, Precision::kFp64, false, *in, *AmdahlSpeedup(*in)});
  }
  // k = 67 / (56 x 2.0 x 32 / 1000 = 3.584) = 18.6942.
  // p = 0.5: S = 1 / (0.5 + 0.5 / 18.6942) = 1 / 0.526746 = 1.8984, ceiling 2.
  // p = 0.99: S = 1 / (0.01 + 0.99 / 18.6942) = 1 / 0.062958 = 15.8837, ceiling 100.
  // p = 1: S = k = 18.6942, ceiling inf.
  const std::string text = SpeedupSweepText(rows);
  EXPECT_NE(text.find("= 18.6942"), std::string::npos);
  EXPECT_NE(text.find("1.8984"), std::string::npos);
  EXPECT_NE(text.find("15.8837"), std::string::npos);
  EXPECT_NE(text.find("inf"), std::string::npos);
  const nlohmann::json json = SpeedupSweepJson(rows);
  ASSERT_EQ(json["results"].size(), 3u);
  EXPECT_TRUE(json["results"][2]["limit"].is_null());  // 1 / (1 - 1): no ceiling
}

}  // namespace
}  // namespace gpupool::hw

#include "planner/kernel_efficiency.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "planner_fixtures.h"

namespace gpupool::planner {
namespace {

std::string WriteTable(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("gpupool_kernels_" + name + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

const char* kRow =
    "- architecture: default\n"
    "  gemm_16bit: {value: 0.7, source: a}\n"
    "  gemm_fp8: {value: 0.4, source: b}\n"
    "  gemm_fp8_tensorwise: {value: 0.4, source: b}\n"
    "  flash: {value: 0.5, source: c}\n"
    "  flash_fa2: {value: 0.5, source: c}\n"
    "  flash_te: {value: 0.5, source: c}\n"
    "  fp8_tp_overlap: {value: 0, source: d}\n"
    "  nccl_sm_share: {value: 0.1, source: e}\n";

TEST(KernelEfficiencyTest, ShippedTableHasARowPerTrainingGeneration) {
  const KernelEfficiencyTable& t = testing::Kernels();
  EXPECT_EQ(KernelEfficiencyFor(t, testing::H100()).architecture, "Hopper");
  EXPECT_EQ(KernelEfficiencyFor(t, testing::H800()).architecture, "Hopper");
  EXPECT_EQ(KernelEfficiencyFor(t, testing::A100()).architecture, "Ampere");
  // Volta is not in the table: the default row.
  EXPECT_EQ(KernelEfficiencyFor(t, testing::V100()).architecture, "default");
  for (const auto& row : t.rows) EXPECT_FALSE(row.gemm_16bit.source.empty()) << row.architecture;
}

TEST(KernelEfficiencyTest, ReadsFiguresAndSources) {
  auto t = LoadKernelEfficiency(WriteTable("ok", kRow));
  ASSERT_TRUE(t.has_value()) << t.error().ToString();
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_DOUBLE_EQ(t->rows[0].gemm_16bit.value, 0.7);
  EXPECT_EQ(t->rows[0].gemm_fp8.source, "b");
}

TEST(KernelEfficiencyTest, RefusesAShareAbovePeakNamingTheLine) {
  std::string text = kRow;
  text.replace(text.find("0.7"), 3, "1.5");
  auto t = LoadKernelEfficiency(WriteTable("bad", text));
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find(":2:"), std::string::npos) << t.error().message();
  EXPECT_NE(t.error().message().find("gemm_16bit"), std::string::npos) << t.error().message();
}

TEST(KernelEfficiencyTest, RefusesATableWithoutADefaultRow) {
  std::string text = kRow;
  text.replace(text.find("default"), 7, "Hopper");
  auto t = LoadKernelEfficiency(WriteTable("nodefault", text));
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find("default"), std::string::npos);
}

TEST(KernelEfficiencyTest, RefusesAnUnknownField) {
  auto t = LoadKernelEfficiency(WriteTable("typo", std::string(kRow) + "  gemm_bf16: 0.7\n"));
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find("gemm_bf16"), std::string::npos) << t.error().message();
}

}  // namespace
}  // namespace gpupool::planner

#include "discovery/prometheus_exporter.h"

#include <gtest/gtest.h>

#include "discovery/fake_nvml_env.h"

namespace gpupool::discovery {
namespace {

using testing::OpenFake;

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(PrometheusExporterTest, ExportsDcgmStyleSeriesFromTheFake) {
  auto nvml = OpenFake("node4.json");
  ASSERT_TRUE(nvml.has_value());
  auto text = CollectPrometheusMetrics(**nvml);
  ASSERT_TRUE(text.has_value()) << text.error().ToString();
  const std::string l0 =
      R"({gpu="0",uuid="GPU-11111111-aaaa-bbbb-cccc-000000000000",model="H100-SXM"})";
  const std::string l1 =
      R"({gpu="1",uuid="GPU-22222222-aaaa-bbbb-cccc-000000000000",model="H100-SXM"})";
  EXPECT_TRUE(Has(*text, "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %)."));
  EXPECT_TRUE(Has(*text, "# TYPE DCGM_FI_DEV_GPU_UTIL gauge"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_GPU_UTIL" + l0 + " 87"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_MEM_COPY_UTIL" + l0 + " 45"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_FB_USED" + l0 + " 20480"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_FB_FREE" + l0 + " 61079"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_GPU_TEMP" + l0 + " 41"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_POWER_USAGE" + l0 + " 312.5"));  // 312500 mW
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_POWER_MGMT_LIMIT" + l0 + " 700"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_SM_CLOCK" + l0 + " 1980"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_MEM_CLOCK" + l0 + " 2619"));
  EXPECT_TRUE(Has(*text, "# TYPE DCGM_FI_DEV_ECC_SBE_VOL_TOTAL counter"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL" + l0 + " 3"));
  EXPECT_TRUE(Has(*text, "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS" + l1 + " 1"));
  EXPECT_TRUE(Has(*text, "gpupool_gpu_processes" + l0 + " 2"));
  // GPU 1 cannot report its power draw: no series rather than a made-up 0.
  EXPECT_EQ(text->find("DCGM_FI_DEV_POWER_USAGE" + l1), std::string::npos);
  // GPU 3 is lost: only the lost flag, whose label has no uuid/model (NVML could not say).
  EXPECT_TRUE(Has(*text, R"(gpupool_gpu_lost{gpu="3",uuid="",model=""} 1)"));
  EXPECT_TRUE(Has(*text, "gpupool_gpu_lost" + l0 + " 0"));
  EXPECT_EQ(text->find(R"(DCGM_FI_DEV_GPU_UTIL{gpu="3")"), std::string::npos);
}

GpuSample L4(int index, const std::string& uuid, int util) {
  GpuSample s;
  s.index = index;
  s.uuid = uuid;
  s.model = "L4";
  s.gpu_util_pct = util;
  return s;
}

TEST(PrometheusExporterTest, EachFamilyHasHelpThenTypeOnce) {
  const std::string text = FormatPrometheus({L4(0, "GPU-a", 10), L4(1, "GPU-b", 20)});
  EXPECT_NE(text.find("# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n"
                      "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
                      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",uuid=\"GPU-a\",model=\"L4\"} 10\n"
                      "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",uuid=\"GPU-b\",model=\"L4\"} 20\n"),
            std::string::npos)
      << text;
  // A family with no readings at all is left out entirely.
  EXPECT_EQ(text.find("DCGM_FI_DEV_GPU_TEMP"), std::string::npos);
}

TEST(PrometheusExporterTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue(R"(a"b\c)"
                             "\n"),
            R"(a\"b\\c\n)");
}

}  // namespace
}  // namespace gpupool::discovery

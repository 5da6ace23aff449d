#include "discovery/nvml_library.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "discovery/fake_nvml_env.h"

namespace gpupool::discovery {
namespace {

using testing::OpenFake;

TEST(NvmlLibraryTest, MissingLibraryIsUnavailableWithAPlainMessage) {
  auto nvml = NvmlLibrary::Open({"/nonexistent/libnvidia-ml.so.1"});
  ASSERT_FALSE(nvml.has_value());
  EXPECT_EQ(nvml.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(nvml.error().message().find("no NVIDIA driver found"), std::string::npos);
  EXPECT_NE(nvml.error().message().find("/nonexistent/libnvidia-ml.so.1"), std::string::npos);
  EXPECT_EQ(nvml.error().ExitCode(), 1);
}

TEST(NvmlLibraryTest, EnvironmentOverrideIsUsedWhenNoPathGiven) {
  setenv(kNvmlLibraryEnv, "/nonexistent/from-env.so", 1);
  auto nvml = NvmlLibrary::Open();
  unsetenv(kNvmlLibraryEnv);
  ASSERT_FALSE(nvml.has_value());
  EXPECT_NE(nvml.error().message().find("/nonexistent/from-env.so"), std::string::npos);
}

TEST(NvmlLibraryTest, LibraryWithoutNvmlSymbolsIsRejected) {
  // libm is a real shared library without a single NVML entry point.
  auto nvml = NvmlLibrary::Open({"libm.so.6"});
  ASSERT_FALSE(nvml.has_value());
  EXPECT_EQ(nvml.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(nvml.error().message().find("lacks nvmlInit_v2"), std::string::npos);
}

TEST(NvmlLibraryTest, DriverNotLoadedSaysHowToLoadIt) {
  auto nvml = OpenFake("driver_not_loaded.json");
  ASSERT_FALSE(nvml.has_value());
  EXPECT_EQ(nvml.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(nvml.error().message().find("Driver Not Loaded (NVML error 9)"), std::string::npos);
  EXPECT_NE(nvml.error().message().find("modprobe nvidia"), std::string::npos);
}

TEST(NvmlLibraryTest, VersionMismatchSaysReboot) {
  auto nvml = OpenFake("version_mismatch.json");
  ASSERT_FALSE(nvml.has_value());
  EXPECT_NE(nvml.error().message().find("NVML error 18"), std::string::npos);
  EXPECT_NE(nvml.error().message().find("Reboot"), std::string::npos);
}

TEST(NvmlLibraryTest, OpensTheFakeAndNamesErrors) {
  auto nvml = OpenFake("node4.json");
  ASSERT_TRUE(nvml.has_value()) << nvml.error().ToString();
  EXPECT_EQ((*nvml)->path(), FAKE_NVML_LIBRARY);
  EXPECT_EQ((*nvml)->ErrorString(NVML_ERROR_GPU_IS_LOST), "GPU is lost (NVML error 15)");
  // Every entry point the fake exports was resolved.
  EXPECT_NE((*nvml)->fn().DeviceGetComputeRunningProcesses, nullptr);
  EXPECT_NE((*nvml)->fn().DeviceGetNumaNodeId, nullptr);
}

TEST(NvmlLibraryTest, DescribesOtherInitFailuresGenerically) {
  const std::string m = DescribeInitFailure(999, "Unknown Error");
  EXPECT_NE(m.find("nvmlInit failed: Unknown Error (NVML error 999)"), std::string::npos);
  EXPECT_NE(
      DescribeInitFailure(NVML_ERROR_NO_PERMISSION, "Insufficient Permissions").find("/dev/nvidia"),
      std::string::npos);
}

}  // namespace
}  // namespace gpupool::discovery

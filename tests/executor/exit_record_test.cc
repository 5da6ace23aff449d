#include "executor/exit_record.h"

#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "executor_test_util.h"

namespace gpupool::executor {
namespace {

std::string Format(const ExitRecord& record) {
  char buf[64];
  return std::string(buf, FormatExitRecord(record, buf, sizeof buf));
}

TEST(ExitRecordTest, FormatsOneLineOfJson) {
  EXPECT_EQ(Format({1234, 3, 0}), "{\"pid\":1234,\"exit_code\":3,\"signal\":0}\n");
  EXPECT_EQ(Format({7, -1, 9}), "{\"pid\":7,\"exit_code\":-1,\"signal\":9}\n");
  EXPECT_EQ(Format({INT_MAX, INT_MIN, 0}),
            "{\"pid\":2147483647,\"exit_code\":-2147483648,\"signal\":0}\n");
}

TEST(ExitRecordTest, TooSmallABufferGivesZero) {
  char buf[10];
  EXPECT_EQ(FormatExitRecord({1234, 3, 0}, buf, sizeof buf), 0u);
}

TEST(ExitRecordTest, WritesAtomicallyAndReadsBack) {
  testing::ScratchDir dir;
  const std::string final_path = (dir.path() / kExitRecordName).string();
  const std::string temp_path = (dir.path() / kExitRecordTempName).string();
  ASSERT_EQ(WriteExitRecordAtomically({4321, -1, 15}, temp_path.c_str(), final_path.c_str(),
                                      dir.path().c_str()),
            0);
  EXPECT_EQ(testing::ReadFile(final_path), "{\"pid\":4321,\"exit_code\":-1,\"signal\":15}\n");
  EXPECT_FALSE(std::filesystem::exists(temp_path));
  const auto record = ReadExitRecord(dir.path());
  ASSERT_TRUE(record.has_value()) << record.error().ToString();
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ(**record, (ExitRecord{4321, -1, 15}));
}

TEST(ExitRecordTest, WriteReportsErrno) {
  EXPECT_EQ(WriteExitRecordAtomically({1, 0, 0}, "/nonexistent-dir/.t", "/nonexistent-dir/e",
                                      "/nonexistent-dir"),
            ENOENT);
}

TEST(ExitRecordTest, MissingRecordIsNoRecord) {
  testing::ScratchDir dir;
  const auto record = ReadExitRecord(dir.path());
  ASSERT_TRUE(record.has_value());
  EXPECT_FALSE(record->has_value());
}

TEST(ExitRecordTest, InvalidRecordsNameTheFile) {
  const char* bad[] = {
      "garbage",
      "{\"pid\":1,\"exit_code\":0}",                // no signal
      "{\"pid\":1,\"exit_code\":3,\"signal\":9}",   // both an exit code and a signal
      "{\"pid\":1,\"exit_code\":-1,\"signal\":0}",  // neither
      "{\"pid\":0,\"exit_code\":0,\"signal\":0}",   // no pid
      "{\"pid\":1,\"exit_code\":\"0\",\"signal\":0}",
  };
  for (const char* text : bad) {
    testing::ScratchDir dir;
    std::ofstream(dir.path() / kExitRecordName) << text;
    const auto record = ReadExitRecord(dir.path());
    ASSERT_FALSE(record.has_value()) << text;
    EXPECT_EQ(record.error().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(record.error().message().find((dir.path() / kExitRecordName).string()),
              std::string::npos)
        << record.error().message();
  }
}

}  // namespace
}  // namespace gpupool::executor

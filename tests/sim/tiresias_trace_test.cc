#include "sim/tiresias_trace.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/temp_dir.h"

namespace gpupool::sim {
namespace {

const std::string kHeader = "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n";

TEST(TiresiasTraceTest, ReadsTheShippedSample) {
  auto jobs =
      LoadTiresiasJobs(std::string(GPUPOOL_SOURCE_DATA_DIR) + "/traces/tiresias/60_job.csv");
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  // 60 rows; their durations sum to 10,705 s and their GPUs to 170 (awk over the file).
  ASSERT_EQ(jobs->size(), 60u);
  std::int64_t seconds = 0;
  int gpus = 0;
  for (const auto& j : *jobs) {
    seconds += j.duration_s;
    gpus += j.num_gpus;
  }
  EXPECT_EQ(seconds, 10705);
  EXPECT_EQ(gpus, 170);
  // The first row "0,1,0,606,vgg19,164,30" and the last "59,1,1779,525,inception3,122,33".
  EXPECT_EQ((*jobs)[0].line, 2);
  EXPECT_EQ((*jobs)[0].num_gpus, 1);
  EXPECT_EQ((*jobs)[0].duration_s, 164);
  EXPECT_EQ(jobs->back().submit_s, 1779);
  EXPECT_EQ(jobs->back().duration_s, 122);
  EXPECT_EQ(jobs->back().id, 60);
}

TEST(TiresiasTraceTest, OrdersBySubmitTimeFromTheEarliest) {
  testing::TempDir dir;
  const auto p = dir.Write("jobs.csv", kHeader +
                                           "0,2,100,1,a,50,0\n"  // line 2
                                           "1,1,40,1,b,10,0\n"   // line 3: the earliest
                                           "2,4,100,1,c,20,0\n");
  auto jobs = LoadTiresiasJobs(p);
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].line, 3);
  EXPECT_EQ((*jobs)[0].submit_s, 0);
  EXPECT_EQ((*jobs)[1].line, 2);  // same second as line 4: file order
  EXPECT_EQ((*jobs)[1].submit_s, 60);
  EXPECT_EQ((*jobs)[2].line, 4);
  EXPECT_EQ((*jobs)[2].num_gpus, 4);
}

TEST(TiresiasTraceTest, BadRowsNameFileLineAndColumn) {
  struct Case {
    const char* what;
    std::string text;
    std::string expected;  // after "<file>:"
  } cases[] = {
      {"no GPU", kHeader + "0,1,0,1,a,5,0\n1,0,3,1,a,5,0\n", "3: num_gpu: 0 is out of range"},
      {"not an integer", kHeader + "0,1,1.5,1,a,5,0\n", "2: submit_time: '1.5' is not an integer"},
      {"zero duration", kHeader + "0,1,0,1,a,0,0\n", "2: duration: 0 is out of range"},
      {"short line", kHeader + "0,1,0,1,a\n", "2: duration: missing (the line has 5 of 7"},
      {"missing column", "job_id,num_gpu,submit_time\n0,1,0\n",
       "1: duration: missing column in the header"},
      {"header only", kHeader, "1: no jobs in the file"},
      {"empty", "", "1: empty file"},
  };
  testing::TempDir dir;
  for (const auto& c : cases) {
    const auto p = dir.Write("bad.csv", c.text);
    auto jobs = LoadTiresiasJobs(p);
    ASSERT_FALSE(jobs.has_value()) << c.what;
    EXPECT_EQ(jobs.error().message().rfind(p + ":" + c.expected, 0), 0u)
        << c.what << ": " << jobs.error().message();
  }
}

}  // namespace
}  // namespace gpupool::sim

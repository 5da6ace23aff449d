#include "sim/philly_trace.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "testing/temp_dir.h"

namespace gpupool::sim {
namespace {

const std::string kHeader = "timestamp,duration,num_gpus,gpu_time,cluster\n";

class PhillyTraceTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) { return dir_.Write("philly.csv", text); }

  testing::TempDir dir_;
  const std::vector<std::pair<std::string, int>> vcs_ = {{"aa", 4}, {"bb", 2}};
};

// (line, submit_s) of each job, the fields most tests check.
std::vector<std::pair<int, std::int64_t>> LinesAndTimes(const std::vector<TraceJob>& jobs) {
  std::vector<std::pair<int, std::int64_t>> out;
  for (const auto& j : jobs) out.emplace_back(j.line, j.submit_s);
  return out;
}

TEST_F(PhillyTraceTest, KeepsGpuJobsOfListedVcsFromTheStartDateWithinTheWindow) {
  const auto p = Write(kHeader +
                       "2017-10-01 00:10:00,100.0,1,100.0,aa\n"  // line 2: kept
                       "2017-09-30 23:59:59,50.0,1,50.0,aa\n"    // 3: before `from`
                       "2017-10-01 00:05:00,60.0,2,120.0,bb\n"   // 4: kept, the first job
                       "2017-10-01 00:07:00,10.0,0,0.0,aa\n"     // 5: no GPU
                       "2017-10-01 00:06:00,10.0,1,10.0,zz\n"    // 6: VC not listed
                       "2017-10-01 01:05:00,30.0,4,120.0,aa\n"   // 7: t = 3600, on the edge
                       "2017-10-01 01:05:01,30.0,1,30.0,bb\n");  // 8: t = 3601, past it
  PhillyOptions opt;
  opt.window_s = 3600;
  auto jobs = LoadPhillyJobs(p, vcs_, opt);
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  // t from line 4 (00:05:00): line 2 00:10:00 - 00:05:00 = 300; line 7 01:05:00 - 00:05:00 = 3600.
  const std::vector<std::pair<int, std::int64_t>> expected = {{4, 0}, {2, 300}, {7, 3600}};
  EXPECT_EQ(LinesAndTimes(*jobs), expected);
  ASSERT_EQ(jobs->size(), 3u);
  const TraceJob& j = (*jobs)[2];
  EXPECT_EQ(j.id, 3);
  EXPECT_EQ(j.duration_s, 30);
  EXPECT_EQ(j.num_gpus, 4);
  EXPECT_EQ(j.queue, "aa");
  EXPECT_EQ(j.user, "");
  EXPECT_EQ((*jobs)[0].id, 1);
  EXPECT_EQ((*jobs)[0].queue, "bb");
}

TEST_F(PhillyTraceTest, DefaultWindowEndsAtNovemberThirtiethTwentyThreeFiftyNine) {
  // From 2017-10-01 00:00:00: Oct 31 days + Nov 29 days = 60 days = 5,184,000 s to Nov 30
  // 00:00:00, + 23:59 = 86,340 s -> 5,270,340 s, the default window, kept; one second more is not.
  const auto p = Write(kHeader +
                       "2017-11-30 23:59:01,5.0,1,5.0,aa\n"    // line 2: t = 5,270,341
                       "2017-10-01 00:00:00,5.0,1,5.0,aa\n"    // 3: t = 0
                       "2017-11-30 23:59:00,5.0,1,5.0,bb\n"    // 4: t = 5,270,340
                       "2017-10-15 12:00:00,5.0,1,5.0,aa\n");  // 5: 14.5 days = 1,252,800
  auto jobs = LoadPhillyJobs(p, vcs_);
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  const std::vector<std::pair<int, std::int64_t>> expected = {
      {3, 0}, {5, 1'252'800}, {4, 5'270'340}};
  EXPECT_EQ(LinesAndTimes(*jobs), expected);
}

TEST_F(PhillyTraceTest, TimesCountFromTheFirstKeptJobNotFromTheStartDate) {
  // `from` 2017-10-01 00:00:00 but the first kept job is at 00:00:45 (the shipped file's case):
  // t counts from 00:00:45, and the window's end moves with it.
  const auto p = Write(kHeader +
                       "2017-10-01 00:01:45,7.0,8,56.0,aa\n"   // line 2: t = 60
                       "2017-10-01 00:00:45,7.0,1,7.0,bb\n"    // 3: t = 0
                       "2017-10-01 00:00:30,7.0,1,7.0,zz\n");  // 4: VC not listed, not the first
  PhillyOptions opt;
  opt.window_s = 60;
  auto jobs = LoadPhillyJobs(p, vcs_, opt);
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  const std::vector<std::pair<int, std::int64_t>> expected = {{3, 0}, {2, 60}};
  EXPECT_EQ(LinesAndTimes(*jobs), expected);
}

TEST_F(PhillyTraceTest, SameSecondJobsKeepTheFileOrder) {
  const auto p = Write(kHeader +
                       "2017-10-02 08:00:00,3.0,1,3.0,bb\n"    // line 2
                       "2017-10-02 07:59:59,1.0,1,1.0,aa\n"    // 3: one second earlier
                       "2017-10-02 08:00:00,2.0,2,4.0,aa\n"    // 4
                       "2017-10-02 08:00:00,1.0,4,4.0,bb\n");  // 5
  auto jobs = LoadPhillyJobs(p, vcs_);
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  const std::vector<std::pair<int, std::int64_t>> expected = {{3, 0}, {2, 1}, {4, 1}, {5, 1}};
  EXPECT_EQ(LinesAndTimes(*jobs), expected);
  for (std::size_t i = 0; i < jobs->size(); ++i) EXPECT_EQ((*jobs)[i].id, std::int64_t(i) + 1);
}

TEST_F(PhillyTraceTest, NoVcsListedKeepsEveryVc) {
  const auto p = Write(kHeader +
                       "2017-10-01 00:00:10,1.0,1,1.0,aa\n"
                       "2017-10-01 00:00:20,1.0,1,1.0,zz\n");
  auto jobs = LoadPhillyJobs(p, {});
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  const std::vector<std::pair<int, std::int64_t>> expected = {{2, 0}, {3, 10}};
  EXPECT_EQ(LinesAndTimes(*jobs), expected);
}

TEST_F(PhillyTraceTest, KeepAllKeepsEveryRowTimedFromTheEarliest) {
  const auto p = Write(kHeader +
                       "2017-10-01 00:00:00,100.0,1,100.0,aa\n"  // line 2: t = 86,405
                       "2017-09-29 23:59:55,50.0,0,0.0,zz\n"     // 3: earliest, no GPU, not listed
                       "2018-01-01 00:00:00,9.0,2,18.0,bb\n");   // 4: past any window
  PhillyOptions opt;
  opt.keep_all = true;
  auto jobs = LoadPhillyJobs(p, vcs_, opt);
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  // 2017-09-29 23:59:55 -> 2017-10-01 00:00:00: 1 day + 5 s = 86,405 s; -> 2018-01-01 00:00:00:
  // + 92 days (Oct 31, Nov 30, Dec 31) = 7,948,800 s -> 8,035,205 s.
  const std::vector<std::pair<int, std::int64_t>> expected = {{3, 0}, {2, 86'405}, {4, 8'035'205}};
  EXPECT_EQ(LinesAndTimes(*jobs), expected);
  EXPECT_EQ((*jobs)[0].num_gpus, 0);
  EXPECT_EQ((*jobs)[0].queue, "zz");
}

TEST_F(PhillyTraceTest, FilterLeavingNoJobIsAnEmptyResult) {
  const auto p = Write(kHeader + "2017-09-01 00:00:00,1.0,1,1.0,aa\n");
  auto jobs = LoadPhillyJobs(p, vcs_);
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  EXPECT_TRUE(jobs->empty());
}

TEST_F(PhillyTraceTest, ColumnsAreFoundByNameAndBlankLinesSkipped) {
  const auto p = Write(
      "cluster,gpu_time,num_gpus,duration,timestamp\r\n"
      "aa,132.0000001,2,66.0,2017-10-01 00:00:01\r\n"  // within 1e-6 of 66 * 2 = 132
      "\r\n"
      "bb,5,1,5,2017-10-01 00:00:03\r\n");  // line 4
  auto jobs = LoadPhillyJobs(p, vcs_);
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].duration_s, 66);
  EXPECT_EQ((*jobs)[0].num_gpus, 2);
  EXPECT_EQ((*jobs)[1].line, 4);
  EXPECT_EQ((*jobs)[1].submit_s, 2);
}

TEST_F(PhillyTraceTest, MalformedFilesNameFileLineAndColumn) {
  const std::string ok = "2017-10-01 00:00:00,10.0,1,10.0,aa\n";
  struct Case {
    const char* what;
    std::string text;
    std::string expected;  // after "<file>:"
  } cases[] = {
      {"empty file", "", "1: empty file"},
      {"header only", kHeader, "1: no jobs in the file"},
      {"no header", ok + ok, "1: timestamp: missing column in the header"},
      {"header lacks a column", "timestamp,duration,num_gpus,cluster\n" + ok,
       "1: gpu_time: missing column in the header"},
      {"line lacks a column", kHeader + ok + "2017-10-01 00:00:00,10.0,1,10.0\n",
       "3: cluster: missing (the line has 4 of 5 columns)"},
      {"extra column", kHeader + "2017-10-01 00:00:00,10.0,1,10.0,aa,x\n",
       "2: column 6: not in the header"},
      {"no such date", kHeader + "2017-02-29 00:00:00,10.0,1,10.0,aa\n",
       "2: timestamp: '2017-02-29 00:00:00' is not a timestamp"},
      {"hour 24", kHeader + "2017-10-01 24:00:00,10.0,1,10.0,aa\n",
       "2: timestamp: '2017-10-01 24:00:00' is not a timestamp"},
      {"ISO T", kHeader + "2017-10-01T00:00:00,10.0,1,10.0,aa\n",
       "2: timestamp: '2017-10-01T00:00:00' is not a timestamp"},
      {"short date", kHeader + "2017-10-1 00:00:00,10.0,1,10.0,aa\n",
       "2: timestamp: '2017-10-1 00:00:00' is not a timestamp"},
      {"duration not a number", kHeader + "2017-10-01 00:00:00,ten,1,10.0,aa\n",
       "2: duration: 'ten' is not a number"},
      {"duration empty", kHeader + "2017-10-01 00:00:00,,1,10.0,aa\n",
       "2: duration: '' is not a number"},
      {"duration fractional", kHeader + "2017-10-01 00:00:00,10.5,1,10.5,aa\n",
       "2: duration: 10.5 is not a whole number of seconds >= 1"},
      {"duration zero", kHeader + "2017-10-01 00:00:00,0.0,1,0.0,aa\n",
       "2: duration: 0.0 is not a whole number of seconds >= 1"},
      {"duration nan", kHeader + "2017-10-01 00:00:00,nan,1,nan,aa\n",
       "2: duration: 'nan' is not a number"},
      {"num_gpus fractional", kHeader + "2017-10-01 00:00:00,10.0,1.5,15.0,aa\n",
       "2: num_gpus: '1.5' is not an integer"},
      {"num_gpus negative", kHeader + "2017-10-01 00:00:00,10.0,-1,-10.0,aa\n",
       "2: num_gpus: negative count -1"},
      {"gpu_time not a number", kHeader + "2017-10-01 00:00:00,10.0,1,x,aa\n",
       "2: gpu_time: 'x' is not a number"},
      {"gpu_time off", kHeader + ok + "2017-10-01 00:00:00,66.0,2,132.001,aa\n",
       "3: gpu_time: 132.001 is not duration * num_gpus (66.0 * 2)"},
      {"empty VC", kHeader + "2017-10-01 00:00:00,10.0,1,10.0, \n", "2: cluster: empty VC"},
      // A row the filter would drop (September, VC not listed) is still checked.
      {"bad row outside the window", kHeader + ok + "2017-09-01 00:00:00,1.5,1,1.5,zz\n",
       "3: duration: 1.5 is not a whole number"},
  };
  for (const auto& c : cases) {
    const auto p = Write(c.text);
    auto jobs = LoadPhillyJobs(p, vcs_);
    ASSERT_FALSE(jobs.has_value()) << c.what;
    EXPECT_EQ(jobs.error().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(jobs.error().message().rfind(p + ":" + c.expected, 0), 0u)
        << c.what << ": " << jobs.error().message();
  }
}

TEST_F(PhillyTraceTest, BadOptionsAreNamed) {
  const auto p = Write(kHeader + "2017-10-01 00:00:00,10.0,1,10.0,aa\n");
  PhillyOptions opt;
  opt.from = "2017-10-01";
  auto jobs = LoadPhillyJobs(p, vcs_, opt);
  ASSERT_FALSE(jobs.has_value());
  EXPECT_EQ(jobs.error().message(),
            "PhillyOptions.from: '2017-10-01' is not a timestamp YYYY-MM-DD HH:MM:SS");
  opt = PhillyOptions{};
  opt.window_s = -1;
  jobs = LoadPhillyJobs(p, vcs_, opt);
  ASSERT_FALSE(jobs.has_value());
  EXPECT_EQ(jobs.error().message(), "PhillyOptions.window_s: negative (-1)");
}

TEST_F(PhillyTraceTest, MissingFileIsNamed) {
  const std::string p = dir_.File("nope.csv").string();
  auto jobs = LoadPhillyJobs(p, vcs_);
  ASSERT_FALSE(jobs.has_value());
  EXPECT_EQ(jobs.error().message(), p + ": cannot open file");
}

TEST_F(PhillyTraceTest, LoadsVcNodes) {
  const auto p = dir_.Write("vc.csv", "vc,nodes\n6214e9,64\n\ned69ec,8\n");
  auto vcs = LoadVcNodes(p);
  ASSERT_TRUE(vcs.has_value()) << vcs.error().ToString();
  const std::vector<std::pair<std::string, int>> expected = {{"6214e9", 64}, {"ed69ec", 8}};
  EXPECT_EQ(*vcs, expected);
}

TEST_F(PhillyTraceTest, MalformedVcNodesNameFileLineAndColumn) {
  struct Case {
    const char* what;
    std::string text;
    std::string expected;  // after "<file>:"
  } cases[] = {
      {"empty file", "", "1: empty file"},
      {"header only", "vc,nodes\n", "1: no VCs in the file"},
      {"Helios's header", "vc,node num\naa,4\n", "1: nodes: missing column in the header"},
      {"empty VC", "vc,nodes\naa,4\n,2\n", "3: vc: empty VC"},
      {"repeated VC", "vc,nodes\naa,4\nbb,2\naa,8\n", "4: vc: 'aa' repeated (first on line 2)"},
      {"zero nodes", "vc,nodes\naa,0\n", "2: nodes: '0' is not an integer >= 1"},
      {"not a number", "vc,nodes\naa,four\n", "2: nodes: 'four' is not an integer >= 1"},
      {"line lacks a column", "vc,nodes\naa\n", "2: nodes: missing (the line has 1 of 2 columns)"},
  };
  for (const auto& c : cases) {
    const auto p = dir_.Write("vc.csv", c.text);
    auto vcs = LoadVcNodes(p);
    ASSERT_FALSE(vcs.has_value()) << c.what;
    EXPECT_EQ(vcs.error().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(vcs.error().message().rfind(p + ":" + c.expected, 0), 0u)
        << c.what << ": " << vcs.error().message();
  }
}

// The shipped trace with the Helios rules. The counts were computed independently in Python
// (pandas-free: csv + datetime), from the same rules, on the same file.
TEST(PhillyShippedTraceTest, HeliosRulesGiveTheKnownJobCounts) {
  const std::string dir = std::string(GPUPOOL_SOURCE_DATA_DIR) + "/traces/philly/";
  auto vcs = LoadVcNodes(dir + "vc_nodes.csv");
  ASSERT_TRUE(vcs.has_value()) << vcs.error().ToString();
  ASSERT_EQ(vcs->size(), 11u);
  int nodes = 0;
  for (const auto& [vc, n] : *vcs) nodes += n;
  EXPECT_EQ(nodes, 352);

  auto jobs = LoadPhillyJobs(dir + "philly.csv", *vcs);
  ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
  ASSERT_EQ(jobs->size(), 68'503u);
  std::map<std::string, int> per_vc;
  for (const auto& j : *jobs) ++per_vc[j.queue];
  const std::map<std::string, int> expected = {
      {"6214e9", 33'950}, {"11cb48", 11'897}, {"6c71a0", 9'383}, {"b436b2", 7'222},
      {"103959", 1'450},  {"0e4a51", 1'269},  {"ed69ec", 1'096}, {"ee9e8c", 1'053},
      {"7f04ca", 604},    {"2869ce", 315},    {"e13805", 264}};
  EXPECT_EQ(per_vc, expected);
  // First kept job: 2017-10-01 00:00:45 on line 31397; last: 2017-11-30 23:52:11 on line 21543,
  // 5,269,886 s later.
  EXPECT_EQ(jobs->front().line, 31'397);
  EXPECT_EQ(jobs->front().submit_s, 0);
  EXPECT_EQ(jobs->back().line, 21'543);
  EXPECT_EQ(jobs->back().submit_s, 5'269'886);
  EXPECT_EQ(jobs->back().id, 68'503);

  PhillyOptions all;
  all.keep_all = true;
  auto every = LoadPhillyJobs(dir + "philly.csv", *vcs, all);
  ASSERT_TRUE(every.has_value()) << every.error().ToString();
  EXPECT_EQ(every->size(), 82'247u);       // the README's row count
  EXPECT_EQ(every->front().line, 31'568);  // 2017-09-04 10:30:41, the earliest
}

}  // namespace
}  // namespace gpupool::sim

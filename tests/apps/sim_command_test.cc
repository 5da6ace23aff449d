// End-to-end tests of `gpupool sim fill` through the real binary: exit codes, the error line for
// bad input, nothing written on error, and the JSON document.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "testing/run_program.h"

namespace {

using gpupool::testing::ProgramRun;
using gpupool::testing::RunGpupool;

class SimCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("gpupool_cli_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    nodes_ = (dir_ / "nodes.csv").string();
    std::ofstream(nodes_)
        << "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,T4\nn1,96000,262144,8,G2\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string nodes_;
};

TEST_F(SimCommandTest, BadInputExitsTwoWithFileLineColumnAndWritesNothing) {
  const auto pods = (dir_ / "pods.csv").string();
  std::ofstream(pods)
      << "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,100,1,500\np1,1000,100,2,300\n";
  const auto out = dir_ / "out";
  const ProgramRun r = RunGpupool({"sim", "fill", "--nodes", nodes_, "--pods", pods, "--policy",
                                   "fgd", "--seeds", "1-2", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(pods + ":3: gpu_milli:"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(SimCommandTest, UnknownPolicyListsTheKnownOnes) {
  const ProgramRun r = RunGpupool({"sim", "fill", "--nodes", nodes_, "--policy", "tetris"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("known policies: random"), std::string::npos) << r.err;
}

TEST_F(SimCommandTest, JsonRunAndOutputs) {
  const auto pods = (dir_ / "pods.csv").string();
  std::ofstream(pods)
      << "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,100,1,500\np1,4000,100,2,1000\n"
         "p2,2000,100,0,0\np3,1000,100,1,250\n";
  const auto out = dir_ / "out";
  const ProgramRun r =
      RunGpupool({"sim", "fill", "--nodes", nodes_, "--pods", pods, "--policy", "fgd,packing",
                  "--seeds", "1-3", "--json", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);  // stdout is the JSON document alone
  EXPECT_EQ(j["trace"], "pods");
  ASSERT_EQ(j["policies"].size(), 2u);
  EXPECT_EQ(j["policies"][0]["policy"], "fgd");
  EXPECT_EQ(j["policies"][0]["seeds"], 3);
  EXPECT_TRUE(j.contains("wall_seconds"));
  EXPECT_TRUE(std::filesystem::exists(out / "summary.json"));
  EXPECT_TRUE(std::filesystem::exists(out / "curves" / "fgd_seed2.csv"));
  EXPECT_TRUE(std::filesystem::exists(out / "unallocated.csv"));
}

// Every name below dir_, relative to it, sorted: what a run created.
std::set<std::string> Tree(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    names.insert(e.path().lexically_relative(dir).string());
  }
  return names;
}

// The plot step once ran `cd '<out>' && gnuplot ...` through the shell: the quote in this name
// ended the shell string, and the $(...) after it ran. Now gnuplot starts in the folder
// (chdir, no shell) and its script names only fixed relative files.
TEST_F(SimCommandTest, AwkwardOutPathIsPlottedThereAndNothingElseHappens) {
  if (gpupool::FindOnPath("gnuplot").empty()) GTEST_SKIP() << "no gnuplot";
  const auto pods = (dir_ / "it's \"pods\" $(touch pwned-pods).csv").string();
  std::ofstream(pods) << "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,100,1,500\n"
                         "p1,4000,100,2,1000\np2,1000,100,1,250\n";
  const std::string awkward = "out dir 'single' \"double\" $(touch pwned) `touch pwned2` ; x";
  const auto out = dir_ / awkward;
  const std::set<std::string> before = Tree(dir_);
  // The binary runs with dir_ as its working directory, so a command a shell ran would leave its
  // file here, where Tree sees it.
  const ProgramRun r = RunGpupool({"sim", "fill", "--nodes", nodes_, "--pods", pods, "--policy",
                                   "fgd,bestfit", "--seeds", "1", "--out", out.string()},
                                  dir_.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;  // gnuplot ran and succeeded

  std::set<std::string> want = before;
  for (const char* f :
       {"", "/summary.json", "/unallocated.csv", "/unallocated.gp", "/unallocated.svg",
        "/unallocated.png", "/curves", "/curves/fgd_seed1.csv", "/curves/bestfit_seed1.csv"}) {
    want.insert(awkward + f);
  }
  EXPECT_EQ(Tree(dir_), want);
  // The figures are real SVG and PNG, not empty files.
  std::ifstream svg(out / "unallocated.svg");
  std::string svg_text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_NE(svg_text.find("<svg"), std::string::npos);
  // The trace name (the pods file's stem, quotes and all) is in the title, as written.
  EXPECT_NE(svg_text.find("openb it's \"pods\" $(touch pwned-pods): unallocated GPU"),
            std::string::npos)
      << svg_text.substr(0, 2000);
  std::error_code ec;
  EXPECT_GT(std::filesystem::file_size(out / "unallocated.png", ec), 1000u) << ec.message();
}

TEST(GpupoolHelpTest, HelpListsSubcommands) {
  const ProgramRun r = RunGpupool({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("sim"), std::string::npos);
  const ProgramRun f = RunGpupool({"sim", "fill", "--help"});
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_NE(f.out.find("--batch"), std::string::npos);
  EXPECT_NE(f.out.find("--tune"), std::string::npos);
}

// `sim replay --queues FILE` takes the service's queue file: a file that guarantees each VC its
// nodes' GPUs, with `order: fifo`, replays exactly as the built-in `--queues vcs --policy fifo`
// (a's second job borrows b's idle node, and b's job reclaims it: one preemption at least). A VC
// the file lacks, and a --policy that differs from the file's order, are refused naming them.
TEST_F(SimCommandTest, ReplayTakesAQueueFileAsTheServiceDoes) {
  const auto trace = (dir_ / "philly.csv").string();
  std::ofstream(trace) << "timestamp,duration,num_gpus,gpu_time,cluster\n"
                          "2017-10-01 00:00:00,100.0,8,800.0,aaaaaa\n"
                          "2017-10-01 00:00:10,100.0,8,800.0,aaaaaa\n"
                          "2017-10-01 00:00:20,50.0,8,400.0,bbbbbb\n";
  const auto vcs = (dir_ / "vcs.csv").string();
  std::ofstream(vcs) << "vc,nodes\naaaaaa,1\nbbbbbb,1\n";
  const auto file = (dir_ / "q.yaml").string();
  std::ofstream(file) << "order: fifo\nqueues:\n  - name: aaaaaa\n    guaranteed: 8\n"
                         "  - name: bbbbbb\n    guaranteed: 8\n";
  const ProgramRun from_file =
      RunGpupool({"sim", "replay", "--trace", trace, "--vcs", vcs, "--queues", file, "--json"});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  const ProgramRun built_in = RunGpupool({"sim", "replay", "--trace", trace, "--vcs", vcs,
                                          "--queues", "vcs", "--policy", "fifo", "--json"});
  ASSERT_EQ(built_in.exit_code, 0) << built_in.err;
  const auto a = nlohmann::json::parse(from_file.out)["policies"];
  const auto b = nlohmann::json::parse(built_in.out)["policies"];
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0]["policy"], "fifo");
  for (const char* k : {"avg_jct_seconds", "avg_queue_seconds", "p95_jct_seconds", "preemptions"}) {
    EXPECT_EQ(a[0][k], b[0][k]) << k;
  }
  EXPECT_GT(a[0]["preemptions"].get<int>(), 0);  // b's job reclaims the node a's job borrowed

  const auto one = (dir_ / "one.yaml").string();
  std::ofstream(one) << "queues:\n  - name: aaaaaa\n";
  const ProgramRun missing =
      RunGpupool({"sim", "replay", "--trace", trace, "--vcs", vcs, "--queues", one});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("the trace's VC 'bbbbbb' (1 job(s)) is not a queue of the file"),
            std::string::npos)
      << missing.err;
  const ProgramRun both = RunGpupool(
      {"sim", "replay", "--trace", trace, "--vcs", vcs, "--queues", file, "--policy", "las"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("--policy las: the queue file " + file + " names the order 'fifo'"),
            std::string::npos)
      << both.err;
}

// `sim replay --queues ... --strict`: strict order per queue, the scheduler's (as `gpupool serve
// --strict`). One shared pool of 2 nodes x 8 GPUs (the VCs' 1 + 1), vcs-hard: each VC's queue
// guaranteed and limited to 8 GPUs. By hand, fifo:
//   t 0:   1 (a, 6 GPUs, 100 s) starts on node-0.
//   t 10:  2 (a, 4) would take a to 10 > 8: its limit holds it, the head of queue a.
//   t 20:  3 (a, 1) fits under a's limit (7), but in strict order it waits behind 2;
//          4 (b, 8) starts on node-1: queue b is not blocked by a's head.
//   t 100: 1 ends: 2 (a: 4) and 3 (a: 5) start. 2 ends 150, 3 ends 110.
// Starts 0, 100, 100, 20; JCT 100, 140, 90, 30 (avg 90). Without --strict 3 starts at t 20
// (JCT 10, avg 70). --strict without --queues and with --backfill any are refused.
TEST_F(SimCommandTest, ReplayWithQueuesIsStrictPerQueueWithStrict) {
  const auto trace = (dir_ / "philly.csv").string();
  std::ofstream(trace) << "timestamp,duration,num_gpus,gpu_time,cluster\n"
                          "2017-10-01 00:00:00,100.0,6,600.0,aaaaaa\n"
                          "2017-10-01 00:00:10,50.0,4,200.0,aaaaaa\n"
                          "2017-10-01 00:00:20,10.0,1,10.0,aaaaaa\n"
                          "2017-10-01 00:00:20,30.0,8,240.0,bbbbbb\n";
  const auto vcs = (dir_ / "vcs.csv").string();
  std::ofstream(vcs) << "vc,nodes\naaaaaa,1\nbbbbbb,1\n";
  const auto starts = [&](const std::string& out) {
    std::ifstream f(out + "/jobs_fifo.csv");
    std::string line;
    std::getline(f, line);  // id,queue,num_gpus,submit_s,start_s,...
    std::vector<std::int64_t> s;
    while (std::getline(f, line)) {
      std::stringstream row(line);
      std::string cell;
      for (int c = 0; c <= 4; ++c) std::getline(row, cell, ',');
      s.push_back(std::stoll(cell));
    }
    return s;
  };
  const std::string strict_out = (dir_ / "strict").string();
  const ProgramRun strict =
      RunGpupool({"sim", "replay", "--trace", trace, "--vcs", vcs, "--queues", "vcs-hard",
                  "--strict", "--policy", "fifo", "--json", "--out", strict_out});
  ASSERT_EQ(strict.exit_code, 0) << strict.err;
  EXPECT_EQ(starts(strict_out), (std::vector<std::int64_t>{0, 100, 100, 20}));
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(strict.out)["policies"][0]["avg_jct_seconds"], 90.0);
  const std::string free_out = (dir_ / "free").string();
  const ProgramRun free = RunGpupool({"sim", "replay", "--trace", trace, "--vcs", vcs, "--queues",
                                      "vcs-hard", "--policy", "fifo", "--json", "--out", free_out});
  ASSERT_EQ(free.exit_code, 0) << free.err;
  EXPECT_EQ(starts(free_out), (std::vector<std::int64_t>{0, 100, 20, 20}));
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(free.out)["policies"][0]["avg_jct_seconds"], 70.0);

  const ProgramRun no_queues =
      RunGpupool({"sim", "replay", "--trace", trace, "--vcs", vcs, "--strict"});
  EXPECT_EQ(no_queues.exit_code, 2);
  EXPECT_NE(no_queues.err.find("--strict: applies to --queues"), std::string::npos)
      << no_queues.err;
  const ProgramRun any = RunGpupool({"sim", "replay", "--trace", trace, "--vcs", vcs, "--queues",
                                     "vcs", "--strict", "--backfill", "any"});
  EXPECT_EQ(any.exit_code, 2);
  EXPECT_NE(any.err.find("--strict: not with --backfill any"), std::string::npos) << any.err;
}

}  // namespace

// End-to-end tests of `gpupool sim fill` through the real binary: exit codes, the error line for
// bad input, nothing written on error, and the JSON document.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Output {
  int code;
  std::string out;
};

Output RunGpupool(const std::string& args) {
  const std::string cmd = std::string(GPUPOOL_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (p != nullptr && std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  const int status = p != nullptr ? pclose(p) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

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
  Output r = RunGpupool("sim fill --nodes " + nodes_ + " --pods " + pods +
                        " --policy fgd --seeds 1-2 --out " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(pods + ":3: gpu_milli:"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(SimCommandTest, UnknownPolicyListsTheKnownOnes) {
  Output r = RunGpupool("sim fill --nodes " + nodes_ + " --policy tetris");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("known policies: random"), std::string::npos) << r.out;
}

TEST_F(SimCommandTest, JsonRunAndOutputs) {
  const auto pods = (dir_ / "pods.csv").string();
  std::ofstream(pods)
      << "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,100,1,500\np1,4000,100,2,1000\n"
         "p2,2000,100,0,0\np3,1000,100,1,250\n";
  const auto out = dir_ / "out";
  Output r = RunGpupool("sim fill --nodes " + nodes_ + " --pods " + pods +
                        " --policy fgd,packing --seeds 1-3 --json --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["trace"], "pods");
  ASSERT_EQ(j["policies"].size(), 2u);
  EXPECT_EQ(j["policies"][0]["policy"], "fgd");
  EXPECT_EQ(j["policies"][0]["seeds"], 3);
  EXPECT_TRUE(j.contains("wall_seconds"));
  EXPECT_TRUE(std::filesystem::exists(out / "summary.json"));
  EXPECT_TRUE(std::filesystem::exists(out / "curves" / "fgd_seed2.csv"));
  EXPECT_TRUE(std::filesystem::exists(out / "unallocated.csv"));
}

TEST(GpupoolHelpTest, HelpListsSubcommands) {
  Output r = RunGpupool("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("sim"), std::string::npos);
  Output f = RunGpupool("sim fill --help");
  EXPECT_EQ(f.code, 0);
  EXPECT_NE(f.out.find("--batch"), std::string::npos);
  EXPECT_NE(f.out.find("--tune"), std::string::npos);
}

}  // namespace

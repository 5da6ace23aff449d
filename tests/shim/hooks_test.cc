// End to end: shim_probe (shim_probe.cc) run with libgpupool-cuda.so preloaded over the fake
// libcuda.so.1 (fake_cuda.cc), each process started with an argument vector and its own
// environment (posix_spawn; no shell). The expected values are worked out by hand in the
// comments; the fake's device has 16384 MiB unless a test says otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "shim/shared_region.h"

extern char** environ;

namespace gpupool::shim {
namespace {

// The fake's device 0 (fake_cuda.cc).
constexpr const char* kFakeUuid = "GPU-fa4ec0da-0000-0000-0000-000000000000";

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// One job: a job id no other test (or earlier run) uses, its region removed at the end.
class Job {
 public:
  Job() {
    static std::atomic<int> counter{0};
    id_ = static_cast<std::int64_t>(getpid()) * 1000 + counter.fetch_add(1);
    dir_ = ::testing::TempDir() + "shim_job_" + std::to_string(id_);
    std::filesystem::create_directories(dir_);
  }
  ~Job() {
    SharedRegion::Unlink(SharedRegion::RegionName(id_, 0, kFakeUuid));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::int64_t id() const { return id_; }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::int64_t id_;
  std::string dir_;
};

struct ProbeResult {
  int exit_code = -1;
  int signal = 0;
  std::vector<std::string> lines;  // stdout
  std::string err;                 // stderr
};

// A shim_probe process: the steps as its arguments, `env` on top of the shim's preload.
class Probe {
 public:
  Probe(const Job& job, const std::vector<std::string>& steps,
        const std::vector<std::string>& env) {
    std::vector<std::string> args = {SHIM_PROBE};
    args.insert(args.end(), steps.begin(), steps.end());
    std::vector<std::string> vars = {
        std::string("LD_PRELOAD=") + SHIM_LIBRARY,
        std::string("LD_LIBRARY_PATH=") + FAKE_CUDA_DIR,
        "GPUPOOL_JOB_ID=" + std::to_string(job.id()),
        "PATH=/usr/bin:/bin",
    };
    vars.insert(vars.end(), env.begin(), env.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
    int out[2];
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    err_path_ = job.File("stderr." + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_fd_ = out[0];
  }
  ~Probe() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }

  void Kill() { kill(pid_, SIGKILL); }

  ProbeResult Wait() {
    ProbeResult r;
    std::istringstream text(ReadAll(out_fd_));
    close(out_fd_);
    for (std::string line; std::getline(text, line);) r.lines.push_back(line);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    std::ifstream err(err_path_);
    std::stringstream e;
    e << err.rdbuf();
    r.err = e.str();
    return r;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string err_path_;
};

ProbeResult RunProbe(const Job& job, const std::vector<std::string>& steps,
                     const std::vector<std::string>& env) {
  Probe p(job, steps, env);
  return p.Wait();
}

bool WaitForFile(const std::string& path) {
  for (int i = 0; i < 3000; ++i) {
    if (access(path.c_str(), F_OK) == 0) return true;
    usleep(10'000);
  }
  return false;
}

TEST(ShimHooksTest, CapHoldsOnEveryAllocationPath) {
  // Cap 1000 MiB. Per path: 600 MiB fits (0 + 600 <= 1000), a second 600 does not
  // (600 + 600 = 1200 > 1000), and once the first is freed 1000 fits exactly; the driver then
  // holds 1000 MiB (fake) and cuMemGetInfo says free = 1000 - 1000 = 0 of total 1000.
  // Pitch: rows of 1 MiB are already 512-byte aligned, so pitch * rows = the MiB asked.
  // Mipmap with one level: exactly its base level.
  for (const std::string path : {"direct", "dlsym", "proc11", "proc12", "pitch", "managed", "async",
                                 "async_ptsz", "pool", "array", "array3d", "mipmap", "vmm"}) {
    SCOPED_TRACE(path);
    Job job;
    const ProbeResult r = RunProbe(job,
                                   {"alloc:" + path + ":600", "alloc:" + path + ":600", "free:0",
                                    "alloc:" + path + ":1000", "driver", "info"},
                                   {"GPUPOOL_GPU_MEMORY_MIB=1000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> want = {
        "alloc " + path + " 600 ok",  "alloc " + path + " 600 oom", "free 0 ok",
        "alloc " + path + " 1000 ok", "driver used=1000",           "info free=0 total=1000"};
    EXPECT_EQ(r.lines, want) << r.err;
    // The refusal is logged: who, how much, against what cap.
    EXPECT_NE(
        r.err.find("600.0 MiB refused on " + std::string(kFakeUuid) +
                   ": the job holds 600.0 MiB of its 1000.0 MiB cap (GPUPOOL_GPU_MEMORY_MIB)"),
        std::string::npos)
        << r.err;
  }
}

TEST(ShimHooksTest, FreesReturnMemoryToTheCap) {
  // Cap 1000: 400 + 400 = 800; free the first: 400 held, info free = 600; 600 more fits
  // (400 + 600 = 1000); free both: 0 held, free = 1000.
  Job job;
  const ProbeResult r = RunProbe(job,
                                 {"alloc:direct:400", "alloc:vmm:400", "free:0", "info",
                                  "alloc:array:600", "free:1", "free:2", "info"},
                                 {"GPUPOOL_GPU_MEMORY_MIB=1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.lines,
            (std::vector<std::string>{"alloc direct 400 ok", "alloc vmm 400 ok", "free 0 ok",
                                      "info free=600 total=1000", "alloc array 600 ok", "free 1 ok",
                                      "free 2 ok", "info free=1000 total=1000"}));
}

TEST(ShimHooksTest, MemoryShareFollowsMilliWithoutAnExplicitCap) {
  // 250 milli of a 16384 MiB GPU: cap 16384 * 250 / 1000 = 4096 MiB.
  Job job;
  const ProbeResult r =
      RunProbe(job, {"info", "alloc:direct:4096", "alloc:direct:1"}, {"GPUPOOL_GPU_MILLI=250"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.lines, (std::vector<std::string>{"info free=4096 total=4096", "alloc direct 4096 ok",
                                               "alloc direct 1 oom"}));
}

TEST(ShimHooksTest, WholeGpuJobIsNotCapped) {
  // 1000 milli and no memory cap: the driver's own numbers (16384 MiB), 10000 MiB fits.
  Job job;
  const ProbeResult r =
      RunProbe(job, {"info", "alloc:direct:10000", "info"}, {"GPUPOOL_GPU_MILLI=1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.lines,
            (std::vector<std::string>{"info free=16384 total=16384", "alloc direct 10000 ok",
                                      "info free=6384 total=16384"}));
}

TEST(ShimHooksTest, CapNeverExceedsWhatTheDriverHasFree) {
  // Cap 2000 MiB on a 1024 MiB GPU: free = min(2000 - 0, 1024) = 1024; total = the cap, 2000.
  Job job;
  const ProbeResult r =
      RunProbe(job, {"info"}, {"GPUPOOL_GPU_MEMORY_MIB=2000", "FAKE_CUDA_MEMORY_MIB=1024"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.lines, (std::vector<std::string>{"info free=1024 total=2000"}));
}

TEST(ShimHooksTest, TwoProcessesOfOneJobShareOneCap) {
  // Cap 1000. A takes 600; B then finds 1000 - 600 = 400 free: 600 is refused, 400 fits; A then
  // sees 0 free while B still runs. Each process's fake driver holds only its own allocations.
  Job job;
  const std::string a_ready = job.File("a_ready");
  const std::string b_done = job.File("b_done");
  const std::string a_done = job.File("a_done");
  Probe a(job,
          {"alloc:direct:600", "touch:" + a_ready, "wait:" + b_done, "info", "touch:" + a_done},
          {"GPUPOOL_GPU_MEMORY_MIB=1000"});
  Probe b(job,
          {"wait:" + a_ready, "info", "alloc:direct:600", "alloc:proc12:400", "touch:" + b_done,
           "wait:" + a_done},
          {"GPUPOOL_GPU_MEMORY_MIB=1000"});
  const ProbeResult rb = b.Wait();
  const ProbeResult ra = a.Wait();
  EXPECT_EQ(rb.lines,
            (std::vector<std::string>{"wait", "info free=400 total=1000", "alloc direct 600 oom",
                                      "alloc proc12 400 ok", "touch", "wait"}))
      << rb.err;
  EXPECT_EQ(ra.lines, (std::vector<std::string>{"alloc direct 600 ok", "touch", "wait",
                                                "info free=0 total=1000", "touch"}))
      << ra.err;
}

TEST(ShimHooksTest, ProcessKilledMidAllocationGivesItsMemoryBack) {
  // Cap 1000. A holds 500 and hangs inside a 300 MiB allocation (the fake never returns), after
  // the shim reserved it: the job holds 500 + 300 = 800, so B sees 200 free. A is SIGKILLed; C
  // then sees the whole 1000 free (A's record reaped) and can take all of it.
  Job job;
  const std::string hung = job.File("hung");
  Probe a(job, {"alloc:direct:500", "alloc:direct:300"},
          {"GPUPOOL_GPU_MEMORY_MIB=1000", "FAKE_CUDA_HANG_BYTES=" + std::to_string(300 << 20),
           "FAKE_CUDA_HANG_FILE=" + hung});
  ASSERT_TRUE(WaitForFile(hung));
  const ProbeResult b = RunProbe(job, {"info"}, {"GPUPOOL_GPU_MEMORY_MIB=1000"});
  EXPECT_EQ(b.lines, (std::vector<std::string>{"info free=200 total=1000"})) << b.err;
  a.Kill();
  const ProbeResult ra = a.Wait();  // reaped: its pid is gone
  EXPECT_EQ(ra.signal, SIGKILL);
  const ProbeResult c =
      RunProbe(job, {"info", "alloc:direct:1000"}, {"GPUPOOL_GPU_MEMORY_MIB=1000"});
  EXPECT_EQ(c.lines,
            (std::vector<std::string>{"info free=1000 total=1000", "alloc direct 1000 ok"}))
      << c.err;
}

TEST(ShimHooksTest, UnknownEntryPointsPassThroughUntouched) {
  // cuDeviceGetName and cuMemcpyHtoD_v2 are not hooked: dlsym and cuGetProcAddress give the
  // fake's own functions. cuMemCreate and cuLaunchKernel are: both routes give the shim's; so is
  // cuGetProcAddress asked for itself (CUDA 12: the driver's cuGetProcAddress_v2, then the hook).
  Job job;
  const ProbeResult r = RunProbe(job,
                                 {"sym:cuDeviceGetName", "sym:cuMemcpyHtoD_v2", "sym:cuMemCreate",
                                  "sym:cuLaunchKernel", "sym:cuGetProcAddress"},
                                 {"GPUPOOL_GPU_MEMORY_MIB=1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.lines, (std::vector<std::string>{"sym cuDeviceGetName dlsym=same proc=same",
                                               "sym cuMemcpyHtoD_v2 dlsym=same proc=same",
                                               "sym cuMemCreate dlsym=hooked proc=hooked",
                                               "sym cuLaunchKernel dlsym=hooked proc=hooked",
                                               "sym cuGetProcAddress dlsym=hooked proc=hooked"}));
}

TEST(ShimHooksTest, NvmlMemoryQueryReportsTheShare) {
  // Cap 1000, 600 taken through CUDA: NVML says total 1000, used 600, free 400 for the job's GPU
  // (both calls). For a GPU the job was not given (CUDA_VISIBLE_DEVICES names another), the
  // driver's numbers: 16384 total, 0 used (the fake NVML's script).
  const std::string script = std::string(GPUPOOL_TEST_DATA_DIR) + "/shim/fake_gpu.json";
  Job job;
  const ProbeResult r =
      RunProbe(job, {"alloc:direct:600", std::string("nvml:") + FAKE_NVML_LIBRARY},
               {"GPUPOOL_GPU_MEMORY_MIB=1000", "FAKE_NVML_SCRIPT=" + script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.lines, (std::vector<std::string>{
                         "alloc direct 600 ok",
                         "nvml total=1000 used=600 free=400 v2 total=1000 used=600 free=400"}));
  Job other;
  const ProbeResult o = RunProbe(other, {std::string("nvml:") + FAKE_NVML_LIBRARY},
                                 {"GPUPOOL_GPU_MEMORY_MIB=1000", "FAKE_NVML_SCRIPT=" + script,
                                  "CUDA_VISIBLE_DEVICES=GPU-99999999-0000-0000-0000-000000000000"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.lines, (std::vector<std::string>{
                         "nvml total=16384 used=0 free=16384 v2 total=16384 used=0 free=16384"}));
}

TEST(ShimHooksTest, BadVariableIsNamedAndCudaRefused) {
  Job job;
  const ProbeResult r = RunProbe(job, {"info"}, {"GPUPOOL_GPU_MILLI=half"});
  EXPECT_EQ(r.exit_code, 3);  // the probe's "init failed"
  EXPECT_NE(r.err.find("GPUPOOL_GPU_MILLI='half' is not an integer from 0 to 1000"),
            std::string::npos)
      << r.err;
}

// The achieved share: the fake GPU's busy time over the wall time of the launch loop.
double Share(const ProbeResult& r) {
  long long busy = 0;
  long long wall = 1;
  for (const std::string& line : r.lines) {
    if (sscanf(line.c_str(), "launch busy=%lld wall=%lld", &busy, &wall) == 2) break;
  }
  return static_cast<double>(busy) / static_cast<double>(wall);
}

TEST(ShimHooksTest, LaunchesArePacedToTheShare) {
  // 250 milli, 2 ms kernels filling the GPU (132 blocks on 132 SMs), 150 launches: 300 ms of GPU
  // time, paced to about 300 / 0.25 = 1200 ms of wall time: share about 0.25. Unpaced the loop
  // only queues, and the wall time is the GPU's 300 ms: share about 1. Each launch route, and a
  // graph (paced as one full-GPU kernel).
  // (A wide band: this checks that pacing happens and where it lands, not the machine's timers.)
  for (const std::string path : {"kernel", "ex", "coop", "proc", "graph"}) {
    SCOPED_TRACE(path);
    Job job;
    const ProbeResult r =
        RunProbe(job, {"launch:" + path + ":2000000:132:150"}, {"GPUPOOL_GPU_MILLI=250"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GT(Share(r), 0.17) << r.lines.at(0);
    EXPECT_LT(Share(r), 0.33) << r.lines.at(0);
  }
  Job job;
  const ProbeResult whole =
      RunProbe(job, {"launch:kernel:2000000:132:150"}, {"GPUPOOL_GPU_MILLI=1000"});
  EXPECT_GT(Share(whole), 0.9) << whole.lines.at(0);
}

// The wall time of a "launch" line.
double Wall(const ProbeResult& r) {
  long long busy = 0;
  long long wall = 0;
  for (const std::string& line : r.lines) {
    if (sscanf(line.c_str(), "launch busy=%lld wall=%lld", &busy, &wall) == 2) break;
  }
  return static_cast<double>(wall);
}

TEST(ShimHooksTest, TwoProcessesOfOneJobShareOneComputeShare) {
  // 500 milli for the job; two processes each launch 75 full-GPU kernels of 2 ms (150 ms of GPU
  // time each, 300 ms together). Paced together the job needs about 300 / 0.5 = 600 ms: together
  // they get about 0.5 of the time. Paced apart each would finish in about 300 ms and together
  // they would take about 300 / 300 = 1.
  Job job;
  const std::string go = job.File("go");
  Probe a(job, {"wait:" + go, "launch:kernel:2000000:132:75"}, {"GPUPOOL_GPU_MILLI=500"});
  Probe b(job, {"wait:" + go, "launch:kernel:2000000:132:75"}, {"GPUPOOL_GPU_MILLI=500"});
  std::ofstream(go) << "";
  const ProbeResult ra = a.Wait();
  const ProbeResult rb = b.Wait();
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  const double together = 300e6 / std::max(Wall(ra), Wall(rb));
  EXPECT_GT(together, 0.35) << ra.lines.back() << " / " << rb.lines.back();
  EXPECT_LT(together, 0.65) << ra.lines.back() << " / " << rb.lines.back();
}

TEST(ShimHooksTest, SmallGridsCostTheirPartOfTheSms) {
  // 500 milli, 2 ms kernels of 33 blocks on 132 SMs: each costs 2 * 33 / 132 = 0.5 ms of the
  // GPU, so 150 of them (300 ms busy) may take 75 ms of credit per 300 ms: never paced, share
  // about 1. With 132 blocks the same loop is paced to about 0.5.
  Job job;
  const ProbeResult small =
      RunProbe(job, {"launch:kernel:2000000:33:150"}, {"GPUPOOL_GPU_MILLI=500"});
  EXPECT_GT(Share(small), 0.9) << small.lines.at(0);
  Job job2;
  const ProbeResult full =
      RunProbe(job2, {"launch:kernel:2000000:132:150"}, {"GPUPOOL_GPU_MILLI=500"});
  EXPECT_GT(Share(full), 0.4) << full.lines.at(0);
  EXPECT_LT(Share(full), 0.6) << full.lines.at(0);
}

}  // namespace
}  // namespace gpupool::shim

// The real `gpupool serve` binary as a process: killed with SIGKILL in the middle of a storm of
// concurrent submissions and restarted (durability), and driven through the CLI commands.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/run_command.h"
#include "testing/temp_dir.h"

namespace gpupool::server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using gpupool::testing::TempDir;

// `gpupool serve` on a port the system chooses (--listen 127.0.0.1:0), found in the server.url
// file it writes to its data directory; Start again after a kill reuses the data directory.
class ServeProcess {
 public:
  explicit ServeProcess(std::filesystem::path data, std::string inventory = {},
                        std::vector<std::string> flags = {})
      : data_(std::move(data)), inventory_(std::move(inventory)), flags_(std::move(flags)) {}
  ~ServeProcess() {
    if (pid_ > 0) Signal(SIGTERM);
  }
  void Start() {
    const std::filesystem::path url_file = data_ / "server.url";
    std::filesystem::remove(url_file);  // a SIGKILLed server leaves its file behind
    pid_ = fork();
    if (pid_ == 0) {
      const std::string listen = "127.0.0.1:0";
      const std::string log = (data_.parent_path() / "serve.log").string();
      if (!freopen(log.c_str(), "a", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
      std::vector<std::string> args = {GPUPOOL_BINARY, "serve",        "--listen",     listen,
                                       "--data-dir",   data_.string(), "--stop-grace", "0"};
      if (!inventory_.empty()) args.insert(args.end(), {"--inventory", inventory_});
      args.insert(args.end(), flags_.begin(), flags_.end());
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(GPUPOOL_BINARY, argv.data());
      _exit(127);
    }
    std::string url;
    for (int i = 0; i < 500 && url.empty(); ++i) {
      std::ifstream(url_file) >> url;
      if (url.empty()) std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(url.starts_with("http://127.0.0.1:")) << "no server.url from gpupool serve";
    port_ = std::stoi(url.substr(url.rfind(':') + 1));
    httplib::Client c("127.0.0.1", port_);
    auto health = c.Get("/healthz");
    ASSERT_TRUE(health && health->status == 200);
    std::ifstream(data_ / "admin.token") >> token_;
  }
  void Signal(int sig) {
    kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::unique_ptr<httplib::Client> Client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_bearer_token_auth(token_);
    c->set_keep_alive(true);
    c->set_read_timeout(10, 0);
    return c;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& token() const { return token_; }

 private:
  std::filesystem::path data_;
  int port_ = 0;
  std::string inventory_;
  std::vector<std::string> flags_;  // more flags of `gpupool serve`
  pid_t pid_ = -1;
  std::string token_;
};

// Every job of the service, through the paged listing.
std::vector<json> AllJobs(httplib::Client& c) {
  std::vector<json> out;
  std::string cursor;
  for (;;) {
    auto r = c.Get("/api/v1/jobs?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
    EXPECT_TRUE(r && r->status == 200);
    if (!r) break;
    const json page = json::parse(r->body);
    for (const auto& j : page["jobs"]) out.push_back(j);
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"];
  }
  return out;
}

TEST(ServeProcessTest, EveryAcknowledgedJobSurvivesSigkillExactlyOnceAndNoShareIsBookedTwice) {
  TempDir dir;
  ServeProcess serve(dir.path() / "data");
  serve.Start();
  std::set<std::int64_t> acknowledged;
  std::mutex mu;
  for (int round = 0; round < 3; ++round) {
    std::atomic<bool> stop{false};
    std::atomic<int> acks{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 16; ++t) {
      clients.emplace_back([&, t] {
        auto c = serve.Client();
        c->set_connection_timeout(1, 0);
        const double sizes[] = {0.25, 0.5, 1, 2};
        int i = 0;
        while (!stop) {
          const json body = {{"command", {"sleep", "2"}}, {"gpus", sizes[(t + i++) % 4]}};
          auto r = c->Post("/api/v1/jobs", body.dump(), "application/json");
          if (r && r->status == 201) {
            std::lock_guard lock(mu);
            acknowledged.insert(json::parse(r->body)["id"].get<std::int64_t>());
            ++acks;
          }
        }
      });
    }
    while (acks < 150) std::this_thread::sleep_for(1ms);
    serve.Signal(SIGKILL);  // mid-storm: submissions are in flight
    stop = true;
    for (auto& t : clients) t.join();
    serve.Start();

    auto c = serve.Client();
    const std::vector<json> jobs = AllJobs(*c);
    std::map<std::int64_t, int> seen;
    for (const auto& j : jobs) ++seen[j["id"].get<std::int64_t>()];
    for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << "job " << id << " listed " << n << " times";
    for (const std::int64_t id : acknowledged) {
      EXPECT_TRUE(seen.contains(id)) << "round " << round << ": acknowledged job " << id << " lost";
    }
    // No GPU share booked twice: the running jobs' placements, added up per GPU, stay within
    // one GPU (1000 milli), and agree with the nodes' own accounting.
    std::map<std::string, int> booked;  // uuid -> milli
    for (const auto& j : jobs) {
      if (j["state"] != "running") continue;
      for (const auto& rep : j["placement"]) {
        for (const auto& g : rep["gpus"]) booked[g["uuid"]] += g["milli"].get<int>();
      }
    }
    // Re-read the jobs: some may have ended between the listing and now; only overbooking counts.
    for (const auto& [uuid, milli] : booked) EXPECT_LE(milli, 1000) << uuid << " booked " << milli;
    const json nodes = json::parse(c->Get("/api/v1/nodes")->body);
    for (const auto& n : nodes["nodes"]) {
      for (const auto& g : n["gpus"]) EXPECT_LE(g["milli_used"].get<int>(), 1000);
    }
  }
  // Let the last jobs run out, then cancel whatever is left so no process outlives the test.
  auto c = serve.Client();
  for (const auto& j : AllJobs(*c)) {
    if (j["state"] == "pending" || j["state"] == "running") {
      c->Delete("/api/v1/jobs/" + std::to_string(j["id"].get<std::int64_t>()));
    }
  }
}

// The CLI finds the server and token in GPUPOOL_SERVER / GPUPOOL_TOKEN (flags would have to come
// before `--` of submit).
CommandResult Cli(const ServeProcess& s, std::vector<std::string> args) {
  setenv("GPUPOOL_SERVER", s.url().c_str(), 1);
  setenv("GPUPOOL_TOKEN", s.token().c_str(), 1);
  std::vector<std::string> argv = {GPUPOOL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, 20000);
}

TEST(ServeProcessTest, TheCliSubmitsListsFollowsAndCancels) {
  TempDir dir;
  ServeProcess serve(dir.path() / "data");
  serve.Start();
  // submit prints the id alone.
  auto r = Cli(serve, {"submit", "--name", "hello", "--gpus", "0.5", "--", "sh", "-c",
                       "echo hi from $GPUPOOL_NODE"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string id = r.output.substr(0, r.output.find('\n'));
  ASSERT_EQ(id, "1");
  // The job ends; its log and its detail say so.
  for (int i = 0; i < 500; ++i) {
    r = Cli(serve, {"job", id, "--json"});
    if (json::parse(r.output, nullptr, false).value("state", "") == "succeeded") break;
    std::this_thread::sleep_for(20ms);
  }
  const json job = json::parse(r.output);
  ASSERT_EQ(job["state"], "succeeded");
  // With neither flags nor environment, the data directory tells the CLI where the server
  // listens (server.url) and which token to show (admin.token).
  {
    unsetenv("GPUPOOL_SERVER");
    unsetenv("GPUPOOL_TOKEN");
    const auto plain = RunCommand(
        {GPUPOOL_BINARY, "job", id, "--json", "--data-dir", (dir.path() / "data").string()}, 20000);
    ASSERT_EQ(plain.exit_code, 0) << plain.output;
    EXPECT_EQ(json::parse(plain.output)["state"], "succeeded");
  }
  r = Cli(serve, {"logs", id});
  EXPECT_EQ(r.output, "hi from " + job["placement"][0]["node"].get<std::string>() + "\n");
  // A job that cannot run now shows its reason; cancel ends it.
  r = Cli(serve,
          {"submit", "--gpus", "8", "--model", "A100", "--replicas", "2", "--", "sleep", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Cli(serve, {"submit", "--gpus", "8", "--model", "A100", "--", "sleep", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string waiting = r.output.substr(0, r.output.find('\n'));
  std::string reason;
  for (int i = 0; i < 500 && reason.find("not now") == std::string::npos; ++i) {
    reason = json::parse(Cli(serve, {"job", waiting, "--json"}).output)["reason"];
    std::this_thread::sleep_for(20ms);
  }
  // The two A100 nodes are taken by the gang of 2 x 8; the demo's 2 x 8 H100 and 4 x 4 L40S are
  // free: 32 GPUs of other models.
  const std::string words =
      "no A100-SXM-80GB GPU free (needs 8 GPU(s); 32 GPU(s) free of other models)";
  EXPECT_EQ(reason, "not now: " + words) << reason;
  r = Cli(serve, {"job", waiting});
  EXPECT_NE(r.output.find("reason:       not now: " + words + "\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pending:      position 1 of 1 in the pool\n"
                          "  no_gpu_of_model: " +
                          words + "\n"),
            std::string::npos)
      << r.output;
  r = Cli(serve, {"jobs"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("hello"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("succeeded"), std::string::npos);
  r = Cli(serve, {"cancel", waiting, "2"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(json::parse(Cli(serve, {"job", waiting, "--json"}).output)["state"], "cancelled");
  // A job that can never fit is refused with the scheduler's reason, exit 1.
  r = Cli(serve, {"submit", "--gpus", "16", "--", "true"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("never: 16 GPUs per replica, but the largest node has 8"),
            std::string::npos)
      << r.output;
  // Nodes, top, tokens.
  r = Cli(serve, {"nodes"});
  EXPECT_NE(r.output.find("h100-0"), std::string::npos) << r.output;
  r = Cli(serve, {"top", "--once"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = Cli(serve, {"token", "create", "--user", "alice", "--queue", "default"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.starts_with("gp_")) << r.output;
  r = Cli(serve, {"token", "list"});
  EXPECT_NE(r.output.find("alice"), std::string::npos) << r.output;
}

TEST(ServeProcessTest, APlannersSixtyFourGpuRequestRunsAsAGangOfEightNodes) {
  TempDir dir;
  const auto inventory = dir.path() / "h100x64.yaml";
  std::ofstream(inventory) << "nodes:\n"
                              "  - name: h100\n"
                              "    count: 8\n"
                              "    gpu_model: H100-SXM\n"
                              "    gpus: 8\n"
                              "    cpu: 224\n"
                              "    memory: 2048Gi\n"
                              "    nvlink: all\n";
  ServeProcess serve(dir.path() / "data", inventory.string());
  serve.Start();
  // The README's 64-GPU training plan, as a request: 8 replicas x 8 GPUs.
  auto plan = RunCommand({GPUPOOL_BINARY,
                          "plan",
                          "train",
                          "--model",
                          "llama-3-70b",
                          "--precision",
                          "bf16",
                          "--gpu",
                          "h100",
                          "--gpus",
                          "64",
                          "--tp",
                          "8",
                          "--pp",
                          "4",
                          "--dp",
                          "2",
                          "--zero",
                          "1",
                          "--recompute",
                          "selective",
                          "--micro-batch",
                          "1",
                          "--global-batch",
                          "512",
                          "--seq",
                          "8192",
                          "--tokens",
                          "1e12",
                          "--emit-request"},
                         20000);
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  const auto request = dir.path() / "request.json";
  std::ofstream(request) << plan.output;
  ASSERT_EQ(json::parse(plan.output)["replicas"], 8) << plan.output;
  auto r = Cli(serve, {"submit", "--plan", request.string(), "--", "sleep", "30"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string id = r.output.substr(0, r.output.find('\n'));
  json job;
  for (int i = 0; i < 500; ++i) {
    job = json::parse(Cli(serve, {"job", id, "--json"}).output);
    if (job["state"] == "running") break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(job["state"], "running") << job.dump();
  ASSERT_EQ(job["placement"].size(), 8U);
  std::set<std::string> nodes;
  for (const auto& rep : job["placement"]) {
    nodes.insert(rep["node"].get<std::string>());
    EXPECT_EQ(rep["gpus"].size(), 8U);
  }
  EXPECT_EQ(nodes.size(), 8U);  // one whole node per replica
  EXPECT_EQ(Cli(serve, {"cancel", id}).exit_code, 0);
}

// `--order fifo --preempt` (an order that never preempts) needs queues to reclaim guarantees for:
// refused while there are none, naming the database; accepted without --queues once queues set
// through the API are stored there.
TEST(ServeProcessTest, PreemptWithAFifoOrderTakesTheQueuesStoredInTheDatabase) {
  TempDir dir;
  const std::filesystem::path data = dir.path() / "data";
  const std::vector<std::string> fifo_preempt = {"--order", "fifo", "--preempt"};
  std::vector<std::string> argv = {GPUPOOL_BINARY, "serve",      "--listen",
                                   "127.0.0.1:0",  "--data-dir", data.string()};
  argv.insert(argv.end(), fifo_preempt.begin(), fifo_preempt.end());
  CommandOptions opt;
  opt.timeout_ms = 20000;
  const CommandResult refused = RunCommand(argv, opt);
  ASSERT_TRUE(refused.started) << refused.start_error;
  EXPECT_FALSE(refused.timed_out);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("'fifo' never preempts"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find((data / "gpupool.db").string()), std::string::npos)
      << refused.output;
  {
    ServeProcess s(data);
    s.Start();
    auto put = s.Client()->Put("/api/v1/queues", "queues:\n  - name: default\n    guaranteed: 4\n",
                               "application/yaml");
    ASSERT_TRUE(put);
    EXPECT_EQ(put->status, 200) << put->body;
  }  // SIGTERM
  ServeProcess s(data, {}, fifo_preempt);
  s.Start();
  auto queues = s.Client()->Get("/api/v1/queues");
  ASSERT_TRUE(queues && queues->status == 200);
  const json q = json::parse(queues->body);
  ASSERT_EQ(q["queues"].size(), 1U) << q.dump();
  EXPECT_EQ(q["queues"][0]["name"], "default");
  EXPECT_EQ(q["queues"][0]["guaranteed"], 4.0);
}

// `--backfill easy` needs `--strict`, and `--max-reservations` is at least 1: refused with the
// flag named, before anything starts. With `--strict --backfill easy --queues FILE` the service
// starts (strict order with queues and EASY backfill are no longer refused together).
TEST(ServeProcessTest, BackfillEasyNeedsStrictAndStartsWithQueues) {
  TempDir dir;
  const std::filesystem::path data = dir.path() / "data";
  const auto run = [&](std::vector<std::string> flags) {
    std::vector<std::string> argv = {GPUPOOL_BINARY, "serve",      "--listen",
                                     "127.0.0.1:0",  "--data-dir", data.string()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    CommandOptions opt;
    opt.timeout_ms = 20000;
    return RunCommand(argv, opt);
  };
  const CommandResult easy = run({"--backfill", "easy"});
  ASSERT_TRUE(easy.started) << easy.start_error;
  EXPECT_EQ(easy.exit_code, 2) << easy.output;
  EXPECT_NE(easy.output.find("--backfill easy: applies to a strict order; add --strict"),
            std::string::npos)
      << easy.output;
  const CommandResult zero = run({"--gang-reservation", "--max-reservations", "0"});
  EXPECT_NE(zero.exit_code, 0);
  EXPECT_NE(zero.output.find("--max-reservations"), std::string::npos) << zero.output;
  const std::filesystem::path queues = dir.path() / "queues.yaml";
  std::ofstream(queues) << "queues:\n  - name: default\n  - name: other\n";
  ServeProcess s(data, {}, {"--strict", "--backfill", "easy", "--queues", queues.string()});
  s.Start();
  auto got = s.Client()->Get("/api/v1/queues");
  ASSERT_TRUE(got && got->status == 200);
  EXPECT_EQ(json::parse(got->body)["queues"].size(), 2U);
}

}  // namespace
}  // namespace gpupool::server

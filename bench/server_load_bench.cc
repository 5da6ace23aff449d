// Load generator for `gpupool serve` (a benchmark, never a test): starts the real binary on a
// free loopback port with a fresh data directory and the demo inventory, then
//
//   submit  64 keep-alive clients POST jobs for --seconds; every node is cordoned first so the
//           jobs stay pending and what is measured is the durable submission path (parse, check,
//           SQLite commit with fsync, queue). Prints submissions/s and latency percentiles.
//   e2e     --jobs trivial jobs (`true`, one GPU each) submitted by 16 clients, run and finished;
//           prints jobs/s from the first submission to the last job's end.
//
// The server and the clients share this machine's cores, as with wrk on the same host.
//
//   server_load_bench --gpupool build/apps/gpupool/gpupool [--mode submit|e2e] [--clients 64]
//                     [--seconds 10] [--rate SUBMISSIONS_PER_S] [--jobs 2000] [--sync full|normal]
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string gpupool = "build/apps/gpupool/gpupool";
  std::string mode = "submit";
  std::string sync = "full";
  int clients = 64, seconds = 10, jobs = 2000;
  double rate = 0;  // submissions per second over all clients; 0 = as fast as they can
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--gpupool") {
      gpupool = v;
    } else if (k == "--mode") {
      mode = v;
    } else if (k == "--clients") {
      clients = std::stoi(v);
    } else if (k == "--seconds") {
      seconds = std::stoi(v);
    } else if (k == "--jobs") {
      jobs = std::stoi(v);
    } else if (k == "--sync") {
      sync = v;
    } else if (k == "--rate") {
      rate = std::stod(v);
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  char tmpl[] = "/tmp/gpupool-bench-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  const int port = FreePort();
  const pid_t server = fork();
  if (server == 0) {
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    const std::string data = (dir / "data").string();
    const std::string log = (dir / "serve.log").string();
    freopen(log.c_str(), "w", stdout);
    freopen(log.c_str(), "a", stderr);
    execl(gpupool.c_str(), gpupool.c_str(), "serve", "--listen", listen.c_str(), "--data-dir",
          data.c_str(), "--sync", sync.c_str(), "--max-connections", "256", nullptr);
    _exit(127);
  }
  const auto stop_server = [&] {
    kill(server, SIGTERM);
    waitpid(server, nullptr, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  };
  httplib::Client probe("127.0.0.1", port);
  bool up = false;
  for (int i = 0; i < 500 && !up; ++i) {
    auto r = probe.Get("/healthz");
    up = r && r->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string token;
  std::ifstream(dir / "data" / "admin.token") >> token;
  if (!up || token.empty()) {
    std::fprintf(stderr, "server did not start (see %s)\n", (dir / "serve.log").c_str());
    stop_server();
    return 1;
  }
  probe.set_bearer_token_auth(token);
  const json nodes = json::parse(probe.Get("/api/v1/nodes")->body);
  int gpus = 0;
  for (const auto& n : nodes["nodes"]) gpus += static_cast<int>(n["gpus"].size());

  std::mutex mu;
  std::vector<double> latencies;
  std::atomic<long> ok{0}, failed{0};
  if (mode == "submit") {
    for (const auto& n : nodes["nodes"]) {
      probe.Post("/api/v1/nodes/" + n["name"].get<std::string>() + "/cordon", "",
                 "application/json");
    }
    const std::string body = json{{"name", "load"}, {"command", {"true"}}, {"gpus", 0.5}}.dump();
    const auto end = Clock::now() + std::chrono::seconds(seconds);
    std::vector<std::thread> threads;
    const auto t0 = Clock::now();
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        httplib::Client cli("127.0.0.1", port);
        cli.set_keep_alive(true);
        cli.set_tcp_nodelay(true);
        cli.set_bearer_token_auth(token);
        std::vector<double> mine;
        // With --rate, each client sends on a fixed schedule (staggered between clients) and a
        // request's latency counts from its scheduled time, so a stall is not hidden by sending
        // less (no coordinated omission).
        const auto period = rate > 0 ? std::chrono::duration<double>(clients / rate)
                                     : std::chrono::duration<double>(0);
        auto next = t0 + period * (static_cast<double>(c) / clients);
        while (Clock::now() < end) {
          if (rate > 0) {
            std::this_thread::sleep_until(std::chrono::time_point_cast<Clock::duration>(next));
          }
          const auto s =
              rate > 0 ? std::chrono::time_point_cast<Clock::duration>(next) : Clock::now();
          next += period;
          auto r = cli.Post("/api/v1/jobs", body, "application/json");
          const double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
          if (r && r->status == 201) {
            ++ok;
            mine.push_back(ms);
          } else {
            ++failed;
          }
        }
        std::lock_guard lock(mu);
        latencies.insert(latencies.end(), mine.begin(), mine.end());
      });
    }
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const json listed = json::parse(probe.Get("/api/v1/jobs?limit=1")->body);
    std::printf(
        "submit: %d keep-alive clients, %d s, sync=%s, %s, %d GPUs in the pool (cordoned)\n",
        clients, seconds, sync.c_str(),
        rate > 0 ? ("offered " + std::to_string(static_cast<int>(rate)) + "/s").c_str()
                 : "as fast as they can",
        gpus);
    std::printf("  acknowledged (201): %ld, failed: %ld, in the database: %lld\n", ok.load(),
                failed.load(), listed["total"].get<long long>());
    std::printf("  throughput: %.0f durable submissions/s\n",
                static_cast<double>(ok.load()) / secs);
    std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", Percentile(latencies, 50),
                Percentile(latencies, 90), Percentile(latencies, 99), Percentile(latencies, 100));
    // The server's own view (arrival to acknowledgement, no network or client scheduling): the
    // share of submissions under each bound of its histogram.
    if (auto m = probe.Get("/metrics"); m && m->status == 200) {
      std::printf("  server-side (gpupool_submit_seconds):");
      double count = 0;
      std::vector<std::pair<std::string, double>> buckets;
      std::istringstream lines(m->body);
      for (std::string line; std::getline(lines, line);) {
        const std::string prefix = "gpupool_submit_seconds_bucket{le=\"";
        if (line.rfind(prefix, 0) == 0) {
          const auto q = line.find('"', prefix.size());
          buckets.emplace_back(line.substr(prefix.size(), q - prefix.size()),
                               std::stod(line.substr(line.rfind(' ') + 1)));
        } else if (line.rfind("gpupool_submit_seconds_count ", 0) == 0) {
          count = std::stod(line.substr(line.rfind(' ') + 1));
        }
      }
      for (const auto& [le, n] : buckets) {
        if (le == "0.001" || le == "0.005" || le == "0.01" || le == "0.02" || le == "0.05") {
          std::printf("  <=%gms %.2f%%", std::stod(le) * 1000, count > 0 ? 100.0 * n / count : 0.0);
        }
      }
      std::printf("\n");
    }
  } else if (mode == "e2e") {
    const std::string body = json{{"name", "e2e"}, {"command", {"true"}}, {"gpus", 1}}.dump();
    const int e2e_clients = std::min(clients, 16);
    std::atomic<int> next{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < e2e_clients; ++c) {
      threads.emplace_back([&] {
        httplib::Client cli("127.0.0.1", port);
        cli.set_keep_alive(true);
        cli.set_tcp_nodelay(true);
        cli.set_bearer_token_auth(token);
        while (next.fetch_add(1) < jobs) {
          auto r = cli.Post("/api/v1/jobs", body, "application/json");
          if (r && r->status == 201)
            ++ok;
          else
            ++failed;
        }
      });
    }
    for (auto& t : threads) t.join();
    const double submit_secs = std::chrono::duration<double>(Clock::now() - t0).count();
    long long succeeded = 0;
    for (int i = 0; i < 60000; ++i) {
      const json s = json::parse(probe.Get("/api/v1/jobs?state=succeeded&limit=1")->body);
      succeeded = s["total"].get<long long>();
      if (succeeded >= ok.load()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("e2e: %d jobs (`true`, 1 GPU each) on %d GPUs, %d clients, sync=%s\n", jobs, gpus,
                e2e_clients, sync.c_str());
    std::printf("  acknowledged %ld (failed %ld) in %.2f s; %lld succeeded after %.2f s\n",
                ok.load(), failed.load(), submit_secs, succeeded, secs);
    std::printf("  throughput: %.0f jobs/s submitted, started and finished\n",
                static_cast<double>(succeeded) / secs);
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  }
  stop_server();
  return 0;
}

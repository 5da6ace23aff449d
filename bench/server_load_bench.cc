// Load generator for `gpupool serve` (a benchmark, never a test): starts the real binary on a
// free loopback port with a fresh data directory and the demo inventory, then
//
//   submit  64 keep-alive clients POST jobs for --seconds; every node is cordoned first so the
//           jobs stay pending and what is measured is the durable submission path (parse, check,
//           SQLite commit with fsync, queue). Prints submissions/s and latency percentiles.
//   e2e     --jobs trivial jobs (`true`, one GPU each) submitted by 16 clients, run and finished;
//           prints jobs/s from the first submission to the last job's end.
//
// The server and the clients share this machine's cores, as with wrk on the same host; the submit
// mode's clients are one epoll thread, so they take little of them.
//
//   server_load_bench --gpupool build/apps/gpupool/gpupool [--mode submit|e2e] [--clients 64]
//                     [--seconds 10] [--rate SUBMISSIONS_PER_S] [--jobs 2000] [--sync full|normal]
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
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
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// The submit mode's clients: one thread drives every keep-alive connection through epoll, as wrk
// does, so the load generator itself needs little CPU beside the server. With a rate, connection c
// sends at t0 + (k + c / clients) * clients / rate; a request whose time comes while its
// connection still waits for the previous answer goes out right after that answer, and every
// latency counts from the scheduled time, so a stall is not hidden by sending less (no
// coordinated omission). Without a rate each connection sends again as soon as it is answered.
void DriveConnections(int port, const std::string& token, const std::string& body, int clients,
                      double rate, Clock::time_point end, std::vector<double>* latencies,
                      std::atomic<long>* ok, std::atomic<long>* failed) {
  const std::string request =
      "POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer " +
      token +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  struct Conn {
    int fd = -1;
    bool busy = false;
    Clock::time_point next;  // scheduled time of the next request
    Clock::time_point sent;  // scheduled time of the request in flight
    std::string in;
  };
  const int ep = epoll_create1(0);
  const auto start = Clock::now();
  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(rate > 0 ? clients / rate : 0));
  std::vector<Conn> conns(static_cast<std::size_t>(clients));
  for (int c = 0; c < clients; ++c) {
    Conn& k = conns[static_cast<std::size_t>(c)];
    k.fd = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(k.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (connect(k.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(c);
    epoll_ctl(ep, EPOLL_CTL_ADD, k.fd, &ev);
    k.next = start + period * c / clients;
  }
  const auto send_due = [&](Conn& k, Clock::time_point now) {
    if (k.busy || now >= end || k.next > now) return;
    k.sent = rate > 0 ? k.next : now;
    k.next += period;
    k.busy = true;
    for (std::size_t off = 0; off < request.size();) {
      const ssize_t n = send(k.fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        std::perror("send");
        std::exit(1);
      }
      off += static_cast<std::size_t>(n);
    }
  };
  std::vector<epoll_event> events(static_cast<std::size_t>(clients));
  char buf[65536];
  for (;;) {
    auto now = Clock::now();
    bool any_busy = false;
    Clock::time_point wake = end;
    for (Conn& k : conns) {
      send_due(k, now);
      any_busy = any_busy || k.busy;
      if (!k.busy) wake = std::min(wake, k.next);
    }
    if (now >= end && !any_busy) break;
    // Sleep until the next scheduled send to the nanosecond (epoll_wait's milliseconds would
    // either spin or send late).
    const auto wait_ns =
        now >= end
            ? 1'000'000'000L
            : std::max<long>(
                  0, std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now).count());
    const timespec timeout{wait_ns / 1'000'000'000L, wait_ns % 1'000'000'000L};
    const int n = epoll_pwait2(ep, events.data(), clients, &timeout, nullptr);
    now = Clock::now();
    for (int e = 0; e < n; ++e) {
      Conn& k = conns[events[static_cast<std::size_t>(e)].data.u32];
      const ssize_t got = recv(k.fd, buf, sizeof buf, 0);
      if (got <= 0) {
        std::fprintf(stderr, "connection closed by the server\n");
        std::exit(1);
      }
      k.in.append(buf, static_cast<std::size_t>(got));
      const auto head_end = k.in.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      const auto cl = k.in.find("Content-Length: ");
      const std::size_t length =
          cl == std::string::npos || cl > head_end ? 0 : std::stoul(k.in.substr(cl + 16));
      if (k.in.size() < head_end + 4 + length) continue;
      const double ms = std::chrono::duration<double, std::milli>(now - k.sent).count();
      if (k.in.compare(0, 12, "HTTP/1.1 201") == 0) {
        ++*ok;
        latencies->push_back(ms);
      } else {
        ++*failed;
      }
      k.in.erase(0, head_end + 4 + length);
      k.busy = false;
    }
  }
  for (Conn& k : conns) close(k.fd);
  close(ep);
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
  const pid_t server = fork();
  if (server == 0) {
    const std::string listen = "127.0.0.1:0";  // the port serve binds is in DATA/server.url
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
  std::string url;
  for (int i = 0; i < 500 && url.empty(); ++i) {
    std::ifstream(dir / "data" / "server.url") >> url;
    if (url.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int port = url.empty() ? 0 : std::stoi(url.substr(url.rfind(':') + 1));
  httplib::Client probe("127.0.0.1", port);
  auto health = probe.Get("/healthz");
  const bool up = port > 0 && health && health->status == 200;
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

  std::vector<double> latencies;
  std::atomic<long> ok{0}, failed{0};
  if (mode == "submit") {
    for (const auto& n : nodes["nodes"]) {
      probe.Post("/api/v1/nodes/" + n["name"].get<std::string>() + "/cordon", "",
                 "application/json");
    }
    const std::string body = json{{"name", "load"}, {"command", {"true"}}, {"gpus", 0.5}}.dump();
    const auto end = Clock::now() + std::chrono::seconds(seconds);
    const auto t0 = Clock::now();
    DriveConnections(port, token, body, clients, rate, end, &latencies, &ok, &failed);
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

// HttpServer's dashboard and event stream over real HTTP on loopback: `/` serves the embedded UI
// (or the not-built page), the base path, and GET /api/v1/events/stream: a snapshot on connect, a
// delta after a change, a heartbeat, resuming from Last-Event-ID, and a clean stop while a client
// is streaming. (The REST endpoints: service_test.cc.)
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "executor/local_executor.h"
#include "server/pool_service.h"
#include "server/web_ui.h"
#include "testing/temp_dir.h"

namespace gpupool::server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

cluster::NodeSpec Node(const std::string& name, int gpus) {
  cluster::NodeSpec n;
  n.name = name;
  n.cpu_milli = 32000;
  n.memory_mib = 256 * 1024;
  for (int g = 0; g < gpus; ++g) {
    n.gpus.push_back({"L40S", 46068, "GPU-" + name + "-" + std::to_string(g), -1});
  }
  return n;
}

struct Server {
  explicit Server(const std::filesystem::path& dir, const std::string& base_path = "") {
    ServiceOptions opt;
    opt.data_dir = dir;
    opt.nodes = {Node("n0", 4), Node("n1", 4)};
    opt.stop_grace = 300ms;
    opt.tick = 10ms;
    opt.synchronous_full = false;
    auto s = PoolService::Start(opt, std::make_unique<executor::LocalExecutor>(), &token);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().ToString());
    service = std::move(*s);
    HttpOptions http;
    http.port = 0;
    http.base_path = base_path;
    http.stream_interval = 20ms;
    http.stream_heartbeat = 300ms;
    http.openapi_json = R"({"openapi": "3.1.0"})";
    httpd = std::make_unique<HttpServer>(*service, http);
    EXPECT_TRUE(httpd->Start().ok());
  }
  ~Server() {
    httpd->Stop();
    httpd.reset();
    service.reset();
  }
  std::unique_ptr<httplib::Client> Client(bool auth = true) const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", httpd->port());
    c->set_read_timeout(10, 0);
    if (auth) c->set_bearer_token_auth(token);
    return c;
  }
  std::string token;
  std::unique_ptr<PoolService> service;
  std::unique_ptr<HttpServer> httpd;
};

// One event of the stream as read off the wire.
struct Event {
  std::string id, type;
  json data;
};

// Reads the stream from `last_event_id` ("" none) until `done` says so (it sees every event so
// far) or `limit` passes (checked as data arrives); returns the events and the raw bytes read.
std::vector<Event> ReadStream(const Server& s, const std::string& last_event_id,
                              const std::function<bool(const std::vector<Event>&)>& done,
                              std::size_t* bytes = nullptr,
                              std::chrono::seconds limit = std::chrono::seconds(10)) {
  auto c = s.Client();
  httplib::Headers h;
  if (!last_event_id.empty()) h.emplace("Last-Event-ID", last_event_id);
  std::string buffer;
  std::vector<Event> events;
  std::size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto r = c->Get("/api/v1/events/stream", h, [&](const char* data, std::size_t n) {
    total += n;
    buffer.append(data, n);
    std::size_t end;
    while ((end = buffer.find("\n\n")) != std::string::npos) {
      Event e;
      std::size_t i = 0;
      const std::string block = buffer.substr(0, end + 1);
      buffer.erase(0, end + 2);
      while (i < block.size()) {
        const std::size_t nl = block.find('\n', i);
        const std::string line = block.substr(i, nl - i);
        i = nl + 1;
        if (line.rfind("id: ", 0) == 0) e.id = line.substr(4);
        if (line.rfind("event: ", 0) == 0) e.type = line.substr(7);
        if (line.rfind("data: ", 0) == 0) e.data = json::parse(line.substr(6));
      }
      events.push_back(std::move(e));
    }
    return !done(events) && std::chrono::steady_clock::now() < deadline;
  });
  if (bytes != nullptr) *bytes = total;
  return events;
}

std::size_t Count(const std::vector<Event>& ev, const std::string& type) {
  return static_cast<std::size_t>(
      std::count_if(ev.begin(), ev.end(), [&](const Event& e) { return e.type == type; }));
}

TEST(HttpServerTest, RootServesTheDashboardOrTheNotBuiltPage) {
  gpupool::testing::TempDir dir;
  Server s(dir.path());
  auto c = s.Client(false);  // no token: the page itself is public
  auto r = c->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
  if (!WebUiBuilt()) {
    EXPECT_NE(r->body.find("the dashboard was not built"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("npm ci"), std::string::npos);
    return;
  }
  // The index names its script and stylesheet; each is served with its type, cacheable for good
  // (hashed names), gzipped when asked.
  EXPECT_NE(r->body.find(R"(<meta name="gpupool-base-path" content="" />)"), std::string::npos)
      << r->body;
  for (const auto& [attr, type] : {std::pair<std::string, std::string>{"src=\"", "text/javascript"},
                                   {"href=\"", "text/css"}}) {
    const std::size_t at = r->body.find(attr + "assets/");
    ASSERT_NE(at, std::string::npos) << attr;
    const std::size_t from = at + attr.size();
    const std::string path = "/" + r->body.substr(from, r->body.find('"', from) - from);
    auto plain = c->Get(path);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->status, 200) << path;
    EXPECT_EQ(plain->get_header_value("Content-Type").rfind(type, 0), 0u) << path;
    EXPECT_EQ(plain->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_GT(plain->body.size(), 100u);
    auto gz = c->Get(path, {{"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(gz);
    EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");
  }
  auto missing = c->Get("/assets/none-ABCDEFGH.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(HttpServerTest, BasePathServesThePageAndTheApiUnderIt) {
  gpupool::testing::TempDir dir;
  Server s(dir.path(), "/gp/ui");
  auto c = s.Client();
  auto redirect = c->Get("/gp/ui");
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->status, 308);
  EXPECT_EQ(redirect->get_header_value("Location"), "/gp/ui/");
  auto page = c->Get("/gp/ui/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/gp/ui"), std::string::npos);  // the page's API calls go under it
  auto pool = c->Get("/gp/ui/api/v1/pool");
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->status, 200);
  EXPECT_EQ(json::parse(pool->body)["gpus"]["total"], 8);  // 2 nodes x 4 GPUs
  auto plain = c->Get("/api/v1/pool");  // a proxy that strips the prefix, the CLI
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
}

TEST(HttpServerTest, NormalizeBasePathNamesTheOption) {
  EXPECT_EQ(*NormalizeBasePath("", "--base-path"), "");
  EXPECT_EQ(*NormalizeBasePath("/", "--base-path"), "");
  EXPECT_EQ(*NormalizeBasePath("/gpupool/", "--base-path"), "/gpupool");
  for (const char* bad : {"gpupool", "/a//b", "/a b", "/a?b"}) {
    const auto r = NormalizeBasePath(bad, "--base-path");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().message().rfind("--base-path: '", 0), 0u) << r.error().message();
  }
}

TEST(HttpServerTest, StreamNeedsAToken) {
  gpupool::testing::TempDir dir;
  Server s(dir.path());
  auto r = s.Client(false)->Get("/api/v1/events/stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "UNAUTHENTICATED");
}

TEST(HttpServerTest, StreamSendsSnapshotDeltaHeartbeatAndResumes) {
  gpupool::testing::TempDir dir;
  Server s(dir.path());
  std::atomic<bool> submitted{false};
  std::thread submitter;
  std::size_t bytes = 0;
  // Snapshot; then a job of half a GPU is submitted; its delta; then a heartbeat.
  const auto events = ReadStream(
      s, "",
      [&](const std::vector<Event>& ev) {
        if (!ev.empty() && !submitted.exchange(true)) {
          submitter = std::thread([&] {
            auto r = s.Client()->Post(
                "/api/v1/jobs", R"({"name": "half", "gpus": 0.5, "command": ["sleep", "30"]})",
                "application/json");
            EXPECT_TRUE(r && r->status == 201);
          });
        }
        bool placed = false;
        for (const Event& e : ev) {
          if (e.type == "delta" && e.data.contains("pool") &&
              e.data["pool"]["milli"]["allocated"] == 500) {
            placed = true;
          }
        }
        return placed && Count(ev, "heartbeat") > 0 && ev.back().type == "heartbeat";
      },
      &bytes);
  submitter.join();
  ASSERT_GE(events.size(), 3u);
  const Event& snapshot = events[0];
  EXPECT_EQ(snapshot.type, "snapshot");
  // The snapshot: the pool of 2 x 4 GPUs, nothing allocated, and both nodes by name.
  EXPECT_EQ(snapshot.data["pool"]["gpus"]["total"], 8);
  EXPECT_EQ(snapshot.data["pool"]["milli"]["allocated"], 0);
  EXPECT_FALSE(snapshot.data["pool"].contains("gpu_list"));
  EXPECT_EQ(snapshot.data["nodes"].size(), 2u);
  EXPECT_EQ(snapshot.data["nodes"]["n0"]["gpus"].size(), 4u);
  // A delta names the node that took the job: one of its GPUs has 500 milli used.
  std::string delta_id;
  int half_gpus = 0;
  for (const Event& e : events) {
    if (e.type != "delta" || !e.data.contains("nodes")) continue;
    if (delta_id.empty()) delta_id = e.id;
    for (const auto& [name, node] : e.data["nodes"].items()) {
      for (const auto& g : node["gpus"]) half_gpus += g["milli_used"] == 500;
    }
  }
  EXPECT_EQ(half_gpus, 1);
  EXPECT_FALSE(delta_id.empty());
  std::printf("stream: %zu events, %zu bytes (snapshot of 2 nodes x 4 GPUs, deltas, heartbeat)\n",
              events.size(), bytes);

  // Resuming from the snapshot's id replays the deltas from the first (no new snapshot).
  const auto resumed = ReadStream(s, snapshot.id, [](const auto& ev) { return !ev.empty(); });
  ASSERT_FALSE(resumed.empty());
  EXPECT_EQ(resumed[0].type, "delta");
  const auto first_delta =
      std::find_if(events.begin(), events.end(), [](const Event& e) { return e.type == "delta"; });
  ASSERT_NE(first_delta, events.end());
  EXPECT_EQ(resumed[0].id, first_delta->id);
  // An id from another start (another epoch) or junk: a fresh snapshot with the job's half GPU.
  for (const std::string id : {"1-0", "junk"}) {
    const auto fresh = ReadStream(s, id, [](const auto& ev) { return !ev.empty(); });
    ASSERT_FALSE(fresh.empty());
    EXPECT_EQ(fresh[0].type, "snapshot") << id;
    EXPECT_EQ(fresh[0].data["pool"]["milli"]["allocated"], 500) << id;
  }
}

// A client that opens the stream and never reads holds only its own connection: submissions are
// answered and run, and another client keeps getting deltas. (Its socket is not made full here:
// loopback buffers hold this test's few KB; that a full one holds only its own connection thread
// follows from ReadStream being called on that thread alone.)
TEST(HttpServerTest, AClientThatNeverReadsBlocksNothing) {
  gpupool::testing::TempDir dir;
  Server s(dir.path());
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  const int small = 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(s.httpd->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request =
      "GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.token +
      "\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  // 40 jobs of a quarter GPU, one after the other, are answered and run; then one job of 0.6 GPU
  // that keeps running. The pool's allocation is a multiple of 250 milli while only quarter jobs
  // run, so a delta with 600 allocated can only be the long job's, sent after all of them: the
  // other client is still being sent deltas. (How many deltas the 40 give is not fixed: deltas
  // are coalesced, at most about 5 per second.)
  std::atomic<bool> saw_long{false};
  std::thread reader([&] {
    ReadStream(
        s, "",
        [&](const std::vector<Event>& ev) {
          for (const Event& e : ev) {
            if (e.type == "delta" && e.data.contains("pool") &&
                e.data["pool"]["milli"]["allocated"] == 600) {
              saw_long = true;
            }
          }
          return saw_long.load();
        },
        nullptr, std::chrono::seconds(60));
  });
  auto c = s.Client();
  for (int i = 0; i < 40; ++i) {
    auto r = c->Post("/api/v1/jobs", R"({"gpus": 0.25, "command": ["true"]})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201);
  }
  EXPECT_TRUE(s.service->WaitIdle(20s));  // every job ran and ended
  auto long_job =
      c->Post("/api/v1/jobs", R"({"gpus": 0.6, "command": ["sleep", "60"]})", "application/json");
  ASSERT_TRUE(long_job);
  ASSERT_EQ(long_job->status, 201);
  reader.join();
  EXPECT_TRUE(saw_long.load());  // the other client kept getting deltas
  const auto id = json::parse(long_job->body)["id"].get<std::int64_t>();
  auto cancelled = c->Delete("/api/v1/jobs/" + std::to_string(id));
  ASSERT_TRUE(cancelled);
  EXPECT_TRUE(s.service->WaitIdle(20s));
  ::close(fd);
}

TEST(HttpServerTest, StopEndsOpenStreams) {
  gpupool::testing::TempDir dir;
  auto s = std::make_unique<Server>(dir.path());
  std::atomic<int> snapshots{0};
  std::thread reader([&] {
    ReadStream(*s, "", [&](const auto& ev) {
      snapshots = static_cast<int>(Count(ev, "snapshot"));
      return false;  // reads until the server ends the stream
    });
  });
  while (snapshots.load() == 0) std::this_thread::sleep_for(5ms);
  s->httpd->Stop();  // returns once the streaming connection has ended
  reader.join();
  EXPECT_EQ(snapshots.load(), 1);
}

}  // namespace
}  // namespace gpupool::server

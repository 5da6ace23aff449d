// The service over real HTTP on loopback: PoolService + HttpServer in this process, the local
// executor running real processes, SQLite in a temporary directory, cpp-httplib as the client.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <thread>

#include "common/data_dir.h"
#include "discovery/node_inventory.h"
#include "discovery/nvml_discovery.h"
#include "discovery/nvml_library.h"
#include "executor/local_executor.h"
#include "hw/catalog.h"
#include "planner/kernel_efficiency.h"
#include "server/http_server.h"
#include "server/pool_service.h"
#include "testing/scripted_executor.h"
#include "testing/temp_dir.h"

namespace gpupool::server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using gpupool::testing::TempDir;

cluster::NodeSpec Node(const std::string& name, int gpus, const std::string& model = "H100-SXM") {
  cluster::NodeSpec n;
  n.name = name;
  n.cpu_milli = 32000;
  n.memory_mib = 256 * 1024;
  for (int g = 0; g < gpus; ++g) {
    n.gpus.push_back({model, 81559, "GPU-" + name + "-" + std::to_string(g), -1});
  }
  return n;
}

// The options every service in these tests starts from: its data directory, its nodes, and no
// fsync on every commit (synchronous_full off: these tests do not crash the machine). Each test
// adds its own.
ServiceOptions BasicOptions(const std::filesystem::path& dir,
                            std::vector<cluster::NodeSpec> nodes) {
  ServiceOptions opt;
  opt.data_dir = dir;
  opt.nodes = std::move(nodes);
  opt.synchronous_full = false;
  return opt;
}

// One service on a free port, torn down (jobs left running are killed by the test's end).
struct Server {
  explicit Server(const std::filesystem::path& dir, std::vector<cluster::NodeSpec> nodes,
                  int max_connections = 64, const discovery::NvmlLibrary* nvml = nullptr,
                  std::vector<queue::QueueSpec> queues = {},
                  const std::function<void(ServiceOptions&)>& tweak = nullptr) {
    ServiceOptions opt = BasicOptions(dir, std::move(nodes));
    opt.scheduler.queues = std::move(queues);
    opt.stop_grace = 300ms;
    opt.tick = 10ms;
    opt.nvml = nvml;
    opt.nvml_interval = 50ms;
    if (tweak) tweak(opt);
    std::string token;
    auto s = PoolService::Start(opt, std::make_unique<executor::LocalExecutor>(), &token);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().ToString());
    service = std::move(*s);
    if (token.empty()) {
      std::ifstream in(dir / "admin.token");
      in >> token;
    }
    admin_token = token;
    HttpOptions http;
    http.port = 0;
    http.max_connections = max_connections;
    http.max_body_bytes = 64 * 1024;
    http.openapi_json = R"({"openapi": "3.1.0"})";
    httpd = std::make_unique<HttpServer>(*service, http);
    EXPECT_TRUE(httpd->Start().ok());
  }
  ~Server() {
    httpd->Stop();
    httpd.reset();
    service.reset();
  }
  std::unique_ptr<httplib::Client> Client(const std::string& token) const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", httpd->port());
    c->set_read_timeout(10, 0);
    if (!token.empty()) c->set_bearer_token_auth(token);
    return c;
  }

  std::unique_ptr<PoolService> service;
  std::unique_ptr<HttpServer> httpd;
  std::string admin_token;
};

json Body(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no answer";
  if (!r) return json();
  return json::parse(r->body, nullptr, false);
}

json Submit(httplib::Client& c, const json& job, int expect = 201) {
  auto r = c.Post("/api/v1/jobs", job.dump(), "application/json");
  EXPECT_TRUE(r);
  if (!r) return json();
  EXPECT_EQ(r->status, expect) << r->body;
  return json::parse(r->body, nullptr, false);
}

// Polls the job until `pred` holds or 15 s pass.
json WaitJob(httplib::Client& c, std::int64_t id, const std::function<bool(const json&)>& pred) {
  json j;
  for (int i = 0; i < 1500; ++i) {
    j = Body(c.Get("/api/v1/jobs/" + std::to_string(id)));
    if (pred(j)) return j;
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "job " << id << " never reached the expected state: " << j.dump();
  return j;
}

json WaitState(httplib::Client& c, std::int64_t id, const std::string& state) {
  return WaitJob(c, id, [&](const json& j) { return j.value("state", "") == state; });
}

std::int64_t Total(httplib::Client& c) {
  return Body(c.Get("/api/v1/jobs?limit=1"))["total"].get<std::int64_t>();
}

TEST(ServiceTest, AJobRunsOnItsShareAndSucceedsWithItsLogs) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2)});
  auto c = s.Client(s.admin_token);
  const json job = Submit(
      *c,
      {{"command", {"sh", "-c", "echo hello; echo \"$CUDA_VISIBLE_DEVICES $GPUPOOL_GPU_MILLI\""}},
       {"gpus", 0.5}});
  ASSERT_EQ(job["state"], "pending");
  ASSERT_EQ(job["resources"]["gpu_milli"], 500);
  const std::int64_t id = job["id"];
  const json done = WaitState(*c, id, "succeeded");
  EXPECT_EQ(done["exit_code"], 0);
  ASSERT_EQ(done["placement"].size(), 1U);
  const std::string uuid = done["placement"][0]["gpus"][0]["uuid"];
  EXPECT_EQ(done["placement"][0]["node"], "a");
  const json logs = Body(c->Get("/api/v1/jobs/" + std::to_string(id) + "/logs"));
  EXPECT_EQ(logs["data"], "hello\n" + uuid + " 500\n");
  EXPECT_EQ(logs["eof"], true);
  const json events = Body(c->Get("/api/v1/jobs/" + std::to_string(id) + "/events"));
  std::vector<std::string> states;
  for (const auto& e : events["events"]) states.push_back(e["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"pending", "running", "succeeded"}));
}

TEST(ServiceTest, ExitCodeTimeLimitAndCancelEndTheJobAsTheySay) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 4)});
  auto c = s.Client(s.admin_token);
  const std::int64_t failed = Submit(*c, {{"command", {"sh", "-c", "exit 3"}}, {"gpus", 1}})["id"];
  const std::int64_t timed =
      Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}, {"time_limit_s", 1}})["id"];
  const std::int64_t cancelled = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
  EXPECT_EQ(WaitState(*c, failed, "failed")["exit_code"], 3);
  WaitState(*c, cancelled, "running");
  auto del = c->Delete("/api/v1/jobs/" + std::to_string(cancelled));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  const json cj = WaitState(*c, cancelled, "cancelled");
  EXPECT_NE(cj["reason"].get<std::string>().find("cancelled by admin"), std::string::npos)
      << cj["reason"];
  const json tj = WaitState(*c, timed, "timed_out");
  EXPECT_NE(tj["reason"].get<std::string>().find("time limit of 1 s reached"), std::string::npos)
      << tj["reason"];
  // Cancelling an ended job is a conflict.
  EXPECT_EQ(c->Delete("/api/v1/jobs/" + std::to_string(failed))->status, 409);
}

TEST(ServiceTest, APendingJobCarriesTheSchedulersReasonAndCanBeCancelled) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2)});
  auto c = s.Client(s.admin_token);
  const std::int64_t big = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 2}})["id"];
  WaitState(*c, big, "running");
  const std::int64_t waiting = Submit(*c, {{"command", {"true"}}, {"gpus", 1}})["id"];
  const json j = WaitJob(
      *c, waiting, [](const json& x) { return x.value("reason", "").starts_with("not now"); });
  EXPECT_EQ(j["reason"], "not now: needs 1 GPU(s) free, the pool has 0 free");
  EXPECT_EQ(Body(c->Delete("/api/v1/jobs/" + std::to_string(waiting)))["state"], "cancelled");
  EXPECT_EQ(Body(c->Delete("/api/v1/jobs/" + std::to_string(big)))["state"], "running");
  WaitState(*c, big, "cancelled");
}

// Two 4-GPU nodes, a 3-GPU job running on each (3 + 3 > 4: one per node): 1 + 1 GPU free. A
// 2-GPU job fits in total (2 free) but on no node (at most 1): fragmentation, with the numbers;
// a second one is behind it in the pool's one queue.
TEST(ServiceTest, APendingJobShowsEveryReasonAndItsPositionAsData) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 4), Node("b", 4)});
  auto c = s.Client(s.admin_token);
  for (int k = 0; k < 2; ++k) {
    const std::int64_t id = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 3}})["id"];
    WaitState(*c, id, "running");
  }
  const std::int64_t first = Submit(*c, {{"command", {"true"}}, {"gpus", 2}})["id"];
  const std::int64_t second = Submit(*c, {{"command", {"true"}}, {"gpus", 2}})["id"];
  const auto has_position = [](const json& x) {
    return x.contains("pending") && x["pending"]["position"].is_object();
  };
  const json j2 = WaitJob(*c, second, has_position);
  EXPECT_EQ(j2["pending"]["reasons"][0]["code"], "fragmentation");
  EXPECT_EQ(j2["pending"]["position"], (json{{"queue", ""}, {"in_queue", 2}, {"of", 2}}));
  const json j1 = WaitJob(*c, first, has_position);
  const std::string words =
      "fits in total but fragmented: 2 GPUs free in the pool, at most 1 free on one node (needs "
      "2)";
  EXPECT_EQ(j1["reason"], "not now: " + words);
  const json expected = {{"reasons",
                          {{{"code", "fragmentation"},
                            {"message", words},
                            {"resource", "gpus"},
                            {"needed", 2},
                            {"free", 2},
                            {"most_on_one", 1}}}},
                         {"position", {{"queue", ""}, {"in_queue", 1}, {"of", 2}}}};
  EXPECT_EQ(j1["pending"], expected) << j1["pending"].dump();
  // The list shows the same.
  const json list = Body(c->Get("/api/v1/jobs?state=pending"));
  ASSERT_EQ(list["jobs"].size(), 2U);
  for (const json& j : list["jobs"]) {
    EXPECT_EQ(j["pending"]["position"]["in_queue"], j["id"] == first ? 1 : 2) << j.dump();
  }
  // A running job has no `pending` member.
  const json running = Body(c->Get("/api/v1/jobs/1"));
  EXPECT_EQ(running["state"], "running");
  EXPECT_FALSE(running.contains("pending"));
}

// One 8-GPU node of islands {0-3}, {4-7}. Two 3-GPU jobs run: the first takes island 0's GPUs
// 0-2, the second the island that still holds 3, island 1: GPUs 4-6. GPUs 3 and 7 are free, one
// in each island. A 2-GPU job with "topology": "nvlink" waits: topology, needed 2, at most 1 free
// in one island; the same job without the rule starts (on GPUs 3 and 7).
TEST(ServiceTest, ARequiredNvlinkJobWaitsWithTheTopologyReason) {
  TempDir dir;
  cluster::NodeSpec node = Node("a", 8);
  node.nvlink_islands = {{0, 1, 2, 3}, {4, 5, 6, 7}};
  Server s(dir.path(), {node});
  auto c = s.Client(s.admin_token);
  for (int k = 0; k < 2; ++k) {
    const std::int64_t id = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 3}})["id"];
    WaitState(*c, id, "running");
  }
  const json nvlink =
      Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 2}, {"topology", "nvlink"}});
  EXPECT_EQ(nvlink["resources"]["topology"], "nvlink");
  const std::int64_t id = nvlink["id"];
  const json j =
      WaitJob(*c, id, [](const json& x) { return x.value("reason", "").starts_with("not now"); });
  const std::string words =
      "needs 2 GPUs free inside one NVLink island, at most 1 free in one island on any node (it "
      "would fit now without the rule)";
  EXPECT_EQ(j["reason"], "not now: " + words);
  const json expected = {{"code", "topology"}, {"message", words}, {"resource", "gpus"},
                         {"needed", 2},        {"most_on_one", 1}, {"replicas", 1}};
  EXPECT_EQ(j["pending"]["reasons"], json::array({expected})) << j["pending"].dump();
  const json plain = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 2}});
  EXPECT_EQ(plain["resources"]["topology"], "any");
  WaitState(*c, plain["id"], "running");
  for (std::int64_t k = 1; k <= 4; ++k) c->Delete("/api/v1/jobs/" + std::to_string(k));
}

// The reason of code `code` among a job's pending reasons (null: none).
json ReasonOf(const json& job, const std::string& code) {
  if (!job.contains("pending")) return json();
  for (const json& r : job["pending"]["reasons"]) {
    if (r.value("code", "") == code) return r;
  }
  return json();
}

// Gang reservation with a 3 s timeout. Two 2-GPU nodes; X (1 GPU, no time limit) runs on one. G
// (2 replicas x 2 GPUs) fits nowhere and reserves, with no start time (X has no limit). S (1 GPU,
// no limit) fits beside X but could hold that GPU for ever: it waits (reservation_ahead). 3 s
// after G reserved, the reservation lapses: the service runs a cycle for that alone, S starts,
// and G's reason says when it lapsed and that it may reserve again 3 s later.
TEST(ServiceTest, AGangsReservationHoldsBackAndLapsesAfterItsTimeout) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2), Node("b", 2)}, 64, nullptr, {}, [](ServiceOptions& opt) {
    opt.scheduler.gang_reservation = true;
    opt.scheduler.reservation_timeout_s = 3;
  });
  auto c = s.Client(s.admin_token);
  const std::int64_t x = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
  WaitState(*c, x, "running");
  const std::int64_t g = Submit(*c, {{"command", {"true"}}, {"gpus", 2}, {"replicas", 2}})["id"];
  const json reserved =
      WaitJob(*c, g, [](const json& j) { return !ReasonOf(j, "reserved").is_null(); });
  const json held = ReasonOf(reserved, "reserved");
  EXPECT_FALSE(held.contains("reserved_at_s"));  // X has no time limit: no start time
  ASSERT_TRUE(held.contains("lapses_at_s"));
  const std::int64_t small = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
  const json ahead =
      WaitJob(*c, small, [](const json& j) { return !ReasonOf(j, "reservation_ahead").is_null(); });
  EXPECT_EQ(ReasonOf(ahead, "reservation_ahead")["job"], g);
  WaitState(*c, small, "running");
  const json lapsed =
      ReasonOf(Body(c->Get("/api/v1/jobs/" + std::to_string(g))), "reservation_lapsed");
  ASSERT_FALSE(lapsed.is_null());
  EXPECT_DOUBLE_EQ(lapsed["lapses_at_s"].get<double>(), held["lapses_at_s"].get<double>());
  EXPECT_DOUBLE_EQ(lapsed["reserve_again_at_s"].get<double>() - lapsed["lapses_at_s"].get<double>(),
                   3.0);
  for (const std::int64_t id : {g, small, x}) c->Delete("/api/v1/jobs/" + std::to_string(id));
  WaitState(*c, x, "cancelled");
  WaitState(*c, small, "cancelled");
}

// Strict order with queues and EASY backfill (`serve --strict --backfill easy`): the reservation
// names its nodes in the API. Two 2-GPU nodes; X (2 GPUs, limit 600 s) runs on one; G (2 replicas
// x 2 GPUs, limit 60 s) fits nowhere: its queue's head, reserved for X's end on both nodes, GPUs
// 0 and 1 of each (`reserved_nodes`, one entry per replica).
TEST(ServiceTest, AStrictQueuesHeadsReservationNamesItsNodes) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2), Node("b", 2)}, 64, nullptr, {}, [](ServiceOptions& opt) {
    opt.scheduler.strict_order = true;
    opt.scheduler.easy_backfill = true;
    opt.scheduler.queues = {
        queue::QueueSpec{"default", "", 0, std::numeric_limits<double>::infinity(), 1}};
  });
  auto c = s.Client(s.admin_token);
  const std::int64_t x =
      Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 2}, {"time_limit_s", 600}})["id"];
  WaitState(*c, x, "running");
  const std::int64_t g =
      Submit(*c, {{"command", {"true"}}, {"gpus", 2}, {"replicas", 2}, {"time_limit_s", 60}})["id"];
  const json reserved =
      WaitJob(*c, g, [](const json& j) { return !ReasonOf(j, "reserved").is_null(); });
  const json held = ReasonOf(reserved, "reserved");
  ASSERT_TRUE(held.contains("reserved_at_s")) << held.dump();
  ASSERT_TRUE(held.contains("reserved_nodes")) << held.dump();
  const json& nodes = held["reserved_nodes"];
  ASSERT_EQ(nodes.size(), 2u) << held.dump();
  std::vector<std::string> names = {nodes[0]["node"], nodes[1]["node"]};
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  for (const json& n : nodes) EXPECT_EQ(n["gpus"], json::array({0, 1}));
  for (const std::int64_t id : {g, x}) c->Delete("/api/v1/jobs/" + std::to_string(id));
  WaitState(*c, x, "cancelled");
}

TEST(ServiceTest, EveryRoleSeesAndDoesOnlyWhatItMay) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2)});
  auto admin = s.Client(s.admin_token);
  auto make_token = [&](const std::string& user, json queues) {
    auto r = admin->Post("/api/v1/tokens", json{{"user", user}, {"queues", queues}}.dump(),
                         "application/json");
    EXPECT_EQ(r->status, 201) << r->body;
    return json::parse(r->body)["token"].get<std::string>();
  };
  const std::string alice_token = make_token("alice", {"default"});
  const std::string bob_token = make_token("bob", {"default"});
  auto alice = s.Client(alice_token);
  auto bob = s.Client(bob_token);
  const std::int64_t id = Submit(*alice, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
  const std::string path = "/api/v1/jobs/" + std::to_string(id);
  EXPECT_EQ(alice->Get(path)->status, 200);
  EXPECT_EQ(bob->Get(path)->status, 404);
  EXPECT_EQ(bob->Get(path + "/logs")->status, 404);
  EXPECT_EQ(bob->Get(path + "/events")->status, 404);
  EXPECT_EQ(bob->Delete(path)->status, 404);
  EXPECT_EQ(Body(bob->Get("/api/v1/jobs"))["total"], 0);
  EXPECT_EQ(bob->Get("/api/v1/jobs?user=alice")->status, 403);
  EXPECT_EQ(Body(admin->Get("/api/v1/jobs"))["total"], 1);
  // Queues: alice may use only "default".
  EXPECT_EQ(Submit(*alice, {{"command", {"true"}}, {"queue", "research"}}, 403)["error"]["code"],
            "PERMISSION_DENIED");
  // Admin-only endpoints.
  EXPECT_EQ(alice->Post("/api/v1/tokens", R"({"user": "mallory"})", "application/json")->status,
            403);
  EXPECT_EQ(alice->Get("/api/v1/tokens")->status, 403);
  EXPECT_EQ(alice->Post("/api/v1/nodes/a/cordon", "", "application/json")->status, 403);
  EXPECT_EQ(admin->Post("/api/v1/nodes/a/cordon", "", "application/json")->status, 200);
  EXPECT_EQ(Body(admin->Post("/api/v1/nodes/a/uncordon", "", "application/json"))["condition"],
            "ready");
  // Who is who.
  EXPECT_EQ(Body(alice->Get("/api/v1/whoami"))["user"], "alice");
  // No token, a wrong token, a revoked token: 401; healthz and metrics need none.
  auto anon = s.Client("");
  EXPECT_EQ(anon->Get("/api/v1/jobs")->status, 401);
  EXPECT_EQ(s.Client("gp_0000")->Get("/api/v1/jobs")->status, 401);
  EXPECT_EQ(anon->Get("/healthz")->status, 200);
  EXPECT_EQ(anon->Get("/metrics")->status, 200);
  const json tokens = Body(admin->Get("/api/v1/tokens"));
  std::int64_t bob_id = 0;
  for (const auto& t : tokens["tokens"]) {
    if (t["user"] == "bob") bob_id = t["id"];
  }
  ASSERT_GT(bob_id, 0);
  EXPECT_EQ(admin->Delete("/api/v1/tokens/" + std::to_string(bob_id))->status, 200);
  EXPECT_EQ(bob->Get("/api/v1/whoami")->status, 401);
  // Alice cancels her own job.
  EXPECT_EQ(alice->Delete(path)->status, 200);
  WaitState(*alice, id, "cancelled");
}

TEST(ServiceTest, EachClassOfBadRequestIsRefusedNamingTheMemberAndStoresNothing) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2)});
  auto c = s.Client(s.admin_token);
  struct Case {
    std::string body;
    int status;
    std::string member;
    std::string message_start;
  };
  const std::vector<Case> cases = {
      {R"({"command": ["true"],)", 400, "", "the body is not valid JSON"},
      {R"([1, 2])", 400, "", "the body must be a JSON object"},
      {R"({"command": ["true"], "gpus": 1e999})", 400, "", "the body is not valid JSON"},
      {R"({"command": ["true"], "weird": 1})", 400, "weird", "weird: unknown member"},
      {R"({"gpus": 1})", 400, "command", "command: required"},
      {R"({"command": "true"})", 400, "command",
       "command: must be an array of strings, not string"},
      {R"({"command": ["true", 5]})", 400, "command[1]",
       "command[1]: must be a string, not number"},
      {R"({"command": ["true"], "gpus": "two"})", 400, "gpus",
       "gpus: must be a number, not string"},
      {R"({"command": ["true"], "gpus": -1})", 400, "gpus", "gpus: -1 is negative"},
      {R"({"command": ["true"], "gpus": 1.5})", 400, "gpus",
       "gpus: 1.5: more than one GPU must be a whole number"},
      {R"({"command": ["true"], "gpus": 1e9})", 400, "gpus",
       "gpus: 1000000000.0 is over 16 per replica"},
      {R"({"command": ["true"], "cpu_milli": -1})", 400, "cpu_milli", "cpu_milli: -1 is negative"},
      {R"({"command": ["true"], "memory_mib": 1e30})", 400, "memory_mib",
       "memory_mib: 1e+30 is not a whole number"},
      {R"({"command": ["true"], "replicas": 0})", 400, "replicas",
       "replicas: 0 is below the minimum 1"},
      {R"({"command": ["true"], "priority": 2.5})", 400, "priority",
       "priority: 2.5 is not a whole number"},
      {R"({"command": ["true"], "preemptible": "yes"})", 400, "preemptible",
       "preemptible: must be true or false"},
      {R"({"command": ["true"], "env": {"CUDA_VISIBLE_DEVICES": "0"}})", 400,
       "env.CUDA_VISIBLE_DEVICES", "env.CUDA_VISIBLE_DEVICES: set by gpupool"},
      {R"({"command": ["true"], "gpus": 1, "gpu_models": ["B300"]})", 400, "gpu_models[0]",
       "gpu_models[0]: unknown GPU model 'B300' (the pool has: H100-SXM)"},
      {R"({"command": ["true"], "workdir": "relative/dir"})", 400, "workdir",
       "workdir: 'relative/dir' is not an absolute path"},
      {R"({"command": ["true"], "gpus": 4})", 409, "",
       "never: 4 GPUs per replica, but the largest node has 2"},
      {R"({"command": ["true"], "gpus": 1, "replicas": 3})", 409, "", "never: a gang of 3 x"},
      {R"({"command": ["true"], "gpus": 2, "topology": "nv"})", 400, "topology",
       "topology: 'nv' is not a topology (known: any, nvlink)"},
      // a has 2 GPUs and no islands: 2 GPUs in one island never fit.
      {R"({"command": ["true"], "gpus": 2, "topology": "nvlink"})", 409, "",
       "never: 2 GPUs per replica inside one NVLink island (topology nvlink), but no node "
       "declares NVLink islands"},
  };
  for (const Case& k : cases) {
    auto r = c->Post("/api/v1/jobs", k.body, "application/json");
    ASSERT_TRUE(r) << k.body;
    EXPECT_EQ(r->status, k.status) << k.body << " -> " << r->body;
    const json e = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(e.contains("error")) << r->body;
    EXPECT_EQ(e["error"]["status"], k.status);
    EXPECT_EQ(e["error"].value("member", ""), k.member) << k.body;
    EXPECT_TRUE(e["error"]["message"].get<std::string>().starts_with(k.message_start))
        << k.body << " -> " << e["error"]["message"];
  }
  // A body over the limit (64 KiB here) and a body that is not JSON by its type.
  const std::string huge =
      R"({"command": ["true"], "name": ")" + std::string(100 * 1024, 'x') + "\"}";
  auto r = c->Post("/api/v1/jobs", huge, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "PAYLOAD_TOO_LARGE");
  // The same body without a declared length (chunked, 4 KiB a chunk): refused once it has grown
  // over the limit.
  r = c->Post(
      "/api/v1/jobs",
      [&huge](std::size_t offset, httplib::DataSink& sink) {
        if (offset < huge.size()) {
          sink.write(huge.data() + offset, std::min<std::size_t>(4096, huge.size() - offset));
        } else {
          sink.done();
        }
        return true;
      },
      "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(json::parse(r->body)["error"]["message"],
            "the request body is over the size limit of 65536 bytes");
  r = c->Post("/api/v1/jobs", "command=true", "application/x-www-form-urlencoded");
  EXPECT_EQ(r->status, 415);
  EXPECT_EQ(c->Get("/api/v1/jobs?limit=0")->status, 400);
  EXPECT_EQ(c->Get("/api/v1/jobs?state=done")->status, 400);
  EXPECT_EQ(c->Get("/api/v1/nothing")->status, 404);
  // A known path under a method it does not have; an id that is not a 64-bit number.
  r = c->Delete("/api/v1/pool");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(json::parse(r->body)["error"]["status"], 405);
  EXPECT_EQ(c->Get("/api/v1/jobs/99999999999999999999999")->status, 404);
  EXPECT_EQ(c->Get("/api/v1/jobs/-1")->status, 404);
  EXPECT_EQ(Total(*c), 0);  // nothing was stored
}

TEST(ServiceTest, ConnectionsOverTheLimitGet503) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 1)}, /*max_connections=*/2);
  auto c1 = s.Client(s.admin_token);
  auto c2 = s.Client(s.admin_token);
  c1->set_keep_alive(true);
  c2->set_keep_alive(true);
  ASSERT_EQ(c1->Get("/api/v1/whoami")->status, 200);
  ASSERT_EQ(c2->Get("/api/v1/whoami")->status, 200);
  auto c3 = s.Client(s.admin_token);
  auto r = c3->Get("/api/v1/whoami");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "UNAVAILABLE");
  c1->stop();
  c1.reset();
}

TEST(ServiceTest, ARestartAdoptsRunningJobsAndKeepsPendingOnes) {
  TempDir dir;
  std::int64_t running = 0, pending = 0;
  {
    Server s(dir.path(), {Node("a", 1)});
    auto c = s.Client(s.admin_token);
    running = Submit(*c, {{"command", {"sh", "-c", "sleep 1; echo done"}}, {"gpus", 1}})["id"];
    WaitState(*c, running, "running");
    pending = Submit(*c, {{"command", {"true"}}, {"gpus", 1}})["id"];
  }  // the service stops; the job's process keeps running
  Server s(dir.path(), {Node("a", 1)});
  auto c = s.Client(s.admin_token);
  const json j = Body(c->Get("/api/v1/jobs/" + std::to_string(running)));
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(WaitState(*c, running, "succeeded")["exit_code"], 0);
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(running) + "/logs"))["data"], "done\n");
  WaitState(*c, pending, "succeeded");
}

// A queue limited to 1 GPU on a 2-GPU node: the second job of the queue waits although a GPU is
// free, and still waits after a restart (the running job's share is charged to its queue again).
TEST(ServiceTest, AQueueLimitHoldsAndSurvivesARestart) {
  TempDir dir;
  const std::vector<queue::QueueSpec> queues = {{"default", "", 0, 1, 1}};
  const std::string reason = "not now: queue 'default' is at its limit (1 of 1 GPUs in use)";
  std::int64_t running = 0, waiting = 0;
  {
    Server s(dir.path(), {Node("a", 2)}, 64, nullptr, queues);
    auto c = s.Client(s.admin_token);
    running = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
    WaitState(*c, running, "running");
    waiting = Submit(*c, {{"command", {"true"}}, {"gpus", 1}})["id"];
    WaitJob(*c, waiting, [&](const json& j) { return j.value("reason", "") == reason; });
  }
  Server s(dir.path(), {Node("a", 2)}, 64, nullptr, queues);
  auto c = s.Client(s.admin_token);
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(running)))["state"], "running");
  const json j =
      WaitJob(*c, waiting, [&](const json& x) { return x.value("reason", "") == reason; });
  EXPECT_EQ(j["state"], "pending");
  // As data: the queue, 1 GPU used of its limit of 1, the job's 1 GPU; it would fit otherwise
  // (1 GPU free), so that is the only reason.
  const json expected = {{"reasons",
                          {{{"code", "over_limit"},
                            {"message", reason.substr(std::string("not now: ").size())},
                            {"queue", "default"},
                            {"used_gpus", 1.0},
                            {"limit_gpus", 1.0},
                            {"job_gpus", 1.0}}}},
                         {"position", {{"queue", "default"}, {"in_queue", 1}, {"of", 1}}}};
  EXPECT_EQ(j["pending"], expected) << j["pending"].dump();
}

// ---- queues changed at run time (GET and PUT /api/v1/queues)

httplib::Result PutQueues(httplib::Client& c, const std::string& body,
                          const std::string& type = "application/yaml") {
  return c.Put("/api/v1/queues", body, type);
}

// The queue named `name` of GET /api/v1/queues (null when there is none).
json QueueOf(const json& answer, const std::string& name) {
  for (const auto& q : answer.value("queues", json::array())) {
    if (q.value("name", "") == name) return q;
  }
  return nullptr;
}

std::string MakeToken(httplib::Client& admin, const std::string& user) {
  auto r = admin.Post("/api/v1/tokens", json{{"user", user}, {"queues", {"default"}}}.dump(),
                      "application/json");
  EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
  return r ? json::parse(r->body)["token"].get<std::string>() : "";
}

// default is limited to 1 GPU on a 2-GPU node: job 1 runs, job 2 waits for the limit. Every user
// sees the queues; only the admin changes them. Raising the limit to 2 starts job 2 at once
// (nothing ended); lowering it to 1 again, below the 2 GPUs in use, is allowed with a warning:
// both keep running and job 3 waits until the usage is under the limit.
TEST(ServiceTest, TheAdminChangesALimitAndAHeldJobStarts) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2)}, 64, nullptr, {{"default", "", 0, 1, 1}});
  auto admin = s.Client(s.admin_token);
  auto alice = s.Client(MakeToken(*admin, "alice"));
  const std::int64_t first = Submit(*admin, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
  WaitState(*admin, first, "running");
  const std::int64_t held = Submit(*admin, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
  WaitJob(*admin, held, [](const json& j) {
    return j.value("reason", "") == "not now: queue 'default' is at its limit (1 of 1 GPUs in use)";
  });

  const json before = Body(alice->Get("/api/v1/queues"));
  // No guarantee: no share ratio; the oldest wait is the held job's submission.
  json expected = json::parse(R"({"name": "default", "parent": null, "guaranteed": 0.0,
                                  "limit": 1.0, "weight": 1.0, "used": 1.0, "borrowed": 1.0,
                                  "pending": 1, "running": 1, "share_ratio": null})");
  expected["oldest_pending_at"] =
      Body(admin->Get("/api/v1/jobs/" + std::to_string(held)))["submitted_at"];
  EXPECT_EQ(QueueOf(before, "default"), expected);
  EXPECT_EQ(before["source"], "file (start options)");
  EXPECT_EQ(before["applied_by"], nullptr);

  const std::string raise = "queues:\n  - name: default\n    limit: 2\n";
  auto denied = PutQueues(*alice, raise);
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403) << denied->body;
  EXPECT_EQ(Body(alice->Get("/api/v1/queues")), before);

  auto ok = PutQueues(*admin, raise);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  const json changed = json::parse(ok->body);
  EXPECT_EQ(changed["changes"], json::array({"'default': limit 1 -> 2"}));
  EXPECT_EQ(changed["warnings"], json::array());
  EXPECT_EQ(changed["applied_by"], "admin");
  EXPECT_EQ(changed["source"], "api");
  WaitState(*admin, held, "running");
  EXPECT_EQ(QueueOf(Body(admin->Get("/api/v1/queues")), "default")["used"], 2.0);

  auto lower = PutQueues(*admin, "queues:\n  - name: default\n    limit: 1\n");
  ASSERT_TRUE(lower);
  ASSERT_EQ(lower->status, 200) << lower->body;
  EXPECT_EQ(json::parse(lower->body)["warnings"],
            json::array({"queue 'default' uses 2 GPUs, above its limit of 1: its running jobs "
                         "keep running, and no job of it starts until its usage is under the "
                         "limit"}));
  // The pool is full too (a second reason); the limit's reason has the usage above the limit.
  const std::int64_t third = Submit(*admin, {{"command", {"true"}}, {"gpus", 1}})["id"];
  WaitJob(*admin, third, [](const json& j) {
    if (!j.contains("pending") || !j["pending"].is_object()) return false;
    for (const auto& r : j["pending"].value("reasons", json::array())) {
      if (r.value("code", "") == "over_limit") {
        return r.value("message", "") == "queue 'default' is at its limit (2 of 1 GPUs in use)";
      }
    }
    return false;
  });
  EXPECT_EQ(Body(admin->Get("/api/v1/jobs/" + std::to_string(first)))["state"], "running");
  EXPECT_EQ(Body(admin->Get("/api/v1/jobs/" + std::to_string(held)))["state"], "running");
  admin->Delete("/api/v1/jobs/" + std::to_string(first));
  WaitState(*admin, first, "cancelled");
  std::this_thread::sleep_for(200ms);  // 1 GPU in use of 1: still no room
  EXPECT_EQ(Body(admin->Get("/api/v1/jobs/" + std::to_string(third)))["state"], "pending");
  admin->Delete("/api/v1/jobs/" + std::to_string(held));
  WaitState(*admin, third, "succeeded");
}

// Each bad change is refused with its status and message, and the queues stay exactly as they
// were: a body that is not a queue file (400, naming line and member), removing a queue that has
// a job (409), a pending job larger than a new limit (409), a body of another type (415).
TEST(ServiceTest, ABadQueueChangeIsRefusedWholeAndChangesNothing) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2)}, 64, nullptr,
           {{"default", "", 0, 2, 1}, {"busy", "", 0, 2, 1}, {"idle", "", 0, 2, 1}});
  auto c = s.Client(s.admin_token);
  const std::int64_t job =
      Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 2}, {"queue", "busy"}})["id"];
  WaitState(*c, job, "running");
  const std::int64_t waiting = Submit(*c, {{"command", {"true"}}, {"gpus", 2}})["id"];
  const json before = Body(c->Get("/api/v1/queues"));
  const struct {
    std::string body;
    std::string type;
    int status;
    std::string member;
    std::string message;
  } cases[] = {
      {"queues:\n  - name: default\n    limit: lots\n  - name: busy\n", "application/yaml", 400,
       "queues[0].limit", "request body:3: queues[0].limit: 'lots' is not a number"},
      {"queues:\n  - name: default\n  - name: busy\n    weight: 1\n    limits: 4\n", "text/plain",
       400, "queues[1].limits",
       "request body:5: queues[1].limits: unknown member (known: name, guaranteed, limit, weight, "
       "parent, models)"},
      {"queues:\n  - name: default\n  - name: busy\n    guaranteed: 4\n    limit: 2\n",
       "application/yaml", 400, "queues[1].limit",
       "request body:5: queues[1].limit: 2 is below the guarantee 4"},
      {R"({"queues": [{"name": "default"}, {"name": "default"}]})", "application/json", 400,
       "queues[1].name", "request body:1: queues[1].name: listed twice"},
      {"queues: [\n", "application/yaml", 400, "", ""},
      {"queues:\n  - name: default\n  - name: idle\n", "application/yaml", 409, "",
       "queue 'busy' is missing from the new queues but has 1 job(s) (0 pending, 1 running); "
       "keep it until they have ended, or cancel them"},
      {"queues:\n  - name: default\n    limit: 1\n  - name: busy\n", "application/yaml", 409, "",
       "queue 'default': limit 1 is below the 2 GPUs of pending job " + std::to_string(waiting) +
           " (queue 'default'), which could then never start; cancel it first or keep the "
           "limit"},
      {"queues: []\n", "application/xml", 415, "", ""},
  };
  for (const auto& k : cases) {
    auto r = PutQueues(*c, k.body, k.type);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, k.status) << k.body << r->body;
    const json e = json::parse(r->body, nullptr, false);
    EXPECT_EQ(e["error"].value("member", ""), k.member) << r->body;
    if (!k.message.empty()) {
      EXPECT_EQ(e["error"]["message"], k.message);
    }
    if (k.status == 400 && k.member.empty()) {
      EXPECT_TRUE(e["error"]["message"].get<std::string>().starts_with("request body:")) << r->body;
    }
    EXPECT_EQ(Body(c->Get("/api/v1/queues")), before) << k.body;
  }
  // The same change without the running job's queue removed is fine, as JSON too; idle goes.
  auto ok = PutQueues(*c, R"({"queues": [{"name": "default"}, {"name": "busy", "limit": 3}]})",
                      "application/json");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["changes"],
            json::array({"'default': limit 2 -> none", "'busy': limit 2 -> 3", "removed 'idle'"}));
  c->Delete("/api/v1/jobs/" + std::to_string(job));
  WaitState(*c, waiting, "succeeded");
}

// A change through the API is stored: a restart without queues given keeps it; a restart that
// gives other queues (the --queues file) is refused, saying what differs and what to do; with
// queues_reset the given ones replace it, and are then what a start without queues keeps.
// The job order is part of the queue configuration. The service starts with the default order,
// priority; PUT /api/v1/queues with `order: fifo` makes the waiting jobs go in submission order:
// on one GPU held by job h, job a (priority 0) then job b (priority 5) wait; when h ends a starts
// and b waits (under priority b would go first). GET shows the order and where it comes from; a
// bad order is refused naming the member; a restart keeps the order; a start whose --order
// differs from it is refused.
TEST(ServiceTest, TheJobOrderIsSetByTheQueueConfiguration) {
  TempDir dir;
  {
    Server s(dir.path(), {Node("n", 1)});
    auto c = s.Client(s.admin_token);
    EXPECT_EQ(Body(c->Get("/api/v1/queues"))["order"], "priority");
    EXPECT_EQ(Body(c->Get("/api/v1/queues"))["order_source"], "start options");
    auto bad = PutQueues(*c, "order: nope\nqueues: []\n");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << bad->body;
    EXPECT_EQ(json::parse(bad->body)["error"]["member"], "order") << bad->body;
    auto r = PutQueues(*c, "order: fifo\nqueues: []\n");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["changes"], json::array({"order (none) -> fifo"})) << r->body;
    const json q = Body(c->Get("/api/v1/queues"));
    EXPECT_EQ(q["order"], "fifo");
    EXPECT_EQ(q["order_source"], "configuration");
    const std::int64_t h = Submit(*c, {{"command", {"sleep", "4"}}, {"gpus", 1}})["id"];
    WaitState(*c, h, "running");
    const std::int64_t a =
        Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}, {"priority", 0}})["id"];
    const std::int64_t b = Submit(*c, {{"command", {"true"}}, {"gpus", 1}, {"priority", 5}})["id"];
    // Both wait while h runs, so the order alone decides which goes next.
    ASSERT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(h)))["state"], "running");
    WaitState(*c, a, "running");
    EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(b)))["state"], "pending");
    c->Delete("/api/v1/jobs/" + std::to_string(a));
    WaitState(*c, b, "succeeded");
  }
  {
    Server s(dir.path(), {Node("n", 1)});
    auto c = s.Client(s.admin_token);
    EXPECT_EQ(Body(c->Get("/api/v1/queues"))["order"], "fifo");
  }
  ServiceOptions opt = BasicOptions(dir.path(), {Node("n", 1)});
  opt.scheduler.order = "priority";
  opt.order_given = true;
  auto refused = PoolService::Start(opt, std::make_unique<executor::LocalExecutor>());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      refused.error().message().starts_with("--order priority: the queue configuration in "
                                            "force (stored in "))
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("names the order 'fifo'"), std::string::npos);
}

TEST(ServiceTest, AQueueChangeSurvivesARestart) {
  TempDir dir;
  const std::vector<queue::QueueSpec> file = {{"default", "", 0, 1, 1}};
  const auto from_file = [&](bool reset) {
    return [reset](ServiceOptions& o) {
      o.queues_file = "q.yaml";
      o.queues_reset = reset;
    };
  };
  {
    Server s(dir.path(), {Node("a", 2)}, 64, nullptr, file, from_file(false));
    auto c = s.Client(s.admin_token);
    auto r = PutQueues(*c, "queues:\n  - name: default\n    limit: 2\n  - name: extra\n");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  {
    Server s(dir.path(), {Node("a", 2)});
    auto c = s.Client(s.admin_token);
    const json q = Body(c->Get("/api/v1/queues"));
    EXPECT_EQ(QueueOf(q, "default")["limit"], 2.0);
    EXPECT_NE(QueueOf(q, "extra"), nullptr);
    EXPECT_EQ(q["applied_by"], "admin");
    EXPECT_EQ(q["source"], "api");
  }
  {
    ServiceOptions opt = BasicOptions(dir.path(), {Node("a", 2)});
    opt.scheduler.queues = file;
    opt.queues_file = "q.yaml";
    auto refused = PoolService::Start(opt, std::make_unique<executor::LocalExecutor>());
    ASSERT_FALSE(refused.has_value());
    const std::string m = refused.error().message();
    EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
    EXPECT_TRUE(
        m.starts_with("--queues q.yaml: the queues were changed through the API by admin "
                      "at "))
        << m;
    EXPECT_NE(m.find("('default': limit 2 -> 1; removed 'extra')"), std::string::npos) << m;
    EXPECT_NE(m.find("--queues-reset"), std::string::npos) << m;
  }
  {
    Server s(dir.path(), {Node("a", 2)}, 64, nullptr, file, from_file(true));
    auto c = s.Client(s.admin_token);
    const json q = Body(c->Get("/api/v1/queues"));
    EXPECT_EQ(QueueOf(q, "default")["limit"], 1.0);
    EXPECT_EQ(QueueOf(q, "extra"), nullptr);
    EXPECT_EQ(q["source"], "file q.yaml");
  }
  Server s(dir.path(), {Node("a", 2)});
  auto c = s.Client(s.admin_token);
  const json q = Body(c->Get("/api/v1/queues"));
  EXPECT_EQ(QueueOf(q, "default")["limit"], 1.0);
  EXPECT_EQ(q["queues"].size(), 1u);
}

// Per GPU model shares through the API: PUT takes them, GET shows each model's share, use and
// borrowing, a job over its queue's limit for a model waits with the model named, a model the
// pool lacks is refused, and a restart keeps them (the stored queue file has them).
TEST(ServiceTest, PerModelSharesRoundTripThroughTheApiAndTheStore) {
  TempDir dir;
  const std::vector<cluster::NodeSpec> nodes = {Node("a", 2), Node("b", 2, "L40S")};
  {
    Server s(dir.path(), nodes);
    auto c = s.Client(s.admin_token);
    auto unknown =
        PutQueues(*c, "queues:\n  - name: default\n    models:\n      B200: {limit: 1}\n");
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 400) << unknown->body;
    EXPECT_EQ(Body(unknown)["error"]["message"],
              "queue 'default': models.B200: the pool has no GPUs of model 'B200' (it has: "
              "H100-SXM, L40S)");
    auto ok = PutQueues(*c,
                        "queues:\n  - name: default\n    guaranteed: 2\n    models:\n"
                        "      L40S: {guaranteed: 1, limit: 1}\n");
    ASSERT_TRUE(ok);
    ASSERT_EQ(ok->status, 200) << ok->body;
    EXPECT_EQ(json::parse(ok->body)["changes"],
              json::array({"added 'default' (guaranteed 2, limit none, weight 1, L40S guaranteed 1 "
                           "limit 1)"}));
    const std::int64_t first =
        Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}, {"gpu_models", {"L40S"}}})["id"];
    WaitState(*c, first, "running");
    const std::int64_t held =
        Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}, {"gpu_models", {"L40S"}}})["id"];
    WaitJob(*c, held, [](const json& j) {
      return j.value("reason", "") ==
             "not now: queue 'default' is at its limit for L40S (1 of 1 L40S GPUs in use)";
    });
    // default: 1 L40S of its 1 L40S guaranteed: nothing borrowed.
    EXPECT_EQ(QueueOf(Body(c->Get("/api/v1/queues")), "default")["models"],
              json::parse(R"({"L40S": {"guaranteed": 1.0, "limit": 1.0, "used": 1.0,
                                       "borrowed": 0.0}})"));
    // A model's limit below what the queue uses of it is allowed, with a warning (the held job
    // would never start under it: it is cancelled first).
    c->Delete("/api/v1/jobs/" + std::to_string(held));
    WaitState(*c, held, "cancelled");
    auto lower = PutQueues(*c,
                           "queues:\n  - name: default\n    guaranteed: 2\n    models:\n"
                           "      L40S: {limit: 0}\n");
    ASSERT_TRUE(lower);
    ASSERT_EQ(lower->status, 200) << lower->body;
    EXPECT_EQ(json::parse(lower->body)["changes"],
              json::array({"'default': models.L40S.guaranteed 1 -> 0, models.L40S.limit 1 -> 0"}));
    EXPECT_EQ(json::parse(lower->body)["warnings"],
              json::array({"queue 'default' uses 1 GPUs of L40S, above its limit of 0 for that "
                           "model: its running jobs keep running, and no job of it starts on L40S "
                           "until its usage is under the limit"}));
    c->Delete("/api/v1/jobs/" + std::to_string(first));
    WaitState(*c, first, "cancelled");
  }
  Server s(dir.path(), nodes);
  auto c = s.Client(s.admin_token);
  const json q = QueueOf(Body(c->Get("/api/v1/queues")), "default");
  EXPECT_EQ(q["guaranteed"], 2.0);
  EXPECT_EQ(q["models"], json::parse(R"({"L40S": {"guaranteed": 0.0, "limit": 0.0, "used": 0.0,
                                                   "borrowed": 0.0}})"));
}

TEST(ServiceTest, PoolAndMetricsCountWhatIsAllocated) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2), Node("b", 2, "L40S")});
  auto c = s.Client(s.admin_token);
  const std::int64_t id =
      Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 0.25}, {"gpu_models", {"L40S"}}})["id"];
  WaitState(*c, id, "running");
  const json pool = Body(c->Get("/api/v1/pool"));
  // 4 GPUs; one L40S holds 250 milli: 3 free, 1 shared, 0 whole.
  EXPECT_EQ(pool["gpus"]["total"], 4);
  EXPECT_EQ(pool["gpus"]["free"], 3);
  EXPECT_EQ(pool["gpus"]["shared"], 1);
  EXPECT_EQ(pool["milli"]["allocated"], 250);
  EXPECT_EQ(pool["jobs"]["running"], 1);
  const std::string metrics = c->Get("/metrics")->body;
  EXPECT_NE(metrics.find("gpupool_gpus{state=\"shared\",model=\"L40S\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("gpupool_gpus{state=\"free\",model=\"H100-SXM\"} 2\n"), std::string::npos);
  EXPECT_NE(metrics.find("gpupool_gpu_milli_allocated 250\n"), std::string::npos);
  EXPECT_NE(metrics.find("gpupool_jobs{state=\"running\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("gpupool_schedule_cycle_seconds_count"), std::string::npos);
  const json nodes = Body(c->Get("/api/v1/nodes"));
  ASSERT_EQ(nodes["nodes"].size(), 2U);
  EXPECT_EQ(nodes["nodes"][1]["name"], "b");
  EXPECT_EQ(nodes["nodes"][1]["jobs"], json::array({id}));
  c->Delete("/api/v1/jobs/" + std::to_string(id));
  WaitState(*c, id, "cancelled");
}

// The ids of a page of GET /api/v1/jobs, and its next cursor ("" none).
std::vector<std::int64_t> PageIds(const json& page, std::string* next = nullptr) {
  std::vector<std::int64_t> ids;
  for (const auto& j : page["jobs"]) ids.push_back(j["id"].get<std::int64_t>());
  if (next != nullptr) *next = page["next_cursor"].is_string() ? page["next_cursor"] : "";
  return ids;
}

TEST(ServiceTest, JobsSortOnTheServerAndPageAcrossATieWithTheirCursor) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 1)});
  auto c = s.Client(s.admin_token);
  // Five jobs that wait (2 GPUs on a node of 1 is refused, so hold the node with a first job):
  // id 1 holds the GPU; 2..6 wait. Names: 1 "z", 2 "b", 3 "a", 4 "b", 5 "a", 6 "b".
  const std::vector<std::string> names = {"z", "b", "a", "b", "a", "b"};
  std::vector<std::int64_t> ids;
  for (const auto& name : names) {
    ids.push_back(Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}, {"name", name}})["id"]);
  }
  ASSERT_EQ(ids, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  WaitState(*c, 1, "running");
  // name ascending, ties by id ascending: a 3 5, b 2 4 6, z 1. Pages of 2: [3 5] [2 4] [6 1]: the
  // tie of "b" spans the second and third pages.
  std::string next;
  EXPECT_EQ(PageIds(Body(c->Get("/api/v1/jobs?sort=name&order=asc&limit=2")), &next),
            (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(next, "name:asc:5:a");
  EXPECT_EQ(PageIds(Body(c->Get("/api/v1/jobs?sort=name&order=asc&limit=2&cursor=" + next)), &next),
            (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(next, "name:asc:4:b");
  EXPECT_EQ(
      PageIds(Body(c->Get("/api/v1/jobs?limit=2&cursor=" + next + "&order=asc&sort=name")), &next),
      (std::vector<std::int64_t>{6, 1}));
  EXPECT_EQ(next, "");
  // name descending, ties by id descending: z 1, b 6 4 2, a 5 3.
  EXPECT_EQ(PageIds(Body(c->Get("/api/v1/jobs?sort=name&limit=3")), &next),
            (std::vector<std::int64_t>{1, 6, 4}));
  EXPECT_EQ(PageIds(Body(c->Get("/api/v1/jobs?sort=name&limit=3&cursor=" + next))),
            (std::vector<std::int64_t>{2, 5, 3}));
  // state ascending: pending 2..6, running 1; the default is newest first with a plain id cursor.
  EXPECT_EQ(PageIds(Body(c->Get("/api/v1/jobs?sort=state&order=asc"))),
            (std::vector<std::int64_t>{2, 3, 4, 5, 6, 1}));
  EXPECT_EQ(PageIds(Body(c->Get("/api/v1/jobs?limit=4")), &next),
            (std::vector<std::int64_t>{6, 5, 4, 3}));
  EXPECT_EQ(next, "3");
  EXPECT_EQ(PageIds(Body(c->Get("/api/v1/jobs?sort=id&order=asc&limit=4")), &next),
            (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(next, "id:asc:4");
  // Bad keys, orders and cursors are named.
  json bad = Body(c->Get("/api/v1/jobs?sort=gpus"));
  EXPECT_EQ(bad["error"]["member"], "sort");
  EXPECT_EQ(bad["error"]["message"],
            "sort: 'gpus' is not a sort key (id, name, user, queue, state, priority, started, "
            "finished)");
  EXPECT_EQ(Body(c->Get("/api/v1/jobs?order=up"))["error"]["member"], "order");
  bad = Body(c->Get("/api/v1/jobs?sort=user&cursor=name:asc:4:b"));
  EXPECT_EQ(bad["error"]["member"], "cursor");
  EXPECT_EQ(bad["error"]["message"],
            "cursor: 'name:asc:4:b' is not a cursor of sort=user&order=desc");
  EXPECT_EQ(c->Get("/api/v1/jobs?sort=priority&cursor=priority:desc:4:x")->status, 400);
  EXPECT_EQ(c->Get("/api/v1/jobs?cursor=name:asc:4:b")->status, 400);
  for (const std::int64_t id : ids) c->Delete("/api/v1/jobs/" + std::to_string(id));
  WaitState(*c, 1, "cancelled");
}

// Fragmentation per GPU model, worked by hand: 2 H100 and 2 L40S; one job of a quarter L40S. The
// learned workload is that job's one class (1 GPU x 250 milli, L40S only), so an H100 node's
// fragment is all it has free (the class may not run there: 2000), an L40S node's the milli left on
// GPUs with less than 250 left (none: 0). The models add up to the pool.
TEST(ServiceTest, PoolGivesFragmentationPerModelThatAddsUpToThePools) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2), Node("b", 2, "L40S")});
  auto c = s.Client(s.admin_token);
  const std::int64_t id =
      Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 0.25}, {"gpu_models", {"L40S"}}})["id"];
  WaitState(*c, id, "running");
  const json pool = Body(c->Get("/api/v1/pool"));
  ASSERT_EQ(pool["by_model"].size(), 2U);
  const json& h = pool["by_model"][0];
  const json& l = pool["by_model"][1];
  EXPECT_EQ(h["model"], "H100-SXM");
  EXPECT_DOUBLE_EQ(h["fragmented_milli"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(h["fragmentation_pct"].get<double>(), 100.0);  // 2000 of 2000 free
  EXPECT_EQ(l["model"], "L40S");
  EXPECT_DOUBLE_EQ(l["fragmented_milli"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(l["fragmentation_pct"].get<double>(), 0.0);
  EXPECT_EQ(l["allocated_milli"], 250);
  // The pool: 2000 of 3750 free milli-GPU.
  EXPECT_DOUBLE_EQ(pool["fragmented_milli"].get<double>(), 2000.0);
  EXPECT_NEAR(pool["fragmentation_pct"].get<double>(), 100.0 * 2000 / 3750, 1e-9);
  double frag = 0;
  std::int64_t gpus = 0, capacity = 0, allocated = 0, free_gpus = 0;
  for (const json& m : pool["by_model"]) {
    frag += m["fragmented_milli"].get<double>();
    gpus += m["gpus"].get<std::int64_t>();
    capacity += m["capacity_milli"].get<std::int64_t>();
    allocated += m["allocated_milli"].get<std::int64_t>();
    free_gpus += m["free_gpus"].get<std::int64_t>();
    // No NVML here: in use is unknown, not 0.
    EXPECT_TRUE(m["in_use_milli"].is_null()) << m;
  }
  EXPECT_NEAR(frag, pool["fragmented_milli"].get<double>(), 1e-9);
  EXPECT_EQ(gpus, pool["gpus"]["total"]);
  EXPECT_EQ(capacity, pool["milli"]["capacity"]);
  EXPECT_EQ(allocated, pool["milli"]["allocated"]);
  EXPECT_EQ(free_gpus, pool["gpus"]["free"]);
  EXPECT_TRUE(pool["milli"]["in_use"].is_null());
  EXPECT_EQ(pool["gpus"]["reporting_utilization"], 0);
  c->Delete("/api/v1/jobs/" + std::to_string(id));
  WaitState(*c, id, "cancelled");
}

// The pool's history: samples taken at chosen times (a fake clock, no sampling thread), read back
// through the API, across a restart of the service; per model; the parameters checked.
TEST(ServiceTest, PoolHistoryIsSampledReadBackAcrossARestartAndValidated) {
  TempDir dir;
  std::atomic<std::int64_t> now_ms{1'796'083'200'000};
  const auto tweak = [&now_ms](ServiceOptions& opt) {
    opt.now_ms = [&now_ms] { return now_ms.load(); };
    opt.history_interval = std::chrono::milliseconds(0);
  };
  const auto series = [](const json& h, const char* name) {
    std::vector<json> out;
    for (const json& v : h["series"][name]) out.push_back(v);
    return out;
  };
  std::int64_t id = 0;
  {
    Server s(dir.path(), {Node("a", 2), Node("b", 2, "L40S")}, 64, nullptr, {}, tweak);
    auto c = s.Client(s.admin_token);
    ASSERT_TRUE(s.service->SampleHistory().ok());  // empty pool
    id = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 0.5}, {"gpu_models", {"L40S"}}})["id"];
    WaitState(*c, id, "running");
    now_ms += 10'000;
    ASSERT_TRUE(s.service->SampleHistory().ok());  // half an L40S allocated
    const json h = Body(c->Get("/api/v1/pool/history?range=1h"));
    EXPECT_EQ(h["range"], "1h");
    EXPECT_TRUE(h["model"].is_null());
    EXPECT_EQ(series(h, "time_ms"), (std::vector<json>{1'796'083'200'000, 1'796'083'210'000}));
    EXPECT_EQ(series(h, "allocated_milli"), (std::vector<json>{0.0, 500.0}));
    EXPECT_EQ(series(h, "capacity_milli"), (std::vector<json>{4000.0, 4000.0}));
    EXPECT_EQ(series(h, "jobs_running"), (std::vector<json>{0.0, 1.0}));
    EXPECT_EQ(series(h, "shared_gpus"), (std::vector<json>{0.0, 1.0}));
    EXPECT_EQ(series(h, "nodes_schedulable"), (std::vector<json>{2.0, 2.0}));
    // Without NVML, in use is unknown (null), never 0.
    EXPECT_EQ(series(h, "in_use_milli"), (std::vector<json>{nullptr, nullptr}));
  }
  // The service is stopped and started again on the same data directory: the samples are there,
  // and new ones follow them.
  {
    Server s(dir.path(), {Node("a", 2), Node("b", 2, "L40S")}, 64, nullptr, {}, tweak);
    auto c = s.Client(s.admin_token);
    WaitState(*c, id, "running");  // adopted
    now_ms += 10'000;
    ASSERT_TRUE(s.service->SampleHistory().ok());
    const json h = Body(c->Get("/api/v1/pool/history?range=1h"));
    EXPECT_EQ(series(h, "allocated_milli"), (std::vector<json>{0.0, 500.0, 500.0}));
    EXPECT_EQ(h["resolution_s"], 0.0);  // the samples as taken (no sampling thread here)
    // Per model: the L40S holds the job; the H100 nothing; pending jobs are the pool's only.
    const json l = Body(c->Get("/api/v1/pool/history?range=1h&model=L40S"));
    EXPECT_EQ(l["model"], "L40S");
    EXPECT_EQ(series(l, "allocated_milli"), (std::vector<json>{0.0, 500.0, 500.0}));
    EXPECT_EQ(series(l, "capacity_milli"), (std::vector<json>{2000.0, 2000.0, 2000.0}));
    EXPECT_EQ(series(l, "jobs_running"), (std::vector<json>{0.0, 1.0, 1.0}));
    EXPECT_EQ(series(l, "jobs_pending"), (std::vector<json>{nullptr, nullptr, nullptr}));
    const json a = Body(c->Get("/api/v1/pool/history?range=1h&model=H100-SXM"));
    EXPECT_EQ(series(a, "allocated_milli"), (std::vector<json>{0.0, 0.0, 0.0}));
    // Longer ranges read the coarser tiers: nothing rolled up within the first minute.
    for (const char* r : {"6h", "24h", "7d", "30d"}) {
      const json longer = Body(c->Get(std::string("/api/v1/pool/history?range=") + r));
      EXPECT_EQ(longer["range"], r);
      EXPECT_TRUE(longer["series"]["time_ms"].empty()) << r;
    }
    EXPECT_EQ(Body(c->Get("/api/v1/pool/history?range=6h"))["resolution_s"], 60.0);
    // Bad parameters are named.
    const auto refused = [&](const std::string& query, const std::string& member) {
      auto r = c->Get("/api/v1/pool/history" + query);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 400) << query;
      const json e = json::parse(r->body, nullptr, false);
      EXPECT_EQ(e["error"]["member"], member) << r->body;
    };
    refused("?range=2h", "range");
    refused("?range=", "range");
    refused("?model=V100", "model");
    refused("?model=", "model");
    refused("?step=60", "step");
    const json e = Body(c->Get("/api/v1/pool/history?model=V100"));
    EXPECT_NE(e["error"]["message"].get<std::string>().find("H100-SXM, L40S"), std::string::npos)
        << e;
    c->Delete("/api/v1/jobs/" + std::to_string(id));
    WaitState(*c, id, "cancelled");
  }
}

#ifdef FAKE_NVML_LIBRARY
TEST(ServiceTest, AGpuLostWhileAJobRunsMarksItUnhealthyAndTheJobLost) {
  TempDir dir;
  const auto lost_flag = dir.path() / "gpu1-lost";
  const auto script = dir.path() / "nvml.json";
  std::ofstream(script) << json{{"driver_version", "550.54.15"},
                                {"cuda_version", 12040},
                                {"gpus",
                                 {{{"name", "NVIDIA H100 80GB HBM3"},
                                   {"uuid", "GPU-aaaa-0"},
                                   {"bus_id", "00000000:18:00.0"},
                                   {"memory_total_mib", 81559},
                                   {"memory_used_mib", 0},
                                   {"util", {37, 5}}},
                                  {{"name", "NVIDIA H100 80GB HBM3"},
                                   {"uuid", "GPU-aaaa-1"},
                                   {"bus_id", "00000000:2A:00.0"},
                                   {"memory_total_mib", 81559},
                                   {"memory_used_mib", 0},
                                   {"lost_if_exists", lost_flag.string()}}}}}
                               .dump();
  setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
  auto nvml = discovery::NvmlLibrary::Open({FAKE_NVML_LIBRARY});
  ASSERT_TRUE(nvml.has_value()) << nvml.error().ToString();
  auto node = discovery::DiscoverNode(**nvml);
  ASSERT_TRUE(node.has_value());
  cluster::NodeSpec spec = discovery::ToNodeSpec(*node);
  ASSERT_EQ(spec.gpus.size(), 2U);
  const std::string host = spec.name;
  {
    Server s(dir.path() / "data", {spec}, 64, nvml->get());
    auto c = s.Client(s.admin_token);
    // In use: NVML's utilization summed, 37 % + 0 % = 370 milli-GPU, both GPUs reporting.
    json pool;
    for (int i = 0; i < 500; ++i) {
      pool = Body(c->Get("/api/v1/pool"));
      if (pool["gpus"]["reporting_utilization"] == 2) break;
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(pool["milli"]["in_use"], 370) << pool;
    EXPECT_EQ(pool["by_model"][0]["in_use_milli"], 370) << pool;
    // Both GPUs: the job holds GPU 1, which is then lost; a requeued job waits again.
    const std::int64_t id =
        Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 2}, {"requeue", false}})["id"];
    WaitState(*c, id, "running");
    std::ofstream(lost_flag) << "lost";
    const json j = WaitState(*c, id, "lost");
    EXPECT_NE(j["reason"].get<std::string>().find("GPU GPU-aaaa-1"), std::string::npos)
        << j["reason"];
    const json nodes = Body(c->Get("/api/v1/nodes"));
    EXPECT_EQ(nodes["nodes"][0]["gpus"][1]["healthy"], false);
    EXPECT_EQ(nodes["nodes"][0]["gpus"][1]["milli_used"], 0);  // the lost job was released
    EXPECT_EQ(Body(c->Get("/api/v1/pool"))["gpus"]["unusable"], 1);
    EXPECT_EQ(nodes["nodes"][0]["gpus"][0]["healthy"], true);
    // A new job of 2 GPUs cannot run now; one of 1 GPU runs on the healthy GPU.
    const std::int64_t one = Submit(*c, {{"command", {"true"}}, {"gpus", 1}})["id"];
    const json done = WaitState(*c, one, "succeeded");
    EXPECT_EQ(done["placement"][0]["gpus"][0]["uuid"], "GPU-aaaa-0");
  }
  unsetenv("FAKE_NVML_SCRIPT");
}

// GET /api/v1/nodes gives each GPU's NVML reading where NVML reads it (this host's node), null
// where nothing does (a described node), and which job holds which share.
TEST(ServiceTest, AGpuInMigModeShowsItsInstancesAndTakesNoJob) {
  TempDir dir;
  cluster::NodeSpec m = Node("m", 2, "A100-SXM-80GB");
  m.gpus[0].mig_enabled = true;
  m.gpus[0].mig_instances = {{"4g.40gb", 40960, "MIG-m-0-0"}, {"3g.40gb", 40960, ""}};
  Server s(dir.path() / "data", {m});
  auto c = s.Client(s.admin_token);
  // Two one-GPU jobs: the first takes GPU 1, the second waits (GPU 0 is in MIG mode).
  const std::int64_t first = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
  WaitState(*c, first, "running");
  const std::int64_t second = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
  // GPU 0 offers nothing to the scheduler: the pool has 0 GPUs free for it.
  const json waiting = WaitJob(
      *c, second, [](const json& x) { return x.value("reason", "").starts_with("not now"); });
  EXPECT_EQ(waiting["reason"], "not now: needs 1 GPU(s) free, the pool has 0 free");
  const json nodes = Body(c->Get("/api/v1/nodes"));
  ASSERT_EQ(nodes["nodes"].size(), 1u);
  const json& g0 = nodes["nodes"][0]["gpus"][0];
  const json& g1 = nodes["nodes"][0]["gpus"][1];
  EXPECT_EQ(g0["mig"],
            (json{{"instances",
                   {{{"profile", "4g.40gb"}, {"memory_mib", 40960}, {"uuid", "MIG-m-0-0"}},
                    {{"profile", "3g.40gb"}, {"memory_mib", 40960}, {"uuid", nullptr}}}}}));
  EXPECT_EQ(g0["no_work_reason"], "MIG mode: gpupool does not place jobs on MIG instances yet");
  EXPECT_EQ(g0["healthy"], true);
  EXPECT_EQ(g0["jobs"], json::array());
  EXPECT_TRUE(g1["mig"].is_null());
  EXPECT_TRUE(g1["no_work_reason"].is_null());
  EXPECT_EQ(g1["jobs"], json::array({first}));
  // The pool counts GPU 0 unusable.
  const json pool = Body(c->Get("/api/v1/pool"));
  EXPECT_EQ(pool["gpus"]["unusable"], 1);
  EXPECT_EQ(pool["gpus"]["allocated"], 1);
  c->Delete("/api/v1/jobs/" + std::to_string(first));
  c->Delete("/api/v1/jobs/" + std::to_string(second));
}

// The same through NVML discovery (the fake NVML): the MIG GPU's instances come from NVML, and the
// monitor's readings leave it out of work (healthy, but in MIG mode).
TEST(ServiceTest, ADiscoveredGpuInMigModeTakesNoJob) {
  TempDir dir;
  const auto script = dir.path() / "nvml.json";
  std::ofstream(script) << json{
      {"gpus",
       {{{"name", "NVIDIA A100-SXM4-80GB"},
         {"uuid", "GPU-mig-0"},
         {"bus_id", "00000000:18:00.0"},
         {"memory_total_mib", 81920},
         {"mig", true},
         {"mig_devices",
          {{{"name", "NVIDIA A100-SXM4-80GB MIG 4g.40gb"},
            {"uuid", "MIG-1"},
            {"memory_total_mib", 40192},
            {"gi", 1}},
           {{"name", "NVIDIA A100-SXM4-80GB MIG 3g.40gb"},
            {"uuid", "MIG-2"},
            {"memory_total_mib", 40192},
            {"gi", 2}}}}},
        {{"name", "NVIDIA A100-SXM4-80GB"},
         {"uuid", "GPU-mig-1"},
         {"bus_id", "00000000:2A:00.0"},
         {"memory_total_mib", 81920},
         {"mig", false}}}}}.dump();
  setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
  auto nvml = discovery::NvmlLibrary::Open({FAKE_NVML_LIBRARY});
  ASSERT_TRUE(nvml.has_value()) << nvml.error().ToString();
  auto node = discovery::DiscoverNode(**nvml);
  ASSERT_TRUE(node.has_value());
  {
    Server s(dir.path() / "data", {discovery::ToNodeSpec(*node)}, 64, nvml->get());
    auto c = s.Client(s.admin_token);
    const std::int64_t id = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}})["id"];
    const json running = WaitState(*c, id, "running");
    EXPECT_EQ(running["placement"][0]["gpus"][0]["uuid"], "GPU-mig-1");
    json nodes;
    for (int i = 0; i < 500; ++i) {  // until the monitor's first reading
      nodes = Body(c->Get("/api/v1/nodes"));
      if (!nodes["nodes"][0]["gpus"][0]["nvml"].is_null()) break;
      std::this_thread::sleep_for(10ms);
    }
    const json& g0 = nodes["nodes"][0]["gpus"][0];
    ASSERT_FALSE(g0["nvml"].is_null());
    EXPECT_EQ(g0["mig"],
              (json{{"instances",
                     {{{"profile", "4g.40gb"}, {"memory_mib", 40192}, {"uuid", "MIG-1"}},
                      {{"profile", "3g.40gb"}, {"memory_mib", 40192}, {"uuid", "MIG-2"}}}}}));
    EXPECT_EQ(g0["healthy"], true);
    EXPECT_EQ(g0["no_work_reason"], "MIG mode: gpupool does not place jobs on MIG instances yet");
    EXPECT_EQ(g0["jobs"], json::array());
    EXPECT_TRUE(nodes["nodes"][0]["gpus"][1]["mig"].is_null());
    c->Delete("/api/v1/jobs/" + std::to_string(id));
    WaitState(*c, id, "cancelled");
  }
  unsetenv("FAKE_NVML_SCRIPT");
}

TEST(ServiceTest, NodesShowNvmlReadingsWhereNvmlReadsThemAndEveryShare) {
  TempDir dir;
  const auto script = dir.path() / "nvml.json";
  // GPU 0: 37 % busy, 61 C, 212.5 W of 700 W, 30000 MiB used; GPU 1 has no power reading.
  std::ofstream(script) << json{{"gpus",
                                 {{{"name", "NVIDIA H100 80GB HBM3"},
                                   {"uuid", "GPU-bbbb-0"},
                                   {"bus_id", "00000000:18:00.0"},
                                   {"memory_total_mib", 81559},
                                   {"memory_used_mib", 30000},
                                   {"util", {37, 20}},
                                   {"temp", 61},
                                   {"power_mw", 212500},
                                   {"power_limit_mw", 700000}},
                                  {{"name", "NVIDIA H100 80GB HBM3"},
                                   {"uuid", "GPU-bbbb-1"},
                                   {"bus_id", "00000000:2A:00.0"},
                                   {"memory_total_mib", 81559},
                                   {"unsupported", {"nvmlDeviceGetPowerUsage"}}}}}}
                               .dump();
  setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
  auto nvml = discovery::NvmlLibrary::Open({FAKE_NVML_LIBRARY});
  ASSERT_TRUE(nvml.has_value()) << nvml.error().ToString();
  auto node = discovery::DiscoverNode(**nvml);
  ASSERT_TRUE(node.has_value());
  {
    Server s(dir.path() / "data", {discovery::ToNodeSpec(*node), Node("sim", 1)}, 64, nvml->get());
    auto c = s.Client(s.admin_token);
    const std::int64_t id =
        Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 0.25}, {"gpu_memory_mib", 1024}})["id"];
    WaitState(*c, id, "running");
    json nodes;
    for (int i = 0; i < 500; ++i) {  // until the monitor's first reading
      nodes = Body(c->Get("/api/v1/nodes"));
      if (!nodes["nodes"][0]["gpus"][0]["nvml"].is_null()) break;
      std::this_thread::sleep_for(10ms);
    }
    const json& g0 = nodes["nodes"][0]["gpus"][0];
    EXPECT_EQ(g0["nvml"]["utilization_pct"], 37);
    EXPECT_EQ(g0["nvml"]["temperature_c"], 61);
    EXPECT_EQ(g0["nvml"]["power_w"], 212.5);  // 212500 mW
    EXPECT_EQ(g0["nvml"]["power_limit_w"], 700.0);
    EXPECT_EQ(g0["nvml"]["memory_used_mib"], 30000);
    EXPECT_TRUE(g0["nvml"]["error"].is_null());
    const json& g1 = nodes["nodes"][0]["gpus"][1];
    EXPECT_TRUE(g1["nvml"]["power_w"].is_null()) << g1;  // unsupported: unknown, not 0
    EXPECT_EQ(g1["nvml"]["temperature_c"], 30);          // the fake's default
    // The described node: no reading at all.
    EXPECT_EQ(nodes["nodes"][1]["name"], "sim");
    EXPECT_TRUE(nodes["nodes"][1]["gpus"][0]["nvml"].is_null());
    // The quarter GPU: on the first GPU of the first node that fits, with its memory.
    json held;
    for (const auto& n : nodes["nodes"]) {
      for (const auto& g : n["gpus"]) {
        if (!g["shares"].empty()) held = g;
      }
    }
    ASSERT_FALSE(held.is_null());
    EXPECT_EQ(held["shares"], json::array({{{"job", id}, {"milli", 250}, {"memory_mib", 1024}}}));
    EXPECT_EQ(held["jobs"], json::array({id}));
    EXPECT_EQ(held["memory_used_mib"], 1024);
    c->Delete("/api/v1/jobs/" + std::to_string(id));
    WaitState(*c, id, "cancelled");
  }
  unsetenv("FAKE_NVML_SCRIPT");
}
#endif

// ---- preemption

// Preemption on, the priority order, victims that lose least first.
std::function<void(ServiceOptions&)> Preempting(std::chrono::milliseconds grace) {
  return [grace](ServiceOptions& opt) {
    opt.scheduler.preemption = true;
    opt.scheduler.order = "priority";
    opt.scheduler.victim_choice = scheduler::VictimChoice::kLeastLostWork;
    opt.preempt_grace = grace;
  };
}

// A fixed test program: says when it starts and when it gets SIGTERM, then takes a second to
// "checkpoint" and exits 0; without SIGTERM it runs until cancelled.
const json kTermAware = {"sh", "-c",
                         "trap 'echo term; sleep 1; exit 0' TERM; echo start; "
                         "while :; do sleep 0.1; done"};

std::vector<std::string> EventReasons(httplib::Client& c, std::int64_t id) {
  std::vector<std::string> out;
  const json events = Body(c.Get("/api/v1/jobs/" + std::to_string(id) + "/events"));
  for (const auto& e : events["events"]) {
    out.push_back(e["state"].get<std::string>() + ": " + e["reason"].get<std::string>());
  }
  return out;
}

// The job's events once it has at least `n` (the scheduling thread commits a change just after
// the job object shows it), or 15 s pass.
std::vector<std::string> WaitEvents(httplib::Client& c, std::int64_t id, std::size_t n) {
  std::vector<std::string> events;
  for (int i = 0; i < 1500 && events.size() < n; ++i) {
    if (i > 0) std::this_thread::sleep_for(10ms);
    events = EventReasons(c, id);
  }
  return events;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A low-priority job holds both GPUs; a high-priority job needs them. The low one gets SIGTERM
// (its trap runs), keeps its GPUs while it stops (the high one waits meanwhile, nothing booked
// twice), is requeued with restarts 1, and runs again once the high one has finished.
TEST(ServiceTest, AHigherPriorityJobPreemptsALowerOneWhichIsRequeuedAndRunsAgain) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 2)}, 64, nullptr, {}, Preempting(5s));
  auto c = s.Client(s.admin_token);
  const std::int64_t low =
      Submit(*c, {{"command", kTermAware}, {"gpus", 2}, {"preemptible", true}})["id"];
  WaitJob(*c, low, [](const json& j) { return j["state"] == "running"; });
  // Its first line is written: the trap is set.
  WaitJob(*c, low, [&](const json&) {
    return Body(c->Get("/api/v1/jobs/" + std::to_string(low) + "/logs"))["data"] == "start\n";
  });
  const std::int64_t high =
      Submit(*c, {{"command", {"sleep", "1"}}, {"gpus", 2}, {"priority", 5}})["id"];
  const json stopping = WaitJob(*c, low, [](const json& j) {
    return Contains(j.value("reason", ""), "stopping: preempted by job");
  });
  EXPECT_EQ(stopping["reason"],
            "stopping: preempted by job " + std::to_string(high) + " (priority order)");
  // While it stops (its trap sleeps 1 s), the high job waits and the GPUs stay the low job's.
  const json waiting = Body(c->Get("/api/v1/jobs/" + std::to_string(high)));
  EXPECT_EQ(waiting["state"], "pending");
  EXPECT_EQ(waiting["reason"],
            "not now: waiting for preempted job(s) " + std::to_string(low) + " to stop");
  EXPECT_EQ(waiting["pending"]["reasons"][0]["code"], "waiting_for_victims");
  EXPECT_EQ(waiting["pending"]["reasons"][0]["victims"], json::array({low}));
  const json nodes = Body(c->Get("/api/v1/nodes"));
  EXPECT_EQ(nodes["nodes"][0]["jobs"], json::array({low}));

  const json requeued = WaitJob(*c, low, [](const json& j) { return j["restarts"] == 1; });
  EXPECT_EQ(requeued["state"], "pending");
  EXPECT_EQ(WaitState(*c, high, "succeeded")["exit_code"], 0);
  const json again = WaitState(*c, low, "running");
  EXPECT_EQ(again["restarts"], 1);
  EXPECT_GT(again["attained_gpu_s"].get<double>(), 0.0);
  const auto events = WaitEvents(*c, low, 5);
  ASSERT_GE(events.size(), 5U) << ::testing::PrintToString(events);
  EXPECT_EQ(events[0], "pending: submitted by admin");
  EXPECT_TRUE(Contains(events[2], "running: preempted by job " + std::to_string(high) +
                                      " (priority order): SIGTERM, SIGKILL after 5 s"))
      << events[2];
  EXPECT_TRUE(Contains(events[3], "pending: requeued: preempted by job")) << events[3];
  EXPECT_TRUE(Contains(events[3], "exited with code 0")) << events[3];
  EXPECT_TRUE(Contains(events[4], "running: placed on a")) << events[4];
  WaitJob(*c, low, [&](const json&) {
    return Body(c->Get("/api/v1/jobs/" + std::to_string(low) + "/logs"))["data"] ==
           "start\nterm\nstart\n";
  });
  ASSERT_EQ(c->Delete("/api/v1/jobs/" + std::to_string(low))->status, 200);
  EXPECT_EQ(WaitState(*c, low, "cancelled")["restarts"], 1);
  // A job of the same priority, or a job that is not preemptible, is never stopped.
  const std::int64_t fixed = Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 2}})["id"];
  WaitState(*c, fixed, "running");
  const std::int64_t urgent =
      Submit(*c, {{"command", {"true"}}, {"gpus", 2}, {"priority", 9}})["id"];
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(fixed)))["reason"], "placed on a");
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(urgent)))["state"], "pending");
  c->Delete("/api/v1/jobs/" + std::to_string(fixed));
  WaitState(*c, urgent, "succeeded");
}

// Queues a and b, 1 GPU guaranteed each, on 2 GPUs. b borrows a's idle GPU with two jobs; a's
// job reclaims it: one of b's jobs (the later, least lost work ties by rank) is preempted and
// requeued, a's job runs, and b's job runs again once a's has finished.
TEST(ServiceTest, AQueueReclaimsItsGuaranteeFromTheQueueThatBorrowsIt) {
  TempDir dir;
  const std::vector<queue::QueueSpec> queues = {{"a", "", 1, 2, 1}, {"b", "", 1, 2, 1}};
  Server s(dir.path(), {Node("n", 2)}, 64, nullptr, queues, Preempting(5s));
  auto c = s.Client(s.admin_token);
  const json b_job = {
      {"command", {"sleep", "30"}}, {"gpus", 1}, {"queue", "b"}, {"preemptible", true}};
  const std::int64_t b1 = Submit(*c, b_job)["id"];
  WaitState(*c, b1, "running");
  const std::int64_t b2 = Submit(*c, b_job)["id"];
  WaitState(*c, b2, "running");
  const std::int64_t a1 =
      Submit(*c, {{"command", {"sleep", "1"}}, {"gpus", 1}, {"queue", "a"}})["id"];
  // b2 started last: the least lost work.
  const json requeued = WaitJob(*c, b2, [](const json& j) { return j["restarts"] == 1; });
  EXPECT_EQ(requeued["state"], "pending");
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(b1)))["state"], "running");
  WaitState(*c, a1, "running");
  const auto events = WaitEvents(*c, b2, 4);
  ASSERT_GE(events.size(), 4U);
  EXPECT_TRUE(Contains(
      events[2], "preempted by job " + std::to_string(a1) + " (queue 'a' reclaims its guarantee)"))
      << events[2];
  WaitState(*c, a1, "succeeded");
  EXPECT_EQ(WaitState(*c, b2, "running")["restarts"], 1);
}

// The service stops while a victim ignores SIGTERM: the preemption was committed, so the next
// start stops it again (SIGKILL after the grace), requeues it once (restarts 1), gives its GPUs to
// the preemptor only then, and runs it again afterwards.
TEST(ServiceTest, ARestartInTheMiddleOfAPreemptionFinishesIt) {
  TempDir dir;
  const json stubborn = {"sh", "-c",
                         "trap 'echo term' TERM; echo start; while :; do sleep 0.1; done"};
  std::int64_t low = 0, high = 0;
  {
    Server s(dir.path(), {Node("a", 1)}, 64, nullptr, {}, Preempting(60s));
    auto c = s.Client(s.admin_token);
    low = Submit(*c, {{"command", stubborn}, {"gpus", 1}, {"preemptible", true}})["id"];
    WaitState(*c, low, "running");
    WaitJob(*c, low, [&](const json&) {
      return Body(c->Get("/api/v1/jobs/" + std::to_string(low) + "/logs"))["data"] == "start\n";
    });
    high = Submit(*c, {{"command", {"sleep", "1"}}, {"gpus", 1}, {"priority", 5}})["id"];
    WaitJob(*c, low, [](const json& j) {
      return Contains(j.value("reason", ""), "stopping: preempted by job");
    });
  }  // the service stops with the victim still running (its SIGKILL was 60 s away)
  Server s(dir.path(), {Node("a", 1)}, 64, nullptr, {}, Preempting(500ms));
  auto c = s.Client(s.admin_token);
  const json j = Body(c->Get("/api/v1/jobs/" + std::to_string(low)));
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["reason"],
            "stopping: preempted by job " + std::to_string(high) + " (priority order)");
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(high)))["state"], "pending");
  const json requeued = WaitJob(*c, low, [](const json& x) { return x["restarts"] == 1; });
  EXPECT_EQ(requeued["state"], "pending");
  // One preemption, requeued once, by SIGKILL after the new grace.
  const auto events = WaitEvents(*c, low, 4);
  ASSERT_EQ(events.size(), 4U) << ::testing::PrintToString(events);
  EXPECT_TRUE(Contains(events[2], "running: preempted by job")) << events[2];
  EXPECT_TRUE(Contains(events[3], "pending: requeued: preempted by job")) << events[3];
  EXPECT_TRUE(Contains(events[3], "SIGKILL")) << events[3];
  EXPECT_EQ(WaitState(*c, high, "succeeded")["exit_code"], 0);
  EXPECT_EQ(WaitState(*c, low, "running")["restarts"], 1);
  c->Delete("/api/v1/jobs/" + std::to_string(low));
  EXPECT_EQ(WaitState(*c, low, "cancelled")["restarts"], 1);
}

// A minimum run time of 3 s: a high-priority job arriving just after a low one started waits
// without stopping it; once the low one has run 3 s, the next full cycle (preempt_recheck, with
// nothing else happening) preempts it.
TEST(ServiceTest, AJobIsPreemptedOnlyAfterItsMinimumRunTime) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 1)}, 64, nullptr, {}, [](ServiceOptions& opt) {
    Preempting(5s)(opt);
    opt.scheduler.min_run_s = 3;
    opt.preempt_recheck = 100ms;
  });
  auto c = s.Client(s.admin_token);
  const std::int64_t low =
      Submit(*c, {{"command", kTermAware}, {"gpus", 1}, {"preemptible", true}})["id"];
  WaitState(*c, low, "running");
  const std::int64_t high = Submit(*c, {{"command", {"true"}}, {"gpus", 1}, {"priority", 5}})["id"];
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(low)))["reason"], "placed on a");
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(high)))["state"], "pending");
  WaitJob(*c, low, [](const json& j) { return j["restarts"] == 1; });
  EXPECT_EQ(WaitState(*c, high, "succeeded")["exit_code"], 0);
  EXPECT_EQ(WaitState(*c, low, "running")["restarts"], 1);
  c->Delete("/api/v1/jobs/" + std::to_string(low));
  WaitState(*c, low, "cancelled");
}

// Cancelling a job while it is being preempted: it ends cancelled (not requeued), by the cancel's
// grace (300 ms here) rather than the preemption's (60 s), and the preemptor then runs.
TEST(ServiceTest, AJobCancelledWhileBeingPreemptedEndsCancelled) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 1)}, 64, nullptr, {}, Preempting(60s));
  auto c = s.Client(s.admin_token);
  const json stubborn = {"sh", "-c",
                         "trap 'echo term' TERM; echo start; while :; do sleep 0.1; done"};
  const std::int64_t low =
      Submit(*c, {{"command", stubborn}, {"gpus", 1}, {"preemptible", true}})["id"];
  WaitState(*c, low, "running");
  WaitJob(*c, low, [&](const json&) {
    return Body(c->Get("/api/v1/jobs/" + std::to_string(low) + "/logs"))["data"] == "start\n";
  });
  const std::int64_t high = Submit(*c, {{"command", {"true"}}, {"gpus", 1}, {"priority", 5}})["id"];
  WaitJob(*c, low, [](const json& j) {
    return Contains(j.value("reason", ""), "stopping: preempted by job");
  });
  ASSERT_EQ(c->Delete("/api/v1/jobs/" + std::to_string(low))->status, 200);
  const json cancelled = WaitState(*c, low, "cancelled");
  EXPECT_EQ(cancelled["restarts"], 0);
  EXPECT_TRUE(Contains(cancelled["reason"], "cancelled by admin")) << cancelled["reason"];
  EXPECT_EQ(WaitState(*c, high, "succeeded")["exit_code"], 0);
}

// A checkpoint: the owner of a running job reports it (POST .../checkpoint), the job object shows
// it, and a job that is not running is a conflict.
TEST(ServiceTest, ARunningJobReportsACheckpoint) {
  TempDir dir;
  Server s(dir.path(), {Node("a", 1)}, 64, nullptr, {}, Preempting(1s));
  auto c = s.Client(s.admin_token);
  const std::int64_t id =
      Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 1}, {"preemptible", true}})["id"];
  WaitState(*c, id, "running");
  EXPECT_TRUE(Body(c->Get("/api/v1/jobs/" + std::to_string(id)))["checkpoint_at"].is_null());
  auto r = c->Post("/api/v1/jobs/" + std::to_string(id) + "/checkpoint", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(json::parse(r->body)["checkpoint_at"].is_string()) << r->body;
  const std::int64_t waiting = Submit(*c, {{"command", {"true"}}, {"gpus", 1}})["id"];
  auto conflict =
      c->Post("/api/v1/jobs/" + std::to_string(waiting) + "/checkpoint", "", "application/json");
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->status, 409) << conflict->body;
  c->Delete("/api/v1/jobs/" + std::to_string(id));
  WaitState(*c, waiting, "succeeded");
}

TEST(ServiceTest, AJobEndingAsItsTimeLimitComesIsNotStopped) {
  // On a fake clock, with a scripted executor in lockstep: the job (limit 10 s) starts at t 0 and
  // exits 0 at t 10, so the pass that sees its exit also reaches its limit. It succeeds, and no
  // Stop goes to a job that has already ended (it went before, answered NotFound).
  TempDir dir;
  std::atomic<std::int64_t> now_ms{1'796'083'200'000};
  const auto clock = [&now_ms] { return now_ms.load(); };
  auto executor = std::make_unique<gpupool::testing::ScriptedExecutor>(clock, true);
  auto& x = *executor;
  ServiceOptions opt = BasicOptions(dir.path(), {Node("a", 1)});
  opt.tick = 1ms;
  opt.now_ms = clock;
  std::string token;
  auto service = PoolService::Start(opt, std::move(executor), &token);
  ASSERT_TRUE(service.has_value()) << service.error().ToString();
  const gpupool::testing::RunFreelyAtExit release(x);
  const auto admin = (*service)->Authenticate("Bearer " + token);
  ASSERT_TRUE(admin.has_value());
  ASSERT_TRUE((*service)
                  ->Submit(*admin, {{"command", {"true"}}, {"gpus", 1}, {"time_limit_s", 10}})
                  .has_value());
  EXPECT_TRUE(x.Step());
  ASSERT_EQ(x.launched().size(), 1U);
  now_ms += 10'000;
  EXPECT_TRUE(x.Finish(1, 0));
  EXPECT_TRUE(x.Step());
  x.RunFreely();
  EXPECT_EQ(x.stopped(), std::vector<std::int64_t>{});
  const auto job = (*service)->GetJob(*admin, 1);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ((*job)["state"], "succeeded") << (*job)["reason"];
}

// ---- The history of finished jobs: `gittins` and `qssf` in the service

// A service on a fake clock with a scripted executor in lockstep (each Step is one pass of the
// scheduling thread: exits, one cycle, the launches), one node of one GPU, bestfit, users ann,
// bob and cat besides the admin. Start again (a restart) with the same data directory.
class HistoryPool {
 public:
  HistoryPool(const std::filesystem::path& dir, std::string order) : dir_(dir) {
    order_ = std::move(order);
  }
  ~HistoryPool() { Stop(); }
  void Start() {
    auto executor = std::make_unique<gpupool::testing::ScriptedExecutor>(clock_, true);
    x_ = executor.get();
    ServiceOptions opt = BasicOptions(dir_, {Node("a", 1)});
    opt.scheduler.order = order_;
    opt.scheduler.policy = "bestfit";
    opt.tick = 1ms;
    opt.now_ms = clock_;
    auto s = PoolService::Start(opt, std::move(executor));
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    service_ = std::move(*s);
    std::string token;
    std::ifstream(dir_ / "admin.token") >> token;
    auto admin = service_->Authenticate("Bearer " + token);
    ASSERT_TRUE(admin.has_value());
    users_["admin"] = *admin;
    for (const std::string user : {"ann", "bob", "cat"}) {
      if (!tokens_.contains(user)) {
        auto t = service_->CreateToken(*admin, {{"user", user}, {"queues", {"default"}}});
        ASSERT_TRUE(t.has_value());
        tokens_[user] = (*t)["token"];
      }
      auto p = service_->Authenticate("Bearer " + tokens_[user]);
      ASSERT_TRUE(p.has_value());
      users_[user] = *p;
    }
  }
  // Lets the scheduling thread go and stops the service (a restart follows with Start).
  void Stop() {
    if (service_ == nullptr) return;
    x_->RunFreely();
    service_.reset();
  }
  // Submits a job of one GPU as `user`; its id.
  std::int64_t Submit(const std::string& user) {
    auto job = service_->Submit(users_.at(user), {{"command", {"true"}}, {"gpus", 1}});
    EXPECT_TRUE(job.has_value()) << (job ? "" : job.error().message);
    return job ? (*job)["id"].get<std::int64_t>() : 0;
  }
  // One pass; the jobs it launched.
  std::vector<std::int64_t> Step() {
    const std::size_t before = x_->launched().size();
    EXPECT_TRUE(x_->Step());
    std::vector<std::int64_t> out;
    const auto launched = x_->launched();
    for (std::size_t k = before; k < launched.size(); ++k) out.push_back(launched[k].job_id);
    return out;
  }
  // `s` seconds later the running job `id` ends (exit 0); one pass sees it. The jobs it launched.
  std::vector<std::int64_t> EndAfter(std::int64_t id, std::int64_t s) {
    now_ms_ += s * 1000;
    EXPECT_TRUE(x_->Finish(id, 0)) << "job " << id;
    return Step();
  }
  // Runs a job of `user` alone for `s` seconds, from its submission to its end.
  void RunAlone(const std::string& user, std::int64_t s) {
    const std::int64_t id = Submit(user);
    EXPECT_EQ(Step(), std::vector<std::int64_t>{id});
    EXPECT_EQ(EndAfter(id, s), std::vector<std::int64_t>{});
  }
  // The history the tests below rank by: ann's three jobs of 60 s (1-3), then bob's three of
  // 3600 s (4-6), each alone (three is the estimator's minimum for a user's class); then cat's
  // job 7 takes the GPU.
  void RunClassHistoryThenHoldTheGpu() {
    for (int k = 0; k < 3; ++k) RunAlone("ann", 60);
    for (int k = 0; k < 3; ++k) RunAlone("bob", 3600);
    EXPECT_EQ(Submit("cat"), 7);
    EXPECT_EQ(Step(), std::vector<std::int64_t>{7});
  }
  std::string State(std::int64_t id) {
    auto job = service_->GetJob(users_.at("admin"), id);
    return job ? (*job)["state"].get<std::string>() : job.error().message;
  }

 private:
  std::filesystem::path dir_;
  std::string order_;
  std::atomic<std::int64_t> now_ms_{1'796'083'200'000};
  std::function<std::int64_t()> clock_ = [this] { return now_ms_.load(); };
  gpupool::testing::ScriptedExecutor* x_ = nullptr;
  std::unique_ptr<PoolService> service_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, Principal> users_;
};

TEST(ServiceTest, GittinsStartsAJobOfAShortClassBeforeAnEarlierOneOfALongClass) {
  // ann's jobs ran 60 s each, bob's 3600 s (three each: the estimator's minimum for a user's
  // class). On one GPU: G(0) = max over d of P(S <= d) / E[min(S, d)]: ann {60, 60, 60} GPU-s ->
  // 1 / 60; bob {3600 x 3} -> 1 / 3600. cat's job 7 holds the GPU while bob submits 8, then ann
  // 9; when 7 ends, 9 starts first (fifo would start 8), then 8 when 9 ends.
  TempDir dir;
  HistoryPool pool(dir.path(), "gittins");
  pool.Start();
  pool.RunClassHistoryThenHoldTheGpu();
  EXPECT_EQ(pool.Submit("bob"), 8);
  EXPECT_EQ(pool.Step(), std::vector<std::int64_t>{});
  EXPECT_EQ(pool.Submit("ann"), 9);
  EXPECT_EQ(pool.Step(), std::vector<std::int64_t>{});
  EXPECT_EQ(pool.EndAfter(7, 100), std::vector<std::int64_t>{9});
  EXPECT_EQ(pool.EndAfter(9, 60), std::vector<std::int64_t>{8});
  EXPECT_EQ(pool.EndAfter(8, 3600), std::vector<std::int64_t>{});
  EXPECT_EQ(pool.State(8), "succeeded");
}

TEST(ServiceTest, TheHistoryOfFinishedJobsSurvivesARestart) {
  // As above, with the service stopped while 8 (bob) and 9 (ann) wait behind 7: the next start
  // reads the six ends back from the store and gives 8 and 9 what they had at their submission
  // (their horizon: six ends). 7's process is not adopted by the scripted executor: it is lost at
  // the restart (and not counted: how long it ran is not known), the GPU is free, and 9 starts
  // first. Without the history both would rank as new jobs, first come first served: 8 first.
  TempDir dir;
  HistoryPool pool(dir.path(), "gittins");
  pool.Start();
  pool.RunClassHistoryThenHoldTheGpu();
  EXPECT_EQ(pool.Submit("bob"), 8);
  EXPECT_EQ(pool.Submit("ann"), 9);
  EXPECT_EQ(pool.Step(), std::vector<std::int64_t>{});
  pool.Stop();
  pool.Start();
  EXPECT_EQ(pool.State(7), "lost");
  EXPECT_EQ(pool.Step(), std::vector<std::int64_t>{9});
  EXPECT_EQ(pool.EndAfter(9, 60), std::vector<std::int64_t>{8});
  // A job submitted after the restart is ranked from the history read back too: bob's 10 waits
  // behind ann's 11 submitted after it.
  EXPECT_EQ(pool.Submit("bob"), 10);
  EXPECT_EQ(pool.Submit("ann"), 11);
  EXPECT_EQ(pool.EndAfter(8, 3600), std::vector<std::int64_t>{11});
  EXPECT_EQ(pool.EndAfter(11, 60), std::vector<std::int64_t>{10});
}

TEST(ServiceTest, QssfRanksByTheLearnedMeanRunTimeOfTheJobsClass) {
  // qssf: the smallest estimate x GPUs first; ann's class mean 60 s, bob's 3600 s (one GPU each).
  // Without estimates it would fall back to fewer GPUs, then submission: 8 (bob) first.
  TempDir dir;
  HistoryPool pool(dir.path(), "qssf");
  pool.Start();
  pool.RunClassHistoryThenHoldTheGpu();
  EXPECT_EQ(pool.Submit("bob"), 8);
  EXPECT_EQ(pool.Submit("ann"), 9);
  EXPECT_EQ(pool.Step(), std::vector<std::int64_t>{});
  EXPECT_EQ(pool.EndAfter(7, 100), std::vector<std::int64_t>{9});
  EXPECT_EQ(pool.EndAfter(9, 60), std::vector<std::int64_t>{8});
}

// --preempt with an order that never preempts needs queues: from the start options, or those
// stored in the database (set through the API at an earlier run).
TEST(ServiceTest, PreemptWithAnOrderThatNeverPreemptsNeedsQueuesGivenOrStored) {
  TempDir dir;
  const auto start = [&](std::vector<queue::QueueSpec> queues) {
    ServiceOptions opt = BasicOptions(dir.path(), {Node("a", 1)});
    opt.scheduler.order = "fifo";
    opt.scheduler.preemption = true;
    opt.scheduler.queues = std::move(queues);
    return PoolService::Start(opt, std::make_unique<executor::LocalExecutor>());
  };
  {
    auto refused = start({});
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(refused.error().message().find("'fifo' never preempts"), std::string::npos)
        << refused.error().message();
    EXPECT_NE(refused.error().message().find((dir.path() / "gpupool.db").string()),
              std::string::npos)
        << refused.error().message();
    // Refused before anything is given out: no admin token yet.
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "admin.token"));
  }
  {
    queue::QueueSpec q;
    q.name = "default";
    q.guaranteed_gpus = 1;
    auto with_file = start({q});
    ASSERT_TRUE(with_file.has_value()) << with_file.error().ToString();
  }
  // The queues are stored: a start without them has them, and preemption reclaims for them.
  auto stored = start({});
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  EXPECT_EQ((*stored)->Queues()["queues"].size(), 1U) << (*stored)->Queues().dump();
}

}  // namespace
}  // namespace gpupool::server

// ---- the dashboard's planner (POST /api/v1/plan) and experiments (GET /api/v1/experiments)
namespace gpupool::server {
namespace {

std::map<std::string, std::string> Verdicts(const json& plan) {
  std::map<std::string, std::string> out;
  for (const auto& n : plan["nodes"]) out[n["name"]] = n["verdict"];
  return out;
}

json PostPlan(httplib::Client& c, const json& body, int expect = 200) {
  auto r = c.Post("/api/v1/plan", body.dump(), "application/json");
  EXPECT_TRUE(r);
  if (!r) return json();
  EXPECT_EQ(r->status, expect) << r->body;
  return json::parse(r->body, nullptr, false);
}

// Llama-3-405B in bf16, batch 1 x context 4096, on H100 (80 GB; the planner's budget is
// 0.9 x 80 = 72 GiB per GPU). By hand from its published 405,853,388,800 parameters
// (docs/planner.md) at 2 bytes each:
//   tp 8:  405.85e9 x 2 / 8 = 101.5e9 B = 94.5 GiB of weights alone > 72: does not fit;
//   tp 16: 47.2 GiB of weights; KV 126 layers x (K, V) x 1 KV head per GPU x 128 x 2 B = 64,512
//          B/token x 4096 = 0.25 GiB; the runtime overhead is a few GiB: about 50 < 72: fits.
// So 16 GPUs, which on 8-GPU nodes is a gang of 2 replicas x 8.
// The pool: a and b with 8 H100 each, c with 4. Job 1 (8 GPUs, preemptible, priority 0) holds
// one of a, b. For the plan at priority 5: that node "after_preemption" (priority order,
// preemption on), the other "now", c "never" (4 < 8 GPUs). At priority 0 job 1 is not below it:
// that node is "later".
TEST(ServiceTest, PlanGivesTheFewestGpusAndWhereTheSchedulerCouldPlaceThem) {
  TempDir dir;
  Server srv(dir.path(), {Node("a", 8), Node("b", 8), Node("c", 4)}, 64, nullptr, {},
             [](ServiceOptions& opt) {
               opt.scheduler.preemption = true;
               opt.scheduler.order = "priority";
             });
  auto c = srv.Client(srv.admin_token);
  const std::int64_t id =
      Submit(*c, {{"command", {"sleep", "30"}}, {"gpus", 8}, {"preemptible", true}})["id"];
  const json job = WaitState(*c, id, "running");
  const std::string held = job["placement"][0]["node"];
  const std::string other = held == "a" ? "b" : "a";

  json plan = PostPlan(*c, {{"model", "llama-3-405b"},
                            {"gpu", "H100"},
                            {"precision", "bf16"},
                            {"context", 4096},
                            {"priority", 5}});
  EXPECT_EQ(plan["gpus"], 16);
  EXPECT_EQ(plan["submit"]["gpus"], 8);
  EXPECT_EQ(plan["submit"]["replicas"], 2);
  EXPECT_EQ(plan["submit"]["gpu_models"], json::array({"H100-SXM"}));
  EXPECT_EQ(plan["submit"]["priority"], 5);
  EXPECT_EQ(plan["plan"]["tp"], 16);
  EXPECT_EQ(plan["feasible"], true);
  // The browser's plan takes the efficiencies `gpupool plan infer` takes: the kernel table's row
  // for the GPU's architecture (Hopper's 16-bit GEMM figure here), read from the same file.
  auto table = planner::LoadKernelEfficiency((DataDir() / planner::kKernelEfficiencyFile).string());
  ASSERT_TRUE(table.has_value()) << table.error().ToString();
  auto catalog = hw::Catalog::Default();
  ASSERT_TRUE(catalog.has_value());
  auto h100 = (*catalog)->FindGpu("H100");
  ASSERT_TRUE(h100.has_value());
  EXPECT_DOUBLE_EQ(plan["plan"]["step_costs"]["gemm_efficiency"].get<double>(),
                   planner::KernelEfficiencyFor(*table, **h100).gemm_16bit.value);
  EXPECT_EQ(Verdicts(plan), (std::map<std::string, std::string>{
                                {held, "after_preemption"}, {other, "now"}, {"c", "never"}}));

  plan = PostPlan(*c, {{"model", "llama-3-405b"}, {"precision", "bf16"}, {"priority", 0}});
  EXPECT_EQ(Verdicts(plan),
            (std::map<std::string, std::string>{{held, "later"}, {other, "now"}, {"c", "never"}}));

  // A GPU model the pool lacks: never, with the submission's own message.
  plan = PostPlan(*c, {{"model", "llama-3-8b"}, {"gpu", "A100-80GB"}});
  EXPECT_EQ(plan["gpus"], 1);
  EXPECT_EQ(plan["feasible"], false);
  EXPECT_TRUE(Contains(plan["never"].get<std::string>(), "A100")) << plan["never"];
  EXPECT_EQ(Verdicts(plan),
            (std::map<std::string, std::string>{{"a", "never"}, {"b", "never"}, {"c", "never"}}));
}

// Who preempted whom, both ways: the victim names its preemptor, the preemptor its victim, and
// the queues' answer lists the preemption; the links outlive a restart (they are stored).
TEST(ServiceTest, APreemptionIsLinkedBothWaysAndListedWithTheQueues) {
  TempDir dir;
  std::int64_t low = 0, high = 0;
  {
    Server s(dir.path(), {Node("a", 2)}, 64, nullptr, {}, Preempting(5s));
    auto c = s.Client(s.admin_token);
    low = Submit(*c, {{"command", kTermAware}, {"gpus", 2}, {"preemptible", true}})["id"];
    WaitJob(*c, low, [](const json& j) { return j["state"] == "running"; });
    high = Submit(*c, {{"command", {"sleep", "0.2"}}, {"gpus", 2}, {"priority", 5}})["id"];
    WaitState(*c, high, "succeeded");
    const json queues = Body(c->Get("/api/v1/queues"));
    ASSERT_EQ(queues["preemptions"].size(), 1u) << queues.dump();
    EXPECT_EQ(queues["preemptions"][0]["victim"], low);
    EXPECT_EQ(queues["preemptions"][0]["by"], high);
    EXPECT_EQ(queues["preemptions"][0]["victim_queue"], "default");
    EXPECT_EQ(queues["preemptions"][0]["reason"],
              "preempted by job " + std::to_string(high) + " (priority order)");
  }
  Server s(dir.path(), {Node("a", 2)}, 64, nullptr, {}, Preempting(5s));
  auto c = s.Client(s.admin_token);
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(low)))["preempted_by_jobs"],
            json::array({high}));
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(high)))["victims"], json::array({low}));
  EXPECT_EQ(Body(c->Get("/api/v1/jobs/" + std::to_string(high)))["preempted_by_jobs"],
            json::array());
}

TEST(ServiceTest, BadPlanInputIsNamedByMember) {
  TempDir dir;
  Server srv(dir.path(), {Node("a", 8)});
  auto c = srv.Client(srv.admin_token);
  const struct {
    json body;
    std::string member;
  } cases[] = {
      {{{"gpu", "H100"}}, "model"},
      {{{"model", "no-such-model"}}, "model"},
      {{{"model", "llama-3-8b"}, {"gpu", "Z9000"}}, "gpu"},
      {{{"model", "llama-3-8b"}, {"precision", "fp7"}}, "precision"},
      {{{"model", "llama-3-8b"}, {"context", 0}}, "context"},
      {{{"model", "llama-3-8b"}, {"batch", "two"}}, "batch"},
      {{{"model", "llama-3-8b"}, {"tp", 2}}, "tp"},
      {{{"config", {{"model_type", "llama"}}}}, "config"},
      {{{"model", "/etc"}}, "model"},
  };
  for (const auto& k : cases) {
    const json e = PostPlan(*c, k.body, 400);
    EXPECT_EQ(e["error"]["member"], k.member) << k.body.dump() << " -> " << e.dump();
  }
  // Without a token: 401.
  auto anon = srv.Client("");
  auto r = anon->Post("/api/v1/plan", R"({"model": "llama-3-8b"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST(ServiceTest, ExperimentsAreListedAndReadByNameWithBadFilesNamed) {
  TempDir dir;
  const auto exp = dir.path() / "exp";
  std::filesystem::create_directories(exp);
  std::ofstream(exp / "fill.json") << R"({"trace": "default", "tune": false, "policies": [
      {"policy": "fgd", "unallocated_at_100": {"mean": 4.5}, "allocation_at_130": {"mean": 95},
       "frag_amount_at_100": {"mean": 1}, "unallocated_curve": [0, 0.5, null]}]})";
  std::ofstream(exp / "replay.json") << R"({"trace": "t", "jobs": 10, "pools": 1, "gpus": 8,
      "policies": [{"policy": "fifo", "avg_jct_seconds": 10, "avg_queue_seconds": 2,
                    "makespan_seconds": 100, "utilization": 0.5, "jobs": 10}]})";
  std::ofstream(exp / "bad.json") << R"({"trace": "t", "policies": [{"policy": 3}]})";
  std::ofstream(exp / "notes.txt") << "not listed";
  TempDir data;
  ServiceOptions opt = BasicOptions(data.path(), {Node("a", 1)});
  auto service = PoolService::Start(opt, std::make_unique<executor::LocalExecutor>());
  ASSERT_TRUE(service.has_value());
  std::string token;
  std::ifstream(data.path() / "admin.token") >> token;
  HttpOptions http;
  http.port = 0;
  http.experiments_dir = exp.string();
  HttpServer httpd(**service, http);
  ASSERT_TRUE(httpd.Start().ok());
  httplib::Client c("127.0.0.1", httpd.port());
  c.set_bearer_token_auth(token);

  const json list = Body(c.Get("/api/v1/experiments"));
  ASSERT_EQ(list["experiments"].size(), 3u) << list.dump();
  EXPECT_EQ(list["experiments"][0]["name"], "bad.json");
  EXPECT_EQ(list["experiments"][0]["error"],
            "bad.json: policies[0].policy: must be a string, not number");
  EXPECT_EQ(list["experiments"][1]["kind"], "fill");
  EXPECT_EQ(list["experiments"][2]["kind"], "replay");

  const json fill = Body(c.Get("/api/v1/experiments/fill.json"));
  EXPECT_EQ(fill["kind"], "fill");
  EXPECT_EQ(fill["data"]["policies"][0]["unallocated_at_100"]["mean"], 4.5);
  auto r = c.Get("/api/v1/experiments/bad.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(json::parse(r->body)["error"]["message"],
            "bad.json: policies[0].policy: must be a string, not number");
  r = c.Get("/api/v1/experiments/missing.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Get("/api/v1/experiments/notes.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"]["member"], "name");
  httpd.Stop();
}

}  // namespace
}  // namespace gpupool::server

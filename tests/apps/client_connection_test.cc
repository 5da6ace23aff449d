// Connection settings: flag > environment > the data directory (server.url, admin.token) >
// the default address, server
// and token each on their own; URL normalisation; and the Status made of a server's error answer.
#include "client_connection.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "api_client.h"

namespace gpupool::app {
namespace {

class ClientConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("gpupool_client_conn_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "admin.token") << "gp_from_file\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  EnvLookup Env() const {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(ClientConnectionTest, FlagsWinOverEnvironmentAndFile) {
  env_ = {{"GPUPOOL_SERVER", "http://env-host:9000"}, {"GPUPOOL_TOKEN", "gp_from_env"}};
  auto c = ResolveConnection({"http://flag-host:7000", "gp_from_flag", dir_.string()}, Env());
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->server, "http://flag-host:7000");
  EXPECT_EQ(c->server_from, "--server");
  EXPECT_EQ(c->token, "gp_from_flag");
  EXPECT_EQ(c->token_from, "--token");
}

TEST_F(ClientConnectionTest, EnvironmentWinsOverTheFile) {
  env_ = {{"GPUPOOL_SERVER", "env-host:9000"}, {"GPUPOOL_TOKEN", "gp_from_env"}};
  auto c = ResolveConnection({"", "", dir_.string()}, Env());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server, "http://env-host:9000");  // scheme added
  EXPECT_EQ(c->server_from, "GPUPOOL_SERVER");
  EXPECT_EQ(c->token, "gp_from_env");
  EXPECT_EQ(c->token_from, "GPUPOOL_TOKEN");
}

TEST_F(ClientConnectionTest, DefaultsReadTheDataDirectoryToken) {
  auto c = ResolveConnection({"", "", dir_.string()}, Env());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server, "http://127.0.0.1:8080");
  EXPECT_EQ(c->server_from, "default");
  EXPECT_EQ(c->token, "gp_from_file");  // trailing newline dropped
  EXPECT_EQ(c->token_from, (dir_ / "admin.token").string());
}

TEST_F(ClientConnectionTest, TheAddressServeWroteBeatsTheDefaultButNotTheEnvironment) {
  std::ofstream(dir_ / "server.url") << "http://127.0.0.1:40123\n";
  auto c = ResolveConnection({"", "", dir_.string()}, Env());
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->server, "http://127.0.0.1:40123");
  EXPECT_EQ(c->server_from, (dir_ / "server.url").string());
  env_ = {{"GPUPOOL_SERVER", "http://env-host:9000"}};
  c = ResolveConnection({"", "", dir_.string()}, Env());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server, "http://env-host:9000");
  // A file that holds no address is an error naming the file, not a silent default.
  std::ofstream(dir_ / "server.url") << "http://host:1/path\n";
  env_.clear();
  c = ResolveConnection({"", "", dir_.string()}, Env());
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("server.url"), std::string::npos) << c.error().message();
}

TEST_F(ClientConnectionTest, ServerAndTokenResolveIndependently) {
  env_ = {{"GPUPOOL_TOKEN", "gp_from_env"}};
  auto c = ResolveConnection({"http://flag-host:7000", "", dir_.string()}, Env());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server_from, "--server");
  EXPECT_EQ(c->token, "gp_from_env");
  env_ = {{"GPUPOOL_SERVER", "http://env-host:9000"}};
  c = ResolveConnection({"", "gp_from_flag", dir_.string()}, Env());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server, "http://env-host:9000");
  EXPECT_EQ(c->token, "gp_from_flag");
}

TEST_F(ClientConnectionTest, NoTokenFileIsNoTokenNotAnError) {
  auto c = ResolveConnection({"", "", (dir_ / "elsewhere").string()}, Env());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->token_from, "");
  EXPECT_EQ(c->token_file, (dir_ / "elsewhere" / "admin.token").string());
}

TEST_F(ClientConnectionTest, DefaultDataDirectoryIsGpupoolData) {
  auto c = ResolveConnection({"", "gp_x", ""}, Env());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->token_file, "gpupool-data/admin.token");
}

TEST(ServerUrlTest, Normalised) {
  EXPECT_EQ(NormaliseServerUrl("http://h:1/", "--server").value(), "http://h:1");
  EXPECT_EQ(NormaliseServerUrl("h:8080", "--server").value(), "http://h:8080");
  EXPECT_EQ(NormaliseServerUrl("https://pool.example", "--server").value(), "https://pool.example");
  for (const char* bad : {"ftp://h:1", "http://", "http://h:1/api", ":8080"}) {
    auto r = NormaliseServerUrl(bad, "GPUPOOL_SERVER");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().message().rfind("GPUPOOL_SERVER: '" + std::string(bad) + "'", 0), 0u)
        << r.error().message();
  }
}

TEST(ErrorAnswerTest, ServerMessageWithMember) {
  // The example of docs/api.md: the message already names the member.
  Status s = StatusFromErrorAnswer(
      400, R"({"error": {"status": 400, "code": "INVALID_ARGUMENT", "member": "gpus",
                         "message": "gpus: -1 is negative"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "gpus: -1 is negative");
  EXPECT_EQ(s.ExitCode(), 2);
  // A message that does not: the member goes in front.
  s = StatusFromErrorAnswer(
      400, R"({"error": {"status": 400, "code": "INVALID_ARGUMENT", "member": "env.PATH",
                         "message": "may not be set"}})");
  EXPECT_EQ(s.message(), "env.PATH: may not be set");
  // A message that names it after its place (a queue file's "FILE:LINE: member: what").
  s = StatusFromErrorAnswer(
      400, R"({"error": {"status": 400, "code": "INVALID_ARGUMENT", "member": "queues[0].limit",
                         "message": "request body:3: queues[0].limit: 'x' is not a number"}})");
  EXPECT_EQ(s.message(), "request body:3: queues[0].limit: 'x' is not a number");
}

TEST(ErrorAnswerTest, CodesMapToExitCodes) {
  struct Case {
    int http;
    const char* code;
    StatusCode want;
    int exit;
  };
  const Case cases[] = {{401, "UNAUTHENTICATED", StatusCode::kInvalidArgument, 2},
                        {403, "PERMISSION_DENIED", StatusCode::kFailedPrecondition, 1},
                        {404, "NOT_FOUND", StatusCode::kNotFound, 2},
                        {409, "FAILED_PRECONDITION", StatusCode::kFailedPrecondition, 1},
                        {413, "PAYLOAD_TOO_LARGE", StatusCode::kInvalidArgument, 2},
                        {503, "UNAVAILABLE", StatusCode::kUnavailable, 1},
                        {500, "INTERNAL", StatusCode::kInternal, 1}};
  for (const auto& c : cases) {
    const std::string body = std::string(R"({"error": {"status": )") + std::to_string(c.http) +
                             R"(, "code": ")" + c.code + R"(", "message": "m"}})";
    Status s = StatusFromErrorAnswer(c.http, body);
    EXPECT_EQ(s.code(), c.want) << c.code;
    EXPECT_EQ(s.ExitCode(), c.exit) << c.code;
    EXPECT_EQ(s.message(), "m");
  }
}

TEST(ErrorAnswerTest, ABodyThatIsNotTheErrorShapeIsQuoted) {
  Status s = StatusFromErrorAnswer(502, "<html>\nBad Gateway</html>");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "the server answered HTTP 502: <html> Bad Gateway</html>");
  s = StatusFromErrorAnswer(404, "");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "the server answered HTTP 404");
}

TEST(ApiClientTest, AServerThatIsNotThereSaysWhichAndHowToStartIt) {
  // Port 1 on the loopback: nothing listens there (no server involved, only the refusal).
  ApiClient client("http://127.0.0.1:1", "");
  auto r = client.Get("/api/v1/whoami");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.error().message().find("http://127.0.0.1:1"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("gpupool serve"), std::string::npos);
}

}  // namespace
}  // namespace gpupool::app

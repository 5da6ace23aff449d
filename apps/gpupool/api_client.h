// ApiClient: the client side of the gpupool REST API (docs/api.md) for the CLI commands. JSON in
// and out over HTTP/1.1 (cpp-httplib), one kept-alive connection, `Authorization: Bearer TOKEN`
// on every request when a token is set.
//
// Results: the answer's JSON body for a 2xx. An error answer ({"error": {"status", "code",
// "member", "message"}}) becomes a Status whose message is the server's `message`, prefixed with
// `member: ` when the message does not already name it (start with `member:`, or hold
// `: member:` as in "request body:3: queues[0].limit: ..."); the code maps INVALID_ARGUMENT,
// UNAUTHENTICATED, PAYLOAD_TOO_LARGE -> InvalidArgument (exit 2), NOT_FOUND -> NotFound (exit 2),
// PERMISSION_DENIED, FAILED_PRECONDITION -> FailedPrecondition, UNAVAILABLE -> Unavailable, the
// rest -> Internal. A server that cannot be reached gives Unavailable naming the URL and hinting
// at `gpupool serve`.
//
// Thread safety: one ApiClient per thread (it owns the connection). Not copyable.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace gpupool::app {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

class ApiClient {
 public:
  // `server`: "http://host:port" (see client_connection.h); `token`: may be empty.
  ApiClient(std::string server, const std::string& token);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // `path` starts with "/api/v1/..."; `query` members are URL-encoded.
  Result<nlohmann::json> Get(const std::string& path, const QueryParams& query = {});
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> Delete(const std::string& path);
  // A body that is not JSON (a queue file: `content_type` "application/yaml").
  Result<nlohmann::json> Put(const std::string& path, const std::string& body,
                             const std::string& content_type);

  const std::string& server() const { return server_; }

 private:
  class Impl;
  std::string server_;
  std::unique_ptr<Impl> impl_;
};

// The Status for a non-2xx answer (pure; what ApiClient uses). `body` is the raw body; a body that
// is not gpupool's error JSON is quoted (shortened) with the HTTP status.
Status StatusFromErrorAnswer(int http_status, const std::string& body);

}  // namespace gpupool::app

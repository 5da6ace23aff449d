#include "api_client.h"

#include <httplib.h>

namespace gpupool::app {
namespace {

using json = nlohmann::json;

StatusCode CodeFor(const std::string& code) {
  if (code == "INVALID_ARGUMENT" || code == "UNAUTHENTICATED" || code == "PAYLOAD_TOO_LARGE") {
    return StatusCode::kInvalidArgument;
  }
  if (code == "NOT_FOUND") return StatusCode::kNotFound;
  if (code == "PERMISSION_DENIED" || code == "FAILED_PRECONDITION") {
    return StatusCode::kFailedPrecondition;
  }
  if (code == "UNAVAILABLE") return StatusCode::kUnavailable;
  return StatusCode::kInternal;
}

StatusCode CodeForHttp(int http_status) {
  switch (http_status) {
    case 400:
    case 401:
    case 413:
      return StatusCode::kInvalidArgument;
    case 404:
      return StatusCode::kNotFound;
    case 403:
    case 409:
      return StatusCode::kFailedPrecondition;
    case 502:
    case 503:
    case 504:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kInternal;
  }
}

std::string Shorten(std::string text, std::size_t max) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > max) text = text.substr(0, max) + "...";
  return text;
}

std::string Describe(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "connection refused or host unreachable";
    case httplib::Error::ConnectionTimeout:
      return "timed out connecting";
    case httplib::Error::Read:
      return "the connection broke while reading the answer";
    case httplib::Error::Write:
      return "the connection broke while sending the request";
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLServerVerification:
    case httplib::Error::SSLLoadingCerts:
      return "TLS failed (" + httplib::to_string(e) + ")";
    default:
      return httplib::to_string(e);
  }
}

}  // namespace

Status StatusFromErrorAnswer(int http_status, const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].contains("message") && j["error"]["message"].is_string()) {
    const json& e = j["error"];
    std::string message = e["message"].get<std::string>();
    if (e.contains("member") && e["member"].is_string()) {
      const std::string member = e["member"].get<std::string>();
      if (!member.empty() && message.rfind(member + ":", 0) != 0 &&
          message.find(": " + member + ":") == std::string::npos) {
        message = member + ": " + message;
      }
    }
    const StatusCode code = e.contains("code") && e["code"].is_string()
                                ? CodeFor(e["code"].get<std::string>())
                                : CodeForHttp(http_status);
    return Status(code, message);
  }
  std::string what = "the server answered HTTP " + std::to_string(http_status);
  if (!body.empty()) what += ": " + Shorten(body, 200);
  return Status(CodeForHttp(http_status), what);
}

class ApiClient::Impl {
 public:
  Impl(const std::string& server, const std::string& token) : client(server) {
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);  // headers and body are two writes: no Nagle delay
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(60, 0);
    client.set_write_timeout(60, 0);
    if (!token.empty()) client.set_bearer_token_auth(token);
    has_token = !token.empty();
  }
  httplib::Client client;
  bool has_token = false;
};

ApiClient::ApiClient(std::string server, const std::string& token)
    : server_(std::move(server)), impl_(std::make_unique<Impl>(server_, token)) {}

ApiClient::~ApiClient() = default;

namespace {

Result<json> Answer(const httplib::Result& r, const std::string& server, bool has_token) {
  if (!r) {
    return Error(Status::Unavailable("cannot reach the gpupool server at " + server + " (" +
                                     Describe(r.error()) +
                                     "): is it running? Start it with `gpupool serve`, or point "
                                     "--server / GPUPOOL_SERVER at it"));
  }
  if (r->status < 200 || r->status > 299) {
    Status s = StatusFromErrorAnswer(r->status, r->body);
    if (r->status == 401 && !has_token) {
      return Error(Status(s.code(), s.message() +
                                        " (no token: pass --token, set GPUPOOL_TOKEN, or point "
                                        "--data-dir at the directory of `gpupool serve` that "
                                        "holds admin.token)"));
    }
    return Error(s);
  }
  if (r->body.empty()) return json::object();
  json j = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error(Status::Internal("the server at " + server +
                                  " answered with a body that is not "
                                  "JSON: " +
                                  Shorten(r->body, 200)));
  }
  return j;
}

}  // namespace

Result<json> ApiClient::Get(const std::string& path, const QueryParams& query) {
  httplib::Params params;
  for (const auto& [k, v] : query) params.emplace(k, v);
  httplib::Headers headers{{"Accept", "application/json"}};
  return Answer(impl_->client.Get(path, params, headers), server_, impl_->has_token);
}

Result<json> ApiClient::Post(const std::string& path, const json& body) {
  httplib::Headers headers{{"Accept", "application/json"}};
  return Answer(impl_->client.Post(path, headers, body.dump(), "application/json"), server_,
                impl_->has_token);
}

Result<json> ApiClient::Put(const std::string& path, const std::string& body,
                            const std::string& content_type) {
  httplib::Headers headers{{"Accept", "application/json"}};
  return Answer(impl_->client.Put(path, headers, body, content_type), server_, impl_->has_token);
}

Result<json> ApiClient::Delete(const std::string& path) {
  httplib::Headers headers{{"Accept", "application/json"}};
  return Answer(impl_->client.Delete(path, headers), server_, impl_->has_token);
}

}  // namespace gpupool::app

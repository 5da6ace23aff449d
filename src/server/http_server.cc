#include "server/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/data_dir.h"
#include "scheduler/job.h"
#include "server/event_stream.h"
#include "server/experiments.h"
#include "server/job_cursor.h"
#include "server/plan_request.h"
#include "server/web_ui.h"
#include "store/job_sort.h"

namespace gpupool::server {
namespace {

using nlohmann::json;

// One request as the handlers see it: the decoded path, its captures, the query parameters in
// their order, the two headers the API reads, and the whole body.
struct Request {
  std::string method;
  std::string path;
  std::vector<std::string> matches;  // [0] the path, then one per ':' segment of the route
  std::vector<std::pair<std::string, std::string>> params;
  std::string authorization;
  std::string content_type;
  std::string last_event_id;
  std::string accept_encoding;
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool close = false;  // answer with `Connection: close`
  std::vector<std::pair<std::string, std::string>> headers;
  // The event stream instead of `body`: from the client's Last-Event-ID (none: a snapshot).
  bool stream = false;
  std::optional<std::uint64_t> stream_after;
};

using Handler = std::function<void(const Request&, Response&)>;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void SendJson(Response& res, int status, const json& body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = Dump(body) + "\n";
}

void SendError(Response& res, const ApiError& e) { SendJson(res, e.http_status, e.ToJson()); }

std::optional<std::int64_t> ParseId(std::string_view s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t j = std::min(path.find('/', i), path.size());
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

// Routes by path segments. A route segment ":id" matches a non-negative 64-bit number, any other
// ":word" one non-empty segment; the rest match literally. A path that no route has is 404, a
// path that a route has under another method is 405.
class Router {
 public:
  void Add(std::string method, std::string_view pattern, Handler handler) {
    Route r{std::move(method), {}, std::move(handler)};
    for (std::string_view s : Segments(pattern)) r.segments.emplace_back(s);
    routes_.push_back(std::move(r));
  }

  void Dispatch(Request& req, Response& res) const {
    const std::vector<std::string_view> parts = Segments(req.path);
    bool path_known = false;
    for (const Route& r : routes_) {
      if (r.segments.size() != parts.size()) continue;
      std::vector<std::string> captures{req.path};
      bool match = true;
      for (std::size_t i = 0; i < parts.size() && match; ++i) {
        const std::string& want = r.segments[i];
        if (want == ":id") {
          match = ParseId(parts[i]).has_value();
        } else if (!want.empty() && want[0] == ':') {
          match = !parts[i].empty();
        } else {
          match = want == parts[i];
          continue;
        }
        if (match) captures.emplace_back(parts[i]);
      }
      if (!match) continue;
      path_known = true;
      if (r.method != req.method) continue;
      req.matches = std::move(captures);
      r.handler(req, res);
      return;
    }
    if (path_known) {
      SendError(res, ApiError{405, "INVALID_ARGUMENT", {}, "method not allowed on this endpoint"});
    } else {
      SendError(res, NotFoundError("no such endpoint (see /api/v1/openapi.json)"));
    }
  }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// The 413 answer, with `Connection: close`: for a declared Content-Length over the limit (answered
// before the body is read) and for a body that grows over it while it is read.
Response PayloadTooLarge(std::size_t max_body_bytes) {
  Response res;
  SendError(res, ApiError{413,
                          "PAYLOAD_TOO_LARGE",
                          {},
                          "the request body is over the size limit of " +
                              std::to_string(max_body_bytes) + " bytes"});
  res.close = true;
  return res;
}

// What MHD keeps for one HTTP request between the calls of the access handler.
struct Pending {
  Request req;
  bool too_large = false;
};

// What MHD keeps for one connection: whether it came in over the limit.
struct ConnectionState {
  bool over_limit = false;
};

// One streaming client: where it is in the stream, and the text not yet written.
struct StreamClient {
  EventStream* stream = nullptr;
  std::atomic<int>* clients = nullptr;  // the count of streaming clients, decremented at the end
  std::optional<std::uint64_t> position;
  std::string buffer;
  std::size_t written = 0;
  std::chrono::milliseconds heartbeat{15000};
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
};

constexpr std::size_t kStreamBatchBytes = std::size_t{64} * 1024;

// MHD's content reader for a streaming client, on the client's own connection thread: writes what
// is buffered, else waits for the next chunk of the stream or the heartbeat's time. Blocking here
// holds only this connection's thread (MHD_USE_THREAD_PER_CONNECTION).
ssize_t ReadStream(void* cls, std::uint64_t, char* buf, std::size_t max) {
  auto* c = static_cast<StreamClient*>(cls);
  while (c->written >= c->buffer.size()) {
    c->buffer.clear();
    c->written = 0;
    if (c->stream->closed()) return MHD_CONTENT_READER_END_OF_STREAM;
    // Everything that is ready, up to a batch.
    while (c->buffer.size() < kStreamBatchBytes) {
      const auto chunk =
          c->position ? c->stream->Next(*c->position) : c->stream->Next(std::string_view());
      if (!chunk) break;
      c->buffer += *chunk->text;
      c->position = chunk->seq;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!c->buffer.empty()) break;
    if (now - c->last_write >= c->heartbeat) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      c->buffer = EventStream::Heartbeat(ms);
      break;
    }
    c->stream->WaitAfter(c->position.value_or(std::numeric_limits<std::uint64_t>::max()),
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             c->heartbeat - (now - c->last_write)) +
                             std::chrono::milliseconds(1));
  }
  const std::size_t n = std::min(max, c->buffer.size() - c->written);
  std::copy_n(c->buffer.data() + c->written, n, buf);
  c->written += n;
  c->last_write = std::chrono::steady_clock::now();
  return static_cast<ssize_t>(n);
}

void FreeStream(void* cls) {
  auto* c = static_cast<StreamClient*>(cls);
  c->clients->fetch_sub(1);
  delete c;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  return accept_encoding.find("gzip") != std::string_view::npos;
}

}  // namespace

Result<std::string> NormalizeBasePath(std::string_view path, std::string_view member) {
  std::string p(path);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty() || p == "/") return std::string();
  const auto bad = [&](const std::string& why) {
    return Error(
        Status::InvalidArgument(std::string(member) + ": '" + std::string(path) + "' " + why));
  };
  if (p[0] != '/') return bad("must start with '/' (e.g. /gpupool)");
  for (std::size_t i = 1; i < p.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(p[i]);
    if (ch == '/' && p[i - 1] == '/') return bad("has an empty segment");
    if (!std::isalnum(ch) && std::strchr("/-._~", ch) == nullptr) {
      return bad("has '" + std::string(1, p[i]) +
                 "': use letters, digits and -._~ in its segments");
    }
  }
  return p;
}

struct HttpServer::Impl {
  Router router;
  std::size_t max_body_bytes = 0;
  int max_connections = 0;
  std::atomic<int> open_connections{0};
  MHD_Daemon* daemon = nullptr;
  std::string base_path;
  std::chrono::milliseconds stream_heartbeat{15000};
  std::unique_ptr<EventStream> stream;
  std::atomic<int> stream_clients{0};
  // The publisher (see http_server.h).
  std::thread publisher;
  std::mutex publisher_mu;
  std::condition_variable publisher_cv;
  bool publisher_stop = false;
  std::mutex publish_mu;  // one state read and published at a time, in order

  void PublishNow(const PoolService& service) {
    std::lock_guard lock(publish_mu);
    stream->Publish(service.StreamState());
  }

  static void OnConnection(void* cls, MHD_Connection*, void** socket_context,
                           MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<Impl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* state = new ConnectionState;
      state->over_limit = self->open_connections.fetch_add(1) >= self->max_connections;
      *socket_context = state;
    } else {
      self->open_connections.fetch_sub(1);
      delete static_cast<ConnectionState*>(*socket_context);
      *socket_context = nullptr;
    }
  }

  static void OnCompleted(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    delete static_cast<Pending*>(*con_cls);
    *con_cls = nullptr;
  }

  MHD_Result Queue(MHD_Connection* connection, const Response& res) {
    MHD_Response* r = nullptr;
    if (res.stream) {
      auto* client = new StreamClient;
      client->stream = stream.get();
      client->clients = &stream_clients;
      client->position = res.stream_after;
      client->heartbeat = stream_heartbeat;
      stream_clients.fetch_add(1);
      publisher_cv.notify_all();  // the publisher starts reading the pool now
      r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, std::size_t{16} * 1024, &ReadStream,
                                            client, &FreeStream);
      if (r == nullptr) {
        FreeStream(client);
        return MHD_NO;
      }
    } else {
      r = MHD_create_response_from_buffer(res.body.size(), const_cast<char*>(res.body.data()),
                                          MHD_RESPMEM_MUST_COPY);
    }
    if (r == nullptr) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res.content_type.c_str());
    if (res.close) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    for (const auto& [name, value] : res.headers) {
      MHD_add_response_header(r, name.c_str(), value.c_str());
    }
    const MHD_Result ok = MHD_queue_response(connection, static_cast<unsigned>(res.status), r);
    MHD_destroy_response(r);
    return ok;
  }

  static MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url,
                              const char* method, const char*, const char* upload_data,
                              std::size_t* upload_data_size, void** con_cls) {
    auto* self = static_cast<Impl*>(cls);
    auto* pending = static_cast<Pending*>(*con_cls);
    if (pending == nullptr) {
      const auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
      const auto* state =
          info != nullptr ? static_cast<const ConnectionState*>(info->socket_context) : nullptr;
      if (state != nullptr && state->over_limit) {
        Response res;
        SendError(res,
                  ApiError{503, "UNAVAILABLE", {}, "too many concurrent connections; retry later"});
        res.close = true;
        return self->Queue(connection, res);
      }
      // The base path: stripped here when present (see http_server.h).
      std::string path = url;
      if (!self->base_path.empty()) {
        const std::string& base = self->base_path;
        if (path == base) {
          Response res;
          res.status = 308;
          res.content_type = "text/plain";
          res.headers.emplace_back(MHD_HTTP_HEADER_LOCATION, base + "/");
          return self->Queue(connection, res);
        }
        if (path.compare(0, base.size() + 1, base + "/") == 0) path.erase(0, base.size());
      }
      // A declared length over the limit is answered before the body is read.
      const char* length =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      if (length != nullptr) {
        const auto n = ParseId(length);
        if (n && static_cast<std::uint64_t>(*n) > self->max_body_bytes) {
          return self->Queue(connection, PayloadTooLarge(self->max_body_bytes));
        }
      }
      pending = new Pending;
      pending->req.method = method;
      pending->req.path = std::move(path);
      const auto header = [&](const char* name) {
        const char* v = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
        return v != nullptr ? std::string(v) : std::string();
      };
      pending->req.authorization = header(MHD_HTTP_HEADER_AUTHORIZATION);
      pending->req.content_type = header(MHD_HTTP_HEADER_CONTENT_TYPE);
      pending->req.last_event_id = header("Last-Event-ID");
      pending->req.accept_encoding = header(MHD_HTTP_HEADER_ACCEPT_ENCODING);
      MHD_get_connection_values(
          connection, MHD_GET_ARGUMENT_KIND,
          [](void* params, MHD_ValueKind, const char* key, const char* value) {
            static_cast<std::vector<std::pair<std::string, std::string>>*>(params)->emplace_back(
                key, value != nullptr ? value : "");
            return MHD_YES;
          },
          &pending->req.params);
      *con_cls = pending;
      return MHD_YES;
    }
    if (*upload_data_size > 0) {
      if (!pending->too_large) {
        if (pending->req.body.size() + *upload_data_size > self->max_body_bytes) {
          pending->too_large = true;
          pending->req.body.clear();
        } else {
          pending->req.body.append(upload_data, *upload_data_size);
        }
      }
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (pending->too_large) return self->Queue(connection, PayloadTooLarge(self->max_body_bytes));
    Response res;
    // The dashboard's files (web_ui.h), served without a token.
    if (pending->req.method == "GET" && pending->req.path.rfind("/api/", 0) != 0) {
      if (auto web = ServeWebUi(pending->req.path, self->base_path,
                                AcceptsGzip(pending->req.accept_encoding))) {
        res.content_type = std::move(web->content_type);
        res.body = std::move(web->body);
        res.headers = std::move(web->headers);
        return self->Queue(connection, res);
      }
    }
    try {
      self->router.Dispatch(pending->req, res);
    } catch (const std::exception& e) {
      res = Response{};
      SendError(res, ApiError{500, "INTERNAL", {}, e.what()});
    }
    return self->Queue(connection, res);
  }
};

HttpServer::HttpServer(PoolService& service, HttpOptions options)
    : impl_(std::make_unique<Impl>()), service_(service), opt_(std::move(options)) {
  const std::int64_t epoch = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  impl_->stream = std::make_unique<EventStream>(epoch, opt_.stream_resume);
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  Router& router = impl_->router;
  PoolService& service = service_;
  // Wraps a handler that needs a principal.
  const auto authed = [&service](const auto& fn) {
    return [&service, fn](const Request& req, Response& res) {
      auto p = service.Authenticate(req.authorization);
      if (!p) return SendError(res, p.error());
      fn(*p, req, res);
    };
  };
  // Parses the JSON body of a POST.
  const auto body_json = [](const Request& req, Response& res) -> std::optional<json> {
    const std::string ct = req.content_type;
    if (!ct.empty() && ct.find("application/json") == std::string::npos) {
      SendError(res, ApiError{415,
                              "UNSUPPORTED_MEDIA_TYPE",
                              {},
                              "Content-Type must be application/json, not '" + ct + "'"});
      return std::nullopt;
    }
    try {
      return json::parse(req.body);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e999
      SendError(res, BadRequest("", std::string("the body is not valid JSON: ") + e.what()));
      return std::nullopt;
    }
  };
  const auto reply = [](Response& res, const ApiResult<json>& r, int ok_status = 200) {
    if (r) return SendJson(res, ok_status, *r);
    SendError(res, r.error());
  };

  router.Add("GET", "/healthz", [](const Request&, Response& res) {
    SendJson(res, 200, json{{"status", "ok"}});
  });
  router.Add("GET", "/metrics", [&service](const Request&, Response& res) {
    res.body = service.Metrics();
    res.content_type = "text/plain; version=0.0.4";
  });
  const std::string openapi = opt_.openapi_json;
  router.Add(
      "GET", "/api/v1/openapi.json",
      authed([openapi](const Principal&, const Request&, Response& res) { res.body = openapi; }));
  router.Add("GET", "/api/v1/whoami", authed([](const Principal& p, const Request&, Response& res) {
               SendJson(res, 200, PoolService::WhoAmI(p));
             }));

  router.Add(
      "POST", "/api/v1/jobs",
      authed([&service, body_json, reply](const Principal& p, const Request& req, Response& res) {
        auto body = body_json(req, res);
        if (!body) return;
        reply(res, service.Submit(p, *body), 201);
      }));
  router.Add(
      "GET", "/api/v1/jobs",
      authed([&service, reply](const Principal& p, const Request& req, Response& res) {
        store::JobQuery q;
        std::optional<std::string> cursor;
        for (const auto& [k, v] : req.params) {
          if (k == "state") {
            if (!scheduler::ParseJobState(v)) {
              return SendError(res, BadRequest("state", "state: '" + v + "' is not a job state"));
            }
            q.state = v;
          } else if (k == "user") {
            q.user = v;
          } else if (k == "queue") {
            q.queue = v;
          } else if (k == "limit") {
            const auto n = ParseId(v);
            if (!n || *n < 1 || *n > 1000) {
              return SendError(res, BadRequest("limit", "limit: '" + v + "' is not in 1..1000"));
            }
            q.limit = static_cast<int>(*n);
          } else if (k == "cursor") {
            cursor = v;
          } else if (k == "sort") {
            const auto key = store::ParseJobSortKey(v);
            if (!key) {
              return SendError(res, BadRequest("sort", "sort: '" + v + "' is not a sort key (" +
                                                           store::JobSortKeyNames() + ")"));
            }
            q.sort = *key;
          } else if (k == "order") {
            if (v != "asc" && v != "desc") {
              return SendError(res, BadRequest("order", "order: '" + v + "' is not asc or desc"));
            }
            q.descending = v == "desc";
          } else {
            return SendError(res, BadRequest(k, k + ": unknown parameter (state, user, queue, "
                                                    "limit, cursor, sort, order)"));
          }
        }
        // The cursor last: it must be one of the sort given, wherever `sort` stands.
        if (cursor) {
          auto after = DecodeJobCursor(*cursor, q.sort, q.descending);
          if (!after) return SendError(res, after.error());
          q.after = *after;
        }
        reply(res, service.ListJobs(p, q));
      }));
  router.Add("GET", "/api/v1/jobs/:id",
             authed([&service, reply](const Principal& p, const Request& req, Response& res) {
               reply(res, service.GetJob(p, *ParseId(req.matches[1])));
             }));
  router.Add("GET", "/api/v1/jobs/:id/events",
             authed([&service, reply](const Principal& p, const Request& req, Response& res) {
               reply(res, service.Events(p, *ParseId(req.matches[1])));
             }));
  router.Add("GET", "/api/v1/jobs/:id/logs",
             authed([&service, reply](const Principal& p, const Request& req, Response& res) {
               LogQuery q;
               for (const auto& [k, v] : req.params) {
                 if (k == "stream") {
                   q.stream = v;
                 } else if (k == "offset" || k == "limit") {
                   const auto n = ParseId(v);
                   if (!n)
                     return SendError(res, BadRequest(k, k + ": '" + v + "' is not a number"));
                   (k == "offset" ? q.offset : q.limit) = *n;
                 } else {
                   return SendError(
                       res, BadRequest(k, k + ": unknown parameter (stream, offset, limit)"));
                 }
               }
               reply(res, service.Logs(p, *ParseId(req.matches[1]), q));
             }));
  router.Add("DELETE", "/api/v1/jobs/:id",
             authed([&service, reply](const Principal& p, const Request& req, Response& res) {
               reply(res, service.Cancel(p, *ParseId(req.matches[1])));
             }));
  router.Add("POST", "/api/v1/jobs/:id/checkpoint",
             authed([&service, reply](const Principal& p, const Request& req, Response& res) {
               reply(res, service.Checkpoint(p, *ParseId(req.matches[1])));
             }));

  router.Add("GET", "/api/v1/nodes",
             authed([&service](const Principal&, const Request&, Response& res) {
               SendJson(res, 200, service.Nodes());
             }));
  router.Add("POST", "/api/v1/nodes/:name/:action",
             authed([&service, reply](const Principal& p, const Request& req, Response& res) {
               reply(res, service.SetNodeCondition(p, req.matches[1], req.matches[2]));
             }));
  router.Add("GET", "/api/v1/pool",
             authed([&service](const Principal&, const Request&, Response& res) {
               SendJson(res, 200, service.Pool());
             }));
  router.Add("GET", "/api/v1/pool/history",
             authed([&service, reply](const Principal&, const Request& req, Response& res) {
               std::string range = "1h";
               std::string model;
               for (const auto& [k, v] : req.params) {
                 if (k == "range") {
                   range = v;
                 } else if (k == "model") {
                   if (v.empty()) return SendError(res, BadRequest("model", "model: empty"));
                   model = v;
                 } else {
                   return SendError(res, BadRequest(k, k + ": unknown parameter (range, model)"));
                 }
               }
               reply(res, service.PoolHistory(range, model));
             }));

  EventStream* stream = impl_->stream.get();
  Impl* impl = impl_.get();
  router.Add("GET", "/api/v1/events/stream",
             authed([stream, impl, &service](const Principal&, const Request& req, Response& res) {
               impl->PublishNow(service);  // a new client's snapshot is the state now
               res.stream = true;
               res.content_type = "text/event-stream";
               res.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
               if (!req.last_event_id.empty())
                 res.stream_after = stream->ParseId(req.last_event_id);
             }));

  router.Add("GET", "/api/v1/queues",
             authed([&service](const Principal&, const Request&, Response& res) {
               SendJson(res, 200, service.Queues());
             }));
  // The body is a queue file: YAML (JSON being YAML, a JSON body too).
  router.Add(
      "PUT", "/api/v1/queues",
      authed([&service, reply](const Principal& p, const Request& req, Response& res) {
        std::string ct = req.content_type.substr(0, req.content_type.find(';'));
        while (!ct.empty() && ct.back() == ' ') ct.pop_back();
        for (char& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        static const char* const kTypes[] = {
            "",           "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml",
            "text/plain", "application/json"};
        if (std::find(std::begin(kTypes), std::end(kTypes), ct) == std::end(kTypes)) {
          return SendError(res, ApiError{415,
                                         "UNSUPPORTED_MEDIA_TYPE",
                                         {},
                                         "Content-Type must be application/yaml (or text/yaml, "
                                         "text/plain, application/json), not '" +
                                             req.content_type + "'"});
        }
        reply(res, service.SetQueues(p, req.body));
      }));

  // The dashboard's planner (plan_request.h) and experiments (experiments.h).
  router.Add(
      "POST", "/api/v1/plan",
      authed([&service, body_json, reply](const Principal&, const Request& req, Response& res) {
        auto body = body_json(req, res);
        if (!body) return;
        reply(res, service.Plan(*body));
      }));
  router.Add("GET", "/api/v1/plan/models",
             authed([reply](const Principal&, const Request&, Response& res) {
               reply(res, PlanPresets(DataDir() / "models"));
             }));
  const std::string experiments = opt_.experiments_dir;
  router.Add("GET", "/api/v1/experiments",
             authed([experiments](const Principal&, const Request&, Response& res) {
               if (experiments.empty()) {
                 return SendJson(res, 200, json{{"dir", ""}, {"experiments", json::array()}});
               }
               SendJson(res, 200, ListExperiments(experiments));
             }));
  router.Add("GET", "/api/v1/experiments/:name",
             authed([experiments, reply](const Principal&, const Request& req, Response& res) {
               if (experiments.empty()) {
                 return SendError(res,
                                  NotFoundError("no experiments folder (serve --experiments)"));
               }
               reply(res, ReadExperiment(experiments, req.matches[1]));
             }));

  router.Add(
      "POST", "/api/v1/tokens",
      authed([&service, body_json, reply](const Principal& p, const Request& req, Response& res) {
        auto body = body_json(req, res);
        if (!body) return;
        reply(res, service.CreateToken(p, *body), 201);
      }));
  router.Add("GET", "/api/v1/tokens",
             authed([&service, reply](const Principal& p, const Request&, Response& res) {
               reply(res, service.ListTokens(p));
             }));
  router.Add("DELETE", "/api/v1/tokens/:id",
             authed([&service, reply](const Principal& p, const Request& req, Response& res) {
               reply(res, service.RevokeToken(p, *ParseId(req.matches[1])));
             }));

  impl_->max_body_bytes = opt_.max_body_bytes;
  impl_->base_path = opt_.base_path;
  impl_->stream_heartbeat = opt_.stream_heartbeat;
  impl_->max_connections = opt_.max_connections;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(opt_.port));
  if (inet_pton(AF_INET, opt_.host.c_str(), &addr.sin_addr) != 1) {
    return Status::InvalidArgument("cannot listen on " + opt_.host +
                                   ": not an IPv4 address (use e.g. 127.0.0.1 or 0.0.0.0)");
  }
  // A thread per connection: handlers are plain blocking code (a submission waits for its commit),
  // and an idle keep-alive connection's thread sleeps in poll() until the client sends. Connections
  // over the limit are still accepted (up to a margin) so that they get a 503 in JSON.
  const unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_AUTO | MHD_USE_ERROR_LOG;
  impl_->daemon = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Impl::OnRequest, impl_.get(),  //
      MHD_OPTION_EXTERNAL_LOGGER,
      +[](void*, const char* fmt, va_list ap) { std::vfprintf(stderr, fmt, ap); }, nullptr,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&addr),  //
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,                     //
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(opt_.max_connections + 64),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(opt_.idle_timeout.count()),
      MHD_OPTION_NOTIFY_CONNECTION, &Impl::OnConnection, impl_.get(),  //
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::OnCompleted, nullptr,        //
      MHD_OPTION_END);
  if (impl_->daemon == nullptr) {
    return Status::Unavailable("cannot listen on " + opt_.host + ":" + std::to_string(opt_.port) +
                               " (in use, or not an address of this host)");
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(impl_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info != nullptr ? info->port : opt_.port;
  // The publisher: while a stream client is connected, the pool's state every interval (the
  // stream keeps only what changed). The first state is published at once, so that a client's
  // first read has its snapshot.
  impl_->PublishNow(service_);
  impl_->publisher = std::thread([this] {
    Impl& im = *impl_;
    std::unique_lock lock(im.publisher_mu);
    std::chrono::steady_clock::duration pause = opt_.stream_interval;
    while (!im.publisher_stop) {
      im.publisher_cv.wait_for(lock, pause);
      if (im.publisher_stop) break;
      if (im.stream_clients.load() == 0) {
        im.publisher_cv.wait(lock,
                             [&] { return im.publisher_stop || im.stream_clients.load() > 0; });
        continue;
      }
      lock.unlock();
      const auto start = std::chrono::steady_clock::now();
      im.PublishNow(service_);
      // Building the state costs tens of ms at 1,000 nodes (the service's lock is held for a few
      // of them): at most a tenth of the time goes to it, whatever the interval.
      pause = std::max<std::chrono::steady_clock::duration>(
          opt_.stream_interval, 9 * (std::chrono::steady_clock::now() - start));
      lock.lock();
    }
  });
  return Status::Ok();
}

void HttpServer::Stop() {
  // The stream first: every streaming connection ends, so that the daemon's stop does not wait.
  impl_->stream->Close();
  {
    std::lock_guard lock(impl_->publisher_mu);
    impl_->publisher_stop = true;
  }
  impl_->publisher_cv.notify_all();
  if (impl_->publisher.joinable()) impl_->publisher.join();
  if (impl_->daemon != nullptr) {
    MHD_stop_daemon(impl_->daemon);
    impl_->daemon = nullptr;
  }
}

}  // namespace gpupool::server

#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <functional>

#include "scheduler/job.h"

namespace gpupool::server {
namespace {

using nlohmann::json;

// True on the accept thread while it answers a connection over the limit.
thread_local bool tl_over_limit = false;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(Dump(body) + "\n", "application/json");
}

void SendError(httplib::Response& res, const ApiError& e) {
  SendJson(res, e.http_status, e.ToJson());
}

std::string DefaultMessage(int status) {
  switch (status) {
    case 404:
      return "no such endpoint (see /api/v1/openapi.json)";
    case 405:
      return "method not allowed on this endpoint";
    case 413:
      return "the request body is over the size limit";
    case 400:
      return "malformed HTTP request";
    default:
      return "request failed";
  }
}

std::string CodeFor(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "FAILED_PRECONDITION";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 415:
      return "UNSUPPORTED_MEDIA_TYPE";
    case 503:
      return "UNAVAILABLE";
    default:
      return status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";
  }
}

// Connections beyond the limit are not queued behind busy threads (a keep-alive client holds its
// thread): the accept thread answers them itself with 503 and closes them.
class BoundedTaskQueue final : public httplib::TaskQueue {
 public:
  explicit BoundedTaskQueue(int limit) : limit_(limit), pool_(static_cast<std::size_t>(limit)) {}
  void enqueue(std::function<void()> fn) override {
    if (active_.load(std::memory_order_relaxed) >= limit_) {
      tl_over_limit = true;
      fn();
      tl_over_limit = false;
      return;
    }
    active_.fetch_add(1, std::memory_order_relaxed);
    pool_.enqueue([this, fn = std::move(fn)] {
      fn();
      active_.fetch_sub(1, std::memory_order_relaxed);
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  int limit_;
  std::atomic<int> active_{0};
  httplib::ThreadPool pool_;
};

std::optional<std::int64_t> ParseId(const std::string& s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

struct HttpServer::Impl {
  httplib::Server svr;
};

HttpServer::HttpServer(PoolService& service, HttpOptions options)
    : impl_(std::make_unique<Impl>()), service_(service), opt_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  httplib::Server& svr = impl_->svr;
  const int max_conn = opt_.max_connections;
  svr.new_task_queue = [max_conn] { return new BoundedTaskQueue(max_conn); };
  svr.set_payload_max_length(opt_.max_body_bytes);
  svr.set_read_timeout(opt_.read_timeout);
  svr.set_keep_alive_timeout(opt_.keep_alive_timeout.count());
  svr.set_keep_alive_max_count(1000000);
  // Responses go out as headers then body; without TCP_NODELAY, Nagle's algorithm and the peer's
  // delayed ACK hold the second write for ~40 ms on keep-alive connections.
  svr.set_tcp_nodelay(true);
  // The library listens with a backlog of 5, so a burst of clients connecting at once loses SYNs
  // and waits a second for the retry. Remember the listening socket to listen again with more.
  std::atomic<int>* listen_fd = &listen_fd_;
  svr.set_socket_options([listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd->store(sock);
  });

  svr.set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (!tl_over_limit) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("Connection", "close");
    SendError(res,
              ApiError{503, "UNAVAILABLE", {}, "too many concurrent connections; retry later"});
    return httplib::Server::HandlerResponse::Handled;
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    SendJson(res, res.status,
             ApiError{res.status, CodeFor(res.status), {}, DefaultMessage(res.status)}.ToJson());
  });
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unexpected error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        SendError(res, ApiError{500, "INTERNAL", {}, what});
      });

  PoolService& service = service_;
  // Wraps a handler that needs a principal.
  const auto authed = [&service](auto fn) {
    return [&service, fn](const httplib::Request& req, httplib::Response& res) {
      auto p = service.Authenticate(req.get_header_value("Authorization"));
      if (!p) return SendError(res, p.error());
      fn(*p, req, res);
    };
  };
  // Parses the JSON body of a POST.
  const auto body_json = [](const httplib::Request& req,
                            httplib::Response& res) -> std::optional<json> {
    const std::string ct = req.get_header_value("Content-Type");
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
  const auto reply = [](httplib::Response& res, const ApiResult<json>& r, int ok_status = 200) {
    if (r) return SendJson(res, ok_status, *r);
    SendError(res, r.error());
  };

  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, json{{"status", "ok"}});
  });
  svr.Get("/metrics", [&service](const httplib::Request&, httplib::Response& res) {
    res.set_content(service.Metrics(), "text/plain; version=0.0.4");
  });
  const std::string openapi = opt_.openapi_json;
  svr.Get("/api/v1/openapi.json",
          authed([openapi](const Principal&, const httplib::Request&, httplib::Response& res) {
            res.set_content(openapi, "application/json");
          }));
  svr.Get("/api/v1/whoami",
          authed([](const Principal& p, const httplib::Request&, httplib::Response& res) {
            SendJson(res, 200, PoolService::WhoAmI(p));
          }));

  svr.Post("/api/v1/jobs",
           authed([&service, body_json, reply](const Principal& p, const httplib::Request& req,
                                               httplib::Response& res) {
             auto body = body_json(req, res);
             if (!body) return;
             reply(res, service.Submit(p, *body), 201);
           }));
  svr.Get(
      "/api/v1/jobs", authed([&service, reply](const Principal& p, const httplib::Request& req,
                                               httplib::Response& res) {
        store::JobQuery q;
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
            const auto n = ParseId(v);
            if (!n)
              return SendError(res, BadRequest("cursor", "cursor: '" + v + "' is not a cursor"));
            q.before_id = *n;
          } else {
            return SendError(
                res, BadRequest(k, k + ": unknown parameter (state, user, queue, limit, cursor)"));
          }
        }
        reply(res, service.ListJobs(p, q));
      }));
  svr.Get(R"(/api/v1/jobs/(\d+))",
          authed([&service, reply](const Principal& p, const httplib::Request& req,
                                   httplib::Response& res) {
            reply(res, service.GetJob(p, *ParseId(req.matches[1])));
          }));
  svr.Get(R"(/api/v1/jobs/(\d+)/events)",
          authed([&service, reply](const Principal& p, const httplib::Request& req,
                                   httplib::Response& res) {
            reply(res, service.Events(p, *ParseId(req.matches[1])));
          }));
  svr.Get(R"(/api/v1/jobs/(\d+)/logs)",
          authed([&service, reply](const Principal& p, const httplib::Request& req,
                                   httplib::Response& res) {
            LogQuery q;
            for (const auto& [k, v] : req.params) {
              if (k == "stream") {
                q.stream = v;
              } else if (k == "offset" || k == "limit") {
                const auto n = ParseId(v);
                if (!n) return SendError(res, BadRequest(k, k + ": '" + v + "' is not a number"));
                (k == "offset" ? q.offset : q.limit) = *n;
              } else {
                return SendError(res,
                                 BadRequest(k, k + ": unknown parameter (stream, offset, limit)"));
              }
            }
            reply(res, service.Logs(p, *ParseId(req.matches[1]), q));
          }));
  svr.Delete(R"(/api/v1/jobs/(\d+))",
             authed([&service, reply](const Principal& p, const httplib::Request& req,
                                      httplib::Response& res) {
               reply(res, service.Cancel(p, *ParseId(req.matches[1])));
             }));

  svr.Get("/api/v1/nodes",
          authed([&service](const Principal&, const httplib::Request&, httplib::Response& res) {
            SendJson(res, 200, service.Nodes());
          }));
  svr.Post(R"(/api/v1/nodes/([^/]+)/([a-z]+))",
           authed([&service, reply](const Principal& p, const httplib::Request& req,
                                    httplib::Response& res) {
             reply(res, service.SetNodeCondition(p, req.matches[1], req.matches[2]));
           }));
  svr.Get("/api/v1/pool",
          authed([&service](const Principal&, const httplib::Request&, httplib::Response& res) {
            SendJson(res, 200, service.Pool());
          }));

  svr.Post("/api/v1/tokens",
           authed([&service, body_json, reply](const Principal& p, const httplib::Request& req,
                                               httplib::Response& res) {
             auto body = body_json(req, res);
             if (!body) return;
             reply(res, service.CreateToken(p, *body), 201);
           }));
  svr.Get("/api/v1/tokens",
          authed([&service, reply](const Principal& p, const httplib::Request&,
                                   httplib::Response& res) { reply(res, service.ListTokens(p)); }));
  svr.Delete(R"(/api/v1/tokens/(\d+))",
             authed([&service, reply](const Principal& p, const httplib::Request& req,
                                      httplib::Response& res) {
               reply(res, service.RevokeToken(p, *ParseId(req.matches[1])));
             }));

  if (opt_.port == 0) {
    port_ = svr.bind_to_any_port(opt_.host);
    if (port_ <= 0) return Status::Unavailable("cannot listen on " + opt_.host + ": no free port");
  } else {
    if (!svr.bind_to_port(opt_.host, opt_.port)) {
      return Status::Unavailable("cannot listen on " + opt_.host + ":" + std::to_string(opt_.port) +
                                 " (in use, or not an address of this host)");
    }
    port_ = opt_.port;
  }
  if (const int fd = listen_fd_.load(); fd >= 0) ::listen(fd, 1024);
  thread_ = std::thread([this] { impl_->svr.listen_after_bind(); });
  return Status::Ok();
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    impl_->svr.stop();
    thread_.join();
  }
}

}  // namespace gpupool::server

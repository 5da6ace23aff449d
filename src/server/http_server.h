// HttpServer: the REST API of docs/api.md over HTTP/1.1, served with cpp-httplib (Debian's
// libcpp-httplib-dev). Why this library: the service's load is many small JSON requests on
// keep-alive connections from a bounded number of clients, where a thread per connection from a
// fixed pool costs nothing that matters on a 2-core host and keeps every handler plain blocking
// code; the durable path is bounded by the database commit, not by the HTTP stack (measured in
// bench/server_submit_bench.cc). Boost.Beast's asynchronous model would add a dependency and
// callback plumbing for no gain at this load.
//
// Limits: bodies over `max_body_bytes` get 413; more than `max_connections` connections at once:
// the surplus connection is answered 503 and closed; a client that sends nothing for
// `read_timeout` is dropped. Every error body is the JSON of api_error.h, the request member
// named where one is at fault. Only `GET /healthz` and `GET /metrics` are served without a token.
//
// Thread safety: Start and Stop from one thread; handlers run on the pool's threads.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "server/pool_service.h"

namespace gpupool::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port (see HttpServer::port())
  int max_connections = 128;
  std::size_t max_body_bytes = 1 << 20;
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds keep_alive_timeout{30};
  std::string openapi_json;  // served at /api/v1/openapi.json
};

class HttpServer {
 public:
  explicit HttpServer(PoolService& service, HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on a background thread. Unavailable when the address is taken.
  Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  PoolService& service_;
  HttpOptions opt_;
  int port_ = 0;
  std::atomic<int> listen_fd_{-1};
  std::thread thread_;
};

}  // namespace gpupool::server

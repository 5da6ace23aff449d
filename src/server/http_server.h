// HttpServer: the REST API of docs/api.md over HTTP/1.1, served with GNU libmicrohttpd (Debian's
// libmicrohttpd-dev), a thread per connection. Why this library: the load is many small JSON
// requests on keep-alive connections, and a submission's handler blocks until its commit, so a
// thread per connection keeps every handler plain blocking code. cpp-httplib (the first choice,
// still the client library) does the same but polls every idle keep-alive connection 90 times a
// second (10 ms poll, 1 ms sleep): with 64 idle clients that was 12.6 % of the server's CPU at
// 1,000 submissions/s and thousands of wake-ups a second competing with the store's writer on a
// 2-core host (docs/adr/0002-service.md). libmicrohttpd's connection thread sleeps in poll()
// until its client sends, and the library lets an over-limit connection get a JSON 503.
//
// Limits: bodies over `max_body_bytes` get 413; more than `max_connections` connections at once:
// the surplus connection is answered 503 and closed; a connection idle for `idle_timeout` is
// closed. Every error body is the JSON of api_error.h, the request member named where one is at
// fault (a request that is not HTTP at all gets the library's own 400). Only `GET /healthz` and
// `GET /metrics` are served without a token.
//
// Thread safety: Start and Stop from one thread; handlers run on the connections' threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/pool_service.h"

namespace gpupool::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port (see HttpServer::port())
  int max_connections = 128;
  std::size_t max_body_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{30};
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
};

}  // namespace gpupool::server

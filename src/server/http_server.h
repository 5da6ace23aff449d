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
// fault (a request that is not HTTP at all gets the library's own 400). Only `GET /healthz`,
// `GET /metrics` and the dashboard's files (web_ui.h: `/`, `/index.html`, `/assets/...`) are
// served without a token; the dashboard then signs in with one.
//
// Base path: with `base_path` "/PREFIX" every path above is also served under it, for a reverse
// proxy that forwards /PREFIX/... unchanged (one that strips the prefix reaches the paths as they
// are, and so do the command-line clients); `/PREFIX` itself redirects to `/PREFIX/`. The
// dashboard's index carries the base path, so its API calls go under it.
//
// The event stream (GET /api/v1/events/stream, docs/api.md; event_stream.h): a publisher thread
// reads PoolService::StreamState (the pool and the nodes) every `stream_interval` while a stream
// client is connected, and publishes what changed; so a client gets at most one delta per interval
// whatever the scheduler does. Reading the state holds the service's lock only while it copies
// the figures (PoolService::View; the JSON is built after it), and the publisher waits nine times
// as long as its last read took, so it spends at most a tenth of a core on the stream. Each
// client's connection thread waits for the next delta or its heartbeat (`stream_heartbeat`) and
// writes it; the publisher never waits for a client, a slow client only falls behind (it then gets
// a fresh snapshot), and a client that is gone is noticed at the next write. Stop closes the stream
// first, so that every streaming connection ends before the daemon stops.
//
// Thread safety: Start and Stop from one thread; handlers run on the connections' threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/pool_service.h"

namespace gpupool::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port (see HttpServer::port())
  int max_connections = 128;
  std::size_t max_body_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{30};
  std::string openapi_json;                        // served at /api/v1/openapi.json
  std::string base_path;                           // "" or "/PREFIX" (no trailing slash); see above
  std::chrono::milliseconds stream_interval{200};  // at most 5 deltas a second
  std::chrono::milliseconds stream_heartbeat{15000};
  std::size_t stream_resume = 1024;  // deltas kept for Last-Event-ID
  // The outputs of `sim fill --json` / `sim replay --json` served by GET /api/v1/experiments
  // (experiments.h); "" serves none (an empty list).
  std::string experiments_dir;
};

// A base path as given (`--base-path`): "" or "/" for none, else "/a/b" with no trailing slash,
// each segment of letters, digits and "-._~"; InvalidArgument naming `member` otherwise.
Result<std::string> NormalizeBasePath(std::string_view path, std::string_view member);

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

// Where the client commands find the service and which token they present. In this order:
//   1. the flags --server URL / --token TOKEN,
//   2. the environment: GPUPOOL_SERVER / GPUPOOL_TOKEN,
//   3. the data directory of `gpupool serve`: the address it listens on (DATA_DIR/server.url,
//      written while it runs) and the admin token (DATA_DIR/admin.token), DATA_DIR being
//      --data-dir or ./gpupool-data (serve's default),
//   4. http://127.0.0.1:8080 when no server.url is there.
// Server and token are resolved independently (a --server flag with the token from the
// environment is fine). Pure but for reading the token file; the environment is injected.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace gpupool::app {

inline constexpr const char* kDefaultServer = "http://127.0.0.1:8080";
inline constexpr const char* kDefaultDataDir = "gpupool-data";

struct ConnectionFlags {
  std::string server;    // --server; empty = not given
  std::string token;     // --token
  std::string data_dir;  // --data-dir; empty = ./gpupool-data
};

struct Connection {
  std::string server;       // normalised base URL, "http://host:port", no trailing slash
  std::string token;        // empty: none found (the server will answer 401)
  std::string server_from;  // "--server", "GPUPOOL_SERVER", the server.url file's path or "default"
  std::string token_from;   // "--token", "GPUPOOL_TOKEN", the token file's path, or "" (none)
  std::string token_file;   // the file the default looks at (for hints)
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The process environment (std::getenv). Empty values count as unset.
EnvLookup ProcessEnv();

// "host:port" -> "http://host:port"; keeps http:// and https://; drops a trailing '/'. Other
// schemes, a path or an empty host are errors naming `from` (the flag or variable).
Result<std::string> NormaliseServerUrl(const std::string& url, const std::string& from);

// Resolves the connection. Errors: a bad URL (InvalidArgument) or a token file that exists but
// cannot be read (IoError); a missing token file is not an error (token stays empty).
Result<Connection> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env);

}  // namespace gpupool::app

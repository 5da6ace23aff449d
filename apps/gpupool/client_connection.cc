#include "client_connection.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/strings.h"

namespace gpupool::app {

EnvLookup ProcessEnv() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

Result<std::string> NormaliseServerUrl(const std::string& url, const std::string& from) {
  std::string scheme = "http";
  std::string rest = url;
  if (const std::size_t at = url.find("://"); at != std::string::npos) {
    scheme = url.substr(0, at);
    rest = url.substr(at + 3);
    if (scheme != "http" && scheme != "https") {
      return Error(
          Status::InvalidArgument(from + ": '" + url + "' is not an http:// or https:// URL"));
    }
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.front() == ':' || rest.find('/') != std::string::npos) {
    return Error(Status::InvalidArgument(
        from + ": '" + url + "' is not a server address like http://HOST:PORT (no path)"));
  }
  return scheme + "://" + rest;
}

Result<Connection> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env) {
  Connection c;
  std::string raw_server = kDefaultServer;
  c.server_from = "default";
  if (!flags.server.empty()) {
    raw_server = flags.server;
    c.server_from = "--server";
  } else if (auto v = env("GPUPOOL_SERVER")) {
    raw_server = *v;
    c.server_from = "GPUPOOL_SERVER";
  }
  const std::filesystem::path dir = flags.data_dir.empty() ? kDefaultDataDir : flags.data_dir;
  if (c.server_from == "default") {
    const std::filesystem::path url_file = dir / "server.url";
    std::error_code ec;
    if (std::filesystem::exists(url_file, ec)) {
      std::ifstream in(url_file);
      std::stringstream text;
      if (in) text << in.rdbuf();
      if (!in) {
        return Error(Status::IoError("cannot read the server address file " + url_file.string() +
                                     " (pass --server or set GPUPOOL_SERVER)"));
      }
      raw_server = Trim(text.str());
      c.server_from = url_file.string();
    }
  }
  auto server = NormaliseServerUrl(raw_server, c.server_from);
  if (!server) return Error(server.error());
  c.server = *server;

  c.token_file = (dir / "admin.token").string();
  if (!flags.token.empty()) {
    c.token = flags.token;
    c.token_from = "--token";
  } else if (auto v = env("GPUPOOL_TOKEN")) {
    c.token = *v;
    c.token_from = "GPUPOOL_TOKEN";
  } else {
    std::error_code ec;
    if (std::filesystem::exists(c.token_file, ec)) {
      std::ifstream in(c.token_file);
      std::stringstream text;
      if (in) text << in.rdbuf();
      if (!in) {
        return Error(Status::IoError("cannot read the token file " + c.token_file +
                                     " (pass --token or set GPUPOOL_TOKEN)"));
      }
      // The file holds the token and perhaps a newline.
      c.token = Trim(text.str());
      c.token_from = c.token_file;
    }
  }
  return c;
}

}  // namespace gpupool::app

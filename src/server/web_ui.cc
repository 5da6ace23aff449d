#include "server/web_ui.h"

#include <cctype>

namespace gpupool::server {
namespace {

// Written into the index where the page reads its base path (web/index.html).
constexpr std::string_view kBaseMarker = "__GPUPOOL_BASE_PATH__";

constexpr std::string_view kNotBuilt = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gpupool</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto; line-height: 1.5">
<h1>gpupool: the dashboard was not built</h1>
<p>This <code>gpupool</code> binary was built without node, npm or <code>web/node_modules</code>,
so the web dashboard is not in it. The REST API works: <a href="__GPUPOOL_BASE_PATH__/api/v1/openapi.json">
<code>__GPUPOOL_BASE_PATH__/api/v1/openapi.json</code></a> (with a token).</p>
<p>To build the dashboard: run <code>scripts/install-deps.sh</code> (installs node's npm and runs
<code>npm ci</code> in <code>web/</code>), then build again (<code>scripts/build.sh gpupool</code>);
CMake then bundles <code>web/</code> with esbuild and embeds it into the binary.</p>
</body></html>
)";

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t i = 0;
  while (true) {
    const std::size_t j = text.find(from, i);
    if (j == std::string_view::npos) break;
    out.append(text.substr(i, j - i));
    out.append(to);
    i = j + from.size();
  }
  out.append(text.substr(i));
  return out;
}

// NAME-HASH.EXT with HASH of 8 or more capitals and digits (esbuild's [name]-[hash]).
bool Hashed(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
  const std::size_t dot = name.find('.');
  const std::size_t dash = name.rfind('-', dot);
  if (dot == std::string_view::npos || dash == std::string_view::npos || dot - dash - 1 < 8) {
    return false;
  }
  for (std::size_t i = dash + 1; i < dot; ++i) {
    if (!std::isupper(static_cast<unsigned char>(name[i])) &&
        !std::isdigit(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  return true;
}

const WebAsset* Find(std::string_view path) {
  for (std::size_t i = 0; i < kWebAssetCount; ++i) {
    if (path == kWebAssets[i].path) return &kWebAssets[i];
  }
  return nullptr;
}

std::string_view Bytes(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace

bool WebUiBuilt() { return Find("/index.html") != nullptr; }

std::string_view ContentTypeOf(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext) return type;
  }
  return "application/octet-stream";
}

std::optional<WebResponse> ServeWebUi(std::string_view path, std::string_view base_path,
                                      bool accept_gzip) {
  if (path == "/" || path == "/index.html") {
    const WebAsset* index = Find("/index.html");
    const std::string_view page = index != nullptr ? Bytes(index->data, index->size) : kNotBuilt;
    return WebResponse{std::string(ContentTypeOf(".html")),
                       ReplaceAll(page, kBaseMarker, base_path),
                       {{"Cache-Control", "no-cache"}}};
  }
  const WebAsset* a = Find(path);
  if (a == nullptr) return std::nullopt;
  WebResponse res;
  res.content_type = std::string(ContentTypeOf(path));
  res.headers.emplace_back("Cache-Control",
                           Hashed(path) ? "public, max-age=31536000, immutable" : "no-cache");
  if (a->gzip_size > 0) {
    res.headers.emplace_back("Vary", "Accept-Encoding");
    if (accept_gzip) {
      res.headers.emplace_back("Content-Encoding", "gzip");
      res.body = std::string(Bytes(a->gzip_data, a->gzip_size));
      return res;
    }
  }
  res.body = std::string(Bytes(a->data, a->size));
  return res;
}

}  // namespace gpupool::server

// The dashboard's files as `gpupool serve` answers them at the base path (docs/serve.md).
//
// The files are web/'s bundle (web/build.mjs writes them to the build tree), embedded into the
// binary at build time by cmake/EmbedWebUi.cmake, which generates web_assets.cc; a build without
// node, npm or web/node_modules embeds none, and the index is then a small page that says the UI
// was not built and how to build it.
//
// ServeWebUi answers one GET below the base path (`path` without the base path, "/" for the
// index):
//   - "/" and "/index.html": the index, with the base path written into it (so that the page's
//     API calls go under it), `Cache-Control: no-cache`;
//   - a file of the bundle: its bytes with the content type of its extension; a file whose name
//     carries a content hash (NAME-HASH.EXT, as esbuild names them) is cacheable for a year
//     (`immutable`), others `no-cache`; the gzip variant (made at build time) when
//     `accept_gzip`, with `Content-Encoding: gzip` and `Vary: Accept-Encoding`;
//   - anything else: std::nullopt (the caller answers 404).
// Pure: no I/O, no state; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gpupool::server {

// One embedded file: its path below the base path ("/assets/app-5HKX2.js") and its bytes, plain
// and gzip-compressed (empty: no compressed variant).
struct WebAsset {
  const char* path;
  const unsigned char* data;
  std::size_t size;
  const unsigned char* gzip_data;
  std::size_t gzip_size;
};

// The embedded files (defined in the generated web_assets.cc); none when the UI was not built.
extern const WebAsset* const kWebAssets;
extern const std::size_t kWebAssetCount;

struct WebResponse {
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Whether the bundle was embedded (false: the index is the not-built page).
bool WebUiBuilt();

// See the header comment. `base_path` is "" (served at the root) or "/PREFIX" without a trailing
// slash.
std::optional<WebResponse> ServeWebUi(std::string_view path, std::string_view base_path,
                                      bool accept_gzip);

// The content type of a file name by its extension (application/octet-stream when unknown).
std::string_view ContentTypeOf(std::string_view path);

}  // namespace gpupool::server

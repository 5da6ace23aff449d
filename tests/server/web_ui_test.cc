// ServeWebUi: content types, the index with its base path (built or not), unknown paths.
#include "server/web_ui.h"

#include <gtest/gtest.h>

namespace gpupool::server {
namespace {

TEST(WebUiTest, ContentTypesByExtension) {
  EXPECT_EQ(ContentTypeOf("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("/assets/app-ABCDEFGH.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("/assets/app-ABCDEFGH.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("/icon.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeOf("/data.bin"), "application/octet-stream");
}

TEST(WebUiTest, IndexCarriesTheBasePathBuiltOrNot) {
  for (const char* path : {"/", "/index.html"}) {
    const auto r = ServeWebUi(path, "/proxy/gp", false);
    ASSERT_TRUE(r.has_value()) << path;
    EXPECT_EQ(r->content_type, "text/html; charset=utf-8");
    EXPECT_NE(r->body.find("/proxy/gp"), std::string::npos);
    EXPECT_EQ(r->body.find("__GPUPOOL_BASE_PATH__"), std::string::npos);  // every marker replaced
    EXPECT_NE(r->body.find(WebUiBuilt() ? "gpupool-base-path" : "was not built"),
              std::string::npos);
  }
}

TEST(WebUiTest, UnknownPathsAreNotServed) {
  EXPECT_FALSE(ServeWebUi("/assets/none-ABCDEFGH.js", "", true).has_value());
  EXPECT_FALSE(ServeWebUi("/api/v1/pool", "", true).has_value());
  EXPECT_FALSE(ServeWebUi("", "", true).has_value());
}

TEST(WebUiTest, EmbeddedFilesAreServedWithCacheHeaders) {
  for (std::size_t i = 0; i < kWebAssetCount; ++i) {
    const WebAsset& a = kWebAssets[i];
    if (std::string_view(a.path) == "/index.html") continue;
    const auto r = ServeWebUi(a.path, "", false);
    ASSERT_TRUE(r.has_value()) << a.path;
    EXPECT_EQ(r->body.size(), a.size);
    bool immutable = false;
    for (const auto& [k, v] : r->headers)
      immutable |= k == "Cache-Control" && v.find("immutable") != std::string::npos;
    EXPECT_TRUE(immutable) << a.path;  // esbuild's hashed names
    if (a.gzip_size > 0) {
      const auto gz = ServeWebUi(a.path, "", true);
      EXPECT_EQ(gz->body.size(), a.gzip_size);
    }
  }
}

}  // namespace
}  // namespace gpupool::server

#include "server/tokens.h"

#include <gtest/gtest.h>

namespace gpupool::server {
namespace {

TEST(TokensTest, Sha256MatchesTheStandardTestVectors) {
  // FIPS 180-2 appendix B.1 and the empty string.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(TokensTest, SecretsAreFreshAndWellFormed) {
  auto a = NewTokenSecret();
  auto b = NewTokenSecret();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 3U + 64U);
  EXPECT_TRUE(a->starts_with("gp_"));
  EXPECT_NE(*a, *b);
}

TEST(TokensTest, RegistryFindsLiveTokensOnlyAndChecksQueues) {
  TokenRegistry reg;
  store::TokenRow alice{1, "alice", Sha256Hex("gp_alice"), {"default", "research"}, false,
                        0, false};
  store::TokenRow old{2, "bob", Sha256Hex("gp_bob"), {"default"}, false, 0, true};
  store::TokenRow root{3, "admin", Sha256Hex("gp_root"), {}, true, 0, false};
  reg.Load({alice, old, root});
  auto p = reg.Find("gp_alice");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->user, "alice");
  EXPECT_TRUE(p->MaySubmitTo("research"));
  EXPECT_FALSE(p->MaySubmitTo("prod"));
  EXPECT_FALSE(reg.Find("gp_bob").has_value());  // revoked
  EXPECT_FALSE(reg.Find("gp_alicE").has_value());
  EXPECT_TRUE(reg.Find("gp_root")->MaySubmitTo("anything"));
  EXPECT_TRUE(reg.HasAdmin());
  reg.Revoke(1);
  EXPECT_FALSE(reg.Find("gp_alice").has_value());
}

}  // namespace
}  // namespace gpupool::server

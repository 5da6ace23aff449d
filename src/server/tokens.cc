#include "server/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace gpupool::server {
namespace {

std::string Hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

}  // namespace

bool Principal::MaySubmitTo(std::string_view queue) const {
  return admin || std::find(queues.begin(), queues.end(), queue) != queues.end();
}

std::string Sha256Hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md.data(), &len, EVP_sha256(), nullptr);
  return Hex(md.data(), len);
}

Result<std::string> NewTokenSecret() {
  std::array<unsigned char, 32> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(Status::IoError(std::string("getrandom: ") + std::strerror(errno)));
    }
    got += static_cast<std::size_t>(n);
  }
  return "gp_" + Hex(bytes.data(), bytes.size());
}

void TokenRegistry::Load(const std::vector<store::TokenRow>& rows) {
  std::lock_guard lock(mu_);
  by_hash_.clear();
  for (const auto& r : rows) {
    if (!r.revoked) by_hash_[r.hash_hex] = r;
  }
}

void TokenRegistry::Add(const store::TokenRow& row) {
  std::lock_guard lock(mu_);
  if (!row.revoked) by_hash_[row.hash_hex] = row;
}

void TokenRegistry::Revoke(std::int64_t id) {
  std::lock_guard lock(mu_);
  std::erase_if(by_hash_, [id](const auto& kv) { return kv.second.id == id; });
}

std::optional<Principal> TokenRegistry::Find(std::string_view token) const {
  const std::string hash = Sha256Hex(token);
  std::lock_guard lock(mu_);
  const auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  // The lookup found the entry by its hash; compare the full hashes in constant time as well.
  if (it->first.size() != hash.size() ||
      CRYPTO_memcmp(it->first.data(), hash.data(), hash.size()) != 0) {
    return std::nullopt;
  }
  const store::TokenRow& r = it->second;
  return Principal{r.id, r.user, r.admin, r.queues};
}

bool TokenRegistry::HasAdmin() const {
  std::lock_guard lock(mu_);
  return std::any_of(by_hash_.begin(), by_hash_.end(),
                     [](const auto& kv) { return kv.second.admin; });
}

}  // namespace gpupool::server

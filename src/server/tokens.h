// Tokens: who is calling. A token is "gp_" and 64 hex digits (32 random bytes from the kernel's
// CSPRNG); the store keeps only its SHA-256 (hex). A request's bearer token is hashed and looked
// up; the stored and computed hashes are then compared in constant time (CRYPTO_memcmp).
//
// A token belongs to a user and lists the queues it may submit to; an admin token may do
// everything (users, tokens, queues, nodes, every job).
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/rows.h"

namespace gpupool::server {

struct Principal {
  std::int64_t token_id = 0;
  std::string user;
  bool admin = false;
  std::vector<std::string> queues;

  bool MaySubmitTo(std::string_view queue) const;
};

// SHA-256 of `text`, lower-case hex.
std::string Sha256Hex(std::string_view text);
// A new random token ("gp_" + 64 hex digits). IoError when no randomness is available.
Result<std::string> NewTokenSecret();

class TokenRegistry {
 public:
  // Replaces the known tokens with `rows` (from the store; revoked ones are ignored).
  void Load(const std::vector<store::TokenRow>& rows);
  void Add(const store::TokenRow& row);
  void Revoke(std::int64_t id);
  // The principal of a bearer token, or nullopt.
  std::optional<Principal> Find(std::string_view token) const;
  bool HasAdmin() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, store::TokenRow> by_hash_;  // live tokens only
};

}  // namespace gpupool::server

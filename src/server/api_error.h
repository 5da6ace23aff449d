// ApiError: what an HTTP request gets back when it fails, and the one place where a Status is
// mapped to an HTTP status. Every 4xx/5xx body has the shape of docs/api.md:
//   {"error": {"status": 400, "code": "INVALID_ARGUMENT", "member": "gpus", "message": "..."}}
// `member` names the request member at fault (a JSON path such as `env.PATH` or `command[0]`) or
// is empty.
//
// Thread safety: plain values.
#pragma once

#include <expected>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace gpupool::server {

struct ApiError {
  int http_status = 500;
  std::string code;  // "INVALID_ARGUMENT", "UNAUTHENTICATED", ...
  std::string member;
  std::string message;

  nlohmann::json ToJson() const;
};

template <typename T>
using ApiResult = std::expected<T, ApiError>;

// The ApiError for a failed Status: kInvalidArgument 400, kNotFound 404, kFailedPrecondition 409,
// kUnavailable 503, anything else 500.
ApiError FromStatus(const Status& s, std::string member = {});

ApiError BadRequest(std::string member, std::string message);
ApiError Unauthenticated(std::string message);
ApiError PermissionDenied(std::string message);
ApiError NotFoundError(std::string message);
ApiError Conflict(std::string message);

inline std::unexpected<ApiError> Fail(ApiError e) {
  return std::unexpected<ApiError>(std::move(e));
}

}  // namespace gpupool::server

#include "server/api_error.h"

#include <utility>

namespace gpupool::server {

nlohmann::json ApiError::ToJson() const {
  nlohmann::json e = {{"status", http_status}, {"code", code}};
  if (!member.empty()) e["member"] = member;
  e["message"] = message;
  return nlohmann::json{{"error", std::move(e)}};
}

ApiError FromStatus(const Status& s, std::string member) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return {400, "INVALID_ARGUMENT", std::move(member), s.message()};
    case StatusCode::kNotFound:
      return {404, "NOT_FOUND", std::move(member), s.message()};
    case StatusCode::kFailedPrecondition:
      return {409, "FAILED_PRECONDITION", std::move(member), s.message()};
    case StatusCode::kUnavailable:
      return {503, "UNAVAILABLE", std::move(member), s.message()};
    default:
      return {500, "INTERNAL", std::move(member), s.message()};
  }
}

ApiError BadRequest(std::string member, std::string message) {
  return {400, "INVALID_ARGUMENT", std::move(member), std::move(message)};
}
ApiError Unauthenticated(std::string message) {
  return {401, "UNAUTHENTICATED", {}, std::move(message)};
}
ApiError PermissionDenied(std::string message) {
  return {403, "PERMISSION_DENIED", {}, std::move(message)};
}
ApiError NotFoundError(std::string message) { return {404, "NOT_FOUND", {}, std::move(message)}; }
ApiError Conflict(std::string message) {
  return {409, "FAILED_PRECONDITION", {}, std::move(message)};
}

}  // namespace gpupool::server

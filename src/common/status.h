// Status and Result<T>: the operational-error tier of gpupool (see ../shared STYLE: errors in
// three tiers). Domain outcomes are plain values; I/O, parsing and bad input return a Status with a
// small closed set of codes and a human message that names the file, line, field or member at
// fault; broken invariants abort through GP_CHECK (common/check.h).
//
// Thread safety: values, freely copyable.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace gpupool {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad user input: a flag, a file's content, a request member
  kNotFound,         // a named thing (file, GPU model, policy, job) does not exist
  kIoError,          // the OS refused (open, read, write, dlopen)
  kUnavailable,      // a dependency is missing or not answering (NVML, a driver)
  kFailedPrecondition,
  kInternal,
};

// Name of a code, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: pods.csv:12: gpu_milli: 1200 is over 1000".
  std::string ToString() const;

  // Exit code for a command-line failure of this kind: 2 for bad input, 1 otherwise.
  int ExitCode() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
using Result = std::expected<T, Status>;

// Shorthand for returning an error from a function that returns Result<T>.
inline std::unexpected<Status> Error(Status s) { return std::unexpected<Status>(std::move(s)); }

}  // namespace gpupool

// Propagates a non-OK Status from an expression that yields Status.
#define GP_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::gpupool::Status gp_status_ = (expr);   \
    if (!gp_status_.ok()) return gp_status_; \
  } while (false)

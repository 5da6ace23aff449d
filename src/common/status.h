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
  // The error of a Result: `return Error(s);` means the same in a function returning Status as in
  // one returning Result<T>, which is what lets GP_RETURN_IF_ERROR serve both.
  Status(std::unexpected<Status> error) : Status(std::move(error.error())) {}  // NOLINT: implicit

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

namespace gpupool::internal {

// What the error macros below need of a Status or a Result<T>.
inline bool IsOk(const Status& s) { return s.ok(); }
template <typename T>
bool IsOk(const Result<T>& r) {
  return r.has_value();
}
// Only called on the macros' named lvalue, never on a temporary.
// NOLINTBEGIN(bugprone-return-const-ref-from-parameter)
inline const Status& ErrorOf(const Status& s) { return s; }
// NOLINTEND(bugprone-return-const-ref-from-parameter)
template <typename T>
const Status& ErrorOf(const Result<T>& r) {
  return r.error();
}

}  // namespace gpupool::internal

// The two error macros of gpupool, for functions that return Status or Result<T>.
//
// GP_RETURN_IF_ERROR(expr): `expr` yields a Status or a Result<T>; when it holds an error, the
// enclosing function returns that error (its value, if any, is dropped).
//
//   GP_RETURN_IF_ERROR(WriteFile(path, text));
//
// GP_ASSIGN_OR_RETURN(lhs, expr): `expr` yields a Result<T>; on success its value is moved into
// `lhs`, a declaration or an assignable expression; on error the enclosing function returns it.
//
//   GP_ASSIGN_OR_RETURN(const YAML::Node root, LoadYamlFile(path));
//   GP_ASSIGN_OR_RETURN(sheet.name, r.StringOr("name", file));
//
// GP_ASSIGN_OR_RETURN expands to several statements (it has to declare `lhs` in the enclosing
// scope, under a name made unique with __COUNTER__): do not use it as the unbraced body of an if
// or a loop, and declare a `lhs` whose type holds a comma (std::map<K, V>) before the macro.
#define GP_RETURN_IF_ERROR(expr)                                            \
  do {                                                                      \
    auto&& gp_status_or_ = (expr);                                          \
    if (!::gpupool::internal::IsOk(gp_status_or_)) {                        \
      return ::gpupool::Error(::gpupool::internal::ErrorOf(gp_status_or_)); \
    }                                                                       \
  } while (false)

#define GP_ASSIGN_OR_RETURN(lhs, expr) \
  GP_ASSIGN_OR_RETURN_IMPL_(GP_STATUS_CONCAT_(gp_result_, __COUNTER__), lhs, expr)
#define GP_STATUS_CONCAT_INNER_(a, b) a##b
#define GP_STATUS_CONCAT_(a, b) GP_STATUS_CONCAT_INNER_(a, b)
// One line, so that the NOLINT covers it: `tmp` is a name and `lhs` may be a declaration
// (`auto x`), neither of which can be parenthesised.
// clang-format off
#define GP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) auto tmp = (expr); if (!tmp.has_value()) return ::gpupool::Error(std::move(tmp).error()); lhs = std::move(*tmp)  // NOLINT(bugprone-macro-parentheses)
// clang-format on

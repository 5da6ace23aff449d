// Small ASCII string helpers shared by every module: trimming, case folding and the
// "letters and digits only" key that name look-ups build on.
//
// All of them work on bytes: only the ASCII whitespace, letters and digits are recognised, and
// any other byte (UTF-8 sequences included) passes through unchanged or, in AlnumLower, is
// dropped. None depends on the C or C++ locale, so the same input gives the same key everywhere.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gpupool {

// True for the six ASCII whitespace bytes: ' ', '\t', '\n', '\v', '\f', '\r'.
constexpr bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// `s` without leading and trailing ASCII whitespace (" a b\r\n" -> "a b").
std::string Trim(std::string_view s);

// `s` with ASCII 'A'-'Z' lower-cased ("H100-SXM" -> "h100-sxm").
std::string Lower(std::string_view s);

// `s` with ASCII 'a'-'z' upper-cased ("0000:1b:00.0" stays, "1b" -> "1B").
std::string Upper(std::string_view s);

// The ASCII letters and digits of `s`, lower-cased, everything else dropped
// ("Meta-Llama-3 8B" -> "metallama38b"): the base of the spelling-insensitive name keys
// (hw::NormalizeName for GPUs, the planner's model preset names).
std::string AlnumLower(std::string_view s);

// The fields of `s` between `sep` bytes, empty ones kept ("a,,b" -> {"a", "", "b"}; "" -> {""}):
// the plain CSV lines of the traces (no quoting) and comma-separated flag values. The views
// point into `s`.
std::vector<std::string_view> Split(std::string_view s, char sep);

}  // namespace gpupool

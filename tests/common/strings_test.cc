#include "common/strings.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace gpupool {
namespace {

using Case = std::pair<std::string, std::string>;  // input, expected

TEST(StringsTest, TrimRemovesEveryAsciiWhitespaceKindAtBothEnds) {
  const std::vector<Case> table = {
      {"", ""},
      {"   ", ""},
      {" \t\n\v\f\r", ""},  // all six kinds, nothing else: empty
      {"a", "a"},
      {"  a b  ", "a b"},                                  // inner space kept
      {"\tH100\r\n", "H100"},                              // a CRLF line's end
      {"\v\fx\f\v", "x"},                                  // vertical tab and form feed count too
      {"a\tb\nc", "a\tb\nc"},                              // only the ends are touched
      {std::string("\0a\0", 3), std::string("\0a\0", 3)},  // NUL is not whitespace
  };
  for (const auto& [in, want] : table) EXPECT_EQ(Trim(in), want) << "'" << in << "'";
}

TEST(StringsTest, TrimLeavesNonAsciiBytesAlone) {
  // U+00A0 NO-BREAK SPACE is C2 A0 in UTF-8 and U+3000 IDEOGRAPHIC SPACE is E3 80 80: neither
  // is ASCII whitespace, so both stay, byte for byte.
  EXPECT_EQ(Trim("\xC2\xA0x\xC2\xA0"), "\xC2\xA0x\xC2\xA0");
  EXPECT_EQ(Trim(" \xE3\x80\x80 "), "\xE3\x80\x80");
  // 0x85 (NEL in Latin-1) is a continuation byte here: "…" is E2 80 A6, "é" is C3 A9.
  EXPECT_EQ(Trim(" caf\xC3\xA9 \xE2\x80\xA6\n"), "caf\xC3\xA9 \xE2\x80\xA6");
  EXPECT_EQ(Trim("\x85x\x85"), "\x85x\x85");
}

TEST(StringsTest, LowerAndUpperFoldOnlyAsciiLetters) {
  EXPECT_EQ(Lower(""), "");
  EXPECT_EQ(Lower("H100-SXM 80GB"), "h100-sxm 80gb");
  EXPECT_EQ(Lower("already lower 123 _-.@"), "already lower 123 _-.@");
  EXPECT_EQ(Upper("0000:1b:00.0"), "0000:1B:00.0");
  EXPECT_EQ(Upper(""), "");
  // "É" is C3 89, "é" is C3 A9: multi-byte letters are not folded, in either direction, and the
  // bytes are not mangled (0xC3 - 'A' + 'a' would be 0xE3 if the range check were missing).
  EXPECT_EQ(Lower("\xC3\x89T\xC3\xA9"), "\xC3\x89t\xC3\xA9");
  EXPECT_EQ(Upper("\xC3\x89t\xC3\xA9"), "\xC3\x89T\xC3\xA9");
  // The bytes just outside the letter ranges: '@' (0x40), '[' (0x5B), '`' (0x60), '{' (0x7B).
  EXPECT_EQ(Lower("@AZ["), "@az[");
  EXPECT_EQ(Upper("`az{"), "`AZ{");
}

TEST(StringsTest, AlnumLowerKeepsAsciiLettersAndDigitsInLowerCase) {
  const std::vector<Case> table = {
      {"", ""},
      {"---", ""},
      {"Meta-Llama-3-8B", "metallama38b"},
      {"A100-SXM4 80GB", "a100sxm480gb"},
      {" qwen2.5_7B\t", "qwen257b"},
      {"caf\xC3\xA9-1", "caf1"},  // the two bytes of "é" are not ASCII letters: dropped
  };
  for (const auto& [in, want] : table) EXPECT_EQ(AlnumLower(in), want) << "'" << in << "'";
}

TEST(StringsTest, IsAsciiSpaceIsExactlyTheSixBytes) {
  int count = 0;
  for (int b = 0; b < 256; ++b) count += IsAsciiSpace(static_cast<char>(b)) ? 1 : 0;
  EXPECT_EQ(count, 6);  // 0x09-0x0D and 0x20
  for (const char c : {' ', '\t', '\n', '\v', '\f', '\r'}) EXPECT_TRUE(IsAsciiSpace(c));
}

TEST(StringsTest, SplitKeepsEveryFieldEmptyOnesIncluded) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(Split("a,b,c", ','), (V{"a", "b", "c"}));
  EXPECT_EQ(Split("a,,b", ','), (V{"a", "", "b"}));
  EXPECT_EQ(Split(",a,", ','), (V{"", "a", ""}));
  EXPECT_EQ(Split("", ','), (V{""}));
  EXPECT_EQ(Split("x|y", '|'), (V{"x", "y"}));
}

}  // namespace
}  // namespace gpupool

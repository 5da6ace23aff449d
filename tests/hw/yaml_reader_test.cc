#include "hw/yaml_reader.h"

#include <gtest/gtest.h>

namespace gpupool::hw {
namespace {

YAML::Node Parse(const char* text) {
  auto n = LoadYamlText(text, "t.yaml");
  EXPECT_TRUE(n.has_value());
  return n ? *n : YAML::Node();
}

TEST(YamlReaderTest, FigureTakesTheEntryDefaultsOrItsOwn) {
  const YAML::Node n = Parse(R"(name: X
sources:
  ds: "Datasheet p. 2"
source: ds
verified: true
plain: 80
own: {value: 3.5, source: "other doc", verified: false}
keyed: {value: 7, source: ds}
sparse: {sparse: 1979}
)");
  YamlReader r("t.yaml", n, "X");
  ASSERT_TRUE(r.LoadDefaults().ok());
  EXPECT_EQ(r.default_source(), "Datasheet p. 2");  // "ds" resolved through sources:

  auto plain = r.Figure("plain");
  ASSERT_TRUE(plain.has_value());
  EXPECT_DOUBLE_EQ(plain->value, 80);
  EXPECT_EQ(plain->source, "Datasheet p. 2");
  EXPECT_TRUE(plain->verified);

  auto own = r.Figure("own");
  ASSERT_TRUE(own.has_value());
  EXPECT_DOUBLE_EQ(own->value, 3.5);
  EXPECT_EQ(own->source, "other doc");
  EXPECT_FALSE(own->verified);

  EXPECT_EQ(r.Figure("keyed")->source, "Datasheet p. 2");

  // sparse: 1979 -> dense 1979 / 2 = 989.5, derivation appended to the source.
  auto sparse = r.Figure("sparse");
  ASSERT_TRUE(sparse.has_value());
  EXPECT_DOUBLE_EQ(sparse->value, 989.5);
  EXPECT_EQ(sparse->source, "Datasheet p. 2 (sparse 1979 / 2)");
}

TEST(YamlReaderTest, ErrorsNameFileLineEntryAndField) {
  const YAML::Node n = Parse("name: X\nsource: s\nyear: 20x4\nmem: [1, 2]\nflag: maybe\n");
  YamlReader r("t.yaml", n, "X");
  ASSERT_TRUE(r.LoadDefaults().ok());
  EXPECT_EQ(r.Int("year").error().message(), "t.yaml:3: X: year: '20x4' is not a whole number");
  EXPECT_EQ(r.Figure("mem").error().message(),
            "t.yaml:4: X: mem: expected a number or {value:, source:, verified:}");
  EXPECT_EQ(r.BoolOr("flag", false).error().message(), "t.yaml:5: X: flag: expected true or false");
  EXPECT_EQ(r.String("absent").error().message(), "t.yaml:1: X: absent: missing");
  EXPECT_EQ(r.OnlyKeys({"name", "source", "year", "mem"}).message(),
            "t.yaml:5: X: flag: unknown field (known: name, source, year, mem)");
  EXPECT_EQ(*r.IntOr("absent", 7), 7);
}

TEST(YamlReaderTest, MalformedYamlNamesTheLine) {
  auto n = LoadYamlText("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml");
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(n.error().message().find("bad.yaml:"), std::string::npos);
  EXPECT_NE(n.error().message().find("malformed YAML"), std::string::npos);

  auto missing = LoadYamlFile("/nonexistent/gpupool/x.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST(YamlReaderTest, LineOfIsOneBased) {
  const YAML::Node n = Parse("a: 1\nb: 2\n");
  EXPECT_EQ(LineOf(n["b"]), 2);
  EXPECT_EQ(LineOf(YAML::Node()), 0);
}

}  // namespace
}  // namespace gpupool::hw

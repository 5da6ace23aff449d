#include "hw/name_match.h"

#include <gtest/gtest.h>

namespace gpupool::hw {
namespace {

TEST(NameMatchTest, NormalizeKeepsLettersAndDigitsInLowerCase) {
  const std::pair<const char*, const char*> table[] = {
      {"H100", "h100"},
      {"h100-sxm", "h100sxm"},
      {"A100-80GB", "a10080gb"},
      {"a100-sxm4-80gb", "a100sxm480gb"},
      {"A100 SXM4 80 GB", "a100sxm480gb"},     // spaces drop like dashes
      {"NVIDIA H800", "h800"},                 // vendor word dropped
      {"NVIDIA GeForce RTX 4090", "rtx4090"},  // two leading words dropped
      {"AMD Instinct MI300X", "mi300x"},
      {"nvidia", "nvidia"},  // nothing would be left: kept
      {"4090", "4090"},
      {"", ""},
  };
  for (const auto& [in, out] : table) EXPECT_EQ(NormalizeName(in), out) << in;
}

TEST(NameMatchTest, EditDistanceCountsSingleCharacterEdits) {
  EXPECT_EQ(EditDistance("", ""), 0);
  EXPECT_EQ(EditDistance("h100", "h100"), 0);
  EXPECT_EQ(EditDistance("h100", "h200"), 1);       // one substitution
  EXPECT_EQ(EditDistance("h100", "h10"), 1);        // one deletion
  EXPECT_EQ(EditDistance("a100", "a1000"), 1);      // one insertion
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);  // k->s, e->i, +g
  EXPECT_EQ(EditDistance("", "abc"), 3);
}

TEST(NameMatchTest, ClosestNamesPutsContainmentBeforeEditDistance) {
  const std::vector<NameKeys> entries = {
      {"H200-SXM", {"H200-SXM", "h200"}},
      {"H100-SXM", {"H100-SXM", "h100"}},
      {"L40S", {"L40S"}},
      {"MI300X", {"MI300X"}},
  };
  // "h10": contained in "h100" (rank 0); "h200" is 2 edits away (rank 3, cut max(2, 3/3) = 2).
  auto close = ClosestNames("h10", entries);
  ASSERT_EQ(close.size(), 2u);
  EXPECT_EQ(close[0], "H100-SXM");
  EXPECT_EQ(close[1], "H200-SXM");
  // "mi300": contained in "mi300x".
  EXPECT_EQ(ClosestNames("mi300", entries), std::vector<std::string>{"MI300X"});
  // Nothing near "zzzzzz".
  EXPECT_TRUE(ClosestNames("zzzzzz", entries).empty());
  // The limit caps the list.
  EXPECT_EQ(ClosestNames("h", entries, 1).size(), 1u);
}

}  // namespace
}  // namespace gpupool::hw

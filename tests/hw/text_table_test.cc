#include "hw/text_table.h"

#include <gtest/gtest.h>

namespace gpupool::hw {
namespace {

TEST(TextTableTest, RightAlignsNumericColumnsAndLeftAlignsText) {
  TextTable t({"GPU", "BF16"});
  t.AddRow({"H100-SXM", "989.5"});
  t.AddRow({"L4", "121*"});
  t.AddRow({"V100", "-"});
  // Widths: GPU column 8 ("H100-SXM"), BF16 column 5 ("989.5"); two spaces between.
  EXPECT_EQ(t.Render(),
            "GPU        BF16\n"
            "--------  -----\n"
            "H100-SXM  989.5\n"
            "L4         121*\n"
            "V100          -\n");
}

TEST(TextTableTest, PadsShortRowsAndTrimsTrailingSpace) {
  TextTable t({"A", "B", "C"});
  t.AddRow({"x"});
  EXPECT_EQ(t.rows(), 1u);
  EXPECT_EQ(t.Render(), "A  B  C\n-  -  -\nx\n");
}

TEST(TextTableTest, CountsUtf8CodePointsForWidth) {
  TextTable t({"K", "V"});
  t.AddRow({"≥", "a"});  // one column wide, three bytes
  EXPECT_EQ(t.Render(), "K  V\n-  -\n≥  a\n");
}

TEST(TextTableTest, LooksNumeric) {
  for (const char* yes : {"1", "989.5", "-", "121*", "47.9%", "2x", "-3", "1,979", "inf"}) {
    EXPECT_TRUE(LooksNumeric(yes)) << yes;
  }
  for (const char* no : {"", "H100", "PCIe4", "*", "1.2.3a", "not stated"}) {
    EXPECT_FALSE(LooksNumeric(no)) << no;
  }
}

}  // namespace
}  // namespace gpupool::hw

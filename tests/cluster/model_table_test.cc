#include "cluster/model_table.h"

#include <gtest/gtest.h>

namespace gpupool::cluster {
namespace {

TEST(ModelTableTest, InternsOnceAndFinds) {
  ModelTable t;
  EXPECT_EQ(*t.Intern("G2"), 0);
  EXPECT_EQ(*t.Intern("T4"), 1);
  EXPECT_EQ(*t.Intern("G2"), 0);
  EXPECT_EQ(t.size(), 2);
  EXPECT_EQ(t.Find("T4"), ModelId{1});
  EXPECT_FALSE(t.Find("A100").has_value());
  EXPECT_EQ(t.Known(), "G2, T4");
}

TEST(ModelTableTest, MaskZeroAllowsAnyModel) {
  EXPECT_TRUE(ModelAllowed(kAnyModel, 5));
  EXPECT_TRUE(ModelAllowed(0b100, 2));
  EXPECT_FALSE(ModelAllowed(0b100, 1));
}

TEST(ModelTableTest, RefusesMoreThan64Models) {
  ModelTable t;
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(t.Intern("m" + std::to_string(i)).has_value());
  EXPECT_FALSE(t.Intern("one-too-many").has_value());
}

}  // namespace
}  // namespace gpupool::cluster

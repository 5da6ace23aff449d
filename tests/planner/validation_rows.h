// Rows of docs/planner-validation.md, shared by the validation tests (validation_test.cc: training
// and the first serving rows; serving_validation_test.cc: "Serving and collectives"). A case is a
// published figure with its source and the planner's value for the same setup; the page shows one
// table row per case, which the tests check is exactly what the planner computes now.
//
// Each case has a tolerance (memory 10 %, step time / throughput / latency / bandwidth and
// GPU-hours 15 %) and a role:
// - calibration: a planner constant was chosen on it. It shows the fit; it validates nothing.
// - out-of-sample: no constant was chosen on it; only these count as validation.
// A case outside its tolerance carries its reason in `miss`; the tests then check that it still
// misses (so fixing the model forces the page to change) and stays within `miss_bound`.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "planner_fixtures.h"

namespace gpupool::planner::testing {

enum class Role { kCalibration, kOutOfSample };

struct Case {
  std::string name;    // as in the page's table
  std::string metric;  // as in the page's table
  double published;
  std::function<double()> planner;
  double tolerance;
  Role role;
  std::string source;
  std::string miss;  // empty: must be within tolerance
  double miss_bound = 0;
};

// 1234567 -> "1,234,567" (the integer part of a decimal string gets thousands separators).
inline std::string Thousands(std::string s) {
  const size_t dot = s.find('.');
  size_t end = dot == std::string::npos ? s.size() : dot;
  const size_t begin = s[0] == '-' ? 1 : 0;
  for (size_t i = end; i > begin + 3; i -= 3) s.insert(i - 3, ",");
  return s;
}

// The planner's value as the page prints it: 4 significant digits.
inline std::string Significant4(double v) {
  char buf[64];
  const int magnitude = v == 0 ? 0 : static_cast<int>(std::floor(std::log10(std::abs(v))));
  const int decimals = std::max(0, 3 - magnitude);
  const double step = std::pow(10.0, magnitude - 3);
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::round(v / step) * step);
  return Thousands(buf);
}

// A published figure exactly as published.
inline std::string Published(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return Thousands(buf);
}

// The page's table row of a case labelled `label` ("12", "S3").
inline std::string Row(const std::string& label, const Case& k, double value, bool within) {
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.3f", value / k.published);
  return "| " + label + " | " + k.name + " | " + k.metric + " | " + Published(k.published) + " | " +
         Significant4(value) + " | " + ratio + " | " + (within ? "within" : "**miss**") + " | " +
         (k.role == Role::kCalibration ? "calibration" : "out-of-sample") + " |";
}
inline std::string Row(int number, const Case& k, double value, bool within) {
  return Row(std::to_string(number), k, value, within);
}

// docs/planner-validation.md.
inline std::string ReadPage() {
  std::ifstream in(DataDir() / ".." / "docs" / "planner-validation.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct RowCounts {
  int calibration = 0, calibration_within = 0;
  int out_of_sample = 0, out_of_sample_within = 0;
  int within10 = 0, within25 = 0;  // out-of-sample cases within 10 % and 25 %, any tolerance
};

// Prints the table of `cases` (labels prefix + 1, 2, ...) and checks each case: its row is on
// `page`, it names a source, and it is within its tolerance or a documented miss within its
// bound. Returns the counts for the caller to compare with the page's.
inline RowCounts CheckRows(const std::vector<Case>& cases, const std::string& prefix,
                           const std::string& page) {
  RowCounts n;
  std::printf("| # | case | metric | published | planner | ratio | verdict | set |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    const double v = k.planner();
    const double ratio = v / k.published;
    const bool ok = std::abs(ratio - 1.0) <= k.tolerance;
    if (k.role == Role::kCalibration) {
      ++n.calibration;
      n.calibration_within += ok ? 1 : 0;
    } else {
      ++n.out_of_sample;
      n.out_of_sample_within += ok ? 1 : 0;
      n.within10 += std::abs(ratio - 1.0) <= 0.10 ? 1 : 0;
      n.within25 += std::abs(ratio - 1.0) <= 0.25 ? 1 : 0;
    }
    const std::string row = Row(prefix + std::to_string(i + 1), k, v, ok);
    std::printf("%s\n", row.c_str());
    // The page shows what the planner computes now, to the digits it prints.
    EXPECT_NE(page.find(row + "\n"), std::string::npos)
        << "docs/planner-validation.md lacks the row\n"
        << row;
    EXPECT_FALSE(k.source.empty()) << k.name;
    if (k.miss.empty()) {
      EXPECT_NEAR(ratio, 1.0, k.tolerance) << k.name << " (" << k.source << ")";
    } else {
      // A documented miss: still a miss, and no worse than its bound.
      EXPECT_GT(std::abs(ratio - 1.0), k.tolerance)
          << k.name << " now within tolerance: update docs/planner-validation.md";
      EXPECT_LE(std::abs(ratio - 1.0), k.miss_bound) << k.name << ": " << k.miss;
    }
  }
  return n;
}

}  // namespace gpupool::planner::testing

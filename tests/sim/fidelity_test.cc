// Fidelity of the re-implemented baselines against the published 10-seed means (Weng et al.,
// "Beware of Fragmentation", USENIX ATC '23, as listed in ../shared/specs/openb-fill.md), on every
// variant with a published number: every baseline within 0.5 point, FGD within 0.25, the figures
// docs/fill-experiment.md states. The expected values are the paper's, not this code's. Not run
// under the sanitizers (60 runs per variant).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "sim/constrained_variant.h"
#include "sim/fill_experiment.h"

namespace gpupool::sim {
namespace {

// The tolerances docs/fill-experiment.md states (section "Fidelity").
constexpr double kBaselineTolerance = 0.5;
constexpr double kFgdTolerance = 0.25;

// Mean unallocated GPU % at arrived 100 % over the runs of `policy`, after checking that every
// seed actually ran: exactly one run per seed, each with a curve reaching bin 100 and placed pods.
// A missing or empty run fails the calling test and never enters the mean.
double MeanOfCompleteRuns(const std::vector<FillRun>& runs, const std::string& policy,
                          const std::vector<std::uint64_t>& seeds) {
  const std::set<std::uint64_t> wanted(seeds.begin(), seeds.end());
  std::set<std::uint64_t> seen;
  double sum = 0;
  for (const auto& r : runs) {
    if (r.policy != policy) continue;
    EXPECT_TRUE(wanted.count(r.seed)) << policy << ": unexpected seed " << r.seed;
    EXPECT_TRUE(seen.insert(r.seed).second) << policy << ": seed " << r.seed << " ran twice";
    EXPECT_GT(r.curve.allocation_pct.size(), 100u) << policy << " seed " << r.seed;
    EXPECT_GT(r.pods_arrived, 0) << policy << " seed " << r.seed;
    EXPECT_GT(r.pods_placed, 0) << policy << " seed " << r.seed;
    sum += r.unallocated_at_100;
  }
  EXPECT_EQ(seen, wanted) << policy << ": not every seed ran";
  if (seen != wanted) return std::numeric_limits<double>::quiet_NaN();
  return sum / double(seen.size());
}

struct Published {
  const char* trace;
  double random, dotprod, clustering, packing, bestfit, fgd;
};

const Published kPublished[] = {
    {"default", 13.70, 9.38, 8.35, 8.22, 7.14, 4.77},
    {"gpushare40", 15.14, 10.70, 10.24, 10.23, 8.56, 6.04},
    {"gpushare60", 17.19, 13.18, 13.10, 12.85, 10.94, 8.75},
    {"gpushare80", 19.38, 15.86, 15.50, 15.35, 13.34, 10.92},
    {"gpushare100", 21.10, 18.02, 17.78, 17.87, 15.38, 13.36},
    {"cpu050", 10.98, 6.97, 6.48, 6.54, 6.44, 5.00},
    {"cpu100", 12.56, 8.27, 7.58, 7.50, 6.74, 4.79},
    {"cpu200", 16.97, 12.55, 10.33, 10.02, 7.85, 5.18},
    {"cpu250", 20.00, 16.43, 12.25, 11.95, 8.79, 6.80},
};

void PrintTo(const Published& p, std::ostream* os) { *os << p.trace; }

class FidelityTest : public ::testing::TestWithParam<Published> {};

TEST_P(FidelityTest, BaselinesMatchThePaper) {
  const Published& p = GetParam();
  const std::string dir = std::string(GPUPOOL_SOURCE_DATA_DIR) + "/traces/openb/";
  auto in = LoadFillInput(dir + "openb_node_list_gpu_node.csv",
                          dir + "openb_pod_list_" + p.trace + ".csv");
  ASSERT_TRUE(in.has_value()) << in.error().ToString();
  const std::vector<std::pair<std::string, double>> expected = {
      {"random", p.random},   {"dotprod", p.dotprod}, {"clustering", p.clustering},
      {"packing", p.packing}, {"bestfit", p.bestfit}, {"fgd", p.fgd}};
  std::vector<std::string> names;
  for (const auto& e : expected) names.push_back(e.first);
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 42; s <= 51; ++s) seeds.push_back(s);
  auto runs = RunFillGrid(*in, names, seeds, FillOptions{}, 0, {});
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), expected.size() * seeds.size());
  for (const auto& [name, value] : expected) {
    const double mean = MeanOfCompleteRuns(*runs, name, seeds);
    std::printf("%s %s %.3f (published %.2f, %+.3f)\n", p.trace, name.c_str(), mean, value,
                mean - value);
    EXPECT_NEAR(mean, value, name == "fgd" ? kFgdTolerance : kBaselineTolerance)
        << p.trace << " " << name;
  }
}

INSTANTIATE_TEST_SUITE_P(PublishedVariants, FidelityTest, ::testing::ValuesIn(kPublished),
                         [](const auto& param_info) {
                           return std::string(param_info.param.trace);
                         });

// The project's own policy (issues 2 and 9): fgd-window at its default window of 64 pods
// leaves at most 4.0 % (seeds 42-51) of GPUs unallocated at arrived 100 % on default (FGD's
// published figure is 4.77) and is not worse than FGD on any pod list here, on the tuning seeds
// 42-51 and on the 40 fresh seeds 100-139 (docs/adr/0001-own-policy.md). Every run averaged must
// have run: one per policy and seed, each with a curve and placed pods (MeanOfCompleteRuns).
class OwnPolicyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(OwnPolicyTest, FgdWindowBeatsFgd) {
  const std::string trace = GetParam();
  const std::string dir = std::string(GPUPOOL_SOURCE_DATA_DIR) + "/traces/openb/";
  auto in =
      LoadFillInput(dir + "openb_node_list_gpu_node.csv", dir + "openb_pod_list_" + trace + ".csv");
  ASSERT_TRUE(in.has_value()) << in.error().ToString();
  for (const auto& [lo, hi] : {std::pair<std::uint64_t, std::uint64_t>{42, 51}, {100, 139}}) {
    std::vector<std::uint64_t> seeds;
    for (auto s = lo; s <= hi; ++s) seeds.push_back(s);
    auto runs = RunFillGrid(*in, {"fgd", "fgd-window"}, seeds, FillOptions{}, 0, {});
    ASSERT_TRUE(runs.has_value());
    // Both policies on every seed, nothing else: a run that did not happen cannot be averaged.
    ASSERT_EQ(runs->size(), 2 * seeds.size());
    for (const auto& r : *runs) ASSERT_EQ(r.window, r.policy == "fgd" ? 1 : 64);
    const double fgd = MeanOfCompleteRuns(*runs, "fgd", seeds);
    const double own = MeanOfCompleteRuns(*runs, "fgd-window", seeds);
    EXPECT_LT(own, fgd) << trace << " seeds " << lo << "-" << hi;
    // Default: issue 9's 4.0 % on the seeds it was stated for (42-51; measured 3.96); on the fresh
    // seeds 100-139 (measured 4.02) issue 2's bound of 4.3 %.
    if (trace == "default") {
      EXPECT_LE(own, lo == 42 ? 4.0 : 4.3) << "seeds " << lo << "-" << hi;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllPodLists, OwnPolicyTest,
                         ::testing::Values("default", "gpushare20", "gpushare40", "gpushare60",
                                           "gpushare80", "gpushare100", "cpu0", "cpu037", "cpu050",
                                           "cpu072", "cpu100", "cpu200", "cpu235", "cpu250",
                                           "cpu300"));

// Issue 9: the same on constrained variants of default made by sim/constrained_variant.h (5 to
// 40 % of the GPU pods tied to GPU models, three draws each; by the cluster's model mix, and
// uniformly over the models, which overloads the rare ones), seeds 1-10: fgd-window no worse than
// FGD. These variants are the ones the policy was tuned on (docs/adr/0001-own-policy.md); the
// paper's own gpu_spec lists are not in the repository and serve as the held-out check.
struct Variant {
  double share;
  bool uniform;
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.share << (v.uniform ? " uniform" : "");
}

class ConstrainedVariantTest : public ::testing::TestWithParam<Variant> {};

TEST_P(ConstrainedVariantTest, FgdWindowNoWorseThanFgd) {
  const Variant v = GetParam();
  const std::string dir = std::string(GPUPOOL_SOURCE_DATA_DIR) + "/traces/openb/";
  auto base =
      LoadFillInput(dir + "openb_node_list_gpu_node.csv", dir + "openb_pod_list_default.csv");
  ASSERT_TRUE(base.has_value()) << base.error().ToString();
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 1; s <= 10; ++s) seeds.push_back(s);
  for (std::uint64_t draw = 1; draw <= 3; ++draw) {
    ConstrainOptions opt;
    opt.share = v.share;
    opt.draw = draw;
    opt.uniform_models = v.uniform;
    auto in = ConstrainVariant(*base, opt);
    ASSERT_TRUE(in.has_value());
    auto runs = RunFillGrid(*in, {"fgd", "fgd-window"}, seeds, FillOptions{}, 0, {});
    ASSERT_TRUE(runs.has_value());
    ASSERT_EQ(runs->size(), 2 * seeds.size());
    const double fgd = MeanOfCompleteRuns(*runs, "fgd", seeds);
    const double own = MeanOfCompleteRuns(*runs, "fgd-window", seeds);
    std::printf("%s fgd %.3f fgd-window %.3f (%+.3f)\n", in->trace_name.c_str(), fgd, own,
                own - fgd);
    EXPECT_LE(own, fgd) << in->trace_name;
  }
}

std::string VariantName(const ::testing::TestParamInfo<Variant>& param_info) {
  return "spec" + std::to_string(std::lround(100 * param_info.param.share)) +
         (param_info.param.uniform ? "_uniform" : "");
}

INSTANTIATE_TEST_SUITE_P(Default, ConstrainedVariantTest,
                         ::testing::Values(Variant{0.05, false}, Variant{0.10, false},
                                           Variant{0.20, false}, Variant{0.25, false},
                                           Variant{0.33, false}, Variant{0.40, false},
                                           Variant{0.05, true}, Variant{0.10, true},
                                           Variant{0.20, true}, Variant{0.25, true},
                                           Variant{0.33, true}, Variant{0.40, true}),
                         VariantName);

}  // namespace
}  // namespace gpupool::sim

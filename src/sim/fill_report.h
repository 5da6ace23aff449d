// Reports of the fill experiment: per-policy summaries over seeds, the human table, the JSON
// document of `gpupool sim fill --json`, per-seed curves as CSV and a plot of unallocated GPU %
// against arrived % for all policies side by side (gnuplot, SVG and PNG; the gnuplot script is
// written beside it so the figure can be redrawn).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "sim/fill_experiment.h"

namespace gpupool::sim {

struct Stat {
  double mean = 0, median = 0, sd = 0, min = 0, max = 0;
};
Stat Summarize(std::vector<double> values);  // sd: sample standard deviation (n - 1)

struct PolicySummary {
  std::string policy;
  int seeds = 0;
  int window = 1;  // scheduling window, pods
  Stat unallocated_at_100;
  Stat allocation_at_130;
  Stat frag_amount_at_100;
  Stat frag_ratio_at_100;
  double pods_per_second = 0;                  // pods arrived / placement seconds, over all seeds
  std::vector<double> mean_unallocated_curve;  // arrived% - allocation%, mean over seeds, per bin
};

std::vector<PolicySummary> SummarizeRuns(const std::vector<FillRun>& runs,
                                         const std::vector<std::string>& policies);

std::string FormatTable(const std::string& trace, const std::vector<PolicySummary>& s);
nlohmann::json ToJson(const std::string& trace, const std::vector<PolicySummary>& s,
                      double wall_seconds, const FillOptions& opt);

// Writes DIR/curves/<policy>_seed<N>.csv, DIR/summary.json, DIR/unallocated.csv, DIR/unallocated.gp
// and the figure as DIR/unallocated.svg and DIR/unallocated.png (only where gnuplot is installed;
// a warning otherwise).
Status WriteFillOutputs(const std::string& dir, const std::string& trace,
                        const std::vector<FillRun>& runs, const std::vector<PolicySummary>& s,
                        const nlohmann::json& summary, std::string* warning);

}  // namespace gpupool::sim

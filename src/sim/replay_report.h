// Figures of `gpupool sim replay --out DIR`: the JCT distribution of each run (jct_cdf.csv,
// jct_cdf.gp, jct_cdf.svg and .png) and, where the runs were sampled, the pool over time
// (over_time.csv, over_time.gp, over_time.svg and .png: GPU allocation and the GPUs the waiting
// jobs ask for). The figures are drawn where gnuplot is installed (sim/plot.h); a warning
// otherwise.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "sim/replay.h"

namespace gpupool::sim {

// `labels[i]` names runs[i] in the legends and column headers.
Status WriteReplayPlots(const std::string& dir, const std::vector<ReplayRun>& runs,
                        const std::vector<std::string>& labels, std::string* warning);

}  // namespace gpupool::sim

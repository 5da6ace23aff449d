#include "sim/replay_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "sim/plot.h"

namespace gpupool::sim {

Status WriteReplayPlots(const std::string& dir, const std::vector<ReplayRun>& runs,
                        const std::vector<std::string>& labels, std::string* warning) {
  namespace fs = std::filesystem;
  // JCT at each percentile (nearest rank) of the jobs each run replayed.
  std::vector<std::vector<double>> sorted(runs.size());
  for (std::size_t r = 0; r < runs.size(); ++r) {
    for (const auto& o : runs[r].outcomes) {
      if (o.start_s >= 0) sorted[r].push_back(static_cast<double>(o.end_s - o.submit_s));
    }
    std::sort(sorted[r].begin(), sorted[r].end());
  }
  std::string csv = "percentile";
  for (const auto& l : labels) csv += "," + l;
  csv += "\n";
  for (int p = 0; p <= 100; ++p) {
    csv += std::to_string(p);
    for (const auto& v : sorted) {
      csv += ",";
      if (v.empty()) continue;
      const auto rank =
          static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
      csv += fmt::format("{}", std::max(1.0, v[std::max<std::size_t>(rank, 1) - 1]));
    }
    csv += "\n";
  }
  GP_RETURN_IF_ERROR(WriteTextFile(fs::path(dir) / "jct_cdf.csv", csv));
  std::string gp = "set terminal svg size 900,560 dynamic font 'sans,13'\n";
  gp += "set output 'jct_cdf.svg'\nset datafile separator ','\n";
  gp += "set title 'Job completion time, cumulative' noenhanced\n";
  gp += "set xlabel 'JCT (s)'\nset ylabel 'Fraction of jobs'\nset logscale x\n";
  gp += "set key bottom right\nset grid\nset yrange [0:1]\nplot ";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    gp += fmt::format("{}'jct_cdf.csv' using {}:($1/100) with lines lw 2 title {} noenhanced",
                      i ? ", " : "", i + 2, GnuplotString(labels[i]));
  }
  gp += "\nset terminal pngcairo size 900,560 font 'sans,11'\nset output 'jct_cdf.png'\nreplot\n";
  GP_RETURN_IF_ERROR(WriteTextFile(fs::path(dir) / "jct_cdf.gp", gp));
  std::string first_warning;
  RunGnuplot(dir, "jct_cdf.gp", &first_warning);

  std::size_t samples = 0;
  for (const auto& r : runs) samples = std::max(samples, r.samples.size());
  if (samples > 0) {
    // Columns: t in hours, then per run its allocation %, its fragment % (FGD's measure against
    // the learned workload) and its pending GPUs.
    std::string over = "t_h";
    for (const auto& l : labels) {
      over += "," + l + " allocated_pct," + l + " fragmented_pct," + l + " pending_gpus";
    }
    over += "\n";
    for (std::size_t k = 0; k < samples; ++k) {
      const ReplaySample* any = nullptr;
      for (const auto& r : runs) {
        if (k < r.samples.size()) any = &r.samples[k];
      }
      over += fmt::format("{:.3f}", static_cast<double>(any->t_s) / 3600.0);
      for (const auto& r : runs) {
        if (k < r.samples.size()) {
          over += fmt::format(",{:.4f},{:.4f},{:.3f}", r.samples[k].allocated_pct,
                              r.samples[k].fragmented_pct, r.samples[k].pending_gpus);
        } else {
          over += ",,,";
        }
      }
      over += "\n";
    }
    GP_RETURN_IF_ERROR(WriteTextFile(fs::path(dir) / "over_time.csv", over));
    std::string g = "set terminal svg size 900,1100 dynamic font 'sans,13'\n";
    g += "set output 'over_time.svg'\nset datafile separator ','\nset key top right\nset grid\n";
    g += "set multiplot layout 3,1\n";
    const auto panel = [&](const char* title, const char* ylabel, std::size_t column) {
      g += fmt::format("set title '{}' noenhanced\nset ylabel '{}'\nplot ", title, ylabel);
      for (std::size_t i = 0; i < labels.size(); ++i) {
        g += fmt::format("{}'over_time.csv' using 1:{} with lines title {} noenhanced",
                         i ? ", " : "", 2 + 3 * i + column, GnuplotString(labels[i]));
      }
      g += "\n";
    };
    g += "unset xlabel\n";
    panel("GPU allocation", "% of GPU capacity", 0);
    panel("Fragmented GPU capacity (the FGD measure)", "% of GPU capacity", 1);
    g += "set xlabel 'Simulated time (h)'\n";
    panel("GPUs the waiting jobs ask for", "GPUs", 2);
    g += "unset multiplot\n";
    GP_RETURN_IF_ERROR(WriteTextFile(fs::path(dir) / "over_time.gp", g));
    // PNG: the same script through the PNG terminal, as a second file.
    std::string png = g;
    png.replace(0, png.find('\n'), "set terminal pngcairo size 900,1100 font 'sans,11'");
    const auto out = png.find("set output 'over_time.svg'");
    png.replace(out, std::string("set output 'over_time.svg'").size(),
                "set output 'over_time.png'");
    GP_RETURN_IF_ERROR(WriteTextFile(fs::path(dir) / "over_time_png.gp", png));
    RunGnuplot(dir, "over_time.gp", warning);
    RunGnuplot(dir, "over_time_png.gp", warning);
  }
  if (warning && warning->empty()) *warning = first_warning;
  return Status::Ok();
}

}  // namespace gpupool::sim

#include "sim/fill_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <string_view>

#include "common/strings.h"
#include "sim/plot.h"

namespace gpupool::sim {

Stat Summarize(std::vector<double> v) {
  Stat s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  s.median = v.size() % 2 == 1 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  s.min = v.front();
  s.max = v.back();
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / (n - 1));
  }
  return s;
}

std::vector<PolicySummary> SummarizeRuns(const std::vector<FillRun>& runs,
                                         const std::vector<std::string>& policies) {
  std::vector<PolicySummary> out;
  for (const auto& p : policies) {
    PolicySummary s;
    s.policy = p;
    std::vector<double> u, a, fa, fr;
    double pods = 0, secs = 0;
    std::vector<double> curve_sum;
    std::vector<int> curve_n;
    for (const auto& r : runs) {
      if (r.policy != p) continue;
      ++s.seeds;
      s.window = r.window;
      u.push_back(r.unallocated_at_100);
      a.push_back(r.allocation_at_130);
      fa.push_back(r.frag_amount_at_100);
      fr.push_back(r.frag_ratio_at_100);
      pods += static_cast<double>(r.pods_arrived);
      secs += r.seconds;
      const auto& c = r.curve.allocation_pct;
      curve_sum.resize(c.size(), 0.0);
      curve_n.resize(c.size(), 0);
      for (std::size_t x = 0; x < c.size(); ++x) {
        if (std::isnan(c[x])) continue;
        curve_sum[x] += std::max(0.0, static_cast<double>(x) - c[x]);
        ++curve_n[x];
      }
    }
    s.unallocated_at_100 = Summarize(u);
    s.allocation_at_130 = Summarize(a);
    s.frag_amount_at_100 = Summarize(fa);
    s.frag_ratio_at_100 = Summarize(fr);
    s.pods_per_second = secs > 0 ? pods / secs : 0;
    s.mean_unallocated_curve.resize(curve_sum.size(), std::nan(""));
    for (std::size_t x = 0; x < curve_sum.size(); ++x) {
      if (curve_n[x] > 0) s.mean_unallocated_curve[x] = curve_sum[x] / curve_n[x];
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string FormatTable(const std::string& trace, const std::vector<PolicySummary>& rows) {
  std::string out =
      fmt::format("trace {}: unallocated GPU % at arrived 100 % (lower is better)\n", trace);
  out += fmt::format("{:<12} {:>6} {:>5} {:>7} {:>7} {:>6} {:>10} {:>10} {:>10} {:>12}\n", "policy",
                     "window", "seeds", "mean", "median", "sd", "alloc@130", "frag@100",
                     "fragratio", "pods/s");
  for (const auto& s : rows) {
    out += fmt::format(
        "{:<12} {:>6} {:>5} {:>7.2f} {:>7.2f} {:>6.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>12.0f}\n",
        s.policy, s.window, s.seeds, s.unallocated_at_100.mean, s.unallocated_at_100.median,
        s.unallocated_at_100.sd, s.allocation_at_130.mean, s.frag_amount_at_100.mean,
        s.frag_ratio_at_100.mean, s.pods_per_second);
  }
  return out;
}

namespace {
nlohmann::json StatJson(const Stat& s) {
  return {{"mean", s.mean}, {"median", s.median}, {"sd", s.sd}, {"min", s.min}, {"max", s.max}};
}
}  // namespace

nlohmann::json ToJson(const std::string& trace, const std::vector<PolicySummary>& rows,
                      double wall_seconds, const FillOptions& opt) {
  nlohmann::json j;
  j["trace"] = trace;
  j["tune"] = opt.tune;
  j["policies"] = nlohmann::json::array();
  for (const auto& s : rows) {
    // The mean curve, one value per arrived-% bin (null where no seed reached it), for plots
    // (the dashboard's Experiments page) without the --out files.
    nlohmann::json curve = nlohmann::json::array();
    for (const double v : s.mean_unallocated_curve) {
      curve.push_back(std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v));
    }
    j["policies"].push_back({{"policy", s.policy},
                             {"batch", s.window},
                             {"seeds", s.seeds},
                             {"unallocated_at_100", StatJson(s.unallocated_at_100)},
                             {"allocation_at_130", StatJson(s.allocation_at_130)},
                             {"frag_amount_at_100", StatJson(s.frag_amount_at_100)},
                             {"frag_ratio_at_100", StatJson(s.frag_ratio_at_100)},
                             {"pods_per_second", s.pods_per_second},
                             {"unallocated_curve", std::move(curve)}});
  }
  j["wall_seconds"] = wall_seconds;
  return j;
}

namespace {
std::string Num(double v) { return std::isnan(v) ? std::string("") : fmt::format("{:.4f}", v); }
}  // namespace

Status WriteFillOutputs(const std::string& dir, const std::string& trace,
                        const std::vector<FillRun>& runs, const std::vector<PolicySummary>& rows,
                        const nlohmann::json& summary, std::string* warning) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "curves", ec);
  if (ec) return Status::IoError(dir + ": cannot create directory: " + ec.message());
  for (const auto& r : runs) {
    std::string csv = "arrived_pct,allocation_pct,unallocated_pct,frag_amount_pct,frag_ratio_pct\n";
    for (std::size_t x = 0; x < r.curve.allocation_pct.size(); ++x) {
      const double a = r.curve.allocation_pct[x];
      csv += fmt::format("{},{},{},{},{}\n", x, Num(a),
                         std::isnan(a) ? "" : Num(std::max(0.0, static_cast<double>(x) - a)),
                         Num(r.curve.frag_amount_pct[x]), Num(r.curve.frag_ratio_pct[x]));
    }
    GP_RETURN_IF_ERROR(WriteTextFile(
        fs::path(dir) / "curves" / fmt::format("{}_seed{}.csv", r.policy, r.seed), csv));
  }
  GP_RETURN_IF_ERROR(WriteTextFile(fs::path(dir) / "summary.json", summary.dump(2) + "\n"));

  // Mean curves side by side, one column per policy.
  std::string table = "arrived_pct";
  for (const auto& s : rows) table += "," + s.policy;
  table += "\n";
  std::size_t bins = 0;
  for (const auto& s : rows) bins = std::max(bins, s.mean_unallocated_curve.size());
  for (std::size_t x = 0; x < bins; ++x) {
    table += std::to_string(x);
    for (const auto& s : rows)
      table += "," + (x < s.mean_unallocated_curve.size() ? Num(s.mean_unallocated_curve[x]) : "");
    table += "\n";
  }
  GP_RETURN_IF_ERROR(WriteTextFile(fs::path(dir) / "unallocated.csv", table));

  std::string gp = "set terminal svg size 900,560 dynamic font 'sans,13'\n";
  gp += "set output 'unallocated.svg'\nset datafile separator ','\n";
  gp += fmt::format("set title {} noenhanced\n",
                    GnuplotString("openb " + trace + ": unallocated GPU vs arrived workload"));
  gp += "set xlabel 'Arrived workload (% of cluster GPU capacity)'\n";
  gp +=
      "set ylabel 'Unallocated GPU (% of capacity)'\nset key top left\nset grid\nset xrange "
      "[0:*]\n";
  gp += "plot ";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    gp += fmt::format("{}'unallocated.csv' using 1:{} with lines lw 2 title {} noenhanced",
                      i ? ", " : "", i + 2, GnuplotString(rows[i].policy));
  }
  gp += "\n";
  gp += "set terminal pngcairo size 900,560 font 'sans,11'\nset output 'unallocated.png'\nreplot\n";
  GP_RETURN_IF_ERROR(WriteTextFile(fs::path(dir) / "unallocated.gp", gp));
  // The script names only files of `dir` (plot.h), so the same script also works when re-run by
  // hand in the folder (`gnuplot unallocated.gp`).
  RunGnuplot(dir, "unallocated.gp", warning);
  return Status::Ok();
}

}  // namespace gpupool::sim

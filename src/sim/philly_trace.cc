#include "sim/philly_trace.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>

#include "common/strings.h"
#include "sim/csv_reader.h"

namespace gpupool::sim {
namespace {

// The largest duration accepted: every whole number up to 2^53 is exact in a double, and a
// submit time plus such a duration still fits an int64.
constexpr double kMaxDurationS = 9007199254740992.0;  // 2^53

// Relative tolerance of the gpu_time check: the file writes both numbers with one decimal.
constexpr double kGpuTimeTolerance = 1e-6;

// Parses all of `text` as a T with std::from_chars; nullopt on any leftover or a range error.
template <typename T>
std::optional<T> ParseAll(std::string_view text) {
  T v{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// "YYYY-MM-DD HH:MM:SS" -> seconds since 1970-01-01 00:00:00, the text read as UTC. Strict: two
// digits everywhere but the four of the year, a real calendar date, 00:00:00 to 23:59:59.
std::optional<std::int64_t> ParseTimestamp(std::string_view text) {
  constexpr std::string_view kPattern = "dddd-dd-dd dd:dd:dd";
  if (text.size() != kPattern.size()) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kPattern[i] == 'd' ? !digit : text[i] != kPattern[i]) return std::nullopt;
  }
  const auto field = [&](std::size_t pos, std::size_t len) {
    return *ParseAll<int>(text.substr(pos, len));  // all digits: cannot fail
  };
  const std::chrono::year_month_day date{std::chrono::year{field(0, 4)},
                                         std::chrono::month{static_cast<unsigned>(field(5, 2))},
                                         std::chrono::day{static_cast<unsigned>(field(8, 2))}};
  const int hour = field(11, 2), minute = field(14, 2), second = field(17, 2);
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const std::chrono::sys_seconds t = std::chrono::sys_days{date} + std::chrono::hours{hour} +
                                     std::chrono::minutes{minute} + std::chrono::seconds{second};
  return t.time_since_epoch().count();
}

// One validated row of the job file, before filtering.
struct Row {
  std::int64_t submit = 0;  // seconds since the epoch (the timestamp read as UTC)
  std::int64_t duration_s = 0;
  int num_gpus = 0;
  std::string vc;
  int line = 0;
};

Result<Row> ParseRow(const CsvReader& f, const std::vector<std::string>& fields) {
  Row row;
  row.line = f.line();

  const std::string& ts = fields[f.Column("timestamp")];
  const auto submit = ParseTimestamp(ts);
  if (!submit) {
    return Error(Status::InvalidArgument(f.Where("timestamp") + "'" + ts +
                                         "' is not a timestamp YYYY-MM-DD HH:MM:SS"));
  }
  row.submit = *submit;

  const std::string& dur_text = fields[f.Column("duration")];
  const auto duration = ParseAll<double>(dur_text);
  if (!duration || !std::isfinite(*duration)) {
    return Error(
        Status::InvalidArgument(f.Where("duration") + "'" + dur_text + "' is not a number"));
  }
  if (*duration < 1 || *duration > kMaxDurationS || std::trunc(*duration) != *duration) {
    return Error(Status::InvalidArgument(f.Where("duration") + dur_text +
                                         " is not a whole number of seconds >= 1 (and <= 2^53)"));
  }
  row.duration_s = static_cast<std::int64_t>(*duration);

  const std::string& gpus_text = fields[f.Column("num_gpus")];
  const auto gpus = ParseAll<int>(gpus_text);
  if (!gpus) {
    return Error(
        Status::InvalidArgument(f.Where("num_gpus") + "'" + gpus_text + "' is not an integer"));
  }
  if (*gpus < 0) {
    return Error(Status::InvalidArgument(f.Where("num_gpus") + "negative count " + gpus_text));
  }
  row.num_gpus = *gpus;

  const std::string& gt_text = fields[f.Column("gpu_time")];
  const auto gpu_time = ParseAll<double>(gt_text);
  if (!gpu_time || !std::isfinite(*gpu_time)) {
    return Error(
        Status::InvalidArgument(f.Where("gpu_time") + "'" + gt_text + "' is not a number"));
  }
  const double expected = *duration * *gpus;
  if (std::abs(*gpu_time - expected) > kGpuTimeTolerance * std::abs(expected)) {
    return Error(Status::InvalidArgument(f.Where("gpu_time") + gt_text +
                                         " is not duration * num_gpus (" + dur_text + " * " +
                                         gpus_text + ")"));
  }

  row.vc = fields[f.Column("cluster")];
  if (row.vc.empty()) return Error(Status::InvalidArgument(f.Where("cluster") + "empty VC"));
  return row;
}

}  // namespace

Result<std::vector<std::pair<std::string, int>>> LoadVcNodes(const std::string& path) {
  auto file = CsvReader::Open(path, {"vc", "nodes"});
  if (!file) return Error(file.error());
  CsvReader& f = *file;
  const std::size_t vc_col = f.Column("vc"), nodes_col = f.Column("nodes");
  std::vector<std::pair<std::string, int>> out;
  std::vector<int> lines;  // where each VC of `out` was read, for the repeated-VC error
  std::vector<std::string> fields;
  Status error;
  while (f.Next(fields, error)) {
    const std::string& vc = fields[vc_col];
    if (vc.empty()) return Error(Status::InvalidArgument(f.Where("vc") + "empty VC"));
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i].first == vc) {
        return Error(Status::InvalidArgument(f.Where("vc") + "'" + vc +
                                             "' repeated (first on line " +
                                             std::to_string(lines[i]) + ")"));
      }
    }
    const std::string& text = fields[nodes_col];
    const auto nodes = ParseAll<int>(text);
    if (!nodes || *nodes < 1) {
      return Error(
          Status::InvalidArgument(f.Where("nodes") + "'" + text + "' is not an integer >= 1"));
    }
    out.emplace_back(vc, *nodes);
    lines.push_back(f.line());
  }
  if (!error.ok()) return Error(error);
  if (out.empty()) {
    return Error(
        Status::InvalidArgument(path + ":" + std::to_string(f.line()) + ": no VCs in the file"));
  }
  return out;
}

Result<std::vector<TraceJob>> LoadPhillyJobs(const std::string& path,
                                             const std::vector<std::pair<std::string, int>>& vcs,
                                             const PhillyOptions& opt) {
  std::int64_t from = 0;
  if (!opt.keep_all) {
    const auto parsed = ParseTimestamp(opt.from);
    if (!parsed) {
      return Error(Status::InvalidArgument("PhillyOptions.from: '" + opt.from +
                                           "' is not a timestamp YYYY-MM-DD HH:MM:SS"));
    }
    from = *parsed;
    if (opt.window_s < 0) {
      return Error(Status::InvalidArgument("PhillyOptions.window_s: negative (" +
                                           std::to_string(opt.window_s) + ")"));
    }
  }
  std::set<std::string, std::less<>> keep_vcs;
  for (const auto& [vc, nodes] : vcs) keep_vcs.insert(vc);

  auto file = CsvReader::Open(path, {"timestamp", "duration", "num_gpus", "gpu_time", "cluster"});
  if (!file) return Error(file.error());
  CsvReader& f = *file;
  std::vector<Row> rows;
  std::vector<std::string> fields;
  Status error;
  bool any_row = false;
  while (f.Next(fields, error)) {
    auto row = ParseRow(f, fields);
    if (!row) return Error(row.error());
    any_row = true;
    // Rule 1; every row is still validated above, kept or not.
    if (!opt.keep_all &&
        (row->num_gpus <= 0 || (!keep_vcs.empty() && !keep_vcs.contains(row->vc)) ||
         row->submit < from)) {
      continue;
    }
    rows.push_back(std::move(*row));
  }
  if (!error.ok()) return Error(error);
  if (!any_row) {
    return Error(
        Status::InvalidArgument(path + ":" + std::to_string(f.line()) + ": no jobs in the file"));
  }

  // Rule 2: (submit, line) is a total order, so a plain sort is as stable as the file.
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.submit != b.submit ? a.submit < b.submit : a.line < b.line;
  });

  std::vector<TraceJob> jobs;
  if (rows.empty()) return jobs;
  const std::int64_t first = rows.front().submit;
  jobs.reserve(rows.size());
  for (Row& r : rows) {
    const std::int64_t t = r.submit - first;
    if (!opt.keep_all && t > opt.window_s) break;  // rule 3; the rows are in time order
    TraceJob job;
    job.id = static_cast<std::int64_t>(jobs.size()) + 1;
    job.submit_s = t;
    job.duration_s = r.duration_s;
    job.num_gpus = r.num_gpus;
    job.queue = std::move(r.vc);
    job.line = r.line;
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace gpupool::sim

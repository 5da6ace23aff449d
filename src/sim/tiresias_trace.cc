#include "sim/tiresias_trace.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <system_error>

#include "sim/csv_reader.h"

namespace gpupool::sim {
namespace {

// The whole of `text` as an integer in [min, max], or an error naming the column.
Result<std::int64_t> ParseInt(const CsvReader& f, const std::string& column,
                              const std::string& text, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return Error(Status::InvalidArgument(f.Where(column) + "'" + text + "' is not an integer"));
  }
  if (v < min || v > max) {
    return Error(Status::InvalidArgument(f.Where(column) + text + " is out of range (" +
                                         std::to_string(min) + " to " + std::to_string(max) + ")"));
  }
  return v;
}

}  // namespace

Result<std::vector<TraceJob>> LoadTiresiasJobs(const std::string& path) {
  auto file = CsvReader::Open(path, {"num_gpu", "submit_time", "duration"});
  if (!file) return Error(file.error());
  CsvReader& f = *file;
  const std::size_t gpu_col = f.Column("num_gpu");
  const std::size_t submit_col = f.Column("submit_time");
  const std::size_t duration_col = f.Column("duration");
  // A submit time plus a duration stays far inside an int64.
  constexpr std::int64_t kMaxSeconds = std::int64_t{1} << 40;
  std::vector<TraceJob> jobs;
  std::vector<std::string> fields;
  Status bad;
  while (f.Next(fields, bad)) {
    TraceJob j;
    j.line = f.line();
    auto gpus = ParseInt(f, "num_gpu", fields[gpu_col], 1, std::numeric_limits<int>::max());
    if (!gpus) return Error(gpus.error());
    auto submit = ParseInt(f, "submit_time", fields[submit_col], 0, kMaxSeconds);
    if (!submit) return Error(submit.error());
    auto duration = ParseInt(f, "duration", fields[duration_col], 1, kMaxSeconds);
    if (!duration) return Error(duration.error());
    j.num_gpus = static_cast<int>(*gpus);
    j.submit_s = *submit;
    j.duration_s = *duration;
    jobs.push_back(std::move(j));
  }
  if (!bad.ok()) return Error(bad);
  if (jobs.empty()) {
    return Error(
        Status::InvalidArgument(path + ":" + std::to_string(f.line()) + ": no jobs in the file"));
  }
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const TraceJob& a, const TraceJob& b) { return a.submit_s < b.submit_s; });
  const std::int64_t first = jobs.front().submit_s;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].submit_s -= first;
    jobs[i].id = static_cast<std::int64_t>(i) + 1;
  }
  return jobs;
}

}  // namespace gpupool::sim

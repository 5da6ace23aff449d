#include "sim/openb_trace.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>

#include "common/strings.h"

namespace gpupool::sim {
namespace {

// The CSV files hold plain comma-separated fields without quoting (common/strings.h Split).
class CsvFile {
 public:
  static Result<CsvFile> Open(const std::string& path, const std::vector<std::string>& required) {
    CsvFile f;
    f.path_ = path;
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error(Status::InvalidArgument(path + ": cannot open file"));
    std::stringstream ss;
    ss << in.rdbuf();
    f.text_ = ss.str();
    f.pos_ = 0;
    std::string header_line;
    if (!f.NextLine(header_line))
      return Error(Status::InvalidArgument(path + ":1: empty file (no header line)"));
    for (auto col : Split(header_line, ',')) f.header_.push_back(Trim(col));
    for (const auto& r : required) {
      if (f.Column(r) < 0) {
        return Error(Status::InvalidArgument(path + ":1: " + r + ": missing column in the header"));
      }
    }
    return f;
  }

  // Next non-empty data line split into fields; false at the end.
  bool Next(std::vector<std::string_view>& fields) {
    while (NextLine(line_)) {
      if (Trim(line_).empty()) continue;
      fields = Split(line_, ',');
      return true;
    }
    return false;
  }

  int Column(const std::string& name) const {
    for (std::size_t i = 0; i < header_.size(); ++i) {
      if (header_[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
  std::size_t num_columns() const { return header_.size(); }
  int line() const { return line_no_; }
  std::string Where(const std::string& column) const {
    return path_ + ":" + std::to_string(line_no_) + ": " + column + ": ";
  }

 private:
  bool NextLine(std::string& out) {
    if (pos_ >= text_.size()) return false;
    std::size_t nl = text_.find('\n', pos_);
    if (nl == std::string::npos) nl = text_.size();
    out.assign(text_, pos_, nl - pos_);
    if (!out.empty() && out.back() == '\r') out.pop_back();
    pos_ = nl + 1;
    ++line_no_;
    return true;
  }

  std::string path_;
  std::string text_;
  std::size_t pos_ = 0;
  int line_no_ = 0;
  std::string line_;
  std::vector<std::string> header_;
};

Result<std::int64_t> ParseAmount(const CsvFile& f, const std::vector<std::string_view>& fields,
                                 const std::string& column) {
  const int c = f.Column(column);
  if (c < 0 || static_cast<std::size_t>(c) >= fields.size()) {
    return Error(Status::InvalidArgument(f.Where(column) + "missing column (the line has " +
                                         std::to_string(fields.size()) + " of " +
                                         std::to_string(f.num_columns()) + ")"));
  }
  const std::string text = Trim(fields[static_cast<std::size_t>(c)]);
  if (text.empty())
    return Error(Status::InvalidArgument(f.Where(column) + "empty, expected a number"));
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Error(Status::InvalidArgument(f.Where(column) + "'" + text + "' is not an integer"));
  }
  if (v < 0) return Error(Status::InvalidArgument(f.Where(column) + "negative amount " + text));
  return v;
}

// A time column that may be absent (the 5-column form) or empty: -1 then.
Result<std::int64_t> ParseOptionalTime(const CsvFile& f,
                                       const std::vector<std::string_view>& fields,
                                       const std::string& column) {
  const int c = f.Column(column);
  if (c < 0 || static_cast<std::size_t>(c) >= fields.size()) return std::int64_t{-1};
  if (Trim(fields[static_cast<std::size_t>(c)]).empty()) return std::int64_t{-1};
  return ParseAmount(f, fields, column);
}

Status CheckColumnCount(const CsvFile& f, const std::vector<std::string_view>& fields) {
  if (fields.size() < f.num_columns()) {
    // Name the first column the line lacks.
    return Status::InvalidArgument(
        f.Where(std::string("column ") + std::to_string(fields.size() + 1)) +
        "missing column (the line has " + std::to_string(fields.size()) + " of " +
        std::to_string(f.num_columns()) + ")");
  }
  if (fields.size() > f.num_columns()) {
    return Status::InvalidArgument(f.Where("line") + std::to_string(fields.size()) +
                                   " columns, the header has " + std::to_string(f.num_columns()));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<cluster::NodeSpec>> LoadOpenbNodes(const std::string& path) {
  auto file = CsvFile::Open(path, {"sn", "cpu_milli", "memory_mib", "gpu", "model"});
  if (!file) return Error(file.error());
  CsvFile& f = *file;
  std::vector<cluster::NodeSpec> nodes;
  std::vector<std::string_view> fields;
  const auto sn_col = static_cast<std::size_t>(f.Column("sn"));
  const auto model_col = static_cast<std::size_t>(f.Column("model"));
  while (f.Next(fields)) {
    if (Status s = CheckColumnCount(f, fields); !s.ok()) return Error(s);
    cluster::NodeSpec n;
    n.name = Trim(fields[sn_col]);
    auto cpu = ParseAmount(f, fields, "cpu_milli");
    if (!cpu) return Error(cpu.error());
    auto mem = ParseAmount(f, fields, "memory_mib");
    if (!mem) return Error(mem.error());
    auto gpus = ParseAmount(f, fields, "gpu");
    if (!gpus) return Error(gpus.error());
    if (*gpus > cluster::kMaxGpusPerNode) {
      return Error(Status::InvalidArgument(f.Where("gpu") + std::to_string(*gpus) +
                                           " GPUs, at most " +
                                           std::to_string(cluster::kMaxGpusPerNode) + " per node"));
    }
    std::string model = Trim(fields[model_col]);
    if (model == "nan") model.clear();
    if (*gpus > 0 && model.empty()) {
      return Error(Status::InvalidArgument(f.Where("model") + "empty for a node with " +
                                           std::to_string(*gpus) + " GPUs"));
    }
    n.cpu_milli = *cpu;
    n.memory_mib = *mem;
    for (std::int64_t g = 0; g < *gpus; ++g) n.gpus.push_back(cluster::GpuSpec{model, 0, "", -1});
    nodes.push_back(std::move(n));
  }
  if (nodes.empty())
    return Error(
        Status::InvalidArgument(path + ":" + std::to_string(f.line()) + ": no nodes in the file"));
  return nodes;
}

Result<std::vector<TracePod>> LoadOpenbPods(const std::string& path,
                                            const cluster::ModelTable& models) {
  auto file = CsvFile::Open(path, {"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"});
  if (!file) return Error(file.error());
  CsvFile& f = *file;
  const int spec_col = f.Column("gpu_spec");
  const auto name_col = static_cast<std::size_t>(f.Column("name"));
  std::vector<TracePod> pods;
  std::vector<std::string_view> fields;
  while (f.Next(fields)) {
    if (Status s = CheckColumnCount(f, fields); !s.ok()) return Error(s);
    TracePod p;
    p.line = f.line();
    p.name = Trim(fields[name_col]);
    auto cpu = ParseAmount(f, fields, "cpu_milli");
    if (!cpu) return Error(cpu.error());
    auto mem = ParseAmount(f, fields, "memory_mib");
    if (!mem) return Error(mem.error());
    auto num = ParseAmount(f, fields, "num_gpu");
    if (!num) return Error(num.error());
    auto milli = ParseAmount(f, fields, "gpu_milli");
    if (!milli) return Error(milli.error());
    if (*num > cluster::kMaxGpusPerNode) {
      return Error(Status::InvalidArgument(f.Where("num_gpu") + std::to_string(*num) +
                                           " GPUs, more than one node holds (" +
                                           std::to_string(cluster::kMaxGpusPerNode) + ")"));
    }
    if (*milli > 1000) {
      return Error(Status::InvalidArgument(f.Where("gpu_milli") + std::to_string(*milli) +
                                           " is over 1000 (one whole GPU)"));
    }
    p.request.cpu_milli = *cpu;
    p.request.memory_mib = *mem;
    p.request.num_gpu = static_cast<std::int32_t>(*num);
    p.request.gpu_milli = static_cast<std::int32_t>(*milli);
    if (p.request.num_gpu > 1 && p.request.gpu_milli != 1000) {
      return Error(Status::InvalidArgument(f.Where("gpu_milli") + std::to_string(*milli) +
                                           " with num_gpu " + std::to_string(*num) +
                                           ": a multi-GPU pod must take whole GPUs (1000)"));
    }
    if (Status s = cluster::ValidatePodRequest(p.request); !s.ok()) {
      return Error(Status::InvalidArgument(f.Where("pod") + s.message()));
    }
    if (spec_col >= 0 && p.request.num_gpu > 0) {
      std::string spec = Trim(fields[static_cast<std::size_t>(spec_col)]);
      if (spec == "nan") spec.clear();
      std::size_t start = 0;
      while (start <= spec.size() && !spec.empty()) {
        std::size_t bar = spec.find('|', start);
        if (bar == std::string::npos) bar = spec.size();
        const std::string model = Trim(std::string_view(spec).substr(start, bar - start));
        if (!model.empty()) {
          auto id = models.Find(model);
          if (!id) {
            return Error(Status::InvalidArgument(f.Where("gpu_spec") + "unknown GPU model '" +
                                                 model + "' (the cluster has: " + models.Known() +
                                                 ")"));
          }
          p.request.allowed_models |= cluster::ModelMask{1} << *id;
          if (!p.spec_key.empty()) p.spec_key += '|';
          p.spec_key += model;
        }
        start = bar + 1;
      }
    }
    auto creation = ParseOptionalTime(f, fields, "creation_time");
    if (!creation) return Error(creation.error());
    auto deletion = ParseOptionalTime(f, fields, "deletion_time");
    if (!deletion) return Error(deletion.error());
    auto scheduled = ParseOptionalTime(f, fields, "scheduled_time");
    if (!scheduled) return Error(scheduled.error());
    if (*creation >= 0 && *deletion >= 0 && *deletion < *creation) {
      return Error(Status::InvalidArgument(f.Where("deletion_time") + std::to_string(*deletion) +
                                           " is before creation_time " +
                                           std::to_string(*creation)));
    }
    p.creation_s = *creation;
    p.deletion_s = *deletion;
    p.scheduled_s = *scheduled;
    pods.push_back(std::move(p));
  }
  if (pods.empty())
    return Error(
        Status::InvalidArgument(path + ":" + std::to_string(f.line()) + ": no pods in the file"));
  return pods;
}

}  // namespace gpupool::sim

namespace gpupool::sim {

Status WriteOpenbPods(const std::string& path, const std::vector<TracePod>& pods) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) return Status::IoError(path + ": cannot open for writing");
  f << "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n";
  for (const auto& p : pods) {
    const auto& r = p.request;
    f << p.name << ',' << r.cpu_milli << ',' << r.memory_mib << ',' << r.num_gpu << ','
      << r.gpu_milli << ',' << p.spec_key << '\n';
  }
  f.flush();
  if (!f) return Status::IoError(path + ": write failed");
  return Status::Ok();
}

}  // namespace gpupool::sim

#include "sim/openb_trace.h"

#include <charconv>
#include <fstream>
#include <optional>
#include <string_view>

#include "common/strings.h"
#include "sim/csv_reader.h"

namespace gpupool::sim {
namespace {

// A required column's value: an integer >= 0.
Result<std::int64_t> ParseAmount(const CsvReader& f, const std::vector<std::string>& fields,
                                 const std::string& column) {
  const std::string& text = fields[f.Column(column)];
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
Result<std::int64_t> ParseOptionalTime(const CsvReader& f, const std::vector<std::string>& fields,
                                       const std::string& column) {
  const auto c = f.FindColumn(column);
  if (!c || fields[*c].empty()) return std::int64_t{-1};
  return ParseAmount(f, fields, column);
}

}  // namespace

Result<std::vector<cluster::NodeSpec>> LoadOpenbNodes(const std::string& path) {
  auto file = CsvReader::Open(path, {"sn", "cpu_milli", "memory_mib", "gpu", "model"});
  if (!file) return Error(file.error());
  CsvReader& f = *file;
  std::vector<cluster::NodeSpec> nodes;
  std::vector<std::string> fields;
  const std::size_t sn_col = f.Column("sn");
  const std::size_t model_col = f.Column("model");
  Status bad;
  while (f.Next(fields, bad)) {
    cluster::NodeSpec n;
    n.name = fields[sn_col];
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
    std::string model = fields[model_col];
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
  if (!bad.ok()) return Error(bad);
  if (nodes.empty())
    return Error(
        Status::InvalidArgument(path + ":" + std::to_string(f.line()) + ": no nodes in the file"));
  return nodes;
}

Result<std::vector<TracePod>> LoadOpenbPods(const std::string& path,
                                            const cluster::ModelTable& models) {
  auto file = CsvReader::Open(path, {"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"});
  if (!file) return Error(file.error());
  CsvReader& f = *file;
  const std::optional<std::size_t> spec_col = f.FindColumn("gpu_spec");
  const std::size_t name_col = f.Column("name");
  std::vector<TracePod> pods;
  std::vector<std::string> fields;
  Status bad;
  while (f.Next(fields, bad)) {
    TracePod p;
    p.line = f.line();
    p.name = fields[name_col];
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
    if (spec_col && p.request.num_gpu > 0) {
      std::string spec = fields[*spec_col];
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
  if (!bad.ok()) return Error(bad);
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

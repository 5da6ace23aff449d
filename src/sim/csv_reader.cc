#include "sim/csv_reader.h"

#include <algorithm>
#include <string_view>

#include "common/strings.h"

namespace gpupool::sim {

Result<CsvReader> CsvReader::Open(const std::string& path,
                                  const std::vector<std::string>& required) {
  CsvReader r;
  r.path_ = path;
  r.in_.open(path, std::ios::binary);
  if (!r.in_) return Error(Status::InvalidArgument(path + ": cannot open file"));
  std::string header;
  if (!r.NextLine(header)) {
    return Error(Status::InvalidArgument(path + ":1: empty file (no header line)"));
  }
  for (std::string_view col : Split(header, ',')) r.header_.push_back(Trim(col));
  for (const std::string& name : required) {
    const auto n = std::count(r.header_.begin(), r.header_.end(), name);
    if (n == 0) {
      return Error(
          Status::InvalidArgument(path + ":1: " + name + ": missing column in the header"));
    }
    if (n > 1) {
      return Error(
          Status::InvalidArgument(path + ":1: " + name + ": repeated column in the header"));
    }
  }
  return r;
}

bool CsvReader::Next(std::vector<std::string>& fields, Status& error) {
  std::string line;
  while (NextLine(line)) {
    if (Trim(line).empty()) continue;
    const std::vector<std::string_view> raw = Split(line, ',');
    if (raw.size() < header_.size()) {
      error = Status::InvalidArgument(Where(header_[raw.size()]) + "missing (the line has " +
                                      std::to_string(raw.size()) + " of " +
                                      std::to_string(header_.size()) + " columns)");
      return false;
    }
    if (raw.size() > header_.size()) {
      error =
          Status::InvalidArgument(Where("column " + std::to_string(header_.size() + 1)) +
                                  "not in the header (the line has " + std::to_string(raw.size()) +
                                  " columns, the header " + std::to_string(header_.size()) + ")");
      return false;
    }
    fields.clear();
    for (std::string_view f : raw) fields.push_back(Trim(f));
    return true;
  }
  if (in_.bad()) error = Status::IoError(path_ + ":" + std::to_string(line_no_) + ": read failed");
  return false;
}

std::size_t CsvReader::Column(const std::string& name) const {
  return static_cast<std::size_t>(std::find(header_.begin(), header_.end(), name) -
                                  header_.begin());
}

std::optional<std::size_t> CsvReader::FindColumn(const std::string& name) const {
  const std::size_t c = Column(name);
  if (c >= header_.size()) return std::nullopt;
  return c;
}

std::string CsvReader::Where(const std::string& column) const {
  return path_ + ":" + std::to_string(line_no_) + ": " + column + ": ";
}

bool CsvReader::NextLine(std::string& out) {
  if (!std::getline(in_, out)) return false;
  if (!out.empty() && out.back() == '\r') out.pop_back();
  ++line_no_;
  return true;
}

}  // namespace gpupool::sim

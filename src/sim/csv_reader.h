// CsvReader: the trace files' CSV (plain comma-separated fields, no quoting: common/strings.h
// Split), read line by line, its header's columns looked up by name, every data line checked to
// have as many fields as the header. Shared by the trace loaders (Philly, openb, Tiresias).
//
// Errors name the file, the line and the column: "FILE:LINE: COLUMN: what".
//
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace gpupool::sim {

class CsvReader {
 public:
  // Opens `path` and reads its header; InvalidArgument when the file cannot be opened, is empty,
  // or its header lacks (or repeats) one of `required`.
  static Result<CsvReader> Open(const std::string& path, const std::vector<std::string>& required);

  // The next non-blank data line split into trimmed fields, one per header column; false at the
  // end of the file, or with `error` set when the line's field count is wrong (naming the first
  // column it lacks) or reading failed.
  bool Next(std::vector<std::string>& fields, Status& error);

  // Index of a column that Open required.
  std::size_t Column(const std::string& name) const;
  // Index of an optional column; nullopt when the header does not have it.
  std::optional<std::size_t> FindColumn(const std::string& name) const;
  std::size_t num_columns() const { return header_.size(); }
  int line() const { return line_no_; }
  const std::string& path() const { return path_; }
  // "FILE:LINE: COLUMN: ", the prefix of every error about the current line.
  std::string Where(const std::string& column) const;

 private:
  bool NextLine(std::string& out);

  std::string path_;
  std::ifstream in_;
  int line_no_ = 0;
  std::vector<std::string> header_;
};

}  // namespace gpupool::sim

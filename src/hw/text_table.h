// TextTable: a plain aligned text table for `gpupool hw` output. Cells that look numeric
// ("989.5", "-", "1979*") are right-aligned, others left-aligned; columns are separated by two
// spaces and the header is underlined with dashes.
//
// Thread safety: a value type; not shared.
#pragma once

#include <string>
#include <vector>

namespace gpupool::hw {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);

  // A row with fewer cells than the header is padded with empty cells; extra cells are an error
  // of the caller and are dropped.
  void AddRow(std::vector<std::string> cells);
  std::string Render() const;
  std::size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// True when a cell reads as a number, possibly with a trailing '*', '%' or 'x', or is "-" or
// "inf".
bool LooksNumeric(const std::string& cell);

}  // namespace gpupool::hw

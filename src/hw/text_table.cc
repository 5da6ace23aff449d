#include "hw/text_table.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace gpupool::hw {
namespace {

// Display width: count UTF-8 code points, not bytes, so "—" and "≥" take one column.
std::size_t Width(const std::string& s) {
  std::size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace

bool LooksNumeric(const std::string& cell) {
  if (cell == "-" || cell == "inf") return true;
  std::string s = cell;
  while (!s.empty() && (s.back() == '*' || s.back() == '%' || s.back() == 'x')) s.pop_back();
  if (s.empty()) return false;
  bool digit = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      digit = true;
    } else if (!(c == '.' || c == ',' || ((c == '-' || c == '+') && i == 0))) {
      return false;
    }
  }
  return digit;
}

TextTable::TextTable(std::vector<std::string> header) : header_(std::move(header)) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  std::vector<std::size_t> width(header_.size(), 0);
  std::vector<bool> numeric(header_.size(), true);
  for (std::size_t c = 0; c < header_.size(); ++c) {
    width[c] = Width(header_[c]);
    bool any = false;
    for (const auto& row : rows_) {
      width[c] = std::max(width[c], Width(row[c]));
      if (row[c].empty()) continue;
      any = true;
      numeric[c] = numeric[c] && LooksNumeric(row[c]);
    }
    numeric[c] = numeric[c] && any;
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::size_t pad = width[c] - Width(cells[c]);
      const bool last = c + 1 == cells.size();
      if (numeric[c]) {
        out += std::string(pad, ' ') + cells[c];
      } else {
        out += cells[c];
        if (!last) out += std::string(pad, ' ');
      }
      if (!last) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_);
  std::vector<std::string> rule;
  for (const std::size_t w : width) rule.emplace_back(w, '-');
  out += line(rule);
  for (const auto& row : rows_) out += line(row);
  return out;
}

}  // namespace gpupool::hw

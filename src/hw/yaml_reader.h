// Reading catalog and requirement YAML with errors that name the file, line and field.
// A thin layer over yaml-cpp: every yaml-cpp exception is caught here and turned into a Status
// (INVALID_ARGUMENT "file:line: field: what"), so callers never see one.
//
// Thread safety: a YamlReader is used by one thread; the functions keep no global state.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hw/catalog.h"

namespace gpupool::hw {

// Parses a whole YAML file. NOT_FOUND when missing, INVALID_ARGUMENT "file:line: ..." when the
// YAML itself is malformed.
Result<YAML::Node> LoadYamlFile(const std::string& path);
// Parses YAML text; `file` only names the text in errors.
Result<YAML::Node> LoadYamlText(std::string_view text, const std::string& file);

// The 1-based line of a node (0 when yaml-cpp has no mark for it).
int LineOf(const YAML::Node& node);

// Reads the members of one YAML mapping (one catalog entry) with errors that say where.
// Defaults for figures: an entry-level `source` (a literal or a key of `sources`) and `verified`.
// NOLINTNEXTLINE(bugprone-exception-escape): yaml-cpp's Node assignment is not noexcept.
class YamlReader {
 public:
  YamlReader(std::string file, const YAML::Node& entry, std::string entry_name);

  // "file:LINE: NAME: FIELD: what", LINE being the member's line when it exists.
  Status Bad(std::string_view field, std::string_view what) const;
  Status BadAt(const YAML::Node& at, std::string_view field, std::string_view what) const;

  bool Has(std::string_view key) const;
  YAML::Node Get(std::string_view key) const;

  Result<std::string> String(std::string_view key) const;  // required
  Result<std::string> StringOr(std::string_view key, std::string fallback) const;
  Result<double> Number(std::string_view key) const;  // required
  Result<int> Int(std::string_view key) const;        // required
  Result<int> IntOr(std::string_view key, int fallback) const;
  Result<bool> BoolOr(std::string_view key, bool fallback) const;
  Result<std::vector<std::string>> StringList(std::string_view key) const;  // optional: empty

  // A figure: a number (the entry's source and verified) or a mapping {value | sparse, source,
  // verified}. `sparse: X` stores X / 2 and says so in the source.
  Result<Sourced> Figure(std::string_view key) const;
  Result<Sourced> FigureFrom(const YAML::Node& node, std::string_view field) const;

  // Fails on a member not in `known` (catches typos such as `memory_gb`).
  Status OnlyKeys(const std::vector<std::string_view>& known) const;

  // Reader for a nested mapping member (same file and defaults).
  Result<YamlReader> Child(std::string_view key) const;

  const std::string& default_source() const { return default_source_; }
  bool default_verified() const { return default_verified_; }
  // Loads `source`, `sources` and `verified` from the entry; call once before Figure().
  Status LoadDefaults();

 private:
  std::string ResolveSource(const std::string& text) const;

  std::string file_;
  YAML::Node entry_;
  std::string entry_name_;
  std::string default_source_;
  bool default_verified_ = true;
  std::map<std::string, std::string> sources_;
};

}  // namespace gpupool::hw

#include "hw/yaml_reader.h"

#include <fmt/format.h>

#include <filesystem>
#include <utility>

namespace gpupool::hw {
namespace {

std::string Location(const std::string& file, int line) {
  return line > 0 ? fmt::format("{}:{}", file, line) : file;
}

}  // namespace

Result<YAML::Node> LoadYamlFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Error(Status::NotFound(path + ": no such file"));
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error(Status::IoError(path + ": cannot read"));
  } catch (const YAML::Exception& e) {
    return Error(Status::InvalidArgument(
        fmt::format("{}: malformed YAML: {}", Location(path, e.mark.line + 1), e.msg)));
  }
}

Result<YAML::Node> LoadYamlText(std::string_view text, const std::string& file) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error(Status::InvalidArgument(
        fmt::format("{}: malformed YAML: {}", Location(file, e.mark.line + 1), e.msg)));
  }
}

int LineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  const int line = node.Mark().line;
  return line >= 0 ? line + 1 : 0;
}

YamlReader::YamlReader(std::string file, const YAML::Node& entry, std::string entry_name)
    : file_(std::move(file)), entry_(entry), entry_name_(std::move(entry_name)) {}

Status YamlReader::Bad(std::string_view field, std::string_view what) const {
  const YAML::Node at = Has(field) ? Get(field) : entry_;
  return BadAt(at, field, what);
}

Status YamlReader::BadAt(const YAML::Node& at, std::string_view field,
                         std::string_view what) const {
  const std::string who = entry_name_.empty() ? "" : entry_name_ + ": ";
  return Status::InvalidArgument(
      fmt::format("{}: {}{}: {}", Location(file_, LineOf(at)), who, field, what));
}

bool YamlReader::Has(std::string_view key) const {
  if (!entry_.IsMap()) return false;
  const YAML::Node& e = entry_;
  return e[std::string(key)].IsDefined();
}

YAML::Node YamlReader::Get(std::string_view key) const {
  const YAML::Node& e = entry_;
  return e[std::string(key)];
}

Result<std::string> YamlReader::String(std::string_view key) const {
  if (!Has(key)) return Error(Bad(key, "missing"));
  const YAML::Node n = Get(key);
  if (!n.IsScalar()) return Error(Bad(key, "expected text"));
  return n.Scalar();
}

Result<std::string> YamlReader::StringOr(std::string_view key, std::string fallback) const {
  if (!Has(key)) return fallback;
  return String(key);
}

Result<double> YamlReader::Number(std::string_view key) const {
  if (!Has(key)) return Error(Bad(key, "missing"));
  const YAML::Node n = Get(key);
  try {
    if (n.IsScalar()) return n.as<double>();
  } catch (const YAML::Exception&) {
  }
  return Error(Bad(key, "'" + (n.IsScalar() ? n.Scalar() : std::string("(not a scalar)")) +
                            "' is not a number"));
}

Result<int> YamlReader::Int(std::string_view key) const {
  if (!Has(key)) return Error(Bad(key, "missing"));
  const YAML::Node n = Get(key);
  try {
    if (n.IsScalar()) return n.as<int>();
  } catch (const YAML::Exception&) {
  }
  return Error(Bad(key, "'" + (n.IsScalar() ? n.Scalar() : std::string("(not a scalar)")) +
                            "' is not a whole number"));
}

Result<int> YamlReader::IntOr(std::string_view key, int fallback) const {
  if (!Has(key)) return fallback;
  return Int(key);
}

Result<bool> YamlReader::BoolOr(std::string_view key, bool fallback) const {
  if (!Has(key)) return fallback;
  const YAML::Node n = Get(key);
  try {
    if (n.IsScalar()) return n.as<bool>();
  } catch (const YAML::Exception&) {
  }
  return Error(Bad(key, "expected true or false"));
}

Result<std::vector<std::string>> YamlReader::StringList(std::string_view key) const {
  std::vector<std::string> out;
  if (!Has(key)) return out;
  const YAML::Node n = Get(key);
  if (!n.IsSequence()) return Error(Bad(key, "expected a list"));
  for (const auto& item : n) {
    if (!item.IsScalar()) return Error(BadAt(item, key, "expected text items"));
    out.push_back(item.Scalar());
  }
  return out;
}

Status YamlReader::LoadDefaults() {
  if (Has("sources")) {
    const YAML::Node n = Get("sources");
    if (!n.IsMap()) return Bad("sources", "expected a mapping of key: text");
    for (const auto& kv : n) {
      if (!kv.second.IsScalar()) return BadAt(kv.second, "sources", "expected text");
      sources_[kv.first.Scalar()] = kv.second.Scalar();
    }
  }
  auto source = StringOr("source", "");
  if (!source) return source.error();
  default_source_ = ResolveSource(*source);
  auto verified = BoolOr("verified", true);
  if (!verified) return verified.error();
  default_verified_ = *verified;
  return Status::Ok();
}

std::string YamlReader::ResolveSource(const std::string& text) const {
  const auto it = sources_.find(text);
  return it == sources_.end() ? text : it->second;
}

Result<Sourced> YamlReader::Figure(std::string_view key) const {
  if (!Has(key)) return Error(Bad(key, "missing"));
  return FigureFrom(Get(key), key);
}

Result<Sourced> YamlReader::FigureFrom(const YAML::Node& node, std::string_view field) const {
  Sourced out;
  out.source = default_source_;
  out.verified = default_verified_;
  if (node.IsScalar()) {
    try {
      out.value = node.as<double>();
    } catch (const YAML::Exception&) {
      return Error(BadAt(node, field, "'" + node.Scalar() + "' is not a number"));
    }
  } else if (node.IsMap()) {
    YamlReader sub(file_, node, entry_name_);
    sub.sources_ = sources_;
    sub.default_source_ = default_source_;
    sub.default_verified_ = default_verified_;
    GP_RETURN_IF_ERROR(sub.OnlyKeys({"value", "sparse", "source", "verified"}));
    const bool has_value = sub.Has("value");
    const bool has_sparse = sub.Has("sparse");
    if (has_value == has_sparse) {
      return Error(BadAt(node, field, "give exactly one of value: or sparse:"));
    }
    auto source = sub.StringOr("source", "");
    if (!source) return Error(source.error());
    if (!source->empty()) out.source = ResolveSource(*source);
    auto verified = sub.BoolOr("verified", default_verified_);
    if (!verified) return Error(verified.error());
    out.verified = *verified;
    auto number = sub.Number(has_value ? "value" : "sparse");
    if (!number) {
      return Error(BadAt(node, field, "value: " + number.error().message()));
    }
    out.value = has_value ? *number : *number / 2;
    // The stored dense rate is half the sparse datasheet figure; keep the derivation visible.
    if (has_sparse) out.source += fmt::format(" (sparse {:g} / 2)", *number);
  } else {
    return Error(BadAt(node, field, "expected a number or {value:, source:, verified:}"));
  }
  if (out.source.empty())
    return Error(BadAt(node, field, "no source (give source: here or on the entry)"));
  if (out.value < 0) return Error(BadAt(node, field, "negative"));
  return out;
}

Status YamlReader::OnlyKeys(const std::vector<std::string_view>& known) const {
  if (!entry_.IsMap()) return BadAt(entry_, "(entry)", "expected a mapping");
  for (const auto& kv : entry_) {
    const std::string key = kv.first.Scalar();
    bool ok = false;
    for (const auto k : known) ok |= (k == key);
    if (!ok) {
      std::string list;
      for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return BadAt(kv.first, key, "unknown field (known: " + list + ")");
    }
  }
  return Status::Ok();
}

Result<YamlReader> YamlReader::Child(std::string_view key) const {
  if (!Has(key)) return Error(Bad(key, "missing"));
  const YAML::Node n = Get(key);
  if (!n.IsMap()) return Error(Bad(key, "expected a mapping"));
  YamlReader child(file_, n,
                   entry_name_.empty() ? std::string(key) : entry_name_ + "." + std::string(key));
  child.sources_ = sources_;
  child.default_source_ = default_source_;
  child.default_verified_ = default_verified_;
  return child;
}

}  // namespace gpupool::hw

#include "cluster/model_table.h"

namespace gpupool::cluster {

Result<ModelId> ModelTable::Intern(std::string_view name) {
  if (auto id = Find(name)) return *id;
  if (size() >= kMaxModels) {
    return Error(Status::InvalidArgument("more than 64 distinct GPU models; cannot add '" +
                                         std::string(name) + "'"));
  }
  names_.emplace_back(name);
  return static_cast<ModelId>(names_.size() - 1);
}

std::optional<ModelId> ModelTable::Find(std::string_view name) const {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<ModelId>(i);
  }
  return std::nullopt;
}

std::string ModelTable::Known() const {
  std::string out;
  for (const auto& n : names_) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace gpupool::cluster

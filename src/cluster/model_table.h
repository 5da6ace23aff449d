// ModelTable: interns GPU model names ("G2", "V100M32", "H100-SXM") into small integer ids so the
// hot path compares bytes and tests model constraints with one AND on a 64-bit mask.
//
// Thread safety: build first, then share read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpupool::cluster {

using ModelId = std::uint8_t;
// A set of allowed models; bit i = ModelId i. 0 means "any model".
using ModelMask = std::uint64_t;
inline constexpr ModelMask kAnyModel = 0;

class ModelTable {
 public:
  static constexpr int kMaxModels = 64;

  // Returns the id of `name`, adding it when new. InvalidArgument past kMaxModels models.
  Result<ModelId> Intern(std::string_view name);
  std::optional<ModelId> Find(std::string_view name) const;
  const std::string& Name(ModelId id) const { return names_[id]; }
  int size() const { return static_cast<int>(names_.size()); }
  // "G2, T4, V100M32" in id order, for error messages.
  std::string Known() const;

 private:
  std::vector<std::string> names_;
};

inline bool ModelAllowed(ModelMask mask, ModelId model) {
  return mask == kAnyModel || ((mask >> model) & 1U) != 0;
}

}  // namespace gpupool::cluster

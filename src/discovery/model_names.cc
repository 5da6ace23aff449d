#include "discovery/model_names.h"

#include <array>
#include <cctype>

#include "common/strings.h"

namespace gpupool::discovery {
namespace {

struct Rule {
  std::array<std::string_view, 3> tokens;  // all must occur; "" = unused
  std::string_view model;
};

// Ordered: a more specific spelling comes before the shorter one it contains ("GH200" before
// "H200", "H100 NVL" before "H100"). NVML names seen in the field are in the comments.
constexpr Rule kRules[] = {
    {{"GH200", "", ""}, "GH200"},         // NVIDIA GH200 480GB
    {{"GB200", "", ""}, "GB200"},         // NVIDIA GB200
    {{"H200", "NVL", ""}, "H200-NVL"},    // NVIDIA H200 NVL
    {{"H200", "", ""}, "H200-SXM"},       // NVIDIA H200
    {{"H100", "NVL", ""}, "H100-NVL"},    // NVIDIA H100 NVL
    {{"H100", "PCIE", ""}, "H100-PCIe"},  // NVIDIA H100 PCIe
    {{"H100", "HBM3", ""}, "H100-SXM"},   // NVIDIA H100 80GB HBM3
    {{"H100", "SXM", ""}, "H100-SXM"},    // NVIDIA H100 SXM5 80GB
    {{"H800", "PCIE", ""}, "H800-PCIe"},
    {{"H800", "", ""}, "H800-SXM"},  // NVIDIA H800
    {{"H20", "", ""}, "H20"},        // NVIDIA H20
    {{"B200", "", ""}, "B200"},      // NVIDIA B200
    {{"B100", "", ""}, "B100"},
    {{"A100", "SXM", "80GB"}, "A100-SXM-80GB"},    // NVIDIA A100-SXM4-80GB
    {{"A100", "SXM", "40GB"}, "A100-SXM-40GB"},    // NVIDIA A100-SXM4-40GB
    {{"A100", "PCIE", "80GB"}, "A100-PCIe-80GB"},  // NVIDIA A100 80GB PCIe
    {{"A100", "PCIE", ""}, "A100-PCIe-40GB"},      // NVIDIA A100-PCIE-40GB
    {{"A800", "PCIE", ""}, "A800-PCIe"},
    {{"A800", "", ""}, "A800-SXM-80GB"},  // NVIDIA A800-SXM4-80GB
    {{"L40S", "", ""}, "L40S"},           // NVIDIA L40S
    {{"L40", "", ""}, "L40"},
    {{"L4", "", ""}, "L4"},      // NVIDIA L4
    {{"A10G", "", ""}, "A10G"},  // NVIDIA A10G
    {{"A10", "", ""}, "A10"},    // NVIDIA A10
    {{"A30", "", ""}, "A30"},
    {{"A40", "", ""}, "A40"},
    {{"RTX 6000 ADA", "", ""}, "RTX-6000-Ada"},  // NVIDIA RTX 6000 Ada Generation
    {{"RTX A6000", "", ""}, "RTX-A6000"},        // NVIDIA RTX A6000
    {{"RTX 5090", "", ""}, "RTX-5090"},          // NVIDIA GeForce RTX 5090
    {{"RTX 4090", "", ""}, "RTX-4090"},          // NVIDIA GeForce RTX 4090
    {{"RTX 3090", "", ""}, "RTX-3090"},
    {{"V100", "PCIE", ""}, "V100-PCIe"},  // Tesla V100-PCIE-32GB
    {{"V100", "", ""}, "V100-SXM2"},      // Tesla V100-SXM2-32GB
    {{"T4", "", ""}, "T4"},               // Tesla T4
};

// Whole-word-ish containment: the token must not continue into a letter or digit, so "L4" does not
// match "L40S" and "A10" does not match "A100".
bool ContainsToken(const std::string& upper, std::string_view token) {
  for (std::size_t pos = upper.find(token); pos != std::string::npos;
       pos = upper.find(token, pos + 1)) {
    const std::size_t end = pos + token.size();
    const bool left_ok = pos == 0 || !std::isalnum(static_cast<unsigned char>(upper[pos - 1]));
    const bool right_ok =
        end == upper.size() || !std::isalnum(static_cast<unsigned char>(upper[end]));
    if (left_ok && right_ok) return true;
  }
  return false;
}

}  // namespace

std::string CatalogModelForNvmlName(std::string_view nvml_name) {
  std::string upper = Upper(nvml_name);
  for (char& c : upper) {
    if (c == '-' || c == '_') c = ' ';
  }
  // "SXM4" / "SXM5" count as "SXM".
  for (std::size_t pos = upper.find("SXM"); pos != std::string::npos;
       pos = upper.find("SXM", pos + 3)) {
    if (pos + 3 < upper.size() && std::isdigit(static_cast<unsigned char>(upper[pos + 3]))) {
      upper[pos + 3] = ' ';
    }
  }
  for (const Rule& rule : kRules) {
    bool all = true;
    for (std::string_view token : rule.tokens) {
      if (!token.empty() && !ContainsToken(upper, token)) {
        all = false;
        break;
      }
    }
    if (all) return std::string(rule.model);
  }
  return "";
}

std::string ModelOrRawName(std::string_view nvml_name) {
  std::string model = CatalogModelForNvmlName(nvml_name);
  return model.empty() ? std::string(nvml_name) : model;
}

}  // namespace gpupool::discovery

// Maps the product name NVML reports ("NVIDIA H100 80GB HBM3") onto the hardware catalog's
// canonical GPU name ("H100-SXM"), so that discovered nodes carry the same model names as the
// catalog (src/hw), traces and placement requests.
//
// The table is small and explicit (discovery does not depend on the catalog being loaded); a name
// it does not know maps to "" and callers keep the NVML name. Rules are tried in order, most
// specific first; a rule matches when every one of its tokens occurs in the upper-cased name.
// Thread safety: pure functions over a constant table.
#pragma once

#include <string>
#include <string_view>

namespace gpupool::discovery {

// Catalog name for an NVML product name, or "" when the table has no rule for it.
std::string CatalogModelForNvmlName(std::string_view nvml_name);

// CatalogModelForNvmlName, or the NVML name itself when unmapped (what GpuSpec::model holds).
std::string ModelOrRawName(std::string_view nvml_name);

}  // namespace gpupool::discovery

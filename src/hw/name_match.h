// Name matching for catalog look-ups: the common spellings of a GPU ("H100", "h100-sxm",
// "A100-80GB", "a100-sxm4-80gb", "4090") reduce to one key, and a miss suggests close names.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gpupool::hw {

// Lower case, letters and digits only ("A100-SXM4 80GB" -> "a100sxm480gb"), with a leading
// vendor or product-line word dropped ("NVIDIA H100" -> "h100", "GeForce RTX 4090" -> "rtx4090")
// so long as something is left.
std::string NormalizeName(std::string_view name);

// Levenshtein distance (insert, delete, substitute all cost 1).
int EditDistance(std::string_view a, std::string_view b);

// One catalog entry's spellings: its canonical name and its aliases.
struct NameKeys {
  std::string canonical;
  std::vector<std::string> spellings;  // canonical and aliases, as written
};

// Canonical names close to `query`, best first, at most `limit`: those whose normalized
// spelling contains the normalized query or is contained in it, then those within edit
// distance max(2, length / 3); ties keep catalog order.
std::vector<std::string> ClosestNames(std::string_view query, const std::vector<NameKeys>& entries,
                                      std::size_t limit = 5);

}  // namespace gpupool::hw

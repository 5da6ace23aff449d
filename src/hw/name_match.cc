#include "hw/name_match.h"

#include <algorithm>
#include <array>
#include <limits>

#include "common/strings.h"

namespace gpupool::hw {
namespace {

// Words people put in front of a product name that no catalog key carries.
constexpr std::array<std::string_view, 7> kPrefixes = {"nvidia", "amd",      "huawei", "geforce",
                                                       "tesla",  "instinct", "intel"};

}  // namespace

std::string NormalizeName(std::string_view name) {
  std::string out = AlnumLower(name);
  // Drop leading vendor words repeatedly ("nvidiageforcertx4090" -> "rtx4090").
  bool dropped = true;
  while (dropped) {
    dropped = false;
    for (const std::string_view p : kPrefixes) {
      if (out.size() > p.size() && out.compare(0, p.size(), p) == 0) {
        out.erase(0, p.size());
        dropped = true;
      }
    }
  }
  return out;
}

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> prev(b.size() + 1);
  std::vector<int> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const int substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<std::string> ClosestNames(std::string_view query, const std::vector<NameKeys>& entries,
                                      std::size_t limit) {
  const std::string q = NormalizeName(query);
  // Rank: 0 for containment either way, else 1 + edit distance; keep entries under the cut.
  const int cut = std::max(2, static_cast<int>(q.size()) / 3);
  struct Scored {
    int rank;
    std::size_t order;
    const std::string* name;
  };
  std::vector<Scored> scored;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    int best = std::numeric_limits<int>::max();
    for (const auto& spelling : entries[i].spellings) {
      const std::string key = NormalizeName(spelling);
      if (key.empty() || q.empty()) continue;
      if (key.find(q) != std::string::npos || q.find(key) != std::string::npos) {
        best = 0;
        break;
      }
      const int d = EditDistance(q, key);
      if (d <= cut) best = std::min(best, 1 + d);
    }
    if (best != std::numeric_limits<int>::max()) scored.push_back({best, i, &entries[i].canonical});
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.rank < b.rank; });
  std::vector<std::string> out;
  for (const auto& s : scored) {
    if (out.size() == limit) break;
    out.push_back(*s.name);
  }
  return out;
}

}  // namespace gpupool::hw

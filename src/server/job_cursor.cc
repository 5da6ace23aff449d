#include "server/job_cursor.h"

#include <charconv>
#include <optional>

#include "store/job_sort.h"

namespace gpupool::server {
namespace {

std::optional<std::int64_t> ParseInt(std::string_view s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool IsDefault(store::JobSortKey sort, bool descending) {
  return sort == store::JobSortKey::kId && descending;
}

std::string SortText(store::JobSortKey sort, bool descending) {
  return "sort=" + std::string(store::JobSortKeyName(sort)) +
         "&order=" + (descending ? "desc" : "asc");
}

}  // namespace

std::string EncodeJobCursor(store::JobSortKey sort, bool descending, const store::JobRow& last) {
  if (IsDefault(sort, descending)) return std::to_string(last.id);
  const store::JobCursor c = store::CursorAfter(last, sort);
  std::string out = std::string(store::JobSortKeyName(sort)) + (descending ? ":desc:" : ":asc:") +
                    std::to_string(c.id);
  if (sort == store::JobSortKey::kId) return out;
  return out + ":" + (store::JobSortKeyIsText(sort) ? c.text : std::to_string(c.number));
}

ApiResult<store::JobCursor> DecodeJobCursor(std::string_view text, store::JobSortKey sort,
                                            bool descending) {
  const auto bad = [&](const std::string& why) {
    return Fail(BadRequest("cursor", "cursor: '" + std::string(text) + "' " + why));
  };
  store::JobCursor c;
  if (IsDefault(sort, descending)) {
    const auto id = ParseInt(text);
    if (!id || *id < 1) return bad("is not a cursor of " + SortText(sort, descending));
    c.id = *id;
    return c;
  }
  // KEY:ORDER:ID[:VALUE]; the value is the rest (it may hold ':').
  const std::size_t a = text.find(':');
  const std::size_t b = a == std::string_view::npos ? a : text.find(':', a + 1);
  if (b == std::string_view::npos) return bad("is not a cursor of " + SortText(sort, descending));
  const std::size_t d = text.find(':', b + 1);
  const auto key = store::ParseJobSortKey(text.substr(0, a));
  const std::string_view order = text.substr(a + 1, b - a - 1);
  if (!key || (order != "asc" && order != "desc") || *key != sort ||
      (order == "desc") != descending) {
    return bad("is not a cursor of " + SortText(sort, descending));
  }
  const auto id = ParseInt(text.substr(b + 1, d == std::string_view::npos ? d : d - b - 1));
  if (!id || *id < 1) return bad("has no job id");
  c.id = *id;
  if (sort == store::JobSortKey::kId) {
    if (d != std::string_view::npos) return bad("has a value after the id");
    return c;
  }
  if (d == std::string_view::npos) return bad("has no value of " + SortText(sort, descending));
  const std::string_view value = text.substr(d + 1);
  if (store::JobSortKeyIsText(sort)) {
    c.text = std::string(value);
  } else {
    const auto n = ParseInt(value);
    if (!n) return bad("has a value that is not a number");
    c.number = *n;
  }
  return c;
}

}  // namespace gpupool::server

// The `cursor` of GET /api/v1/jobs: where the next page starts under the page's sort, as text.
//
//   newest first (sort=id, order=desc, the default):  "ID"               (e.g. "42")
//   any other order:                                   "KEY:ORDER:ID"     for sort=id
//                                                      "KEY:ORDER:ID:VALUE" otherwise
// e.g. "name:asc:42:train-a", "priority:desc:17:-5". The value is the last row's sort key, kept
// in the cursor (not read again) so that the next page starts after where this one ended even if
// that row's key has changed since. A cursor names its sort, so one given with another sort is
// refused instead of giving a wrong page.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "server/api_error.h"
#include "store/rows.h"

namespace gpupool::server {

// The cursor of the page after `last` (the last row of a page) under the sort.
std::string EncodeJobCursor(store::JobSortKey sort, bool descending, const store::JobRow& last);

// The cursor's position; a 400 naming `cursor` when it is not one or is for another sort.
ApiResult<store::JobCursor> DecodeJobCursor(std::string_view text, store::JobSortKey sort,
                                            bool descending);

}  // namespace gpupool::server

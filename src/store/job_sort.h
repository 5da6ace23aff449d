// The sort keys of Store::ListJobs (JobSortKey, rows.h) by name, and the cursor of a row.
//
// Each key is a column of `jobs`. id, user, state and queue have an index ending in id (schema.h):
// a page sorted by them alone is a range of it; name, priority, started and finished have none
// (an index each would cost every job write, and a schema version), so SQLite sorts the rows
// that match the filters for each page. The API names the keys (server/http_server.cc reads
// `sort=`), so the names here are the only list of them.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/rows.h"

namespace gpupool::store {

// "id", "name", "user", "queue", "state", "priority", "started", "finished".
std::string_view JobSortKeyName(JobSortKey key);
// The key of a name; nullopt for an unknown one.
std::optional<JobSortKey> ParseJobSortKey(std::string_view name);
// Every key's name, comma-separated, in the order above (for error messages).
std::string JobSortKeyNames();
// True for the keys whose values are text (name, user, queue, state).
bool JobSortKeyIsText(JobSortKey key);
// The column of `jobs` that the key sorts by.
std::string_view JobSortColumn(JobSortKey key);
// The cursor that starts the page after `row` under `key`.
JobCursor CursorAfter(const JobRow& row, JobSortKey key);

}  // namespace gpupool::store

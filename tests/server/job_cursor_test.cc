// The jobs list's cursor: written from a page's last row, read back only with the same sort.
#include "server/job_cursor.h"

#include <gtest/gtest.h>

namespace gpupool::server {
namespace {

using store::JobCursor;
using store::JobSortKey;

store::JobRow Row() {
  store::JobRow r;
  r.id = 42;
  r.name = "train:a";  // a ':' in the value stays part of it
  r.priority = -5;
  r.started_ms = 1700000000123;
  return r;
}

TEST(JobCursorTest, EachSortWritesItsKeyAndReadsItBack) {
  struct Case {
    JobSortKey key;
    bool descending;
    const char* text;
    JobCursor position;
  };
  const Case cases[] = {
      {JobSortKey::kId, true, "42", {42, "", 0}},  // the default order: the plain id, as before
      {JobSortKey::kId, false, "id:asc:42", {42, "", 0}},
      {JobSortKey::kName, false, "name:asc:42:train:a", {42, "train:a", 0}},
      {JobSortKey::kPriority, true, "priority:desc:42:-5", {42, "", -5}},
      {JobSortKey::kStarted, false, "started:asc:42:1700000000123", {42, "", 1700000000123}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EncodeJobCursor(c.key, c.descending, Row()), c.text);
    const auto back = DecodeJobCursor(c.text, c.key, c.descending);
    ASSERT_TRUE(back.has_value()) << c.text << ": " << back.error().message;
    EXPECT_EQ(*back, c.position) << c.text;
  }
}

TEST(JobCursorTest, ACursorOfAnotherSortOrNoCursorIsRefusedNamingIt) {
  const struct {
    const char* text;
    JobSortKey key;
    bool descending;
    const char* message;
  } bad[] = {
      {"name:asc:42:a", JobSortKey::kName, true,
       "cursor: 'name:asc:42:a' is not a cursor of sort=name&order=desc"},
      {"name:asc:42:a", JobSortKey::kUser, false,
       "cursor: 'name:asc:42:a' is not a cursor of sort=user&order=asc"},
      {"name:asc:42:a", JobSortKey::kId, true,
       "cursor: 'name:asc:42:a' is not a cursor of sort=id&order=desc"},
      {"42", JobSortKey::kName, false, "cursor: '42' is not a cursor of sort=name&order=asc"},
      {"name:asc:x:a", JobSortKey::kName, false, "cursor: 'name:asc:x:a' has no job id"},
      {"name:asc:42", JobSortKey::kName, false,
       "cursor: 'name:asc:42' has no value of sort=name&order=asc"},
      {"priority:asc:42:high", JobSortKey::kPriority, false,
       "cursor: 'priority:asc:42:high' has a value that is not a number"},
      {"id:asc:42:7", JobSortKey::kId, false, "cursor: 'id:asc:42:7' has a value after the id"},
      {"0", JobSortKey::kId, true, "cursor: '0' is not a cursor of sort=id&order=desc"},
  };
  for (const auto& b : bad) {
    const auto r = DecodeJobCursor(b.text, b.key, b.descending);
    ASSERT_FALSE(r.has_value()) << b.text;
    EXPECT_EQ(r.error().http_status, 400);
    EXPECT_EQ(r.error().member, "cursor");
    EXPECT_EQ(r.error().message, b.message);
  }
}

}  // namespace
}  // namespace gpupool::server

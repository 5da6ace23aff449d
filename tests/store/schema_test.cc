#include "store/schema.h"

#include <gtest/gtest.h>

#include "store/temp_dir.h"

namespace gpupool::store {
namespace {

using testing::TempDir;

std::unique_ptr<SqliteDb> OpenOrDie(const std::filesystem::path& file) {
  auto db = SqliteDb::Open(file, SqliteDb::Mode::kReadWriteCreate, 1000);
  EXPECT_TRUE(db.has_value()) << db.error().ToString();
  return db ? std::move(*db) : nullptr;
}

std::string Query(SqliteDb& db, const std::string& sql) {
  auto s = db.Prepare(sql);
  if (!s) return "error: " + s.error().ToString();
  auto row = s->Step();
  if (!row || !*row) return "no row";
  return s->ColumnText(0);
}

TEST(SchemaTest, NewDatabaseGetsCurrentVersionAndTables) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(db, nullptr);
  Status st = EnsureSchema(*db);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Query(*db, "SELECT value FROM meta WHERE key = 'schema_version'"), "5");
  EXPECT_EQ(Query(*db,
                  "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                  "('jobs', 'events', 'tokens', 'token_queues', 'node_conditions', 'meta', "
                  "'queue_configs', 'finished_runs', 'pool_samples')"),
            "9");
  EXPECT_FALSE(db->InTransaction());
}

// A version 1 database (jobs without history_json) is brought to version 5: its rows are kept
// and read back with an empty history.
TEST(SchemaTest, VersionOneGetsTheHistoryColumn) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("v1.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                       "INSERT INTO meta VALUES ('schema_version', '1');"
                       "CREATE TABLE jobs(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);"
                       "INSERT INTO jobs(name) VALUES ('old');",
                       "a version 1 database")
                  .ok());
  Status st = EnsureSchema(*db);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Query(*db, "SELECT value FROM meta WHERE key = 'schema_version'"), "5");
  EXPECT_EQ(Query(*db, "SELECT name || ':' || history_json || ':' FROM jobs"), "old::");
}

// A version 2 database (no queue_configs) is brought to version 5: its rows are kept, the new
// table is there, empty (no configuration stored yet: the service's --queues file, if any, is
// taken as at any first start), and takes a row.
TEST(SchemaTest, VersionTwoGetsTheQueueConfigsTable) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("v2.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                       "INSERT INTO meta VALUES ('schema_version', '2');"
                       "CREATE TABLE jobs(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, "
                       "history_json TEXT NOT NULL DEFAULT '');"
                       "INSERT INTO jobs(name, history_json) VALUES ('old', '{}');",
                       "a version 2 database")
                  .ok());
  Status st = EnsureSchema(*db);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Query(*db, "SELECT value FROM meta WHERE key = 'schema_version'"), "5");
  EXPECT_EQ(Query(*db, "SELECT name || ':' || history_json FROM jobs"), "old:{}");
  EXPECT_EQ(Query(*db, "SELECT COUNT(*) FROM queue_configs"), "0");
  ASSERT_TRUE(db->Exec("INSERT INTO queue_configs(applied_ms, user, source, text) "
                       "VALUES (1, 'admin', 'api', 'queues: []')",
                       "a configuration")
                  .ok());
  EXPECT_EQ(Query(*db, "SELECT id || ':' || user || ':' || text FROM queue_configs"),
            "1:admin:queues: []");
}

// A version 3 database is brought to version 5: its jobs and queue configurations are kept, and
// the history of finished runs is there, empty (the jobs that ended before are not counted: their
// specs are opaque to the store), and takes rows in the service's finish order.
TEST(SchemaTest, VersionThreeGetsTheFinishedRunsTable) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("v3.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                       "INSERT INTO meta VALUES ('schema_version', '3');"
                       "CREATE TABLE jobs(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, "
                       "state TEXT, history_json TEXT NOT NULL DEFAULT '');"
                       "INSERT INTO jobs(name, state, history_json) VALUES ('old', 'succeeded', "
                       "'{}');"
                       "CREATE TABLE queue_configs(id INTEGER PRIMARY KEY AUTOINCREMENT, "
                       "applied_ms INTEGER, user TEXT, source TEXT, text TEXT);"
                       "INSERT INTO queue_configs(applied_ms, user, source, text) "
                       "VALUES (1, 'admin', 'api', 'queues: []');",
                       "a version 3 database")
                  .ok());
  Status st = EnsureSchema(*db);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Query(*db, "SELECT value FROM meta WHERE key = 'schema_version'"), "5");
  EXPECT_EQ(Query(*db, "SELECT name || ':' || state || ':' || history_json FROM jobs"),
            "old:succeeded:{}");
  EXPECT_EQ(Query(*db, "SELECT user || ':' || text FROM queue_configs"), "admin:queues: []");
  EXPECT_EQ(Query(*db, "SELECT COUNT(*) FROM finished_runs"), "0");
  ASSERT_TRUE(db->Exec("INSERT INTO finished_runs VALUES (2, 1, 5000, 'ann', 'q', 2, 2000, 4000);"
                       "INSERT INTO finished_runs VALUES (1, 1, 6000, 'bob', 'q', 1, 500, 100);",
                       "two runs")
                  .ok());
  EXPECT_EQ(Query(*db,
                  "SELECT group_concat(user, ',') FROM (SELECT user FROM finished_runs "
                  "ORDER BY seq)"),
            "bob,ann");
}

// A version 4 database is brought to version 5: its jobs and finished runs are kept, and the pool's
// history is there, empty (nothing was sampled before), and takes rows.
TEST(SchemaTest, VersionFourGetsThePoolSamplesTable) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("v4.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                       "INSERT INTO meta VALUES ('schema_version', '4');"
                       "CREATE TABLE jobs(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);"
                       "INSERT INTO jobs(name) VALUES ('old');"
                       "CREATE TABLE finished_runs(seq INTEGER PRIMARY KEY, user TEXT);"
                       "INSERT INTO finished_runs VALUES (1, 'ann');",
                       "a version 4 database")
                  .ok());
  Status st = EnsureSchema(*db);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Query(*db, "SELECT value FROM meta WHERE key = 'schema_version'"), "5");
  EXPECT_EQ(Query(*db, "SELECT name FROM jobs"), "old");
  EXPECT_EQ(Query(*db, "SELECT user FROM finished_runs"), "ann");
  EXPECT_EQ(Query(*db, "SELECT COUNT(*) FROM pool_samples"), "0");
  ASSERT_TRUE(db->Exec("INSERT INTO pool_samples VALUES (0, 1000, '', 1, 48, 48000, 31750, NULL, "
                       "0, 30, 2, 7614, 8, 0, 0, 12, 1)",
                       "a sample")
                  .ok());
  EXPECT_EQ(Query(*db,
                  "SELECT allocated_milli || ':' || COALESCE(in_use_milli, 'null') FROM "
                  "pool_samples"),
            "31750.0:null");
}

TEST(SchemaTest, SecondRunChangesNothing) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("s.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(EnsureSchema(*db).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO meta VALUES ('mine', 'kept')", "insert").ok());
  Status st = EnsureSchema(*db);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Query(*db, "SELECT value FROM meta WHERE key = 'mine'"), "kept");
}

TEST(SchemaTest, NewerVersionIsRefusedNamingFileAndVersions) {
  TempDir dir;
  auto file = dir.File("future.db");
  auto db = OpenOrDie(file);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(EnsureSchema(*db).ok());
  ASSERT_TRUE(db->Exec("UPDATE meta SET value = '7' WHERE key = 'schema_version'", "bump").ok());
  Status st = EnsureSchema(*db);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find(file.string()), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("7"), std::string::npos) << st.message();
  EXPECT_FALSE(db->InTransaction());
  EXPECT_EQ(Query(*db, "SELECT value FROM meta WHERE key = 'schema_version'"), "7");  // untouched
}

TEST(SchemaTest, GarbledVersionIsRefused) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("g.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(EnsureSchema(*db).ok());
  ASSERT_TRUE(db->Exec("UPDATE meta SET value = '1x' WHERE key = 'schema_version'", "x").ok());
  Status st = EnsureSchema(*db);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("'1x'"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace gpupool::store

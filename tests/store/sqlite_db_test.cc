#include "store/sqlite_db.h"

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

TEST(SqliteDbTest, BindsStepsAndReadsColumns) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("a.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t(i INTEGER, s TEXT, o INTEGER)", "create").ok());
  {
    auto ins = db->Prepare("INSERT INTO t VALUES (?1, ?2, ?3)");
    ASSERT_TRUE(ins.has_value());
    ASSERT_TRUE(ins->Bind(1, std::int64_t{-7}).ok());
    ASSERT_TRUE(ins->Bind(2, std::string_view("a\0b", 3)).ok());
    ASSERT_TRUE(ins->Bind(3, std::optional<int>()).ok());
    ASSERT_TRUE(ins->Run().ok());
  }
  EXPECT_EQ(db->LastInsertRowId(), 1);
  EXPECT_EQ(db->Changes(), 1);
  auto sel = db->Prepare("SELECT i, s, o FROM t");
  ASSERT_TRUE(sel.has_value());
  auto row = sel->Step();
  ASSERT_TRUE(row.has_value() && *row);
  EXPECT_EQ(sel->ColumnInt64(0), -7);
  EXPECT_EQ(sel->ColumnText(1), std::string("a\0b", 3));  // embedded NUL kept
  EXPECT_TRUE(sel->ColumnIsNull(2));
  EXPECT_FALSE(*sel->Step());
}

TEST(SqliteDbTest, CachedStatementIsResetWhenBorrowedAgain) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("a.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t(i); INSERT INTO t VALUES (1), (2);", "setup").ok());
  for (int round = 0; round < 2; ++round) {
    auto sel = db->Prepare("SELECT i FROM t ORDER BY i");
    ASSERT_TRUE(sel.has_value());
    ASSERT_TRUE(*sel->Step());
    EXPECT_EQ(sel->ColumnInt64(0), 1) << "round " << round;  // starts from the first row again
  }
}

TEST(SqliteDbTest, ConstraintViolationIsFailedPreconditionNamingTheFile) {
  TempDir dir;
  auto file = dir.File("c.db");
  auto db = OpenOrDie(file);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t(k TEXT UNIQUE)", "create").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES ('x')", "first").ok());
  Status st = db->Exec("INSERT INTO t VALUES ('x')", "second insert");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find(file.string()), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("second insert"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("UNIQUE"), std::string::npos) << st.message();
}

TEST(SqliteDbTest, MissingDirectoryIsIoErrorNamingTheFile) {
  TempDir dir;
  auto file = dir.path() / "no" / "such" / "dir" / "x.db";
  auto db = SqliteDb::Open(file, SqliteDb::Mode::kReadWriteCreate, 1000);
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().code(), StatusCode::kIoError);
  EXPECT_NE(db.error().message().find(file.string()), std::string::npos);
}

TEST(SqliteDbTest, ReadWriteModeDoesNotCreate) {
  TempDir dir;
  auto file = dir.File("absent.db");
  auto db = SqliteDb::Open(file, SqliteDb::Mode::kReadWrite, 1000);
  EXPECT_FALSE(db.has_value());
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(SqliteDbTest, TracksTransactions) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("t.db"));
  ASSERT_NE(db, nullptr);
  EXPECT_FALSE(db->InTransaction());
  ASSERT_TRUE(db->Exec("BEGIN", "begin").ok());
  EXPECT_TRUE(db->InTransaction());
  ASSERT_TRUE(db->Exec("COMMIT", "commit").ok());
  EXPECT_FALSE(db->InTransaction());
}

TEST(SqliteDbTest, PrepareErrorNamesTheStatement) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("p.db"));
  ASSERT_NE(db, nullptr);
  auto s = db->Prepare("SELECT nope FROM nowhere");
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("nowhere"), std::string::npos) << s.error().message();
}

}  // namespace
}  // namespace gpupool::store

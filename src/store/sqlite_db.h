// SqliteDb and Statement: a thin RAII layer over one SQLite connection, used only inside the store
// module. Every failure comes back as a Status whose message names the database file, what was
// being done and SQLite's own message: "/var/lib/gpupool/state.db: insert job: disk I/O error".
//
// SQLite result codes map onto the closed set of gpupool codes: SQLITE_CONSTRAINT ->
// kFailedPrecondition, SQLITE_BUSY / SQLITE_LOCKED -> kUnavailable, everything else -> kIoError.
//
// Thread safety: a SqliteDb and the Statements borrowed from it belong to one thread at a time (the
// connection is opened with SQLITE_OPEN_NOMUTEX); distinct connections may be used concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace gpupool::store {

class SqliteDb;

// A prepared statement borrowed from a SqliteDb's cache. Destruction resets it and clears its
// bindings (so that a SELECT never pins an old read snapshot); the statement itself stays cached.
// Parameter and column indexes follow SQLite: parameters from 1, columns from 0. Text is bound
// by copy. At most one Statement for a given SQL text may be alive per connection.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Status Bind(int index, std::int64_t value);
  Status Bind(int index, std::string_view value);
  Status Bind(int index, const std::optional<int>& value);  // nullopt binds NULL
  // A REAL (a name of its own: an int argument would make Bind's overloads ambiguous); nullopt
  // binds NULL.
  Status BindReal(int index, std::optional<double> value);

  // Runs one step: true when a row is available, false when the statement is done.
  Result<bool> Step();
  // Runs to completion, expecting no rows.
  Status Run();

  std::int64_t ColumnInt64(int index) const;
  std::string ColumnText(int index) const;
  double ColumnReal(int index) const;
  bool ColumnIsNull(int index) const;

 private:
  friend class SqliteDb;
  Statement(SqliteDb* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Status BindError(int rc, int index) const;

  SqliteDb* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  enum class Mode { kReadWriteCreate, kReadWrite };

  // Opens (kReadWriteCreate: creating if missing) `file` with extended result codes on and the
  // given busy timeout. Errors (kIoError) name the file.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::filesystem::path& file, Mode mode,
                                                int busy_timeout_ms);
  ~SqliteDb();  // finalizes the cached statements and closes the connection
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more SQL statements that return no rows needed by the caller. `what` says what
  // was being done, for the error message.
  Status Exec(std::string_view sql, std::string_view what);

  // Borrows the cached prepared statement for `sql`, preparing it on first use.
  Result<Statement> Prepare(const std::string& sql);

  // True while a transaction is open on this connection.
  bool InTransaction() const;
  // The rowid of the last successful INSERT on this connection.
  std::int64_t LastInsertRowId() const;
  // The number of rows changed by the last INSERT / UPDATE / DELETE.
  std::int64_t Changes() const;

  const std::filesystem::path& file() const { return file_; }

  // A Status for SQLite result code `rc`: "<file>: <what>: <sqlite message>".
  Status Error(int rc, std::string_view what) const;

 private:
  SqliteDb(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}

  sqlite3* db_;
  std::filesystem::path file_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace gpupool::store

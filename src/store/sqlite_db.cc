#include "store/sqlite_db.h"

#include <sqlite3.h>

#include <utility>

namespace gpupool::store {
namespace {

StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return StatusCode::kFailedPrecondition;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kIoError;
  }
}

// The statement's SQL, shortened, to say in an error message which statement failed.
std::string Describe(sqlite3_stmt* stmt) {
  const char* sql = sqlite3_sql(stmt);
  std::string s = sql != nullptr ? sql : "statement";
  constexpr std::size_t kMax = 60;
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return s;
}

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Status Statement::BindError(int rc, int index) const {
  return db_->Error(rc, "binding parameter " + std::to_string(index) + " of " + Describe(stmt_));
}

Status Statement::Bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  return rc == SQLITE_OK ? Status::Ok() : BindError(rc, index);
}

Status Statement::Bind(int index, std::string_view value) {
  // A zero-length view may have a null data(); SQLite would bind NULL for a null pointer.
  const char* data = value.empty() ? "" : value.data();
  int rc = sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return rc == SQLITE_OK ? Status::Ok() : BindError(rc, index);
}

Status Statement::Bind(int index, const std::optional<int>& value) {
  int rc = value ? sqlite3_bind_int64(stmt_, index, *value) : sqlite3_bind_null(stmt_, index);
  return rc == SQLITE_OK ? Status::Ok() : BindError(rc, index);
}

Status Statement::BindReal(int index, std::optional<double> value) {
  int rc = value ? sqlite3_bind_double(stmt_, index, *value) : sqlite3_bind_null(stmt_, index);
  return rc == SQLITE_OK ? Status::Ok() : BindError(rc, index);
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return gpupool::Error(db_->Error(rc, Describe(stmt_)));
}

Status Statement::Run() {
  for (;;) {
    Result<bool> row = Step();
    if (!row) return row.error();
    if (!*row) return Status::Ok();
  }
}

std::int64_t Statement::ColumnInt64(int index) const { return sqlite3_column_int64(stmt_, index); }

double Statement::ColumnReal(int index) const { return sqlite3_column_double(stmt_, index); }

std::string Statement::ColumnText(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  int bytes = sqlite3_column_bytes(stmt_, index);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(bytes));
}

bool Statement::ColumnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::filesystem::path& file, Mode mode,
                                                 int busy_timeout_ms) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode == Mode::kReadWriteCreate) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return gpupool::Error(Status::IoError(file.string() + ": cannot open database: " + message));
  }
  auto conn = std::unique_ptr<SqliteDb>(new SqliteDb(db, file));
  sqlite3_extended_result_codes(db, 1);
  rc = sqlite3_busy_timeout(db, busy_timeout_ms);
  if (rc != SQLITE_OK) return gpupool::Error(conn->Error(rc, "setting the busy timeout"));
  return conn;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status SqliteDb::Exec(std::string_view sql, std::string_view what) {
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : Error(rc, what);
}

Result<Statement> SqliteDb::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return gpupool::Error(Error(rc, "preparing " + sql));
    }
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(this, it->second);
}

bool SqliteDb::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

std::int64_t SqliteDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

std::int64_t SqliteDb::Changes() const { return sqlite3_changes64(db_); }

Status SqliteDb::Error(int rc, std::string_view what) const {
  std::string message = file_.string() + ": " + std::string(what) + ": ";
  // sqlite3_errmsg describes the most recent failure on this connection, which is `rc` when the
  // caller passes it straight on; fall back to the generic text otherwise.
  if (sqlite3_extended_errcode(db_) == rc) {
    message += sqlite3_errmsg(db_);
  } else {
    message += sqlite3_errstr(rc);
  }
  return Status(CodeFor(rc), std::move(message));
}

}  // namespace gpupool::store

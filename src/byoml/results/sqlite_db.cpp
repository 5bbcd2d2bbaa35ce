#include "byoml/results/sqlite_db.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <thread>

namespace byoml {

namespace {

// SQLite's error, with the limit named when a query ran into one.
std::string describe(sqlite3* db) {
  int rc = sqlite3_errcode(db);
  if (rc == SQLITE_NOMEM || rc == SQLITE_TOOBIG)
    return fmt::format("the query ran out of its memory limit: {}", sqlite3_errmsg(db));
  return sqlite3_errmsg(db);
}

}  // namespace

Status sql_exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Status(rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? ErrorCode::kTransient : ErrorCode::kIo,
                  fmt::format("results store: {}", msg));
  }
  return {};
}

Stmt::Stmt(sqlite3* db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr) != SQLITE_OK) error_ = describe(db);
}

Stmt& Stmt::bind(int at, const SqlValue& v) {
  if (!st_) return *this;
  if (auto* i = std::get_if<int64_t>(&v)) sqlite3_bind_int64(st_, at, *i);
  else if (auto* d = std::get_if<double>(&v)) sqlite3_bind_double(st_, at, *d);
  else if (auto* s = std::get_if<std::string>(&v)) sqlite3_bind_text(st_, at, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
  else sqlite3_bind_null(st_, at);
  return *this;
}

Stmt& Stmt::bind_json(int at, const nlohmann::json& v) {
  if (v.is_null()) return bind(at, SqlValue());
  if (v.is_number_float()) return bind(at, SqlValue(v.get<double>()));
  if (v.is_number_integer()) return bind(at, SqlValue(v.get<int64_t>()));
  if (v.is_boolean()) return bind(at, SqlValue(int64_t{v.get<bool>()}));
  return bind(at, v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<std::vector<nlohmann::json>> Stmt::rows(uint64_t max_bytes) {
  if (!st_) return Status(ErrorCode::kInvalidArgument, "query: " + error_);
  // Reset when done, however it ends: bindings for the next run need a reset statement.
  struct Reset {
    sqlite3_stmt* st;
    ~Reset() { sqlite3_reset(st); }
  } reset{st_};
  std::vector<nlohmann::json> out;
  uint64_t bytes = 0;
  for (;;) {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_NOMEM || rc == SQLITE_TOOBIG) return Status(ErrorCode::kInvalidArgument, "query: " + describe(db_));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      return Status(ErrorCode::kTransient, fmt::format("results store busy: {}", sqlite3_errmsg(db_)));
    if (rc != SQLITE_ROW) return Status(ErrorCode::kIo, fmt::format("results store: {}", sqlite3_errmsg(db_)));
    for (int c = 0; c < sqlite3_column_count(st_); ++c) bytes += static_cast<uint64_t>(sqlite3_column_bytes(st_, c)) + 8;
    if (bytes > max_bytes)
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("query result is larger than {} MiB; narrow it (where, project, take)", max_bytes >> 20));
    nlohmann::json row = nlohmann::json::object();
    for (int c = 0; c < sqlite3_column_count(st_); ++c) {
      const char* name = sqlite3_column_name(st_, c);
      switch (sqlite3_column_type(st_, c)) {
        case SQLITE_INTEGER: row[name] = sqlite3_column_int64(st_, c); break;
        case SQLITE_FLOAT: row[name] = sqlite3_column_double(st_, c); break;
        case SQLITE_NULL: row[name] = nullptr; break;
        default:
          row[name] = std::string(reinterpret_cast<const char*>(sqlite3_column_text(st_, c)),
                                  static_cast<size_t>(sqlite3_column_bytes(st_, c)));
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

Status Stmt::run() {
  auto r = rows();
  return r ? Status() : r.status();
}

Result<WriteTransaction> WriteTransaction::begin(sqlite3* db, const std::string& what, const WaitNotice& on_wait) {
  // The connection's busy timeout covers short waits; a run that holds the lock longer (a big
  // score commit) is waited for here, told once, and without a time limit, as a lock should be.
  bool told = false;
  for (;;) {
    Status st = sql_exec(db, "BEGIN IMMEDIATE");
    if (st) return WriteTransaction(db);
    if (st.code() != ErrorCode::kTransient) return st;
    if (!told && on_wait) on_wait(fmt::format("{} is being written by another byoml run; waiting for it to finish", what));
    told = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

WriteTransaction::~WriteTransaction() {
  if (db_) (void)sql_exec(db_, "ROLLBACK");
}

Status WriteTransaction::commit() {
  Status st = sql_exec(db_, "COMMIT");
  if (st) db_ = nullptr;
  return st;
}

Status migrate_section(sqlite3* db, const std::string& where, const std::string& section,
                       const std::vector<std::string>& migrations) {
  const int known = static_cast<int>(migrations.size());
  // Each step re-reads the version inside its transaction: two runs opening a new store at once
  // must not both apply the same migration. Called inside a caller's write transaction, the
  // steps become part of it.
  const bool in_caller_txn = sqlite3_get_autocommit(db) == 0;
  for (;;) {
    std::optional<WriteTransaction> txn;
    if (!in_caller_txn) {
      auto t = WriteTransaction::begin(db, where, {});
      if (!t) return t.status();
      txn.emplace(std::move(t).value());
    }
    BYOML_RETURN_IF_ERROR(
        sql_exec(db, "CREATE TABLE IF NOT EXISTS byoml_schema (Section TEXT PRIMARY KEY, Version INTEGER NOT NULL)"));
    Stmt get(db, "SELECT Version FROM byoml_schema WHERE Section = ?1");
    auto found = get.bind(1, section).rows();
    if (!found) return found.status();
    int version = found->empty() ? 0 : static_cast<int>((*found)[0]["Version"].get<int64_t>());
    if (version > known)
      return Status(ErrorCode::kUnsupported,
                    fmt::format("{}: its {} schema is version {}, written by a newer byoml (this one knows version {}); "
                                "use that byoml or another --store",
                                where, section, version, known));
    if (version == known) return txn ? txn->commit() : Status();
    BYOML_RETURN_IF_ERROR(sql_exec(db, migrations[static_cast<size_t>(version)])
                              .with_context(fmt::format("{}: migrating the {} schema to version {}", where, section, version + 1)));
    Stmt set(db, "INSERT OR REPLACE INTO byoml_schema (Section, Version) VALUES (?1, ?2)");
    BYOML_RETURN_IF_ERROR(set.bind(1, section).bind(2, int64_t{version + 1}).run());
    if (txn) BYOML_RETURN_IF_ERROR(txn->commit());
  }
}

}  // namespace byoml

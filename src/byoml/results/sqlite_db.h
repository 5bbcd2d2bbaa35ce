// The SQLite pieces every part of a byoml store uses: statements whose values are always bound
// (no value ever becomes SQL text), write transactions that serialise concurrent runs, and
// schema sections, each with its own migrations (results here, incidents in rules/).
#pragma once

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "byoml/common/file_lock.h"
#include "byoml/common/status.h"

namespace byoml {

using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

Status sql_exec(sqlite3* db, const std::string& sql);

// A prepared statement. An error in preparing is kept and reported by rows()/run().
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql);
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int at, const SqlValue& v);
  Stmt& bind(int at, const std::string& s) { return bind(at, SqlValue(s)); }
  Stmt& bind(int at, int64_t i) { return bind(at, SqlValue(i)); }
  // A JSON value: null, number, bool, or text (objects and arrays as JSON text).
  Stmt& bind_json(int at, const nlohmann::json& v);
  // All rows as objects keyed by column name; at most `max_bytes` of values in all.
  Result<std::vector<nlohmann::json>> rows(uint64_t max_bytes = UINT64_MAX);
  // Runs it once more with new bindings (for inserts in a loop).
  Status run();

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  std::string error_;
};

// BEGIN IMMEDIATE: the store's write lock, taken before anything is read, so two runs never
// decide on the same state (two rule runs both "due", say). Another holder makes it wait,
// saying so once through `on_wait`. Rolled back unless commit() succeeds, so a killed or
// failed run leaves nothing behind.
class WriteTransaction {
 public:
  static Result<WriteTransaction> begin(sqlite3* db, const std::string& what, const WaitNotice& on_wait);
  WriteTransaction(WriteTransaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  WriteTransaction& operator=(WriteTransaction&&) = delete;
  ~WriteTransaction();
  Status commit();

 private:
  explicit WriteTransaction(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// Brings one schema section from its recorded version to migrations.size(), one transaction per
// step. A section written by a newer byoml is refused.
Status migrate_section(sqlite3* db, const std::string& where, const std::string& section,
                       const std::vector<std::string>& migrations);

}  // namespace byoml

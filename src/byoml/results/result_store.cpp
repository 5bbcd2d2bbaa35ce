#include "byoml/results/result_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <fstream>

namespace byoml {

void ResultStore::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

namespace {

Status sql_error(sqlite3* db, const std::string& what) {
  return Status(ErrorCode::kIo, fmt::format("{}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"));
}

Status exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status(ErrorCode::kIo, fmt::format("results store: {}", msg));
  }
  return {};
}

const char* sql_type(ColumnType t) {
  switch (t) {
    case ColumnType::kReal: return "REAL";
    case ColumnType::kLong:
    case ColumnType::kInt:
    case ColumnType::kBool: return "INTEGER";
    default: return "TEXT";
  }
}

}  // namespace

Result<ResultStore> ResultStore::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  ResultStore s;
  s.db_.reset(raw);
  s.path_ = path;
  if (rc != SQLITE_OK) return sql_error(raw, fmt::format("{}: cannot open results store", path));
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, nullptr) != SQLITE_OK)
    return sql_error(raw, fmt::format("{}: not a results store", path));
  int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  if (version > kStoreSchemaVersion)
    return Status(ErrorCode::kUnsupported,
                  fmt::format("{}: results store schema version {} was written by a newer byoml (this one knows "
                              "version {}); use that byoml or another --store",
                              path, version, kStoreSchemaVersion));
  if (version < kStoreSchemaVersion) {
    BYOML_RETURN_IF_ERROR(exec(raw, "PRAGMA journal_mode=WAL"));
    BYOML_RETURN_IF_ERROR(exec(raw, fmt::format("PRAGMA user_version={}", kStoreSchemaVersion)));
  }
  return s;
}

Status ResultStore::ensure_table(const OutputSchema& schema) {
  BYOML_RETURN_IF_ERROR(validate_output(schema));  // the table and column names are identifiers we checked
  std::string cols;
  for (const auto& c : schema.columns) cols += fmt::format("{}\"{}\" {}", cols.empty() ? "" : ", ", c.name, sql_type(c.type));
  return exec(db_.get(), fmt::format("CREATE TABLE IF NOT EXISTS \"{}\" ({})", schema.table, cols));
}

Status ResultStore::insert(const OutputSchema& schema, const std::vector<nlohmann::json>& rows) {
  BYOML_RETURN_IF_ERROR(ensure_table(schema));
  std::string names, marks;
  for (const auto& c : schema.columns) {
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", c.name);
    marks += marks.empty() ? "?" : ", ?";
  }
  sqlite3* db = db_.get();
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, fmt::format("INSERT INTO \"{}\" ({}) VALUES ({})", schema.table, names, marks).c_str(), -1,
                         &st, nullptr) != SQLITE_OK)
    return sql_error(db, "results store");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, &sqlite3_finalize);
  BYOML_RETURN_IF_ERROR(exec(db, "BEGIN"));
  for (const auto& row : rows) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      const auto& c = schema.columns[i];
      int at = static_cast<int>(i + 1);
      auto it = row.find(c.name);
      if (it == row.end() || it->is_null()) continue;  // NULL
      if (it->is_number_float()) {
        sqlite3_bind_double(st, at, it->get<double>());
      } else if (it->is_number_integer()) {
        sqlite3_bind_int64(st, at, it->get<int64_t>());
      } else if (it->is_boolean()) {
        sqlite3_bind_int(st, at, it->get<bool>() ? 1 : 0);
      } else {
        std::string text = it->is_string() ? it->get<std::string>()
                                           : it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        sqlite3_bind_text(st, at, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      }
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
      Status err = sql_error(db, "results store insert");
      (void)exec(db, "ROLLBACK");
      return err;
    }
  }
  return exec(db, "COMMIT");
}

Result<uint64_t> ResultStore::count(const std::string& table) {
  OutputSchema probe{table, {{"TimeGenerated", ColumnType::kDatetime, ""}}};
  BYOML_RETURN_IF_ERROR(validate_output(probe));
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_.get(), fmt::format("SELECT count(*) FROM \"{}\"", table).c_str(), -1, &st, nullptr) !=
      SQLITE_OK)
    return sql_error(db_.get(), "results store");
  uint64_t n = sqlite3_step(st) == SQLITE_ROW ? static_cast<uint64_t>(sqlite3_column_int64(st, 0)) : 0;
  sqlite3_finalize(st);
  return n;
}

Status write_jsonl(const std::string& path, const std::vector<nlohmann::json>& rows) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status(ErrorCode::kIo, fmt::format("{}: cannot write", path));
  for (const auto& r : rows) out << r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  if (!out.flush()) return Status(ErrorCode::kIo, fmt::format("{}: write failed", path));
  return {};
}

}  // namespace byoml

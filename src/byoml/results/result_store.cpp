#include "byoml/results/result_store.h"
#include "byoml/common/atomic_file.h"
#include "byoml/common/text.h"

#include <fmt/format.h>

#include <filesystem>
#include <sqlite3.h>

#include <fstream>
#include <iterator>

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

// Migrations, applied in order from the store's version to kStoreSchemaVersion.
const char* const kMigrations[] = {
    // 1: nothing but the version; result tables are created from templates on demand.
    "",
    // 2
    "CREATE TABLE IF NOT EXISTS byoml_runs (RunId TEXT PRIMARY KEY, Kind TEXT NOT NULL, Started TEXT, Finished TEXT, "
    "DurationSeconds REAL, ModelVersion INTEGER, Status TEXT, Inputs TEXT, FilesRead INTEGER, Records INTEGER, "
    "Events INTEGER, Rejected INTEGER, Users INTEGER, Resources INTEGER, UnseenUsers INTEGER, UnseenResources INTEGER, "
    "Results INTEGER, Errors TEXT, Details TEXT);"
    "CREATE TABLE IF NOT EXISTS byoml_incidents (IncidentId INTEGER PRIMARY KEY AUTOINCREMENT, Title TEXT, RuleId TEXT, "
    "RuleName TEXT, Severity TEXT, Status TEXT, Created TEXT, Updated TEXT, FirstAlert TEXT, LastAlert TEXT, "
    "AlertCount INTEGER, Entities TEXT, Tactics TEXT, GroupKey TEXT, Classification TEXT, Comment TEXT, Closed TEXT);"
    "CREATE TABLE IF NOT EXISTS byoml_alerts (AlertId INTEGER PRIMARY KEY AUTOINCREMENT, RuleId TEXT, RuleName TEXT, "
    "TimeGenerated TEXT, Severity TEXT, Entities TEXT, Rows TEXT, IncidentId INTEGER);"
    "CREATE TABLE IF NOT EXISTS byoml_rule_runs (RuleId TEXT, RunTime TEXT, Rows INTEGER, Triggered INTEGER, "
    "Suppressed INTEGER, Alerts INTEGER, Error TEXT);",
};
static_assert(std::size(kMigrations) == kStoreSchemaVersion);

const char* const kRunColumns[] = {"RunId", "Kind", "Started", "Finished", "DurationSeconds", "ModelVersion", "Status",
                                   "Inputs", "FilesRead", "Records", "Events", "Rejected", "Users", "Resources",
                                   "UnseenUsers", "UnseenResources", "Results", "Errors", "Details"};

Status bind_json(sqlite3_stmt* st, int at, const nlohmann::json& v) {
  if (v.is_null()) return {};
  if (v.is_number_float()) sqlite3_bind_double(st, at, v.get<double>());
  else if (v.is_number_integer()) sqlite3_bind_int64(st, at, v.get<int64_t>());
  else if (v.is_boolean()) sqlite3_bind_int(st, at, v.get<bool>() ? 1 : 0);
  else {
    std::string text = v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    sqlite3_bind_text(st, at, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  return {};
}

}  // namespace

Result<ResultStore> ResultStore::open(const std::string& path, Mode mode) {
  if (mode == Mode::kExisting && !std::filesystem::is_regular_file(path))
    return Status(ErrorCode::kNotFound,
                  fmt::format("{}: no results store there (check --store; `byoml score` creates one)", path));
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | (mode == Mode::kCreate ? SQLITE_OPEN_CREATE : 0),
                           nullptr);
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
  if (version == 0) BYOML_RETURN_IF_ERROR(exec(raw, "PRAGMA journal_mode=WAL"));
  for (int v = version + 1; v <= kStoreSchemaVersion; ++v) {
    BYOML_RETURN_IF_ERROR(exec(raw, "BEGIN"));
    Status migrated = exec(raw, std::string(kMigrations[v - 1]) + fmt::format(";PRAGMA user_version={}", v));
    if (!migrated) {
      (void)exec(raw, "ROLLBACK");
      return migrated.with_context(fmt::format("{}: migrating to schema version {}", path, v));
    }
    BYOML_RETURN_IF_ERROR(exec(raw, "COMMIT"));
  }
  s.version_ = kStoreSchemaVersion;
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
      if (it != row.end()) (void)bind_json(st, at, *it);  // missing: NULL
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

std::vector<std::string> ResultStore::columns(const std::string& table) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "SELECT name FROM pragma_table_info(?1)", -1, &st, nullptr) != SQLITE_OK) return out;
  sqlite3_bind_text(st, 1, table.data(), static_cast<int>(table.size()), SQLITE_TRANSIENT);
  while (sqlite3_step(st) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  return out;
}

Status ResultStore::record_run(const nlohmann::json& run) {
  std::string names, marks;
  for (const char* c : kRunColumns) {
    names += fmt::format("{}{}", names.empty() ? "" : ", ", c);
    marks += fmt::format("{}?", marks.empty() ? "" : ", ");
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_.get(), fmt::format("INSERT OR REPLACE INTO byoml_runs ({}) VALUES ({})", names, marks).c_str(),
                         -1, &st, nullptr) != SQLITE_OK)
    return sql_error(db_.get(), "results store");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, &sqlite3_finalize);
  int at = 1;
  for (const char* c : kRunColumns) {
    auto it = run.find(c);
    // Inputs and errors may name a SAS URL or a connection string: no credential is stored.
    if (it != run.end() && it->is_string()) (void)bind_json(st, at, redact_secrets(it->get<std::string>()));
    else if (it != run.end() && it->is_structured())
      (void)bind_json(st, at, redact_secrets(it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    else if (it != run.end()) (void)bind_json(st, at, *it);
    ++at;
  }
  if (sqlite3_step(st) != SQLITE_DONE) return sql_error(db_.get(), "results store: run health");
  return {};
}

Status write_jsonl(const std::string& path, const std::vector<nlohmann::json>& rows) {
  auto out = AtomicFile::create(path);
  if (!out) return out.status();
  for (const auto& r : rows) out->write(r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n');
  return out->commit();
}

}  // namespace byoml

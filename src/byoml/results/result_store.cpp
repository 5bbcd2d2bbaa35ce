#include "byoml/results/result_store.h"
#include "byoml/common/atomic_file.h"
#include "byoml/common/text.h"
#include "byoml/results/sqlite_db.h"

#include <fmt/format.h>

#include <algorithm>

#include <filesystem>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace byoml {

void ResultStore::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

namespace {

Status sql_error(sqlite3* db, const std::string& what) {
  return Status(ErrorCode::kIo, fmt::format("{}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"));
}

// The declared type names the Log Analytics type, so a query knows a datetime from a string,
// then the storage that gives SQLite's affinity ("datetime TEXT", "long INTEGER", "real REAL").
std::string sql_type(ColumnType t) {
  const char* storage = t == ColumnType::kReal ? "REAL"
                        : t == ColumnType::kLong || t == ColumnType::kInt || t == ColumnType::kBool ? "INTEGER"
                                                                                                     : "TEXT";
  return fmt::format("{} {}", column_type_name(t), storage);
}

// The results section's migrations (PRAGMA user_version), applied in order up to
// kStoreSchemaVersion. Incidents, alerts and rule runs are the rules section's (rules/).
const char* const kMigrations[] = {
    // 1: nothing but the version; result tables are created from templates on demand.
    "",
    // 2
    "CREATE TABLE IF NOT EXISTS byoml_runs (RunId TEXT PRIMARY KEY, Kind TEXT NOT NULL, Started TEXT, Finished TEXT, "
    "DurationSeconds REAL, ModelVersion INTEGER, Status TEXT, Inputs TEXT, FilesRead INTEGER, Records INTEGER, "
    "Events INTEGER, Rejected INTEGER, Users INTEGER, Resources INTEGER, UnseenUsers INTEGER, UnseenResources INTEGER, "
    "Results INTEGER, Errors TEXT, Details TEXT);",
};
static_assert(std::size(kMigrations) == kStoreSchemaVersion);

const char* const kRunColumns[] = {"RunId", "Kind", "Started", "Finished", "DurationSeconds", "ModelVersion", "Status",
                                   "Inputs", "FilesRead", "Records", "Events", "Rejected", "Users", "Resources",
                                   "UnseenUsers", "UnseenResources", "Results", "Errors", "Details"};

int user_version(sqlite3* db) {
  Stmt st(db, "PRAGMA user_version");
  auto rows = st.rows();
  return rows && !rows->empty() ? static_cast<int>((*rows)[0]["user_version"].get<int64_t>()) : -1;
}

}  // namespace

Result<ResultStore> ResultStore::open(const std::string& path, Mode mode) {
  if (mode == Mode::kExisting && !std::filesystem::is_regular_file(path))
    return Status(ErrorCode::kNotFound,
                  fmt::format("{}: no results store there (check --store; `byoml score` creates one)", path));
  if (mode == Mode::kCreate) {
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && !std::filesystem::exists(parent, ec)) std::filesystem::create_directories(parent, ec);
    if (ec) return Status(ErrorCode::kIo, fmt::format("{}: cannot create its folder: {}", path, ec.message()));
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | (mode == Mode::kCreate ? SQLITE_OPEN_CREATE : 0),
                           nullptr);
  ResultStore s;
  s.db_.reset(raw);
  s.path_ = path;
  if (rc != SQLITE_OK) return sql_error(raw, fmt::format("{}: cannot open results store", path));
  sqlite3_busy_timeout(raw, 10000);
  int version = user_version(raw);
  if (version < 0) return sql_error(raw, fmt::format("{}: not a results store", path));
  if (version > kStoreSchemaVersion)
    return Status(ErrorCode::kUnsupported,
                  fmt::format("{}: results store schema version {} was written by a newer byoml (this one knows "
                              "version {}); use that byoml or another --store",
                              path, version, kStoreSchemaVersion));
  if (version == 0) BYOML_RETURN_IF_ERROR(sql_exec(raw, "PRAGMA journal_mode=WAL"));
  // One step per transaction, the version re-read under the write lock: two runs opening a new
  // store at once must not both apply a step.
  while (version < kStoreSchemaVersion) {
    auto txn = WriteTransaction::begin(raw, path, {});
    if (!txn) return txn.status();
    version = user_version(raw);
    if (version >= kStoreSchemaVersion) break;
    int v = version + 1;
    BYOML_RETURN_IF_ERROR(sql_exec(raw, std::string(kMigrations[v - 1]) + fmt::format(";PRAGMA user_version={}", v))
                              .with_context(fmt::format("{}: migrating to schema version {}", path, v)));
    BYOML_RETURN_IF_ERROR(txn->commit());
    version = v;
  }
  s.version_ = kStoreSchemaVersion;
  return s;
}

Status ResultStore::ensure_table(const OutputSchema& schema) {
  BYOML_RETURN_IF_ERROR(validate_output(schema));  // the table and column names are identifiers we checked
  std::string cols;
  for (const auto& c : schema.columns) cols += fmt::format("{}\"{}\" {}", cols.empty() ? "" : ", ", c.name, sql_type(c.type));
  return sql_exec(db_.get(), fmt::format("CREATE TABLE IF NOT EXISTS \"{}\" ({})", schema.table, cols));
}

Status ResultStore::delete_run_rows(const OutputSchema& schema, const std::string& run_id) {
  BYOML_RETURN_IF_ERROR(ensure_table(schema));
  if (!schema.find("RunId")) return {};
  return Stmt(db_.get(), fmt::format("DELETE FROM \"{}\" WHERE RunId = ?1", schema.table)).bind(1, run_id).run();
}

Status ResultStore::append_rows(const OutputSchema& schema, const std::vector<nlohmann::json>& rows) {
  BYOML_RETURN_IF_ERROR(ensure_table(schema));
  sqlite3* db = db_.get();
  std::string names, marks;
  for (const auto& c : schema.columns) {
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", c.name);
    marks += marks.empty() ? "?" : ", ?";
  }
  Stmt ins(db, fmt::format("INSERT INTO \"{}\" ({}) VALUES ({})", schema.table, names, marks));
  for (const auto& row : rows) {
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      auto it = row.find(schema.columns[i].name);
      ins.bind_json(static_cast<int>(i + 1), it == row.end() ? nlohmann::json() : *it);  // missing: NULL
    }
    BYOML_RETURN_IF_ERROR(ins.run().with_context("results store insert"));
  }
  return {};
}

Status ResultStore::insert(const OutputSchema& schema, const std::vector<nlohmann::json>& rows) {
  auto txn = begin_write();
  if (!txn) return txn.status();
  BYOML_RETURN_IF_ERROR(append_rows(schema, rows));
  return txn->commit();
}

Result<WriteTransaction> ResultStore::begin_write() const { return WriteTransaction::begin(db_.get(), path_, on_wait_); }

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

std::vector<std::pair<std::string, std::string>> ResultStore::declared_columns(const std::string& table) {
  std::vector<std::pair<std::string, std::string>> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "SELECT name, type FROM pragma_table_info(?1)", -1, &st, nullptr) != SQLITE_OK) return out;
  sqlite3_bind_text(st, 1, table.data(), static_cast<int>(table.size()), SQLITE_TRANSIENT);
  auto text = [&](int i) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, i))); };
  while (sqlite3_step(st) == SQLITE_ROW) out.emplace_back(text(0), text(1));
  sqlite3_finalize(st);
  return out;
}

std::vector<std::string> ResultStore::columns(const std::string& table) {
  std::vector<std::string> out;
  for (auto& [name, type] : declared_columns(table)) out.push_back(std::move(name));
  return out;
}

Status ResultStore::record_run(const nlohmann::json& run) {
  std::string names, marks;
  for (const char* c : kRunColumns) {
    names += fmt::format("{}{}", names.empty() ? "" : ", ", c);
    marks += fmt::format("{}?", marks.empty() ? "" : ", ");
  }
  Stmt st(db_.get(), fmt::format("INSERT OR REPLACE INTO byoml_runs ({}) VALUES ({})", names, marks));
  int at = 1;
  for (const char* c : kRunColumns) {
    auto it = run.find(c);
    nlohmann::json v = it == run.end() ? nlohmann::json() : *it;
    // Inputs and errors may name a SAS URL or a connection string: no credential is stored.
    if (v.is_string()) v = redact_secrets(v.get<std::string>());
    else if (v.is_structured()) v = redact_secrets(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    st.bind_json(at++, v);
  }
  return st.run().with_context("results store: run health");
}

std::string default_store_path() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v && *v ? v : "";
  };
  if (std::string s = env("BYOML_STORE"); !s.empty()) return s;
  std::filesystem::path state = env("XDG_STATE_HOME");
  if (state.empty()) state = std::filesystem::path(env("HOME")) / ".local" / "state";
  return (state / "byoml" / "byoml.db").string();
}

Result<std::string> ResultStore::table_with_run(const std::string& run_id) {
  Stmt tables(db(), "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'byoml\\_%' ESCAPE '\\' "
                    "ORDER BY name");
  auto names = tables.rows();
  if (!names) return names.status();
  for (const auto& t : *names) {
    const std::string name = t["name"].get<std::string>();
    const auto cols = columns(name);
    if (std::find(cols.begin(), cols.end(), "RunId") == cols.end()) continue;
    std::string quoted = name;  // a store made elsewhere may hold any table name
    for (size_t at = 0; (at = quoted.find('"', at)) != std::string::npos; at += 2) quoted.insert(at, 1, '"');
    Stmt has(db(), fmt::format("SELECT 1 FROM \"{}\" WHERE RunId = ?1 LIMIT 1", quoted));
    has.bind(1, run_id);
    auto found = has.rows();
    if (!found) return found.status();
    if (!found->empty()) return name;
  }
  return std::string();
}

}  // namespace byoml

// The embedded results store (SQLite). Tables are created from a template's output schema;
// every value is bound as a parameter, so no user or share name ever becomes SQL text.
// Datetimes are ISO-8601 UTC text with 7 fraction digits (sortable as text); dynamic
// columns hold JSON text.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "byoml/common/status.h"
#include "byoml/common/output_schema.h"
#include "byoml/results/sqlite_db.h"

namespace byoml {

// Version 1: result tables only. Version 2: run health (alerts, incidents and rule runs are
// the rules section's, with migrations of their own: rules/rule_store.h).
inline constexpr int kStoreSchemaVersion = 2;

class ResultStore {
 public:
  // kCreate makes the file (and its folder) and the schema when needed (commands that write results); kExisting
  // refuses a path with no store, so a mistyped --store is an error, not an empty answer.
  enum class Mode { kCreate, kExisting };
  // Refuses a store written by a newer byoml.
  static Result<ResultStore> open(const std::string& path, Mode mode = Mode::kCreate);

  // Told when another run holds the store's write lock and this one waits.
  void set_wait_notice(WaitNotice on_wait) { on_wait_ = std::move(on_wait); }
  // The store's write lock for one run's rows; see WriteTransaction.
  Result<WriteTransaction> begin_write() const;

  Status ensure_table(const OutputSchema& schema);
  // Within a write transaction (begin_write): a run's earlier rows (same RunId) go, and rows are
  // added, each an object keyed by column name (missing keys are NULL).
  Status delete_run_rows(const OutputSchema& schema, const std::string& run_id);
  Status append_rows(const OutputSchema& schema, const std::vector<nlohmann::json>& rows);
  // Rows with no run of their own (fixtures, imports), in one transaction.
  Status insert(const OutputSchema& schema, const std::vector<nlohmann::json>& rows);
  Result<uint64_t> count(const std::string& table);
  // Columns of a table, in order (empty when it does not exist).
  std::vector<std::string> columns(const std::string& table);
  // Columns with their declared SQLite types ("datetime TEXT"; plain "TEXT" in older stores).
  std::vector<std::pair<std::string, std::string>> declared_columns(const std::string& table);
  // The result table (byoml's own tables aside) that holds rows of a run; "" when none does.
  Result<std::string> table_with_run(const std::string& run_id);
  // A health row for a train, score or rules run: keys are byoml_runs columns (RunId, Kind,
  // Started, Finished, DurationSeconds, ModelVersion, Status, Inputs, FilesRead, Records,
  // Events, Rejected, Users, Resources, UnseenUsers, UnseenResources, Results, Errors, Details).
  Status record_run(const nlohmann::json& run);
  int schema_version() const { return version_; }

  sqlite3* db() const { return db_.get(); }
  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  std::unique_ptr<sqlite3, Closer> db_;
  std::string path_;
  int version_ = 0;
  WaitNotice on_wait_;
};

// Where a store goes when no --store is given: $BYOML_STORE, else $XDG_STATE_HOME/byoml/byoml.db,
// else ~/.local/state/byoml/byoml.db. Never the working directory, so running byoml in a
// source tree or a test's folder leaves it as it was.
std::string default_store_path();


}  // namespace byoml

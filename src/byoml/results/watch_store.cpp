#include "byoml/results/watch_store.h"

#include <fmt/format.h>

#include "byoml/common/time.h"
#include "byoml/results/sqlite_db.h"

namespace byoml {

Status ensure_watch_schema(ResultStore& store) {
  static const std::vector<std::string> kWatchMigrations = {
      "CREATE TABLE IF NOT EXISTS byoml_checkpoints (Name TEXT PRIMARY KEY, Positions TEXT NOT NULL, "
      "Cycle INTEGER NOT NULL, Updated TEXT NOT NULL, RunId TEXT, Newest TEXT);"
      "CREATE TABLE IF NOT EXISTS ByomlScoredEvents (EventOriginId TEXT PRIMARY KEY, TimeGenerated TEXT, "
      "AnomalyScore REAL, Severity REAL, ModelVersion INTEGER, RunId TEXT, Event TEXT NOT NULL);"
      "CREATE INDEX IF NOT EXISTS ByomlScoredEvents_time ON ByomlScoredEvents (TimeGenerated);"
      "CREATE TABLE IF NOT EXISTS byoml_outbox (Id INTEGER PRIMARY KEY AUTOINCREMENT, Target TEXT NOT NULL, "
      "RunId TEXT NOT NULL, Schema TEXT NOT NULL, Rows TEXT NOT NULL, Created TEXT NOT NULL, "
      "Attempts INTEGER NOT NULL DEFAULT 0, LastError TEXT, UNIQUE (Target, RunId));",
  };
  return migrate_section(store.db(), store.path(), "watch", kWatchMigrations);
}

Result<std::optional<Checkpoint>> load_checkpoint(ResultStore& store, const std::string& name) {
  // Reading makes no tables: `byoml watch status` writes nothing.
  if (store.columns("byoml_checkpoints").empty()) return std::optional<Checkpoint>();
  Stmt st(store.db(), "SELECT Positions, Cycle, Updated, RunId, Newest FROM byoml_checkpoints WHERE Name = ?1");
  auto rows = st.bind(1, name).rows();
  if (!rows) return rows.status();
  if (rows->empty()) return std::optional<Checkpoint>();
  const auto& r = (*rows)[0];
  Checkpoint c{name, r["Positions"].get<std::string>(), r["Cycle"].get<int64_t>(), r["Updated"].get<std::string>(),
               r["RunId"].is_string() ? r["RunId"].get<std::string>() : "",
               r["Newest"].is_string() ? r["Newest"].get<std::string>() : ""};
  return std::optional<Checkpoint>(std::move(c));
}

Status save_checkpoint(ResultStore& store, const Checkpoint& c) {
  BYOML_RETURN_IF_ERROR(ensure_watch_schema(store));
  Stmt st(store.db(),
          "INSERT INTO byoml_checkpoints (Name, Positions, Cycle, Updated, RunId, Newest) VALUES (?1, ?2, 1, ?3, ?4, "
          "nullif(?5, '')) ON CONFLICT (Name) DO UPDATE SET Positions = ?2, Cycle = Cycle + 1, Updated = ?3, RunId = ?4, "
          "Newest = nullif(max(coalesce(Newest, ''), ?5), '')");
  return st.bind(1, c.name).bind(2, c.positions).bind(3, format_timestamp(now_ticks())).bind(4, c.run_id)
      .bind(5, c.newest).run();
}

Result<uint64_t> insert_scored_events(ResultStore& store, const std::vector<std::string>& events,
                                      const std::string& run_id, int model_version) {
  BYOML_RETURN_IF_ERROR(ensure_watch_schema(store));
  Stmt ins(store.db(),
           "INSERT INTO ByomlScoredEvents (EventOriginId, TimeGenerated, AnomalyScore, Severity, ModelVersion, RunId, "
           "Event) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (EventOriginId) DO NOTHING");
  uint64_t added = 0;
  for (const auto& line : events) {
    // Lines come from a detector (models/detector.h each_event), never from input as such.
    auto e = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    BYOML_CHECK(e.is_object() && e.contains("EventOriginId"));
    ins.bind_json(1, e["EventOriginId"]).bind_json(2, e.value("TimeGenerated", nlohmann::json()));
    ins.bind_json(3, e.value("AnomalyScore", nlohmann::json())).bind_json(4, e.value("Severity", nlohmann::json()));
    ins.bind(5, int64_t{model_version}).bind(6, run_id).bind(7, line);
    BYOML_RETURN_IF_ERROR(ins.run().with_context("storing scored events"));
    added += static_cast<uint64_t>(sqlite3_changes(store.db()));
  }
  return added;
}

namespace {

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

nlohmann::json schema_json(const OutputSchema& s) {
  nlohmann::json columns = nlohmann::json::array();
  for (const auto& c : s.columns) columns.push_back({c.name, column_type_name(c.type)});
  return {{"table", s.table}, {"columns", columns}};
}

Result<OutputSchema> schema_from(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  OutputSchema s;
  if (!j.is_object() || !j["table"].is_string() || !j["columns"].is_array())
    return Status(ErrorCode::kCorrupt, "its schema is not what byoml wrote");
  s.table = j["table"];
  for (const auto& c : j["columns"]) {
    if (!c.is_array() || c.size() != 2 || !c[0].is_string() || !c[1].is_string())
      return Status(ErrorCode::kCorrupt, "a column of its schema is not what byoml wrote");
    auto type = parse_column_type(c[1]);
    if (!type) return type.status();
    s.columns.push_back({c[0], *type, ""});
  }
  BYOML_RETURN_IF_ERROR(validate_output(s));
  return s;
}

}  // namespace

Result<nlohmann::json> watch_cycles(ResultStore& store, const std::string& name) {
  const std::string mine = "FROM byoml_runs WHERE Kind = 'watch' AND json_extract(Details, '$.checkpoint') = ?1";
  auto one = [&](const std::string& sql) -> Result<nlohmann::json> {
    Stmt st(store.db(), sql);
    auto rows = st.bind(1, name).rows();
    if (!rows) return rows.status();
    return rows->empty() ? nlohmann::json() : (*rows)[0];
  };
  nlohmann::json out;
  auto last = one("SELECT RunId, Finished, Status, DurationSeconds, Records, Events, Results, ModelVersion, Errors, "
                  "json_extract(Details, '$.shadow_model_version') AS ShadowModelVersion " + mine +
                  " ORDER BY Finished DESC LIMIT 1");
  if (!last) return last.status();
  if (!last->is_null()) {
    double seconds = (*last)["DurationSeconds"].is_number() ? (*last)["DurationSeconds"].get<double>() : 0;
    if (seconds > 0 && (*last)["Events"].is_number())
      (*last)["events_per_second"] = (*last)["Events"].get<double>() / seconds;
    out["last_cycle"] = *last;
  }
  auto ok = one("SELECT ModelVersion, json_extract(Details, '$.shadow_model_version') AS Shadow " + mine +
                " AND Status = 'ok' ORDER BY Finished DESC LIMIT 1");
  if (!ok) return ok.status();
  out["live_model_version"] = ok->is_null() ? nlohmann::json() : (*ok)["ModelVersion"];
  out["shadow_model_version"] = ok->is_null() ? nlohmann::json() : (*ok)["Shadow"];
  auto failed = one("SELECT RunId, Finished, Errors " + mine + " AND Status = 'failed' ORDER BY Finished DESC LIMIT 1");
  if (!failed) return failed.status();
  out["last_error"] = *failed;
  Stmt cycles(store.db(), "SELECT Status, count(*) AS n " + mine + " GROUP BY Status");
  auto rows = cycles.bind(1, name).rows();
  if (!rows) return rows.status();
  nlohmann::json by_status = nlohmann::json::object();
  for (const auto& r : *rows) by_status[r["Status"].get<std::string>()] = r["n"];
  out["cycles_by_status"] = by_status;
  return out;
}

Status enqueue_outbox(ResultStore& store, const OutboxEntry& e) {
  BYOML_RETURN_IF_ERROR(ensure_watch_schema(store));
  Stmt st(store.db(),
          "INSERT INTO byoml_outbox (Target, RunId, Schema, Rows, Created) VALUES (?1, ?2, ?3, ?4, ?5) "
          "ON CONFLICT (Target, RunId) DO UPDATE SET Rows = ?4, Schema = ?3");
  return st.bind(1, e.target)
      .bind(2, e.run_id)
      .bind(3, dump(schema_json(e.schema)))
      .bind(4, dump(nlohmann::json(e.rows)))
      .bind(5, format_timestamp(now_ticks()))
      .run();
}

Result<std::vector<OutboxEntry>> pending_outbox(ResultStore& store, size_t limit) {
  BYOML_RETURN_IF_ERROR(ensure_watch_schema(store));
  Stmt st(store.db(), "SELECT Id, Target, RunId, Schema, Rows, Attempts, LastError FROM byoml_outbox ORDER BY Id LIMIT ?1");
  auto rows = st.bind(1, static_cast<int64_t>(limit)).rows();
  if (!rows) return rows.status();
  std::vector<OutboxEntry> out;
  for (const auto& r : *rows) {
    OutboxEntry e;
    e.id = r["Id"];
    e.target = r["Target"];
    e.run_id = r["RunId"];
    auto schema = schema_from(r["Schema"].get<std::string>());
    auto parsed = nlohmann::json::parse(r["Rows"].get<std::string>(), nullptr, false);
    if (!schema || !parsed.is_array())
      return Status(ErrorCode::kCorrupt, fmt::format("{}: outbox entry {} is damaged: {}", store.path(), e.id,
                                                     schema ? "its rows are not a JSON array" : schema.status().message()));
    e.schema = std::move(schema).value();
    for (auto& row : parsed) e.rows.push_back(std::move(row));
    e.attempts = r["Attempts"];
    e.last_error = r["LastError"].is_string() ? r["LastError"].get<std::string>() : "";
    out.push_back(std::move(e));
  }
  return out;
}

Status remove_outbox(ResultStore& store, int64_t id) {
  auto txn = store.begin_write();
  if (!txn) return txn.status();
  BYOML_RETURN_IF_ERROR(Stmt(store.db(), "DELETE FROM byoml_outbox WHERE Id = ?1").bind(1, id).run());
  return txn->commit();
}

Status note_outbox_failure(ResultStore& store, int64_t id, const std::string& error) {
  auto txn = store.begin_write();
  if (!txn) return txn.status();
  Stmt st(store.db(), "UPDATE byoml_outbox SET Attempts = Attempts + 1, LastError = ?2 WHERE Id = ?1");
  BYOML_RETURN_IF_ERROR(st.bind(1, id).bind(2, error).run());
  return txn->commit();
}

Result<uint64_t> outbox_size(ResultStore& store) {
  if (store.columns("byoml_outbox").empty()) return uint64_t{0};
  auto rows = Stmt(store.db(), "SELECT count(*) AS n FROM byoml_outbox").rows();
  if (!rows) return rows.status();
  return static_cast<uint64_t>((*rows)[0]["n"].get<int64_t>());
}

}  // namespace byoml

#include "byoml/rules/rule_engine.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <set>

#include "byoml/rules/kql.h"

namespace byoml {

namespace {

// The memory a query may use: SQLite's heap while it runs, one value, and the rows it returns.
constexpr sqlite3_int64 kQueryMemoryBytes = sqlite3_int64{1} << 30;
constexpr uint64_t kQueryValueBytes = uint64_t{64} << 20;
constexpr uint64_t kQueryResultBytes = uint64_t{512} << 20;

// SQLite's error, with the limit named when a query ran into one.
std::string describe(sqlite3* db) {
  int rc = sqlite3_errcode(db);
  if (rc == SQLITE_NOMEM || rc == SQLITE_TOOBIG)
    return fmt::format("the query needs more than its memory limit ({} MiB, {} MiB per value): {}", kQueryMemoryBytes >> 20,
                       kQueryValueBytes >> 20, sqlite3_errmsg(db));
  return sqlite3_errmsg(db);
}

// A prepared statement with its parameters bound; values never become SQL text.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr) != SQLITE_OK) error_ = describe(db);
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int at, const SqlValue& v) {
    if (!st_) return *this;
    if (auto* i = std::get_if<int64_t>(&v)) sqlite3_bind_int64(st_, at, *i);
    else if (auto* d = std::get_if<double>(&v)) sqlite3_bind_double(st_, at, *d);
    else if (auto* s = std::get_if<std::string>(&v)) sqlite3_bind_text(st_, at, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    else sqlite3_bind_null(st_, at);
    return *this;
  }
  Stmt& bind(int at, const std::string& s) { return bind(at, SqlValue(s)); }
  Stmt& bind(int at, int64_t i) { return bind(at, SqlValue(i)); }

  // All rows as objects keyed by column name; at most `max_bytes` of values in all.
  Result<std::vector<nlohmann::json>> rows(uint64_t max_bytes = UINT64_MAX) {
    if (!st_) return Status(ErrorCode::kInvalidArgument, "query: " + error_);
    std::vector<nlohmann::json> out;
    uint64_t bytes = 0;
    for (;;) {
      int rc = sqlite3_step(st_);
      if (rc == SQLITE_DONE) break;
      if (rc == SQLITE_NOMEM || rc == SQLITE_TOOBIG) return Status(ErrorCode::kInvalidArgument, "query: " + describe(db_));
      if (rc != SQLITE_ROW) return Status(ErrorCode::kIo, fmt::format("query: {}", sqlite3_errmsg(db_)));
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
  Status run() {
    auto r = rows();
    return r ? Status() : r.status();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  std::string error_;
};

std::string text_of(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump(); }

struct Entity {
  std::string type, identifier, value;
  std::string key() const { return type + ":" + identifier + "=" + value; }
};

std::vector<Entity> entities_of(const AnalyticsRule& r, const std::vector<nlohmann::json>& rows) {
  std::vector<Entity> out;
  std::set<std::string> seen;
  for (const auto& row : rows)
    for (const auto& m : r.entity_mappings)
      for (const auto& f : m.fields) {
        auto it = row.find(f.column);
        if (it == row.end() || it->is_null()) continue;
        Entity e{m.entity_type, f.identifier, text_of(*it)};
        if (!e.value.empty() && seen.insert(e.key()).second) out.push_back(std::move(e));
      }
  return out;
}

nlohmann::json entities_json(const std::vector<Entity>& es) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : es) a.push_back({{"type", e.type}, {"identifier", e.identifier}, {"value", e.value}});
  return a;
}

std::string group_key(const AnalyticsRule& r, const std::vector<Entity>& es) {
  if (r.matching_method == "AnyAlert") return "";
  std::vector<std::string> keys;
  for (const auto& e : es)
    if (r.matching_method == "AllEntities" ||
        std::find(r.group_by_entities.begin(), r.group_by_entities.end(), e.type) != r.group_by_entities.end())
      keys.push_back(e.key());
  std::sort(keys.begin(), keys.end());
  std::string k;
  for (const auto& x : keys) k += x + "\n";
  return k;
}

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

Status raise_alert(ResultStore& store, const AnalyticsRule& r, const std::vector<nlohmann::json>& rows, Ticks now,
                   RuleOutcome& out) {
  sqlite3* db = store.db();
  const std::string t = format_timestamp(now);
  std::vector<Entity> es = entities_of(r, rows);
  int64_t incident = 0;
  if (r.create_incident) {
    std::string key = group_key(r, es);
    if (r.grouping_enabled) {
      Stmt find(db, "SELECT IncidentId, Status FROM byoml_incidents WHERE RuleId = ?1 AND GroupKey = ?2 AND LastAlert >= ?3 "
                    "ORDER BY IncidentId DESC LIMIT 1");
      auto found = find.bind(1, r.id).bind(2, key).bind(3, format_timestamp(now - r.grouping_lookback)).rows();
      if (!found) return found.status();
      if (!found->empty()) {
        const auto& f = found->front();
        bool closed = f["Status"] == "Closed";
        if (!closed || r.reopen_closed_incident) {
          incident = f["IncidentId"].get<int64_t>();
          Stmt up(db, "UPDATE byoml_incidents SET AlertCount = AlertCount + 1, LastAlert = ?1, Updated = ?1, "
                      "Status = CASE WHEN Status = 'Closed' THEN 'Active' ELSE Status END, "
                      "Closed = CASE WHEN Status = 'Closed' THEN NULL ELSE Closed END WHERE IncidentId = ?2");
          BYOML_RETURN_IF_ERROR(up.bind(1, t).bind(2, incident).run());
          out.incidents_updated.push_back(incident);
        }
      }
    }
    if (incident == 0) {
      std::string title = r.name;
      if (!es.empty()) title += " (" + es.front().value + (es.size() > 1 ? fmt::format(" +{}", es.size() - 1) : "") + ")";
      Stmt ins(db, "INSERT INTO byoml_incidents (Title, RuleId, RuleName, Severity, Status, Created, Updated, FirstAlert, "
                   "LastAlert, AlertCount, Entities, Tactics, GroupKey) VALUES (?1, ?2, ?3, ?4, 'New', ?5, ?5, ?5, ?5, 1, ?6, ?7, ?8)");
      BYOML_RETURN_IF_ERROR(ins.bind(1, title).bind(2, r.id).bind(3, r.name).bind(4, r.severity).bind(5, t)
                                .bind(6, dump(entities_json(es))).bind(7, dump(r.tactics)).bind(8, key).run());
      incident = sqlite3_last_insert_rowid(db);
      out.incidents_created.push_back(incident);
    }
  }
  Stmt alert(db, "INSERT INTO byoml_alerts (RuleId, RuleName, TimeGenerated, Severity, Entities, Rows, IncidentId) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  BYOML_RETURN_IF_ERROR(alert.bind(1, r.id).bind(2, r.name).bind(3, t).bind(4, r.severity)
                            .bind(5, dump(entities_json(es))).bind(6, dump(rows))
                            .bind(7, incident ? SqlValue(incident) : SqlValue()).run());
  ++out.alerts;
  return {};
}

// An entity mapped from a column the query does not return would be empty on every alert, and
// grouping would then merge every alert into one incident.
std::string check_entity_columns(const AnalyticsRule& r, const std::vector<std::string>& columns) {
  for (const auto& m : r.entity_mappings)
    for (const auto& f : m.fields)
      if (std::find(columns.begin(), columns.end(), f.column) == columns.end())
        return fmt::format("entity mapping {}.{}: column \"{}\" is not in the query's result (columns: {})", m.entity_type,
                           f.identifier, f.column, fmt::join(columns, ", "));
  return {};
}

}  // namespace

Result<std::vector<nlohmann::json>> run_kql(ResultStore& store, const std::string& kql, Ticks now, Ticks period,
                                            std::vector<std::string>* columns) {
  BYOML_RETURN_IF_ERROR(register_kql_functions(store.db()));
  KqlContext ctx;
  ctx.now = now;
  ctx.period = period;
  Stmt tables(store.db(), "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  auto names = tables.rows();
  if (!names) return names.status();
  for (const auto& n : *names) {
    std::string name = n["name"];
    ctx.tables[name] = store.columns(name);
  }
  auto q = translate_kql(kql, ctx);
  if (!q) return q.status();
  if (columns) *columns = q->columns;
  // An analyst's query may not take the machine: SQLite's heap and each value are capped while
  // it runs (strcat(A, A, A, A) stage after stage grows 4^n), and so is the result.
  struct Limits {
    explicit Limits(sqlite3* db) : db_(db) {
      heap_ = sqlite3_hard_heap_limit64(-1);
      sqlite3_hard_heap_limit64(heap_ > 0 ? std::min<sqlite3_int64>(heap_, kQueryMemoryBytes) : kQueryMemoryBytes);
      length_ = sqlite3_limit(db, SQLITE_LIMIT_LENGTH, static_cast<int>(kQueryValueBytes));
    }
    ~Limits() {
      sqlite3_hard_heap_limit64(heap_);
      sqlite3_limit(db_, SQLITE_LIMIT_LENGTH, length_);
    }
    sqlite3* db_;
    sqlite3_int64 heap_;
    int length_;
  } limits(store.db());
  Stmt st(store.db(), q->sql);
  for (size_t i = 0; i < q->params.size(); ++i) st.bind(static_cast<int>(i + 1), q->params[i]);
  return st.rows(kQueryResultBytes);
}

std::vector<RuleOutcome> run_rules(ResultStore& store, const std::vector<AnalyticsRule>& rules, Ticks now, bool force) {
  std::vector<RuleOutcome> out;
  sqlite3* db = store.db();
  for (const auto& r : rules) {
    if (!r.enabled) continue;
    RuleOutcome o;
    o.rule_id = r.id;
    o.rule_name = r.name;
    if (!force) {
      Stmt recent(db, "SELECT count(*) AS n FROM byoml_rule_runs WHERE RuleId = ?1 AND RunTime > ?2 AND RunTime <= ?3");
      auto n = recent.bind(1, r.id).bind(2, format_timestamp(now - r.query_frequency)).bind(3, format_timestamp(now)).rows();
      if (n && !n->empty() && (*n)[0]["n"].get<int64_t>() > 0) {
        o.not_due = true;
        out.push_back(std::move(o));
        continue;
      }
    }
    if (r.suppression_enabled) {
      Stmt last(db, "SELECT count(*) AS n FROM byoml_rule_runs WHERE RuleId = ?1 AND Triggered = 1 AND Suppressed = 0 "
                    "AND RunTime > ?2 AND RunTime <= ?3");
      auto n = last.bind(1, r.id).bind(2, format_timestamp(now - r.suppression_duration)).bind(3, format_timestamp(now)).rows();
      o.suppressed = n && !n->empty() && (*n)[0]["n"].get<int64_t>() > 0;
    }
    std::vector<std::string> columns;
    auto rows = run_kql(store, r.query, now, r.query_period, &columns);
    if (rows) o.error = check_entity_columns(r, columns);
    if (!rows) {
      o.error = rows.status().message();
    } else if (!o.error.empty()) {
      o.rows = static_cast<int64_t>(rows->size());
    } else {
      o.rows = static_cast<int64_t>(rows->size());
      o.triggered = trigger_fires(r.trigger_operator, o.rows, r.trigger_threshold);
      if (o.triggered && !o.suppressed) {
        Status st;
        if (r.alert_per_result) {
          for (const auto& row : *rows)
            if (st) st = raise_alert(store, r, {row}, now, o);
        } else {
          st = raise_alert(store, r, *rows, now, o);
        }
        if (!st) o.error = st.message();
      }
    }
    Stmt log(db, "INSERT INTO byoml_rule_runs (RuleId, RunTime, Rows, Triggered, Suppressed, Alerts, Error) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    (void)log.bind(1, r.id).bind(2, format_timestamp(now)).bind(3, o.rows).bind(4, int64_t{o.triggered})
        .bind(5, int64_t{o.suppressed}).bind(6, int64_t{o.alerts})
        .bind(7, o.error.empty() ? SqlValue() : SqlValue(o.error)).run();
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<nlohmann::json>> list_incidents(ResultStore& store, const std::string& status) {
  Stmt st(store.db(), "SELECT IncidentId, Title, Severity, Status, Created, Updated, AlertCount, Entities, RuleName, "
                      "Classification FROM byoml_incidents WHERE ?1 = '' OR Status = ?1 ORDER BY IncidentId DESC");
  return st.bind(1, status).rows();
}

Result<nlohmann::json> get_incident(ResultStore& store, int64_t id) {
  Stmt st(store.db(), "SELECT * FROM byoml_incidents WHERE IncidentId = ?1");
  auto rows = st.bind(1, id).rows();
  if (!rows) return rows.status();
  if (rows->empty()) return Status(ErrorCode::kNotFound, fmt::format("no incident {}", id));
  nlohmann::json inc = rows->front();
  Stmt al(store.db(), "SELECT AlertId, TimeGenerated, Severity, Entities, Rows FROM byoml_alerts WHERE IncidentId = ?1 ORDER BY AlertId");
  auto alerts = al.bind(1, id).rows();
  if (!alerts) return alerts.status();
  for (auto& a : *alerts)
    for (const char* k : {"Entities", "Rows"})
      if (a[k].is_string()) a[k] = nlohmann::json::parse(a[k].get<std::string>(), nullptr, false);
  inc["Alerts"] = *alerts;
  for (const char* k : {"Entities", "Tactics"})
    if (inc[k].is_string()) inc[k] = nlohmann::json::parse(inc[k].get<std::string>(), nullptr, false);
  inc.erase("GroupKey");
  return inc;
}

Status close_incident(ResultStore& store, int64_t id, const std::string& classification, const std::string& comment,
                      Ticks now) {
  static const char* kClasses[] = {"TruePositive", "FalsePositive", "BenignPositive", "Undetermined"};
  if (std::find(std::begin(kClasses), std::end(kClasses), classification) == std::end(kClasses))
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("classification \"{}\" (TruePositive, FalsePositive, BenignPositive, Undetermined)", classification));
  auto inc = get_incident(store, id);
  if (!inc) return inc.status();
  Stmt st(store.db(), "UPDATE byoml_incidents SET Status = 'Closed', Classification = ?1, Comment = ?2, Closed = ?3, "
                      "Updated = ?3 WHERE IncidentId = ?4");
  return st.bind(1, classification).bind(2, comment).bind(3, format_timestamp(now)).bind(4, id).run();
}

}  // namespace byoml

#include "byoml/rules/rule_engine.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <set>

#include "byoml/results/alert_state.h"
#include "byoml/rules/kql.h"

namespace byoml {

namespace {

// The memory a query may use: SQLite's heap while it runs, one value, and the rows it returns.
constexpr sqlite3_int64 kQueryMemoryBytes = sqlite3_int64{1} << 30;
constexpr uint64_t kQueryValueBytes = uint64_t{64} << 20;
constexpr uint64_t kQueryResultBytes = uint64_t{512} << 20;

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

// An incident's entities (stored JSON) with those of an alert that joins it, each once.
nlohmann::json merged_entities(const std::string& stored, const std::vector<Entity>& es) {
  nlohmann::json all = nlohmann::json::parse(stored, nullptr, false);
  if (!all.is_array()) all = nlohmann::json::array();
  for (const auto& e : entities_json(es))
    if (std::find(all.begin(), all.end(), e) == all.end()) all.push_back(e);
  return all;
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

// The alert's severity: the highest valid value of the rule's severity column among its rows,
// else the rule's own.
std::string alert_severity(const AnalyticsRule& r, const std::vector<nlohmann::json>& rows) {
  std::string best;
  if (!r.severity_column.empty())
    for (const auto& row : rows) {
      auto it = row.find(r.severity_column);
      std::string v = it == row.end() ? "" : text_of(*it);
      if (severity_rank(v) > severity_rank(best)) best = v;
    }
  return best.empty() ? r.severity : best;
}

// alertDisplayNameFormat with each {{Column}} replaced by the first row's value; the rule's name
// without a format. An unknown column stays as written, so the mistake shows.
std::string alert_name(const AnalyticsRule& r, const std::vector<nlohmann::json>& rows) {
  if (r.display_name_format.empty() || rows.empty()) return r.name;
  std::string out;
  const std::string& f = r.display_name_format;
  for (size_t i = 0; i < f.size();) {
    size_t open = f.find("{{", i), close = open == std::string::npos ? open : f.find("}}", open + 2);
    if (close == std::string::npos) {
      out += f.substr(i);
      break;
    }
    out += f.substr(i, open - i);
    auto it = rows.front().find(f.substr(open + 2, close - open - 2));
    out += it == rows.front().end() ? f.substr(open, close + 2 - open) : text_of(*it);
    i = close + 2;
  }
  return out;
}

Status raise_alert(ResultStore& store, const AnalyticsRule& r, const std::vector<nlohmann::json>& rows, Ticks now,
                   RuleOutcome& out) {
  sqlite3* db = store.db();
  const std::string t = format_timestamp(now);
  const std::string severity = alert_severity(r, rows);
  std::vector<Entity> es = entities_of(r, rows);
  int64_t incident = 0;
  if (r.create_incident) {
    std::string key = group_key(r, es);
    if (r.grouping_enabled) {
      Stmt find(db, "SELECT IncidentId, Status, Severity, Entities FROM byoml_incidents WHERE RuleId = ?1 AND GroupKey = ?2 "
                    "AND LastAlert >= ?3 ORDER BY IncidentId DESC LIMIT 1");
      auto found = find.bind(1, r.id).bind(2, key).bind(3, format_timestamp(now - r.grouping_lookback)).rows();
      if (!found) return found.status();
      if (!found->empty()) {
        const auto& f = found->front();
        bool closed = f["Status"] == "Closed";
        if (!closed || r.reopen_closed_incident) {
          incident = f["IncidentId"].get<int64_t>();
          // An incident is as severe as its most severe alert, and holds the entities of all.
          const std::string was = text_of(f["Severity"]);
          Stmt up(db, "UPDATE byoml_incidents SET AlertCount = AlertCount + 1, LastAlert = ?1, Updated = ?1, Severity = ?3, "
                      "Entities = ?4, Status = CASE WHEN Status = 'Closed' THEN 'Active' ELSE Status END, "
                      "Closed = CASE WHEN Status = 'Closed' THEN NULL ELSE Closed END WHERE IncidentId = ?2");
          BYOML_RETURN_IF_ERROR(up.bind(1, t)
                                    .bind(2, incident)
                                    .bind(3, severity_rank(severity) > severity_rank(was) ? severity : was)
                                    .bind(4, dump(merged_entities(text_of(f["Entities"]), es)))
                                    .run());
          out.incidents_updated.push_back(incident);
        }
      }
    }
    if (incident == 0) {
      std::string title = alert_name(r, rows);
      if (r.display_name_format.empty() && !es.empty())
        title += " (" + es.front().value + (es.size() > 1 ? fmt::format(" +{}", es.size() - 1) : "") + ")";
      Stmt ins(db, "INSERT INTO byoml_incidents (Title, RuleId, RuleName, Severity, Status, Created, Updated, FirstAlert, "
                   "LastAlert, AlertCount, Entities, Tactics, GroupKey) VALUES (?1, ?2, ?3, ?4, 'New', ?5, ?5, ?5, ?5, 1, ?6, ?7, ?8)");
      BYOML_RETURN_IF_ERROR(ins.bind(1, title).bind(2, r.id).bind(3, r.name).bind(4, severity).bind(5, t)
                                .bind(6, dump(entities_json(es))).bind(7, dump(r.tactics)).bind(8, key).run());
      incident = sqlite3_last_insert_rowid(db);
      out.incidents_created.push_back(incident);
    }
  }
  Stmt alert(db, "INSERT INTO byoml_alerts (RuleId, RuleName, TimeGenerated, Severity, Entities, Rows, IncidentId) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  BYOML_RETURN_IF_ERROR(alert.bind(1, r.id).bind(2, r.name).bind(3, t).bind(4, severity)
                            .bind(5, dump(entities_json(es))).bind(6, dump(rows))
                            .bind(7, incident ? SqlValue(incident) : SqlValue()).run());
  ++out.alerts;
  return {};
}

// An entity mapped from a column the query does not return would be empty on every alert, and
// grouping would then merge every alert into one incident; a missing severity column would
// silently give every alert the rule's severity.
std::string check_result_columns(const AnalyticsRule& r, const std::vector<std::string>& columns) {
  if (!r.severity_column.empty() && std::find(columns.begin(), columns.end(), r.severity_column) == columns.end())
    return fmt::format("alertSeverityColumnName: column \"{}\" is not in the query's result (columns: {})",
                       r.severity_column, fmt::join(columns, ", "));
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
    auto& cols = ctx.tables[name];
    for (const auto& [column, declared] : store.declared_columns(name)) cols.push_back({column, kql_type_of_declared(declared)});
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

Result<std::vector<RuleOutcome>> run_rules(ResultStore& store, const std::vector<AnalyticsRule>& rules, Ticks now,
                                           bool force, const std::string& source) {
  BYOML_RETURN_IF_ERROR(ensure_rules_schema(store));
  sqlite3* db = store.db();
  // One transaction for the whole run: its alerts, incidents, rule-run rows and health row
  // appear together or not at all (a killed run raises nothing twice), and a second run that
  // overlaps waits here, then finds the rules not due.
  auto txn = store.begin_write();
  if (!txn) return txn.status();
  std::vector<RuleOutcome> out;
  for (const auto& r : rules) {
    if (!r.enabled) continue;
    RuleOutcome o;
    o.rule_id = r.id;
    o.rule_name = r.name;
    if (!force) {
      Stmt recent(db, "SELECT count(*) AS n FROM byoml_rule_runs WHERE RuleId = ?1 AND RunTime > ?2 AND RunTime <= ?3");
      auto n = recent.bind(1, r.id).bind(2, format_timestamp(now - r.query_frequency)).bind(3, format_timestamp(now)).rows();
      if (!n) return n.status();
      if (!n->empty() && (*n)[0]["n"].get<int64_t>() > 0) {
        o.not_due = true;
        out.push_back(std::move(o));
        continue;
      }
    }
    if (r.suppression_enabled) {
      Stmt last(db, "SELECT count(*) AS n FROM byoml_rule_runs WHERE RuleId = ?1 AND Triggered = 1 AND Suppressed = 0 "
                    "AND RunTime > ?2 AND RunTime <= ?3");
      auto n = last.bind(1, r.id).bind(2, format_timestamp(now - r.suppression_duration)).bind(3, format_timestamp(now)).rows();
      if (!n) return n.status();
      o.suppressed = !n->empty() && (*n)[0]["n"].get<int64_t>() > 0;
    }
    std::vector<std::string> columns;
    auto rows = run_kql(store, r.query, now, r.query_period, &columns);
    if (rows) o.error = check_result_columns(r, columns);
    if (!rows) {
      o.error = rows.status().message();
    } else if (!o.error.empty()) {
      o.rows = static_cast<int64_t>(rows->size());
    } else {
      o.rows = static_cast<int64_t>(rows->size());
      o.triggered = trigger_fires(r.trigger_operator, o.rows, r.trigger_threshold);
      if (o.triggered && !o.suppressed) {
        if (r.alert_per_result) {
          for (const auto& row : *rows) BYOML_RETURN_IF_ERROR(raise_alert(store, r, {row}, now, o));
        } else {
          BYOML_RETURN_IF_ERROR(raise_alert(store, r, *rows, now, o));
        }
      }
    }
    Stmt log(db, "INSERT INTO byoml_rule_runs (RuleId, RunTime, Rows, Triggered, Suppressed, Alerts, Error) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    BYOML_RETURN_IF_ERROR(log.bind(1, r.id).bind(2, format_timestamp(now)).bind(3, o.rows).bind(4, int64_t{o.triggered})
                              .bind(5, int64_t{o.suppressed}).bind(6, int64_t{o.alerts})
                              .bind(7, o.error.empty() ? SqlValue() : SqlValue(o.error)).run());
    out.push_back(std::move(o));
  }
  nlohmann::json details = nlohmann::json::array();
  int failed = 0;
  for (const auto& o : out) {
    failed += !o.error.empty();
    details.push_back(outcome_json(o));
  }
  BYOML_RETURN_IF_ERROR(store.record_run({{"RunId", fmt::format("rules-{}", format_timestamp(now))},
                                          {"Kind", "rules"}, {"Started", format_timestamp(now)},
                                          {"Status", failed ? "failed" : "ok"}, {"Inputs", source},
                                          {"Results", out.size()}, {"Details", details}}));
  BYOML_RETURN_IF_ERROR(txn->commit());
  return out;
}

nlohmann::json outcome_json(const RuleOutcome& o) {
  return {{"rule_id", o.rule_id}, {"rule", o.rule_name}, {"not_due", o.not_due}, {"rows", o.rows},
          {"triggered", o.triggered}, {"suppressed", o.suppressed}, {"alerts", o.alerts},
          {"incidents_created", o.incidents_created}, {"incidents_updated", o.incidents_updated},
          {"error", o.error.empty() ? nlohmann::json() : nlohmann::json(o.error)}};
}

Result<std::vector<nlohmann::json>> list_incidents(ResultStore& store, const std::string& status) {
  BYOML_RETURN_IF_ERROR(ensure_rules_schema(store));
  Stmt st(store.db(), "SELECT IncidentId, Title, Severity, Status, Created, Updated, AlertCount, Entities, RuleName, "
                      "Classification FROM byoml_incidents WHERE ?1 = '' OR Status = ?1 ORDER BY IncidentId DESC");
  return st.bind(1, status).rows();
}

Result<std::vector<IncidentRecord>> incident_records(ResultStore& store) {
  BYOML_RETURN_IF_ERROR(ensure_rules_schema(store));
  Stmt st(store.db(), "SELECT Created, Entities FROM byoml_incidents ORDER BY IncidentId");
  auto rows = st.rows();
  if (!rows) return rows.status();
  std::vector<IncidentRecord> out;
  for (const auto& r : *rows) {
    IncidentRecord rec;
    auto created = parse_timestamp(text_of(r["Created"]));
    if (!created) return created.status().with_context("an incident's Created");
    rec.created = *created;
    auto entities = nlohmann::json::parse(text_of(r["Entities"]), nullptr, false);
    if (entities.is_array())
      for (const auto& e : entities)
        if (e.is_object() && e.value("type", "") == "Account") {
          std::string v = e.value("value", "");
          std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          rec.accounts.push_back(std::move(v));
        }
    out.push_back(std::move(rec));
  }
  return out;
}

namespace {

// What an incident rests on: its Account entities and the span from a day before its first
// alert to its last (the pairs its alerts summarised were reported within it).
struct IncidentSpan {
  std::vector<std::string> accounts;
  Ticks from = 0, to = 0;
};

Result<IncidentSpan> span_of(const nlohmann::json& inc) {
  IncidentSpan s;
  const nlohmann::json& entities = inc["Entities"];
  if (entities.is_array())
    for (const auto& e : entities)
      if (e.is_object() && e.value("type", "") == "Account") s.accounts.push_back(e.value("value", ""));
  auto first = parse_timestamp(text_of(inc["FirstAlert"])), last = parse_timestamp(text_of(inc["LastAlert"]));
  if (!first || !last)
    return Status(ErrorCode::kCorrupt, fmt::format("incident {}: no valid FirstAlert / LastAlert", text_of(inc["IncidentId"])));
  s.from = *first - kTicksPerDay;
  s.to = *last;
  return s;
}

}  // namespace

Result<nlohmann::json> get_incident(ResultStore& store, int64_t id) {
  BYOML_RETURN_IF_ERROR(ensure_rules_schema(store));
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
  auto span = span_of(inc);
  if (!span) return span.status();
  auto pairs = reported_pairs(store, span->accounts, span->from, span->to);
  if (!pairs) return pairs.status();
  std::set<std::string> runs;
  for (const auto& p : *pairs) runs.insert(text_of(p["ReportRunId"]));
  inc["Evidence"] = {{"Pairs", *pairs}, {"RunIds", runs}};
  return inc;
}

Result<uint64_t> close_incident(ResultStore& store, int64_t id, const std::string& classification,
                                const std::string& comment, Ticks now, const std::string& by) {
  static const char* kClasses[] = {"TruePositive", "FalsePositive", "BenignPositive", "Undetermined"};
  if (std::find(std::begin(kClasses), std::end(kClasses), classification) == std::end(kClasses))
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("classification \"{}\" (TruePositive, FalsePositive, BenignPositive, Undetermined)", classification));
  auto txn = store.begin_write();
  if (!txn) return txn.status();
  auto inc = get_incident(store, id);
  if (!inc) return inc.status();
  Stmt st(store.db(), "UPDATE byoml_incidents SET Status = 'Closed', Classification = ?1, Comment = ?2, Closed = ?3, "
                      "Updated = ?3 WHERE IncidentId = ?4");
  BYOML_RETURN_IF_ERROR(st.bind(1, classification).bind(2, comment).bind(3, format_timestamp(now)).bind(4, id).run());
  uint64_t pairs = 0;
  if (classification != "Undetermined") {
    auto span = span_of(*inc);
    if (!span) return span.status();
    auto marked = record_verdict(store, span->accounts, span->from, span->to, {classification, by, now, id});
    if (!marked) return marked.status();
    pairs = *marked;
  }
  BYOML_RETURN_IF_ERROR(txn->commit());
  return pairs;
}

Status ensure_rules_schema(ResultStore& store) {
  // The rules section's migrations; version 1 is what results schema 2 used to create, so it
  // adopts those tables in stores written before the sections were split.
  static const std::vector<std::string> kRulesMigrations = {
      "CREATE TABLE IF NOT EXISTS byoml_incidents (IncidentId INTEGER PRIMARY KEY AUTOINCREMENT, Title TEXT, RuleId TEXT, "
      "RuleName TEXT, Severity TEXT, Status TEXT, Created TEXT, Updated TEXT, FirstAlert TEXT, LastAlert TEXT, "
      "AlertCount INTEGER, Entities TEXT, Tactics TEXT, GroupKey TEXT, Classification TEXT, Comment TEXT, Closed TEXT);"
      "CREATE TABLE IF NOT EXISTS byoml_alerts (AlertId INTEGER PRIMARY KEY AUTOINCREMENT, RuleId TEXT, RuleName TEXT, "
      "TimeGenerated TEXT, Severity TEXT, Entities TEXT, Rows TEXT, IncidentId INTEGER);"
      "CREATE TABLE IF NOT EXISTS byoml_rule_runs (RuleId TEXT, RunTime TEXT, Rows INTEGER, Triggered INTEGER, "
      "Suppressed INTEGER, Alerts INTEGER, Error TEXT);",
  };
  return migrate_section(store.db(), store.path(), "rules", kRulesMigrations);
}

}  // namespace byoml

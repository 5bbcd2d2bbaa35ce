#include "byoml/results/alert_state.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <set>

#include "byoml/results/sqlite_db.h"

namespace byoml {

namespace {

Status ensure_schema(ResultStore& store) {
  static const std::vector<std::string> kMigrations = {
      "CREATE TABLE IF NOT EXISTS byoml_alert_state (\"Table\" string TEXT NOT NULL, Tenant string TEXT NOT NULL, "
      "\"User\" string TEXT NOT NULL, Resource string TEXT NOT NULL, FirstReported datetime TEXT, LastReported datetime TEXT, LastSeen datetime TEXT, "
      "Severity real REAL, AnomalyScore real REAL, Reasons dynamic TEXT, Reports long INTEGER, "
      "Runs long INTEGER, ReportRunId string TEXT, LastRunId string TEXT, PRIMARY KEY (\"Table\", Tenant, \"User\", Resource));",
      "ALTER TABLE byoml_alert_state ADD COLUMN Verdict string TEXT;"
      "ALTER TABLE byoml_alert_state ADD COLUMN VerdictBy string TEXT;"
      "ALTER TABLE byoml_alert_state ADD COLUMN VerdictAt datetime TEXT;"
      "ALTER TABLE byoml_alert_state ADD COLUMN VerdictIncident long INTEGER;",
  };
  return migrate_section(store.db(), store.path(), "alert_state", kMigrations);
}

std::string text(const nlohmann::json& row, const char* key) {
  auto it = row.find(key);
  return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double number(const nlohmann::json& row, const char* key) {
  auto it = row.find(key);
  return it != row.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::set<std::string> reasons_of(const nlohmann::json& v) {
  std::set<std::string> out;
  nlohmann::json a = v.is_string() ? nlohmann::json::parse(v.get<std::string>(), nullptr, false) : v;
  if (a.is_array())
    for (const auto& r : a)
      if (r.is_string()) out.insert(r.get<std::string>());
  return out;
}

}  // namespace

bool alert_state_applies(const OutputSchema& schema) { return schema.find("User") && schema.find("Resource"); }

Result<AlertPlan> plan_alerts(ResultStore& store, const OutputSchema& schema, const std::string& run_id, Ticks now,
                              std::vector<nlohmann::json> rows) {
  AlertPlan plan;
  if (!alert_state_applies(schema)) {
    plan.fresh = rows.size();
    plan.report = std::move(rows);
    return plan;
  }
  BYOML_RETURN_IF_ERROR(ensure_schema(store));
  Stmt find(store.db(), "SELECT * FROM byoml_alert_state WHERE \"Table\" = ?1 AND Tenant = ?2 AND \"User\" = ?3 AND Resource = ?4");
  const std::string t = format_timestamp(now);
  for (auto& row : rows) {
    const std::string tenant = text(row, "Tenant"), user = text(row, "User"), resource = text(row, "Resource");
    auto found = find.bind(1, schema.table).bind(2, tenant).bind(3, user).bind(4, resource).rows();
    if (!found) return found.status();
    const double severity = number(row, "Severity");
    const auto reasons = reasons_of(row.value("Reasons", nlohmann::json()));
    nlohmann::json state = {{"Table", schema.table}, {"Tenant", tenant}, {"User", user}, {"Resource", resource},
                            {"LastSeen", row.value("LastSeen", row.value("TimeGenerated", nlohmann::json()))},
                            {"AnomalyScore", number(row, "AnomalyScore")}, {"LastRunId", run_id}};
    const bool known = !found->empty() && (*found)[0].value("ReportRunId", "") != run_id;
    bool report = !known;
    if (!found->empty())  // a verdict stays with its pair
      for (const char* v : {"Verdict", "VerdictBy", "VerdictAt", "VerdictIncident"}) state[v] = (*found)[0].value(v, nlohmann::json());
    const std::string verdict = text(state, "Verdict");
    const bool benign = verdict == "FalsePositive" || verdict == "BenignPositive";
    if (known) {
      const nlohmann::json& s = (*found)[0];
      const auto before = reasons_of(s.value("Reasons", nlohmann::json()));
      report = !benign && (severity >= number(s, "Severity") + kRealertSeverityStep ||
                           std::any_of(reasons.begin(), reasons.end(), [&](const std::string& r) { return !before.count(r); }));
      state["FirstReported"] = s.value("FirstReported", nlohmann::json());
      state["Runs"] = s.value("Runs", int64_t{0}) + 1;
      state["Reports"] = s.value("Reports", int64_t{0}) + (report ? 1 : 0);
      if (!report) {  // what was reported stays the reference for the next run
        state["Severity"] = s.value("Severity", nlohmann::json());
        state["Reasons"] = s.value("Reasons", nlohmann::json());
        state["LastReported"] = s.value("LastReported", nlohmann::json());
        state["ReportRunId"] = s.value("ReportRunId", nlohmann::json());
      }
      (report ? plan.raised : benign ? plan.dismissed : plan.repeated) += 1;
    } else {
      state["FirstReported"] = t;
      state["Runs"] = 1;
      state["Reports"] = 1;
      ++plan.fresh;
    }
    if (report) {
      state["Severity"] = severity;
      state["Reasons"] = nlohmann::json(std::vector<std::string>(reasons.begin(), reasons.end())).dump();
      state["LastReported"] = t;
      state["ReportRunId"] = run_id;
      plan.report.push_back(std::move(row));
    }
    plan.state.push_back(std::move(state));
  }
  return plan;
}

Status apply_alert_plan(ResultStore& store, const AlertPlan& plan) {
  if (plan.state.empty()) return {};
  BYOML_RETURN_IF_ERROR(ensure_schema(store));
  static const char* kColumns[] = {"Table", "Tenant", "User", "Resource", "FirstReported", "LastReported", "LastSeen",
                                   "Severity", "AnomalyScore", "Reasons", "Reports", "Runs", "ReportRunId", "LastRunId",
                                   "Verdict", "VerdictBy", "VerdictAt", "VerdictIncident"};
  std::string names, marks;
  for (const char* c : kColumns) {
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", c);
    marks += marks.empty() ? "?" : ", ?";
  }
  Stmt put(store.db(), fmt::format("INSERT OR REPLACE INTO byoml_alert_state ({}) VALUES ({})", names, marks));
  for (const auto& s : plan.state) {
    for (size_t i = 0; i < std::size(kColumns); ++i) {
      auto it = s.find(kColumns[i]);
      put.bind_json(static_cast<int>(i + 1), it == s.end() ? nlohmann::json() : *it);
    }
    BYOML_RETURN_IF_ERROR(put.run().with_context("alert state"));
  }
  return {};
}

// The pairs of one account reported within a span (?1 account, ?2 from, ?3 to).
constexpr const char* kReportedWithin = "lower(\"User\") = lower(?1) AND LastReported >= ?2 AND FirstReported <= ?3";

Result<std::vector<nlohmann::json>> reported_pairs(ResultStore& store, const std::vector<std::string>& accounts, Ticks from,
                                                   Ticks to) {
  // Read only: a store without alert state has no pairs (and is not migrated for asking).
  auto exists = Stmt(store.db(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'byoml_alert_state'").rows();
  if (!exists) return exists.status();
  if (exists->empty()) return std::vector<nlohmann::json>();
  Stmt find(store.db(), fmt::format("SELECT * FROM byoml_alert_state WHERE {} ORDER BY Severity DESC, \"User\", Resource",
                                    kReportedWithin));
  std::vector<nlohmann::json> out;
  for (const auto& account : accounts) {
    auto rows = find.bind(1, account).bind(2, format_timestamp(from)).bind(3, format_timestamp(to)).rows();
    if (!rows) return rows.status();
    for (auto& r : *rows) {
      if (r["Reasons"].is_string()) r["Reasons"] = nlohmann::json::parse(r["Reasons"].get<std::string>(), nullptr, false);
      out.push_back(std::move(r));
    }
  }
  return out;
}

Result<uint64_t> record_verdict(ResultStore& store, const std::vector<std::string>& accounts, Ticks from, Ticks to,
                                const Verdict& verdict) {
  BYOML_RETURN_IF_ERROR(ensure_schema(store));
  Stmt mark(store.db(), fmt::format("UPDATE byoml_alert_state SET Verdict = ?4, VerdictBy = ?5, VerdictAt = ?6, "
                                    "VerdictIncident = ?7 WHERE {}",
                                    kReportedWithin));
  uint64_t pairs = 0;
  for (const auto& account : accounts) {
    BYOML_RETURN_IF_ERROR(mark.bind(1, account).bind(2, format_timestamp(from)).bind(3, format_timestamp(to))
                              .bind(4, verdict.verdict).bind(5, verdict.by).bind(6, format_timestamp(verdict.at))
                              .bind(7, verdict.incident).run());
    pairs += static_cast<uint64_t>(sqlite3_changes(store.db()));
  }
  return pairs;
}

Result<std::vector<std::array<std::string, 3>>> confirmed_pairs(ResultStore& store, const std::string& table) {
  BYOML_RETURN_IF_ERROR(ensure_schema(store));
  Stmt st(store.db(), "SELECT Tenant, \"User\", Resource FROM byoml_alert_state WHERE \"Table\" = ?1 AND Verdict = 'TruePositive'");
  auto rows = st.bind(1, table).rows();
  if (!rows) return rows.status();
  std::vector<std::array<std::string, 3>> out;
  for (const auto& r : *rows) out.push_back({text(r, "Tenant"), text(r, "User"), text(r, "Resource")});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace byoml

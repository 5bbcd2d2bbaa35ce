// byoml rules run | byoml query | byoml incidents list|show|close: Sentinel-style analytics
// over the local results store.
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "byoml/common/text.h"
#include "byoml/rules/rule_engine.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct RulesArgs {
  std::string store;
  std::string rules_dir;
  std::string now;
  std::string query;
  std::string status;
  std::string classification;
  std::string comment;
  std::string by;
  int64_t incident = 0;
  bool force = false;
  bool json = false;
};

Result<Ticks> now_of(const std::string& text) {
  if (text.empty()) return now_ticks();
  auto t = parse_timestamp(text);
  if (!t) return Status(ErrorCode::kInvalidArgument, "--now: " + t.status().message());
  return *t;
}

// Text for a terminal: names from the logs may hold bidi overrides and control characters.
std::string cell(const nlohmann::json& v) {
  return display_safe(v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump());
}

void print_table(const std::vector<nlohmann::json>& rows, const std::vector<std::string>& cols) {
  if (rows.empty()) {
    fmt::print("(no rows)\n");
    return;
  }
  std::vector<size_t> width(cols.size());
  for (size_t c = 0; c < cols.size(); ++c) {
    width[c] = cols[c].size();
    for (const auto& r : rows) width[c] = std::min<size_t>(60, std::max(width[c], cell(r[cols[c]]).size()));
  }
  for (size_t c = 0; c < cols.size(); ++c) fmt::print("{:<{}}  ", cols[c], width[c]);
  fmt::print("\n");
  for (const auto& r : rows) {
    for (size_t c = 0; c < cols.size(); ++c) fmt::print("{:<{}}  ", cell(r[cols[c]]).substr(0, 60), width[c]);
    fmt::print("\n");
  }
}

int run_rules_cmd(const RulesArgs& a) {
  auto now = now_of(a.now);
  if (!now) return report_error(now.status());
  Session session({a.store, wait_notice(), {}, {}});
  auto ran = session.rules(a.rules_dir, *now, a.force);
  if (!ran) return report_error(ran.status());
  const auto& outcomes = *ran;
  int failed = 0;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : outcomes) {
    failed += !o.error.empty();
    out.push_back(outcome_json(o));
  }
  if (a.json) {
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    fmt::print("rules       {} from {} at {}\n", outcomes.size(), a.rules_dir, format_timestamp(*now, 0));
    for (const auto& o : outcomes) {
      if (!o.error.empty()) {
        fmt::print("  FAILED    {}: {}\n", o.rule_name, o.error);
        continue;
      }
      if (o.not_due) {
        fmt::print("  not due   {}: ran less than its queryFrequency ago (--force runs it anyway)\n", o.rule_name);
        continue;
      }
      fmt::print("  {:<9} {}: {} rows, {} alerts, {} new incidents, {} updated\n",
                 o.suppressed ? "suppressed" : o.triggered ? "triggered" : "quiet", o.rule_name, o.rows, o.alerts,
                 o.incidents_created.size(), o.incidents_updated.size());
    }
  }
  return failed ? kExitFailure : kExitOk;
}

int run_query_cmd(const RulesArgs& a) {
  auto now = now_of(a.now);
  if (!now) return report_error(now.status());
  auto store = ResultStore::open(a.store, ResultStore::Mode::kExisting);
  if (!store) return report_error(store.status());
  std::vector<std::string> columns;
  auto rows = run_kql(*store, a.query, *now, 0, &columns);
  if (!rows) return report_error(Status(ErrorCode::kInvalidArgument, rows.status().message()));
  if (a.json) {
    for (const auto& r : *rows) std::cout << r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    print_table(*rows, columns);
  }
  return kExitOk;
}

int run_incidents_cmd(const RulesArgs& a, const std::string& action) {
  auto store = ResultStore::open(a.store, ResultStore::Mode::kExisting);
  if (!store) return report_error(store.status());
  if (action == "list") {
    auto rows = list_incidents(*store, a.status);
    if (!rows) return report_error(rows.status());
    if (a.json) {
      std::cout << nlohmann::json(*rows).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::vector<nlohmann::json> brief;
      for (const auto& r : *rows)
        brief.push_back({{"Id", r["IncidentId"]}, {"Status", r["Status"]}, {"Severity", r["Severity"]},
                         {"Alerts", r["AlertCount"]}, {"Updated", r["Updated"]}, {"Title", r["Title"]}});
      print_table(brief, {"Id", "Status", "Severity", "Alerts", "Updated", "Title"});
    }
    return kExitOk;
  }
  if (action == "show") {
    auto inc = get_incident(*store, a.incident);
    if (!inc) return report_error(inc.status());
    if (a.json) {
      std::cout << inc->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return kExitOk;
    }
    const nlohmann::json& i = *inc;
    fmt::print("incident    {} {} {}: {}\n", cell(i["IncidentId"]), cell(i["Severity"]), cell(i["Status"]), cell(i["Title"]));
    fmt::print("rule        {}\n", cell(i["RuleName"]));
    fmt::print("alerts      {} from {} to {}\n", cell(i["AlertCount"]), cell(i["FirstAlert"]), cell(i["LastAlert"]));
    if (!i["Classification"].is_null())
      fmt::print("closed      {} as {}: {}\n", cell(i["Closed"]), cell(i["Classification"]), cell(i["Comment"]));
    if (i["Entities"].is_array())
      for (const auto& e : i["Entities"])
        if (e.is_object()) fmt::print("entity      {} {} = {}\n", cell(e["type"]), cell(e["identifier"]), cell(e["value"]));
    const nlohmann::json& ev = i["Evidence"];
    fmt::print("\nevidence    {} pairs reported from a day before the first alert to the last, by {} runs\n",
               ev["Pairs"].size(), ev["RunIds"].size());
    std::vector<nlohmann::json> pairs;
    for (const auto& p : ev["Pairs"])
      pairs.push_back({{"Severity", p["Severity"]}, {"User", p["User"]}, {"Resource", p["Resource"]}, {"Reasons", p["Reasons"]},
                       {"FirstReported", p["FirstReported"]}, {"Runs", p["Runs"]}, {"Verdict", p["Verdict"]},
                       {"ReportRunId", p["ReportRunId"]}});
    print_table(pairs, {"Severity", "User", "Resource", "Reasons", "FirstReported", "Runs", "Verdict", "ReportRunId"});
    fmt::print("\nalerts\n");
    std::vector<nlohmann::json> alerts;
    for (const auto& al : i["Alerts"])
      alerts.push_back({{"AlertId", al["AlertId"]}, {"TimeGenerated", al["TimeGenerated"]}, {"Severity", al["Severity"]},
                        {"Rows", al["Rows"].is_array() ? al["Rows"].size() : 0}});
    print_table(alerts, {"AlertId", "TimeGenerated", "Severity", "Rows"});
    fmt::print("\n(--json gives everything, the alerts' rows included)\n");
    return kExitOk;
  }
  auto now = now_of(a.now);
  if (!now) return report_error(now.status());
  std::string by = a.by;
  if (by.empty())
    for (const char* var : {"USER", "LOGNAME"})
      if (const char* v = std::getenv(var); v && *v && by.empty()) by = v;
  auto pairs = close_incident(*store, a.incident, a.classification, a.comment, *now, by);
  if (!pairs) return report_error(pairs.status());
  fmt::print("incident {} closed as {}{}\n", a.incident, a.classification,
             a.classification == "Undetermined"
                 ? ""
                 : fmt::format("; the verdict is on its {} pairs in byoml_alert_state ({})", *pairs,
                               a.classification == "TruePositive" ? "kept out of the next training, so they stay anomalous"
                                                                  : "not reported again"));
  return kExitOk;
}

}  // namespace

Runner register_rules(CLI::App& app) {
  auto args = std::make_shared<RulesArgs>();
  args->store = default_store_path();
  args->rules_dir = "rules";
  auto* rules = app.add_subcommand("rules", "Run Sentinel-style analytics rules (YAML) over the results store");
  rules->require_subcommand(1);
  auto* run = rules->add_subcommand("run", "Run every enabled rule once: query, trigger, suppression, alerts, incidents");
  run->footer(
      "Example:\n"
      "  byoml rules run --rules rules/ --store demo/byoml.db\n"
      "  byoml rules run --now 2026-11-09T00:00:00Z     # as if it ran then (queryPeriod counts back from it)\n"
      "Call it from cron as often as the most frequent rule; each rule runs when its queryFrequency is due.");
  run->add_option("--rules,-r", args->rules_dir, "Rule file or directory of *.yaml")->capture_default_str();
  run->add_flag("--force", args->force, "Run every enabled rule, also those that ran less than queryFrequency ago");
  auto* query = app.add_subcommand("query", "Run one KQL query (byoml's subset) over the results store and print the rows");
  query->footer("Example:\n  byoml query 'AnomalousResourceAccessResult_CL | where AnomalyScore > 2 | top 10 by AnomalyScore'");
  query->add_option("kql", args->query, "The query")->required();
  auto* incidents = app.add_subcommand("incidents", "List, show and close incidents raised by rules");
  incidents->require_subcommand(1);
  auto* ls = incidents->add_subcommand("list", "Incidents, newest first");
  ls->add_option("--status", args->status, "New, Active or Closed (default: all)");
  auto* show = incidents->add_subcommand(
      "show", "One incident: its entities, the pairs behind it (resource, severity, reasons, runs, verdict) and its alerts");
  show->add_option("id", args->incident, "Incident id")->required();
  auto* close = incidents->add_subcommand("close", "Close an incident");
  close->add_option("id", args->incident, "Incident id")->required();
  close->add_option("--classification", args->classification,
                    "TruePositive (the pairs stay anomalous: kept out of the next training), FalsePositive or "
                    "BenignPositive (the pairs are not reported again), Undetermined (no verdict on the pairs)")
      ->required();
  close->add_option("--comment", args->comment, "Why");
  close->add_option("--by", args->by, "Who closes it (default: $USER); kept with the verdict");
  for (auto* c : {run, query, ls, show, close}) {
    c->add_option("--store", args->store, "Results store (SQLite) [env BYOML_STORE; default $XDG_STATE_HOME/byoml/byoml.db]");
    c->add_flag("--json", args->json, "JSON output");
  }
  for (auto* c : {run, query, close}) c->add_option("--now", args->now, "The time to run at (default: now, UTC)");
  return [=]() {
    if (run->parsed()) return run_rules_cmd(*args);
    if (query->parsed()) return run_query_cmd(*args);
    if (ls->parsed()) return run_incidents_cmd(*args, "list");
    if (show->parsed()) return run_incidents_cmd(*args, "show");
    if (close->parsed()) return run_incidents_cmd(*args, "close");
    return -1;
  };
}

}  // namespace byoml::cli

// Runs analytics rules against the results store: the query (KQL subset, limited to the
// rule's queryPeriod), the trigger, suppression, alerts with their entities, and grouping of
// alerts into incidents by entity within a lookback — Sentinel's behaviour, locally.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "byoml/results/evaluation.h"
#include "byoml/results/result_store.h"
#include "byoml/rules/analytics_rule.h"

namespace byoml {

// Runs one KQL query against the store's tables (period 0: no time restriction). `columns`
// receives the result's column order (JSON objects keep their keys sorted).
// It runs within declared limits (SQLite heap 1 GiB, 64 MiB a value, 512 MiB of rows): a query
// beyond them is an error that names the limit.
Result<std::vector<nlohmann::json>> run_kql(ResultStore& store, const std::string& kql, Ticks now, Ticks period = 0,
                                            std::vector<std::string>* columns = nullptr);

struct RuleOutcome {
  std::string rule_id, rule_name;
  int64_t rows = 0;
  bool not_due = false;  // ran less than queryFrequency ago
  bool triggered = false, suppressed = false;
  int alerts = 0;
  std::vector<int64_t> incidents_created, incidents_updated;
  std::string error;  // the rule failed (bad query); other rules still run
};

nlohmann::json outcome_json(const RuleOutcome& o);

// Runs every enabled rule that is due at `now` (its last run is queryFrequency or more ago, or
// `force`), as Sentinel's scheduler would when `byoml rules run` is called from cron. The whole
// run (alerts, incidents, rule runs and its health row "rules-<now>" naming `source`) is one
// transaction under the store's write lock. A rule whose query fails is reported in its
// outcome and the others still run; an error of the store itself fails the run.
Result<std::vector<RuleOutcome>> run_rules(ResultStore& store, const std::vector<AnalyticsRule>& rules, Ticks now,
                                           bool force = false, const std::string& source = "");

// The rules section of a store: incidents, alerts, rule runs (own migrations; see
// migrate_section). Every function here calls it first.
Status ensure_rules_schema(ResultStore& store);

// Incidents, newest first; status "" lists all (New, Active, Closed otherwise).
Result<std::vector<nlohmann::json>> list_incidents(ResultStore& store, const std::string& status);
// One incident with its alerts and its evidence: the pairs of its accounts reported from a day
// before its first alert to its last (byoml_alert_state rows: resource, severity, reasons,
// runs, verdict) and the runs that reported them.
Result<nlohmann::json> get_incident(ResultStore& store, int64_t id);
// Every incident's Account entities (their value, lower case) and when it was created.
Result<std::vector<IncidentRecord>> incident_records(ResultStore& store);
// classification: TruePositive, FalsePositive, BenignPositive, Undetermined. All but Undetermined
// are also the verdict on the pairs behind the incident (results/alert_state.h): those of its
// accounts reported from a day before its first alert to its last. Returns how many pairs.
Result<uint64_t> close_incident(ResultStore& store, int64_t id, const std::string& classification,
                                const std::string& comment, Ticks now, const std::string& by = "");

}  // namespace byoml

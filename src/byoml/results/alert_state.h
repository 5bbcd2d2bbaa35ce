// Alert state per pair across scoring runs. A SOC scores every hour; a pair that alerted
// should reach the analyst once, not every hour it is used again. The store keeps, per
// (Tenant, User, Resource) of a results table, what was last reported: a later run reports the
// pair again only when something new happens (a Severity at least kRealertSeverityStep higher,
// or a reason not reported before); otherwise the state is updated (last seen, accesses, runs)
// and the row is not written again. The table byoml_alert_state is queryable like any other.
// Analysts' verdicts live there too (record_verdict): a pair judged FalsePositive or
// BenignPositive is not reported again; a TruePositive pair stays out of the next training, so
// it stays anomalous however often the account uses it.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <vector>

#include "byoml/common/output_schema.h"
#include "byoml/common/time.h"
#include "byoml/results/result_store.h"

namespace byoml {

inline constexpr double kRealertSeverityStep = 5.0;

struct AlertPlan {
  std::vector<nlohmann::json> report;  // rows to write: new pairs and those with something new
  uint64_t fresh = 0, raised = 0, repeated = 0;  // new pairs, re-reported, already reported (held back)
  uint64_t dismissed = 0;                         // held back: an analyst judged the pair benign
  std::vector<nlohmann::json> state;   // byoml_alert_state rows to write (every alerting pair)
};

// Whether the schema has what the state is keyed on (User and Resource; Tenant if present).
bool alert_state_applies(const OutputSchema& schema);

// Decides on `rows` (one scoring run's, highest first) against the stored state. A state row
// reported by this same run (a run done again) counts as not yet reported.
Result<AlertPlan> plan_alerts(ResultStore& store, const OutputSchema& schema, const std::string& run_id, Ticks now,
                              std::vector<nlohmann::json> rows);
// Within the run's write transaction.
Status apply_alert_plan(ResultStore& store, const AlertPlan& plan);

// An analyst's verdict (TruePositive, FalsePositive, BenignPositive) on every pair of
// `accounts` reported between `from` and `to`, in any results table; the number of pairs.
// Call it within the caller's write transaction.
struct Verdict {
  std::string verdict, by;
  Ticks at = 0;
  int64_t incident = 0;
};
Result<uint64_t> record_verdict(ResultStore& store, const std::vector<std::string>& accounts, Ticks from, Ticks to,
                                const Verdict& verdict);
// The pairs of `accounts` reported between `from` and `to`, in any results table: what an
// incident of those accounts rests on (state rows, most severe first).
Result<std::vector<nlohmann::json>> reported_pairs(ResultStore& store, const std::vector<std::string>& accounts, Ticks from,
                                                   Ticks to);
// The pairs (tenant, user, resource) of a results table judged TruePositive, sorted.
Result<std::vector<std::array<std::string, 3>>> confirmed_pairs(ResultStore& store, const std::string& table);

}  // namespace byoml

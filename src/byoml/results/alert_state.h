// Alert state per pair across scoring runs. A SOC scores every hour; a pair that alerted
// should reach the analyst once, not every hour it is used again. The store keeps, per
// (Tenant, User, Resource) of a results table, what was last reported: a later run reports the
// pair again only when something new happens (a Severity at least kRealertSeverityStep higher,
// or a reason not reported before); otherwise the state is updated (last seen, accesses, runs)
// and the row is not written again. The table byoml_alert_state is queryable like any other.
#pragma once

#include <nlohmann/json.hpp>

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

}  // namespace byoml

// Analytics rules in the shape of Sentinel's scheduled-rule YAML (as published in the
// Azure-Sentinel repository), so a rule developed against the local store pastes into
// Sentinel unchanged. Fields byoml does not use (requiredDataConnectors, ...) are accepted.
#pragma once

#include <string>
#include <vector>

#include "byoml/common/status.h"
#include "byoml/common/time.h"

namespace byoml {

enum class TriggerOperator { kGt, kLt, kEq, kNe };

struct EntityField {
  std::string identifier;  // FullName, HostName, Address, ...
  std::string column;
};

struct EntityMapping {
  std::string entity_type;  // Account, Host, IP, File, ...
  std::vector<EntityField> fields;
};

struct AnalyticsRule {
  std::string id, name, description, severity = "Medium", query, version, source;
  bool enabled = true;
  Ticks query_frequency = kTicksPerHour, query_period = kTicksPerHour;
  TriggerOperator trigger_operator = TriggerOperator::kGt;
  int64_t trigger_threshold = 0;
  std::vector<std::string> tactics, techniques;
  std::vector<EntityMapping> entity_mappings;
  bool suppression_enabled = false;
  Ticks suppression_duration = 5 * kTicksPerHour;
  bool create_incident = true;
  bool grouping_enabled = false;
  bool reopen_closed_incident = false;
  Ticks grouping_lookback = 5 * kTicksPerHour;
  std::string matching_method = "AllEntities";  // AllEntities | AnyAlert | Selected
  std::vector<std::string> group_by_entities;     // entity types, for Selected
  bool alert_per_result = false;                  // eventGroupingSettings.aggregationKind
  // alertDetailsOverride: an alert's severity from a column of its rows (the highest of them;
  // the rule's severity where the value is not one), and its name from a format whose
  // {{Column}} take the first row's values (the incident's title).
  std::string severity_column, display_name_format;
};

// Informational < Low < Medium < High; -1 for anything else.
int severity_rank(const std::string& severity);

Result<AnalyticsRule> parse_rule(const std::string& yaml_text, const std::string& source);
// Every *.yaml / *.yml file of a directory (or one file), in name order.
Result<std::vector<AnalyticsRule>> load_rules(const std::string& path);
bool trigger_fires(TriggerOperator op, int64_t rows, int64_t threshold);

}  // namespace byoml

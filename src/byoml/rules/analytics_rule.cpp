#include "byoml/rules/analytics_rule.h"
#include "byoml/common/atomic_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace byoml {

namespace {

struct RuleError {
  std::string message;
};

[[noreturn]] void fail(const YAML::Node& n, const std::string& what) {
  throw RuleError{n.Mark().line >= 0 ? fmt::format("line {}: {}", n.Mark().line + 1, what) : what};
}

std::string text(const YAML::Node& n, const char* key, const std::string& fallback = {}) {
  if (!n[key]) return fallback;
  if (!n[key].IsScalar()) fail(n[key], fmt::format("`{}` must be a single value", key));
  return n[key].as<std::string>();
}

Ticks duration(const YAML::Node& n, const char* key, Ticks fallback) {
  if (!n[key]) return fallback;
  std::string v = text(n, key);
  // Sentinel also writes ISO-8601 durations (PT1H, P1D).
  if (v.size() > 1 && v[0] == 'P') {
    v.erase(std::remove(v.begin(), v.end(), 'T'), v.end());
    v = v.substr(1);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  auto d = parse_duration(v);
  if (!d) fail(n[key], fmt::format("`{}`: {} (5m, 1h, 1d, PT1H)", key, d.status().message()));
  if (*d <= 0) fail(n[key], fmt::format("`{}`: \"{}\" is not a positive duration", key, text(n, key)));
  return *d;
}

std::vector<std::string> list(const YAML::Node& n, const char* key) {
  std::vector<std::string> out;
  if (!n[key] || n[key].IsNull()) return out;
  if (!n[key].IsSequence()) fail(n[key], fmt::format("`{}` must be a list", key));
  for (const auto& e : n[key]) out.push_back(e.as<std::string>());
  return out;
}

bool flag(const YAML::Node& n, const char* key, bool fallback) {
  if (!n[key]) return fallback;
  try {
    return n[key].as<bool>();
  } catch (const YAML::Exception&) {
    fail(n[key], fmt::format("`{}` must be true or false", key));
  }
}

AnalyticsRule parse(const YAML::Node& root) {
  if (!root.IsMap()) throw RuleError{"a rule is a YAML mapping"};
  AnalyticsRule r;
  for (const char* need : {"id", "name", "query"})
    if (!root[need]) throw RuleError{fmt::format("missing `{}`", need)};
  r.id = text(root, "id");
  r.name = text(root, "name");
  r.query = text(root, "query");
  r.description = text(root, "description");
  r.version = text(root, "version");
  r.severity = text(root, "severity", "Medium");
  if (severity_rank(r.severity) < 0)
    fail(root["severity"], fmt::format("severity \"{}\" (Informational, Low, Medium, High)", r.severity));
  r.enabled = flag(root, "enabled", true);
  r.query_frequency = duration(root, "queryFrequency", kTicksPerHour);
  r.query_period = duration(root, "queryPeriod", kTicksPerHour);
  std::string op = text(root, "triggerOperator", "gt");
  static const std::pair<const char*, TriggerOperator> kOps[] = {
      {"gt", TriggerOperator::kGt}, {"lt", TriggerOperator::kLt}, {"eq", TriggerOperator::kEq}, {"ne", TriggerOperator::kNe},
      {"GreaterThan", TriggerOperator::kGt}, {"LessThan", TriggerOperator::kLt}, {"Equal", TriggerOperator::kEq},
      {"NotEqual", TriggerOperator::kNe}};
  auto it = std::find_if(std::begin(kOps), std::end(kOps), [&](const auto& x) { return op == x.first; });
  if (it == std::end(kOps)) fail(root["triggerOperator"], fmt::format("triggerOperator \"{}\" (gt, lt, eq, ne)", op));
  r.trigger_operator = it->second;
  if (root["triggerThreshold"]) {
    try {
      r.trigger_threshold = root["triggerThreshold"].as<int64_t>();
    } catch (const YAML::Exception&) {
      fail(root["triggerThreshold"], "triggerThreshold must be a whole number");
    }
  }
  r.tactics = list(root, "tactics");
  r.techniques = list(root, "relevantTechniques");
  if (auto em = root["entityMappings"]) {
    if (!em.IsSequence()) fail(em, "entityMappings must be a list");
    for (const auto& e : em) {
      EntityMapping m;
      m.entity_type = text(e, "entityType");
      if (m.entity_type.empty()) fail(e, "an entity mapping needs entityType");
      if (!e["fieldMappings"] || !e["fieldMappings"].IsSequence()) fail(e, "an entity mapping needs fieldMappings");
      for (const auto& f : e["fieldMappings"]) {
        EntityField x{text(f, "identifier"), text(f, "columnName")};
        if (x.identifier.empty() || x.column.empty()) fail(f, "a field mapping needs identifier and columnName");
        m.fields.push_back(x);
      }
      r.entity_mappings.push_back(std::move(m));
    }
  }
  r.suppression_enabled = flag(root, "suppressionEnabled", false);
  r.suppression_duration = duration(root, "suppressionDuration", 5 * kTicksPerHour);
  if (auto ic = root["incidentConfiguration"]) {
    r.create_incident = flag(ic, "createIncident", true);
    if (auto g = ic["groupingConfiguration"]) {
      r.grouping_enabled = flag(g, "enabled", false);
      r.reopen_closed_incident = flag(g, "reopenClosedIncident", false);
      r.grouping_lookback = duration(g, "lookbackDuration", 5 * kTicksPerHour);
      r.matching_method = text(g, "matchingMethod", "AllEntities");
      if (r.matching_method != "AllEntities" && r.matching_method != "AnyAlert" && r.matching_method != "Selected")
        fail(g["matchingMethod"], fmt::format("matchingMethod \"{}\" (AllEntities, AnyAlert, Selected)", r.matching_method));
      r.group_by_entities = list(g, "groupByEntities");
    }
  }
  if (auto ad = root["alertDetailsOverride"]) {
    if (!ad.IsMap()) fail(ad, "alertDetailsOverride is a mapping");
    r.severity_column = text(ad, "alertSeverityColumnName");
    r.display_name_format = text(ad, "alertDisplayNameFormat");
  }
  if (auto eg = root["eventGroupingSettings"]) {
    std::string kind = text(eg, "aggregationKind", "SingleAlert");
    if (kind != "SingleAlert" && kind != "AlertPerResult")
      fail(eg["aggregationKind"], fmt::format("aggregationKind \"{}\" (SingleAlert, AlertPerResult)", kind));
    r.alert_per_result = kind == "AlertPerResult";
  }
  return r;
}

}  // namespace

int severity_rank(const std::string& severity) {
  static const char* kSeverities[] = {"Informational", "Low", "Medium", "High"};
  auto it = std::find(std::begin(kSeverities), std::end(kSeverities), severity);
  return it == std::end(kSeverities) ? -1 : static_cast<int>(it - std::begin(kSeverities));
}

bool trigger_fires(TriggerOperator op, int64_t rows, int64_t threshold) {
  switch (op) {
    case TriggerOperator::kGt: return rows > threshold;
    case TriggerOperator::kLt: return rows < threshold;
    case TriggerOperator::kEq: return rows == threshold;
    case TriggerOperator::kNe: return rows != threshold;
  }
  return false;
}

Result<AnalyticsRule> parse_rule(const std::string& yaml_text, const std::string& source) {
  try {
    AnalyticsRule r = parse(YAML::Load(yaml_text));
    r.source = source;
    return r;
  } catch (const RuleError& e) {
    return Status(ErrorCode::kParse, fmt::format("{}: {}", source, e.message));
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::kParse, fmt::format("{}: {}", source, e.what()));
  }
}

Result<std::vector<AnalyticsRule>> load_rules(const std::string& path) {
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      auto ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    return Status(ErrorCode::kNotFound, fmt::format("{}: no such rules file or directory", path));
  }
  std::vector<AnalyticsRule> rules;
  for (const auto& f : files) {
    auto text = read_whole_file(f, "rule");
    if (!text) return text.status();
    auto r = parse_rule(*text, f);
    if (!r) return r.status();
    for (const auto& other : rules)
      if (other.id == r->id) return Status(ErrorCode::kInvalidArgument, fmt::format("{}: rule id {} is also in {}", f, r->id, other.source));
    rules.push_back(std::move(r).value());
  }
  return rules;
}

}  // namespace byoml

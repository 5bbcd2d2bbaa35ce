#include "byoml/results/output_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace byoml {

namespace {
constexpr std::pair<ColumnType, const char*> kTypes[] = {
    {ColumnType::kDatetime, "datetime"}, {ColumnType::kString, "string"}, {ColumnType::kReal, "real"},
    {ColumnType::kLong, "long"},         {ColumnType::kInt, "int"},       {ColumnType::kBool, "bool"},
    {ColumnType::kDynamic, "dynamic"}};
}

const char* column_type_name(ColumnType t) {
  for (auto [type, name] : kTypes)
    if (type == t) return name;
  return "?";
}

Result<ColumnType> parse_column_type(const std::string& name) {
  for (auto [type, n] : kTypes)
    if (name == n) return type;
  return Status(ErrorCode::kInvalidArgument,
                fmt::format("column type \"{}\" (datetime, string, real, long, int, bool, dynamic)", name));
}

const OutputColumn* OutputSchema::find(const std::string& name) const {
  auto it = std::find_if(columns.begin(), columns.end(), [&](const OutputColumn& c) { return c.name == name; });
  return it == columns.end() ? nullptr : &*it;
}

const std::vector<OutputColumn>& access_anomaly_result_columns() {
  using T = ColumnType;
  static const std::vector<OutputColumn> cols = {
      {"TimeGenerated", T::kDatetime, "Time of the last scored access of the pair in the window"},
      {"Tenant", T::kString, "Tenant (workspace or customer) of the event"},
      {"User", T::kString, "Account, as mapped (lower case)"},
      {"Resource", T::kString, "Resource as modelled (with resource_scope machine_share: \\\\machine\\share)"},
      {"Machine", T::kString, "Machine that logged the last access"},
      {"Share", T::kString, "Share name as Windows logs it (\\\\*\\share)"},
      {"AnomalyScore", T::kReal, "z-score of the pair's affinity; higher is more anomalous; always finite"},
      {"Severity", T::kReal, "0-100: percentile of the score among the training pairs' scores"},
      {"Reasons", T::kDynamic, "Reason codes (unseen_user, unseen_resource, new_pair, cross_component, ...)"},
      {"Explanation", T::kDynamic, "The user's usual resources, similar users of this resource, peers using it"},
      {"AccessCount", T::kLong, "Accesses of the pair in the scored window"},
      {"FirstSeen", T::kDatetime, "First access of the pair in the scored window"},
      {"LastSeen", T::kDatetime, "Last access of the pair in the scored window"},
      {"ModelVersion", T::kInt, "Model registry version that scored it"},
      {"RunId", T::kString, "Identifier of the scoring run"},
  };
  return cols;
}

Status validate_output(const OutputSchema& s) {
  auto ident = [](const std::string& n) {
    return !n.empty() && n.size() <= 128 && (std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_') &&
           std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
  };
  if (!ident(s.table)) return Status(ErrorCode::kInvalidArgument, fmt::format("output table \"{}\" is not a plain name", s.table));
  const auto& known = access_anomaly_result_columns();
  for (size_t i = 0; i < s.columns.size(); ++i) {
    const auto& c = s.columns[i];
    auto it = std::find_if(known.begin(), known.end(), [&](const OutputColumn& k) { return k.name == c.name; });
    if (it == known.end())
      return Status(ErrorCode::kInvalidArgument, fmt::format("output column \"{}\" is not produced by this algorithm", c.name));
    if (it->type != c.type)
      return Status(ErrorCode::kInvalidArgument, fmt::format("output column \"{}\" is {}, declared {}", c.name,
                                                             column_type_name(it->type), column_type_name(c.type)));
    for (size_t j = 0; j < i; ++j)
      if (s.columns[j].name == c.name)
        return Status(ErrorCode::kInvalidArgument, fmt::format("output column \"{}\" is declared twice", c.name));
  }
  if (s.columns.empty()) return Status(ErrorCode::kInvalidArgument, "output declares no columns");
  return {};
}

}  // namespace byoml

#include "byoml/common/output_schema.h"

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

Status validate_output(const OutputSchema& s) {
  auto ident = [](const std::string& n) {
    return !n.empty() && n.size() <= 128 && (std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_') &&
           std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
  };
  if (!ident(s.table)) return Status(ErrorCode::kInvalidArgument, fmt::format("output table \"{}\" is not a plain name", s.table));
  for (size_t i = 0; i < s.columns.size(); ++i) {
    const auto& c = s.columns[i];
    if (!ident(c.name))
      return Status(ErrorCode::kInvalidArgument, fmt::format("output column \"{}\" is not a plain name", c.name));
    for (size_t j = 0; j < i; ++j)
      if (s.columns[j].name == c.name)
        return Status(ErrorCode::kInvalidArgument, fmt::format("output column \"{}\" is declared twice", c.name));
  }
  if (s.columns.empty()) return Status(ErrorCode::kInvalidArgument, "output declares no columns");
  return {};
}

bool value_fits(const nlohmann::json& v, ColumnType type) {
  if (v.is_null()) return true;
  switch (type) {
    case ColumnType::kDatetime:
    case ColumnType::kString: return v.is_string();
    case ColumnType::kReal: return v.is_number();
    case ColumnType::kLong:
    case ColumnType::kInt: return v.is_number_integer();
    case ColumnType::kBool: return v.is_boolean();
    case ColumnType::kDynamic: return true;
  }
  return false;
}

Status check_produced(const OutputSchema& s, const std::vector<OutputColumn>& produced) {
  for (const auto& c : s.columns) {
    auto it = std::find_if(produced.begin(), produced.end(), [&](const OutputColumn& k) { return k.name == c.name; });
    if (it == produced.end())
      return Status(ErrorCode::kInvalidArgument, fmt::format("output column \"{}\" is not produced by this algorithm", c.name));
    if (it->type != c.type)
      return Status(ErrorCode::kInvalidArgument, fmt::format("output column \"{}\" is {}, declared {}", c.name,
                                                             column_type_name(it->type), column_type_name(c.type)));
  }
  return {};
}

}  // namespace byoml

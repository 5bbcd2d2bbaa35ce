// The columns a detection writes: a detector declares what it produces, and a template's
// `output` section picks from them. The store creates its table from this declaration and
// JSON Lines output uses the same names, so a rule written against the local store runs
// unchanged on the Sentinel table.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "byoml/common/status.h"

namespace byoml {

// Log Analytics column types.
enum class ColumnType { kDatetime, kString, kReal, kLong, kInt, kBool, kDynamic };
const char* column_type_name(ColumnType t);
Result<ColumnType> parse_column_type(const std::string& name);

struct OutputColumn {
  std::string name;
  ColumnType type = ColumnType::kString;
  std::string description;
};

struct OutputSchema {
  std::string table;
  std::vector<OutputColumn> columns;
  const OutputColumn* find(const std::string& name) const;
};

// The table name and every column name must be plain identifiers (they are spliced into SQL as
// identifiers, never values), and no column is declared twice.
Status validate_output(const OutputSchema& s);
// Whether a value may sit in a column of this type (null fits any).
bool value_fits(const nlohmann::json& value, ColumnType type);
// Each declared column must be one of `produced` (what the detector writes), with its type.
Status check_produced(const OutputSchema& s, const std::vector<OutputColumn>& produced);

}  // namespace byoml

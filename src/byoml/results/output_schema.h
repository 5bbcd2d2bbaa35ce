// The columns a detection writes, declared in its template's `output` section. The store
// creates its table from this declaration and JSON Lines output uses the same names, so a
// rule written against the local store runs unchanged on the Sentinel table.
#pragma once

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

// What the access-anomaly scorer produces; a template's output declares these (in any order).
const std::vector<OutputColumn>& access_anomaly_result_columns();

// Each declared column must be one the algorithm produces, with the same type; the table name
// must be a plain identifier (it is spliced into SQL as an identifier, never a value).
Status validate_output(const OutputSchema& s);

}  // namespace byoml

// A subset of KQL (Kusto Query Language), translated to SQLite SQL so that a Sentinel
// analytics rule can be developed against the local results store and pasted into Sentinel
// unchanged:
//   Table | where … | extend … | project … | summarize agg(…) by … | top N by … | order by …
//         | sort by … | take N | limit N | count
// Expressions: and, or, not(), == != < <= > >= =~ !~, in / !in (…), has, contains, startswith
// (and their ! forms, case-insensitive as in KQL), + - * /, ago(), now(), datetime(),
// tolower(), toupper(), strcat(); aggregates count(), dcount(), max(), min(), avg(), sum(),
// arg_max(), arg_min().
// Every literal becomes a bound parameter; column and table names must be known identifiers.
// Anything outside the subset is an error naming it and its position (1-based character).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "byoml/common/status.h"
#include "byoml/common/time.h"
#include "byoml/results/sqlite_db.h"

namespace byoml {

struct SqlQuery {
  std::string sql;
  std::vector<SqlValue> params;
  std::vector<std::string> columns;  // of the result, in order
  std::string table;                 // the table the query starts from
};

struct KqlContext {
  Ticks now = 0;
  std::map<std::string, std::vector<std::string>> tables;  // known tables and their columns
  // When set, the table is restricted to TimeGenerated in [now − period, now] (a rule's queryPeriod).
  Ticks period = 0;
};

// Declared limits: a query beyond them is refused with an error naming the limit.
inline constexpr size_t kKqlMaxLength = 64 * 1024;  // characters of query text
inline constexpr int kKqlMaxStages = 64;             // pipe stages
inline constexpr int kKqlMaxNesting = 64;            // nested parentheses, unary minus, not(), calls

Result<SqlQuery> translate_kql(std::string_view query, const KqlContext& ctx);

// kql_has, kql_contains, kql_startswith: KQL's case-insensitive string operators.
Status register_kql_functions(sqlite3* db);

}  // namespace byoml

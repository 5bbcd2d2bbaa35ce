// A subset of KQL (Kusto Query Language), translated to SQLite SQL so that a Sentinel
// analytics rule can be developed against the local results store and pasted into Sentinel
// unchanged:
//   let Name = scalar; let Name = tabular; ...
//   Table | where … | extend … | project … | project-rename … | project-away … | summarize … by …
//         | top N by … | order by / sort by (several keys) | take N | limit N | count | distinct …
//         | mv-expand [Name =] Column [to typeof(T)] | join [kind=…] (pipeline) on Key, $left.A == $right.B
// Expressions: and, or, not(), == != < <= > >= =~ !~, in / !in / in~ / !in~ (…), between /
// !between (a .. b), has, contains, startswith, endswith (and their ! and _cs forms), + - * / %,
// ago(), now(), datetime(), tolower(), toupper(), strlen(), abs(), strcat(), tostring(), round(),
// bin() for datetimes and numbers, array_length(), isempty(), isnotempty(), iff(), case(); aggregates count(),
// countif(), dcount(), max(), min(), avg(), sum(), arg_max(), arg_min(), make_set(), make_list().
// Expressions are typed as in KQL: comparing a number with a string, arithmetic on strings or a
// string operator on a number is an error, not a silent empty answer. Strings accept KQL's
// escapes (\\ \" \' \n \t \r) and nothing else; verbatim strings (@"..." with "" for a quote)
// take backslashes as they are.
// Every literal becomes a bound parameter; column and table names must be known identifiers.
// Anything outside the subset is an error naming it and its position (1-based character).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "byoml/common/output_schema.h"
#include "byoml/common/status.h"
#include "byoml/common/time.h"
#include "byoml/results/sqlite_db.h"

namespace byoml {

// The type of a value in a query. kText is a column declared only as SQLite TEXT (stores
// written before columns carried their Log Analytics type): it may hold strings or datetimes.
enum class KqlType { kString, kLong, kReal, kBool, kDatetime, kTimespan, kDynamic, kText, kNull };
const char* kql_type_name(KqlType t);
KqlType kql_type_of(ColumnType t);
// From a column's declared SQLite type: "<Log Analytics type> <storage>" (see ResultStore), or
// the plain TEXT / INTEGER / REAL of older stores.
KqlType kql_type_of_declared(std::string_view declared);

struct KqlColumn {
  std::string name;
  KqlType type = KqlType::kText;
};

struct SqlQuery {
  std::string sql;
  std::vector<SqlValue> params;
  std::vector<std::string> columns;  // of the result, in order
};

struct KqlContext {
  Ticks now = 0;
  std::map<std::string, std::vector<KqlColumn>> tables;  // known tables and their columns
  // When set, every table is restricted to TimeGenerated in [now − period, now] (a rule's queryPeriod).
  Ticks period = 0;
};

// Declared limits: a query beyond them is refused with an error naming the limit.
inline constexpr size_t kKqlMaxLength = 64 * 1024;  // characters of query text
inline constexpr int kKqlMaxStages = 64;             // pipe stages, in all pipelines
inline constexpr int kKqlMaxNesting = 64;            // nested parentheses, unary minus, not(), calls, joins

Result<SqlQuery> translate_kql(std::string_view query, const KqlContext& ctx);

// A KQL string literal holding `text` as it is (a verbatim string, quotes doubled).
std::string kql_quote(std::string_view text);

// kql_has, kql_contains, kql_startswith, kql_endswith (case-insensitive, as in KQL) and their
// case-sensitive _cs forms.
Status register_kql_functions(sqlite3* db);

}  // namespace byoml

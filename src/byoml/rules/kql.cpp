#include "byoml/rules/kql.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

namespace byoml {

const char* kql_type_name(KqlType t) {
  switch (t) {
    case KqlType::kString: return "string";
    case KqlType::kLong: return "long";
    case KqlType::kReal: return "real";
    case KqlType::kBool: return "bool";
    case KqlType::kDatetime: return "datetime";
    case KqlType::kTimespan: return "timespan";
    case KqlType::kDynamic: return "dynamic";
    case KqlType::kText: return "text";
    case KqlType::kNull: return "null";
  }
  return "?";
}

KqlType kql_type_of(ColumnType t) {
  switch (t) {
    case ColumnType::kDatetime: return KqlType::kDatetime;
    case ColumnType::kString: return KqlType::kString;
    case ColumnType::kReal: return KqlType::kReal;
    case ColumnType::kLong:
    case ColumnType::kInt: return KqlType::kLong;
    case ColumnType::kBool: return KqlType::kBool;
    case ColumnType::kDynamic: return KqlType::kDynamic;
  }
  return KqlType::kText;
}

KqlType kql_type_of_declared(std::string_view declared) {
  std::string first(declared.substr(0, declared.find(' ')));
  if (auto t = parse_column_type(first)) return kql_type_of(*t);
  std::string upper = first;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "INTEGER") return KqlType::kLong;
  if (upper == "REAL") return KqlType::kReal;
  return KqlType::kText;
}

namespace {

enum class Tok { kIdent, kString, kNumber, kTimespan, kOp, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier, operator, or decoded string
  size_t pos = 0;    // 0-based offset in the query
  size_t end = 0;
  double number = 0;
  bool integer = false;
  Ticks span = 0;
};

struct KqlError {
  size_t pos;
  std::string message;
};

[[noreturn]] void fail(size_t pos, std::string message) { throw KqlError{pos, std::move(message)}; }

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// A string literal from q[i] (the opening quote, or '@' of a verbatim string); i ends past it.
// KQL's escapes are \\ \" \' \n \t \r; any other is an error (a silent `\l` → `l` made
// `contoso\lucas` match nothing). In a verbatim string a backslash is itself and a doubled
// quote is a quote.
std::string string_literal(std::string_view q, size_t& i) {
  const size_t start = i;
  const bool verbatim = q[i] == '@';
  if (verbatim) ++i;
  const char quote = q[i++];
  std::string s;
  for (;;) {
    if (i >= q.size()) fail(start, "unterminated string");
    char d = q[i++];
    if (d == quote) {
      if (verbatim && i < q.size() && q[i] == quote) {
        s += quote;
        ++i;
        continue;
      }
      return s;
    }
    if (d == '\n' || d == '\r') fail(start, "a string cannot span lines; write \\n");
    if (d != '\\' || verbatim) {
      s += d;
      continue;
    }
    if (i >= q.size()) fail(start, "unterminated string");
    char e = q[i++];
    switch (e) {
      case '\\': case '"': case '\'': s += e; break;
      case 'n': s += '\n'; break;
      case 't': s += '\t'; break;
      case 'r': s += '\r'; break;
      default:
        fail(i - 2, fmt::format("invalid escape '\\{}' in a string: write \\\\ for a backslash, or use a verbatim "
                                "string such as @\"contoso\\user\"",
                                e));
    }
  }
}

std::vector<Token> lex(std::string_view q) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < q.size()) {
    char c = q[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < q.size() && q[i + 1] == '/') {  // comment to end of line
      while (i < q.size() && q[i] != '\n') ++i;
      continue;
    }
    Token t;
    t.pos = i;
    // datetime(2026-11-02T10:30:00Z) is written bare in KQL: its text up to ')' is one token.
    if (out.size() >= 2 && out.back().kind == Tok::kOp && out.back().text == "(" && out[out.size() - 2].kind == Tok::kIdent &&
        out[out.size() - 2].text == "datetime" && c != '\'' && c != '"' && c != ')') {
      size_t close = q.find(')', i);
      i = close == std::string_view::npos ? q.size() : close;
      std::string_view text = q.substr(t.pos, i - t.pos);
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
      t.kind = Tok::kString;
      t.text = std::string(text);
      t.end = i;
      out.push_back(std::move(t));
      continue;
    }
    bool verbatim = c == '@' && i + 1 < q.size() && (q[i + 1] == '\'' || q[i + 1] == '"');
    if (c == '\'' || c == '"' || verbatim) {
      t.kind = Tok::kString;
      t.text = string_literal(q, i);
    } else if (digit(c) || (c == '.' && i + 1 < q.size() && digit(q[i + 1]))) {
      size_t start = i;
      // "1..5" is a range: the number stops before "..".
      while (i < q.size() && (digit(q[i]) || (q[i] == '.' && !(i + 1 < q.size() && q[i + 1] == '.')))) ++i;
      if (i < q.size() && (q[i] == 'e' || q[i] == 'E') && i + 1 < q.size() &&
          (digit(q[i + 1]) || q[i + 1] == '-' || q[i + 1] == '+')) {
        i += 2;
        while (i < q.size() && digit(q[i])) ++i;
      }
      std::string num(q.substr(start, i - start));
      char* endp = nullptr;
      t.number = std::strtod(num.c_str(), &endp);
      if (endp != num.c_str() + num.size() || !std::isfinite(t.number)) fail(start, fmt::format("bad number \"{}\"", num));
      t.integer = num.find_first_of(".eE") == std::string::npos && t.number < 9.2e18;
      size_t unit_start = i;
      while (i < q.size() && std::isalpha(static_cast<unsigned char>(q[i]))) ++i;
      std::string unit(q.substr(unit_start, i - unit_start));
      t.kind = Tok::kNumber;
      if (!unit.empty()) {
        static const std::pair<const char*, double> kUnits[] = {
            {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}, {"ms", 1e-3}, {"day", 86400}, {"days", 86400},
            {"hour", 3600}, {"hours", 3600}, {"min", 60}, {"minute", 60}, {"minutes", 60}, {"sec", 1}, {"second", 1}, {"seconds", 1}};
        auto it = std::find_if(std::begin(kUnits), std::end(kUnits), [&](const auto& u) { return unit == u.first; });
        if (it == std::end(kUnits)) fail(unit_start, fmt::format("unknown timespan unit \"{}\"", unit));
        double secs = t.number * it->second;
        if (!(std::abs(secs) < 1e11)) fail(start, "timespan too large");
        t.kind = Tok::kTimespan;
        t.span = static_cast<Ticks>(std::llround(secs * kTicksPerSecond));
      }
      t.text = std::string(q.substr(start, i - start));
    } else if (ident_start(c) || (c == '$' && i + 1 < q.size() && ident_start(q[i + 1]))) {
      size_t start = i++;
      while (i < q.size() && ident_char(q[i])) ++i;
      // Hyphenated operator names (project-away, mv-expand, make-series, top-nested) lex as
      // one word, so that they are operators, or reported as unsupported, not a subtraction.
      static const std::set<std::string_view> kHyphenated = {"project", "mv", "make", "top", "parse"};
      while (kHyphenated.count(q.substr(start, i - start)) && i + 1 < q.size() && q[i] == '-' && ident_start(q[i + 1])) {
        ++i;
        while (i < q.size() && ident_char(q[i])) ++i;
      }
      if (q.substr(start, i - start) == "in" && i < q.size() && q[i] == '~') ++i;  // in~
      t.kind = Tok::kIdent;
      t.text = std::string(q.substr(start, i - start));
    } else {
      static const char* kOps[] = {"==", "!=", "<=", ">=", "=~", "!~", "..", "|", "(", ")", ",", "=", ";", ".",
                                   "<",  ">",  "+",  "-",  "*",  "/",  "!", "[", "]", "%"};
      auto it = std::find_if(std::begin(kOps), std::end(kOps), [&](const char* op) { return q.substr(i).rfind(op, 0) == 0; });
      if (it == std::end(kOps)) fail(i, fmt::format("unexpected character '{}'", c));
      t.kind = Tok::kOp;
      t.text = *it;
      i += t.text.size();
    }
    t.end = i;
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = end.end = q.size();
  out.push_back(end);
  return out;
}

std::string quote_ident(const std::string& name) { return "\"" + name + "\""; }

bool plain_ident(const std::string& s) {
  return !s.empty() && ident_start(s[0]) &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool numeric(KqlType t) { return t == KqlType::kLong || t == KqlType::kReal || t == KqlType::kNull; }
bool stringy(KqlType t) {
  return t == KqlType::kString || t == KqlType::kText || t == KqlType::kDynamic || t == KqlType::kNull;
}
bool datetimey(KqlType t) { return t == KqlType::kDatetime || t == KqlType::kText || t == KqlType::kNull; }

// Whether ==, <, in, between ... may compare the two, as KQL allows: numbers with numbers,
// a type with itself; a legacy TEXT column with strings and datetimes; dynamic with anything.
bool comparable(KqlType a, KqlType b) {
  auto loose = [](KqlType t) { return t == KqlType::kNull || t == KqlType::kDynamic; };
  if (loose(a) || loose(b) || a == b || (numeric(a) && numeric(b))) return true;
  auto texty = [](KqlType t) { return t == KqlType::kString || t == KqlType::kDatetime || t == KqlType::kText; };
  return (a == KqlType::kText && texty(b)) || (b == KqlType::kText && texty(a));
}

// A translated expression, its type, and the column it is (or bins) for names and messages.
struct Expr {
  std::string sql;
  KqlType type = KqlType::kNull;
  std::string column;
  std::string describe() const {
    return column.empty() ? std::string(kql_type_name(type)) : fmt::format("{} ({})", column, kql_type_name(type));
  }
};

// A named step of the query (a CTE) and the columns it gives.
struct Relation {
  std::string name;
  std::vector<KqlColumn> columns;
};

const KqlColumn* find_column(const std::vector<KqlColumn>& cols, const std::string& name) {
  auto it = std::find_if(cols.begin(), cols.end(), [&](const KqlColumn& c) { return c.name == name; });
  return it == cols.end() ? nullptr : &*it;
}

std::vector<std::string> names_of(const std::vector<KqlColumn>& cols) {
  std::vector<std::string> out;
  for (const auto& c : cols) out.push_back(c.name);
  return out;
}

class Translator {
 public:
  Translator(std::string_view source, const KqlContext& ctx) : t_(lex(source)), ctx_(ctx) {}

  SqlQuery run() {
    while (is_word("let")) let_statement();
    pipeline();
    if (is_op(";")) next();
    if (peek().kind != Tok::kEnd)
      fail(peek().pos, fmt::format("expected '|' or the end of the query{}", describe(peek())));
    out_.sql = ctes_.empty() ? rel_ : fmt::format("WITH {} {}", fmt::join(ctes_, ", "), rel_);
    out_.columns = names_of(columns_);
    return std::move(out_);
  }

 private:
  const Token& peek(size_t ahead = 0) const { return t_[std::min(i_ + ahead, t_.size() - 1)]; }
  const Token& next() {
    const Token& t = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return t;
  }
  bool is_op(const char* op, size_t ahead = 0) const { return peek(ahead).kind == Tok::kOp && peek(ahead).text == op; }
  bool is_word(const char* w, size_t ahead = 0) const { return peek(ahead).kind == Tok::kIdent && peek(ahead).text == w; }
  void expect_op(const char* op) {
    if (!is_op(op)) fail(peek().pos, fmt::format("expected '{}'{}", op, describe(peek())));
    next();
  }
  void expect_word(const char* w) {
    if (!is_word(w)) fail(peek().pos, fmt::format("expected '{}'{}", w, describe(peek())));
    next();
  }
  static std::string describe(const Token& t) {
    return t.kind == Tok::kEnd ? " at the end of the query" : fmt::format(", found '{}'", t.kind == Tok::kString ? "string" : t.text);
  }
  // Runs `item` for each element of a comma-separated list.
  template <typename F>
  void list(F item) {
    do {
      item();
    } while (is_op(",") && (next(), true));
  }

  std::string param(SqlValue v) {
    out_.params.push_back(std::move(v));
    return fmt::format("?{}", out_.params.size());
  }

  // Each stage reads the one before it as a named CTE, not a nested subquery: SQLite's parser
  // has a small stack, and a chain keeps the SQL flat however many stages there are.
  // A stage that computes columns is MATERIALIZED: SQLite would otherwise substitute its
  // expressions into the next stage, and `extend B = strcat(A, A, A, A)` repeated would grow
  // the statement 4^n.
  std::string wrap() {
    std::string name = fmt::format("t{}", ctes_.size() + 1);
    ctes_.push_back(fmt::format("{} AS {}({})", name, computed_ ? "MATERIALIZED " : "", rel_));
    computed_ = false;
    return name;
  }

  // Recursion in the grammar is bounded, so deep nesting is an error, not a stack overflow.
  struct Nesting {
    explicit Nesting(Translator& t) : t_(t) {
      if (++t_.nesting_ > kKqlMaxNesting) fail(t_.peek().pos, fmt::format("expression nested more than {} deep", kKqlMaxNesting));
    }
    ~Nesting() { --t_.nesting_; }
    Translator& t_;
  };

  Expr column(const Token& t) {
    const KqlColumn* c = t.kind == Tok::kIdent ? find_column(columns_, t.text) : nullptr;
    if (!c) fail(t.pos, fmt::format("unknown column \"{}\" (columns here: {})", t.text, fmt::join(names_of(columns_), ", ")));
    return {quote_ident(c->name), c->type, c->name};
  }

  std::string new_name(const Token& t) {
    if (t.kind != Tok::kIdent || !plain_ident(t.text)) fail(t.pos, "expected a column name");
    return t.text;
  }

  // ---- statements and pipelines ----
  void let_statement() {
    next();
    std::string name = new_name(next());
    expect_op("=");
    if (tabular_source()) {
      lets_[name] = sub_pipeline();
    } else {
      std::vector<KqlColumn> saved;
      std::swap(saved, columns_);  // a scalar let sees no columns
      scalars_[name] = expr();
      std::swap(saved, columns_);
    }
    expect_op(";");
  }

  bool tabular_source() const {
    const Token& t = peek();
    return t.kind == Tok::kIdent && !is_op("(", 1) && (ctx_.tables.count(t.text) || lets_.count(t.text));
  }

  // Source | stage | stage ...: leaves the result in rel_ and columns_.
  void pipeline() {
    const Token& src = next();
    if (src.kind == Tok::kIdent && lets_.count(src.text)) {
      const Relation& r = lets_.at(src.text);
      rel_ = "SELECT * FROM " + r.name;
      columns_ = r.columns;
    } else {
      table(src);
    }
    computed_ = false;
    while (is_op("|")) {
      next();
      if (++stages_ > kKqlMaxStages) fail(peek().pos, fmt::format("more than {} pipe stages", kKqlMaxStages));
      stage();
    }
  }

  void table(const Token& t) {
    if (t.kind != Tok::kIdent) fail(t.pos, "a query starts with a table name");
    auto it = ctx_.tables.find(t.text);
    if (it == ctx_.tables.end()) {
      std::vector<std::string> known;
      for (const auto& [name, cols] : ctx_.tables) known.push_back(name);
      for (const auto& [name, r] : lets_) known.push_back(name);
      fail(t.pos, fmt::format("unknown table \"{}\" (known: {})", t.text, known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
    }
    columns_ = it->second;
    rel_ = "SELECT * FROM " + quote_ident(t.text);
    if (ctx_.period > 0) {
      if (!find_column(columns_, "TimeGenerated"))
        fail(t.pos, fmt::format("table \"{}\" has no TimeGenerated column to apply the query period to", t.text));
      rel_ += fmt::format(" WHERE \"TimeGenerated\" >= {} AND \"TimeGenerated\" <= {}", param(format_timestamp(ctx_.now - ctx_.period)),
                          param(format_timestamp(ctx_.now)));
    }
  }

  // A pipeline of its own (a let, or the right side of a join), as a CTE; the enclosing
  // pipeline's state is kept.
  Relation sub_pipeline() {
    Nesting guard(*this);
    std::string rel = std::move(rel_);
    std::vector<KqlColumn> cols = std::move(columns_);
    bool computed = computed_;
    pipeline();
    Relation r{wrap(), std::move(columns_)};
    rel_ = std::move(rel);
    columns_ = std::move(cols);
    computed_ = computed;
    return r;
  }

  Ticks timespan_arg() {
    expect_op("(");
    Ticks span = signed_timespan();
    expect_op(")");
    return span;
  }

  Ticks signed_timespan() {
    bool negative = is_op("-") && (next(), true);
    const Token& v = next();
    if (v.kind != Tok::kTimespan) fail(v.pos, "expected a timespan such as 1h, 30m, 7d");
    return negative ? -v.span : v.span;
  }

  // ---- type checks ----
  static void need(bool ok, const Token& at, const std::string& what) {
    if (!ok) fail(at.pos, what);
  }
  static void need_bool(const Expr& e, const Token& at, const char* where) {
    need(e.type == KqlType::kBool || e.type == KqlType::kNull, at,
         fmt::format("{} needs a true/false condition; found {}", where, e.describe()));
  }
  static void need_numeric(const Expr& e, const Token& at, const std::string& what) {
    need(numeric(e.type), at,
         fmt::format("{} needs a number; found {}{}", what, e.describe(),
                     stringy(e.type) ? " (convert it with todouble() or tolong())" : ""));
  }
  static void need_string(const Expr& e, const Token& at, const std::string& what) {
    need(stringy(e.type), at, fmt::format("{} needs a string; found {} (convert it with tostring())", what, e.describe()));
  }
  static void need_comparable(const Expr& a, const Expr& b, const Token& at) {
    if (comparable(a.type, b.type)) return;
    bool mixed = (numeric(a.type) && stringy(b.type)) || (stringy(a.type) && numeric(b.type));
    fail(at.pos, fmt::format("cannot compare {} with {}{}", a.describe(), b.describe(),
                             mixed ? ": convert one side with todouble(), tolong() or tostring()" : ""));
  }

  // ---- expressions ----
  Expr expr() {
    Nesting guard(*this);
    return or_expr();
  }

  Expr logical(Expr (Translator::*operand)(), const char* word, const char* sql) {
    Expr a = (this->*operand)();
    while (is_word(word)) {
      const Token& op = next();
      Expr b = (this->*operand)();
      need_bool(a, op, word);
      need_bool(b, op, word);
      a = {fmt::format("({} {} {})", a.sql, sql, b.sql), KqlType::kBool, ""};
    }
    return a;
  }
  Expr or_expr() { return logical(&Translator::and_expr, "or", "OR"); }
  Expr and_expr() { return logical(&Translator::comparison, "and", "AND"); }

  Expr comparison() {
    Expr a = additive();
    const Token& t = peek();
    static const std::pair<const char*, const char*> kCmp[] = {{"==", "="}, {"!=", "<>"}, {"<", "<"},
                                                               {"<=", "<="}, {">", ">"}, {">=", ">="}};
    if (t.kind == Tok::kOp) {
      for (auto [k, sql] : kCmp)
        if (t.text == k) {
          next();
          Expr b = additive();
          need_comparable(a, b, t);
          return {fmt::format("({} {} {})", a.sql, sql, b.sql), KqlType::kBool, ""};
        }
      if (t.text == "=~" || t.text == "!~") {
        next();
        Expr b = additive();
        need_string(a, t, t.text);
        need_string(b, t, t.text);
        return {fmt::format("(lower({}) {} lower({}))", a.sql, t.text == "=~" ? "=" : "<>", b.sql), KqlType::kBool, ""};
      }
      if (t.text == "!" && peek(1).kind == Tok::kIdent && peek(1).pos == t.end) {
        next();
        return word_op(a, /*negate=*/true);
      }
      return a;
    }
    if (t.kind == Tok::kIdent && kWordOps.count(t.text)) return word_op(a, false);
    if (t.kind == Tok::kIdent && (t.text == "matches" || t.text == "hasprefix" || t.text == "hassuffix"))
      fail(t.pos, fmt::format("unsupported operator '{}'", t.text));
    return a;
  }

  inline static const std::set<std::string> kWordOps = {"in", "in~", "between", "has", "contains", "startswith",
                                                         "endswith", "has_cs", "contains_cs", "startswith_cs", "endswith_cs"};

  Expr word_op(const Expr& a, bool negate) {
    const Token& op = next();
    std::string n = negate ? "NOT " : "";
    if (op.text == "in" || op.text == "in~") {
      bool fold = op.text == "in~";
      if (fold) need_string(a, op, op.text);
      expect_op("(");
      std::vector<std::string> items;
      list([&] {
        const Token& at = peek();
        Expr e = expr();
        if (fold) need_string(e, at, op.text);
        need_comparable(a, e, at);
        items.push_back(fold ? "lower(" + e.sql + ")" : e.sql);
      });
      expect_op(")");
      return {fmt::format("({} {}IN ({}))", fold ? "lower(" + a.sql + ")" : a.sql, n, fmt::join(items, ", ")), KqlType::kBool, ""};
    }
    if (op.text == "between") {
      expect_op("(");
      Expr lo = additive();
      expect_op("..");
      Expr hi = additive();
      expect_op(")");
      need_comparable(a, lo, op);
      need_comparable(a, hi, op);
      return {fmt::format("({} {}BETWEEN {} AND {})", a.sql, n, lo.sql, hi.sql), KqlType::kBool, ""};
    }
    if (!kWordOps.count(op.text)) fail(op.pos, fmt::format("unsupported operator '{}{}'", negate ? "!" : "", op.text));
    Expr b = additive();
    need_string(a, op, "'" + op.text + "'");
    need_string(b, op, "'" + op.text + "'");
    return {fmt::format("({}kql_{}({}, {}))", n, op.text, a.sql, b.sql), KqlType::kBool, ""};
  }

  Expr arithmetic(Expr (Translator::*operand)(), std::initializer_list<const char*> ops) {
    Expr a = (this->*operand)();
    for (;;) {
      auto it = std::find_if(ops.begin(), ops.end(), [&](const char* o) { return is_op(o); });
      if (it == ops.end()) return a;
      const Token& op = next();
      Expr b = (this->*operand)();
      if (op.text == "+" && (stringy(a.type) || stringy(b.type)) && !numeric(a.type))
        fail(op.pos, fmt::format("'+' adds numbers; found {} + {} (join strings with strcat())", a.describe(), b.describe()));
      need_numeric(a, op, "'" + op.text + "'");
      need_numeric(b, op, "'" + op.text + "'");
      KqlType t = a.type == KqlType::kReal || b.type == KqlType::kReal ? KqlType::kReal : KqlType::kLong;
      a = {fmt::format("({} {} {})", a.sql, op.text, b.sql), t, ""};
    }
  }
  Expr additive() { return arithmetic(&Translator::multiplicative, {"+", "-"}); }
  Expr multiplicative() { return arithmetic(&Translator::unary, {"*", "/", "%"}); }

  Expr unary() {
    Nesting guard(*this);
    if (is_op("-")) {
      const Token& op = next();
      Expr a = unary();
      need_numeric(a, op, "'-'");
      return {fmt::format("(-{})", a.sql), a.type, ""};
    }
    return primary();
  }

  Expr primary() {
    const Token& t = next();
    switch (t.kind) {
      case Tok::kString: return {param(t.text), KqlType::kString, ""};
      case Tok::kNumber:
        return t.integer ? Expr{param(static_cast<int64_t>(t.number)), KqlType::kLong, ""} : Expr{param(t.number), KqlType::kReal, ""};
      case Tok::kTimespan:
        fail(t.pos, "a timespan is only supported inside ago(), now() and bin()");
      case Tok::kOp:
        if (t.text == "(") {
          Expr e = expr();
          expect_op(")");
          e.sql = "(" + e.sql + ")";
          return e;
        }
        fail(t.pos, fmt::format("unexpected '{}'", t.text));
      case Tok::kEnd: fail(t.pos, "the query ends inside an expression");
      case Tok::kIdent: break;
    }
    if (t.text == "true" || t.text == "false") return {t.text == "true" ? "1" : "0", KqlType::kBool, ""};
    if (is_op("(")) return function(t);
    if (!find_column(columns_, t.text) && scalars_.count(t.text)) return scalars_.at(t.text);
    return column(t);
  }

  // ( expr ): the one argument of a function; the caller checks its type.
  Expr one_arg() {
    expect_op("(");
    Expr a = expr();
    expect_op(")");
    return a;
  }

  Expr function(const Token& f) {
    const std::string& n = f.text;
    if (n == "ago") return {param(format_timestamp(ctx_.now - timespan_arg())), KqlType::kDatetime, ""};
    if (n == "not") {
      Expr a = one_arg();
      need_bool(a, f, "not()");
      return {fmt::format("(NOT {})", a.sql), KqlType::kBool, ""};
    }
    if (n == "now") {
      if (is_op(")", 1)) {
        next();
        next();
        return {param(format_timestamp(ctx_.now)), KqlType::kDatetime, ""};
      }
      return {param(format_timestamp(ctx_.now + timespan_arg())), KqlType::kDatetime, ""};
    }
    if (n == "datetime") {
      expect_op("(");
      const Token& text = next();
      if (text.kind != Tok::kString) fail(text.pos, "datetime() needs a date such as 2026-11-02 or 2026-11-02T10:30:00Z");
      expect_op(")");
      auto ticks = parse_timestamp(text.text);
      if (!ticks) fail(text.pos, "datetime(): " + ticks.status().message());
      return {param(format_timestamp(*ticks)), KqlType::kDatetime, ""};
    }
    if (n == "tolower" || n == "toupper") {
      Expr a = one_arg();
      need_string(a, f, n + "()");
      return {fmt::format("{}({})", n == "tolower" ? "lower" : "upper", a.sql), KqlType::kString, ""};
    }
    if (n == "strlen") {
      Expr a = one_arg();
      need_string(a, f, "strlen()");
      return {fmt::format("length({})", a.sql), KqlType::kLong, ""};
    }
    if (n == "abs") {
      Expr a = one_arg();
      need_numeric(a, f, "abs()");
      return {fmt::format("abs({})", a.sql), a.type, ""};
    }
    if (n == "isempty" || n == "isnotempty") {
      Expr a = one_arg();
      return {n == "isempty" ? fmt::format("({0} IS NULL OR {0} = '')", a.sql) : fmt::format("({0} IS NOT NULL AND {0} <> '')", a.sql),
              KqlType::kBool, ""};
    }
    if (n == "strcat") {
      expect_op("(");
      std::vector<std::string> parts;
      list([&] { parts.push_back(expr().sql); });
      expect_op(")");
      return {"(" + fmt::format("{}", fmt::join(parts, " || ")) + ")", KqlType::kString, ""};
    }
    if (n == "tostring") {
      Expr a = one_arg();
      if (a.type == KqlType::kBool) return {fmt::format("(CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' ELSE '' END)", a.sql), KqlType::kString, ""};
      return {fmt::format("coalesce(CAST({} AS TEXT), '')", a.sql), KqlType::kString, ""};
    }
    if (n == "todouble" || n == "toreal") return {fmt::format("kql_todouble({})", one_arg().sql), KqlType::kReal, ""};
    if (n == "tolong" || n == "toint") return {fmt::format("kql_tolong({})", one_arg().sql), KqlType::kLong, ""};
    if (n == "round") {
      expect_op("(");
      Expr a = expr();
      need_numeric(a, f, "round()");
      std::string digits = "0";
      if (is_op(",") && (next(), true)) {
        Expr d = expr();
        need(d.type == KqlType::kLong, f, "round()'s precision is a whole number");
        digits = d.sql;
      }
      expect_op(")");
      return {fmt::format("round({}, {})", a.sql, digits), KqlType::kReal, ""};
    }
    if (n == "bin") return bin(f);
    if (n == "iff" || n == "iif" || n == "case") return conditional(f);
    if (n == "array_length") {
      Expr a = one_arg();
      need(a.type == KqlType::kDynamic || a.type == KqlType::kText, f, fmt::format("array_length() needs a dynamic array; found {}", a.describe()));
      return {fmt::format("(CASE WHEN json_valid({0}) THEN json_array_length({0}) END)", a.sql), KqlType::kLong, ""};
    }
    if (is_aggregate(n)) fail(f.pos, fmt::format("{}() is an aggregation: use it in summarize", n));
    fail(f.pos, fmt::format("unsupported function '{}'", n));
  }

  // iff(condition, then, else) and case(condition1, value1, ..., else): the values must agree
  // in type (numbers with numbers), which is the result's.
  Expr conditional(const Token& f) {
    const bool is_case = f.text == "case";
    expect_op("(");
    std::vector<Expr> args;
    list([&] { args.push_back(expr()); });
    expect_op(")");
    need(is_case ? args.size() >= 3 && args.size() % 2 == 1 : args.size() == 3, f,
         is_case ? "case() takes condition, value pairs and an else value: case(c1, v1, c2, v2, else)"
                 : f.text + "() takes a condition, a value if true and a value if false");
    std::string sql = "(CASE";
    KqlType type = KqlType::kNull;
    for (size_t i = 0; i < args.size(); ++i) {
      const bool value = i % 2 == 1 || i + 1 == args.size();
      if (!value) {
        need_bool(args[i], f, is_case ? "case()" : "iff()");
        sql += fmt::format(" WHEN {} THEN", args[i].sql);
        continue;
      }
      const Expr& v = args[i];
      if (type == KqlType::kNull || (type == KqlType::kText && v.type != KqlType::kNull)) type = v.type;
      else if (numeric(type) && numeric(v.type)) type = type == KqlType::kLong && v.type == KqlType::kLong ? type : KqlType::kReal;
      else need(comparable(type, v.type), f,
                fmt::format("{}()'s values differ in type: {} and {}", f.text, kql_type_name(type), v.describe()));
      sql += fmt::format(" {}{}", i + 1 == args.size() ? "ELSE " : "", v.sql);
    }
    return {sql + " END)", type, ""};
  }

  // bin(datetime, timespan) rounds down to whole multiples of the span since 1970-01-01;
  // bin(number, size) to multiples of the size. The result keeps the column's name in `by`.
  Expr bin(const Token& f) {
    expect_op("(");
    Expr a = expr();
    expect_op(",");
    Expr out{"", a.type, a.column};
    if (peek().kind == Tok::kTimespan || is_op("-")) {
      const Token& at = peek();
      Ticks span = signed_timespan();
      need(datetimey(a.type), f, fmt::format("bin() by a timespan needs a datetime; found {}", a.describe()));
      need(span > 0 && span % kTicksPerSecond == 0, at, "bin() on datetimes needs a positive span of whole seconds");
      int64_t s = span / kTicksPerSecond;
      out.sql = fmt::format("strftime('%Y-%m-%dT%H:%M:%S.0000000Z', (unixepoch({}) / {}) * {}, 'unixepoch')", a.sql, s, s);
      out.type = KqlType::kDatetime;
    } else {
      const Token& at = peek();
      Expr size = expr();
      need_numeric(a, f, "bin()");
      need(numeric(size.type), at, "bin()'s size is a number or a timespan");
      out.sql = fmt::format("(floor(CAST({} AS REAL) / {}) * {})", a.sql, size.sql, size.sql);
      if (a.type == KqlType::kLong && size.type == KqlType::kLong) out.sql = "CAST(" + out.sql + " AS INTEGER)";
      else out.type = KqlType::kReal;
    }
    expect_op(")");
    return out;
  }

  static bool is_aggregate(const std::string& n) {
    static const std::set<std::string> kAgg = {"count", "dcount", "max", "min", "avg", "sum", "arg_max",
                                               "arg_min", "countif", "make_set", "make_list"};
    return kAgg.count(n) != 0;
  }

  // ---- stages ----
  void stage() {
    const Token& op = next();
    if (op.kind != Tok::kIdent) fail(op.pos, "expected an operator after '|'");
    const std::string& n = op.text;
    if (n == "where" || n == "filter") {
      Expr cond = expr();
      need_bool(cond, op, "where");
      rel_ = fmt::format("SELECT * FROM {} WHERE {}", wrap(), cond.sql);
    } else if (n == "extend") {
      extend();
    } else if (n == "project") {
      project();
    } else if (n == "project-rename") {
      project_rename();
    } else if (n == "project-away") {
      project_away();
    } else if (n == "summarize") {
      summarize();
    } else if (n == "top") {
      std::string count = limit_value();
      expect_word("by");
      std::string order = order_list(/*single=*/true);
      rel_ = fmt::format("SELECT * FROM {} ORDER BY {} LIMIT {}", wrap(), order, count);
    } else if (n == "order" || n == "sort") {
      expect_word("by");
      std::string order = order_list(false);
      rel_ = fmt::format("SELECT * FROM {} ORDER BY {}", wrap(), order);
    } else if (n == "take" || n == "limit") {
      std::string count = limit_value();
      rel_ = fmt::format("SELECT * FROM {} LIMIT {}", wrap(), count);
    } else if (n == "count") {
      rel_ = fmt::format("SELECT count(*) AS \"Count\" FROM {}", wrap());
      columns_ = {{"Count", KqlType::kLong}};
    } else if (n == "distinct") {
      std::vector<KqlColumn> cols;
      list([&] {
        Expr c = column(next());
        cols.push_back({c.column, c.type});
      });
      std::vector<std::string> quoted;
      for (const auto& c : cols) quoted.push_back(quote_ident(c.name));
      rel_ = fmt::format("SELECT DISTINCT {} FROM {}", fmt::join(quoted, ", "), wrap());
      columns_ = cols;
    } else if (n == "mv-expand") {
      mv_expand(op);
    } else if (n == "join") {
      join();
    } else {
      fail(op.pos, fmt::format("unsupported operator '{}'", n));
    }
  }

  std::string limit_value() {
    const Token& t = next();
    if (t.kind != Tok::kNumber || !t.integer || t.number < 0) fail(t.pos, "expected a row count");
    return param(static_cast<int64_t>(t.number));
  }

  std::string order_list(bool single) {
    std::vector<std::string> parts;
    do {
      std::string e = expr().sql;
      std::string dir = "DESC";  // KQL sorts descending by default
      if (is_word("asc") || is_word("desc")) dir = next().text == "asc" ? "ASC" : "DESC";
      if (is_word("nulls")) {
        next();
        if (!is_word("first") && !is_word("last")) fail(peek().pos, "expected nulls first or nulls last");
        dir += next().text == "first" ? " NULLS FIRST" : " NULLS LAST";
      }
      parts.push_back(e + " " + dir);
    } while (!single && is_op(",") && (next(), true));
    return fmt::format("{}", fmt::join(parts, ", "));
  }

  // name = expr, or a bare column (project, by): {name, expression}.
  std::pair<std::string, Expr> assignment(bool bare_allowed) {
    if (peek().kind == Tok::kIdent && is_op("=", 1)) {
      std::string name = new_name(next());
      next();
      return {name, expr()};
    }
    const Token& t = peek();
    if (t.kind == Tok::kIdent && is_op("(", 1) && is_aggregate(t.text))
      fail(t.pos, fmt::format("{}() is an aggregation: use it in summarize", t.text));
    if (!bare_allowed || t.kind != Tok::kIdent || is_op("(", 1)) fail(t.pos, "expected name = expression");
    next();
    Expr c = column(t);
    return {c.column, c};
  }

  // SELECT list and columns for `items` replacing or appending to the current columns.
  void select_with(const std::vector<std::pair<std::string, Expr>>& items) {
    std::vector<std::string> select;
    std::vector<KqlColumn> cols;
    for (const auto& c : columns_) {
      auto it = std::find_if(items.begin(), items.end(), [&](const auto& x) { return x.first == c.name; });
      select.push_back(it == items.end() ? quote_ident(c.name) : fmt::format("{} AS {}", it->second.sql, quote_ident(c.name)));
      cols.push_back(it == items.end() ? c : KqlColumn{c.name, it->second.type});
    }
    for (const auto& [name, e] : items)
      if (!find_column(columns_, name)) {
        select.push_back(fmt::format("{} AS {}", e.sql, quote_ident(name)));
        cols.push_back({name, e.type});
      }
    rel_ = fmt::format("SELECT {} FROM {}", fmt::join(select, ", "), wrap());
    columns_ = std::move(cols);
  }

  void extend() {
    std::vector<std::pair<std::string, Expr>> items;
    list([&] { items.push_back(assignment(false)); });
    select_with(items);
    computed_ = true;
  }

  void project() {
    std::vector<std::string> select;
    std::vector<KqlColumn> cols;
    list([&] {
      const Token& at = peek();
      auto [name, e] = assignment(true);
      if (find_column(cols, name)) fail(at.pos, fmt::format("column \"{}\" twice", name));
      select.push_back(fmt::format("{} AS {}", e.sql, quote_ident(name)));
      cols.push_back({name, e.type});
    });
    rel_ = fmt::format("SELECT {} FROM {}", fmt::join(select, ", "), wrap());
    computed_ = true;
    columns_ = std::move(cols);
  }

  void project_rename() {
    std::vector<KqlColumn> cols = columns_;
    list([&] {
      std::string to = new_name(next());
      expect_op("=");
      Expr from = column(next());
      for (auto& c : cols)
        if (c.name == from.column) c.name = to;
    });
    std::vector<std::string> select;
    for (size_t i = 0; i < cols.size(); ++i) {
      if (std::count_if(cols.begin(), cols.end(), [&](const KqlColumn& c) { return c.name == cols[i].name; }) > 1)
        fail(peek().pos, fmt::format("project-rename: column \"{}\" twice", cols[i].name));
      select.push_back(fmt::format("{} AS {}", quote_ident(columns_[i].name), quote_ident(cols[i].name)));
    }
    rel_ = fmt::format("SELECT {} FROM {}", fmt::join(select, ", "), wrap());
    columns_ = std::move(cols);
  }

  void project_away() {
    std::set<std::string> away;
    list([&] { away.insert(column(next()).column); });
    std::vector<KqlColumn> cols;
    std::vector<std::string> select;
    for (const auto& c : columns_)
      if (!away.count(c.name)) {
        cols.push_back(c);
        select.push_back(quote_ident(c.name));
      }
    if (cols.empty()) fail(peek().pos, "project-away would leave no columns");
    rel_ = fmt::format("SELECT {} FROM {}", fmt::join(select, ", "), wrap());
    columns_ = std::move(cols);
  }

  struct Aggregate {
    std::string sql, name;
    KqlType type;
  };

  // One aggregation of summarize; arg_max/arg_min add the columns they carry.
  void aggregation(std::vector<Aggregate>& aggs, bool& arg) {
    std::string name;
    if (peek().kind == Tok::kIdent && is_op("=", 1)) {
      name = new_name(next());
      next();
    }
    const Token& f = next();
    if (f.kind != Tok::kIdent || !is_op("(")) fail(f.pos, "expected an aggregation such as count() or max(Column)");
    if (!is_aggregate(f.text)) fail(f.pos, fmt::format("unsupported aggregation '{}'", f.text));
    expect_op("(");
    const std::string& fn = f.text;
    if (fn == "count") {
      expect_op(")");
      aggs.push_back({"count(*)", name.empty() ? "count_" : name, KqlType::kLong});
      return;
    }
    if (fn == "arg_max" || fn == "arg_min") {
      if (arg) fail(f.pos, "one arg_max/arg_min per summarize");
      arg = true;
      Expr k = expr();
      aggs.push_back({fmt::format("{}({})", fn == "arg_max" ? "max" : "min", k.sql),
                      name.empty() ? (k.column.empty() ? fn : k.column) : name, k.type});
      while (is_op(",")) {
        next();
        if (is_op("*")) {
          next();
          for (const auto& c : columns_)
            if (std::none_of(aggs.begin(), aggs.end(), [&](const Aggregate& a) { return a.name == c.name; }))
              aggs.push_back({quote_ident(c.name), c.name, c.type});  // SQLite takes bare columns from the max/min row
        } else {
          Expr c = column(next());
          aggs.push_back({c.sql, c.column, c.type});
        }
      }
      expect_op(")");
      return;
    }
    Expr a = expr();
    expect_op(")");
    std::string base = fn + "_" + (a.column.empty() ? "expr" : a.column);
    Aggregate out{"", name.empty() ? base : name, a.type};
    if (fn == "dcount") {
      out = {fmt::format("count(DISTINCT {})", a.sql), out.name, KqlType::kLong};
    } else if (fn == "countif") {
      need_bool(a, f, "countif()");
      out = {fmt::format("sum(CASE WHEN {} THEN 1 ELSE 0 END)", a.sql), out.name, KqlType::kLong};
    } else if (fn == "sum" || fn == "avg") {
      need_numeric(a, f, fn + "()");
      out.sql = fmt::format("{}({})", fn, a.sql);
      if (fn == "avg") out.type = KqlType::kReal;
    } else if (fn == "make_set" || fn == "make_list") {
      out = {fmt::format("json_group_array({}{})", fn == "make_set" ? "DISTINCT " : "", a.sql), out.name, KqlType::kDynamic};
    } else {  // max, min
      need(a.type != KqlType::kDynamic, f, fmt::format("{}() needs values that order; found {}", fn, a.describe()));
      out.sql = fmt::format("{}({})", fn, a.sql);
    }
    aggs.push_back(std::move(out));
  }

  void summarize() {
    std::vector<Aggregate> aggs;
    std::vector<std::string> select, groups;
    std::vector<KqlColumn> cols;
    bool arg = false;
    if (!is_word("by")) list([&] { aggregation(aggs, arg); });
    if (is_word("by")) {
      next();
      list([&] {
        std::pair<std::string, Expr> item;
        if (peek().kind == Tok::kIdent && is_op("=", 1)) {
          item = assignment(false);
        } else {
          // A by-expression is named after its column (bin(TimeGenerated, 1h) is TimeGenerated),
          // or Column1, Column2 ... as KQL names them.
          bool bare = peek().kind == Tok::kIdent && !is_op("(", 1);
          Expr e = expr();
          item = {bare || !e.column.empty() ? e.column : fmt::format("Column{}", ++unnamed_), e};
        }
        groups.push_back(item.second.sql);
        cols.push_back({item.first, item.second.type});
      });
    }
    if (aggs.empty() && groups.empty()) fail(peek().pos, "summarize needs an aggregation or by");
    for (size_t i = 0; i < groups.size(); ++i) select.push_back(fmt::format("{} AS {}", groups[i], quote_ident(cols[i].name)));
    for (const auto& a : aggs) {
      if (find_column(cols, a.name)) continue;  // arg_max(*) repeats a by column
      select.push_back(fmt::format("{} AS {}", a.sql, quote_ident(a.name)));
      cols.push_back({a.name, a.type});
    }
    rel_ = fmt::format("SELECT {} FROM {}{}", fmt::join(select, ", "), wrap(),
                       groups.empty() ? "" : fmt::format(" GROUP BY {}", fmt::join(groups, ", ")));
    computed_ = true;
    columns_ = std::move(cols);
  }

  // mv-expand [Name =] Column [to typeof(T)]: a row per element of the column's array (none for
  // an empty array, one with null for null; a scalar or plain text is one element).
  void mv_expand(const Token& op) {
    std::string name;
    if (peek().kind == Tok::kIdent && is_op("=", 1)) {
      name = new_name(next());
      next();
    }
    Expr c = column(next());
    if (name.empty()) name = c.column;
    need(c.type == KqlType::kDynamic || c.type == KqlType::kText || c.type == KqlType::kNull, op,
         fmt::format("mv-expand needs a dynamic column; found {}", c.describe()));
    std::string value = "j.value";
    KqlType type = KqlType::kDynamic;
    if (is_word("to")) {
      next();
      expect_word("typeof");
      expect_op("(");
      const Token& t = next();
      static const std::map<std::string, std::pair<KqlType, const char*>> kTypes = {
          {"string", {KqlType::kString, "CASE WHEN j.type = 'text' THEN j.value END"}},
          {"long", {KqlType::kLong, "CASE WHEN j.type = 'integer' THEN j.value END"}},
          {"int", {KqlType::kLong, "CASE WHEN j.type = 'integer' THEN j.value END"}},
          {"real", {KqlType::kReal, "CASE WHEN j.type IN ('integer', 'real') THEN CAST(j.value AS REAL) END"}},
          {"double", {KqlType::kReal, "CASE WHEN j.type IN ('integer', 'real') THEN CAST(j.value AS REAL) END"}},
          {"bool", {KqlType::kBool, "CASE WHEN j.type IN ('true', 'false') THEN j.value END"}},
          {"dynamic", {KqlType::kDynamic, "j.value"}}};
      auto it = kTypes.find(t.text);
      if (it == kTypes.end()) fail(t.pos, "typeof(): string, long, int, real, double, bool or dynamic");
      type = it->second.first;
      value = it->second.second;
      expect_op(")");
    }
    if (is_op(",") || is_word("limit") || is_word("with_itemindex") || is_word("kind"))
      fail(peek().pos, "mv-expand takes one column here (no kind, with_itemindex or limit)");
    std::vector<std::string> select;
    std::vector<KqlColumn> cols;
    for (const auto& col : columns_)
      if (col.name != name) {
        select.push_back(fmt::format("s.{0} AS {0}", quote_ident(col.name)));
        cols.push_back(col);
      } else {
        select.push_back(fmt::format("{} AS {}", value, quote_ident(name)));
        cols.push_back({name, type});
      }
    if (!find_column(columns_, name)) {
      select.push_back(fmt::format("{} AS {}", value, quote_ident(name)));
      cols.push_back({name, type});
    }
    std::string array = fmt::format("CASE WHEN s.{0} IS NULL THEN '[null]' WHEN json_valid(s.{0}) THEN s.{0} ELSE json_quote(s.{0}) END",
                                    c.sql);
    rel_ = fmt::format("SELECT {} FROM {} AS s, json_each({}) AS j", fmt::join(select, ", "), wrap(), array);
    computed_ = true;
    columns_ = std::move(cols);
  }

  // join [kind=K] (pipeline) on Key, $left.A == $right.B: KQL's default kind, innerunique,
  // keeps one left row per key. Right columns whose names the left has get a suffix (User1).
  void join() {
    std::string kind = "innerunique";
    if (is_word("kind")) {
      next();
      expect_op("=");
      const Token& k = next();
      static const std::set<std::string> kKinds = {"innerunique", "inner", "leftouter", "leftsemi", "leftanti", "anti", "leftantisemi"};
      if (!kKinds.count(k.text))
        fail(k.pos, fmt::format("join kind '{}' is not supported (innerunique, inner, leftouter, leftsemi, leftanti)", k.text));
      kind = k.text == "anti" || k.text == "leftantisemi" ? "leftanti" : k.text;
    }
    Relation right;
    if (is_op("(")) {
      next();
      right = sub_pipeline();
      expect_op(")");
    } else if (tabular_source()) {
      right = sub_pipeline();
    } else {
      fail(peek().pos, fmt::format("join needs a table or (query) on its right{}", describe(peek())));
    }
    expect_word("on");
    std::vector<std::string> conds, left_keys;
    list([&] {
      const Token& at = peek();
      std::string l, r;
      if (is_word("$left") || is_word("$right")) {
        std::string a = side_column(), b;
        expect_op("==");
        b = side_column();
        if (a.rfind("$left.", 0) != 0) std::swap(a, b);
        if (a.rfind("$left.", 0) != 0 || b.rfind("$right.", 0) != 0) fail(at.pos, "join on $left.A == $right.B");
        l = a.substr(6);
        r = b.substr(7);
      } else {
        l = r = new_name(next());
      }
      const KqlColumn* lc = find_column(columns_, l);
      const KqlColumn* rc = find_column(right.columns, r);
      if (!lc) fail(at.pos, fmt::format("join key \"{}\" is not a column of the left side ({})", l, fmt::join(names_of(columns_), ", ")));
      if (!rc) fail(at.pos, fmt::format("join key \"{}\" is not a column of the right side ({})", r, fmt::join(names_of(right.columns), ", ")));
      need_comparable({"", lc->type, l}, {"", rc->type, r}, at);
      conds.push_back(fmt::format("l.{} = r.{}", quote_ident(l), quote_ident(r)));
      left_keys.push_back(quote_ident(l));
    });
    std::string left = wrap();
    if (kind == "innerunique") {
      std::string rel = std::move(rel_);
      rel_ = fmt::format("SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {}) AS byoml_rn FROM {}) WHERE byoml_rn = 1",
                         fmt::join(left_keys, ", "), left);
      left = wrap();
      rel_ = std::move(rel);
    }
    std::vector<std::string> select;
    std::vector<KqlColumn> cols;
    for (const auto& c : columns_) {
      select.push_back(fmt::format("l.{0} AS {0}", quote_ident(c.name)));
      cols.push_back(c);
    }
    std::string on = fmt::format("{}", fmt::join(conds, " AND "));
    if (kind == "leftsemi" || kind == "leftanti") {
      rel_ = fmt::format("SELECT {} FROM {} AS l WHERE {}EXISTS (SELECT 1 FROM {} AS r WHERE {})", fmt::join(select, ", "), left,
                         kind == "leftanti" ? "NOT " : "", right.name, on);
    } else {
      for (const auto& c : right.columns) {
        std::string name = c.name;
        for (int k = 1; find_column(cols, name); ++k) name = c.name + std::to_string(k);
        select.push_back(fmt::format("r.{} AS {}", quote_ident(c.name), quote_ident(name)));
        cols.push_back({name, c.type});
      }
      rel_ = fmt::format("SELECT {} FROM {} AS l {} JOIN {} AS r ON {}", fmt::join(select, ", "), left,
                         kind == "leftouter" ? "LEFT" : "INNER", right.name, on);
    }
    columns_ = std::move(cols);
  }

  // $left.Column or $right.Column, as written.
  std::string side_column() {
    const Token& side = next();
    expect_op(".");
    const Token& c = next();
    if (c.kind != Tok::kIdent) fail(c.pos, "expected a column name after '.'");
    return side.text + "." + c.text;
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  const KqlContext& ctx_;
  SqlQuery out_;
  std::string rel_;
  std::vector<KqlColumn> columns_;
  std::vector<std::string> ctes_;
  std::map<std::string, Relation> lets_;  // tabular lets
  std::map<std::string, Expr> scalars_;   // scalar lets
  int stages_ = 0;
  int unnamed_ = 0;        // by-expressions named Column1, Column2 ...
  bool computed_ = false;  // rel_ computes columns
  int nesting_ = 0;
};

}  // namespace

Result<SqlQuery> translate_kql(std::string_view query, const KqlContext& ctx) {
  if (query.size() > kKqlMaxLength)
    return Status(ErrorCode::kParse, fmt::format("query of {} characters; {} at most", query.size(), kKqlMaxLength));
  try {
    return Translator(query, ctx).run();
  } catch (const KqlError& e) {
    return Status(ErrorCode::kParse, fmt::format("query position {}: {}", e.pos + 1, e.message));
  }
}

std::string kql_quote(std::string_view text) {
  std::string out = "@\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

namespace {

bool term_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// has: the needle occurs as a whole term (bounded by non-alphanumerics).
bool has_term(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) {
    bool left = at == 0 || !term_char(hay[at - 1]) || !term_char(needle.front());
    size_t end = at + needle.size();
    bool right = end == hay.size() || !term_char(hay[end]) || !term_char(needle.back());
    if (left && right) return true;
  }
  return false;
}

enum StringOp { kHas, kContains, kStartsWith, kEndsWith };

// KQL's string operators; case-insensitive unless CaseSensitive (the _cs forms).
template <StringOp Op, bool CaseSensitive>
void string_fn(sqlite3_context* c, int, sqlite3_value** v) {
  if (sqlite3_value_type(v[0]) == SQLITE_NULL || sqlite3_value_type(v[1]) == SQLITE_NULL) {
    sqlite3_result_int(c, 0);
    return;
  }
  auto text = [](sqlite3_value* x) {
    std::string s(reinterpret_cast<const char*>(sqlite3_value_text(x)), static_cast<size_t>(sqlite3_value_bytes(x)));
    if (!CaseSensitive)
      for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  std::string a = text(v[0]), b = text(v[1]);
  std::string_view h = a;
  bool r = Op == kHas ? has_term(a, b)
           : Op == kContains ? a.find(b) != std::string::npos
           : Op == kStartsWith ? h.substr(0, b.size()) == b
                               : h.size() >= b.size() && h.substr(h.size() - b.size()) == b;
  sqlite3_result_int(c, r ? 1 : 0);
}

// todouble()/tolong(): a number, or a string that is wholly one; otherwise null (as in KQL,
// where SQLite's CAST would answer 0).
template <bool Long>
void to_number(sqlite3_context* c, int, sqlite3_value** v) {
  int type = sqlite3_value_type(v[0]);
  if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
    if (Long) sqlite3_result_int64(c, sqlite3_value_int64(v[0]));
    else sqlite3_result_double(c, sqlite3_value_double(v[0]));
    return;
  }
  if (type != SQLITE_TEXT) {
    sqlite3_result_null(c);
    return;
  }
  std::string s(reinterpret_cast<const char*>(sqlite3_value_text(v[0])), static_cast<size_t>(sqlite3_value_bytes(v[0])));
  char* end = nullptr;
  errno = 0;
  if (Long) {
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size() && errno == 0) sqlite3_result_int64(c, n);
    else sqlite3_result_null(c);
  } else {
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d)) sqlite3_result_double(c, d);
    else sqlite3_result_null(c);
  }
}

}  // namespace

Status register_kql_functions(sqlite3* db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  using Fn = void (*)(sqlite3_context*, int, sqlite3_value**);
  static const std::pair<const char*, Fn> kFunctions[] = {
      {"kql_has", string_fn<kHas, false>},           {"kql_has_cs", string_fn<kHas, true>},
      {"kql_contains", string_fn<kContains, false>}, {"kql_contains_cs", string_fn<kContains, true>},
      {"kql_startswith", string_fn<kStartsWith, false>}, {"kql_startswith_cs", string_fn<kStartsWith, true>},
      {"kql_endswith", string_fn<kEndsWith, false>}, {"kql_endswith_cs", string_fn<kEndsWith, true>},
      {"kql_todouble", to_number<false>},            {"kql_tolong", to_number<true>}};
  for (auto [name, fn] : kFunctions) {
    int args = std::string_view(name).rfind("kql_to", 0) == 0 ? 1 : 2;
    if (sqlite3_create_function(db, name, args, flags, nullptr, fn, nullptr, nullptr) != SQLITE_OK)
      return Status(ErrorCode::kIo, fmt::format("cannot register KQL function {}: {}", name, sqlite3_errmsg(db)));
  }
  return {};
}

}  // namespace byoml

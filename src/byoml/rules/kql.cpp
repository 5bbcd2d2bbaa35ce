#include "byoml/rules/kql.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace byoml {

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
    bool verbatim = c == '@' && i + 1 < q.size() && (q[i + 1] == '\'' || q[i + 1] == '"');
    if (c == '\'' || c == '"' || verbatim) {
      if (verbatim) ++i;
      char quote = q[i++];
      std::string s;
      for (;;) {
        if (i >= q.size()) fail(t.pos, "unterminated string");
        char d = q[i++];
        if (d == quote) break;
        if (d == '\\' && !verbatim) {
          if (i >= q.size()) fail(t.pos, "unterminated string");
          char e = q[i++];
          s += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        } else {
          s += d;
        }
      }
      t.kind = Tok::kString;
      t.text = std::move(s);
    } else if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < q.size() && std::isdigit(static_cast<unsigned char>(q[i + 1])))) {
      size_t start = i;
      while (i < q.size() && (std::isdigit(static_cast<unsigned char>(q[i])) || q[i] == '.')) ++i;
      if (i < q.size() && (q[i] == 'e' || q[i] == 'E') && i + 1 < q.size() &&
          (std::isdigit(static_cast<unsigned char>(q[i + 1])) || q[i + 1] == '-' || q[i + 1] == '+')) {
        i += 2;
        while (i < q.size() && std::isdigit(static_cast<unsigned char>(q[i]))) ++i;
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
    } else if (ident_start(c)) {
      size_t start = i;
      while (i < q.size() && ident_char(q[i])) ++i;
      // Hyphenated operator names (project-away, mv-expand, make-series, top-nested) lex as
      // one word, so that they are reported as unsupported rather than as a subtraction.
      static const std::set<std::string_view> kHyphenated = {"project", "mv", "make", "top", "parse"};
      while (kHyphenated.count(q.substr(start, i - start)) && i + 1 < q.size() && q[i] == '-' && ident_start(q[i + 1])) {
        ++i;
        while (i < q.size() && ident_char(q[i])) ++i;
      }
      t.kind = Tok::kIdent;
      t.text = std::string(q.substr(start, i - start));
    } else {
      static const char* kOps[] = {"==", "!=", "<=", ">=", "=~", "!~", "|", "(", ")", ",", "=",
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

class Translator {
 public:
  Translator(std::string_view source, const KqlContext& ctx) : t_(lex(source)), ctx_(ctx), source_(source) {}

  SqlQuery run() {
    const Token& table = next();
    if (table.kind != Tok::kIdent) fail(table.pos, "a query starts with a table name");
    auto it = ctx_.tables.find(table.text);
    if (it == ctx_.tables.end()) {
      std::string known;
      for (const auto& [name, cols] : ctx_.tables) known += (known.empty() ? "" : ", ") + name;
      fail(table.pos, fmt::format("unknown table \"{}\" (known: {})", table.text, known.empty() ? "none" : known));
    }
    out_.table = table.text;
    columns_ = it->second;
    rel_ = "SELECT * FROM " + quote_ident(table.text);
    if (ctx_.period > 0) {
      if (std::find(columns_.begin(), columns_.end(), "TimeGenerated") == columns_.end())
        fail(table.pos, "the table has no TimeGenerated column to apply the query period to");
      rel_ += fmt::format(" WHERE \"TimeGenerated\" >= {} AND \"TimeGenerated\" <= {}", param(format_timestamp(ctx_.now - ctx_.period)),
                          param(format_timestamp(ctx_.now)));
    }
    while (peek().kind != Tok::kEnd) {
      expect_op("|");
      if (++stages_ > kKqlMaxStages) fail(peek().pos, fmt::format("more than {} pipe stages", kKqlMaxStages));
      stage();
    }
    out_.sql = ctes_.empty() ? rel_ : fmt::format("WITH {} {}", fmt::join(ctes_, ", "), rel_);
    out_.columns = columns_;
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

  // Recursion in the expression grammar is bounded, so deep nesting is an error, not a stack overflow.
  struct Nesting {
    explicit Nesting(Translator& t) : t_(t) {
      if (++t_.nesting_ > kKqlMaxNesting) fail(t_.peek().pos, fmt::format("expression nested more than {} deep", kKqlMaxNesting));
    }
    ~Nesting() { --t_.nesting_; }
    Translator& t_;
  };

  std::string column(const Token& t) {
    if (std::find(columns_.begin(), columns_.end(), t.text) == columns_.end())
      fail(t.pos, fmt::format("unknown column \"{}\" (columns here: {})", t.text, fmt::join(columns_, ", ")));
    return quote_ident(t.text);
  }

  std::string new_name(const Token& t) {
    if (t.kind != Tok::kIdent || !plain_ident(t.text)) fail(t.pos, "expected a column name");
    return t.text;
  }

  Ticks timespan_arg() {
    expect_op("(");
    const Token& s = next();
    bool negative = false;
    const Token* v = &s;
    if (s.kind == Tok::kOp && s.text == "-") {
      negative = true;
      v = &next();
    }
    if (v->kind != Tok::kTimespan) fail(v->pos, "expected a timespan such as 1h, 30m, 7d");
    expect_op(")");
    return negative ? -v->span : v->span;
  }

  // ---- expressions ----
  std::string expr() {
    Nesting guard(*this);
    return or_expr();
  }

  std::string or_expr() {
    std::string a = and_expr();
    while (is_word("or")) {
      next();
      a = fmt::format("({} OR {})", a, and_expr());
    }
    return a;
  }

  std::string and_expr() {
    std::string a = comparison();
    while (is_word("and")) {
      next();
      a = fmt::format("({} AND {})", a, comparison());
    }
    return a;
  }

  std::string comparison() {
    std::string a = additive();
    const Token& t = peek();
    static const std::pair<const char*, const char*> kCmp[] = {{"==", "="}, {"!=", "<>"}, {"<", "<"},
                                                               {"<=", "<="}, {">", ">"}, {">=", ">="}};
    if (t.kind == Tok::kOp) {
      for (auto [k, sql] : kCmp)
        if (t.text == k) {
          next();
          return fmt::format("({} {} {})", a, sql, additive());
        }
      if (t.text == "=~" || t.text == "!~") {
        next();
        return fmt::format("(lower({}) {} lower({}))", a, t.text == "=~" ? "=" : "<>", additive());
      }
      if (t.text == "!" && peek(1).kind == Tok::kIdent && peek(1).pos == t.end) {
        next();
        return string_op(a, /*negate=*/true);
      }
      return a;
    }
    if (t.kind == Tok::kIdent && (t.text == "in" || t.text == "has" || t.text == "contains" || t.text == "startswith"))
      return string_op(a, false);
    if (t.kind == Tok::kIdent && (t.text == "in~" || t.text == "has_cs" || t.text == "contains_cs" ||
                                  t.text == "endswith" || t.text == "matches" || t.text == "between" || t.text == "hasprefix"))
      fail(t.pos, fmt::format("unsupported operator '{}'", t.text));
    return a;
  }

  std::string string_op(const std::string& a, bool negate) {
    const Token& op = next();
    std::string n = negate ? "NOT " : "";
    if (op.text == "in") {
      expect_op("(");
      std::vector<std::string> items;
      do {
        items.push_back(expr());
      } while (is_op(",") && (next(), true));
      expect_op(")");
      return fmt::format("({} {}IN ({}))", a, n, fmt::join(items, ", "));
    }
    static const std::pair<const char*, const char*> kFns[] = {
        {"has", "kql_has"}, {"contains", "kql_contains"}, {"startswith", "kql_startswith"}};
    for (auto [k, fn] : kFns)
      if (op.text == k) return fmt::format("({}{}({}, {}))", n, fn, a, additive());
    fail(op.pos, fmt::format("unsupported operator '{}{}'", negate ? "!" : "", op.text));
  }

  std::string additive() {
    std::string a = multiplicative();
    while (is_op("+") || is_op("-")) {
      std::string op = next().text;
      a = fmt::format("({} {} {})", a, op, multiplicative());
    }
    return a;
  }

  std::string multiplicative() {
    std::string a = unary();
    while (is_op("*") || is_op("/") || is_op("%")) {
      std::string op = next().text;
      a = fmt::format("({} {} {})", a, op, unary());
    }
    return a;
  }

  std::string unary() {
    Nesting guard(*this);
    if (is_op("-")) {
      next();
      return fmt::format("(-{})", unary());
    }
    return primary();
  }

  std::string primary() {
    const Token& t = next();
    switch (t.kind) {
      case Tok::kString: return param(t.text);
      case Tok::kNumber:
        return t.integer ? param(static_cast<int64_t>(t.number)) : param(t.number);
      case Tok::kTimespan:
        fail(t.pos, "a timespan is only supported inside ago() and now()");
      case Tok::kOp:
        if (t.text == "(") {
          std::string e = expr();
          expect_op(")");
          return "(" + e + ")";
        }
        fail(t.pos, fmt::format("unexpected '{}'", t.text));
      case Tok::kEnd: fail(t.pos, "the query ends inside an expression");
      case Tok::kIdent: break;
    }
    if (t.text == "true" || t.text == "false") return t.text == "true" ? "1" : "0";
    if (!is_op("(")) return column(t);
    return function(t);
  }

  std::string function(const Token& f) {
    const std::string& n = f.text;
    if (n == "ago") return param(format_timestamp(ctx_.now - timespan_arg()));
    if (n == "not") {
      expect_op("(");
      std::string a = expr();
      expect_op(")");
      return fmt::format("(NOT {})", a);
    }
    if (n == "now") {
      if (is_op(")", 1)) {
        next();
        next();
        return param(format_timestamp(ctx_.now));
      }
      return param(format_timestamp(ctx_.now + timespan_arg()));
    }
    if (n == "datetime") {
      expect_op("(");
      // datetime(2026-11-02) is written bare in KQL: take the text up to ')'.
      size_t start = peek().pos;
      while (!is_op(")") && peek().kind != Tok::kEnd) next();
      size_t end = peek().pos;
      expect_op(")");
      std::string text = source_.substr(start, end - start);
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
      if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"')) text = text.substr(1, text.size() - 2);
      auto ticks = parse_timestamp(text);
      if (!ticks) fail(start, "datetime(): " + ticks.status().message());
      return param(format_timestamp(*ticks));
    }
    static const std::pair<const char*, const char*> kUnary[] = {{"tolower", "lower"}, {"toupper", "upper"},
                                                                 {"strlen", "length"}, {"abs", "abs"}};
    for (auto [k, sql] : kUnary)
      if (n == k) {
        expect_op("(");
        std::string a = expr();
        expect_op(")");
        return fmt::format("{}({})", sql, a);
      }
    if (n == "isempty" || n == "isnotempty") {
      expect_op("(");
      std::string a = expr();
      expect_op(")");
      return n == "isempty" ? fmt::format("({0} IS NULL OR {0} = '')", a) : fmt::format("({0} IS NOT NULL AND {0} <> '')", a);
    }
    if (n == "strcat") {
      expect_op("(");
      std::vector<std::string> parts;
      do {
        parts.push_back(expr());
      } while (is_op(",") && (next(), true));
      expect_op(")");
      return "(" + fmt::format("{}", fmt::join(parts, " || ")) + ")";
    }
    if (is_aggregate(n)) fail(f.pos, fmt::format("{}() is an aggregation: use it in summarize", n));
    fail(f.pos, fmt::format("unsupported function '{}'", n));
  }

  static bool is_aggregate(const std::string& n) {
    static const std::set<std::string> kAgg = {"count", "dcount", "max", "min", "avg", "sum", "arg_max", "arg_min", "countif"};
    return kAgg.count(n) != 0;
  }

  // ---- stages ----
  void stage() {
    const Token& op = next();
    if (op.kind != Tok::kIdent) fail(op.pos, "expected an operator after '|'");
    const std::string& n = op.text;
    if (n == "where" || n == "filter") {
      std::string cond = expr();
      rel_ = fmt::format("SELECT * FROM {} WHERE {}", wrap(), cond);
    } else if (n == "extend") {
      extend();
    } else if (n == "project") {
      project();
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
      columns_ = {"Count"};
    } else if (n == "distinct") {
      std::vector<std::string> cols;
      do {
        cols.push_back(column(next()));
      } while (is_op(",") && (next(), true));
      rel_ = fmt::format("SELECT DISTINCT {} FROM {}", fmt::join(cols, ", "), wrap());
      std::vector<std::string> names;
      for (auto& c : cols) names.push_back(c.substr(1, c.size() - 2));
      columns_ = names;
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
      std::string e = expr();
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

  // name = expr, or a bare column (project) — returns {name, sql}.
  std::pair<std::string, std::string> assignment(bool bare_allowed) {
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
    return {t.text, column(t)};
  }

  void extend() {
    std::vector<std::pair<std::string, std::string>> items;
    do {
      items.push_back(assignment(false));
    } while (is_op(",") && (next(), true));
    std::vector<std::string> select, names = columns_;
    for (const auto& c : columns_) {
      auto it = std::find_if(items.begin(), items.end(), [&](const auto& x) { return x.first == c; });
      select.push_back(it == items.end() ? quote_ident(c) : fmt::format("{} AS {}", it->second, quote_ident(c)));
    }
    for (const auto& [name, sql] : items)
      if (std::find(columns_.begin(), columns_.end(), name) == columns_.end()) {
        select.push_back(fmt::format("{} AS {}", sql, quote_ident(name)));
        names.push_back(name);
      }
    rel_ = fmt::format("SELECT {} FROM {}", fmt::join(select, ", "), wrap());
    computed_ = true;
    columns_ = names;
  }

  void project() {
    std::vector<std::string> select, names;
    do {
      auto [name, sql] = assignment(true);
      if (std::find(names.begin(), names.end(), name) != names.end()) fail(peek().pos, fmt::format("column \"{}\" twice", name));
      select.push_back(fmt::format("{} AS {}", sql, quote_ident(name)));
      names.push_back(name);
    } while (is_op(",") && (next(), true));
    rel_ = fmt::format("SELECT {} FROM {}", fmt::join(select, ", "), wrap());
    computed_ = true;
    columns_ = names;
  }

  void summarize() {
    std::vector<std::string> select, names, groups;
    std::vector<std::string> aggs, agg_names;
    bool arg = false;
    if (!is_word("by")) {
      do {
        std::string name;
        if (peek().kind == Tok::kIdent && is_op("=", 1)) {
          name = new_name(next());
          next();
        }
        const Token& f = next();
        if (f.kind != Tok::kIdent || !is_op("(")) fail(f.pos, "expected an aggregation such as count() or max(Column)");
        if (!is_aggregate(f.text)) fail(f.pos, fmt::format("unsupported aggregation '{}'", f.text));
        expect_op("(");
        if (f.text == "count") {
          expect_op(")");
          aggs.push_back("count(*)");
          agg_names.push_back(name.empty() ? "count_" : name);
          continue;
        }
        if (f.text == "arg_max" || f.text == "arg_min") {
          if (arg) fail(f.pos, "one arg_max/arg_min per summarize");
          arg = true;
          const Token& key = peek();
          std::string k = expr();
          aggs.push_back(fmt::format("{}({})", f.text == "arg_max" ? "max" : "min", k));
          agg_names.push_back(name.empty() ? (key.kind == Tok::kIdent ? key.text : "arg_" + f.text) : name);
          while (is_op(",")) {
            next();
            if (is_op("*")) {
              next();
              for (const auto& c : columns_)
                if (std::find(agg_names.begin(), agg_names.end(), c) == agg_names.end()) {
                  aggs.push_back(quote_ident(c));  // SQLite takes bare columns from the max/min row
                  agg_names.push_back(c);
                }
            } else {
              const Token& c = next();
              aggs.push_back(column(c));
              agg_names.push_back(c.text);
            }
          }
          expect_op(")");
          continue;
        }
        const Token& arg_tok = peek();
        std::string a = expr();
        expect_op(")");
        std::string base = arg_tok.kind == Tok::kIdent ? arg_tok.text : "expr";
        if (f.text == "dcount") aggs.push_back(fmt::format("count(DISTINCT {})", a));
        else if (f.text == "countif") aggs.push_back(fmt::format("sum(CASE WHEN {} THEN 1 ELSE 0 END)", a));
        else aggs.push_back(fmt::format("{}({})", f.text, a));
        agg_names.push_back(name.empty() ? f.text + "_" + base : name);
      } while (is_op(",") && (next(), true));
    }
    if (is_word("by")) {
      next();
      do {
        if (peek().kind == Tok::kIdent && peek(0).text == "bin" && is_op("(", 1)) {
          const Token& b = next();
          expect_op("(");
          const Token& col = next();
          std::string c = column(col);
          expect_op(",");
          const Token& span = next();
          if (span.kind != Tok::kTimespan || span.span <= 0) fail(span.pos, "bin() needs a positive timespan");
          expect_op(")");
          (void)b;
          // Datetimes are ISO text; bin to whole units by truncating the text when the span allows.
          std::string sql;
          if (span.span == kTicksPerDay) sql = fmt::format("(substr({}, 1, 10) || 'T00:00:00.0000000Z')", c);
          else if (span.span == kTicksPerHour) sql = fmt::format("(substr({}, 1, 13) || ':00:00.0000000Z')", c);
          else if (span.span == kTicksPerMinute) sql = fmt::format("(substr({}, 1, 16) || ':00.0000000Z')", c);
          else fail(span.pos, "bin() on datetimes supports 1d, 1h and 1m");
          groups.push_back(sql);
          names.push_back(col.text);
          continue;
        }
        auto [name, sql] = assignment(true);
        groups.push_back(sql);
        names.push_back(name);
      } while (is_op(",") && (next(), true));
    }
    if (aggs.empty() && groups.empty()) fail(peek().pos, "summarize needs an aggregation or by");
    for (size_t i = 0; i < groups.size(); ++i) select.push_back(fmt::format("{} AS {}", groups[i], quote_ident(names[i])));
    for (size_t i = 0; i < aggs.size(); ++i) {
      if (std::find(names.begin(), names.end(), agg_names[i]) != names.end()) continue;  // arg_max(*) repeats a by column
      select.push_back(fmt::format("{} AS {}", aggs[i], quote_ident(agg_names[i])));
      names.push_back(agg_names[i]);
    }
    rel_ = fmt::format("SELECT {} FROM {}{}", fmt::join(select, ", "), wrap(),
                       groups.empty() ? "" : fmt::format(" GROUP BY {}", fmt::join(groups, ", ")));
    computed_ = true;
    columns_ = names;
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  const KqlContext& ctx_;
  SqlQuery out_;
  std::string rel_;
  std::vector<std::string> columns_;
  std::vector<std::string> ctes_;
  int stages_ = 0;
  bool computed_ = false;  // rel_ computes columns
  int nesting_ = 0;
  std::string source_;
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

namespace {

std::string fold(const unsigned char* s, int n) {
  std::string out(reinterpret_cast<const char*>(s), static_cast<size_t>(n));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool term_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// has: the needle occurs as a whole term (bounded by non-alphanumerics), case-insensitive.
bool has_term(const std::string& hay, const std::string& needle) {
  if (needle.empty()) return true;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) {
    bool left = at == 0 || !term_char(hay[at - 1]) || !term_char(needle.front());
    size_t end = at + needle.size();
    bool right = end == hay.size() || !term_char(hay[end]) || !term_char(needle.back());
    if (left && right) return true;
  }
  return false;
}

template <int Kind>
void string_fn(sqlite3_context* c, int, sqlite3_value** v) {
  if (sqlite3_value_type(v[0]) == SQLITE_NULL || sqlite3_value_type(v[1]) == SQLITE_NULL) {
    sqlite3_result_int(c, 0);
    return;
  }
  std::string a = fold(sqlite3_value_text(v[0]), sqlite3_value_bytes(v[0]));
  std::string b = fold(sqlite3_value_text(v[1]), sqlite3_value_bytes(v[1]));
  bool r = Kind == 0 ? has_term(a, b) : Kind == 1 ? a.find(b) != std::string::npos : a.rfind(b, 0) == 0;
  sqlite3_result_int(c, r ? 1 : 0);
}

}  // namespace

Status register_kql_functions(sqlite3* db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  if (sqlite3_create_function(db, "kql_has", 2, flags, nullptr, string_fn<0>, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_create_function(db, "kql_contains", 2, flags, nullptr, string_fn<1>, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_create_function(db, "kql_startswith", 2, flags, nullptr, string_fn<2>, nullptr, nullptr) != SQLITE_OK)
    return Status(ErrorCode::kIo, fmt::format("cannot register KQL functions: {}", sqlite3_errmsg(db)));
  return {};
}

}  // namespace byoml

// KQL subset → SQL, table-driven on a fixture store (every supported operator, and the error
// for unsupported ones); injection attempts in rule values and event strings; analytics rules
// with trigger, suppression and incident grouping at explicit times.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "byoml/rules/kql.h"
#include "byoml/rules/rule_engine.h"
#include "byoml/templates/detection_template.h"
#include "test_util.h"

namespace byoml {
namespace {

const Ticks kNow = make_ticks(2026, 11, 2, 13);
const char* const kHostile = "x'); DROP TABLE AnomalousResourceAccessResult_CL;--";

class Kql : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ResultStore::open(dir_.file("r.db"));
    ASSERT_TRUE(s) << s.status().message();
    store_ = std::make_unique<ResultStore>(std::move(s).value());
    auto row = [](std::string user, std::string res, double score, double sev, nlohmann::json reasons, std::string time,
                  int64_t count) {
      return nlohmann::json{{"TimeGenerated", time}, {"User", user}, {"Resource", res}, {"AnomalyScore", score},
                            {"Severity", sev}, {"Reasons", reasons}, {"AccessCount", count}, {"Tenant", "0"}};
    };
    std::vector<nlohmann::json> rows = {
        row("alice", "\\\\fs01\\hr", 5.0, 99, {"new_pair", "low_affinity"}, "2026-11-02T10:00:00.0000000Z", 3),
        row("bob", "\\\\fs01\\fin", 0.7, 60, {"low_affinity"}, "2026-11-02T11:00:00.0000000Z", 10),
        row("alice", "\\\\fs02\\eng", 2.5, 95, {"cross_component", "new_pair"}, "2026-11-02T12:00:00.0000000Z", 1),
        row(kHostile, "\\\\fs01\\hr", 9.0, 100, {"unseen_user"}, "2026-11-01T00:00:00.0000000Z", 2),
        row("carol", "\\\\fs03\\Public", -1.0, 5, nlohmann::json::array(), "2026-11-02T12:30:00.0000000Z", 50),
    };
    ASSERT_TRUE(store_->insert(default_template().output, rows));
  }
  std::vector<nlohmann::json> q(const std::string& kql) {
    auto r = run_kql(*store_, kql, kNow);
    EXPECT_TRUE(r) << kql << ": " << r.status().message();
    return r ? *r : std::vector<nlohmann::json>{};
  }
  test::TempDir dir_;
  std::unique_ptr<ResultStore> store_;
};

TEST_F(Kql, EverySupportedOperatorGivesTheExpectedRows) {
  const std::string T = "AnomalousResourceAccessResult_CL";
  struct Case {
    std::string kql;
    nlohmann::json rows;
  };
  const std::vector<Case> cases = {
      {T + " | where AnomalyScore > 2 | project User | order by User asc", R"([{"User":"alice"},{"User":"alice"},{"User":"x'); DROP TABLE AnomalousResourceAccessResult_CL;--"}])"_json},
      {T + " | where User == 'alice' | count", R"([{"Count":2}])"_json},
      {T + " | where User =~ \"ALICE\" | count", R"([{"Count":2}])"_json},
      {T + " | where User !~ \"ALICE\" | count", R"([{"Count":3}])"_json},
      {T + " | where User != \"alice\" and AnomalyScore >= 0.7 | project User | sort by User asc", R"([{"User":"bob"},{"User":"x'); DROP TABLE AnomalousResourceAccessResult_CL;--"}])"_json},
      {T + " | where User == \"bob\" or User == \"carol\" | count", R"([{"Count":2}])"_json},
      {T + " | where not(AnomalyScore > 0) | project User", R"([{"User":"carol"}])"_json},
      {T + " | where User in (\"bob\", \"carol\") | count", R"([{"Count":2}])"_json},
      {T + " | where User !in (\"bob\", \"carol\") | count", R"([{"Count":3}])"_json},
      {T + " | where Reasons has \"cross_component\" | project Resource", R"([{"Resource":"\\\\fs02\\eng"}])"_json},
      {T + " | where Reasons !has \"new_pair\" | count", R"([{"Count":3}])"_json},
      {T + " | where Resource contains \"FS01\" | count", R"([{"Count":3}])"_json},
      {T + " | where Resource !contains \"fs01\" | count", R"([{"Count":2}])"_json},
      {T + " | where Resource startswith @'\\\\FS02' | project User", R"([{"User":"alice"}])"_json},
      {T + " | where Resource !startswith '\\\\\\\\fs0' | count", R"([{"Count":0}])"_json},
      {T + " | where TimeGenerated > ago(2h) | count", R"([{"Count":2}])"_json},
      {T + " | where TimeGenerated < now(-1d) | count", R"([{"Count":1}])"_json},
      {T + " | where TimeGenerated >= datetime(2026-11-02) and TimeGenerated <= now() | count", R"([{"Count":4}])"_json},
      {T + " | extend Risk = AnomalyScore * 10 | where Risk > 60 | project User, Risk", R"([{"User":"x'); DROP TABLE AnomalousResourceAccessResult_CL;--","Risk":90.0}])"_json},
      {T + " | extend Label = strcat(tolower(User), \"@\", toupper(Tenant)) | where User == \"bob\" | project Label", R"([{"Label":"bob@0"}])"_json},
      {T + " | summarize n = count(), Total = sum(AccessCount), Max = max(AnomalyScore), Min = min(AnomalyScore) by User | where User == \"alice\"",
       R"([{"User":"alice","n":2,"Total":4,"Max":5.0,"Min":2.5}])"_json},
      {T + " | summarize dcount(User), avg(AccessCount)", R"([{"dcount_User":4,"avg_AccessCount":13.2}])"_json},
      {T + " | summarize count()", R"([{"count_":5}])"_json},
      {T + " | summarize arg_max(AnomalyScore, Resource) by User | where User == \"alice\"", R"([{"User":"alice","AnomalyScore":5.0,"Resource":"\\\\fs01\\hr"}])"_json},
      {T + " | summarize arg_min(AnomalyScore, *) by User | where User == \"alice\" | project Resource", R"([{"Resource":"\\\\fs02\\eng"}])"_json},
      {T + " | summarize n = count() by bin(TimeGenerated, 1d) | order by TimeGenerated asc",
       R"([{"TimeGenerated":"2026-11-01T00:00:00.0000000Z","n":1},{"TimeGenerated":"2026-11-02T00:00:00.0000000Z","n":4}])"_json},
      {T + " | top 2 by AnomalyScore | project User", R"([{"User":"x'); DROP TABLE AnomalousResourceAccessResult_CL;--"},{"User":"alice"}])"_json},
      {T + " | top 1 by AnomalyScore asc | project User", R"([{"User":"carol"}])"_json},
      {T + " | order by AccessCount desc | take 1 | project User", R"([{"User":"carol"}])"_json},
      {T + " | sort by AccessCount asc | limit 2 | project AccessCount", R"([{"AccessCount":1},{"AccessCount":2}])"_json},
      {T + " | distinct User | count", R"([{"Count":4}])"_json},
      {T + " | where AnomalyScore - 1 > 4 and AnomalyScore / 2 < 4.6 | count   // a comment", R"([{"Count":1}])"_json},
  };
  for (const auto& c : cases) EXPECT_EQ(nlohmann::json(q(c.kql)), c.rows) << c.kql;
}

TEST_F(Kql, UnsupportedOperatorsAreErrorsNamingThemAndTheirPosition) {
  const std::string T = "AnomalousResourceAccessResult_CL";
  struct Case {
    std::string kql, error;
  };
  const std::vector<Case> cases = {
      {T + " | make-series n = count() on TimeGenerated", "position 36: unsupported operator 'make-series'"},
      {T + " | join kind=fullouter (" + T + ") on User", "join kind 'fullouter' is not supported"},
      {T + " | join (X) on User", "unknown table \"X\""},
      {T + " | join (" + T + ") on Colour", "join key \"Colour\" is not a column of the left side"},
      {T + " | mv-expand User", "mv-expand needs a dynamic column; found User (string)"},
      {T + " | project-away User, TimeGenerated, Tenant, Resource, Machine, Share, AnomalyScore, Severity, Reasons, "
           "Explanation, AccessCount, FirstSeen, LastSeen, ModelVersion, RunId", "project-away would leave no columns"},
      {T + " | project-rename Resource = User", "project-rename: column \"Resource\" twice"},
      {T + " | render timechart", "unsupported operator 'render'"},
      {T + " | where User matches regex \"a\"", "unsupported operator 'matches'"},
      {"let x = 1; let y = User; " + T, "unknown column \"User\""},
      {"let x = 1 " + T, "expected ';'"},
      {T + " | where parse_json(Reasons)", "unsupported function 'parse_json'"},
      {T + " | project count()", "count() is an aggregation"},
      {T + " | summarize percentile(AnomalyScore, 95)", "unsupported aggregation 'percentile'"},
      {T + " | where Colour == 1", "unknown column \"Colour\""},
      {"Nope | take 1", "unknown table \"Nope\""},
      {T + " | where User == \"unterminated", "unterminated string"},
      {T + " | take -1", "expected a row count"},
      {T + " | where AnomalyScore > 1h", "timespan is only supported inside ago(), now() and bin()"},
      {T + " | where ago(1x)", "unknown timespan unit"},
      {T + " | where User == 'a' |", "expected an operator"},
      {T + " | summarize count() by bin(TimeGenerated, 1ms)", "bin() on datetimes needs a positive span of whole seconds"},
      {T + " | summarize count() by bin(User, 1h)", "bin() by a timespan needs a datetime; found User (string)"},
      {T + " ; DROP TABLE x", "position 36: expected '|' or the end of the query, found 'DROP'"},
      {T + " | where User == 1 | count; " + T, "cannot compare"},
  };
  for (const auto& c : cases) {
    auto r = run_kql(*store_, c.kql, kNow);
    ASSERT_FALSE(r) << c.kql;
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << c.kql << "\n  -> " << r.status().message();
    EXPECT_NE(r.status().message().find("query position"), std::string::npos);
  }
}

// The operators analysts' hunting queries use most, each on the fixture with its known answer.
TEST_F(Kql, HuntingOperatorsGiveTheExpectedRows) {
  const std::string T = "AnomalousResourceAccessResult_CL";
  const std::string kX = kHostile;
  struct Case {
    std::string kql;
    nlohmann::json rows;
  };
  const std::vector<Case> cases = {
      {T + " | project-rename Account = User | where Account == \"bob\" | project Account, Resource",
       R"([{"Account":"bob","Resource":"\\\\fs01\\fin"}])"_json},
      {T + " | project User, Resource | project-away Resource | where User == \"bob\"", R"([{"User":"bob"}])"_json},
      {"let threshold = 2.0; let who = \"alice\"; " + T + " | where AnomalyScore > threshold and User == who | count",
       R"([{"Count":2}])"_json},
      {"let High = " + T + " | where Severity >= 95;\nHigh | summarize n = count() by User | order by User asc",
       nlohmann::json::array({{{"User", "alice"}, {"n", 2}}, {{"User", kX}, {"n", 1}}})},
      {T + " | where AnomalyScore between (0.5 .. 2.5) | project User | order by User asc", R"([{"User":"alice"},{"User":"bob"}])"_json},
      {T + " | where AccessCount !between (2..10) | count", R"([{"Count":2}])"_json},
      {T + " | where TimeGenerated between (datetime(2026-11-02T10:30:00Z) .. now()) | count", R"([{"Count":3}])"_json},
      {T + " | where User in~ (\"ALICE\", \"Bob\") | count", R"([{"Count":3}])"_json},
      {T + " | where User !in~ (\"ALICE\", \"Bob\") | count", R"([{"Count":2}])"_json},
      {T + " | where Resource endswith \"HR\" | count", R"([{"Count":2}])"_json},
      {T + " | where Resource !endswith \"HR\" | count", R"([{"Count":3}])"_json},
      {T + " | where Resource endswith_cs \"HR\" or Reasons has_cs \"NEW_PAIR\" or Resource contains_cs \"FS0\" | count",
       R"([{"Count":0}])"_json},
      {T + " | where Resource startswith_cs @\"\\\\fs03\\P\" | count", R"([{"Count":1}])"_json},
      {T + " | where User == \"bob\" | project S = tostring(AccessCount), B = tostring(AccessCount > 5), R = round(AnomalyScore * 3, 1)",
       R"([{"S":"10","B":"true","R":2.1}])"_json},
      {T + " | where User == \"bob\" | project L = iff(AccessCount > 5, \"many\", \"few\"), "
           "C = case(AnomalyScore > 1, 2, AnomalyScore > 0.5, 1.5, 0), D = iif(Severity < 50, 1, 0)",
       R"([{"L":"many","C":1.5,"D":0}])"_json},
      {T + " | where User == \"bob\" | project A = todouble(\"2.5\"), B = todouble(\"abc\"), C = tolong(\"12\"), D = tolong(\"1e3\")",
       R"([{"A":2.5,"B":null,"C":12,"D":null}])"_json},
      {T + " | summarize Shares = make_set(Resource), Scores = make_list(AnomalyScore) by User | where User == \"alice\"",
       R"([{"User":"alice","Shares":"[\"\\\\\\\\fs01\\\\hr\",\"\\\\\\\\fs02\\\\eng\"]","Scores":"[5.0,2.5]"}])"_json},
      {T + " | summarize n = count() by bin(TimeGenerated, 90m) | order by TimeGenerated asc",
       R"([{"TimeGenerated":"2026-11-01T00:00:00.0000000Z","n":1},{"TimeGenerated":"2026-11-02T09:00:00.0000000Z","n":1},
           {"TimeGenerated":"2026-11-02T10:30:00.0000000Z","n":1},{"TimeGenerated":"2026-11-02T12:00:00.0000000Z","n":2}])"_json},
      {T + " | summarize n = count() by bin(AnomalyScore, 2.5) | order by AnomalyScore asc",
       R"([{"AnomalyScore":-2.5,"n":1},{"AnomalyScore":0.0,"n":1},{"AnomalyScore":2.5,"n":1},{"AnomalyScore":5.0,"n":1},{"AnomalyScore":7.5,"n":1}])"_json},
      {T + " | summarize n = count() by bin(AccessCount, 10) | order by AccessCount asc",
       R"([{"AccessCount":0,"n":3},{"AccessCount":10,"n":1},{"AccessCount":50,"n":1}])"_json},
      {T + " | extend Hour = bin(TimeGenerated, 1h) | where User == \"carol\" | project Hour", R"([{"Hour":"2026-11-02T12:00:00.0000000Z"}])"_json},
      {T + " | summarize n = count() by tolower(User) | where Column1 == \"bob\"", R"([{"Column1":"bob","n":1}])"_json},
      {T + " | sort by User asc, AnomalyScore asc | project User, AnomalyScore | take 3",
       R"([{"User":"alice","AnomalyScore":2.5},{"User":"alice","AnomalyScore":5.0},{"User":"bob","AnomalyScore":0.7}])"_json},
      {T + " | mv-expand Reason = Reasons to typeof(string) | summarize n = count() by Reason | order by n desc, Reason asc",
       R"([{"Reason":"low_affinity","n":2},{"Reason":"new_pair","n":2},{"Reason":"cross_component","n":1},{"Reason":"unseen_user","n":1}])"_json},
      {T + " | mv-expand Reasons | where Reasons == \"new_pair\" | project User, Resource | order by Resource asc",
       R"([{"User":"alice","Resource":"\\\\fs01\\hr"},{"User":"alice","Resource":"\\\\fs02\\eng"}])"_json},
      {T + " | where array_length(Reasons) == 0 | project User", R"([{"User":"carol"}])"_json},
      {T + " | where User == \"alice\" | join kind=inner (" + T + " | where Severity < 99 | project User, Low = Resource) on User | count",
       R"([{"Count":2}])"_json},
      {T + " | where User == \"alice\" | join (" + T + " | project User, Low = Resource) on User | count", R"([{"Count":2}])"_json},
      {T + " | join kind=leftouter (" + T + " | where AnomalyScore > 4 | project User, Top = Resource) on User | where isempty(Top) "
           "| project User | order by User asc", R"([{"User":"bob"},{"User":"carol"}])"_json},
      {T + " | join kind=leftanti (" + T + " | where Severity >= 99) on User | project User | order by User asc",
       R"([{"User":"bob"},{"User":"carol"}])"_json},
      {T + " | join kind=leftsemi (" + T + " | where Severity >= 99) on User | count", R"([{"Count":3}])"_json},
      {T + " | project Who = User, Resource | join kind=inner (" + T + " | project User, Severity) on $left.Who == $right.User "
           "| where Who == \"bob\" | project Who, User, Severity", R"([{"Who":"bob","User":"bob","Severity":60.0}])"_json},
      {T + " | where User == \"bob\" | join kind=inner " + T + " on User | project User, User1, Resource1",
       R"([{"User":"bob","User1":"bob","Resource1":"\\\\fs01\\fin"}])"_json},
  };
  for (const auto& c : cases) EXPECT_EQ(nlohmann::json(q(c.kql)), c.rows) << c.kql;
}

// Every Windows account name holds a backslash: an escape KQL does not know is an error (it
// used to vanish, and `contoso\lucas.ito` matched nothing), and verbatim strings work.
TEST_F(Kql, BackslashesAreEscapesOrErrorsNeverDropped) {
  const std::string T = "AnomalousResourceAccessResult_CL";
  nlohmann::json row = {{"TimeGenerated", "2026-11-02T12:45:00.0000000Z"}, {"User", "contoso\\lucas.ito"}, {"AnomalyScore", 1.0}};
  ASSERT_TRUE(store_->insert(default_template().output, {row}));
  for (const char* kql : {R"(| where User == "contoso\\lucas.ito")", R"(| where User == @"contoso\lucas.ito")",
                          R"(| where User == @'contoso\lucas.ito')", R"(| where User =~ 'CONTOSO\\Lucas.Ito')",
                          R"(| where User has @"lucas.ito")"}) {
    auto rows = q(T + " " + kql + " | count");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0]["Count"], 1) << kql;
  }
  auto bad = run_kql(*store_, T + R"( | where User == "contoso\lucas.ito")", kNow);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("query position 58: invalid escape '\\l'"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("verbatim"), std::string::npos) << bad.status().message();
  auto quotes = q(T + R"( | where User == "bob" | project A = @"say ""hi""", B = 'it\'s', C = "tab\there", D = @'C:\x''s')");
  EXPECT_EQ(nlohmann::json(quotes), R"([{"A":"say \"hi\"","B":"it's","C":"tab\there","D":"C:\\x's"}])"_json);
  for (const char* unterminated : {R"(| where User == "a\")", R"(| where User == @"a"")", "| where User == \"a\nb\""}) {
    auto r = run_kql(*store_, T + " " + unterminated, kNow);
    EXPECT_FALSE(r) << unterminated;
  }
}

// A comparison KQL would refuse is a type error naming both sides, never an empty answer.
TEST_F(Kql, TypeMismatchesAreErrors) {
  const std::string T = "AnomalousResourceAccessResult_CL";
  struct Case {
    std::string kql, error;
  };
  const std::vector<Case> cases = {
      {" | where AnomalyScore > \"x\"", "position 55: cannot compare AnomalyScore (real) with string: convert one side"},
      {" | where \"10\" == AccessCount", "cannot compare string with AccessCount (long)"},
      {" | where User > 3", "cannot compare User (string) with long"},
      {" | where TimeGenerated > \"2026-11-01\"", "cannot compare TimeGenerated (datetime) with string"},
      {" | where User in (\"a\", 1)", "cannot compare User (string) with long"},
      {" | where AnomalyScore between (\"a\" .. \"b\")", "cannot compare AnomalyScore (real) with string"},
      {" | extend X = User + 1", "'+' adds numbers; found User (string) + long (join strings with strcat())"},
      {" | extend X = AccessCount * \"2\"", "'*' needs a number; found string"},
      {" | summarize sum(User)", "sum() needs a number; found User (string)"},
      {" | where User", "where needs a true/false condition; found User (string)"},
      {" | where Severity > 50 and User", "and needs a true/false condition; found User (string)"},
      {" | where AnomalyScore has \"5\"", "'has' needs a string; found AnomalyScore (real) (convert it with tostring())"},
      {" | where AccessCount =~ \"5\"", "=~ needs a string; found AccessCount (long)"},
      {" | summarize max(Reasons)", "max() needs values that order; found Reasons (dynamic)"},
      {" | project R = round(User)", "round() needs a number"},
      {" | join kind=inner (" + T + ") on $left.User == $right.AccessCount", "cannot compare User (string) with AccessCount (long)"},
      {" | extend X = iff(User, 1, 2)", "iff() needs a true/false condition; found User (string)"},
      {" | extend X = iff(AccessCount > 1, 1, \"a\")", "iff()'s values differ in type: long and string"},
      {" | extend X = case(AccessCount > 1, 1, AccessCount > 2, 2)", "case() takes condition, value pairs and an else value"},
      {" | extend X = iff(AccessCount > 1, 1)", "iff() takes a condition, a value if true and a value if false"},
  };
  for (const auto& c : cases) {
    auto r = run_kql(*store_, T + c.kql, kNow);
    ASSERT_FALSE(r) << c.kql;
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << c.kql << "\n  -> " << r.status().message();
  }
}

// Result tables declare their Log Analytics types; a table from an older store (plain TEXT,
// REAL) still answers, with TEXT taken as string or datetime and numbers still checked.
TEST_F(Kql, ColumnTypesComeFromTheDeclarationsOldStoresIncluded) {
  std::map<std::string, std::string> declared;
  for (const auto& [name, type] : store_->declared_columns("AnomalousResourceAccessResult_CL")) declared[name] = type;
  EXPECT_EQ(declared["TimeGenerated"], "datetime TEXT");
  EXPECT_EQ(declared["Reasons"], "dynamic TEXT");
  EXPECT_EQ(declared["AccessCount"], "long INTEGER");
  EXPECT_EQ(declared["AnomalyScore"], "real REAL");
  ASSERT_EQ(sqlite3_exec(store_->db(), "CREATE TABLE Legacy_CL (TimeGenerated TEXT, Score REAL, User TEXT, Tags TEXT);"
                                       "INSERT INTO Legacy_CL VALUES ('2026-11-02T12:00:00.0000000Z', 2.5, 'alice', '[\"a\",\"b\"]');"
                                       "INSERT INTO Legacy_CL VALUES ('2026-10-01T12:00:00.0000000Z', 3.5, 'bob', 'plain');",
                         nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(nlohmann::json(q("Legacy_CL | where TimeGenerated > ago(1d) and Score > 1 and User == 'alice' | count")), R"([{"Count":1}])"_json);
  EXPECT_EQ(nlohmann::json(q("Legacy_CL | mv-expand Tags | project Tags")), R"([{"Tags":"a"},{"Tags":"b"},{"Tags":"plain"}])"_json);
  auto r = run_kql(*store_, "Legacy_CL | where Score > 'x'", kNow);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("cannot compare Score (real) with string"), std::string::npos) << r.status().message();
}

// byoml's own tables join its results: the runs that wrote them, the incidents they raised.
TEST_F(Kql, ResultsJoinByomlsOwnTables) {
  ASSERT_TRUE(store_->record_run({{"RunId", "score-1"}, {"Kind", "score"}, {"Started", "2026-11-02T12:50:00.0000000Z"}}));
  nlohmann::json row = {{"TimeGenerated", "2026-11-02T12:50:00.0000000Z"}, {"User", "dave"}, {"AnomalyScore", 3.0}, {"RunId", "score-1"}};
  ASSERT_TRUE(store_->insert(default_template().output, {row}));
  auto rows = q("AnomalousResourceAccessResult_CL | where isnotempty(RunId) | join kind=inner (byoml_runs | project RunId, Kind, Started) "
                "on RunId | project User, Kind, Started");
  EXPECT_EQ(nlohmann::json(rows), R"([{"User":"dave","Kind":"score","Started":"2026-11-02T12:50:00.0000000Z"}])"_json);
}

TEST_F(Kql, InjectionAttemptsChangeNothing) {
  const std::string T = "AnomalousResourceAccessResult_CL";
  for (const char* value : {"x'); DROP TABLE AnomalousResourceAccessResult_CL;--", "a\" OR 1=1 --", "' OR '1'='1",
                            "/* */ 1; DELETE FROM byoml_incidents", "\xE2\x80\xAE" "alice", "alice\\' --"}) {
    std::string lit = nlohmann::json(std::string(value)).dump();  // a KQL string literal with escapes
    auto rows = q(T + " | where User == " + lit + " | count");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0]["Count"], std::string(value) == kHostile ? 1 : 0) << value;
    auto sql = translate_kql(T + " | where User == " + lit, {kNow, {{T, {{"User", KqlType::kString}}}}, 0});
    ASSERT_TRUE(sql);
    EXPECT_EQ(sql->sql.find(value), std::string::npos) << "a value reached the SQL text";
  }
  EXPECT_EQ(*store_->count(T), 5u) << "the table is intact";
}

class Rules : public Kql {
 protected:
  AnalyticsRule rule(const std::string& extra) {
    auto r = parse_rule(R"(id: 7d6a2c1e-0000-4000-8000-000000000001
name: High anomaly score
severity: High
queryFrequency: 1h
queryPeriod: 1d
triggerOperator: gt
triggerThreshold: 0
tactics: [Collection]
query: |
  AnomalousResourceAccessResult_CL
  | where AnomalyScore > 2
  | project User, Resource, AnomalyScore
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: User
)" + extra, "rule.yaml");
    EXPECT_TRUE(r) << r.status().message();
    return *r;
  }
  int64_t incidents() { return static_cast<int64_t>(list_incidents(*store_, "")->size()); }
  std::vector<RuleOutcome> run_at(const std::vector<AnalyticsRule>& rules, Ticks now, bool force = false) {
    auto o = run_rules(*store_, rules, now, force);
    EXPECT_TRUE(o) << o.status().message();
    return o ? *o : std::vector<RuleOutcome>{};
  }
};

TEST_F(Rules, AlertsGroupIntoIncidentsByEntityWithinTheLookback) {
  AnalyticsRule r = rule(R"(eventGroupingSettings:
  aggregationKind: AlertPerResult
incidentConfiguration:
  createIncident: true
  groupingConfiguration:
    enabled: true
    reopenClosedIncident: false
    lookbackDuration: 2h
    matchingMethod: AllEntities
)");
  // 13:00, period 1d: alice's two rows (the hostile row is older than a day): one incident.
  auto o = run_at({r}, kNow);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_TRUE(o[0].error.empty()) << o[0].error;
  EXPECT_EQ(o[0].rows, 2);
  EXPECT_EQ(o[0].alerts, 2);
  EXPECT_EQ(o[0].incidents_created.size(), 1u);
  EXPECT_EQ(incidents(), 1);
  auto inc = get_incident(*store_, o[0].incidents_created[0]);
  ASSERT_TRUE(inc);
  EXPECT_EQ((*inc)["AlertCount"], 2);
  EXPECT_EQ((*inc)["Severity"], "High");
  EXPECT_EQ((*inc)["Entities"][0]["value"], "alice");
  EXPECT_EQ((*inc)["Alerts"].size(), 2u);
  // 14:00: within 2 h of the last alert, so the same incident.
  run_at({r}, kNow + kTicksPerHour);
  EXPECT_EQ(incidents(), 1);
  EXPECT_EQ((*get_incident(*store_, 1))["AlertCount"], 4);
  // 17:00: the lookback has passed; a new incident.
  run_at({r}, kNow + 4 * kTicksPerHour);
  EXPECT_EQ(incidents(), 2);
  // Closed incidents are not reopened unless the rule says so.
  ASSERT_TRUE(close_incident(*store_, 2, "TruePositive", "checked", kNow + 4 * kTicksPerHour));
  EXPECT_FALSE(close_incident(*store_, 2, "Maybe", "", kNow));
  EXPECT_FALSE(close_incident(*store_, 99, "TruePositive", "", kNow));
  run_at({r}, kNow + 5 * kTicksPerHour);
  EXPECT_EQ(incidents(), 3);
  EXPECT_EQ(list_incidents(*store_, "Closed")->size(), 1u);
  r.reopen_closed_incident = true;
  ASSERT_TRUE(close_incident(*store_, 3, "BenignPositive", "", kNow + 5 * kTicksPerHour));
  run_at({r}, kNow + 6 * kTicksPerHour);
  EXPECT_EQ(incidents(), 3) << "reopened, not created";
  EXPECT_EQ((*get_incident(*store_, 3))["Status"], "Active");
}

TEST_F(Rules, SuppressionAndTriggerThreshold) {
  AnalyticsRule r = rule("suppressionEnabled: true\nsuppressionDuration: 1h\n");
  auto at = [&](Ticks t) { return run_at({r}, t, /*force=*/true)[0]; };
  auto first = at(kNow);
  EXPECT_TRUE(first.triggered);
  EXPECT_EQ(first.alerts, 1) << "SingleAlert: one alert for all rows";
  auto again = at(kNow + 30 * kTicksPerMinute);
  EXPECT_TRUE(again.suppressed);
  EXPECT_EQ(again.alerts, 0);
  auto later = at(kNow + 90 * kTicksPerMinute);
  EXPECT_FALSE(later.suppressed);
  EXPECT_EQ(later.alerts, 1);
  EXPECT_EQ(incidents(), 2) << "no grouping: an incident per alert";
  EXPECT_TRUE(run_at({r}, kNow + 100 * kTicksPerMinute)[0].not_due) << "ran 10 minutes ago; queryFrequency 1h";
  EXPECT_FALSE(run_at({r}, kNow + 150 * kTicksPerMinute)[0].not_due);
  AnalyticsRule high = rule("");
  high.trigger_threshold = 5;
  EXPECT_FALSE(run_at({high}, kNow, true)[0].triggered);
  AnalyticsRule bad = rule("");
  bad.query = "AnomalousResourceAccessResult_CL | make-series x";
  auto o = run_at({bad, high}, kNow, true);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_NE(o[0].error.find("unsupported operator 'make-series'"), std::string::npos);
  EXPECT_TRUE(o[1].error.empty()) << "a failing rule does not stop the others";
}

// alertDetailsOverride: each alert's severity comes from its row, an incident takes the worst of
// its alerts, and the incident's title is the first alert's display name.
TEST_F(Rules, SeverityAndNameComeFromTheRowsAndAnIncidentRisesToItsWorstAlert) {
  AnalyticsRule r = rule(R"yaml(alertDetailsOverride:
  alertDisplayNameFormat: "{{User}} opened {{Resource}} ({{Nope}})"
  alertSeverityColumnName: Sev
eventGroupingSettings:
  aggregationKind: AlertPerResult
incidentConfiguration:
  groupingConfiguration:
    enabled: true
    lookbackDuration: 2h
)yaml");
  r.query = "AnomalousResourceAccessResult_CL | where AnomalyScore > 2 | order by AnomalyScore asc "
            "| project User, Resource, Sev = case(AnomalyScore > 4, \"High\", User == \"alice\", \"Low\", \"Severe\")";
  auto o = run_at({r}, kNow);
  ASSERT_EQ(o.size(), 1u);
  ASSERT_TRUE(o[0].error.empty()) << o[0].error;
  ASSERT_EQ(o[0].alerts, 2);
  ASSERT_EQ(o[0].incidents_created.size(), 1u);
  auto inc = get_incident(*store_, o[0].incidents_created[0]);
  ASSERT_TRUE(inc);
  EXPECT_EQ((*inc)["Title"], "alice opened \\\\fs02\\eng ({{Nope}})") << "the first alert's row; unknown columns stay";
  EXPECT_EQ((*inc)["Alerts"][0]["Severity"], "Low");
  EXPECT_EQ((*inc)["Alerts"][1]["Severity"], "High");
  EXPECT_EQ((*inc)["Severity"], "High") << "raised by its second alert";

  // A value that is no severity leaves the rule's own, and a milder alert does not lower the
  // incident; a column the query lacks is an error.
  r.severity = "Medium";
  r.query = "AnomalousResourceAccessResult_CL | where AnomalyScore > 4 | project User, Resource, Sev = \"Severe\"";
  o = run_at({r}, kNow + kTicksPerHour, true);
  ASSERT_EQ(o[0].alerts, 1);
  ASSERT_EQ(o[0].incidents_updated.size(), 1u);
  inc = get_incident(*store_, o[0].incidents_updated[0]);
  EXPECT_EQ((*inc)["Alerts"][2]["Severity"], "Medium");
  EXPECT_EQ((*inc)["Severity"], "High");
  r.query = "AnomalousResourceAccessResult_CL | project User";
  o = run_at({r}, kNow, true);
  EXPECT_NE(o[0].error.find("alertSeverityColumnName: column \"Sev\" is not in the query's result"), std::string::npos)
      << o[0].error;
  EXPECT_EQ(o[0].alerts, 0);
}

TEST(ResultStore, MigratesAVersionOneStoreForward) {
  test::TempDir dir;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir.file("old.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE \"AnomalousResourceAccessResult_CL\" (\"User\" TEXT); "
                               "INSERT INTO \"AnomalousResourceAccessResult_CL\" VALUES ('alice'); PRAGMA user_version=1;",
                           nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = ResultStore::open(dir.file("old.db"));
  ASSERT_TRUE(s) << s.status().message();
  EXPECT_EQ(s->schema_version(), kStoreSchemaVersion);
  EXPECT_EQ(*s->count("AnomalousResourceAccessResult_CL"), 1u) << "results survive the migration";
  EXPECT_FALSE(s->columns("byoml_runs").empty());
  EXPECT_TRUE(s->columns("byoml_incidents").empty()) << "the rules section is the rules layer's own";
  ASSERT_TRUE(ensure_rules_schema(*s));
  EXPECT_FALSE(s->columns("byoml_incidents").empty());
  EXPECT_TRUE(s->record_run({{"RunId", "r1"}, {"Kind", "score"}}));
}

// A version-2 store (results and rules tables in one schema) is adopted by the split sections
// without losing an incident, and a rules section from a newer byoml is refused.
TEST(ResultStore, RulesSectionAdoptsAVersionTwoStoreAndRefusesANewerOne) {
  test::TempDir dir;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir.file("v2.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE byoml_runs (RunId TEXT PRIMARY KEY, Kind TEXT NOT NULL, Started TEXT, Finished TEXT, "
                               "DurationSeconds REAL, ModelVersion INTEGER, Status TEXT, Inputs TEXT, FilesRead INTEGER, "
                               "Records INTEGER, Events INTEGER, Rejected INTEGER, Users INTEGER, Resources INTEGER, "
                               "UnseenUsers INTEGER, UnseenResources INTEGER, Results INTEGER, Errors TEXT, Details TEXT);"
                               "CREATE TABLE byoml_incidents (IncidentId INTEGER PRIMARY KEY AUTOINCREMENT, Title TEXT, "
                               "RuleId TEXT, RuleName TEXT, Severity TEXT, Status TEXT, Created TEXT, Updated TEXT, "
                               "FirstAlert TEXT, LastAlert TEXT, AlertCount INTEGER, Entities TEXT, Tactics TEXT, "
                               "GroupKey TEXT, Classification TEXT, Comment TEXT, Closed TEXT);"
                               "INSERT INTO byoml_incidents (Title, Status) VALUES ('kept', 'New');"
                               "CREATE TABLE byoml_alerts (AlertId INTEGER PRIMARY KEY AUTOINCREMENT, RuleId TEXT, RuleName TEXT, "
                               "TimeGenerated TEXT, Severity TEXT, Entities TEXT, Rows TEXT, IncidentId INTEGER);"
                               "CREATE TABLE byoml_rule_runs (RuleId TEXT, RunTime TEXT, Rows INTEGER, Triggered INTEGER, "
                               "Suppressed INTEGER, Alerts INTEGER, Error TEXT); PRAGMA user_version=2;",
                           nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = ResultStore::open(dir.file("v2.db"));
  ASSERT_TRUE(s) << s.status().message();
  auto incidents = list_incidents(*s, "");
  ASSERT_TRUE(incidents) << incidents.status().message();
  ASSERT_EQ(incidents->size(), 1u);
  EXPECT_EQ((*incidents)[0]["Title"], "kept");
  ASSERT_EQ(sqlite3_exec(s->db(), "UPDATE byoml_schema SET Version = 99 WHERE Section = 'rules'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto newer = list_incidents(*s, "");
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.status().message().find("newer byoml"), std::string::npos) << newer.status().message();
}

TEST(RuleFiles, ParseErrorsNameTheFileAndLine) {
  for (const char* bad : {"name: x\nquery: T\n", "id: 1\nname: x\nquery: T\nseverity: Urgent\n",
                          "id: 1\nname: x\nquery: T\nqueryPeriod: soon\n", "id: 1\nname: x\nquery: T\ntriggerOperator: gte\n",
                          "id: 1\nname: x\nquery: T\nentityMappings:\n  - entityType: Account\n",
                          "id: 1\nname: x\nquery: T\nincidentConfiguration:\n  groupingConfiguration:\n    matchingMethod: Some\n"}) {
    auto r = parse_rule(bad, "bad.yaml");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.status().message().rfind("bad.yaml: ", 0), 0u) << r.status().message();
  }
  auto iso = parse_rule("id: 1\nname: x\nquery: T\nqueryFrequency: PT5H\nqueryPeriod: P1D\n", "iso.yaml");
  ASSERT_TRUE(iso) << iso.status().message();
  EXPECT_EQ(iso->query_frequency, 5 * kTicksPerHour);
  EXPECT_EQ(iso->query_period, kTicksPerDay);
}

TEST(RuleFiles, TheShippedRuleParsesAndTranslates) {
  auto rules = load_rules(std::string(BYOML_SOURCE_DIR) + "/rules");
  ASSERT_TRUE(rules) << rules.status().message();
  ASSERT_FALSE(rules->empty());
  KqlContext ctx{kNow, {{"AnomalousResourceAccessResult_CL", {}}}, 0};
  for (const auto& c : default_template().output.columns) ctx.tables.begin()->second.push_back({c.name, kql_type_of(c.type)});
  for (const auto& r : *rules) {
    auto sql = translate_kql(r.query, ctx);
    EXPECT_TRUE(sql) << r.source << ": " << sql.status().message();
  }
}

}  // namespace
}  // namespace byoml

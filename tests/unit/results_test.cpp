// Evaluation metrics on hand-checked cases, and the results store: bound parameters only, so
// hostile names round-trip unchanged; a store from a newer byoml is refused.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fmt/format.h>

#include <optional>

#include "byoml/results/alert_state.h"
#include "byoml/results/evaluation.h"
#include "byoml/results/result_store.h"
#include "byoml/results/sqlite_db.h"
#include "test_util.h"

namespace byoml {
namespace {

TEST(Metrics, RocAucAveragePrecisionPrecisionAtK) {
  std::vector<Ranked> perfect = {{0.9, true}, {0.8, true}, {0.1, false}, {0.0, false}};
  EXPECT_DOUBLE_EQ(roc_auc(perfect), 1.0);
  EXPECT_DOUBLE_EQ(average_precision(perfect), 1.0);
  std::vector<Ranked> mixed = {{0.9, true}, {0.8, false}, {0.7, true}, {0.1, false}};
  EXPECT_DOUBLE_EQ(roc_auc(mixed), 0.75);  // 3 of 4 positive-negative pairs ordered right
  EXPECT_DOUBLE_EQ(average_precision(mixed), (1.0 + 2.0 / 3) / 2);
  EXPECT_DOUBLE_EQ(precision_at(mixed, 2), 0.5);
  std::vector<Ranked> tied = {{1, true}, {1, false}, {1, false}, {1, false}};
  EXPECT_DOUBLE_EQ(roc_auc(tied), 0.5);
  EXPECT_DOUBLE_EQ(average_precision(tied), 0.25);
  EXPECT_DOUBLE_EQ(precision_at(tied, 2), 0.25) << "a tie group counts in proportion";
  EXPECT_DOUBLE_EQ(roc_auc({{1, true}}), 0.5) << "one class only";
}

TEST(ResultStore, HostileStringsAreBoundNeverSpliced) {
  test::TempDir dir;
  auto store = ResultStore::open(dir.file("r.db"));
  ASSERT_TRUE(store) << store.status().message();
  OutputSchema schema{"Results_CL",
                      {{"TimeGenerated", ColumnType::kDatetime, ""},
                       {"User", ColumnType::kString, ""},
                       {"AnomalyScore", ColumnType::kReal, ""},
                       {"Reasons", ColumnType::kDynamic, ""},
                       {"AccessCount", ColumnType::kLong, ""}}};
  std::vector<std::string> hostile = {"x'); DROP TABLE Results_CL; --", "a\"b", "/* c */", "\xE2\x80\xAE" "evil\xC2\xA0",
                                      std::string("nul\0byte", 8), "' OR '1'='1"};
  std::vector<nlohmann::json> rows;
  for (const auto& h : hostile)
    rows.push_back({{"TimeGenerated", "2026-11-02T00:00:00.0000000Z"}, {"User", h}, {"AnomalyScore", 1.5},
                    {"Reasons", {"new_pair"}}, {"AccessCount", 3}});
  ASSERT_TRUE(store->insert(schema, rows));
  EXPECT_EQ(*store->count("Results_CL"), hostile.size());
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(store->db(), "SELECT User, Reasons, typeof(AnomalyScore) FROM Results_CL ORDER BY rowid",
                               -1, &st, nullptr), SQLITE_OK);
  for (const auto& h : hostile) {
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    std::string got(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), static_cast<size_t>(sqlite3_column_bytes(st, 0)));
    EXPECT_EQ(got, h);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)), "[\"new_pair\"]");
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 2)), "real");
  }
  sqlite3_finalize(st);
  // Identifiers come only from validated declarations.
  OutputSchema bad = schema;
  bad.table = "Results; DROP TABLE x";
  EXPECT_FALSE(store->insert(bad, rows));
  bad = schema;
  bad.columns[1].name = "Nope";
  EXPECT_FALSE(store->insert(bad, rows));
}

TEST(ResultStore, RefusesAStoreFromANewerByoml) {
  test::TempDir dir;
  {
    auto s = ResultStore::open(dir.file("r.db"));
    ASSERT_TRUE(s);
    ASSERT_EQ(sqlite3_exec(s->db(), "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  auto again = ResultStore::open(dir.file("r.db"));
  ASSERT_FALSE(again);
  EXPECT_NE(again.status().message().find("newer byoml"), std::string::npos);
  std::ofstream(dir.file("junk.db")) << "this is not a database, just text that is long enough to look like a header";
  EXPECT_FALSE(ResultStore::open(dir.file("junk.db")));
}

}  // namespace
}  // namespace byoml

namespace byoml {
namespace {

TEST(Evaluation, BadLinesAreCountedAndGoodOnesKept) {
  test::TempDir dir;
  std::string labels = dir.write("labels.csv",
                                 "EventOriginId,TimeGenerated,Account,Computer,ShareName,Label,Kind,Incident\n"
                                 "A1,2026-11-02T00:00:00Z,u,c,s,anomaly,share_sweep,1\n"
                                 "b2,2026-11-02T00:00:00Z,u,c,s,normal,,\n"
                                 "c3,2026-11-02T00:00:00Z,u,c,s,novelty,new_hire,\n");
  std::string scores = dir.write(
      "scores.jsonl",
      "{\"EventOriginId\":\"a1\",\"TimeGenerated\":\"2026-11-02T01:00:00Z\",\"User\":\"u\",\"Resource\":\"r\",\"AnomalyScore\":3.0,\"SeenInTraining\":false}\n"
      "not json at all\n"
      "{\"EventOriginId\":\"b2\",\"TimeGenerated\":\"2026-11-02T01:00:00Z\",\"AnomalyScore\":\"high\",\"SeenInTraining\":true}\n"
      "{\"EventOriginId\":\"b2\",\"TimeGenerated\":\"yesterday\",\"AnomalyScore\":1,\"SeenInTraining\":true}\n"
      "{\"EventOriginId\":\"b2\",\"TimeGenerated\":\"2026-11-02T02:00:00Z\",\"User\":\"v\",\"Resource\":\"r\",\"AnomalyScore\":-1.0,\"SeenInTraining\":true}\n"
      "{\"EventOriginId\":\"c3\",\"TimeGenerated\":\"2026-11-02T02:00:00Z\",\"User\":\"w\",\"Resource\":\"r\",\"AnomalyScore\":0.2,\"SeenInTraining\":false}\n"
      "{\"EventOriginId\":\"zz\",\"TimeGenerated\":\"2026-11-02T02:00:00Z\",\"AnomalyScore\":0.2,\"SeenInTraining\":false}\n"
      "{\"EventOriginId\":\"a1\",\"TimeGenerated\":\"2026-11-02T01:00:00Z\",\"AnomalyScore\":3.0,\"Seen");  // truncated
  auto r = evaluate_files(scores, labels, 0.5);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->bad_lines, 4u);
  EXPECT_EQ(r->problems.size(), 4u);
  EXPECT_NE(r->problems[0].find("scores.jsonl:2"), std::string::npos) << r->problems[0];
  EXPECT_EQ(r->labelled_events, 3u) << "ids match case-insensitively";
  EXPECT_EQ(r->unlabelled_scores, 1u);
  EXPECT_EQ(r->unscored_labels, 0u);
  EXPECT_DOUBLE_EQ(r->all.model.roc_auc, 1.0);
  EXPECT_DOUBLE_EQ(r->all.model.recall, 1.0);
  EXPECT_EQ(r->all.model.by_kind.at("new_hire").flagged, 0u);
  EXPECT_EQ(r->all.first_seen.by_kind.at("new_hire").flagged, 1u) << "first-seen flags every new pair";
  EXPECT_EQ(r->new_pairs.events, 2u);
  EXPECT_FALSE(evaluate_files(scores, dir.write("bad.csv", "a,b\n1,2\n"), 0.5)) << "labels without the needed columns";
  EXPECT_FALSE(evaluate_files(dir.write("empty.jsonl", ""), labels, 0.5)) << "nothing to evaluate";
  EXPECT_FALSE(evaluate_files(dir.file("missing.jsonl"), labels, 0.5));
  auto fixed = evaluate_files(scores, labels, -5.0);
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->all.model.by_kind.at("-").flagged, 0u) << "a pair known to the model is never flagged, whatever its score";
  EXPECT_EQ(fixed->all.model.by_kind.at("new_hire").flagged, 1u);

  // By default the scoring run's own verdict counts (Alert), not a threshold chosen here.
  std::string alerts = dir.write(
      "alerts.jsonl",
      "{\"EventOriginId\":\"a1\",\"TimeGenerated\":\"2026-11-02T01:00:00Z\",\"AnomalyScore\":3.0,\"SeenInTraining\":false,\"Alert\":false}\n"
      "{\"EventOriginId\":\"c3\",\"TimeGenerated\":\"2026-11-02T02:00:00Z\",\"AnomalyScore\":0.2,\"SeenInTraining\":false,\"Alert\":true}\n"
      "{\"EventOriginId\":\"b2\",\"TimeGenerated\":\"2026-11-02T02:00:00Z\",\"AnomalyScore\":9.0,\"SeenInTraining\":true}\n");
  auto verdicts = evaluate_files(alerts, labels, std::nullopt);
  ASSERT_TRUE(verdicts) << verdicts.status().message();
  EXPECT_EQ(verdicts->bad_lines, 1u);
  EXPECT_NE(verdicts->problems[0].find("needs Alert"), std::string::npos) << verdicts->problems[0];
  EXPECT_EQ(verdicts->all.model.recall, 0.0) << "the run did not alert on the anomaly";
  EXPECT_EQ(verdicts->all.model.by_kind.at("new_hire").flagged, 1u);
}

// Incidents against labelled accounts: which name one, how many accounts are named, how long
// after the first anomalous event; and the same from per-event scores, an account-day each.
TEST(Evaluation, IncidentsNameLabelledAccountsSoonAfterTheirFirstAnomaly) {
  const Ticks t0 = make_ticks(2026, 11, 2, 10, 20);
  std::map<std::string, Ticks> labelled = {{"contoso\\eve", t0}, {"contoso\\mal", t0 + kTicksPerDay}};
  std::vector<IncidentRecord> incidents = {{{"contoso\\eve"}, t0 + 40 * kTicksPerMinute},
                                           {{"contoso\\eve"}, t0 + 3 * kTicksPerHour},  // grouped apart: later
                                           {{"contoso\\bob", "contoso\\carl"}, t0},
                                           {{}, t0}};
  IncidentFigures f = incident_figures(incidents, labelled, 100, 2);
  EXPECT_EQ(f.incidents, 4u);
  EXPECT_EQ(f.naming_labelled, 2u);
  EXPECT_EQ(f.labelled_accounts, 2u);
  EXPECT_EQ(f.accounts_named, 1u) << "mal is never named";
  ASSERT_EQ(f.minutes_to_incident.size(), 1u);
  EXPECT_DOUBLE_EQ(f.minutes_to_incident[0], 40.0) << "eve's first incident";
  EXPECT_DOUBLE_EQ(f.false_per_1000_users_per_day, 2 * 1000.0 / 100 / 2);
  EXPECT_EQ(median_and_max({30, 10, 20, 90}), std::make_pair(25.0, 90.0));

  test::TempDir dir;
  std::string labels = dir.write("labels.csv",
                                 "EventOriginId,TimeGenerated,Account,Computer,ShareName,Label,Kind,Incident\n"
                                 "a1,t,u,c,s,anomaly,share_sweep,1\na2,t,u,c,s,anomaly,share_sweep,1\n"
                                 "b1,t,u,c,s,normal,,\nb2,t,u,c,s,normal,,\n");
  auto line = [](const char* id, const char* time, const char* user, const char* resource, bool alert) {
    return fmt::format(R"({{"EventOriginId":"{}","TimeGenerated":"{}","User":"{}","Resource":"{}","AnomalyScore":1,)"
                       R"("SeenInTraining":false,"Alert":{}}})" "\n", id, time, user, resource, alert);
  };
  std::string scores = dir.write("scores.jsonl", line("a1", "2026-11-02T10:20:00Z", "eve", "r1", false) +
                                                     line("a2", "2026-11-02T11:05:00Z", "eve", "r2", true) +
                                                     line("b1", "2026-11-02T11:30:00Z", "bob", "r1", true) +
                                                     line("b2", "2026-11-03T09:00:00Z", "bob", "r1", true));
  auto r = evaluate_files(scores, labels, std::nullopt);
  ASSERT_TRUE(r) << r.status().message();
  ASSERT_EQ(r->labelled_accounts.size(), 1u);
  const IncidentFigures& m = r->all.model.incidents;
  EXPECT_EQ(m.incidents, 3u) << "eve on the 2nd, bob on the 2nd and the 3rd";
  EXPECT_EQ(m.naming_labelled, 1u);
  EXPECT_EQ(m.accounts_named, 1u);
  ASSERT_EQ(m.minutes_to_incident.size(), 1u);
  EXPECT_DOUBLE_EQ(m.minutes_to_incident[0], 100.0) << "10:20 to the end of the hour of 11:05";
  EXPECT_EQ(r->all.first_seen.incidents.incidents, 3u);
  EXPECT_DOUBLE_EQ(r->all.first_seen.incidents.minutes_to_incident[0], 40.0) << "first-seen flags 10:20 already";
  EXPECT_DOUBLE_EQ(r->all.model.false_alerts_per_1000_users_per_day, 2 * 1000.0 / 2 / 2) << "bob's r1 on two days";
}

// A pair scored every hour reaches the analyst once; again only with something new.
// A store and a results schema keyed by pair, scored hour by hour from t0.
class AlertState : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = ResultStore::open(dir_.file("r.db"));
    ASSERT_TRUE(opened) << opened.status().message();
    store.emplace(std::move(opened).value());
  }
  static nlohmann::json row(const std::string& user, double severity, std::vector<std::string> reasons,
                            const std::string& resource = "\\\\fs01\\hr") {
    return nlohmann::json{{"Tenant", "t"}, {"User", user}, {"Resource", resource}, {"Severity", severity}, {"Reasons", reasons}};
  }
  // One scoring run at hour h: its plan, applied as the session applies it.
  AlertPlan hour(int h, std::vector<nlohmann::json> rows) {
    auto plan = plan_alerts(*store, schema, "run-" + std::to_string(h), t0 + h * kTicksPerHour, std::move(rows));
    EXPECT_TRUE(plan) << plan.status().message();
    auto txn = store->begin_write();
    EXPECT_TRUE(txn);
    EXPECT_TRUE(apply_alert_plan(*store, *plan));
    EXPECT_TRUE(txn->commit());
    return *plan;
  }
  test::TempDir dir_;
  std::optional<ResultStore> store;
  const OutputSchema schema{"Results_CL", {{"Tenant", ColumnType::kString, ""}, {"User", ColumnType::kString, ""},
                                           {"Resource", ColumnType::kString, ""}, {"Severity", ColumnType::kReal, ""},
                                           {"Reasons", ColumnType::kDynamic, ""}, {"RunId", ColumnType::kString, ""}}};
  const Ticks t0 = make_ticks(2026, 11, 2);
};

TEST_F(AlertState, APairScoredHourlyIsReportedOnceUntilSomethingNewHappens) {
  size_t reported = 0;
  for (int h = 0; h < 24; ++h) {
    auto plan = hour(h, {row("alice", 99.0 + 0.04 * h, {"new_pair", "low_affinity"})});
    reported += plan.report.size();
  }
  EXPECT_EQ(reported, 1u) << "24 hourly runs, one report";
  auto state = Stmt(store->db(), "SELECT Reports, Runs, FirstReported, ReportRunId FROM byoml_alert_state").rows();
  ASSERT_TRUE(state);
  EXPECT_EQ(nlohmann::json(*state), R"([{"Reports":1,"Runs":24,"FirstReported":"2026-11-02T00:00:00.0000000Z","ReportRunId":"run-0"}])"_json);

  auto burst = hour(24, {row("alice", 99.0, {"new_pair", "low_affinity", "burst"}), row("bob", 80, {"new_pair"})});
  EXPECT_EQ(burst.report.size(), 2u) << "a new reason, and a new pair";
  EXPECT_EQ(burst.raised, 1u);
  EXPECT_EQ(burst.fresh, 1u);
  EXPECT_EQ(hour(25, {row("bob", 84.9, {"new_pair"})}).report.size(), 0u) << "4.9 points higher is not new";
  EXPECT_EQ(hour(26, {row("bob", 85.0, {"new_pair"})}).report.size(), 1u) << "5 points higher is";
  EXPECT_EQ(hour(27, {row("bob", 50.0, {"new_pair"})}).repeated, 1u);
  auto again = plan_alerts(*store, schema, "run-26", t0, {row("bob", 85.0, {"new_pair"})});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->report.size(), 1u) << "the run that reported it, done again, reports it again (its rows are replaced)";

  OutputSchema no_pairs{"Counts_CL", {{"User", ColumnType::kString, ""}}};
  EXPECT_FALSE(alert_state_applies(no_pairs));
  auto passed = plan_alerts(*store, no_pairs, "run-x", t0, {nlohmann::json{{"User", "alice"}}});
  ASSERT_TRUE(passed);
  EXPECT_EQ(passed->report.size(), 1u) << "a detector without pairs: every row goes out";
}

// An analyst's verdict sticks to the pair: FalsePositive is not raised again, even with a new
// reason or a far higher severity; TruePositive pairs are what the next training leaves out.
TEST_F(AlertState, APairJudgedFalsePositiveIsNotRaisedAgain) {
  hour(0, {row("Alice", 90, {"new_pair"}, "\\\\fs01\\hr"), row("bob", 90, {"new_pair"}, "\\\\fs01\\hr"),
           row("carl", 90, {"new_pair"}, "\\\\fs02\\fin")});
  {
    auto txn = store->begin_write();
    auto fp = record_verdict(*store, {"alice"}, t0, t0 + kTicksPerHour, {"FalsePositive", "ann", t0 + kTicksPerHour, 7});
    ASSERT_TRUE(fp) << fp.status().message();
    EXPECT_EQ(*fp, 1u) << "account names match in any case";
    auto tp = record_verdict(*store, {"carl"}, t0, t0 + kTicksPerHour, {"TruePositive", "ann", t0 + kTicksPerHour, 8});
    ASSERT_TRUE(tp);
    EXPECT_EQ(*record_verdict(*store, {"bob"}, t0 + kTicksPerDay, t0 + 2 * kTicksPerDay, {"FalsePositive", "ann", t0, 9}), 0u)
        << "bob's pair was reported outside that span";
    ASSERT_TRUE(txn->commit());
  }
  auto later = hour(5, {row("Alice", 100, {"new_pair", "burst"}, "\\\\fs01\\hr"), row("bob", 100, {"new_pair", "burst"}, "\\\\fs01\\hr"),
                        row("carl", 100, {"new_pair", "burst"}, "\\\\fs02\\fin")});
  EXPECT_EQ(later.dismissed, 1u);
  ASSERT_EQ(later.report.size(), 2u) << "bob (no verdict) and carl (a true positive) are raised again";
  EXPECT_EQ(later.report[0]["User"], "bob");
  auto kept = Stmt(store->db(), "SELECT \"User\", Verdict, VerdictBy, VerdictIncident FROM byoml_alert_state ORDER BY \"User\"").rows();
  ASSERT_TRUE(kept);
  EXPECT_EQ(nlohmann::json(*kept), R"([{"User":"Alice","Verdict":"FalsePositive","VerdictBy":"ann","VerdictIncident":7},
                                        {"User":"bob","Verdict":null,"VerdictBy":null,"VerdictIncident":null},
                                        {"User":"carl","Verdict":"TruePositive","VerdictBy":"ann","VerdictIncident":8}])"_json)
      << "verdicts survive the state's updates";
  auto confirmed = confirmed_pairs(*store, "Results_CL");
  ASSERT_TRUE(confirmed);
  EXPECT_EQ(*confirmed, (std::vector<std::array<std::string, 3>>{{"t", "carl", "\\\\fs02\\fin"}}));
  EXPECT_TRUE(confirmed_pairs(*store, "Other_CL")->empty());
}

}  // namespace
}  // namespace byoml

// Runs that are killed, retried or run at the same time: each run's rows appear whole or not at
// all, a retried run replaces its rows, and concurrent runs on one store or model directory
// serialise instead of doubling alerts or losing models.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "byoml/results/result_store.h"
#include "byoml/rules/rule_engine.h"
#include "byoml/templates/detection_template.h"
#include "test_util.h"

namespace byoml {
namespace {

namespace fs = std::filesystem;

constexpr int kResultRows = 6000;

// One alert per result row above 2, one incident per alert: a rules run that writes a lot.
const char* const kRule = R"(id: 5a4f0c2e-1111-4000-8000-00000000a70c
name: Every high score
severity: High
queryFrequency: 1d
queryPeriod: 7d
triggerOperator: gt
triggerThreshold: 0
query: |
  AnomalousResourceAccessResult_CL
  | where AnomalyScore > 2
  | project User, Resource, AnomalyScore
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: User
eventGroupingSettings:
  aggregationKind: AlertPerResult
incidentConfiguration:
  createIncident: true
  groupingConfiguration:
    enabled: false
)";

int64_t scalar(const std::string& db, const std::string& sql) {
  auto store = ResultStore::open(db, ResultStore::Mode::kExisting);
  EXPECT_TRUE(store) << store.status().message();
  if (!store) return -1;
  auto rows = Stmt(store->db(), sql).rows();
  EXPECT_TRUE(rows) << rows.status().message();
  return rows && !rows->empty() ? rows->front().begin()->get<int64_t>() : -1;
}

class RulesStore : public ::testing::Test {
 protected:
  void SetUp() override {
    rules_ = dir_.write("rules/every-high-score.yaml", kRule);
    base_ = dir_.file("base.db");
    auto store = ResultStore::open(base_);
    ASSERT_TRUE(store) << store.status().message();
    std::vector<nlohmann::json> rows;
    for (int i = 0; i < kResultRows; ++i)
      rows.push_back({{"TimeGenerated", "2026-11-08T10:00:00.0000000Z"}, {"User", "contoso\\user" + std::to_string(i)},
                      {"Resource", "\\\\fs01\\share" + std::to_string(i % 97)}, {"AnomalyScore", 3.0 + i % 5},
                      {"Severity", 99.5}, {"Reasons", {"new_pair"}}, {"RunId", "score-fixture"}});
    ASSERT_TRUE(store->insert(default_template().output, rows));
    ASSERT_TRUE(ensure_rules_schema(*store));
  }
  std::string copy_of_base(const std::string& name) {
    std::string db = dir_.file(name);
    fs::copy_file(base_, db, fs::copy_options::overwrite_existing);
    return db;
  }
  std::string rules_run(const std::string& db) const {
    return std::string(BYOML_CLI) + " rules run --rules " + rules_ + " --store " + db + " --now 2026-11-09T00:00:00Z";
  }
  // Each result row raised exactly one alert, and the store is sound.
  void expect_each_alert_once(const std::string& db, const std::string& what) {
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM byoml_alerts"), kResultRows) << what;
    EXPECT_EQ(scalar(db, "SELECT count(DISTINCT Rows) FROM byoml_alerts"), kResultRows) << what;
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM byoml_incidents"), kResultRows) << what;
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM byoml_rule_runs"), 1) << what;
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM byoml_runs WHERE Kind = 'rules'"), 1) << what;
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1) << what;
  }

  test::TempDir dir_;
  std::string rules_, base_;
};

TEST_F(RulesStore, ARulesRunKilledAtAnyMomentThenRunAgainRaisesEachAlertOnce) {
  // How long a whole run takes here (ASan or not), so the kills land before, inside and after
  // its transaction.
  std::string probe = copy_of_base("probe.db");
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(test::shell(rules_run(probe)).code, 0);
  double full = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  expect_each_alert_once(probe, "uninterrupted");

  // Kill moments are drawn up to the time a whole run took; a run that finished anyway (the
  // machine got faster) shrinks the range, so most trials really do kill it.
  std::mt19937 rng(20261129);
  double upper = full;
  int killed = 0, trials = 0;
  while (trials < 12 || (killed < 8 && trials < 40)) {
    ++trials;
    std::string db = copy_of_base("trial.db");
    fs::remove(db + "-wal");
    fs::remove(db + "-shm");
    double after = std::uniform_real_distribution<double>(0.0, upper)(rng);
    auto k = test::shell("timeout -s KILL " + std::to_string(after) + " " + rules_run(db));
    if (k.code != 0) ++killed;
    else upper *= 0.7;
    auto again = test::shell(rules_run(db));
    ASSERT_EQ(again.code, 0) << again.out;
    expect_each_alert_once(db, "killed after " + std::to_string(after) + " s");
  }
  EXPECT_GE(killed, 8) << "in " << trials << " trials";
}

TEST_F(RulesStore, OverlappingRulesRunsDoNotDoubleAlerts) {
  for (int trial = 0; trial < 3; ++trial) {
    std::string db = copy_of_base("overlap.db");
    auto r = test::shell("(" + rules_run(db) + " > /dev/null & " + rules_run(db) + " > /dev/null & wait)");
    EXPECT_EQ(r.code, 0) << r.out;
    expect_each_alert_once(db, "two runs at once");
  }
}

// ---- score and train ----

class RunsCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    auto s = test::run("sample -q --events 4000 --output " + d());
    ASSERT_EQ(s.code, 0) << s.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string d() { return dir_->path().string(); }
  static std::string train(const std::string& models, const std::string& store) {
    return "train -q --input " + d() + "/export --to 2026-11-02 --model " + models + " --store " + store;
  }
  static test::TempDir* dir_;
};
test::TempDir* RunsCli::dir_ = nullptr;

TEST_F(RunsCli, ScoringOneWindowTwiceReplacesItsRows) {
  test::TempDir out;
  std::string db = out.file("s.db"), models = out.file("models");
  ASSERT_EQ(test::run(train(models, db)).code, 0);
  std::string score = "score -q --input " + d() + "/export --from 2026-11-02 --model " + models + " --store " + db;
  ASSERT_EQ(test::run(score).code, 0);
  int64_t rows = scalar(db, "SELECT count(*) FROM AnomalousResourceAccessResult_CL");
  ASSERT_GT(rows, 0);
  auto again = test::run(score + " --json");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM AnomalousResourceAccessResult_CL"), rows) << "replaced, not added";
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM byoml_runs WHERE Kind = 'score'"), 1);
  EXPECT_EQ(scalar(db, "SELECT count(DISTINCT RunId) FROM AnomalousResourceAccessResult_CL"), 1);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM byoml_alert_state"), rows) << "the state of each reported pair, once";
  EXPECT_EQ(scalar(db, "SELECT max(Runs) FROM byoml_alert_state"), 1) << "the same run done again";
  // Another window is another run, beside the first; the pairs it shares with the first were
  // already reported, so they update the state and write no row.
  ASSERT_EQ(test::run(score + " --to 2026-11-05").code, 0);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM byoml_runs WHERE Kind = 'score'"), 2);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM AnomalousResourceAccessResult_CL"), rows);
  EXPECT_GT(scalar(db, "SELECT count(*) FROM byoml_alert_state WHERE Runs = 2"), 0);
  EXPECT_EQ(scalar(db, "SELECT count(DISTINCT LastRunId) FROM byoml_alert_state"), 2);
}

TEST_F(RunsCli, ConcurrentTrainingRunsKeepEveryVersionLoadable) {
  for (int n : {2, 4}) {
    test::TempDir out;
    std::string models = out.file("models"), cmd = "(";
    for (int i = 0; i < n; ++i)
      cmd += std::string(BYOML_CLI) + " " + train(models, out.file("s" + std::to_string(i) + ".db")) + " > /dev/null & ";
    auto r = test::shell(cmd + "wait)");
    EXPECT_EQ(r.code, 0) << r.out;
    auto ls = test::run("models list --json --model " + models);
    ASSERT_EQ(ls.code, 0) << ls.out;
    auto list = nlohmann::json::parse(ls.out);
    ASSERT_EQ(list.size(), static_cast<size_t>(n)) << ls.out;
    std::set<int> versions;
    int current = 0;
    for (const auto& e : list) {
      versions.insert(e["version"].get<int>());
      EXPECT_FALSE(e["info"].contains("error")) << e.dump();
      EXPECT_EQ(e["info"]["version"], e["version"]) << "each file holds the version it is named after";
      current += e["current"].get<bool>();
    }
    EXPECT_EQ(versions.size(), static_cast<size_t>(n));
    EXPECT_EQ(*versions.rbegin(), n) << "numbered 1..n, none lost";
    EXPECT_EQ(current, 1);
    for (const auto& f : fs::directory_iterator(models))
      EXPECT_EQ(f.path().filename().string().find(".tmp"), std::string::npos) << "no temporary file left";
    for (int v = 1; v <= n; ++v)
      EXPECT_EQ(test::run("models show --model " + models + " --version " + std::to_string(v)).code, 0);
  }
}

TEST_F(RunsCli, ADamagedCurrentStopsScoringWithAClearError) {
  test::TempDir out;
  std::string db = out.file("s.db"), models = out.file("models");
  ASSERT_EQ(test::run(train(models, db)).code, 0);
  ASSERT_EQ(test::run(train(models, db)).code, 0);
  ASSERT_EQ(test::run("models rollback --model " + models).code, 0);
  out.write("models/CURRENT", "2x\n");
  std::string score = "score -q --no-store --input " + d() + "/export --from 2026-11-02 --model " + models;
  auto r = test::run(score);
  EXPECT_EQ(r.code, 5) << r.out;
  EXPECT_NE(r.out.find("CURRENT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("models rollback"), std::string::npos) << r.out;
  ASSERT_EQ(test::run("models rollback --model " + models + " --to 1").code, 0);
  EXPECT_EQ(test::run(score).code, 0);
}

// A --template that disagrees with what the model learnt from is refused; the same template
// (or one that changes only scoring parameters) is taken.
TEST_F(RunsCli, ATemplateThatDisagreesWithTheModelIsRefused) {
  test::TempDir out;
  std::string models = out.file("models");
  ASSERT_EQ(test::run(train(models, out.file("s.db"))).code, 0);
  std::string text = test::file_text(std::string(BYOML_SOURCE_DIR) + "/templates/anomalous-resource-access.yaml");
  std::string score = "score -q --no-store --input " + d() + "/export --from 2026-11-02 --model " + models + " --template ";
  auto same = test::run(score + out.write("same.yaml", text));
  EXPECT_EQ(same.code, 0) << same.out;
  std::string other_ids = text;
  auto at = other_ids.find("event_ids: [5140]");
  ASSERT_NE(at, std::string::npos);
  other_ids.replace(at, 17, "event_ids: [5145]");
  auto ids = test::run(score + out.write("ids.yaml", other_ids));
  EXPECT_EQ(ids.code, 2) << ids.out;
  EXPECT_NE(ids.out.find("event_ids (the model: [5140]; the template: [5145])"), std::string::npos) << ids.out;
  std::string other_user = text;
  at = other_user.find("SubjectUserName");
  ASSERT_NE(at, std::string::npos);
  other_user.replace(at, 15, "TargetUserName");
  auto mapping = test::run(score + out.write("mapping.yaml", other_user));
  EXPECT_EQ(mapping.code, 2) << mapping.out;
  EXPECT_NE(mapping.out.find("disagrees with the model on the field mapping"), std::string::npos) << mapping.out;
}

}  // namespace
}  // namespace byoml

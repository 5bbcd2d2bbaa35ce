// train → score → evaluate through the byoml binary on generated data with known ground
// truth: quality against a first-seen rule, thread-count independence, the results store,
// the model registry commands, allowlists and the errors a user can cause.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "byoml/results/result_store.h"
#include "test_util.h"

namespace byoml {
namespace {

using test::run;

class ModelCli : public ::testing::Test {
 protected:
  // The generated sample is shared by the whole test run (read only); everything a test
  // writes goes to its own directory.
  static std::string sample(const std::string& rel) { return test::shared_sample() + "/" + rel; }
  std::string path(const std::string& rel) const { return dir_.file(rel); }
  std::string train_args(const std::string& model) const {
    return "train -q --input " + sample("export") + " --to 2026-11-02 --model " + path(model) + " --store " + path("s.db");
  }
  std::string score_args(const std::string& model) const {
    return "score -q --input " + sample("export") + " --from 2026-11-02 --model " + path(model);
  }
  static std::string read(const std::string& p) { return test::file_text(p); }
  test::TempDir dir_;
};

TEST_F(ModelCli, ModelIsFarAheadOfFirstSeenOnNewPairs) {
  ASSERT_EQ(run(train_args("m-eval")).code, 0);
  auto s = run(score_args("m-eval") + " --no-store --per-event --output " + path("eval.jsonl"));
  ASSERT_EQ(s.code, 0) << s.out;
  auto e = run("evaluate --json --scores " + path("eval.jsonl") + " --labels " + sample("labels.csv"));
  ASSERT_EQ(e.code, 0) << e.out;
  auto j = nlohmann::json::parse(e.out);
  EXPECT_EQ(j["unlabelled_scores"], 0) << "the sample labels every 5140 event of the test week";
  EXPECT_EQ(j["unscored_labels"], 0);
  const auto& fresh = j["new_pairs"];
  ASSERT_GT(fresh["anomalous"].get<int>(), 0);
  double model_ap = fresh["model"]["average_precision"], rule_ap = fresh["first_seen"]["average_precision"];
  EXPECT_GT(model_ap, 5 * rule_ap) << e.out;
  EXPECT_GT(fresh["model"]["roc_auc"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(fresh["first_seen"]["roc_auc"].get<double>(), 0.5) << "the rule flags every new pair alike";
  for (const char* kind : {"compromised_account", "share_sweep"}) {
    ASSERT_TRUE(fresh["model"]["by_kind"].contains(kind)) << kind;
    EXPECT_EQ(fresh["model"]["by_kind"][kind]["label"], "anomaly");
    EXPECT_GT(fresh["model"]["by_kind"][kind]["flagged_share"].get<double>(), 0.8) << kind;
  }
  // Every scored event has a finite score and a severity in range.
  std::ifstream in(path("eval.jsonl"));
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    ASSERT_TRUE(row["AnomalyScore"].is_number());
    ASSERT_GE(row["Severity"].get<double>(), 0);
    ASSERT_LE(row["Severity"].get<double>(), 100);
    ++n;
  }
  EXPECT_EQ(n, j["scored_events"].get<size_t>());
}

TEST_F(ModelCli, OneAndTwoThreadsGiveIdenticalScores) {
  // Fitting and reading (decoding the files on several threads) alike.
  ASSERT_EQ(run(train_args("m-t1") + " --threads 1 --read-threads 1 --solver cg --rank 16").code, 0);
  ASSERT_EQ(run(train_args("m-t2") + " --threads 2 --read-threads 2 --solver cg --rank 16").code, 0);
  ASSERT_EQ(run(score_args("m-t1") + " --read-threads 1 --no-store --per-event -o " + path("t1.jsonl")).code, 0);
  ASSERT_EQ(run(score_args("m-t2") + " --read-threads 3 --no-store --per-event -o " + path("t2.jsonl")).code, 0);
  std::string a = read(path("t1.jsonl")), b = read(path("t2.jsonl"));
  EXPECT_GT(a.size(), 1000u);
  EXPECT_TRUE(a == b) << "per-event scores differ between 1 and 2 threads";
  auto f1 = run("models show --json --model " + path("m-t1")), f2 = run("models show --json --model " + path("m-t2"));
  EXPECT_EQ(nlohmann::json::parse(f1.out)["data"]["fingerprint"], nlohmann::json::parse(f2.out)["data"]["fingerprint"]);
}

// Every alert is stored, highest first; --top caps only the summary, which says what it hid.
// By default the threshold is the one the model calibrated at training.
TEST_F(ModelCli, ScoringStoresEveryAlertAtTheCalibratedThreshold) {
  ASSERT_EQ(run(train_args("m-store")).code, 0);
  auto show = nlohmann::json::parse(run("models show --json --model " + path("m-store")).out);
  const auto& cal = show["evaluation"]["tenants"][0]["calibration"];
  ASSERT_TRUE(cal.is_object()) << show.dump(2);
  EXPECT_EQ(cal["held_out_days"], 7);
  const double calibrated = cal["alert_threshold"];

  std::string db = path("results.db");
  auto r = run(score_args("m-store") + " --store " + db + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["threshold"], calibrated);
  EXPECT_TRUE(j["calibrated"].get<bool>());
  const size_t alerts = j["alerting_pairs"];
  ASSERT_GT(alerts, 10u);
  ASSERT_EQ(j["results"].size(), alerts) << "--top 25 caps the summary, not the results";
  double prev = 1e300;
  size_t above = 0;
  for (const auto& row : j["results"]) {
    double s = row["AnomalyScore"];
    auto reasons = row["Reasons"].dump();
    // Below the threshold only a burst (any pair of the account during it) or a closed
    // group's share opened from outside alerts.
    const bool burst = reasons.find("burst") != std::string::npos;
    if (!burst && reasons.find("exclusive_resource") == std::string::npos) {
      EXPECT_GT(s, calibrated) << reasons;
    }
    above += s > calibrated;
    EXPECT_LE(s, prev) << "highest first";
    prev = s;
    EXPECT_TRUE(row["Explanation"].contains("usual_resources"));
    if (!burst) {
      EXPECT_TRUE(reasons.find("new_pair") != std::string::npos || reasons.find("unseen_") != std::string::npos)
          << "only pairs new to the model alert: " << reasons;
    }
    EXPECT_EQ(row["ModelVersion"], 1);
    EXPECT_EQ(row["RunId"], j["run_id"]);
    EXPECT_EQ(row["Share"].get<std::string>().rfind("\\\\*\\", 0), 0u);
  }
  EXPECT_GT(above, 10u);
  auto store = ResultStore::open(db);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->count("AnomalousResourceAccessResult_CL"), alerts);

  const std::string db2 = path("fixed.db");  // in the first store, those pairs were already reported
  auto fixed = run(score_args("m-store") + " --store " + db2 + " --top 3 --threshold 1.0 -o " + path("fixed.jsonl"));
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  std::ifstream in(path("fixed.jsonl"));
  std::string line;
  size_t lines = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    const auto reasons = row["Reasons"].dump();
    if (reasons.find("burst") == std::string::npos && reasons.find("exclusive_resource") == std::string::npos) {
      EXPECT_GT(row["AnomalyScore"].get<double>(), 1.0);
    }
    ++lines;
  }
  EXPECT_GT(lines, 3u);
  EXPECT_NE(fixed.out.find(fmt::format("... {} more, not shown (--top 3)", lines - 3)), std::string::npos) << fixed.out;
  EXPECT_NE(fixed.out.find(fmt::format("alerts      {} new, 0 reported again", lines)), std::string::npos) << fixed.out;
  auto again = run("score -q --input " + sample("export") + " --from 2026-11-03 --model " + path("m-store") + " --store " + db2 +
                   " --threshold 1.0 --json");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_TRUE(nlohmann::json::parse(again.out)["results"].empty()) << "every pair of a later window was reported already";
  EXPECT_GT(nlohmann::json::parse(again.out)["alert_state"]["already_reported"].get<int>(), 0);
  auto bad = run(score_args("m-store") + " --no-store --threshold high");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("auto, or a score"), std::string::npos) << bad.out;
}

// A day scored as an hourly schedule would: 24 runs into one store with byoml's rule after each,
// the same events as one run over the day, and per-event lines gathered from every window.
TEST_F(ModelCli, ScoringEveryHourRunsTheRulesAfterEachWindow) {
  ASSERT_EQ(run(train_args("m-hourly")).code, 0);
  const std::string day = " --from 2026-11-02 --to 2026-11-03 --model " + path("m-hourly");
  const std::string db = path("hourly.db");
  auto r = run("score -q --input " + sample("export") + day + " --every 1h --rules " + std::string(BYOML_SOURCE_DIR) +
               "/rules --store " + db + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["windows"].size(), 24u);
  uint64_t events = 0, stored = 0;
  for (size_t h = 0; h < 24; ++h) {
    const auto& w = j["windows"][h];
    EXPECT_EQ(w["from"], fmt::format("2026-11-02T{:02}:00:00Z", h));
    events += w["events"].get<uint64_t>();
    stored += w["results"].size();
    ASSERT_EQ(w["rules"].size(), 1u);
    EXPECT_FALSE(w["rules"][0]["not_due"].get<bool>()) << "queryFrequency 1h: due after every window";
  }
  auto whole = run("score -q --input " + sample("export") + day + " --no-store --json");
  ASSERT_EQ(whole.code, 0) << whole.out;
  EXPECT_EQ(events, nlohmann::json::parse(whole.out)["events"].get<uint64_t>());
  auto store = ResultStore::open(db);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->count("AnomalousResourceAccessResult_CL"), stored);
  auto incidents = run("incidents list --json --store " + db);
  ASSERT_EQ(incidents.code, 0) << incidents.out;
  const auto incident_list = nlohmann::json::parse(incidents.out);
  ASSERT_FALSE(incident_list.empty());
  for (const auto& i : incident_list) {
    EXPECT_TRUE(i["Severity"] == "High" || i["Severity"] == "Medium") << i.dump();
    EXPECT_EQ(i["Title"].get<std::string>().rfind("Anomalous file share access by contoso\\", 0), 0u) << i.dump();
  }

  // Per-event lines of every window in one file, as many as the events scored.
  auto pe = run("score -q --input " + sample("export") + day + " --every 1h --no-store --per-event -o " + path("pe.jsonl"));
  ASSERT_EQ(pe.code, 0) << pe.out;
  std::ifstream in(path("pe.jsonl"));
  std::string line;
  uint64_t lines = 0;
  while (std::getline(in, line)) {
    auto t = nlohmann::json::parse(line)["TimeGenerated"].get<std::string>();
    EXPECT_EQ(t.rfind("2026-11-02T", 0), 0u) << t;
    ++lines;
  }
  EXPECT_EQ(lines, events);
  EXPECT_FALSE(std::filesystem::exists(path("pe.jsonl.window"))) << "no window file is left behind";
  // The identity data covers every window: it is read once, so its one bad row is rejected once.
  {
    std::ofstream bad(path("bad-identity.jsonl"));
    bad << R"({"TimeGenerated":"2026-10-01T00:00:00Z","Department":"Finance"})" << "\n";
  }
  auto with_identity = run("score -q --input " + sample("export") + day + " --every 1h --no-store --json --identity " +
                sample("identityinfo.jsonl") + " --identity " + path("bad-identity.jsonl"));
  ASSERT_EQ(with_identity.code, 0) << with_identity.out;
  EXPECT_EQ(nlohmann::json::parse(with_identity.out)["rejected"].get<int>(), 1) << with_identity.out;
  // evaluate measures the rule's incidents beside the per-event ones.
  auto ev = run("evaluate --json --scores " + path("pe.jsonl") + " --labels " + sample("labels.csv") + " --store " + db);
  ASSERT_EQ(ev.code, 0) << ev.out;
  auto ej = nlohmann::json::parse(ev.out);
  EXPECT_EQ(ej["rule_incidents"]["incidents"].get<size_t>(), nlohmann::json::parse(incidents.out).size());
  EXPECT_LE(ej["rule_incidents"]["naming_labelled_account"], ej["rule_incidents"]["incidents"]);
  EXPECT_GE(ej["all"]["first_seen"]["incidents"]["incidents"], ej["all"]["model"]["incidents"]["incidents"]);

  // Closing needs a classification; TruePositive keeps the incident's pairs out of the next
  // training, so they stay anomalous.
  const std::string id = std::to_string(incident_list[0]["IncidentId"].get<int64_t>());
  // The incident's evidence: the pairs of its account reported around its alerts, and their runs.
  auto shown = run("incidents show " + id + " --json --store " + db);
  ASSERT_EQ(shown.code, 0) << shown.out;
  auto inc = nlohmann::json::parse(shown.out);
  const auto& evidence = inc["Evidence"];
  ASSERT_FALSE(evidence["Pairs"].empty()) << shown.out;
  EXPECT_FALSE(evidence["RunIds"].empty());
  std::set<std::string> resources;
  for (const auto& p : evidence["Pairs"]) {
    EXPECT_EQ(p["User"], inc["Entities"][0]["value"]);
    EXPECT_TRUE(p["Reasons"].is_array());
    resources.insert(p["Resource"].get<std::string>());
  }
  // Its entities: the account, and the file server and path of every share it alerted on, from
  // all of its alerts, each once.
  std::set<std::string> types, shares;
  for (const auto& e : inc["Entities"]) {
    types.insert(e["type"].get<std::string>());
    if (e["type"] == "File") shares.insert(e["value"].get<std::string>());
  }
  EXPECT_EQ(types, (std::set<std::string>{"Account", "File", "Host"})) << inc["Entities"].dump();
  for (const auto& s : shares) EXPECT_TRUE(resources.count(s)) << s << " is among the evidence";
  EXPECT_EQ(shares.size(), std::count_if(inc["Entities"].begin(), inc["Entities"].end(),
                                         [](const nlohmann::json& e) { return e["type"] == "File"; }))
      << "each once";
  auto text = run("incidents show " + id + " --store " + db);
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find(fmt::format("evidence    {} pairs", evidence["Pairs"].size())), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(evidence["Pairs"][0]["Resource"].get<std::string>()), std::string::npos) << text.out;
  EXPECT_EQ(run("incidents close " + id + " --store " + db).code, 2) << "a classification is required";
  auto closed = run("incidents close " + id + " --classification TruePositive --by alice --store " + db);
  ASSERT_EQ(closed.code, 0) << closed.out;
  auto verdicts = run("query --json --store " + db +
                      " 'byoml_alert_state | where Verdict == \"TruePositive\" and VerdictBy == \"alice\" | count'");
  ASSERT_EQ(verdicts.code, 0) << verdicts.out;
  const int64_t confirmed = nlohmann::json::parse(verdicts.out)["Count"];
  ASSERT_GT(confirmed, 0);
  EXPECT_NE(closed.out.find("the verdict is on its " + std::to_string(confirmed) + " pairs"), std::string::npos) << closed.out;
  ASSERT_EQ(run("train -q --input " + sample("export") + " --to 2026-11-03 --model " + path("m-after") + " --store " + db).code, 0);
  auto after = nlohmann::json::parse(run("models show --json --model " + path("m-after")).out);
  EXPECT_EQ(after["data"]["confirmed_anomalous_pairs"], confirmed) << after["data"].dump();

  for (const char* bad : {" --every 1h --from 2026-11-02 --model m", " --every 0s" , " --every 1h --positions p.jsonl",
                          " --rules r/"}) {
    auto e = run("score -q --input " + sample("export") + (std::string(bad).find("--from") == std::string::npos ? day : "") +
                 bad + " --no-store");
    EXPECT_EQ(e.code, 2) << bad << "\n" << e.out;
  }
}

TEST_F(ModelCli, RegistryListShowRollbackAndCorruptFiles) {
  std::string m = "m-reg";
  ASSERT_EQ(run(train_args(m)).code, 0);
  ASSERT_EQ(run(train_args(m) + " --max-iter 5").code, 0);
  auto ls = run("models list --json --model " + path(m));
  ASSERT_EQ(ls.code, 0) << ls.out;
  auto l = nlohmann::json::parse(ls.out);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_TRUE(l[1]["current"].get<bool>());
  auto show = nlohmann::json::parse(run("models show --model " + path(m)).out);
  EXPECT_EQ(show["parameters"]["max_iter"], "5");
  EXPECT_EQ(show["window"]["to"], "2026-11-02T00:00:00.0000000Z");
  EXPECT_TRUE(show["data"]["fingerprint"].is_string());
  EXPECT_EQ(show["template"]["name"], "anomalous-resource-access");
  auto rb = run("models rollback --model " + path(m));
  ASSERT_EQ(rb.code, 0) << rb.out;
  EXPECT_NE(rb.out.find("v1"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(run("models show --model " + path(m)).out)["parameters"]["max_iter"], "25");
  // Damage the current model: scoring fails with a clear message and exit code 1.
  std::string file = path(m + "/model-000001.byoml");
  std::string bytes = read(file);
  bytes[bytes.size() / 2] ^= 1;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  auto s = run(score_args(m) + " --no-store");
  EXPECT_EQ(s.code, 5) << "a damaged model file";
  EXPECT_NE(s.out.find("checksum mismatch"), std::string::npos) << s.out;
  EXPECT_NE(run("models list --model " + path(m)).out.find("UNREADABLE"), std::string::npos);
  EXPECT_EQ(run("models rollback --model " + path(m) + " --to 2").code, 0);
  EXPECT_EQ(run(score_args(m) + " --no-store").code, 0);
}

TEST_F(ModelCli, AllowlistsKeepAccountsOutOfTrainingAndResults) {
  // The busiest machine account of the data: present in training and in the results.
  ASSERT_EQ(run(train_args("m-plain")).code, 0);
  auto plain = nlohmann::json::parse(run(score_args("m-plain") + " --no-store --top 0 --json").out);
  ASSERT_FALSE(plain["results"].empty());
  std::string user = plain["results"][0]["User"];
  std::ofstream(path("allow.yaml")) << "entries:\n  - account: '" << user << "'\n    action: skip-result\n"
                                    << "  - account: '" << user << "'\n    action: skip-model-update\n";
  ASSERT_EQ(run(train_args("m-allow") + " --allowlist " + path("allow.yaml")).code, 0);
  auto info = nlohmann::json::parse(run("models show --model " + path("m-allow")).out);
  EXPECT_GT(info["data"]["allowlisted_pairs"].get<int>(), 0);
  auto allowed = nlohmann::json::parse(
      run(score_args("m-allow") + " --no-store --top 0 --json --allowlist " + path("allow.yaml")).out);
  for (const auto& row : allowed["results"]) EXPECT_NE(row["User"], user);
  EXPECT_GT(allowed["allowlisted_pairs"].get<int>(), 0);
}

TEST_F(ModelCli, UserErrorsHaveClearMessagesAndExitCodes) {
  auto empty = run("train -q --input " + sample("export") + " --from 2020-01-01 --to 2020-01-02 --model " + path("m-empty") + " --no-store");
  EXPECT_EQ(empty.code, 4) << "nothing found to train on";
  EXPECT_NE(empty.out.find("no training events"), std::string::npos) << empty.out;
  auto none = run(score_args("m-missing"));
  EXPECT_EQ(none.code, 4);
  EXPECT_NE(none.out.find("no such model directory"), std::string::npos) << none.out;
  EXPECT_EQ(run(train_args("m-bad") + " --rank 0").code, 2);
  EXPECT_EQ(run(train_args("m-bad") + " --solver magic").code, 2);
  EXPECT_EQ(run(score_args("m-bad") + " --rank 4").code, 2) << "the model fixes training parameters";
  EXPECT_EQ(run(score_args("m-bad") + " --resource-scope share").code, 2) << "and the mapping";
  EXPECT_EQ(run("inspect --max-iter 3 " + sample("export")).code, 2);
  auto per_event = run(score_args("m-bad") + " --per-event");
  EXPECT_EQ(per_event.code, 2);
  std::ofstream(path("bad-allow.yaml")) << "entries:\n  - colour: red\n";
  auto bad = run(train_args("m-bad") + " --allowlist " + path("bad-allow.yaml"));
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("bad-allow.yaml: line 2"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace byoml

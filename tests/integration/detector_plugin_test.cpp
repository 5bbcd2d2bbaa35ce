// A test-only detector plugged in through the detector registry: "event-count" learns how many
// events each user had in training and flags users with more than `threshold` events in a
// scored window. Nothing in the library knows it; a template naming its algorithm runs it
// through the facade's train (model file and registry), score (results store), rules and
// report exactly like the built-in detector, and the scores are the counts we wrote.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "byoml/api/session.h"
#include "byoml/models/model_file.h"
#include "byoml/models/section_codec.h"
#include "test_util.h"

namespace byoml {
namespace {

class EventCountDetector;

struct EventCountModel final : Model {
  const Detector& detector() const override;
  std::map<std::string, uint64_t> trained;  // user -> events in training
};

std::shared_ptr<const EventCountDetector> event_count_detector();

// Counts the template's events per user, and the time of each user's last one.
class UserCounts {
 public:
  explicit UserCounts(std::vector<uint32_t> ids) : ids_(std::move(ids)) {}
  void add(const EventBatch& b, const Vocabulary& v) {
    for (size_t i = 0; i < b.size(); ++i) {
      if (!ids_.empty() && std::find(ids_.begin(), ids_.end(), b.event_id[i]) == ids_.end()) continue;
      auto& [n, last] = counts_[std::string(v.users.str(b.user[i]))];
      ++n;
      last = std::max(last, b.time[i]);
    }
  }
  const std::map<std::string, std::pair<uint64_t, Ticks>>& counts() const { return counts_; }

 private:
  std::vector<uint32_t> ids_;
  std::map<std::string, std::pair<uint64_t, Ticks>> counts_;
};

class CountTrainer final : public Trainer {
 public:
  CountTrainer(ParamSet params, const TrainSetup& s) : params_(std::move(params)), counts_(s.event_ids) {}
  void add(const EventBatch& b, const Vocabulary& v) override { counts_.add(b, v); }
  std::string progress() const override { return fmt::format("{} users", counts_.counts().size()); }
  Result<std::unique_ptr<Model>> fit() override {
    if (counts_.counts().empty()) return Status(ErrorCode::kInvalidArgument, "no events to count");
    auto m = std::make_unique<EventCountModel>();
    m->params = params_;
    uint64_t events = 0;
    for (const auto& [user, c] : counts_.counts()) events += m->trained[user] = c.first;
    m->info = {{"data", {{"events", events}, {"users", m->trained.size()}, {"fingerprint", "-"}}}};
    return std::unique_ptr<Model>(std::move(m));
  }

 private:
  ParamSet params_;
  UserCounts counts_;
};

class CountScorer final : public Scorer {
 public:
  CountScorer(const EventCountModel& m, ScoreSetup s) : m_(m), setup_(std::move(s)), counts_(setup_.event_ids) {}
  void add(const EventBatch& b, const Vocabulary& v) override { counts_.add(b, v); }
  Result<ScoreTable> score() override {
    ScoreTable t;
    const double threshold = setup_.values.get_real("threshold");
    for (const auto& [user, c] : counts_.counts()) {
      if (static_cast<double>(c.first) <= threshold) continue;
      users_.push_back(user);
      t.rows.push_back({{"TimeGenerated", format_timestamp(c.second)},
                        {"User", user},
                        {"AnomalyScore", static_cast<double>(c.first)},
                        {"Events", c.first},
                        {"Reasons", {m_.trained.count(user) ? "above_threshold" : "unseen_user"}},
                        {"RunId", setup_.run_id}});
    }
    t.figures = {{"users", counts_.counts().size()}, {"threshold", threshold}};
    t.health = {{"Users", m_.trained.size()}};
    t.summary = {fmt::format("users       {} above {}", t.rows.size(), threshold)};
    return t;
  }
  nlohmann::json explain(size_t row) const override {
    auto it = m_.trained.find(users_.at(row));
    return {{"trained_events", it == m_.trained.end() ? 0 : it->second}};
  }
  void each_event(const std::function<void(std::string_view)>&) const override {}

 private:
  const EventCountModel& m_;
  ScoreSetup setup_;
  UserCounts counts_;
  std::vector<std::string> users_;  // of the rows
};

class EventCountDetector final : public Detector {
 public:
  std::string name() const override { return "event-count"; }
  std::vector<ParamSpec> training_params() const override { return {}; }
  std::vector<ParamSpec> scoring_params() const override {
    return {{"threshold", ParamType::kReal, "10", 0, 1e9, {}, "Flag users with more events than this"}};
  }
  std::vector<OutputColumn> columns() const override {
    using T = ColumnType;
    return {{"TimeGenerated", T::kDatetime, ""}, {"User", T::kString, ""},      {"AnomalyScore", T::kReal, ""},
            {"Events", T::kLong, ""},            {"Reasons", T::kDynamic, ""}, {"Explanation", T::kDynamic, ""},
            {"RunId", T::kString, ""}};
  }
  std::string default_table() const override { return "EventCountResult_CL"; }
  std::unique_ptr<Trainer> trainer(const ParamSet& p, const TrainSetup& s) const override {
    return std::make_unique<CountTrainer>(p, s);
  }
  EncodedModel save(const Model& model) const override {
    const auto& m = dynamic_cast<const EventCountModel&>(model);
    SectionWriter w;
    w.put(static_cast<uint64_t>(m.trained.size()));
    for (const auto& [user, n] : m.trained) {
      w.str(user);
      w.put(n);
    }
    return {{{"counted", "users"}}, {{"counts", w.take()}}};
  }
  Result<std::unique_ptr<Model>> load(ParamSet params, const nlohmann::json&, const ModelSections& sections,
                                      const std::string& source) const override {
    auto it = sections.find("counts");
    if (it == sections.end()) return Status(ErrorCode::kCorrupt, source + ": no counts");
    auto m = std::make_unique<EventCountModel>();
    m->params = std::move(params);
    SectionReader r(it->second, source);
    uint64_t n = r.count(r.get<uint64_t>(), 12);
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
      std::string user = r.str();
      m->trained[user] = r.get<uint64_t>();
    }
    if (!r.ok() || !r.at_end()) return Status(ErrorCode::kCorrupt, source + ": counts are damaged");
    return std::unique_ptr<Model>(std::move(m));
  }
  Result<std::unique_ptr<Scorer>> scorer(const Model& m, const ScoreSetup& s) const override {
    return std::unique_ptr<Scorer>(std::make_unique<CountScorer>(dynamic_cast<const EventCountModel&>(m), s));
  }
  std::vector<std::string> describe(const Model& m) const override {
    return {fmt::format("counted     {} users", dynamic_cast<const EventCountModel&>(m).trained.size())};
  }
};

std::shared_ptr<const EventCountDetector> event_count_detector() {
  static auto d = std::make_shared<const EventCountDetector>();
  return d;
}
const Detector& EventCountModel::detector() const { return *event_count_detector(); }

// The built-in template's input and mapping with the test detector's algorithm and output.
std::string count_template() {
  std::string t = default_template_text();
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    t.replace(at, from.size(), to);
  };
  replace("template: anomalous-resource-access", "template: events-per-user");
  replace("algorithm: access-anomaly", "algorithm: event-count");
  t = t.substr(0, t.find("\ndefaults:")) + "\ndefaults:\n  threshold: 20\n";
  return t;
}

// Events with known counts: in training alice has 12 and bob 6; in the scored week alice has
// 8, bob 30 and mallory (never seen in training) 45.
std::string events_jsonl() {
  std::string out;
  int id = 0;
  auto add = [&](const std::string& user, int n, int day) {
    for (int i = 0; i < n; ++i)
      out += fmt::format(
          "{{\"TimeGenerated\":\"2026-11-{:02d}T{:02d}:{:02d}:00Z\",\"EventID\":5140,\"Account\":\"contoso\\\\{}\","
          "\"ShareName\":\"\\\\\\\\*\\\\hr\",\"Computer\":\"fs01\",\"EventOriginId\":\"{}\"}}\n",
          day, 8 + i / 60, i % 60, user, RecordId::from_number(static_cast<uint64_t>(++id)).to_string());
  };
  add("alice", 12, 1);
  add("bob", 6, 1);
  add("alice", 8, 4);
  add("bob", 30, 4);
  add("mallory", 45, 5);
  return out;
}

TEST(DetectorPlugin, ATestDetectorRunsThroughTrainScoreStoreRulesAndReport) {
  register_detector(event_count_detector());
  test::TempDir dir;
  const std::string events = dir.write("events.jsonl", events_jsonl());
  auto tmpl = parse_template(count_template(), "events-per-user.yaml");
  ASSERT_TRUE(tmpl) << tmpl.status().message();
  EXPECT_EQ(tmpl->output.table, "EventCountResult_CL") << "the detector's default table";
  auto values = ParamSet::make(tmpl->params);
  ASSERT_TRUE(values);
  EXPECT_EQ(values->get_real("threshold"), 20) << "the template's default for the detector's parameter";

  Session session({dir.file("store.db"), {}, {}, {}});
  TrainJob train;
  train.input.paths = {events};
  train.input.read.filter.window.to = make_ticks(2026, 11, 3);
  train.tmpl = std::make_shared<DetectionTemplate>(*tmpl);
  train.values = *values;
  train.model_dir = dir.file("models");
  auto trained = session.train(train);
  ASSERT_TRUE(trained) << trained.status().message();
  EXPECT_EQ(trained->model->info["data"]["events"], 18);

  // The model file holds the detector's own section and loads back as its model.
  auto loaded = load_model(trained->path);
  ASSERT_TRUE(loaded) << loaded.status().message();
  ASSERT_EQ(&(*loaded)->detector(), event_count_detector().get());
  const auto& counts = dynamic_cast<const EventCountModel&>(**loaded).trained;
  EXPECT_EQ(counts, (std::map<std::string, uint64_t>{{"contoso\\alice", 12}, {"contoso\\bob", 6}}));

  ScoreJob score;
  score.input.paths = {events};
  score.input.read.filter.window.from = make_ticks(2026, 11, 3);
  score.model_dir = dir.file("models");
  auto scored = session.score(score);
  ASSERT_TRUE(scored) << scored.status().message();
  const auto& rows = scored->outcome.results;
  ASSERT_EQ(rows.size(), 2u) << nlohmann::json(rows).dump();
  std::map<std::string, nlohmann::json> by_user;
  for (const auto& r : rows) by_user[r["User"]] = r;
  EXPECT_EQ(by_user["contoso\\bob"]["AnomalyScore"], 30.0);
  EXPECT_EQ(by_user["contoso\\bob"]["Explanation"]["trained_events"], 6);
  EXPECT_EQ(by_user["contoso\\mallory"]["Events"], 45);
  EXPECT_EQ(by_user["contoso\\mallory"]["Reasons"], nlohmann::json({"unseen_user"}));
  EXPECT_EQ(by_user["contoso\\mallory"]["Explanation"]["trained_events"], 0);

  // A rule over the detector's table raises one alert per flagged user.
  std::string rule = test::file_text(std::string(BYOML_SOURCE_DIR) + "/rules/anomalous-resource-access.yaml");
  std::string query = rule.substr(rule.find("query: |"), rule.find("alertDetailsOverride:") - rule.find("query: |"));
  rule.replace(rule.find(query), query.size(),
               "query: |\n  EventCountResult_CL\n  | where AnomalyScore > 25\n  | summarize Events = max(Events) by User\n"
               "  | extend AlertSeverity = \"High\"\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n"
               "      - identifier: FullName\n        columnName: User\n");
  rule.replace(rule.find("queryPeriod: 2h"), 15, "queryPeriod: 7d");  // the rows span the week
  dir.write("rules/count.yaml", rule);
  auto ran = session.rules(dir.file("rules"), make_ticks(2026, 11, 8), true);
  ASSERT_TRUE(ran) << ran.status().message();
  ASSERT_EQ(ran->size(), 1u);
  EXPECT_TRUE((*ran)[0].error.empty()) << (*ran)[0].error;
  EXPECT_EQ((*ran)[0].alerts, 2);

  auto html = session.report({});  // finds the run's rows in the detector's table
  ASSERT_TRUE(html) << html.status().message();
  EXPECT_NE(html->find(scored->run_id), std::string::npos) << "the report shows the run";
  EXPECT_NE(html->find("contoso\\\\mallory"), std::string::npos) << "and its rows";
}

}  // namespace
}  // namespace byoml

// Alert calibration on the reference's departments data laid out in time: the known pairs run
// through four weeks, and legitimate novelty (unseen pairs within a department) starts in the
// last week, which training holds out. Cross-department pairs are the anomalies.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "byoml/models/access_anomaly_detector.h"
#include "byoml/models/access_calibration.h"
#include "byoml/models/access_scorer.h"
#include "byoml/sample/departments_scenario.h"

namespace byoml {
namespace {

const Ticks kStart = make_ticks(2026, 10, 5);
Ticks day(int d, int hour = 10) { return kStart + d * kTicksPerDay + hour * kTicksPerHour; }

struct Window {
  std::vector<LikelihoodRow> rows;
  std::vector<TrainingPair> known, novel;  // known: days 0-27; novel: first seen on day 21-27
  std::vector<WindowPair> inter;           // cross-department, never seen
  std::vector<TrainingPair> all() const {
    std::vector<TrainingPair> a = known;
    a.insert(a.end(), novel.begin(), novel.end());
    return a;
  }
};

Window window() {
  DepartmentsSpec spec = DepartmentsSpec::reference();
  spec.tenants = 1;
  Window w;
  w.rows = make_departments_scenario(spec);
  for (const auto& r : w.rows) {
    if (r.split == PairSplit::kTrain)
      w.known.push_back({r.tenant, r.user, r.resource, {static_cast<uint64_t>(r.likelihood) * 28, day(0), day(27)}});
    else if (r.split == PairSplit::kIntra)
      w.novel.push_back({r.tenant, r.user, r.resource, {40, day(21 + static_cast<int>(w.novel.size() % 7)), day(27)}});
    else
      w.inter.push_back({r.tenant, r.user, r.resource, {5, day(30), day(30)}});
  }
  return w;
}

ParamSet params(double budget, int days = 7) {
  ParamSet p(access_anomaly_param_specs());
  EXPECT_TRUE(p.set("alert_budget", std::to_string(budget)));
  EXPECT_TRUE(p.set("calibration_days", std::to_string(days)));
  return p;
}

// How many held-out pairs score above `threshold` under a model of the days before them, fitted here by hand.
size_t held_out_above(const Window& w, const ParamSet& p, double threshold) {
  auto before = fit_access_anomaly(w.known, p, {});
  EXPECT_TRUE(before);
  std::vector<WindowPair> novel;
  for (const auto& n : w.novel) novel.push_back({n.tenant, n.user, n.resource, n.stats});
  AccessScorer scorer(*before, {});
  auto scores = scorer.score(novel);
  return static_cast<size_t>(std::count_if(scores.begin(), scores.end(), [&](const PairScore& s) { return s.score > threshold; }));
}

TEST(Calibration, TheThresholdLetsTheBudgetOfHeldOutNewPairsThrough) {
  const Window w = window();
  ASSERT_GT(w.novel.size(), 100u);
  const uint32_t users = 22;  // every user of the reference departments is active in the last week
  for (double budget : {0.0, 50.0, 100.0, 400.0}) {
    ParamSet p = params(budget);
    auto cal = calibrate_access_anomaly(w.all(), p, {});
    ASSERT_TRUE(cal) << cal.status().message();
    ASSERT_EQ(cal->size(), 1u);
    const TenantCalibration& c = cal->at("0");
    EXPECT_EQ(c.days, 7u);
    EXPECT_EQ(c.users, users);
    EXPECT_EQ(c.candidates, w.novel.size());
    ASSERT_EQ(c.quantiles.size(), static_cast<size_t>(kSeverityQuantiles + 1));
    const auto k = static_cast<size_t>(std::floor(budget * 7 * users / 1000.0));
    EXPECT_EQ(held_out_above(w, p, c.threshold), std::min(k, w.novel.size())) << "budget " << budget;
  }
}

TEST(Calibration, NoneWithoutHeldOutDaysOrNovelty) {
  const Window w = window();
  EXPECT_TRUE(calibrate_access_anomaly(w.all(), params(5, 0), {})->empty()) << "calibration_days 0";
  std::vector<TrainingPair> short_window = w.known;
  for (auto& p : short_window) p.stats.last = day(2);
  EXPECT_TRUE(calibrate_access_anomaly(short_window, params(5), {})->empty()) << "3 days: too short to hold out";
  EXPECT_TRUE(calibrate_access_anomaly(w.known, params(5), {})->empty()) << "nothing new in the held-out days";
}

// The fitted model carries the calibration through its file, and scoring holds new pairs to
// it: cross-department pairs alert, the pairs a user had in training never do, and severity
// is the percentile among the held-out new pairs.
TEST(Calibration, ScoringAlertsOnNewPairsAboveTheCalibratedThreshold) {
  const Window w = window();
  ParamSet p = params(100);
  auto cal = calibrate_access_anomaly(w.all(), p, {});
  ASSERT_TRUE(cal);
  auto fitted = fit_access_anomaly(w.all(), p, {});
  ASSERT_TRUE(fitted);
  fitted->tenants[0].calibration = cal->at("0");
  EncodedModel e = encode_access_anomaly(*fitted);
  ModelSections sections;
  for (const auto& [name, bytes] : e.sections) sections[name] = bytes;
  auto loaded = decode_access_anomaly(p, e.meta, sections, "m");
  ASSERT_TRUE(loaded) << loaded.status().message();
  const auto& m = dynamic_cast<const AccessAnomalyModel&>(**loaded);
  ASSERT_TRUE(m.tenants[0].calibrated());
  EXPECT_EQ(m.tenants[0].calibration.threshold, cal->at("0").threshold);
  EXPECT_EQ(m.tenants[0].calibration.quantiles, cal->at("0").quantiles);
  sections.erase("calibration");
  auto older = decode_access_anomaly(p, e.meta, sections, "m");
  ASSERT_TRUE(older) << "a model file from before calibration still loads";
  EXPECT_FALSE(dynamic_cast<const AccessAnomalyModel&>(**older).tenants[0].calibrated());

  AccessScorer scorer(m, {});
  EXPECT_EQ(scorer.threshold(0), cal->at("0").threshold);
  auto inter = scorer.score(w.inter);
  size_t alerts = static_cast<size_t>(std::count_if(inter.begin(), inter.end(), [](const PairScore& s) { return s.alert; }));
  EXPECT_GT(alerts, inter.size() * 9 / 10) << "cross-department pairs: " << alerts << " of " << inter.size();
  for (const auto& s : inter) EXPECT_EQ(s.severity, percentile_in(cal->at("0").quantiles, s.score));

  std::vector<WindowPair> known;
  for (const auto& k : w.known) known.push_back({k.tenant, k.user, k.resource, {1000, day(30), day(30)}});
  AccessScorer everything(m, ScoreOptions{-100.0});
  for (const auto& s : everything.score(known)) {
    EXPECT_TRUE(s.reasons & kReasonLowAffinity) << "above a threshold of -100";
    EXPECT_FALSE(s.alert) << "a pair used in training is usual access";
  }
  auto first = everything.score(std::vector<WindowPair>{w.inter.front()});
  EXPECT_TRUE(first[0].alert);
  EXPECT_FALSE(parse_threshold("high")) << "auto or a number";
  EXPECT_EQ(*parse_threshold("auto"), std::nullopt);
  EXPECT_EQ(*parse_threshold("1.5"), 1.5);
}

}  // namespace
}  // namespace byoml

// The reference implementation's own acceptance tests (access-anomaly.md), reproduced on the
// same synthetic departments data, plus byoml's determinism and solver checks.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "byoml/models/access_anomaly.h"
#include "byoml/models/access_scorer.h"
#include "byoml/sample/departments_scenario.h"

namespace byoml {
namespace {

struct Scenario {
  std::vector<LikelihoodRow> rows;
  std::vector<TrainingPair> training() const {
    std::vector<TrainingPair> out;
    for (const auto& r : rows)
      if (r.split == PairSplit::kTrain) {
        // first == last: likelihood = count, so the count carries the row's likelihood.
        PairStats s{static_cast<uint64_t>(std::llround(r.likelihood)), 0, 0};
        out.push_back({r.tenant, r.user, r.resource, s});
      }
    return out;
  }
};

ParamSet params_with(std::map<std::string, std::string> overrides) {
  ParamSet p(access_anomaly_param_specs());
  EXPECT_TRUE(p.set("max_iter", "10"));  // the reference's acceptance tests use maxIter 10
  for (const auto& [k, v] : overrides) EXPECT_TRUE(p.set(k, v)) << k;
  return p;
}

AccessAnomalyModel fit(const Scenario& s, const ParamSet& p, unsigned threads = 1) {
  FitOptions o;
  o.threads = threads;
  auto m = fit_access_anomaly(s.training(), p, o);
  EXPECT_TRUE(m) << m.status().message();
  return std::move(m).value();
}

// Mean score of the test pairs of one split whose user and resource the model knows (the
// reference yields NULL for the others, and Spark's mean skips NULLs).
double mean_score(const AccessAnomalyModel& m, const Scenario& s, PairSplit split) {
  double sum = 0;
  int n = 0;
  for (const auto& r : s.rows) {
    if (r.split != split) continue;
    auto t = m.find_tenant(r.tenant);
    auto u = m.find_user(*t, r.user);
    auto res = m.find_resource(*t, r.resource);
    if (!u || !res) continue;
    sum += m.score(*u, *res);
    ++n;
  }
  EXPECT_GT(n, 0);
  return sum / n;
}

TEST(AccessAnomaly, TrainingScoresAreStandardisedPerTenant) {
  Scenario s{make_departments_scenario(DepartmentsSpec::reference())};
  AccessAnomalyModel m = fit(s, params_with({}));
  ASSERT_EQ(m.tenants.size(), 2u);
  for (uint32_t t = 0; t < m.tenants.size(); ++t) {
    double sum = 0, sq = 0, lo = 1e300, hi = -1e300;
    size_t n = 0;
    for (const auto& p : m.pairs) {
      if (m.user_tenant[p.user] != t) continue;
      double z = m.score(p.user, p.resource);
      ASSERT_TRUE(std::isfinite(z));
      sum += z;
      sq += z * z;
      lo = std::min(lo, z);
      hi = std::max(hi, z);
      ++n;
    }
    double mean = sum / static_cast<double>(n);
    double sd = std::sqrt(sq / static_cast<double>(n) - mean * mean);
    EXPECT_LT(std::abs(mean), 1e-3) << "tenant " << t;
    EXPECT_LT(std::abs(sd - 1), 1e-3) << "tenant " << t;
    EXPECT_LT(lo, -1e-3);
    EXPECT_GT(hi, 1e-3);
    EXPECT_EQ(m.tenants[t].components, 1u) << "the shared resource joins every department";
  }
}

TEST(AccessAnomaly, CrossDepartmentPairsScoreFarAboveUnseenSameDepartmentPairs) {
  Scenario s{make_departments_scenario(DepartmentsSpec::reference())};
  for (const char* solver : {"cholesky", "cg"}) {
    AccessAnomalyModel m = fit(s, params_with({{"solver", solver}}));
    double intra = mean_score(m, s, PairSplit::kIntra), inter = mean_score(m, s, PairSplit::kInter);
    EXPECT_GE(inter - intra, 2.0) << solver << ": intra " << intra << " inter " << inter;
  }
}

// The acceptance tests through the scorer in reference mode, as a scoring run applies them:
// every pair of known user and resource gets the reference's score, an unseen user none (its
// NULL), and any pair above 0.5 alerts, a training pair too. byoml's own mode folds the
// unseen user in and, bursts aside, alerts only on new pairs.
TEST(AccessAnomaly, ReferenceModeScoresAsTheReference) {
  Scenario s{make_departments_scenario(DepartmentsSpec::reference())};
  AccessAnomalyModel m = fit(s, params_with({}));
  std::vector<WindowPair> window;
  for (const auto& r : s.rows) window.push_back({r.tenant, r.user, r.resource, {5, 0, 0}});
  window.push_back({s.rows[0].tenant, "nobody", s.rows[0].resource, {5, 0, 0}});
  ScoreOptions o;
  o.reference = true;
  o.threshold = kReferenceThreshold;
  o.burst_resources = 10;
  o.exclusive_users = 5;
  auto scores = AccessScorer(m, o).score(window);
  double sum[3] = {0, 0, 0};
  int n[3] = {0, 0, 0};
  bool training_alert = false;
  for (size_t i = 0; i + 1 < window.size(); ++i) {
    const auto& r = s.rows[i];
    auto t = m.find_tenant(r.tenant);
    auto u = m.find_user(*t, r.user);
    auto res = m.find_resource(*t, r.resource);
    if (!u || !res) {
      EXPECT_TRUE(scores[i].reasons & kReasonNoHistory);
      EXPECT_FALSE(scores[i].alert);
      continue;
    }
    if (m.user_component[*u] == m.resource_component[*res]) {
      EXPECT_DOUBLE_EQ(scores[i].score, m.score(*u, *res));
    }
    EXPECT_EQ(scores[i].alert, scores[i].score > kReferenceThreshold) << r.user << " " << r.resource;
    EXPECT_FALSE(scores[i].reasons & (kReasonBurst | kReasonExclusiveResource));
    training_alert |= r.split == PairSplit::kTrain && scores[i].alert;
    sum[static_cast<int>(r.split)] += scores[i].score;
    ++n[static_cast<int>(r.split)];
  }
  EXPECT_TRUE(training_alert) << "the reference alerts on a training pair above 0.5 too";
  double intra = sum[static_cast<int>(PairSplit::kIntra)] / n[static_cast<int>(PairSplit::kIntra)];
  double inter = sum[static_cast<int>(PairSplit::kInter)] / n[static_cast<int>(PairSplit::kInter)];
  EXPECT_GE(inter - intra, 2.0) << "intra " << intra << " inter " << inter;
  EXPECT_TRUE(scores.back().reasons & kReasonNoHistory) << "an unseen user is not scored";
  EXPECT_EQ(scores.back().score, 0.0);
  EXPECT_FALSE(scores.back().alert);

  o.reference = false;
  o.burst_resources = 0;  // a burst raises the account's usual pairs too, by design
  auto own = AccessScorer(m, o).score(window);
  EXPECT_FALSE(own.back().reasons & kReasonNoHistory) << "byoml folds the unseen user in";
  for (size_t i = 0; i + 1 < window.size(); ++i)
    if (own[i].alert) {
      EXPECT_FALSE(own[i].seen_in_training);
    }
}

TEST(AccessAnomaly, QuickstartVariantSeparatesDepartments) {
  Scenario s{make_departments_scenario(DepartmentsSpec::quickstart())};
  AccessAnomalyModel m = fit(s, params_with({}));
  double intra = mean_score(m, s, PairSplit::kIntra), inter = mean_score(m, s, PairSplit::kInter);
  EXPECT_GE(inter - intra, 2.0) << "intra " << intra << " inter " << inter;
}

TEST(AccessAnomaly, ThreeComponentsWithoutTheSharedResource) {
  DepartmentsSpec spec = DepartmentsSpec::reference();
  spec.shared_resource = false;
  Scenario s{make_departments_scenario(spec)};
  AccessAnomalyModel m = fit(s, params_with({}));
  for (const auto& t : m.tenants) EXPECT_EQ(t.components, 3u) << t.name;
  // hr users and eng resources are in different components.
  uint32_t t0 = *m.find_tenant("0");
  auto u = m.find_user(t0, "hr_user_0");
  auto r = m.find_resource(t0, "eng_res_1");
  ASSERT_TRUE(u && r);
  EXPECT_NE(m.user_component[*u], m.resource_component[*r]);
  for (uint32_t res = m.tenants[t0].resource_begin; res < m.tenants[t0].resource_end; ++res)
    EXPECT_EQ(m.user_component[*u] == m.resource_component[res], m.resources[res].rfind("hr_", 0) == 0)
        << m.resources[res];
}

TEST(AccessAnomaly, WidenedVectorsGiveTheScoreAsOneDotProduct) {
  // The reference's worked example: rank 2, user [1,1], resources [2,2] and [4,4].
  AccessAnomalyModel m;
  m.rank = 2;
  TenantModel t;
  t.name = "0";
  t.user_end = 1;
  t.resource_end = 2;
  m.tenants.push_back(t);
  m.users = {"u"};
  m.resources = {"a", "b"};
  m.user_factors = FactorMatrix{{1, 1}};
  m.resource_factors = FactorMatrix{{2, 2}, {4, 4}};
  m.pairs = {{0, 0, 1, 0, 0, 1}, {0, 1, 1, 0, 0, 1}};
  m.build_index();
  compute_tenant_statistics(m);
  EXPECT_DOUBLE_EQ(m.tenants[0].mu, 6.0);
  EXPECT_DOUBLE_EQ(m.tenants[0].sigma, 2.0);
  Eigen::VectorXd w = m.widened_user(0);
  ASSERT_EQ(w.size(), 4);
  EXPECT_DOUBLE_EQ(w[0], -0.5);
  EXPECT_DOUBLE_EQ(w[1], -0.5);
  EXPECT_DOUBLE_EQ(w[2], 3.0);
  EXPECT_DOUBLE_EQ(w[3], -0.5);
  EXPECT_DOUBLE_EQ(w.dot(m.widened_resource(0)), 1.0);   // dot 4: below the mean, so usual
  EXPECT_DOUBLE_EQ(w.dot(m.widened_resource(1)), -1.0);
  EXPECT_DOUBLE_EQ(m.score(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(m.score(0, 1), -1.0);
}

TEST(AccessAnomaly, SameSeedSameBitsWithOneOrTwoThreads) {
  Scenario s{make_departments_scenario(DepartmentsSpec::quickstart())};
  for (const char* solver : {"cholesky", "cg"}) {
    ParamSet p = params_with({{"solver", solver}});
    AccessAnomalyModel a = fit(s, p, 1), b = fit(s, p, 2);
    EXPECT_TRUE(a.user_factors == b.user_factors) << solver;
    EXPECT_TRUE(a.resource_factors == b.resource_factors) << solver;
    EXPECT_EQ(a.tenants[0].mu, b.tenants[0].mu);
    ParamSet other = p;
    ASSERT_TRUE(other.set("seed", "7"));
    AccessAnomalyModel c = fit(s, other, 2);
    EXPECT_FALSE(a.user_factors == c.user_factors) << "the seed must matter";
  }
}

TEST(AccessAnomaly, NonNegativeFactorsStayNonNegative) {
  Scenario s{make_departments_scenario(DepartmentsSpec::reference())};
  for (const char* solver : {"cholesky", "cg"}) {
    AccessAnomalyModel m = fit(s, params_with({{"solver", solver}}));
    EXPECT_GE(m.user_factors.minCoeff(), 0.0f) << solver;
    EXPECT_GE(m.resource_factors.minCoeff(), 0.0f) << solver;
  }
  AccessAnomalyModel free = fit(s, params_with({{"nonnegative", "false"}}));
  EXPECT_LT(free.user_factors.minCoeff(), 0.0f) << "unconstrained factors take both signs";
}

TEST(AccessAnomaly, SeparateTenantsTrainIndependently) {
  Scenario s{make_departments_scenario(DepartmentsSpec::reference())};
  AccessAnomalyModel m = fit(s, params_with({{"separate_tenants", "true"}}));
  // Each tenant alone: still standardised, and still separating departments.
  for (const auto& p : m.pairs) ASSERT_TRUE(std::isfinite(m.score(p.user, p.resource)));
  EXPECT_GE(mean_score(m, s, PairSplit::kInter) - mean_score(m, s, PairSplit::kIntra), 2.0);
}

TEST(AccessAnomaly, EmptyTrainingSetIsAClearError) {
  auto m = fit_access_anomaly({}, params_with({}), {});
  ASSERT_FALSE(m);
  EXPECT_NE(m.status().message().find("no training events"), std::string::npos);
}

TEST(AccessAnomaly, RescalingMapsEachTenantToLowHigh) {
  std::vector<TrainingPair> pairs = {{"t", "a", "x", {10, 0, 0}}, {"t", "b", "x", {30, 0, 0}},
                                     {"t", "b", "y", {20, 0, 0}}, {"u", "a", "x", {4, 0, 0}}};
  auto m = fit_access_anomaly(pairs, params_with({}), {});
  ASSERT_TRUE(m);
  uint32_t t = *m->find_tenant("t");
  EXPECT_DOUBLE_EQ(m->rescale(t, 10), 5.0);
  EXPECT_DOUBLE_EQ(m->rescale(t, 30), 10.0);
  EXPECT_DOUBLE_EQ(m->rescale(t, 20), 7.5);
  EXPECT_DOUBLE_EQ(m->rescale(*m->find_tenant("u"), 4), 7.5) << "min == max gives 7.5";
}

TEST(Nnls, MatchesTheConstrainedOptimum) {
  // min ½xᵀAx − bᵀx, x ≥ 0 with A = I: the solution is max(b, 0).
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(3, 3);
  Eigen::VectorXd b(3);
  b << 2, -1, 0.5;
  Eigen::VectorXd x = nnls(a, b);
  EXPECT_NEAR(x[0], 2, 1e-12);
  EXPECT_EQ(x[1], 0);
  EXPECT_NEAR(x[2], 0.5, 1e-12);
  // A coupled case checked against the KKT conditions: gradient ≥ 0 where x = 0, = 0 elsewhere.
  Eigen::MatrixXd c(2, 2);
  c << 2, 1, 1, 2;
  Eigen::VectorXd d(2);
  d << 1, -2;
  Eigen::VectorXd y = nnls(c, d);
  Eigen::VectorXd g = c * y - d;
  for (int i = 0; i < 2; ++i) {
    EXPECT_GE(y[i], 0);
    if (y[i] > 0) EXPECT_NEAR(g[i], 0, 1e-12);
    else EXPECT_GE(g[i], -1e-12);
  }
}

}  // namespace
}  // namespace byoml

// Scoring beyond the reference: finite scores with reasons for every pair, fold-in of unseen
// users and resources, the cross-component floor, severity, explanations and allowlists.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "byoml/features/allowlist.h"
#include "byoml/features/pair_features.h"
#include "byoml/models/access_scorer.h"
#include "byoml/events/string_pool.h"
#include "byoml/sample/departments_scenario.h"

namespace byoml {
namespace {

AccessAnomalyModel departments_model(bool shared_resource) {
  DepartmentsSpec spec = DepartmentsSpec::reference();
  spec.shared_resource = shared_resource;
  spec.tenants = 1;
  static std::vector<std::vector<LikelihoodRow>> keep;  // the model's names outlive the rows anyway
  keep.push_back(make_departments_scenario(spec));
  std::vector<TrainingPair> pairs;
  for (const auto& r : keep.back())
    if (r.split == PairSplit::kTrain) pairs.push_back({r.tenant, r.user, r.resource, {static_cast<uint64_t>(r.likelihood), 0, 0}});
  ParamSet p(access_anomaly_param_specs());
  return std::move(fit_access_anomaly(pairs, p, {})).value();
}

WindowPair wp(std::string_view user, std::string_view resource, uint64_t count = 600) {
  return {"0", user, resource, {count, 0, 0}};
}

// A resource of `dept` the model knows.
std::string known_resource(const AccessAnomalyModel& m, const std::string& dept) {
  for (const auto& r : m.resources)
    if (r.rfind(dept + "_res_", 0) == 0) return r;
  return {};
}

TEST(Scoring, EveryPairGetsAFiniteScoreAndReasons) {
  AccessAnomalyModel m = departments_model(false);
  AccessScorer scorer(m, {});
  std::string hr = known_resource(m, "hr"), eng = known_resource(m, "eng");
  std::vector<WindowPair> pairs = {wp("hr_user_0", hr), wp("hr_user_0", eng), wp("nobody", "nothing"),
                                   {"other-tenant", "hr_user_0", hr, {1, 0, 0}}};
  auto s = scorer.score(pairs);
  ASSERT_EQ(s.size(), pairs.size());
  for (const auto& x : s) {
    EXPECT_TRUE(std::isfinite(x.score));
    EXPECT_GE(x.severity, 0);
    EXPECT_LE(x.severity, 100);
  }
  EXPECT_TRUE(s[1].reasons & kReasonCrossComponent);
  EXPECT_GE(s[1].score, m.tenants[0].score_max + 1.0) << "no path between them: above every training score";
  EXPECT_EQ(s[1].severity, 100.0);
  EXPECT_EQ(s[2].reasons & (kReasonNoHistory | kReasonUnseenUser | kReasonUnseenResource),
            kReasonNoHistory | kReasonUnseenUser | kReasonUnseenResource);
  EXPECT_EQ(s[2].score, 0.0);
  EXPECT_TRUE(s[3].reasons & kReasonNoHistory) << "unknown tenant";
  EXPECT_EQ(reason_names(kReasonNewPair | kReasonLowAffinity), (std::vector<std::string>{"new_pair", "low_affinity"}));
}

TEST(Scoring, UnseenUserIsScoredLikeTheTeamTheyWorkWith) {
  AccessAnomalyModel m = departments_model(true);
  AccessScorer scorer(m, {});
  // A new hire who opens three hr shares, and one eng share.
  std::vector<WindowPair> pairs;
  std::vector<std::string> hr;
  for (const auto& r : m.resources)
    if (r.rfind("hr_res_", 0) == 0 && hr.size() < 3) hr.push_back(r);
  ASSERT_EQ(hr.size(), 3u);
  for (const auto& r : hr) pairs.push_back(wp("new_hire", r));
  std::string eng = known_resource(m, "eng");
  pairs.push_back(wp("new_hire", eng, 1));
  auto s = scorer.score(pairs);
  double hr_mean = 0;
  for (size_t i = 0; i < hr.size(); ++i) {
    EXPECT_TRUE(s[i].reasons & kReasonUnseenUser);
    EXPECT_FALSE(s[i].reasons & kReasonNoHistory);
    hr_mean += s[i].score / static_cast<double>(hr.size());
  }
  EXPECT_GT(s.back().score, hr_mean + 2.0) << "the eng share is far from the team the new hire resembles";
  Explanation e = scorer.explain(s[0]);
  EXPECT_EQ(e.usual_resources.size(), 4u) << "a folded-in user's usual resources are its window accesses";
}

TEST(Scoring, UnseenResourceIsScoredLikeTheSharesItResembles) {
  AccessAnomalyModel m = departments_model(true);
  AccessScorer scorer(m, {});
  std::vector<WindowPair> pairs;
  // Window pairs view their names: keep the strings alive.
  const std::vector<std::string> fin = {"fin_user_0", "fin_user_1", "fin_user_2", "fin_user_3", "fin_user_4"};
  for (const auto& u : fin) pairs.push_back(wp(u, "new_fin_share"));
  pairs.push_back(wp("eng_user_0", "new_fin_share", 1));
  auto s = scorer.score(pairs);
  double fin_max = -1e9;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(s[static_cast<size_t>(i)].reasons & kReasonUnseenResource);
    fin_max = std::max(fin_max, s[static_cast<size_t>(i)].score);
  }
  EXPECT_GT(s.back().score, fin_max + 1.0) << "an eng user on a finance-like share";
}

TEST(Scoring, SeverityIsThePercentileAmongTrainingScores) {
  AccessAnomalyModel m = departments_model(true);
  const auto& q = m.tenants[0].quantiles;
  ASSERT_EQ(q.size(), static_cast<size_t>(kSeverityQuantiles + 1));
  EXPECT_EQ(m.severity(0, q.front() - 1), 0.0);
  EXPECT_EQ(m.severity(0, q.back() + 1), 100.0);
  EXPECT_NEAR(m.severity(0, q[500]), 50.0, 0.2);
  // Just below the top quantile in double, but equal to it once rounded to float.
  double below_top = std::nextafter(static_cast<double>(q.back()), -1e300);
  EXPECT_LE(m.severity(0, below_top), 100.0);
  EXPECT_GT(m.severity(0, below_top), 99.0);
  double prev = -1;
  for (double z = -3; z <= 5; z += 0.05) {
    double s = m.severity(0, z);
    EXPECT_GE(s, prev);
    prev = s;
  }
}

TEST(Scoring, ExplanationNamesUsualResourcesSimilarUsersAndPeers) {
  AccessAnomalyModel m = departments_model(true);
  AccessScorer scorer(m, {});
  static const std::string user = "hr_user_0";
  std::string eng = known_resource(m, "eng"), hr;
  uint32_t u = *m.find_user(0, user);
  for (uint64_t i = m.pairs_by_user[u]; i < m.pairs_by_user[u + 1]; ++i)
    if (m.resources[m.pairs[i].resource] != "shared_res") hr = m.resources[m.pairs[i].resource];
  auto s = scorer.score(std::vector<WindowPair>{wp(user, eng), wp(user, hr)});
  Explanation far = scorer.explain(s[0]), usual = scorer.explain(s[1]);
  ASSERT_FALSE(far.usual_resources.empty());
  for (const auto& [r, l] : far.usual_resources) {
    EXPECT_TRUE(m.find_pair(u, *m.find_resource(0, r))) << r << " is one of the user's training resources";
    EXPECT_GT(l, 0);
  }
  ASSERT_FALSE(far.similar_users.empty());
  for (const auto& [v, c] : far.similar_users) EXPECT_EQ(v.rfind("eng_", 0), 0u) << "only eng users use an eng share";
  EXPECT_EQ(far.peers, 10u);
  EXPECT_EQ(far.peers_using, 0u) << "no hr peer uses the eng share";
  EXPECT_GT(usual.peers_using, 0u) << "hr peers use hr shares";
  EXPECT_GT(far.resource_users, 0u);
}

TEST(Scoring, AllowlistMarksPairsAndParsesGlobs) {
  auto al = Allowlist::parse(R"(entries:
  - account: "svc-*"
    action: skip-result
    reason: automation
  - resource: '\\*\NETLOGON'
    action: skip-model-update
  - account: alice
    resource: '\\fs01\hr'
    action: skip-result
)", "allow.yaml");
  ASSERT_TRUE(al) << al.status().message();
  EXPECT_TRUE(al->matches(AllowAction::kSkipResult, "svc-backup", "\\\\fs01\\x"));
  EXPECT_FALSE(al->matches(AllowAction::kSkipModelUpdate, "svc-backup", "\\\\fs01\\x"));
  EXPECT_TRUE(al->matches(AllowAction::kSkipModelUpdate, "bob", "\\\\*\\netlogon")) << "case-insensitive, literal backslashes";
  EXPECT_TRUE(al->matches(AllowAction::kSkipResult, "ALICE", "\\\\fs01\\hr"));
  EXPECT_FALSE(al->matches(AllowAction::kSkipResult, "alice", "\\\\fs01\\fin"));
  for (const char* bad : {"entries: 3", "entries:\n  - action: skip-result\n", "entries:\n  - account: a\n    action: nope\n",
                          "entries:\n  - account: a\n    colour: red\n", "entries: [unclosed"}) {
    auto r = Allowlist::parse(bad, "bad.yaml");
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.status().message().rfind("bad.yaml", 0), 0u) << r.status().message();
    }
  }
  AccessAnomalyModel m = departments_model(true);
  auto svc = Allowlist::parse("entries:\n  - account: hr_user_0\n    action: skip-result\n", "a");
  ScoreOptions o;
  o.allowlist = &*svc;
  AccessScorer scorer(m, o);
  auto s = scorer.score(std::vector<WindowPair>{wp("hr_user_0", "shared_res"), wp("hr_user_1", "shared_res")});
  EXPECT_TRUE(s[0].reasons & kReasonAllowlisted);
  EXPECT_FALSE(s[1].reasons & kReasonAllowlisted);
}

// A cluster scores a window in partitions: the fold-in of unseen users and resources is the
// global phase (all partitions' pairs, gathered in any order), then each partition is scored on
// its own. Every pair must score exactly as it does when the window is scored whole.
TEST(Scoring, OnePartitionAndFourGiveTheSameScores) {
  AccessAnomalyModel m = departments_model(true);
  std::vector<std::string> names;  // owns the names the pairs view
  names.reserve(1000);
  auto name = [&](std::string s) -> std::string_view { return names.emplace_back(std::move(s)); };
  std::vector<WindowPair> window;
  for (const char* dept : {"hr", "fin", "eng"}) {
    std::vector<std::string> resources;
    for (const auto& r : m.resources)
      if (r.rfind(std::string(dept) + "_res_", 0) == 0) resources.push_back(r);
    ASSERT_GE(resources.size(), 4u);
    std::string_view fresh = name(std::string(dept) + "_new_share");
    for (int u = 0; u < 5; ++u) {
      std::string_view known = name(fmt::format("{}_user_{}", dept, u));
      window.push_back(wp(known, name(resources[static_cast<size_t>(u) % resources.size()]), 300 + 10 * u));
      window.push_back(wp(known, fresh, 200 + 7 * u));  // an unseen resource whose users span partitions
      std::string_view hire = name(fmt::format("{}_hire_{}", dept, u));
      for (size_t r = 0; r < 3; ++r) window.push_back(wp(hire, name(resources[(u + r) % resources.size()]), 100 + 13 * r));
    }
  }
  window.push_back(wp("hr_hire_0", "eng_new_share", 5));
  window.push_back(wp("nobody", "nothing", 1));

  AccessScorer whole(m, {});
  const std::vector<PairScore> expected = whole.score(window);

  std::vector<std::vector<size_t>> parts(4);
  for (size_t i = 0; i < window.size(); ++i) parts[stable_hash(window[i].user) % 4].push_back(i);
  std::vector<WindowPair> gathered;  // the global phase sees every pair, in another order
  for (size_t p = parts.size(); p-- > 0;)
    for (auto it = parts[p].rbegin(); it != parts[p].rend(); ++it) gathered.push_back(window[*it]);
  AccessScorer split(m, {});
  split.fold_in(gathered);
  size_t unseen_users = 0, unseen_resources = 0, nonempty = 0;
  std::set<size_t> fresh_share_parts;
  for (size_t p = 0; p < parts.size(); ++p) {
    std::vector<WindowPair> part;
    for (size_t i : parts[p]) part.push_back(window[i]);
    nonempty += !part.empty();
    const std::vector<PairScore> got = split.score_folded(part);
    for (size_t k = 0; k < part.size(); ++k) {
      const PairScore& want = expected[parts[p][k]];
      EXPECT_EQ(got[k].score, want.score) << part[k].user << " " << part[k].resource;
      EXPECT_EQ(got[k].severity, want.severity);
      EXPECT_EQ(got[k].reasons, want.reasons);
      unseen_users += (want.reasons & kReasonUnseenUser) && !(want.reasons & kReasonNoHistory);
      unseen_resources += (want.reasons & kReasonUnseenResource) && !(want.reasons & kReasonNoHistory);
      if (part[k].resource == "hr_new_share") fresh_share_parts.insert(p);
    }
  }
  EXPECT_EQ(nonempty, 4u);
  EXPECT_GE(unseen_users, 45u) << "the hires are folded in";
  EXPECT_GE(unseen_resources, 15u) << "the new shares are folded in";
  EXPECT_GE(fresh_share_parts.size(), 2u) << "an unseen resource's users sit in several partitions";
}

// A sweep: an hr user opens 30 eng shares in 10 minutes, and its own share in the middle of
// them. The burst raises every pair active in it, the usual share included; the same shares
// opened over a working day, or 9 of them in 10 minutes, are no burst.
TEST(Scoring, ASweepOf30SharesIn10MinutesIsABurstWithTheUsualShareInIt) {
  AccessAnomalyModel m = departments_model(false);
  std::vector<std::string> eng;
  for (const auto& r : m.resources)
    if (r.rfind("eng_res_", 0) == 0 && eng.size() < 30) eng.push_back(r);
  ASSERT_EQ(eng.size(), 30u);
  const uint32_t user0 = *m.find_user(0, "hr_user_0");
  const std::string own = m.resources[m.pairs[m.pairs_by_user[user0]].resource];  // one it used in training
  const Ticks t0 = 1'000 * kTicksPerDay;
  auto at = [&](std::string_view user, std::string_view resource, Ticks first, Ticks last) {
    return WindowPair{"0", user, resource, {3, first, last, 0}};
  };
  std::vector<WindowPair> window;
  for (size_t i = 0; i < eng.size(); ++i) {
    const Ticks t = t0 + static_cast<Ticks>(i) * 20 * kTicksPerSecond;  // 30 shares in 9m40s
    window.push_back(at("hr_user_0", eng[i], t, t));
    window.push_back(at("hr_user_1", eng[i], t0 + static_cast<Ticks>(i) * 15 * kTicksPerMinute,
                        t0 + static_cast<Ticks>(i) * 15 * kTicksPerMinute));  // over 7 hours
    if (i < 9) window.push_back(at("hr_user_2", eng[i], t, t));
  }
  window.push_back(at("hr_user_0", own, t0 + 5 * kTicksPerMinute, t0 + 5 * kTicksPerMinute));   // within the sweep
  window.push_back(at("hr_user_3", own, t0 + 5 * kTicksPerMinute, t0 + 5 * kTicksPerMinute));   // another user

  ScoreOptions o;
  o.threshold = 100.0;  // nothing is above it: what alerts, the burst raised
  o.burst_resources = 10;
  o.burst_window = 10 * kTicksPerMinute;
  auto s = AccessScorer(m, o).score(window);
  size_t sweep = 0;
  for (size_t i = 0; i < window.size(); ++i) {
    const bool in_burst = window[i].user == "hr_user_0";
    EXPECT_EQ((s[i].reasons & kReasonBurst) != 0, in_burst) << window[i].user << " " << window[i].resource;
    EXPECT_EQ(s[i].alert, in_burst) << window[i].user << " " << window[i].resource;
    EXPECT_FALSE(s[i].above);
    if (!in_burst) continue;
    ++sweep;
    EXPECT_EQ(s[i].burst_from, t0);
    EXPECT_EQ(s[i].burst_to, t0 + 29 * 20 * kTicksPerSecond);
    EXPECT_TRUE(s[i].alerts_at(window[i].stats.first));
    EXPECT_FALSE(s[i].alerts_at(t0 + kTicksPerHour)) << "an access after the burst does not alert";
    EXPECT_EQ(s[i].seen_in_training, window[i].resource == own) << "the usual share is raised too";
  }
  EXPECT_EQ(sweep, 31u);

  // With burst_resources 0 there is none; 31 new shares are more than the sweep opened; 30 are
  // exactly what it opened.
  for (auto [need, expect] : {std::pair<int64_t, bool>{0, false}, {31, false}, {30, true}}) {
    o.burst_resources = need;
    auto again = AccessScorer(m, o).score(window);
    EXPECT_EQ((again[0].reasons & kReasonBurst) != 0, expect) << need;
  }
}

// A small company on two file servers: four teams of three, each with its team share on fs1
// and everyone on the department share; a backup account and a workstation that touch
// everything (and 30 old shares on fs2 no one else uses); "\\fs2\\archive" used by team a only.
AccessAnomalyModel two_servers_model(std::vector<std::string>& names) {
  names.reserve(200);
  auto n = [&](std::string s) -> std::string_view { return names.emplace_back(std::move(s)); };
  std::vector<TrainingPair> pairs;
  auto use = [&](std::string_view u, std::string_view r, uint64_t count) { pairs.push_back({"0", u, r, {count, 0, 0}}); };
  std::vector<std::string_view> all_resources;
  for (char team : std::string("abcd")) {
    std::string_view share = n(fmt::format("\\\\fs1\\team-{}", team));
    all_resources.push_back(share);
    for (int i = 0; i < 3; ++i) {
      std::string_view user = n(fmt::format("{}{}", team, i));
      use(user, share, 8);
      use(user, "\\\\fs1\\dept", 3);
      if (team == 'a') use(user, "\\\\fs2\\archive", 2);
    }
  }
  all_resources.push_back("\\\\fs1\\dept");
  all_resources.push_back("\\\\fs2\\archive");
  for (int i = 0; i < 30; ++i) all_resources.push_back(n(fmt::format("\\\\fs2\\old-{:02}", i)));  // the backup's alone
  for (std::string_view broad : {"svc_backup", "ws01$"})
    for (std::string_view r : all_resources) use(broad, r, 4);
  ParamSet p(access_anomaly_param_specs());
  return std::move(fit_access_anomaly(pairs, p, {})).value();
}

// A closed group's share (three users, the backup account aside) opened from outside the group
// alerts from a normal day's median new pair up; the department share does not count as one.
// Accounts that use everything stand in no explanation.
TEST(Scoring, AClosedGroupsShareOpenedFromOutsideIsExclusive) {
  std::vector<std::string> names;
  AccessAnomalyModel m = two_servers_model(names);
  ScoreOptions o;
  o.threshold = 100.0;  // nothing is above it
  o.exclusive_users = 3;
  std::vector<WindowPair> window = {wp("b0", "\\\\fs1\\team-a"), wp("b0", "\\\\fs2\\archive"),
                                    wp("a0", "\\\\fs1\\team-a"), wp("b1", "\\\\fs1\\dept")};
  AccessScorer scorer(m, o);
  auto s = scorer.score(window);
  for (size_t i : {0, 1}) {
    EXPECT_TRUE(s[i].reasons & kReasonExclusiveResource) << window[i].resource;
    EXPECT_GE(s[i].severity, 50.0) << "far from b0's own shares";
    EXPECT_TRUE(s[i].alert) << window[i].resource;
  }
  EXPECT_FALSE(s[2].reasons & kReasonExclusiveResource) << "a0 is in the group";
  EXPECT_FALSE(s[2].alert);
  EXPECT_FALSE(s[3].reasons & kReasonExclusiveResource) << "b1 used the department share in training";
  o.exclusive_users = 2;  // the team has three: no longer a closed group of at most two
  EXPECT_FALSE(AccessScorer(m, o).score(window)[0].reasons & kReasonExclusiveResource);

  Explanation e = scorer.explain(s[0]);
  ASSERT_FALSE(e.similar_users.empty());
  for (const auto& [user, sim] : e.similar_users) {
    EXPECT_NE(user, "svc_backup");
    EXPECT_NE(user, "ws01$");
    EXPECT_EQ(user[0], 'a') << "team a uses it";
  }
  EXPECT_EQ(e.resource_users, 5u) << "counted, all the same";
}

// With identity data, a share that a part of one department uses is that department's closed
// group even past exclusive_users: teams a and b make department x (six people), team c is y,
// team d alone is z. Team a's share opened from y is exclusive; from b, in x, it is not (a
// team's share in one's own department); team d's share is all of z, not a part of it.
TEST(Scoring, APartOfADepartmentsShareOpenedFromAnotherDepartmentIsExclusive) {
  std::vector<std::string> names;
  AccessAnomalyModel m = two_servers_model(names);
  IdentityTimeline t;
  for (const char* u : {"a0", "a1", "a2", "b0", "b1", "b2"}) t.add(u, 0, "x");
  for (const char* u : {"c0", "c1", "c2"}) t.add(u, 0, "y");
  for (const char* u : {"d0", "d1", "d2"}) t.add(u, 0, "z");
  ScoreOptions o;
  o.threshold = 100.0;  // nothing is above it
  o.exclusive_users = 0;
  o.exclusive_department_users = 3;
  o.identity = &t;
  std::vector<WindowPair> window = {wp("c0", "\\\\fs1\\team-a"), wp("b0", "\\\\fs1\\team-a"),
                                    wp("a0", "\\\\fs1\\team-d")};
  auto s = AccessScorer(m, o).score(window);
  EXPECT_TRUE(s[0].reasons & kReasonExclusiveResource);
  EXPECT_TRUE(s[0].alert);
  EXPECT_FALSE(s[1].reasons & kReasonExclusiveResource) << "b0 is in department x";
  EXPECT_FALSE(s[2].reasons & kReasonExclusiveResource) << "team d is all of department z";
  o.exclusive_department_users = 2;  // team a has three
  EXPECT_FALSE(AccessScorer(m, o).score(window)[0].reasons & kReasonExclusiveResource);
  o.exclusive_department_users = 3;
  o.identity = nullptr;
  EXPECT_FALSE(AccessScorer(m, o).score(window)[0].reasons & kReasonExclusiveResource) << "no departments known";
}

// A new share on fs1, where team a works, scores for a0 as a0's shares there; a new share on
// fs2, where b0 never worked, stands in for fs2's shares, which are team a's archive to b0.
TEST(Scoring, ANewShareOnTheUsersOwnServerScoresAsTheUsersSharesThere) {
  std::vector<std::string> names;
  AccessAnomalyModel m = two_servers_model(names);
  std::vector<WindowPair> window = {wp("a0", "\\\\fs1\\team-a-projects"), wp("b0", "\\\\fs2\\archive-2026"),
                                    wp("a1", "\\\\fs1\\team-a")};
  auto s = AccessScorer(m, {}).score(window);
  ASSERT_TRUE(s[0].reasons & kReasonUnseenResource);
  const double own = (m.score(*m.find_user(0, "a0"), *m.find_resource(0, "\\\\fs1\\team-a")) +
                      m.score(*m.find_user(0, "a0"), *m.find_resource(0, "\\\\fs1\\dept"))) / 2;
  EXPECT_NEAR(s[0].score, own, 1e-9) << "the mean of a0's scores on its two fs1 shares";
  EXPECT_LT(s[0].score, s[1].score);
  EXPECT_GT(s[1].score, m.score(*m.find_user(0, "b0"), *m.find_resource(0, "\\\\fs1\\team-b"))) << "not b0's own";
}

// hr_user_0 moves to engineering on day 30: engineering's shares are expected from then on
// (peer_group_change, no alert). The same shares opened before the move, by an hr colleague who
// did not move, or with no identity data at all, alert as before.
TEST(Scoring, ATransferWithIdentityDataMakesTheNewDepartmentsSharesExpected) {
  constexpr Ticks kDay = kTicksPerDay;
  AccessAnomalyModel m = departments_model(false);
  IdentityTimeline t;
  for (const auto& u : m.users) t.add(u, 0, u.substr(0, u.find('_')));
  t.add("hr_user_0", 30 * kDay, "eng");
  std::vector<std::string> eng;
  for (const auto& r : m.resources)
    if (r.rfind("eng_res_", 0) == 0 && eng.size() < 3) eng.push_back(r);
  ASSERT_EQ(eng.size(), 3u);
  auto at = [](std::string_view user, std::string_view resource, Ticks day) {
    return WindowPair{"0", user, resource, {5, day * kDay, day * kDay, 0}};
  };
  std::vector<WindowPair> window;
  for (const auto& r : eng) {
    window.push_back(at("hr_user_0", r, 31));
    window.push_back(at("hr_user_0", r, 29));
    window.push_back(at("hr_user_1", r, 31));
  }
  ScoreOptions o;
  o.threshold = 0.0;
  o.identity = &t;
  auto s = AccessScorer(m, o).score(window);
  o.identity = nullptr;
  auto without = AccessScorer(m, o).score(window);
  for (size_t i = 0; i < window.size(); ++i) {
    const bool moved = window[i].user == "hr_user_0" && window[i].stats.last >= 30 * kDay;
    EXPECT_EQ((s[i].reasons & kReasonPeerGroupChange) != 0, moved) << i;
    EXPECT_EQ(s[i].alert, !moved) << i;
    EXPECT_TRUE(without[i].alert) << i;
    EXPECT_FALSE(without[i].reasons & kReasonPeerGroupChange);
    EXPECT_EQ(s[i].score, without[i].score) << "the score itself stays";
  }
}

TEST(PairFeatures, LikelihoodDeduplicationAndMachineScopedRecordNumbers) {
  PairStats s{10, make_ticks(2026, 1, 1, 23), make_ticks(2026, 1, 3, 1)};
  EXPECT_DOUBLE_EQ(pair_likelihood(s), 10.0 / 3) << "days are UTC dates: Jan 1 to Jan 3 is 2 days apart";
  Vocabulary v;
  EventBatch b;
  auto add = [&](const char* user, const char* res, const char* machine, RecordId id, Ticks t, uint32_t eid = 5140) {
    b.time.push_back(t);
    b.tenant.push_back(v.tenants.intern("0"));
    b.user.push_back(v.users.intern(user));
    b.account_type.push_back(AccountType::kUser);
    b.machine.push_back(v.machines.intern(machine));
    b.resource.push_back(user[0] ? v.resources.intern(res) : 0);
    b.source_ip.push_back(0);
    b.event_id.push_back(eid);
    b.record_id.push_back(id);
  };
  RecordId g = RecordId::from_text("2bdbba9f-f69f-430c-96c9-2367531ce4c3");
  Ticks t0 = make_ticks(2026, 1, 1);
  add("a", "r", "m1", g, t0);
  add("a", "r", "m1", g, t0);                             // export retry: dropped
  add("a", "r", "m1", RecordId::from_number(7), t0 + 1);
  add("a", "r", "m2", RecordId::from_number(7), t0 + 2);  // same number, other machine: kept
  add("a", "r", "m2", RecordId{}, t0 + 3);                // no id: always kept
  add("a", "r", "m2", RecordId{}, t0 + 3);
  add("b", "r", "m1", RecordId::from_number(8), t0 + kTicksPerDay);
  add("a", "r", "m1", RecordId::from_number(9), t0, 5145);  // not selected
  add("", "", "m1", RecordId::from_number(10), t0);         // no user, no resource
  PairAccumulator acc({5140}, true);
  std::vector<int64_t> rows;
  acc.add(b, v, &rows);
  EXPECT_EQ(acc.events(), 6u);
  EXPECT_EQ(acc.duplicates(), 1u);
  EXPECT_EQ(acc.incomplete(), 1u);
  ASSERT_EQ(acc.size(), 2u);
  int64_t a = acc.find({v.tenants.intern("0"), v.users.intern("a"), v.resources.intern("r")});
  ASSERT_NE(a, kNoPair);
  EXPECT_EQ(acc.stats()[static_cast<size_t>(a)].count, 5u);
  EXPECT_EQ(acc.stats()[static_cast<size_t>(a)].machine, v.machines.intern("m2")) << "machine of the latest access";
  EXPECT_EQ(rows, (std::vector<int64_t>{a, kNoPair, a, a, a, a, 1 - a, kNoPair, kNoPair}));
  PairAccumulator keep_all({5140}, false);
  keep_all.add(b, v);
  EXPECT_EQ(keep_all.events(), 7u) << "--dedupe false keeps the retry";
}

}  // namespace
}  // namespace byoml

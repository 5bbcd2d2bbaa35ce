// Scoring throughput once events are parsed: window pair statistics (with record
// de-duplication), pair scores (with fold-in of unseen users and resources) and a score for
// every event, on one core. Then unseen users against a large model: each is folded in and
// scored through stand-ins found by the candidate index, so the cost follows the window, not
// the model. Prints figures; asserts nothing.
//   bench_score [--events N] [--users U] [--model-users M] [--unseen K]
#include <cstdio>
#include <string>

#include "bench_util.h"
#include "byoml/common/rng.h"
#include "byoml/models/access_scorer.h"

using namespace byoml;
using bench::Clock;

// A model of `model_users` users (teams of 50 sharing 40 resources, 5 pairs each), then a
// window of `unseen` new users, each opening 10 of one team's resources.
void unseen_users(uint32_t model_users, uint32_t unseen) {
  const uint32_t team = 50, team_resources = 40, teams = (model_users + team - 1) / team;
  Rng rng(11);
  auto t0 = Clock::now();
  std::vector<std::string> user(model_users), resource(static_cast<size_t>(teams) * team_resources);
  for (uint32_t u = 0; u < model_users; ++u) user[u] = "contoso\\user" + std::to_string(u);
  for (size_t r = 0; r < resource.size(); ++r) resource[r] = "\\\\fs" + std::to_string(r / 40) + "\\share" + std::to_string(r);
  std::vector<TrainingPair> pairs;
  pairs.reserve(static_cast<size_t>(model_users) * 5);
  for (uint32_t u = 0; u < model_users; ++u)
    for (uint32_t j = 0; j < 5; ++j)
      pairs.push_back({"0", user[u], resource[(u / team) * team_resources + (u + j * 7) % team_resources], {1 + rng.below(20), 0, 0}});
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return std::tie(a.user, a.resource) < std::tie(b.user, b.resource); });
  pairs.erase(std::unique(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.user == b.user && a.resource == b.resource; }), pairs.end());
  ParamSet params(access_anomaly_param_specs());
  (void)params.set("max_iter", "2");
  (void)params.set("solver", "cg");
  AccessAnomalyModel model = fit_access_anomaly(pairs, params, {}).value();
  pairs = {};
  std::printf("\nunseen users: model of %zu users, %zu resources, %zu pairs (built in %.1f s)\n", model.users.size(),
              model.resources.size(), model.pairs.size(), bench::seconds_since(t0));
  std::vector<std::string> names(unseen);
  std::vector<WindowPair> window;
  for (uint32_t u = 0; u < unseen; ++u) names[u] = "contoso\\new" + std::to_string(u);
  for (uint32_t u = 0; u < unseen; ++u) {
    auto t = static_cast<uint32_t>(rng.below(teams));
    for (uint32_t j = 0; j < 10; ++j)
      window.push_back({"0", names[u], resource[t * team_resources + (u + j * 3) % team_resources], {1 + rng.below(5), 0, 0}});
  }
  auto s = Clock::now();
  AccessScorer scorer(model, {});
  std::vector<PairScore> scores = scorer.score(window);
  double t = bench::seconds_since(s);
  size_t folded = 0;
  for (const auto& p : scores) folded += (p.reasons & kReasonUnseenUser) != 0;
  std::printf("              %u unseen users, %zu pairs (%zu scored as unseen): %.2f s, %.0f unseen users/s\n", unseen,
              window.size(), folded, t, unseen / t);
  std::printf("peak RSS %.0f MiB\n", bench::peak_rss_mib());
}

int main(int argc, char** argv) {
  uint64_t events = 10'000'000;
  uint32_t users = 20'000, model_users = 2'000'000, unseen = 20'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--events") events = std::stoull(argv[i + 1]);
    else if (a == "--users") users = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (a == "--model-users") model_users = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (a == "--unseen") unseen = static_cast<uint32_t>(std::stoul(argv[i + 1]));
  }
  const uint32_t team = 50, team_resources = 40, teams = (users + team - 1) / team;
  const uint32_t resources = teams * team_resources;
  Rng rng(5);
  std::vector<std::string> user_names(users), resource_names(resources);
  for (uint32_t u = 0; u < users; ++u) user_names[u] = "contoso\\user" + std::to_string(u);
  for (uint32_t r = 0; r < resources; ++r) resource_names[r] = "\\\\fs" + std::to_string(r / 40) + "\\share" + std::to_string(r);
  // Training: each user uses 20 of the team's resources.
  std::vector<TrainingPair> pairs;
  for (uint32_t u = 0; u < users; ++u)
    for (uint32_t j = 0; j < 20; ++j) {
      uint32_t r = (u / team) * team_resources + (u * 7 + j * 13) % team_resources;
      pairs.push_back({"0", user_names[u], resource_names[r], {1 + rng.below(50), 0, 0}});
    }
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return std::tie(a.user, a.resource) < std::tie(b.user, b.resource); });
  pairs.erase(std::unique(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.user == b.user && a.resource == b.resource; }), pairs.end());
  ParamSet params(access_anomaly_param_specs());
  (void)params.set("max_iter", "5");
  auto t0 = Clock::now();
  AccessAnomalyModel model = fit_access_anomaly(pairs, params, {}).value();
  std::printf("model: %zu users, %zu resources, %zu pairs, rank %d (fitted in %.1f s)\n", model.users.size(),
              model.resources.size(), model.pairs.size(), model.rank, bench::seconds_since(t0));

  // Parsed events: 95% within the user's team, 5% anywhere; 1% of users are new.
  Vocabulary vocab;
  uint32_t tenant = vocab.tenants.intern("0"), machine = vocab.machines.intern("fs0");
  std::vector<uint32_t> uid(users + users / 100), rid(resources);
  for (uint32_t u = 0; u < uid.size(); ++u) uid[u] = vocab.users.intern(u < users ? user_names[u] : "contoso\\new" + std::to_string(u));
  for (uint32_t r = 0; r < resources; ++r) rid[r] = vocab.resources.intern(resource_names[r]);
  std::vector<EventBatch> batches;
  for (uint64_t done = 0; done < events;) {
    EventBatch b;
    size_t n = std::min<uint64_t>(65536, events - done);
    b.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      auto u = static_cast<uint32_t>(rng.below(uid.size()));
      uint32_t r = rng.chance(0.95) ? (u % users / team) * team_resources + static_cast<uint32_t>(rng.below(team_resources))
                                    : static_cast<uint32_t>(rng.below(resources));
      b.time.push_back(make_ticks(2026, 11, 2) + static_cast<Ticks>(rng.below(static_cast<uint64_t>(kTicksPerHour))));
      b.tenant.push_back(tenant);
      b.user.push_back(uid[u]);
      b.account_type.push_back(AccountType::kUser);
      b.machine.push_back(machine);
      b.resource.push_back(rid[r]);
      b.source_ip.push_back(0);
      b.event_id.push_back(5140);
      b.record_id.push_back({rng.next(), rng.next(), RecordId::Kind::kGuid});
    }
    done += n;
    batches.push_back(std::move(b));
  }

  for (bool dedupe : {true, false}) {
    auto start = Clock::now();
    PairAccumulator acc({5140}, dedupe);
    std::vector<std::vector<int64_t>> row_pairs(batches.size());
    for (size_t i = 0; i < batches.size(); ++i) acc.add(batches[i], vocab, &row_pairs[i]);
    double t_pairs = bench::seconds_since(start);
    auto s1 = Clock::now();
    std::vector<WindowPair> window(acc.size());
    for (size_t i = 0; i < acc.size(); ++i)
      window[i] = {vocab.tenants.str(acc.keys()[i].tenant), vocab.users.str(acc.keys()[i].user),
                   vocab.resources.str(acc.keys()[i].resource), acc.stats()[i]};
    AccessScorer scorer(model, {});
    std::vector<PairScore> scores = scorer.score(window);
    double t_score = bench::seconds_since(s1);
    auto s2 = Clock::now();
    std::vector<double> event_score;
    event_score.reserve(events);
    for (const auto& rp : row_pairs)
      for (int64_t p : rp) event_score.push_back(p == kNoPair ? 0.0 : scores[static_cast<size_t>(p)].score);
    double t_events = bench::seconds_since(s2);
    double total = t_pairs + t_score + t_events;
    std::printf("dedupe %-5s  %lu events, %zu pairs: pair statistics %.2f s, pair scores %.2f s, per-event %.2f s\n",
                dedupe ? "on" : "off", static_cast<unsigned long>(events), acc.size(), t_pairs, t_score, t_events);
    std::printf("              %.2f M events/s on one core (target 5)\n", static_cast<double>(events) / total / 1e6);
  }
  std::printf("peak RSS %.0f MiB\n", bench::peak_rss_mib());
  unseen_users(model_users, unseen);
  return 0;
}

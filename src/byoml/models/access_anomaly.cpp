#include "byoml/models/access_anomaly.h"
#include "byoml/common/param_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "byoml/events/string_pool.h"

namespace byoml {

const ParamTable<AccessAnomalyParams>& access_anomaly_params() {
  using P = AccessAnomalyParams;
  static const ParamTable<P> table = ParamTable<P>()
      .add("rank", &P::rank, "Latent factors per user and resource", 1, 512)
      .add("max_iter", &P::iterations, "ALS iterations (the Sentinel training notebook used 100)", 1, 1000)
      .add("reg_param", &P::reg, "Regularisation λ, scaled per row by its number of observed pairs (ALS-WR)", 0, 1e6)
      .add("alpha", &P::alpha, "Confidence c = 1 + alpha * rating of an observed pair", 0, 1e6)
      .add("low_value", &P::low_value, "Per-tenant likelihoods are rescaled linearly to [low_value, high_value]", 0, 1e9)
      .add("high_value", &P::high_value, "Upper end of the rescaled likelihood", 0, 1e9)
      .add("separate_tenants", &P::separate_tenants, "One ALS per tenant instead of one for all tenants")
      .add("nonnegative", &P::nonnegative, "Constrain factors to be >= 0 (NNLS per row)")
      .add("solver", &P::solver,
           "cholesky solves each row exactly; cg takes a few warm-started conjugate-gradient steps (faster at high rank)",
           0, 0, {"cholesky", "cg"})
      .add("cg_steps", &P::cg_steps, "Conjugate-gradient steps per row and half-iteration (solver cg)", 1, 100)
      .add("seed", &P::seed, "Seed of the random start; the same seed gives the same model", 0, 9007199254740991.0)
      .add("dedupe", &P::dedupe, "Count a record id seen twice (export retries, overlapping files) once")
      .add("alert_budget", &P::alert_budget,
           "Alerts a normal day may raise per 1,000 users: the scoring threshold is calibrated to it on held-out days", 0, 1e6)
      .add("calibration_days", &P::calibration_days,
           "Last days of the window held out to calibrate the threshold and severity (at most a quarter of the window; 0: "
           "none, the reference's fixed 0.5)", 0, 365);
  return table;
}

std::vector<ParamSpec> access_anomaly_param_specs() { return access_anomaly_params().specs(); }

void AccessAnomalyModel::build_index() {
  tenant_index.clear();
  user_index.assign(tenants.size(), {});
  resource_index.assign(tenants.size(), {});
  user_tenant.assign(users.size(), 0);
  resource_tenant.assign(resources.size(), 0);
  for (uint32_t t = 0; t < tenants.size(); ++t) {
    const TenantModel& tm = tenants[t];
    tenant_index.emplace(tm.name, t);
    for (uint32_t u = tm.user_begin; u < tm.user_end; ++u) {
      user_index[t].emplace(users[u], u);
      user_tenant[u] = t;
    }
    for (uint32_t r = tm.resource_begin; r < tm.resource_end; ++r) {
      resource_index[t].emplace(resources[r], r);
      resource_tenant[r] = t;
    }
  }
  pairs_by_user.assign(users.size() + 1, 0);
  pairs_by_resource.assign(resources.size() + 1, 0);
  for (const auto& p : pairs) {
    ++pairs_by_user[p.user + 1];
    ++pairs_by_resource[p.resource + 1];
  }
  std::partial_sum(pairs_by_user.begin(), pairs_by_user.end(), pairs_by_user.begin());
  std::partial_sum(pairs_by_resource.begin(), pairs_by_resource.end(), pairs_by_resource.begin());
  pair_order_by_resource.assign(pairs.size(), 0);
  std::vector<uint64_t> next(pairs_by_resource.begin(), pairs_by_resource.end() - 1);
  for (uint32_t i = 0; i < pairs.size(); ++i) pair_order_by_resource[next[pairs[i].resource]++] = i;
  size_t slots = 16;
  while (slots < 2 * pairs.size()) slots *= 2;
  pair_slots.assign(slots, {0, 0});
  for (uint32_t i = 0; i < pairs.size(); ++i) {
    uint64_t key = (static_cast<uint64_t>(pairs[i].user) << 32 | pairs[i].resource) + 1;
    size_t s = stable_hash(std::string_view(reinterpret_cast<const char*>(&key), sizeof key)) & (slots - 1);
    while (pair_slots[s].first != 0) s = (s + 1) & (slots - 1);
    pair_slots[s] = {key, i};
  }
}

std::optional<uint32_t> AccessAnomalyModel::find_tenant(std::string_view name) const {
  auto it = tenant_index.find(name);
  if (it == tenant_index.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> AccessAnomalyModel::find_user(uint32_t tenant, std::string_view name) const {
  auto it = user_index[tenant].find(name);
  if (it == user_index[tenant].end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> AccessAnomalyModel::find_resource(uint32_t tenant, std::string_view name) const {
  auto it = resource_index[tenant].find(name);
  if (it == resource_index[tenant].end()) return std::nullopt;
  return it->second;
}

const ModelPair* AccessAnomalyModel::find_pair(uint32_t user, uint32_t resource) const {
  uint64_t key = (static_cast<uint64_t>(user) << 32 | resource) + 1;
  const size_t mask = pair_slots.size() - 1;
  for (size_t s = stable_hash(std::string_view(reinterpret_cast<const char*>(&key), sizeof key)) & mask;; s = (s + 1) & mask) {
    if (pair_slots[s].first == key) return &pairs[pair_slots[s].second];
    if (pair_slots[s].first == 0) return nullptr;
  }
}

namespace {
double dot(const float* x, const float* y, int k) {
  double s = 0;
  for (int i = 0; i < k; ++i) s += static_cast<double>(x[i]) * static_cast<double>(y[i]);
  return s;
}
}  // namespace

double AccessAnomalyModel::score_vectors(uint32_t tenant, const float* x, const float* y) const {
  const TenantModel& t = tenants[tenant];
  return -(dot(x, y, rank) - t.mu) / t.sigma;
}

double AccessAnomalyModel::score(uint32_t user, uint32_t resource) const {
  return score_vectors(user_tenant[user], user_factors.row(user).data(), resource_factors.row(resource).data());
}

double percentile_in(const std::vector<float>& q, double s) {
  if (q.empty() || !(s > q.front())) return 0.0;
  if (s >= q.back()) return 100.0;
  // Compared as doubles: rounding s to float could reach q.back() and run off the end.
  auto it = std::upper_bound(q.begin(), q.end(), s, [](double v, float e) { return v < static_cast<double>(e); });
  auto i = std::clamp<size_t>(static_cast<size_t>(it - q.begin()), 1, q.size() - 1);  // q[i-1] <= s < q[i]
  double lo = q[i - 1], hi = q[i];
  double frac = hi > lo ? (s - lo) / (hi - lo) : 0.0;
  return 100.0 * (static_cast<double>(i - 1) + frac) / static_cast<double>(q.size() - 1);
}

std::vector<float> quantiles_of(const std::vector<double>& sorted) {
  std::vector<float> out;
  if (sorted.empty()) return out;
  for (int q = 0; q <= kSeverityQuantiles; ++q) {
    double pos = static_cast<double>(q) * static_cast<double>(sorted.size() - 1) / kSeverityQuantiles;
    auto lo = static_cast<size_t>(pos);
    size_t hi = std::min(lo + 1, sorted.size() - 1);
    out.push_back(static_cast<float>(sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo])));
  }
  return out;
}

double AccessAnomalyModel::severity(uint32_t tenant, double s) const {
  const TenantModel& t = tenants[tenant];
  return percentile_in(t.calibrated() ? t.calibration.quantiles : t.quantiles, s);
}

double AccessAnomalyModel::rescale(uint32_t tenant, double likelihood) const {
  const TenantModel& t = tenants[tenant];
  if (!(t.likelihood_max > t.likelihood_min)) return (low_value + high_value) / 2;
  double r = low_value + (likelihood - t.likelihood_min) * (high_value - low_value) / (t.likelihood_max - t.likelihood_min);
  return std::clamp(r, low_value, high_value);
}

Eigen::VectorXd AccessAnomalyModel::widened_user(uint32_t user) const {
  const TenantModel& t = tenants[user_tenant[user]];
  Eigen::VectorXd w(rank + 2);
  w.head(rank) = -user_factors.row(user).transpose().cast<double>() / t.sigma;
  w[rank] = t.mu / t.sigma;
  w[rank + 1] = -1.0 / t.sigma;
  return w;
}

Eigen::VectorXd AccessAnomalyModel::widened_resource(uint32_t resource) const {
  Eigen::VectorXd w(rank + 2);
  w.head(rank) = resource_factors.row(resource).transpose().cast<double>();
  w[rank] = 1.0;
  w[rank + 1] = 0.0;
  return w;
}

namespace {

struct UnionFind {
  std::vector<uint32_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0u); }
  uint32_t find(uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(uint32_t a, uint32_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);  // smallest index is the root
  }
};

}  // namespace

void compute_tenant_statistics(AccessAnomalyModel& m) {
  m.user_component.assign(m.users.size(), 0);
  m.resource_component.assign(m.resources.size(), 0);
  for (uint32_t t = 0; t < m.tenants.size(); ++t) {
    TenantModel& tm = m.tenants[t];
    std::vector<double> dots;
    const uint32_t nu = tm.user_end - tm.user_begin, nr = tm.resource_end - tm.resource_begin;
    UnionFind uf(nu + nr);
    for (uint64_t i = m.pairs_by_user[tm.user_begin]; i < m.pairs_by_user[tm.user_end]; ++i) {
      const ModelPair& p = m.pairs[i];
      dots.push_back(dot(m.user_factors.row(p.user).data(), m.resource_factors.row(p.resource).data(), m.rank));
      uf.unite(p.user - tm.user_begin, nu + p.resource - tm.resource_begin);
    }
    double mean = 0;
    for (double d : dots) mean += d;
    mean /= static_cast<double>(std::max<size_t>(dots.size(), 1));
    double var = 0;
    for (double d : dots) var += (d - mean) * (d - mean);
    double sigma = std::sqrt(var / static_cast<double>(std::max<size_t>(dots.size(), 1)));
    tm.mu = mean;
    tm.sigma = sigma > 0 ? sigma : 1.0;
    std::vector<double> scores;
    scores.reserve(dots.size());
    for (double d : dots) scores.push_back(-(d - tm.mu) / tm.sigma);
    std::sort(scores.begin(), scores.end());
    tm.quantiles = quantiles_of(scores);
    if (!scores.empty()) tm.score_max = scores.back();
    // Components numbered in order of their smallest member, users before resources.
    std::map<uint32_t, uint32_t> label;
    for (uint32_t i = 0; i < nu + nr; ++i) {
      uint32_t root = uf.find(i);
      auto [it, added] = label.emplace(root, static_cast<uint32_t>(label.size()));
      if (i < nu) m.user_component[tm.user_begin + i] = it->second;
      else m.resource_component[tm.resource_begin + i - nu] = it->second;
    }
    tm.components = static_cast<uint32_t>(label.size());
  }
}

Result<AccessAnomalyModel> fit_access_anomaly(std::vector<TrainingPair> pairs, const ParamSet& params,
                                              const FitOptions& options) {
  if (pairs.empty())
    return Status(ErrorCode::kNotFound,
                  "no training events: the window holds no modelled event with both a user and a resource "
                  "(check --from/--to, the input paths and the template's event_ids)");
  AccessAnomalyModel m;
  m.params = params;
  m.config = access_anomaly_params().bind(params);
  m.rank = m.config.rank;
  m.low_value = m.config.low_value;
  m.high_value = m.config.high_value;
  if (m.low_value > m.high_value)
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("low_value {} is above high_value {}", m.low_value, m.high_value));

  std::sort(pairs.begin(), pairs.end(), [](const TrainingPair& a, const TrainingPair& b) {
    return std::tie(a.tenant, a.user, a.resource) < std::tie(b.tenant, b.user, b.resource);
  });
  // Index users and resources per tenant, sorted by name (the reference's indexing).
  std::vector<uint32_t> pair_user(pairs.size()), pair_resource(pairs.size());
  for (size_t begin = 0; begin < pairs.size();) {
    size_t end = begin;
    while (end < pairs.size() && pairs[end].tenant == pairs[begin].tenant) ++end;
    TenantModel tm;
    tm.name = std::string(pairs[begin].tenant);
    std::vector<std::string_view> users, resources;
    for (size_t i = begin; i < end; ++i) {
      if (users.empty() || users.back() != pairs[i].user) users.push_back(pairs[i].user);
      resources.push_back(pairs[i].resource);
    }
    std::sort(resources.begin(), resources.end());
    resources.erase(std::unique(resources.begin(), resources.end()), resources.end());
    tm.user_begin = static_cast<uint32_t>(m.users.size());
    tm.resource_begin = static_cast<uint32_t>(m.resources.size());
    for (auto u : users) m.users.emplace_back(u);
    for (auto r : resources) m.resources.emplace_back(r);
    tm.user_end = static_cast<uint32_t>(m.users.size());
    tm.resource_end = static_cast<uint32_t>(m.resources.size());
    tm.likelihood_min = tm.likelihood_max = pair_likelihood(pairs[begin].stats);
    uint32_t u = tm.user_begin - 1;
    for (size_t i = begin; i < end; ++i) {
      if (i == begin || pairs[i].user != pairs[i - 1].user) ++u;
      pair_user[i] = u;
      pair_resource[i] = tm.resource_begin + static_cast<uint32_t>(std::lower_bound(resources.begin(), resources.end(),
                                                                                    pairs[i].resource) - resources.begin());
      double l = pair_likelihood(pairs[i].stats);
      tm.likelihood_min = std::min(tm.likelihood_min, l);
      tm.likelihood_max = std::max(tm.likelihood_max, l);
    }
    m.tenants.push_back(std::move(tm));
    begin = end;
  }
  m.pairs.resize(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i)
    m.pairs[i] = {pair_user[i], pair_resource[i], pairs[i].stats.count, pairs[i].stats.first, pairs[i].stats.last,
                  pair_likelihood(pairs[i].stats)};
  m.build_index();

  // Factors: each row starts from a seed of its own name, so the start does not depend on
  // which other users exist or on joint versus separate tenants.
  const uint64_t seed = m.config.seed;
  AlsOptions als = m.config;
  als.threads = options.threads;
  std::vector<uint64_t> user_seeds(m.users.size());
  for (uint32_t u = 0; u < m.users.size(); ++u)
    user_seeds[u] = seed ^ stable_hash(m.tenants[m.user_tenant[u]].name + '\n' + m.users[u]);
  init_factors(m.user_factors, user_seeds, m.rank, als.nonnegative);
  m.resource_factors = FactorMatrix::Zero(static_cast<Eigen::Index>(m.resources.size()), m.rank);

  auto ratings_of = [&](uint32_t t_begin, uint32_t t_end) {
    uint32_t u0 = m.tenants[t_begin].user_begin, r0 = m.tenants[t_begin].resource_begin;
    uint32_t u1 = m.tenants[t_end - 1].user_end, r1 = m.tenants[t_end - 1].resource_end;
    std::vector<Ratings::Entry> entries;
    for (uint64_t i = m.pairs_by_user[u0]; i < m.pairs_by_user[u1]; ++i) {
      const ModelPair& p = m.pairs[i];
      entries.push_back({p.user - u0, p.resource - r0, static_cast<float>(m.rescale(m.user_tenant[p.user], p.likelihood))});
    }
    return Ratings::from_entries(u1 - u0, r1 - r0, std::move(entries));
  };
  const bool separate = m.config.separate_tenants;
  const auto groups = separate ? m.tenants.size() : 1;
  for (size_t g = 0; g < groups; ++g) {
    auto t_begin = static_cast<uint32_t>(separate ? g : 0);
    auto t_end = static_cast<uint32_t>(separate ? g + 1 : m.tenants.size());
    Ratings ratings = ratings_of(t_begin, t_end);
    const TenantModel& first = m.tenants[t_begin];
    FactorMatrix uf = m.user_factors.middleRows(first.user_begin, ratings.rows);
    FactorMatrix rf;
    train_als(ratings, uf, rf, als, [&](int it, double secs) {
      if (options.progress) options.progress(it, als.iterations, secs);
    });
    m.user_factors.middleRows(first.user_begin, ratings.rows) = uf;
    m.resource_factors.middleRows(first.resource_begin, ratings.cols) = rf;
  }
  compute_tenant_statistics(m);
  return m;
}

}  // namespace byoml

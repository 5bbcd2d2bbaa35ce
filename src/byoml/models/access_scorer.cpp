#include "byoml/models/access_scorer.h"
#include "byoml/common/param_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

namespace byoml {

std::vector<std::string> reason_names(uint32_t reasons) {
  static const std::pair<uint32_t, const char*> kNames[] = {
      {kReasonAllowlisted, "allowlisted"},       {kReasonUnseenUser, "unseen_user"},
      {kReasonUnseenResource, "unseen_resource"}, {kReasonNoHistory, "no_history"},
      {kReasonNewPair, "new_pair"},               {kReasonCrossComponent, "cross_component"},
      {kReasonLowAffinity, "low_affinity"},       {kReasonBurst, "burst"},
      {kReasonExclusiveResource, "exclusive_resource"}, {kReasonPeerGroupChange, "peer_group_change"}};
  std::vector<std::string> out;
  for (auto [bit, name] : kNames)
    if (reasons & bit) out.emplace_back(name);
  return out;
}

const ParamTable<ScoringParams>& scoring_params() {
  static const ParamTable<ScoringParams> table = ParamTable<ScoringParams>()
      .add("mode", &ScoringParams::mode,
           "byoml: the scoring described in docs/detection.md. reference: as the reference implementation and the "
           "Sentinel notebooks scored, to compare with: unseen users and resources are not scored, any pair above the "
           "threshold alerts (auto: 0.5), no context",
           0, 0, {"byoml", "reference"})
      .add("threshold", &ScoringParams::threshold,
           "New pairs scoring above this alert and are stored. auto: the threshold the model calibrated to its "
           "alert_budget (0.5, the Sentinel notebooks', for a tenant it could not calibrate); or a score such as 1.0")
      .add("top", &ScoringParams::top,
           "Result rows shown in the run's summary, highest first (0: all); every alert is stored whatever this is", 0, 1e9)
      .add("burst_resources", &ScoringParams::burst_resources,
           "An account that opens this many resources new to it (each above a normal day's median new pair) within "
           "burst_window has a burst: every pair it used during the burst alerts, reason burst (0: off)",
           0, 1e6)
      .with_unit(ParamType::kDuration, "burst_window", &ScoringParams::burst_window,
                 "The span within which burst_resources new resources make a burst", 1, 86400)
      .add("exclusive_users", &ScoringParams::exclusive_users,
           "A resource that at most this many people used in training (service accounts aside) belongs to a closed "
           "group: a new pair on it alerts from a normal day's median new pair up, reason exclusive_resource (0: off)",
           0, 1e6)
      .add("exclusive_department_users", &ScoringParams::exclusive_department_users,
           "With identity data (--identity): a resource that at most this many people used in training, all of one "
           "department and at most half of it, is that department's closed group: a new pair on it from someone of "
           "another department alerts as for exclusive_users (0: off)",
           0, 1e6);
  return table;
}

std::vector<ParamSpec> scoring_param_specs() { return scoring_params().specs(); }

Result<std::optional<double>> parse_threshold(const std::string& text) {
  if (text == "auto") return std::optional<double>();
  double v = 0;
  if (!parse_double(text, v) || std::abs(v) > 1e6)
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("threshold \"{}\": auto, or a score between -1e6 and 1e6 such as 1.0", text));
  return std::optional<double>(v);
}

std::string_view host_of(std::string_view resource) {
  if (resource.size() < 3 || resource.substr(0, 2) != "\\\\") return {};
  size_t slash = resource.find('\\', 2);
  return slash == std::string_view::npos ? std::string_view() : resource.substr(2, slash - 2);
}

double AccessScorer::threshold(int64_t tenant) const {
  if (o_.threshold) return *o_.threshold;
  if (tenant < 0) return kReferenceThreshold;
  const TenantModel& t = m_.tenants[static_cast<size_t>(tenant)];
  return t.calibrated() ? t.calibration.threshold : kReferenceThreshold;
}

namespace {

// The median of a normal day's new pairs (severity is that percentile once calibrated): a new
// hire's or a new team share's first accesses score below it, a sweep's above.
constexpr double kMedianNewPair = 50;

// Folded-in vectors are gathered first and stored at once: growing the matrix a row at a time
// copies it each time.
void append_rows(FactorMatrix& m, const std::vector<Eigen::VectorXf>& rows) {
  const Eigen::Index old = m.rows();
  m.conservativeResize(old + static_cast<Eigen::Index>(rows.size()), m.cols());
  for (size_t i = 0; i < rows.size(); ++i) m.row(old + static_cast<Eigen::Index>(i)) = rows[i].transpose();
}

}  // namespace

AccessScorer::AccessScorer(const AccessAnomalyModel& m, ScoreOptions o) : m_(m), o_(o) {
  folded_users_.resize(0, m.rank);
  folded_resources_.resize(0, m.rank);
  user_norms_.resize(m.users.size());
  for (size_t u = 0; u < m.users.size(); ++u) user_norms_[u] = m.user_factors.row(static_cast<Eigen::Index>(u)).cast<double>().norm();
  // Broad accounts, against each tenant's median number of resources per user.
  constexpr uint64_t kBroadFactor = 10, kBroadMin = 20;
  broad_.assign(m.users.size(), 0);
  auto resources_of = [&](uint32_t u) { return m.pairs_by_user[u + 1] - m.pairs_by_user[u]; };
  for (const TenantModel& t : m.tenants) {
    if (t.user_end == t.user_begin) continue;
    std::vector<uint64_t> counts;
    for (uint32_t u = t.user_begin; u < t.user_end; ++u) counts.push_back(resources_of(u));
    auto mid = counts.begin() + static_cast<std::ptrdiff_t>(counts.size() / 2);
    std::nth_element(counts.begin(), mid, counts.end());
    const uint64_t bound = std::max(kBroadMin, kBroadFactor * *mid);
    for (uint32_t u = t.user_begin; u < t.user_end; ++u)
      broad_[u] = resources_of(u) >= bound || (!m.users[u].empty() && m.users[u].back() == '$');
  }
  group_size_.assign(m.resources.size(), 0);
  for (const ModelPair& p : m.pairs) group_size_[p.resource] += !broad_[p.user];
  group_department_.assign(m.resources.size(), std::nullopt);
  if (!o_.identity || o_.exclusive_department_users <= 0 || o_.reference) return;
  // A department's closed group is a part of it: at most half of its people in the model (a
  // small department's own share, which all of it uses, is not one).
  std::map<std::string_view, uint64_t, std::less<>> members;
  for (uint32_t u = 0; u < m.users.size(); ++u) {
    if (broad_[u] || m.pairs_by_user[u] == m.pairs_by_user[u + 1]) continue;
    Ticks last = kMinTicks;
    for (uint64_t i = m.pairs_by_user[u]; i < m.pairs_by_user[u + 1]; ++i) last = std::max(last, m.pairs[i].last);
    if (auto d = o_.identity->department_at(m.users[u], last)) ++members[*d];
  }
  for (uint32_t r = 0; r < m.resources.size(); ++r)
    if (group_size_[r] > 0 && group_size_[r] <= static_cast<uint64_t>(o_.exclusive_department_users))
      if (auto d = only_department(r); d && 2 * group_size_[r] <= members[*d]) group_department_[r] = d;
}

std::optional<std::string_view> AccessScorer::only_department(uint32_t resource) const {
  std::optional<std::string_view> only;
  for (uint64_t j = m_.pairs_by_resource[resource]; j < m_.pairs_by_resource[resource + 1]; ++j) {
    const ModelPair& p = m_.pairs[m_.pair_order_by_resource[j]];
    if (broad_[p.user]) continue;
    auto d = o_.identity->department_at(m_.users[p.user], p.last);
    if (!d || (only && *only != *d)) return std::nullopt;
    only = d;
  }
  return only;
}

const AccessScorer::Side& AccessScorer::side(uint32_t tenant, bool of_resources) {
  // Joint training shares one factor space (and one Gram matrix) across tenants.
  const bool separate = m_.config.separate_tenants;
  uint32_t key = separate ? tenant : 0;
  auto& cache = of_resources ? resource_sides_ : user_sides_;
  for (auto& [k, s] : cache)
    if (k == key) return s;
  const FactorMatrix& all = of_resources ? m_.resource_factors : m_.user_factors;
  const TenantModel& t = m_.tenants[tenant];
  uint32_t begin = !separate ? 0 : of_resources ? t.resource_begin : t.user_begin;
  uint32_t end = !separate ? static_cast<uint32_t>(all.rows()) : of_resources ? t.resource_end : t.user_end;
  Side s;
  s.fixed = all.middleRows(begin, end - begin);
  s.gram = gram_matrix(s.fixed, 1);
  s.offset = begin;
  cache.emplace_back(key, std::move(s));
  return cache.back().second;
}

const float* AccessScorer::user_vec(int64_t id) const {
  auto u = static_cast<Eigen::Index>(id);
  return u < m_.user_factors.rows() ? m_.user_factors.row(u).data() : folded_users_.row(u - m_.user_factors.rows()).data();
}

const float* AccessScorer::resource_vec(int64_t id) const {
  auto r = static_cast<Eigen::Index>(id);
  return r < m_.resource_factors.rows() ? m_.resource_factors.row(r).data()
                                        : folded_resources_.row(r - m_.resource_factors.rows()).data();
}

std::vector<uint32_t> AccessScorer::nearest(const FactorMatrix& f, std::vector<uint32_t> candidates,
                                            const Eigen::VectorXf& v) const {
  const double vn = v.cast<double>().norm();
  std::vector<std::pair<double, uint32_t>> sim;
  sim.reserve(candidates.size());
  for (uint32_t r : candidates) {
    auto row = f.row(r);
    double n = row.norm();
    sim.emplace_back(n > 0 && vn > 0 ? static_cast<double>(row.dot(v.transpose())) / (n * vn) : 0.0, r);
  }
  size_t k = std::min(sim.size(), static_cast<size_t>(std::max(o_.neighbours, 1)));
  std::partial_sort(sim.begin(), sim.begin() + static_cast<std::ptrdiff_t>(k), sim.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<uint32_t> out;
  for (size_t i = 0; i < k; ++i) out.push_back(sim[i].second);
  return out;
}

void AccessScorer::build_candidates() {
  if (!resource_users_.offsets.empty()) return;
  // Strongest first: higher likelihood, then the lower row, so the choice is deterministic.
  // Pairs are sorted by user, so a user's pairs are one run; a resource's are gathered by a
  // counting sort.
  const auto& pairs = m_.pairs;
  auto keep = [&](size_t entities, auto key, auto partner) {
    std::vector<uint64_t> start(entities + 1, 0);
    for (const auto& p : pairs) ++start[key(p) + 1];
    for (size_t i = 0; i < entities; ++i) start[i + 1] += start[i];
    std::vector<uint32_t> order(pairs.size());
    std::vector<uint64_t> fill(start.begin(), start.end() - 1);
    for (uint32_t i = 0; i < pairs.size(); ++i) order[fill[key(pairs[i])]++] = i;
    Partners out;
    out.offsets.assign(1, 0);
    for (size_t e = 0; e < entities; ++e) {
      auto first = order.begin() + static_cast<std::ptrdiff_t>(start[e]), last = order.begin() + static_cast<std::ptrdiff_t>(start[e + 1]);
      auto k = std::min<std::ptrdiff_t>(last - first, static_cast<std::ptrdiff_t>(kCandidates));
      std::partial_sort(first, first + k, last, [&](uint32_t x, uint32_t y) {
        return pairs[x].likelihood != pairs[y].likelihood ? pairs[x].likelihood > pairs[y].likelihood
                                                          : partner(pairs[x]) < partner(pairs[y]);
      });
      for (auto it = first; it != first + k; ++it) out.ids.push_back(partner(pairs[*it]));
      out.offsets.push_back(out.ids.size());
    }
    return out;
  };
  resource_users_ = keep(m_.resources.size(), [](const ModelPair& p) { return p.resource; },
                         [](const ModelPair& p) { return p.user; });
  user_resources_ = keep(m_.users.size(), [](const ModelPair& p) { return p.user; },
                         [](const ModelPair& p) { return p.resource; });
}

std::vector<uint32_t> AccessScorer::stand_in_candidates(uint32_t begin, uint32_t end, const Partners& partners,
                                                        const std::vector<uint32_t>& known) {
  if (end - begin <= kExactSearch) {
    std::vector<uint32_t> all(end - begin);
    std::iota(all.begin(), all.end(), begin);
    return all;
  }
  build_candidates();
  return candidates_of(partners, known);
}

bool AccessScorer::belongs_to(uint32_t resource, std::string_view department) const {
  uint64_t known = 0, in = 0;
  for (uint64_t j = m_.pairs_by_resource[resource]; j < m_.pairs_by_resource[resource + 1]; ++j) {
    const ModelPair& p = m_.pairs[m_.pair_order_by_resource[j]];
    if (broad_[p.user]) continue;
    auto d = o_.identity->department_at(m_.users[p.user], p.last);
    if (!d) continue;
    ++known;
    in += *d == department;
  }
  return known > 0 && 2 * in > known;
}

std::vector<uint32_t> AccessScorer::own_on_host(uint32_t user, std::string_view host) const {
  std::vector<uint32_t> out;
  if (host.empty()) return out;
  for (uint64_t i = m_.pairs_by_user[user]; i < m_.pairs_by_user[user + 1]; ++i)
    if (host_of(m_.resources[m_.pairs[i].resource]) == host) out.push_back(m_.pairs[i].resource);
  return out;
}

const std::vector<uint32_t>& AccessScorer::host_resources(uint32_t tenant, std::string_view host) {
  static const std::vector<uint32_t> kNone;
  if (host.empty()) return kNone;
  if (!hosts_built_) {
    for (uint32_t r = 0; r < m_.resources.size(); ++r)
      if (std::string_view h = host_of(m_.resources[r]); !h.empty()) host_resources_[{m_.resource_tenant[r], std::string(h)}].push_back(r);
    hosts_built_ = true;
  }
  auto it = host_resources_.find({tenant, std::string(host)});
  return it == host_resources_.end() ? kNone : it->second;
}

std::vector<uint32_t> AccessScorer::candidates_of(const Partners& partners, const std::vector<uint32_t>& of) {
  std::vector<uint32_t> out;
  for (uint32_t x : of)
    out.insert(out.end(), partners.ids.begin() + static_cast<std::ptrdiff_t>(partners.offsets[x]),
               partners.ids.begin() + static_cast<std::ptrdiff_t>(partners.offsets[x + 1]));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<PairScore> AccessScorer::resolve(std::span<const WindowPair> pairs) const {
  std::vector<PairScore> out(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto t = m_.find_tenant(pairs[i].tenant);
    if (!t) continue;
    out[i].tenant = *t;
    if (auto u = m_.find_user(*t, pairs[i].user)) out[i].user = *u;
    if (auto r = m_.find_resource(*t, pairs[i].resource)) out[i].resource = *r;
  }
  return out;
}

void AccessScorer::fold_in(std::span<const WindowPair> pairs) { fold(pairs, resolve(pairs)); }

std::vector<PairScore> AccessScorer::score(std::span<const WindowPair> pairs) {
  std::vector<PairScore> ids = resolve(pairs);  // once: the lookups are most of a known pair's cost
  fold(pairs, ids);
  return finish(pairs, std::move(ids));
}

std::vector<PairScore> AccessScorer::score_folded(std::span<const WindowPair> pairs) const {
  return finish(pairs, resolve(pairs));
}

void AccessScorer::fold(std::span<const WindowPair> pairs, const std::vector<PairScore>& out) {
  if (o_.reference) return;  // unseen users and resources stay unscored
  AlsOptions als = m_.config;
  als.threads = 1;
  auto rating = [&](size_t i) { return static_cast<float>(m_.rescale(static_cast<uint32_t>(out[i].tenant), pair_likelihood(pairs[i].stats))); };
  // Each unseen entity's accesses to known partners, ordered by partner: the solve then sees
  // the same numbers in the same order however the window was split or read. std::map keeps
  // the entities' order, and so the ids, fixed.
  std::map<FoldKey, std::vector<std::pair<uint32_t, size_t>>> new_users, new_resources;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (out[i].tenant < 0) continue;
    if (out[i].user < 0 && out[i].resource >= 0) {
      FoldKey user{out[i].tenant, std::string(pairs[i].user)};
      if (!folded_user_ids_.count(user)) new_users[std::move(user)].emplace_back(static_cast<uint32_t>(out[i].resource), i);
    }
    if (out[i].resource < 0 && out[i].user >= 0) {
      FoldKey resource{out[i].tenant, std::string(pairs[i].resource)};
      if (!folded_resource_ids_.count(resource))
        new_resources[std::move(resource)].emplace_back(static_cast<uint32_t>(out[i].user), i);
    }
  }

  // Unseen users from their accesses to known resources.
  std::vector<Eigen::VectorXf> user_vectors;
  for (auto& [key, rows] : new_users) {
    std::sort(rows.begin(), rows.end());
    const Side& s = side(static_cast<uint32_t>(key.first), /*of_resources=*/true);
    std::vector<uint32_t> idx, known;
    std::vector<float> val;
    std::vector<std::pair<uint32_t, double>> usual;
    for (auto [r, i] : rows) {
      idx.push_back(r - s.offset);
      val.push_back(rating(i));
      known.push_back(r);
      usual.emplace_back(r, pair_likelihood(pairs[i].stats));
    }
    user_vectors.push_back(solve_one(s.fixed, s.gram, idx, val, als));
    folded_user_usual_.push_back(std::move(usual));
    const TenantModel& tm = m_.tenants[static_cast<size_t>(key.first)];
    user_neighbours_.push_back(nearest(m_.user_factors, stand_in_candidates(tm.user_begin, tm.user_end, resource_users_, known),
                                       user_vectors.back()));
    folded_user_ids_[key] = m_.user_factors.rows() + folded_users_.rows() + static_cast<int64_t>(user_vectors.size()) - 1;
  }
  append_rows(folded_users_, user_vectors);

  // Unseen resources from the known users who access them.
  std::vector<Eigen::VectorXf> resource_vectors;
  for (auto& [key, rows] : new_resources) {
    std::sort(rows.begin(), rows.end());
    const Side& s = side(static_cast<uint32_t>(key.first), /*of_resources=*/false);
    std::vector<uint32_t> idx, known;
    std::vector<float> val;
    for (auto [u, i] : rows) {
      idx.push_back(u - s.offset);
      known.push_back(u);
      val.push_back(rating(i));
    }
    resource_vectors.push_back(solve_one(s.fixed, s.gram, idx, val, als));
    const TenantModel& tm = m_.tenants[static_cast<size_t>(key.first)];
    const auto& same_host = host_resources(static_cast<uint32_t>(key.first), host_of(key.second));
    resource_neighbours_.push_back(nearest(
        m_.resource_factors,
        !same_host.empty() ? same_host : stand_in_candidates(tm.resource_begin, tm.resource_end, user_resources_, known),
        resource_vectors.back()));
    folded_resource_ids_[key] =
        m_.resource_factors.rows() + folded_resources_.rows() + static_cast<int64_t>(resource_vectors.size()) - 1;
  }
  append_rows(folded_resources_, resource_vectors);
}

std::vector<PairScore> AccessScorer::finish(std::span<const WindowPair> pairs, std::vector<PairScore> out) const {
  const size_t n = pairs.size();
  auto folded = [](const std::map<FoldKey, int64_t>& ids, int64_t tenant, std::string_view name) {
    auto it = ids.find(FoldKey{tenant, std::string(name)});
    return it == ids.end() ? int64_t{-1} : it->second;
  };
  for (size_t i = 0; i < n; ++i) {
    if (out[i].tenant < 0) continue;
    if (out[i].user < 0) out[i].user = folded(folded_user_ids_, out[i].tenant, pairs[i].user);
    if (out[i].resource < 0) out[i].resource = folded(folded_resource_ids_, out[i].tenant, pairs[i].resource);
  }

  for (size_t i = 0; i < n; ++i) {
    PairScore& s = out[i];
    const bool user_known = s.user >= 0 && s.user < m_.user_factors.rows();
    const bool resource_known = s.resource >= 0 && s.resource < m_.resource_factors.rows();
    if (!user_known) s.reasons |= kReasonUnseenUser;
    if (!resource_known) s.reasons |= kReasonUnseenResource;
    if (s.tenant < 0 || s.user < 0 || s.resource < 0) {
      s.reasons |= kReasonNoHistory;
      s.score = 0;
    } else {
      auto t = static_cast<uint32_t>(s.tenant);
      const auto users = m_.user_factors.rows(), resources = m_.resource_factors.rows();
      const auto u_row = static_cast<uint32_t>(s.user), r_row = static_cast<uint32_t>(s.resource);
      std::span<const uint32_t> us = user_known ? std::span<const uint32_t>(&u_row, 1)
                                                : std::span<const uint32_t>(user_neighbours_[static_cast<size_t>(s.user - users)]);
      std::span<const uint32_t> rs = resource_known
                                         ? std::span<const uint32_t>(&r_row, 1)
                                         : std::span<const uint32_t>(resource_neighbours_[static_cast<size_t>(s.resource - resources)]);
      // A new share on a host where the user already works stands in for the user's own
      // shares there: a team's new share on its file server is the team's business.
      std::vector<uint32_t> own;
      if (!resource_known && user_known) {
        own = own_on_host(u_row, host_of(pairs[i].resource));
        if (!own.empty()) rs = own;
      }
      double sum = 0;
      for (uint32_t u : us)
        for (uint32_t r : rs) sum += m_.score(u, r);
      s.score = sum / static_cast<double>(us.size() * rs.size());
      if (user_known && resource_known) {
        auto u = static_cast<uint32_t>(s.user), r = static_cast<uint32_t>(s.resource);
        s.seen_in_training = m_.find_pair(u, r) != nullptr;
        if (!s.seen_in_training) s.reasons |= kReasonNewPair;
        if (m_.user_component[u] != m_.resource_component[r]) {
          s.reasons |= kReasonCrossComponent;
          s.score = std::max(s.score, m_.tenants[t].score_max + 1.0);
        }
      }
      if (!std::isfinite(s.score)) s.score = 0;  // cannot happen with finite factors; never emit NaN
      s.severity = m_.severity(t, s.score);
    }
    const double threshold = this->threshold(s.tenant);
    if (s.score >= threshold) s.reasons |= kReasonLowAffinity;
    if (o_.allowlist && o_.allowlist->matches(AllowAction::kSkipResult, pairs[i].user, pairs[i].resource))
      s.reasons |= kReasonAllowlisted;
    // A closed group's resource opened from outside the group counts from a normal day's median
    // new pair up. Only an account the model knows is known to be outside (a new hire may be
    // joining the group); a share no person used, only service accounts, is the most closed.
    const bool modelled = s.resource >= 0 && s.resource < m_.resource_factors.rows() && s.user >= 0 &&
                          s.user < m_.user_factors.rows() && !s.seen_in_training;
    auto outside_department = [&] {
      const auto& group = group_department_[static_cast<size_t>(s.resource)];
      if (!group) return false;
      auto d = o_.identity->department_at(pairs[i].user, pairs[i].stats.last);
      return d && *d != *group;
    };
    const bool small_group = modelled && o_.exclusive_users > 0 &&
                             group_size_[static_cast<size_t>(s.resource)] <= static_cast<uint64_t>(o_.exclusive_users);
    const bool exclusive = !o_.reference && modelled && (small_group || outside_department());
    if (exclusive) s.reasons |= kReasonExclusiveResource;
    // A transfer's new colleagues' shares are expected.
    if (o_.identity && !o_.reference && !s.seen_in_training && s.resource >= 0 && s.resource < m_.resource_factors.rows())
      if (auto moved = o_.identity->change_at(pairs[i].user, pairs[i].stats.last);
          moved && belongs_to(static_cast<uint32_t>(s.resource), moved->department))
        s.reasons |= kReasonPeerGroupChange;
    s.above = o_.reference ? s.score > threshold && !(s.reasons & (kReasonNoHistory | kReasonAllowlisted))
                           : (s.score > threshold || (exclusive && s.severity >= kMedianNewPair)) && !s.seen_in_training &&
                                 !(s.reasons & (kReasonAllowlisted | kReasonPeerGroupChange));
    s.alert = s.above;
  }
  mark_bursts(pairs, out);
  return out;
}

void AccessScorer::mark_bursts(std::span<const WindowPair> pairs, std::vector<PairScore>& scores) const {
  if (o_.burst_resources <= 0 || o_.reference) return;
  std::vector<uint32_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const WindowPair &x = pairs[a], &y = pairs[b];
    return std::tie(x.tenant, x.user, x.stats.first, x.resource) < std::tie(y.tenant, y.user, y.stats.first, y.resource);
  });
  std::vector<Ticks> starts;
  std::vector<std::pair<Ticks, Ticks>> bursts;
  for (size_t b = 0, e = 0; b < order.size(); b = e) {
    for (e = b + 1; e < order.size() && pairs[order[e]].tenant == pairs[order[b]].tenant &&
                    pairs[order[e]].user == pairs[order[b]].user;
         ++e) {
    }
    starts.clear();
    for (size_t k = b; k < e; ++k) {
      const PairScore& s = scores[order[k]];
      if (!s.seen_in_training && s.tenant >= 0 && s.severity >= kMedianNewPair &&
          !(s.reasons & (kReasonAllowlisted | kReasonPeerGroupChange)))
        starts.push_back(pairs[order[k]].stats.first);
    }
    if (starts.size() < static_cast<size_t>(o_.burst_resources)) continue;
    // Every span of burst_window holding burst_resources first accesses; overlapping ones merge.
    bursts.clear();
    for (size_t lo = 0, hi = 0; hi < starts.size(); ++hi) {
      while (starts[hi] - starts[lo] > o_.burst_window) ++lo;
      if (hi - lo + 1 < static_cast<size_t>(o_.burst_resources)) continue;
      if (!bursts.empty() && starts[lo] <= bursts.back().second) bursts.back().second = starts[hi];
      else bursts.emplace_back(starts[lo], starts[hi]);
    }
    for (size_t k = b; k < e; ++k) {
      PairScore& s = scores[order[k]];
      const PairStats& st = pairs[order[k]].stats;
      for (auto [from, to] : bursts)
        if (st.first <= to && st.last >= from) {
          s.reasons |= kReasonBurst;
          s.alert = !(s.reasons & kReasonAllowlisted);
          s.burst_from = from;
          s.burst_to = to;
          break;
        }
    }
  }
}

Explanation AccessScorer::explain(const PairScore& s) const {
  Explanation e;
  if (s.tenant < 0 || s.user < 0) return e;
  const auto users = static_cast<int64_t>(m_.users.size());
  const TenantModel& t = m_.tenants[static_cast<size_t>(s.tenant)];
  auto by_value = [](auto& v) {
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  };
  std::vector<std::pair<uint32_t, double>> usual;
  if (s.user < users) {
    for (uint64_t i = m_.pairs_by_user[s.user]; i < m_.pairs_by_user[s.user + 1]; ++i)
      usual.emplace_back(m_.pairs[i].resource, m_.pairs[i].likelihood);
  } else {
    usual = folded_user_usual_[static_cast<size_t>(s.user - users)];
  }
  by_value(usual);
  for (size_t i = 0; i < usual.size() && i < static_cast<size_t>(o_.explain_usual); ++i)
    e.usual_resources.emplace_back(m_.resources[usual[i].first], usual[i].second);

  const float* x = user_vec(s.user);
  Eigen::Map<const Eigen::VectorXf> xv(x, m_.rank);
  const double xn = xv.cast<double>().norm();
  auto cosine = [&](uint32_t v) {
    double d = xv.cast<double>().dot(m_.user_factors.row(v).transpose().cast<double>());
    return xn > 0 && user_norms_[v] > 0 ? d / (xn * user_norms_[v]) : 0.0;
  };
  const bool resource_known = s.resource >= 0 && s.resource < static_cast<int64_t>(m_.resources.size());
  if (resource_known) {
    std::vector<std::pair<uint32_t, double>> similar;
    for (uint64_t j = m_.pairs_by_resource[s.resource]; j < m_.pairs_by_resource[s.resource + 1]; ++j) {
      uint32_t v = m_.pairs[m_.pair_order_by_resource[j]].user;
      if (v != s.user && !broad_[v]) similar.emplace_back(v, cosine(v));
    }
    e.resource_users = static_cast<uint32_t>(m_.pairs_by_resource[s.resource + 1] - m_.pairs_by_resource[s.resource]);
    by_value(similar);
    for (size_t i = 0; i < similar.size() && i < static_cast<size_t>(o_.explain_similar); ++i)
      e.similar_users.emplace_back(m_.users[similar[i].first], similar[i].second);
  }
  std::vector<std::pair<uint32_t, double>> peers;
  for (uint32_t v = t.user_begin; v < t.user_end; ++v)
    if (v != s.user && !broad_[v]) peers.emplace_back(v, cosine(v));
  by_value(peers);
  peers.resize(std::min(peers.size(), static_cast<size_t>(o_.explain_peers)));
  e.peers = static_cast<uint32_t>(peers.size());
  if (resource_known)
    for (const auto& [v, c] : peers)
      if (m_.find_pair(v, static_cast<uint32_t>(s.resource))) ++e.peers_using;
  return e;
}

}  // namespace byoml

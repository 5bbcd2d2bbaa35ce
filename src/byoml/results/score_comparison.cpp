#include "byoml/results/score_comparison.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "byoml/results/sqlite_db.h"

namespace byoml {

namespace {

using PairScores = std::map<std::pair<std::string, std::string>, double>;

Result<PairScores> pair_scores(ResultStore& store, const std::string& table, int version) {
  auto columns = store.columns(table);
  if (columns.empty()) return PairScores();
  for (const char* c : {"User", "Resource", "AnomalyScore", "ModelVersion"})
    if (std::find(columns.begin(), columns.end(), c) == columns.end())
      return Status(ErrorCode::kUnsupported, fmt::format("{}: table {} has no column {} to compare by", store.path(), table, c));
  Stmt st(store.db(), fmt::format("SELECT User, Resource, max(AnomalyScore) AS Score FROM \"{}\" WHERE ModelVersion = ?1 "
                                  "GROUP BY User, Resource",
                                  table));
  auto rows = st.bind(1, int64_t{version}).rows();
  if (!rows) return rows.status();
  PairScores out;
  for (const auto& r : *rows)
    if (r["User"].is_string() && r["Resource"].is_string() && r["Score"].is_number())
      out[{r["User"], r["Resource"]}] = r["Score"].get<double>();
  return out;
}

// Ranks 1..n, ties sharing their average rank.
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[order[k]] = (static_cast<double>(i + j) / 2) + 1;
    i = j + 1;
  }
  return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  if (a.size() < 2) return 0;
  double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

// The `top` highest of `mine` that `theirs` does not hold at all.
std::vector<ComparedPair> only_in(const PairScores& mine, const PairScores& theirs, size_t top) {
  std::vector<ComparedPair> all;
  for (const auto& [k, s] : mine) all.push_back({k.first, k.second, s});
  std::stable_sort(all.begin(), all.end(), [](const ComparedPair& a, const ComparedPair& b) { return a.score > b.score; });
  if (all.size() > top) all.resize(top);
  std::erase_if(all, [&](const ComparedPair& p) { return theirs.count({p.user, p.resource}) > 0; });
  return all;
}

}  // namespace

Result<ScoreComparison> compare_scores(ResultStore& store, const std::string& table, int live_version,
                                       int shadow_version, size_t top) {
  auto live = pair_scores(store, table, live_version);
  if (!live) return live.status();
  auto shadow = pair_scores(store, table + "_Shadow", shadow_version);
  if (!shadow) return shadow.status();
  ScoreComparison c;
  c.live_pairs = live->size();
  c.shadow_pairs = shadow->size();
  std::vector<double> a, b;
  for (const auto& [k, s] : *live)
    if (auto it = shadow->find(k); it != shadow->end()) {
      a.push_back(s);
      b.push_back(it->second);
    }
  c.common_pairs = a.size();
  c.rank_correlation = pearson(ranks(a), ranks(b));
  c.only_live = only_in(*live, *shadow, top);
  c.only_shadow = only_in(*shadow, *live, top);
  return c;
}

}  // namespace byoml

#include "byoml/models/access_calibration.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "byoml/common/param_table.h"
#include "byoml/models/access_scorer.h"

namespace byoml {

Result<std::map<std::string, TenantCalibration>> calibrate_access_anomaly(const std::vector<TrainingPair>& pairs,
                                                                          const ParamSet& params,
                                                                          const FitOptions& options) {
  std::map<std::string, TenantCalibration> out;
  const AccessAnomalyParams cfg = access_anomaly_params().bind(params);
  if (cfg.calibration_days <= 0 || pairs.empty()) return out;
  Ticks first = kMaxTicks, last = kMinTicks;
  for (const auto& p : pairs) {
    first = std::min(first, p.stats.first);
    last = std::max(last, p.stats.last);
  }
  const int64_t window_days = (day_floor(last) - day_floor(first)) / kTicksPerDay + 1;
  const int64_t days = std::min<int64_t>(cfg.calibration_days, window_days / 4);
  if (days < 1) return out;
  const Ticks cut = day_floor(last) - (days - 1) * kTicksPerDay;

  std::vector<TrainingPair> before;
  std::vector<WindowPair> held_out;
  std::map<std::string_view, std::set<std::string_view>> active;  // users active in the held-out days, per tenant
  for (const auto& p : pairs) {
    if (p.stats.first < cut) before.push_back(p);
    else held_out.push_back({p.tenant, p.user, p.resource, p.stats});
    if (p.stats.last >= cut) active[p.tenant].insert(p.user);
  }
  if (before.empty() || held_out.empty()) return out;
  FitOptions quiet = options;
  quiet.progress = nullptr;
  auto model = fit_access_anomaly(std::move(before), params, quiet);
  if (!model) return model.status();
  AccessScorer scorer(*model, ScoreOptions{});
  const std::vector<PairScore> scores = scorer.score(held_out);

  std::map<std::string_view, std::vector<double>> by_tenant;
  for (size_t i = 0; i < held_out.size(); ++i)
    if (scores[i].tenant >= 0) by_tenant[held_out[i].tenant].push_back(scores[i].score);
  for (auto& [tenant, s] : by_tenant) {
    if (s.size() < kMinCalibrationPairs) continue;
    std::sort(s.begin(), s.end());
    TenantCalibration c;
    c.candidates = s.size();
    c.users = static_cast<uint32_t>(active[tenant].size());
    c.days = static_cast<uint32_t>(days);
    c.quantiles = quantiles_of(s);
    // The k-th highest score, so that k of the held-out new pairs score above it.
    auto k = static_cast<size_t>(std::floor(cfg.alert_budget * static_cast<double>(days) * c.users / 1000.0));
    c.threshold = k >= s.size() ? s.front() - 1 : s[s.size() - 1 - k];
    out.emplace(std::string(tenant), std::move(c));
  }
  return out;
}

}  // namespace byoml

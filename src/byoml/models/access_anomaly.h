// The access-anomaly model (the reference's AccessAnomaly / AccessAnomalyModel): which users
// use which resources, learnt by implicit ALS over per-pair likelihoods, with a per-tenant
// z-score of the affinity x_u·y_r so that higher means more anomalous.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "byoml/common/params.h"
#include "byoml/features/pair_features.h"
#include "byoml/models/detector.h"
#include "byoml/models/implicit_als.h"

namespace byoml {

// The algorithm's tunables. The initialisers here and in AlsOptions are the reference's
// defaults (a template may change them).
struct AccessAnomalyParams : AlsOptions {
  double low_value = 5.0, high_value = 10.0;  // likelihoods are rescaled linearly to [low, high]
  bool separate_tenants = false;
  uint64_t seed = 42;
  bool dedupe = true;
  // Alert calibration (access_calibration.h): the last days of the window are held out, and
  // the threshold is set so that new pairs of those days alert at this rate.
  double alert_budget = 5;   // expected alerts per 1,000 users per day
  int calibration_days = 7;  // held-out days (at most a quarter of the window); 0: none
};
const ParamTable<AccessAnomalyParams>& access_anomaly_params();
std::vector<ParamSpec> access_anomaly_param_specs();  // access_anomaly_params().specs()

struct TrainingPair {
  std::string_view tenant, user, resource;
  PairStats stats;
};

inline constexpr int kSeverityQuantiles = 1000;

// What a normal day produces: the scores of the pairs first seen in the held-out days, under a
// model fitted on the days before them. Empty quantiles: not calibrated (too few such pairs).
struct TenantCalibration {
  double threshold = 0;          // scores above it alert: alert_budget per 1,000 users per day
  std::vector<float> quantiles;  // held-out new pairs' scores at 0, 1/Q, ..., 1
  uint64_t candidates = 0;       // new pairs in the held-out days
  uint32_t users = 0, days = 0;  // active users and days of the held-out slice
};

struct TenantModel {
  std::string name;
  uint32_t user_begin = 0, user_end = 0;          // rows of users / user_factors
  uint32_t resource_begin = 0, resource_end = 0;  // rows of resources / resource_factors
  double likelihood_min = 0, likelihood_max = 0;  // rescaled linearly to [low, high]
  double mu = 0, sigma = 1;                       // of x·y over the tenant's training pairs
  double score_max = 0;                           // highest training score
  uint32_t components = 0;
  std::vector<float> quantiles;  // training scores at 0, 1/Q, ..., 1 (Q = kSeverityQuantiles)
  TenantCalibration calibration;
  bool calibrated() const { return !calibration.quantiles.empty(); }
};

struct ModelPair {
  uint32_t user = 0, resource = 0;  // global rows
  uint64_t count = 0;
  Ticks first = 0, last = 0;
  double likelihood = 0;
};

// Model::params holds the resolved configuration, Model::info the metadata.
struct AccessAnomalyModel final : Model {
  const Detector& detector() const override;  // access_anomaly_detector()
  AccessAnomalyParams config;  // Model::params, typed
  int rank = 0;
  double low_value = 5, high_value = 10;
  std::vector<TenantModel> tenants;  // sorted by name
  std::vector<std::string> users;    // grouped by tenant, sorted by name within a tenant
  std::vector<std::string> resources;
  FactorMatrix user_factors, resource_factors;
  std::vector<uint32_t> user_component, resource_component;  // numbered per tenant
  std::vector<ModelPair> pairs;      // sorted by (user, resource)

  // Derived by build_index() after fit or load; not stored. Looked up by string_view without
  // building a std::string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using NameIndex = std::unordered_map<std::string, uint32_t, NameHash, std::equal_to<>>;
  NameIndex tenant_index;
  std::vector<NameIndex> user_index, resource_index;  // per tenant
  std::vector<uint32_t> user_tenant, resource_tenant;
  std::vector<uint64_t> pairs_by_user;           // offsets into pairs, users + 1
  std::vector<uint64_t> pairs_by_resource;       // offsets into pair_order_by_resource
  std::vector<uint32_t> pair_order_by_resource;  // pair indices grouped by resource
  // (user << 32 | resource) + 1 → pair index, open addressing: one cache miss per lookup.
  std::vector<std::pair<uint64_t, uint32_t>> pair_slots;

  void build_index();
  std::optional<uint32_t> find_tenant(std::string_view name) const;
  std::optional<uint32_t> find_user(uint32_t tenant, std::string_view name) const;
  std::optional<uint32_t> find_resource(uint32_t tenant, std::string_view name) const;
  const ModelPair* find_pair(uint32_t user, uint32_t resource) const;
  // −(x·y − μ)/σ of the tenant, for any user and resource vectors.
  double score_vectors(uint32_t tenant, const float* x, const float* y) const;
  double score(uint32_t user, uint32_t resource) const;
  // Percentile (0–100) of a score among what a normal day's new pairs score (calibrated), or
  // else among the tenant's training scores.
  double severity(uint32_t tenant, double score) const;
  // Rescaled rating r ∈ [low, high] of a likelihood, clamped, as training rescaled it.
  double rescale(uint32_t tenant, double likelihood) const;
  // The reference's widened vectors: user' = [−x/σ, μ/σ, −1/σ], resource' = [y, 1, 0], so that
  // user'·resource' is the score.
  Eigen::VectorXd widened_user(uint32_t user) const;
  Eigen::VectorXd widened_resource(uint32_t resource) const;
};

// From factors and pairs: each tenant's μ, σ, training-score maximum and quantiles, and the
// connected components of its user–resource graph. fit calls it; tests call it directly.
void compute_tenant_statistics(AccessAnomalyModel& m);
// Values at 0, 1/Q, ..., 1 of ascending `sorted` (linear between), and where a score falls
// among such quantiles, 0–100.
std::vector<float> quantiles_of(const std::vector<double>& sorted);
double percentile_in(const std::vector<float>& quantiles, double score);

struct FitOptions {
  unsigned threads = 1;
  std::function<void(int iteration, int iterations, double seconds)> progress;
};

// Errors: no training pairs, or a parameter combination that cannot work.
Result<AccessAnomalyModel> fit_access_anomaly(std::vector<TrainingPair> pairs, const ParamSet& params,
                                              const FitOptions& options);

}  // namespace byoml

// The access-anomaly detector: training accumulates per-pair statistics and fits the model;
// scoring accumulates the window's pairs, scores each (folding in unseen users and resources)
// and keeps what the original scoring kept: above the threshold, not allowlisted, one row per
// pair, the top N, each with severity, reasons and an explanation.
#include "byoml/models/access_anomaly_detector.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>
#include <cmath>

#include "byoml/common/param_table.h"
#include "byoml/common/text.h"
#include "byoml/features/pair_features.h"
#include "byoml/models/access_calibration.h"
#include "byoml/models/access_scorer.h"

namespace byoml {

std::string share_of(std::string_view r) {
  if (r.rfind("\\\\", 0) != 0) return std::string(r);
  size_t slash = r.find('\\', 2);
  return slash == std::string_view::npos ? std::string(r) : "\\\\*" + std::string(r.substr(slash));
}

namespace {

nlohmann::json time_or_null(bool any, Ticks t) { return any ? nlohmann::json(format_timestamp(t)) : nlohmann::json(); }

std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class AccessTrainer final : public Trainer {
 public:
  AccessTrainer(const ParamSet& params, const TrainSetup& setup)
      : params_(params), setup_(setup), acc_(setup.event_ids, access_anomaly_params().bind(params).dedupe) {}

  void add(const EventBatch& batch, const Vocabulary& vocab) override {
    vocab_ = &vocab;
    acc_.add(batch, vocab);
  }

  std::string progress() const override {
    return fmt::format("{} events into {} user-resource pairs ({} duplicates dropped)", acc_.events(), acc_.size(),
                       acc_.duplicates());
  }

  Result<std::unique_ptr<Model>> fit() override {
    std::vector<TrainingPair> pairs;
    pairs.reserve(acc_.size());
    uint64_t allowlisted = 0, confirmed = 0;
    auto is_confirmed = [&](std::string_view tenant, std::string_view user, std::string_view resource) {
      if (!setup_.confirmed) return false;
      const auto& c = *setup_.confirmed;
      return std::binary_search(c.begin(), c.end(), std::array<std::string, 3>{std::string(tenant), std::string(user), std::string(resource)});
    };
    for (size_t i = 0; i < acc_.size(); ++i) {
      const PairKey& k = acc_.keys()[i];
      std::string_view user = vocab_->users.str(k.user), resource = vocab_->resources.str(k.resource);
      if (setup_.allowlist && setup_.allowlist->matches(AllowAction::kSkipModelUpdate, user, resource)) {
        ++allowlisted;
        continue;
      }
      if (is_confirmed(vocab_->tenants.str(k.tenant), user, resource)) {
        ++confirmed;
        continue;
      }
      pairs.push_back({vocab_->tenants.str(k.tenant), user, resource, acc_.stats()[i]});
    }
    FitOptions fo;
    fo.threads = setup_.threads;
    std::vector<double> iteration_seconds;
    fo.progress = [&](int it, int total, double secs) {
      iteration_seconds.push_back(secs);
      if (setup_.log && (it == 1 || it == total || it % 5 == 0))
        setup_.log(fmt::format("ALS iteration {}/{} ({:.3f} s)", it, total, secs));
    };
    if (setup_.log) setup_.log("calibrating the alert threshold on held-out days");
    auto calibration = calibrate_access_anomaly(pairs, params_, fo);
    if (!calibration) return calibration.status();
    auto fitted = fit_access_anomaly(std::move(pairs), params_, fo);
    if (!fitted) return fitted.status();
    auto m = std::make_unique<AccessAnomalyModel>(std::move(fitted).value());
    nlohmann::json tenants = nlohmann::json::array();
    for (auto& t : m->tenants) {
      if (auto c = calibration->find(t.name); c != calibration->end()) t.calibration = std::move(c->second);
      auto at = [](const std::vector<float>& q, double f) {
        return q.empty() ? 0.0 : static_cast<double>(q[static_cast<size_t>(f * kSeverityQuantiles)]);
      };
      const auto& q = t.quantiles;
      nlohmann::json cal = nullptr;
      if (t.calibrated()) {
        const auto& c = t.calibration;
        cal = {{"alert_threshold", c.threshold}, {"held_out_days", c.days}, {"held_out_users", c.users},
               {"held_out_new_pairs", c.candidates},
               {"new_pair_score", {{"p50", at(c.quantiles, 0.5)}, {"p95", at(c.quantiles, 0.95)}, {"p99", at(c.quantiles, 0.99)}}}};
      }
      tenants.push_back({{"name", t.name}, {"users", t.user_end - t.user_begin},
                         {"resources", t.resource_end - t.resource_begin}, {"components", t.components},
                         {"mu", t.mu}, {"sigma", t.sigma},
                         {"training_score", {{"min", at(q, 0)}, {"p50", at(q, 0.5)}, {"p95", at(q, 0.95)}, {"p99", at(q, 0.99)}, {"max", t.score_max}}},
                         {"calibration", cal}});
    }
    const bool any = acc_.events() > 0;
    m->info = {
        {"data", {{"first_event", time_or_null(any, acc_.first_time())}, {"last_event", time_or_null(any, acc_.last_time())},
                  {"events", acc_.events()}, {"duplicates", acc_.duplicates()}, {"incomplete", acc_.incomplete()},
                  {"allowlisted_pairs", allowlisted}, {"confirmed_anomalous_pairs", confirmed},
                  {"pairs", m->pairs.size()}, {"users", m->users.size()},
                  {"resources", m->resources.size()}, {"tenants", m->tenants.size()},
                  {"fingerprint", data_fingerprint(*m)}}},
        {"training", {{"iteration_seconds", iteration_seconds}}},
        {"evaluation", {{"tenants", tenants}}},
    };
    return std::unique_ptr<Model>(std::move(m));
  }

 private:
  ParamSet params_;
  TrainSetup setup_;
  PairAccumulator acc_;
  const Vocabulary* vocab_ = nullptr;
};

nlohmann::json explanation_json(const Explanation& e) {
  nlohmann::json usual = nlohmann::json::array(), similar = nlohmann::json::array();
  for (const auto& [r, l] : e.usual_resources) usual.push_back({{"resource", r}, {"likelihood", l}});
  for (const auto& [u, c] : e.similar_users) similar.push_back({{"user", u}, {"similarity", c}});
  return {{"usual_resources", usual}, {"similar_users_using_resource", similar},
          {"resource_users", e.resource_users}, {"peers", e.peers}, {"peers_using_resource", e.peers_using}};
}

class AccessScorerAdapter final : public Scorer {
 public:
  AccessScorerAdapter(const AccessAnomalyModel& m, const ScoreSetup& setup, std::optional<double> threshold)
      : m_(m), setup_(setup), params_(scoring_params().bind(setup.values)), acc_(setup.event_ids, m.config.dedupe) {
    options_.reference = params_.mode == ScoringMode::kReference;
    options_.threshold = options_.reference && !threshold ? std::optional<double>(kReferenceThreshold) : threshold;
    options_.allowlist = setup_.allowlist;
    options_.burst_resources = params_.burst_resources;
    options_.burst_window = params_.burst_window;
    options_.exclusive_users = params_.exclusive_users;
    options_.exclusive_department_users = params_.exclusive_department_users;
    options_.identity = setup_.identity;
  }

  void add(const EventBatch& b, const Vocabulary& vocab) override {
    vocab_ = &vocab;
    acc_.add(b, vocab, setup_.per_event ? &row_pairs_ : nullptr);
    if (setup_.per_event)
      for (size_t i = 0; i < b.size(); ++i)
        if (row_pairs_[i] != kNoPair) events_.push_back({b.time[i], b.record_id[i], row_pairs_[i]});
  }

  Result<ScoreTable> score() override {
    static const Vocabulary kEmpty;
    const Vocabulary& vocab = vocab_ ? *vocab_ : kEmpty;
    pairs_.resize(acc_.size());
    for (size_t i = 0; i < acc_.size(); ++i) {
      const PairKey& k = acc_.keys()[i];
      pairs_[i] = {vocab.tenants.str(k.tenant), vocab.users.str(k.user), vocab.resources.str(k.resource), acc_.stats()[i]};
    }
    scorer_ = std::make_unique<AccessScorer>(m_, options_);
    scores_ = scorer_->score(pairs_);
    // Pair scores in bins of kWidth from kMin (ends clamped), for reports.
    constexpr double kMin = -5, kWidth = 0.25;
    std::vector<uint64_t> histogram(80, 0);
    uint64_t unseen_user = 0, unseen_resource = 0, no_history = 0, new_pairs = 0, cross = 0, allowlisted = 0;
    for (const auto& s : scores_) {
      auto bin = static_cast<int64_t>(std::floor((s.score - kMin) / kWidth));
      ++histogram[static_cast<size_t>(std::clamp<int64_t>(bin, 0, static_cast<int64_t>(histogram.size()) - 1))];
      unseen_user += (s.reasons & kReasonUnseenUser) != 0;
      unseen_resource += (s.reasons & kReasonUnseenResource) != 0;
      no_history += (s.reasons & kReasonNoHistory) != 0;
      new_pairs += (s.reasons & kReasonNewPair) != 0;
      cross += (s.reasons & kReasonCrossComponent) != 0;
      allowlisted += (s.reasons & kReasonAllowlisted) != 0;
    }

    // One row per alerting pair (the score is per pair, so that is the original's maximum),
    // highest first; the threshold each tenant was held to goes with the figures.
    uint64_t known_above = 0, burst_only = 0;
    std::set<std::pair<std::string_view, std::string_view>> burst_accounts;
    std::map<std::string_view, double> held_to;  // per tenant of the window, once
    for (size_t i = 0; i < scores_.size(); ++i) {
      const PairScore& s = scores_[i];
      if (s.alert) kept_.push_back(i);
      burst_only += s.alert && !s.above;
      if (s.reasons & kReasonBurst) burst_accounts.emplace(pairs_[i].tenant, pairs_[i].user);
      const double threshold = scorer_->threshold(s.tenant);
      known_above += s.seen_in_training && s.score > threshold;
      if (i == 0 || pairs_[i].tenant != pairs_[i - 1].tenant) held_to.emplace(pairs_[i].tenant, threshold);
    }
    nlohmann::json thresholds = nlohmann::json::object();
    for (const auto& [tenant, threshold] : held_to) thresholds[std::string(tenant)] = threshold;
    std::stable_sort(kept_.begin(), kept_.end(), [&](size_t a, size_t b) {
      if (scores_[a].score != scores_[b].score) return scores_[a].score > scores_[b].score;
      return std::tie(pairs_[a].tenant, pairs_[a].user, pairs_[a].resource) <
             std::tie(pairs_[b].tenant, pairs_[b].user, pairs_[b].resource);
    });
    const auto shown = std::min(kept_.size(), params_.top > 0 ? static_cast<size_t>(params_.top) : kept_.size());

    ScoreTable t;
    for (size_t i : kept_) {
      const WindowPair& p = pairs_[i];
      const PairScore& s = scores_[i];
      t.rows.push_back({
          {"TimeGenerated", format_timestamp(p.stats.last)},
          {"Tenant", p.tenant},
          {"User", p.user},
          {"Resource", p.resource},
          {"Machine", vocab.machines.str(p.stats.machine)},
          {"Share", share_of(p.resource)},
          {"AnomalyScore", s.score},
          {"Severity", std::round(s.severity * 10) / 10},
          {"Reasons", reason_names(s.reasons)},
          {"AccessCount", p.stats.count},
          {"FirstSeen", format_timestamp(p.stats.first)},
          {"LastSeen", format_timestamp(p.stats.last)},
          {"ModelVersion", setup_.model_version},
          {"RunId", setup_.run_id},
      });
    }
    t.figures = {{"events", acc_.events()}, {"duplicates", acc_.duplicates()}, {"incomplete", acc_.incomplete()},
                 {"pairs", acc_.size()}, {"unseen_user_pairs", unseen_user}, {"unseen_resource_pairs", unseen_resource},
                 {"no_history_pairs", no_history}, {"new_pairs", new_pairs}, {"cross_component_pairs", cross},
                 {"allowlisted_pairs", allowlisted}, {"alerting_pairs", kept_.size()},
                 {"known_pairs_above_threshold", known_above}, {"burst_accounts", burst_accounts.size()},
                 {"burst_only_pairs", burst_only},
                 {"threshold", thresholds.size() == 1 ? thresholds.begin().value() : nlohmann::json()},
                 {"thresholds", thresholds}, {"calibrated", !options_.threshold}, {"top", params_.top},
                 {"histogram", {{"min", kMin}, {"width", kWidth}, {"counts", histogram}}}};
    t.health = {{"Events", acc_.events()}, {"Users", m_.users.size()}, {"Resources", m_.resources.size()},
                {"UnseenUsers", unseen_user}, {"UnseenResources", unseen_resource}};
    t.summary.push_back(fmt::format("scored      {} events in {} user-resource pairs ({} duplicates dropped)",
                                    acc_.events(), acc_.size(), acc_.duplicates()));
    t.summary.push_back(fmt::format("pairs       {} new, {} with an unseen user, {} with an unseen resource, {} without "
                                    "history, {} across components, {} allowlisted",
                                    new_pairs, unseen_user, unseen_resource, no_history, cross, allowlisted));
    std::string threshold_text = options_.threshold ? fmt::format("{}", *options_.threshold)
                          : thresholds.size() == 1 ? fmt::format("{:.2f} (calibrated)", thresholds.begin().value().get<double>())
                                                   : std::string("each tenant's calibrated threshold");
    t.summary.push_back(fmt::format("results     {} new pairs above {} stored; {} known pairs above it are usual access",
                                    kept_.size() - burst_only, threshold_text, known_above));
    if (!burst_accounts.empty())
      t.summary.push_back(fmt::format("bursts      {} accounts opened {} or more new resources within {}: {} more pairs "
                                      "stored, usual ones included",
                                      burst_accounts.size(), params_.burst_resources,
                                      format_duration(params_.burst_window), burst_only));
    if (!kept_.empty()) t.summary.push_back(fmt::format("\n  {:>7} {:>5}  {:<28} {:<36} {}", "score", "sev", "user", "resource", "reasons"));
    for (size_t k = 0; k < shown; ++k) {
      const size_t i = kept_[k];
      t.summary.push_back(fmt::format("  {:>7.2f} {:>5.1f}  {:<28} {:<36} {}", scores_[i].score, scores_[i].severity,
                                      display_safe(pairs_[i].user), display_safe(pairs_[i].resource),
                                      fmt::join(reason_names(scores_[i].reasons), ",")));
    }
    if (kept_.size() > shown)
      t.summary.push_back(fmt::format("  ... {} more, not shown (--top {})", kept_.size() - shown, params_.top));
    return t;
  }

  nlohmann::json explain(size_t row) const override { return explanation_json(scorer_->explain(scores_[kept_.at(row)])); }

  void each_event(const std::function<void(std::string_view)>& emit) const override {
    static const Vocabulary kEmpty;
    const Vocabulary& vocab = vocab_ ? *vocab_ : kEmpty;
    // Names and reasons per pair once; each event line then costs one format call.
    std::vector<std::string> pair_text(pairs_.size());
    for (size_t i = 0; i < pairs_.size(); ++i) {
      std::string reasons;
      for (const auto& r : reason_names(scores_[i].reasons)) reasons += fmt::format("{}\"{}\"", reasons.empty() ? "" : ",", r);
      pair_text[i] = fmt::format(
          "\"Tenant\":{},\"User\":{},\"Resource\":{},\"Machine\":{},\"AnomalyScore\":{},\"Severity\":{:.1f},"
          "\"Reasons\":[{}],\"SeenInTraining\":{}",
          json_string(pairs_[i].tenant), json_string(pairs_[i].user), json_string(pairs_[i].resource),
          json_string(vocab.machines.str(pairs_[i].stats.machine)), scores_[i].score, scores_[i].severity, reasons,
          scores_[i].seen_in_training);
    }
    fmt::memory_buffer line;
    for (const auto& e : events_) {
      line.clear();
      const auto pair = static_cast<size_t>(e.pair);
      fmt::format_to(std::back_inserter(line), "{{\"EventOriginId\":\"{}\",\"TimeGenerated\":\"{}\",{},\"Alert\":{}}}",
                     e.id.to_string(), format_timestamp(e.time), pair_text[pair], scores_[pair].alerts_at(e.time));
      emit({line.data(), line.size()});
    }
  }

 private:
  // The rows of one read kept for per-event output: 32 bytes an event.
  struct EventRef {
    Ticks time;
    RecordId id;
    int64_t pair;
  };
  const AccessAnomalyModel& m_;
  ScoreSetup setup_;
  ScoringParams params_;
  ScoreOptions options_;
  PairAccumulator acc_;
  const Vocabulary* vocab_ = nullptr;
  std::vector<int64_t> row_pairs_;
  std::vector<EventRef> events_;
  std::vector<WindowPair> pairs_;
  std::unique_ptr<AccessScorer> scorer_;
  std::vector<PairScore> scores_;
  std::vector<size_t> kept_;  // rows of the table: indices into pairs_
};

class AccessAnomalyDetector final : public Detector {
 public:
  std::string name() const override { return "access-anomaly"; }
  std::vector<ParamSpec> training_params() const override { return access_anomaly_param_specs(); }
  std::vector<ParamSpec> scoring_params() const override { return scoring_param_specs(); }
  std::string default_table() const override { return "AnomalousResourceAccessResult_CL"; }
  std::vector<OutputColumn> columns() const override {
    using T = ColumnType;
    return {
        {"TimeGenerated", T::kDatetime, "Time of the last scored access of the pair in the window"},
        {"Tenant", T::kString, "Tenant (workspace or customer) of the event"},
        {"User", T::kString, "Account, as mapped (lower case)"},
        {"Resource", T::kString, "Resource as modelled (with resource_scope machine_share: \\\\machine\\share)"},
        {"Machine", T::kString, "Machine that logged the last access"},
        {"Share", T::kString, "Share name as Windows logs it (\\\\*\\share)"},
        {"AnomalyScore", T::kReal, "z-score of the pair's affinity; higher is more anomalous; always finite"},
        {"Severity", T::kReal, "0-100: percentile of the score among the training pairs' scores"},
        {"Reasons", T::kDynamic, "Reason codes (unseen_user, unseen_resource, new_pair, cross_component, low_affinity, burst, exclusive_resource, peer_group_change, ...)"},
        {"Explanation", T::kDynamic, "The user's usual resources, similar users of this resource, peers using it"},
        {"AccessCount", T::kLong, "Accesses of the pair in the scored window"},
        {"FirstSeen", T::kDatetime, "First access of the pair in the scored window"},
        {"LastSeen", T::kDatetime, "Last access of the pair in the scored window"},
        {"ModelVersion", T::kInt, "Model registry version that scored it"},
        {"RunId", T::kString, "Identifier of the scoring run"},
    };
  }
  std::unique_ptr<Trainer> trainer(const ParamSet& params, const TrainSetup& setup) const override {
    return std::make_unique<AccessTrainer>(params, setup);
  }
  EncodedModel save(const Model& m) const override { return encode_access_anomaly(of(m)); }
  Result<std::unique_ptr<Model>> load(ParamSet params, const nlohmann::json& meta, const ModelSections& sections,
                                      const std::string& source) const override {
    return decode_access_anomaly(std::move(params), meta, sections, source);
  }
  Result<std::unique_ptr<Scorer>> scorer(const Model& m, const ScoreSetup& setup) const override {
    auto threshold = parse_threshold(byoml::scoring_params().bind(setup.values).threshold);
    if (!threshold) return threshold.status();
    return std::unique_ptr<Scorer>(std::make_unique<AccessScorerAdapter>(of(m), setup, *threshold));
  }
  std::vector<std::string> describe(const Model& model) const override {
    const AccessAnomalyModel& m = of(model);
    std::vector<std::string> out;
    out.push_back(fmt::format("model       {} users, {} resources, {} pairs, {} tenants, rank {}", m.users.size(),
                              m.resources.size(), m.pairs.size(), m.tenants.size(), m.rank));
    for (const auto& t : m.tenants)
      out.push_back(fmt::format("tenant      {}: {} components, training scores max {:.2f}", t.name, t.components, t.score_max));
    return out;
  }

 private:
  static const AccessAnomalyModel& of(const Model& m) {
    const auto* a = dynamic_cast<const AccessAnomalyModel*>(&m);
    BYOML_CHECK(a != nullptr);  // the model file and registry only hand a detector its own models
    return *a;
  }
};

}  // namespace

std::shared_ptr<const Detector> access_anomaly_detector() {
  static const auto d = std::make_shared<const AccessAnomalyDetector>();
  return d;
}

const Detector& AccessAnomalyModel::detector() const { return *access_anomaly_detector(); }

}  // namespace byoml

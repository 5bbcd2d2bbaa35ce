#include "byoml/jobs/train_job.h"
#include "byoml/version.h"

#include <fmt/format.h>

#include <chrono>

#include "byoml/features/pair_features.h"
#include "byoml/models/model_file.h"

namespace byoml {

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
nlohmann::json time_or_null(Ticks t, Ticks unbounded) {
  return t == unbounded ? nlohmann::json() : nlohmann::json(format_timestamp(t));
}
}  // namespace

ParamSet algorithm_params(const ParamSet& values) {
  ParamSet p(access_anomaly_param_specs());
  for (const auto& spec : p.specs()) BYOML_CHECK(p.set(spec.name, values.values().at(spec.name)).is_ok());
  return p;
}

Result<TrainOutcome> run_train(const TrainRequest& req) {
  auto log = [&](const std::string& s) {
    if (req.log) req.log(s);
  };
  auto t0 = std::chrono::steady_clock::now();
  auto mapping = FieldMapping::compile(mapping_for(*req.tmpl, req.values));
  if (!mapping) return mapping.status();
  auto plan = plan_inputs(req.paths, req.read);
  if (!plan) return plan.status();
  log(fmt::format("reading {} files", plan->files.size()));

  ParamSet algo = algorithm_params(req.values);
  Vocabulary vocab;
  RejectLog local_rejects;
  PairAccumulator acc(req.tmpl->event_ids, algo.get_bool("dedupe"));
  ReadContext ctx(*mapping, vocab, req.read, req.rejects ? *req.rejects : local_rejects,
                  [&](const EventBatch& b) { acc.add(b, vocab); });
  read_inputs(*plan, ctx);
  TrainOutcome out;
  TrainReport& rep = out.report;
  rep.read = ctx.stats();
  rep.read_seconds = since(t0);
  rep.events = acc.events();
  rep.duplicates = acc.duplicates();
  rep.incomplete = acc.incomplete();
  log(fmt::format("read {} events into {} user-resource pairs in {:.1f} s ({} duplicates dropped)", acc.events(),
                  acc.size(), rep.read_seconds, acc.duplicates()));

  std::vector<TrainingPair> pairs;
  pairs.reserve(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const PairKey& k = acc.keys()[i];
    std::string_view user = vocab.users.str(k.user), resource = vocab.resources.str(k.resource);
    if (req.allowlist && req.allowlist->matches(AllowAction::kSkipModelUpdate, user, resource)) {
      ++rep.allowlisted_pairs;
      continue;
    }
    pairs.push_back({vocab.tenants.str(k.tenant), user, resource, acc.stats()[i]});
  }
  rep.pairs = pairs.size();

  auto t1 = std::chrono::steady_clock::now();
  FitOptions fo;
  fo.threads = req.threads;
  std::vector<double> iteration_seconds;
  fo.progress = [&](int it, int total, double secs) {
    iteration_seconds.push_back(secs);
    if (it == 1 || it == total || it % 5 == 0) log(fmt::format("ALS iteration {}/{} ({:.3f} s)", it, total, secs));
  };
  auto fitted = fit_access_anomaly(std::move(pairs), algo, fo);
  if (!fitted) return fitted.status();
  out.model = std::move(fitted).value();
  rep.fit_seconds = since(t1);
  AccessAnomalyModel& m = out.model;

  nlohmann::json tenants = nlohmann::json::array();
  for (const auto& t : m.tenants) {
    const auto& q = t.quantiles;
    auto at = [&](double f) { return q.empty() ? 0.0 : static_cast<double>(q[static_cast<size_t>(f * kSeverityQuantiles)]); };
    tenants.push_back({{"name", t.name}, {"users", t.user_end - t.user_begin},
                       {"resources", t.resource_end - t.resource_begin}, {"components", t.components},
                       {"mu", t.mu}, {"sigma", t.sigma},
                       {"training_score", {{"min", at(0)}, {"p50", at(0.5)}, {"p95", at(0.95)}, {"p99", at(0.99)}, {"max", t.score_max}}}});
  }
  m.info = {
      {"byoml", kVersion},
      {"created", format_timestamp(now_ticks(), 0)},
      {"template", {{"name", req.tmpl->name}, {"version", req.tmpl->version}, {"source", req.tmpl->source},
                    {"parameters", req.values.values()}, {"text", req.tmpl->text}}},
      {"window", {{"from", time_or_null(req.read.filter.window.from, kMinTicks)},
                  {"to", time_or_null(req.read.filter.window.to, kMaxTicks)}}},
      {"data", {{"first_event", acc.events() ? nlohmann::json(format_timestamp(acc.first_time())) : nlohmann::json()},
                {"last_event", acc.events() ? nlohmann::json(format_timestamp(acc.last_time())) : nlohmann::json()},
                {"files", rep.read.files_read}, {"records", rep.read.records}, {"rejected", rep.read.rejected},
                {"events", rep.events}, {"duplicates", rep.duplicates}, {"incomplete", rep.incomplete},
                {"allowlisted_pairs", rep.allowlisted_pairs}, {"pairs", m.pairs.size()}, {"users", m.users.size()},
                {"resources", m.resources.size()}, {"tenants", m.tenants.size()},
                {"fingerprint", data_fingerprint(m)}}},
      {"training", {{"read_seconds", rep.read_seconds}, {"fit_seconds", rep.fit_seconds},
                    {"iteration_seconds", iteration_seconds}}},
      {"evaluation", {{"tenants", tenants}}},
  };
  return out;
}

}  // namespace byoml

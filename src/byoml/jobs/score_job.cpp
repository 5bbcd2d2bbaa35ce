#include "byoml/jobs/score_job.h"
#include "byoml/common/atomic_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "byoml/features/pair_features.h"

namespace byoml {

std::string share_of(std::string_view r) {
  if (r.rfind("\\\\", 0) != 0) return std::string(r);
  size_t slash = r.find('\\', 2);
  return slash == std::string_view::npos ? std::string(r) : "\\\\*" + std::string(r.substr(slash));
}

namespace {

// The rows of one read kept for per-event output: 32 bytes an event.
struct EventRef {
  Ticks time;
  RecordId id;
  int64_t pair;
};

nlohmann::json explanation_json(const Explanation& e) {
  nlohmann::json usual = nlohmann::json::array(), similar = nlohmann::json::array();
  for (const auto& [r, l] : e.usual_resources) usual.push_back({{"resource", r}, {"likelihood", l}});
  for (const auto& [u, c] : e.similar_users) similar.push_back({{"user", u}, {"similarity", c}});
  return {{"usual_resources", usual}, {"similar_users_using_resource", similar},
          {"resource_users", e.resource_users}, {"peers", e.peers}, {"peers_using_resource", e.peers_using}};
}

std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<ScoreOutcome> run_score(const ScoreRequest& req) {
  auto t0 = std::chrono::steady_clock::now();
  auto mapping = FieldMapping::compile(mapping_for(*req.tmpl, req.values));
  if (!mapping) return mapping.status();
  auto plan = plan_inputs(req.paths, req.read);
  if (!plan) return plan.status();
  if (req.log) req.log(fmt::format("reading {} files", plan->files.size()));

  const AccessAnomalyModel& m = *req.model;
  Vocabulary vocab;
  RejectLog local_rejects;
  PairAccumulator acc(req.tmpl->event_ids, m.params.get_bool("dedupe"));
  std::vector<EventRef> events;
  std::vector<int64_t> row_pairs;
  const bool per_event = !req.per_event_path.empty();
  ReadContext ctx(*mapping, vocab, req.read, req.rejects ? *req.rejects : local_rejects, [&](const EventBatch& b) {
    acc.add(b, vocab, per_event ? &row_pairs : nullptr);
    if (per_event)
      for (size_t i = 0; i < b.size(); ++i)
        if (row_pairs[i] != kNoPair) events.push_back({b.time[i], b.record_id[i], row_pairs[i]});
  });
  read_inputs(*plan, ctx);

  ScoreOutcome out;
  ScoreReport& rep = out.report;
  rep.read = ctx.stats();
  rep.events = acc.events();
  rep.duplicates = acc.duplicates();
  rep.incomplete = acc.incomplete();
  rep.pairs = acc.size();

  std::vector<WindowPair> pairs(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const PairKey& k = acc.keys()[i];
    pairs[i] = {vocab.tenants.str(k.tenant), vocab.users.str(k.user), vocab.resources.str(k.resource), acc.stats()[i]};
  }
  ScoreOptions so;
  so.threshold = req.values.get_real("threshold");
  so.allowlist = req.allowlist;
  AccessScorer scorer(m, so);
  std::vector<PairScore> scores = scorer.score(pairs);
  for (const auto& s : scores) {
    auto bin = static_cast<int64_t>(std::floor((s.score - ScoreReport::kHistogramMin) / ScoreReport::kHistogramWidth));
    ++rep.histogram[static_cast<size_t>(std::clamp<int64_t>(bin, 0, static_cast<int64_t>(rep.histogram.size()) - 1))];
    rep.unseen_user_pairs += (s.reasons & kReasonUnseenUser) != 0;
    rep.unseen_resource_pairs += (s.reasons & kReasonUnseenResource) != 0;
    rep.no_history_pairs += (s.reasons & kReasonNoHistory) != 0;
    rep.new_pairs += (s.reasons & kReasonNewPair) != 0;
    rep.cross_component_pairs += (s.reasons & kReasonCrossComponent) != 0;
    rep.allowlisted_pairs += (s.reasons & kReasonAllowlisted) != 0;
  }

  // The original's aggregation: above the threshold, not allowlisted, one row per pair (the
  // score is per pair, so that is its maximum), the top N by score.
  std::vector<size_t> keep;
  for (size_t i = 0; i < scores.size(); ++i)
    if (scores[i].score > so.threshold && !(scores[i].reasons & kReasonAllowlisted)) keep.push_back(i);
  rep.above_threshold_pairs = keep.size();
  std::stable_sort(keep.begin(), keep.end(), [&](size_t a, size_t b) {
    if (scores[a].score != scores[b].score) return scores[a].score > scores[b].score;
    return std::tie(pairs[a].tenant, pairs[a].user, pairs[a].resource) <
           std::tie(pairs[b].tenant, pairs[b].user, pairs[b].resource);
  });
  auto top = static_cast<size_t>(req.values.get_int("top"));
  if (top > 0 && keep.size() > top) keep.resize(top);
  for (size_t i : keep) {
    const WindowPair& p = pairs[i];
    const PairScore& s = scores[i];
    nlohmann::json row = {
        {"TimeGenerated", format_timestamp(p.stats.last)},
        {"Tenant", p.tenant},
        {"User", p.user},
        {"Resource", p.resource},
        {"Machine", vocab.machines.str(p.stats.machine)},
        {"Share", share_of(p.resource)},
        {"AnomalyScore", s.score},
        {"Severity", std::round(s.severity * 10) / 10},
        {"Reasons", reason_names(s.reasons)},
        {"Explanation", explanation_json(scorer.explain(s))},
        {"AccessCount", p.stats.count},
        {"FirstSeen", format_timestamp(p.stats.first)},
        {"LastSeen", format_timestamp(p.stats.last)},
        {"ModelVersion", req.model_version},
        {"RunId", req.run_id},
    };
    nlohmann::json declared = nlohmann::json::object();  // only the template's output columns
    for (const auto& c : req.tmpl->output.columns) declared[c.name] = row[c.name];
    out.results.push_back(std::move(declared));
  }

  if (per_event) {
    auto f = AtomicFile::create(req.per_event_path);
    if (!f) return f.status();
    // Names and reasons per pair once; each event line then costs one format call.
    std::vector<std::string> pair_text(pairs.size());
    for (size_t i = 0; i < pairs.size(); ++i) {
      std::string reasons;
      for (const auto& r : reason_names(scores[i].reasons)) reasons += fmt::format("{}\"{}\"", reasons.empty() ? "" : ",", r);
      pair_text[i] = fmt::format(
          "\"Tenant\":{},\"User\":{},\"Resource\":{},\"Machine\":{},\"AnomalyScore\":{},\"Severity\":{:.1f},"
          "\"Reasons\":[{}],\"SeenInTraining\":{}",
          json_string(pairs[i].tenant), json_string(pairs[i].user), json_string(pairs[i].resource),
          json_string(vocab.machines.str(pairs[i].stats.machine)), scores[i].score, scores[i].severity, reasons,
          scores[i].seen_in_training);
    }
    // Formatted into memory: fmt::print to a FILE throws when the disk is full.
    fmt::memory_buffer line;
    for (const auto& e : events) {
      line.clear();
      fmt::format_to(std::back_inserter(line), "{{\"EventOriginId\":\"{}\",\"TimeGenerated\":\"{}\",{}}}\n",
                     e.id.to_string(), format_timestamp(e.time), pair_text[static_cast<size_t>(e.pair)]);
      f->write({line.data(), line.size()});
    }
    BYOML_RETURN_IF_ERROR(f->commit());
  }
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace byoml

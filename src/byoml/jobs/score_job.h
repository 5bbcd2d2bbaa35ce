// Read → window pairs → scores → results: what `byoml score` does. By default it does what
// the original scoring did (drop allowlisted, keep scores above the threshold, the highest
// per user and resource, top N) and adds severity, reasons and an explanation per result.
// With a per-event path it also writes every scored event as one JSON line.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "byoml/jobs/train_job.h"
#include "byoml/models/access_scorer.h"

namespace byoml {

struct ScoreRequest {
  std::vector<std::string> paths;
  ReadOptions read;
  const DetectionTemplate* tmpl = nullptr;
  ParamSet values;  // template parameters (threshold, top, resource_scope, ...)
  const AccessAnomalyModel* model = nullptr;
  int model_version = 0;
  std::string run_id;
  const Allowlist* allowlist = nullptr;
  RejectLog* rejects = nullptr;
  std::string per_event_path;  // empty: no per-event output
  LogFn log;
};

struct ScoreReport {
  ReadStats read;
  uint64_t events = 0, duplicates = 0, incomplete = 0, pairs = 0;
  uint64_t unseen_user_pairs = 0, unseen_resource_pairs = 0, no_history_pairs = 0, new_pairs = 0,
           cross_component_pairs = 0, allowlisted_pairs = 0, above_threshold_pairs = 0;
  double seconds = 0;
  // Pair scores in bins of kHistogramWidth from kHistogramMin (ends clamped), for reports.
  static constexpr double kHistogramMin = -5, kHistogramWidth = 0.25;
  std::vector<uint64_t> histogram = std::vector<uint64_t>(80, 0);
};

struct ScoreOutcome {
  std::vector<nlohmann::json> results;  // rows of the template's output schema
  ScoreReport report;
};

Result<ScoreOutcome> run_score(const ScoreRequest& req);

// "\\fs01\hr" → "\\*\hr" (how SecurityEvent's ShareName shows it); other names unchanged.
std::string share_of(std::string_view resource);

}  // namespace byoml

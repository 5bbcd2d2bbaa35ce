// Read → features → fit: what `byoml train` does, as a library call (benchmarks and other
// front-ends use it too).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "byoml/features/allowlist.h"
#include "byoml/models/access_anomaly.h"
#include "byoml/sources/input_set.h"
#include "byoml/templates/detection_template.h"

namespace byoml {

using LogFn = std::function<void(const std::string&)>;

struct TrainRequest {
  std::vector<std::string> paths;
  ReadOptions read;
  const DetectionTemplate* tmpl = nullptr;
  ParamSet values;  // the template's parameters, resolved
  const Allowlist* allowlist = nullptr;
  RejectLog* rejects = nullptr;
  unsigned threads = 1;
  LogFn log;  // progress lines; may be empty
};

struct TrainReport {
  ReadStats read;
  uint64_t events = 0, duplicates = 0, incomplete = 0, pairs = 0, allowlisted_pairs = 0;
  double read_seconds = 0, fit_seconds = 0;
};

struct TrainOutcome {
  AccessAnomalyModel model;
  TrainReport report;
};

// The algorithm's parameters picked out of a template's resolved values.
ParamSet algorithm_params(const ParamSet& template_values);

Result<TrainOutcome> run_train(const TrainRequest& req);

}  // namespace byoml

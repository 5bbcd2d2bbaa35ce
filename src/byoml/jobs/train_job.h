// Read → detector → model: what `byoml train` does, as a library call (benchmarks and other
// front-ends use it too). Which detector learns is the template's `algorithm`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "byoml/features/allowlist.h"
#include "byoml/models/detector.h"
#include "byoml/sources/input_set.h"
#include "byoml/templates/detection_template.h"

namespace byoml {

using LogFn = std::function<void(const std::string&)>;

// What a job reads and with which template: shared by training and scoring.
struct JobRequest {
  std::vector<std::string> paths;
  ReadOptions read;
  const DetectionTemplate* tmpl = nullptr;
  ParamSet values;  // the template's parameters, resolved
  const Allowlist* allowlist = nullptr;
  RejectLog* rejects = nullptr;
  LogFn log;  // progress lines; may be empty
};

struct TrainRequest : JobRequest {
  unsigned threads = 1;
  std::vector<std::array<std::string, 3>> confirmed;  // pairs analysts confirmed anomalous (see TrainSetup)
};

struct TrainReport {
  ReadStats read;
  double read_seconds = 0, fit_seconds = 0;
};

struct TrainOutcome {
  std::unique_ptr<Model> model;  // info holds the template, window, data figures and timings
  TrainReport report;
};

// The detector's training parameters picked out of a template's resolved values.
ParamSet algorithm_params(const Detector& detector, const ParamSet& template_values);

Result<TrainOutcome> run_train(const TrainRequest& req);

}  // namespace byoml

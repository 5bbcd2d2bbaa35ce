// The facade every front-end goes through (the CLI today; the watcher and the Python bindings
// next), so none of them re-implements how a run is identified, how a stored model's template
// is reconciled with the one asked for, or how results reach their sinks.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "byoml/common/params.h"
#include "byoml/models/detector.h"
#include "byoml/results/result_sink.h"
#include "byoml/sources/read_context.h"
#include "byoml/templates/detection_template.h"

namespace byoml {

// What a stored model is scored with: its template and that template's parameter values.
struct ScoringSetup {
  std::shared_ptr<const DetectionTemplate> tmpl;
  ParamSet values;
};

// The template recorded in the model with the model's parameter values; or `requested` (a
// --template file, nullptr: none) when it agrees with the model on everything the model
// learnt from: name, algorithm, event ids and mapping. A template that disagrees is refused:
// scoring 5145 events with a model of 5140 events would give confident nonsense.
Result<ScoringSetup> reconcile_template(const Model& model, const DetectionTemplate* requested);

// The inputs as a run's identity and health row name them: URLs without their secrets (a SAS
// token that is renewed does not make a run another one).
std::vector<std::string> inputs_identity(const std::vector<std::string>& inputs);
// Run ids that name what was run, never when: a retried run replaces its own rows. A resumed
// read (read.resume) is another run than a full one.
std::string score_run_id(const Model& model, int model_version, const ReadOptions& read,
                         const std::vector<std::string>& inputs, const ParamSet& values, const std::string& allowlist,
                         bool per_event);
std::string train_run_id(const std::string& model_dir, const ReadOptions& read, const std::vector<std::string>& inputs,
                         const ParamSet& values, const std::string& allowlist);

// Each sink gets the run's rows and its health row, committed together; the first failure
// stops and names the sink.
Status write_results(const std::vector<ResultSink*>& sinks, const std::string& run_id, const OutputSchema& schema,
                     const std::vector<nlohmann::json>& rows, const nlohmann::json& health);

}  // namespace byoml

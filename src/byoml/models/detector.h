// A detector is one algorithm behind `byoml train` and `byoml score`. It declares its
// parameters and the columns it writes, learns from event batches, saves its model as sections
// of a model file, scores event batches into rows of its columns (with reasons) and explains
// each row. Detectors know no I/O: jobs read the events for them, the model file and registry
// store what they save, and sinks take the rows they score.
//
// Detectors are found by the `algorithm` name that templates and model files carry. A new one
// is a class implementing Detector plus one line in detector_registry.cpp (or a call to
// register_detector, as the tests do).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "byoml/common/output_schema.h"
#include "byoml/common/params.h"
#include "byoml/events/event_batch.h"
#include "byoml/features/identity_timeline.h"
#include "byoml/features/allowlist.h"

namespace byoml {

class Detector;

// A trained model: what every model carries, with the detector's own state in a subclass.
class Model {
 public:
  virtual ~Model() = default;
  virtual const Detector& detector() const = 0;
  ParamSet params;      // the detector's training parameters, resolved
  nlohmann::json info;  // template, window, data figures and fingerprint, evaluation, version
};

// A model as its detector encodes it: metadata beside the common fields, and named sections.
struct EncodedModel {
  nlohmann::json meta = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> sections;
};
using ModelSections = std::map<std::string, std::string_view>;

struct TrainSetup {
  std::vector<uint32_t> event_ids;       // the events the template models (empty: all)
  const Allowlist* allowlist = nullptr;  // its skip-model-update entries stay out of training
  // Pairs an analyst confirmed as anomalous (tenant, user, resource): kept out of training, so
  // they stay anomalous however often the account uses them. Sorted; may be null.
  const std::vector<std::array<std::string, 3>>* confirmed = nullptr;
  unsigned threads = 1;                  // results never depend on it
  std::function<void(const std::string&)> log;  // progress lines; may be empty
};

class Trainer {
 public:
  virtual ~Trainer() = default;
  virtual void add(const EventBatch& batch, const Vocabulary& vocab) = 0;
  // A line for the log about what was accumulated (events, pairs, duplicates).
  virtual std::string progress() const = 0;
  // The model, with info "data" (figures and a fingerprint of the data), "evaluation" and
  // "training" filled in. Errors: nothing to learn from, parameters that cannot work.
  virtual Result<std::unique_ptr<Model>> fit() = 0;
};

struct ScoreSetup {
  std::vector<uint32_t> event_ids;
  ParamSet values;                       // the template's values: scoring parameters included
  const Allowlist* allowlist = nullptr;  // its skip-result entries stay out of the rows
  int model_version = 0;
  std::string run_id;
  bool per_event = false;                // keep what each_event needs
  const IdentityTimeline* identity = nullptr;  // departments over time (IdentityInfo); may be null
};

struct ScoreTable {
  std::vector<nlohmann::json> rows;  // the detector's columns, most anomalous first
  nlohmann::json figures = nlohmann::json::object();  // counts for --json and the run's Details
  nlohmann::json health = nlohmann::json::object();   // run-row columns it knows (Users, ...)
  std::vector<std::string> summary;  // the same, for people
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual void add(const EventBatch& batch, const Vocabulary& vocab) = 0;
  virtual Result<ScoreTable> score() = 0;
  // Why row `i` of score()'s table scored as it did.
  virtual nlohmann::json explain(size_t row) const = 0;
  // After score(), with per_event: every scored event, one JSON object a call.
  virtual void each_event(const std::function<void(std::string_view)>& emit) const = 0;
};

class Detector {
 public:
  virtual ~Detector() = default;
  virtual std::string name() const = 0;
  virtual std::vector<ParamSpec> training_params() const = 0;  // recorded in each model
  virtual std::vector<ParamSpec> scoring_params() const = 0;   // chosen per scoring run
  virtual std::vector<OutputColumn> columns() const = 0;       // what its rows hold
  virtual std::string default_table() const = 0;
  virtual std::string explanation_column() const { return "Explanation"; }

  virtual std::unique_ptr<Trainer> trainer(const ParamSet& params, const TrainSetup& setup) const = 0;
  virtual EncodedModel save(const Model& model) const = 0;
  // `meta` and `params` are already read from the file; errors are kCorrupt values.
  virtual Result<std::unique_ptr<Model>> load(ParamSet params, const nlohmann::json& meta,
                                              const ModelSections& sections, const std::string& source) const = 0;
  // Errors: scoring parameters that cannot work with this model.
  virtual Result<std::unique_ptr<Scorer>> scorer(const Model& model, const ScoreSetup& setup) const = 0;
  // Lines for `byoml train` and `byoml models show` about a model (tenants, components, ...).
  virtual std::vector<std::string> describe(const Model& model) const = 0;
};

// The detector of an algorithm name, or nullptr.
const Detector* find_detector(std::string_view algorithm);
std::vector<std::string> detector_names();
// The algorithm of a template that names none (the first one byoml had).
std::string default_algorithm();
// Adds (or replaces) a detector under its name: plug-ins and tests.
void register_detector(std::shared_ptr<const Detector> detector);

}  // namespace byoml

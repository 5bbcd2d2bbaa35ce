// byoml as a service: every interval, score what is new since the checkpoint, store it with the
// checkpoint in one transaction, feed external sinks through the outbox, and run the rules that
// are due. A cycle killed at any moment is rolled back whole by SQLite and done again by the
// next one with the same run id, so every result and scored event is stored exactly once.
//
// What "new" means is the sources' business (sources/read_position.h): new files and blobs,
// grown append blobs, Kafka offsets; late records in an older export folder are new objects or
// grown ones like any other.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "byoml/api/session.h"

namespace byoml {

struct WatchOptions {
  std::string name = "default";  // the checkpoint's name: several watchers may share a store
  InputSpec input;               // positions/checkpoint are set by the watcher
  std::string model_dir;
  std::string rules_dir;         // empty: no rules
  std::string output;            // a Logs Ingestion stream (fed through the outbox); empty: none
  bool per_event = false;        // every scored event into ByomlScoredEvents
  Ticks interval = 0;            // 0: the rules' shortest queryFrequency, else 5 minutes
  std::function<Status(ParamSet&)> overrides;  // scoring parameters (--threshold, --top)
  // Retraining, counted in data time (the newest event read), so that a replay in compressed
  // time retrains as the live service would: once the newest event is `retrain_every` past the
  // end of the newest model's window, a model is trained on the last `retrain_window` of the
  // same sources with the live model's template and parameters. 0: never.
  Ticks retrain_every = 0;
  Ticks retrain_window = 21 * 24 * kTicksPerHour;
  // A retrained model is the shadow: it scores the same data beside the live one, into the
  // table TABLE_Shadow, until `byoml models promote`. false: it goes live at once.
  bool shadow = true;
  unsigned threads = 1;  // for training
};

struct CycleOutcome {
  std::string run_id;
  Status status;               // a failed cycle is recorded and retried by the next one
  uint64_t records = 0, events = 0, results = 0, events_stored = 0, rejected = 0;
  uint64_t objects_read = 0, objects_unchanged = 0;
  std::vector<SkippedObject> skipped;  // unreadable, or not in the export layout
  int model_version = 0;
  std::optional<int> shadow_version;   // scored beside the live one
  std::optional<int> retrained;        // a model trained by this cycle
  double seconds = 0;
  Delivered delivered;
  std::vector<RuleOutcome> rules;
};

class Watcher {
 public:
  Watcher(Session& session, WatchOptions options);
  // Checks what a cycle needs (the model, the rules) before the first one runs.
  Status prepare();
  CycleOutcome cycle();
  // Cycles every interval until `stop` is set (SIGTERM): the cycle in flight is finished, not
  // cut. `on_cycle` hears each outcome.
  void run(const std::atomic<bool>& stop, const std::function<void(const CycleOutcome&)>& on_cycle);
  Ticks interval() const { return interval_; }

 private:
  // Trains a new version when the data has moved `retrain_every` past the newest model's window
  // (the models this cycle scored with).
  Result<std::optional<int>> maybe_retrain(const Model& live, const Model* candidate);
  Session& session_;
  WatchOptions o_;
  std::vector<AnalyticsRule> rules_;
  Ticks interval_ = 0;
};

// What `byoml watch status` shows: the checkpoint, lag behind the newest data, the last cycle
// and its throughput, the last error, the model versions, and the outbox.
Result<nlohmann::json> watch_status(const std::string& store_path, const std::string& name, Ticks now);

// `byoml models compare`: the model directory's live (current) and shadow versions, compared on
// the rows they wrote to the store (results/score_comparison.h), as JSON.
Result<nlohmann::json> compare_models(const std::string& model_dir, const std::string& store_path, size_t top);

// The YAML config file of `byoml watch --config`: the same keys as the command's options
// (input, model, store, rules, output, name, per_event, interval, allowlist, credentials,
// from, threshold, top, retrain_every, retrain_window, shadow). Unknown keys are errors, so a typo is not silently ignored; every
// error in the file is a usage error (exit 2), one a service manager should not restart on.
struct WatchConfig {
  std::vector<std::string> input;
  std::string model, store, rules, output, name, allowlist, credentials, from;
  std::optional<bool> per_event, shadow;
  std::optional<Ticks> interval, retrain_every, retrain_window;
  std::map<std::string, std::string> parameters;  // scoring parameters, checked against their declaration
};
// `scoring`: the scoring parameters of the template in use (threshold, top, burst_window, ...);
// each may be set in the file as a top-level key.
Result<WatchConfig> load_watch_config(const std::string& path, const std::vector<ParamSpec>& scoring);

}  // namespace byoml

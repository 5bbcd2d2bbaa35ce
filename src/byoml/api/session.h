// The facade front-ends use: a Session holds the results store (or none) and runs train,
// score, rules and report. Everything a run means besides its arguments lives here, so the CLI,
// the watcher and the bindings do not re-implement it:
// - which model scores and with which template (reconcile_template refuses a --template that
//   disagrees with the model);
// - run ids that name what was run, never when, so a retried run replaces its rows;
// - the run's health row: committed with its results, or written as failed with the error;
// - where results go (the store, a JSON Lines file) and that they go there atomically.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "byoml/api/api.h"
#include "byoml/jobs/score_job.h"
#include "byoml/jobs/train_job.h"
#include "byoml/report/html_report.h"
#include "byoml/rules/rule_engine.h"

namespace byoml {

struct SessionOptions {
  std::string store;       // results store path; empty: keep no results and no run health
  WaitNotice on_wait;      // told when another run holds the store's or registry's lock
  LogFn log;               // progress lines; may be empty
  LogFn warn;              // what went wrong but did not fail the run; may be empty
};

// What to read, shared by train and score.
struct InputSpec {
  std::vector<std::string> paths;
  ReadOptions read;
  std::string allowlist;        // YAML allowlist path; empty: none
  RejectLog* rejects = nullptr;  // closed by the run; nullptr: counted only
  // Read positions (JSON Lines, sources/read_position.h): a score run reads only what is new
  // since them, and replaces them once its results are stored. Empty: read everything.
  std::string positions;
  // The same kept in the results store under this name (results/watch_store.h), and replaced in
  // the transaction that stores the results: what a watcher uses. Needs a store.
  std::string checkpoint;
  // IdentityInfo exports (departments over time): peer groups for scoring. Empty: none.
  std::vector<std::string> identity;
};

struct TrainJob {
  InputSpec input;
  std::shared_ptr<const DetectionTemplate> tmpl;
  ParamSet values;  // the template's parameters, resolved
  std::string model_dir;
  unsigned threads = 1;
  bool as_shadow = false;  // the new version becomes the shadow (a candidate), not current
};

struct Trained {
  std::string run_id;
  int version = 0;
  std::string path;
  std::unique_ptr<Model> model;
  TrainReport report;
};

struct ScoreJob {
  InputSpec input;
  std::string model_dir;
  std::optional<int> model_version;           // nullopt: the current one
  const DetectionTemplate* requested = nullptr;  // --template; nullptr: the model's own
  // Applied to the model's parameter values (scoring parameters given for this run).
  std::function<Status(ParamSet&)> overrides;
  std::string per_event_path;  // every scored event as JSON Lines; empty: none
  // The result rows as well: a JSON Lines file, "-", or a Logs Ingestion stream URL; empty: none.
  // With a checkpoint, rows for a stream go to the store's outbox in the results' transaction,
  // and deliver_outbox() sends them.
  std::string output;
  // Every scored event into the store table ByomlScoredEvents, in the results' transaction; an
  // event already there (same EventOriginId) keeps its first score.
  bool store_events = false;
  // Added to the run's health row Details (a watcher notes the shadow model that scored beside it).
  nlohmann::json health_details = nlohmann::json::object();
  // A shadow run: the rows go to the table TABLE_Shadow, and nothing else moves (no checkpoint,
  // scored events, outbox, output or source offsets). It reads what the live run reads.
  bool shadow = false;
};

struct Scored {
  std::string run_id;
  int model_version = 0;
  std::shared_ptr<const DetectionTemplate> tmpl;
  ParamSet values;
  std::unique_ptr<Model> model;
  ScoreOutcome outcome;
  uint64_t events_stored = 0;  // new rows in ByomlScoredEvents
};

// A window scored again and again, as a scheduler running `score` (and `rules run`) every
// hour would: [from, to) of score.input in steps of `every`, in order, each its own run into the
// same store; with rules, they run at the end of each window. Per-event and JSON Lines output
// files gather every window's lines.
struct ScheduleJob {
  ScoreJob score;
  Ticks every = kTicksPerHour;
  std::string rules_dir;  // empty: no rules
};

struct WindowOutcome {
  TimeWindow window;
  Scored scored;
  std::vector<RuleOutcome> rules;
};

struct Delivered {
  uint64_t batches = 0, rows = 0;
  uint64_t pending = 0;  // entries left in the outbox (their sink failed; retried next time)
  std::string last_error;
};

class Session {
 public:
  explicit Session(SessionOptions options) : o_(std::move(options)) {}

  Result<Trained> train(const TrainJob& job);
  Result<Scored> score(const ScoreJob& job) { return score(job, nullptr); }
  // Calls `each` after every window; stops at the first window that fails.
  Status score_every(const ScheduleJob& job, const std::function<void(const WindowOutcome&)>& each);
  Result<std::vector<RuleOutcome>> rules(const std::string& rules_dir, Ticks now, bool force);
  Result<std::string> report(const ReportOptions& options);
  // The store's incidents against the labelled accounts an evaluation found.
  Result<IncidentFigures> incidents_against(const EvaluationReport& evaluation);
  // Sends what the store's outbox holds to its sinks, oldest first, and removes each entry its
  // sink took. A sink that fails keeps its entry (and stops the delivery): nothing is lost, and
  // a resent entry carries the same row ids.
  Result<Delivered> deliver_outbox(std::shared_ptr<const CloudContext> cloud);

  const std::string& store_path() const { return o_.store; }

 private:
  // `identity`: the job's identity data read already (score_every reads it once); null: read here.
  Result<Scored> score(const ScoreJob& job, std::shared_ptr<const IdentityRead> identity);
  Result<ResultStore> open_store(ResultStore::Mode mode) const;
  JobRequest job_request(const InputSpec& in, const DetectionTemplate* tmpl, const ParamSet& values,
                         const Allowlist* allowlist) const;
  // A health row on its own (no store: nothing); not being able to write it is a warning.
  void record(const nlohmann::json& health);
  // Records the run as failed with `error`, and returns it.
  Status failed(nlohmann::json health, const Status& error);
  SessionOptions o_;
};

}  // namespace byoml

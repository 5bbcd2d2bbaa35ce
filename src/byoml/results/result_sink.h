// Where a run's result rows go. A sink takes one run at a time: begin(), write() any number of
// times, commit(). Until commit() nothing is visible; a run that fails or is killed leaves the
// sink as it was. Rows of a run id already there are replaced, not added, so a retried run
// (same model, window, inputs and parameters: the same run id) changes nothing.
//
// A new sink is one class and one line in output_sink().
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "byoml/cloud/cloud_context.h"
#include "byoml/common/status.h"
#include "byoml/common/output_schema.h"

namespace byoml {

class ResultStore;

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual Status begin(const std::string& run_id, const OutputSchema& schema) = 0;
  // Rows of the schema given to begin(), as objects keyed by column name.
  virtual Status write(const std::vector<nlohmann::json>& rows) = 0;
  // `health` is the run's byoml_runs row; sinks that keep no run health ignore it.
  virtual Status commit(const nlohmann::json& health) = 0;
  virtual std::string describe() const = 0;
};

// The results store: rows and the run's health row in one SQLite transaction. `before_commit`
// adds what else belongs to the run to that transaction (a watcher's checkpoint and outbox).
std::unique_ptr<ResultSink> store_sink(ResultStore& store, std::function<Status()> before_commit = {});
// A JSON Lines file ("-": standard output), replaced whole on commit.
std::unique_ptr<ResultSink> jsonl_sink(const std::string& path);
// What --output names: a Logs Ingestion stream URL (results/logs_ingestion_sink.h), else a
// JSON Lines file or "-". `cloud` null: credentials from the environment.
Result<std::unique_ptr<ResultSink>> output_sink(const std::string& target, std::shared_ptr<const CloudContext> cloud);

// A run id that depends only on what the run is: its kind and an identity (model version and
// fingerprint, window, inputs, parameters). "score-" + 16 hex digits of XXH3-128.
std::string stable_run_id(const std::string& kind, const nlohmann::json& identity);

}  // namespace byoml

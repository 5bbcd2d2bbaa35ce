// Read → detector → result rows: what `byoml score` does. The model's detector scores the
// window and picks the rows; each gets its explanation when the template's output has the
// column. With a per-event path every scored event is also written as one JSON line.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "byoml/jobs/identity_input.h"
#include "byoml/jobs/train_job.h"

namespace byoml {

struct ScoreRequest : JobRequest {  // values hold the scoring parameters (threshold, top, ...)
  const Model* model = nullptr;
  int model_version = 0;
  std::string run_id;
  std::string per_event_path;  // empty: no per-event output
  bool keep_events = false;    // every scored event into ScoreOutcome::events as well
  std::vector<std::string> identity;  // IdentityInfo inputs (jobs/identity_input.h); empty: none
  // The identity data read already (one read for many windows); null: `identity` is read.
  std::shared_ptr<const IdentityRead> identity_read;
};

struct ScoreOutcome {
  std::vector<nlohmann::json> results;  // rows of the template's output schema
  ScoreTable table;                     // the detector's figures, health columns and summary
  ReadStats read;
  std::vector<std::string> events;      // with keep_events: one JSON object per scored event
  double seconds = 0;
};

Result<ScoreOutcome> run_score(const ScoreRequest& req);

}  // namespace byoml

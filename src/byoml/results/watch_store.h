// What a watcher (api/watcher.h) keeps in the results store, beside the result rows, so that one
// SQLite transaction holds a cycle's whole outcome: results, scored events, the read checkpoint
// and the rows still owed to external sinks. A cycle killed at any moment leaves either all of
// it or none of it.
//
//   byoml_checkpoints  Name, Positions (the read positions as JSON Lines), Cycle, Updated, RunId, Newest
//   ByomlScoredEvents  one row per scored event, keyed by EventOriginId: the first score of a
//                      record stays, a copy that arrives again is not scored twice
//   byoml_outbox       result rows for an external sink (Logs Ingestion), deleted once it took them
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "byoml/results/result_store.h"

namespace byoml {

inline constexpr const char* kScoredEventsTable = "ByomlScoredEvents";

// The watch section of a store (own migrations; see migrate_section). Every function here calls it.
Status ensure_watch_schema(ResultStore& store);

struct Checkpoint {
  std::string name;
  std::string positions;  // sources/read_position.h JSON Lines; opaque here
  int64_t cycle = 0;      // cycles committed so far
  std::string updated;
  std::string run_id;     // the run that wrote it
  std::string newest;     // the latest event time read so far (ISO-8601; kept when a cycle reads older ones)
};
Result<std::optional<Checkpoint>> load_checkpoint(ResultStore& store, const std::string& name);
// Within the cycle's write transaction; cycle becomes the stored one + 1.
Status save_checkpoint(ResultStore& store, const Checkpoint& c);

// Within a write transaction: the scored events (one JSON object per line, each with
// EventOriginId and TimeGenerated) that are not there yet. Returns how many were new.
Result<uint64_t> insert_scored_events(ResultStore& store, const std::vector<std::string>& events,
                                      const std::string& run_id, int model_version);

// A watcher's cycles as its health rows (byoml_runs, Kind "watch", naming the checkpoint) tell
// them: the last cycle, the live and shadow model versions of the last good one, the last
// failure, and the number of cycles by status.
Result<nlohmann::json> watch_cycles(ResultStore& store, const std::string& name);

struct OutboxEntry {
  int64_t id = 0;
  std::string target;  // where the rows go (a Logs Ingestion stream URL)
  std::string run_id;
  OutputSchema schema;  // of the rows (kept with them: a later template change does not alter them)
  std::vector<nlohmann::json> rows;
  int64_t attempts = 0;
  std::string last_error;
};
// Within the cycle's write transaction. A retried run replaces its own entry.
Status enqueue_outbox(ResultStore& store, const OutboxEntry& e);
// Oldest first, at most `limit`.
Result<std::vector<OutboxEntry>> pending_outbox(ResultStore& store, size_t limit);
// Once the sink took the rows (its own transaction).
Status remove_outbox(ResultStore& store, int64_t id);
// A delivery that failed: counted, with its error, and left for the next cycle.
Status note_outbox_failure(ResultStore& store, int64_t id, const std::string& error);
Result<uint64_t> outbox_size(ResultStore& store);

}  // namespace byoml

// What every reader shares: options, the field mapping, the vocabulary, the reject log,
// counters, and the batch that is handed to the consumer whenever it fills up. Format
// readers only find records and their fields; ReadContext::emit does the rest.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "byoml/common/params.h"
#include "byoml/events/event_batch.h"
#include "byoml/events/field_mapping.h"
#include "byoml/sources/rejects.h"
#include "byoml/sources/transport.h"

namespace byoml {

struct ReadOptions {
  EventFilter filter;
  std::string format = "auto";             // or a decoder's name (sources/decoder.h)
  Ticks path_slack = kTicksPerHour;       // export trees: blobs this far outside the window are read too
  uint64_t max_record_bytes = 4u << 20;   // a longer line is rejected, not buffered
  uint64_t max_document_bytes = 256u << 20;  // a whole-file JSON document is read whole up to this
  size_t batch_events = 65536;
};

// The reader tunables, declared once and bound to ReadOptions' fields (CLI options and docs
// come from here; the initialisers above are the defaults).
const ParamTable<ReadOptions>& reader_params();
std::vector<ParamSpec> reader_param_specs();             // reader_params().specs()
ReadOptions read_options_from(const ParamSet& params);  // reader_params().bind()

struct ReadStats {
  uint64_t files_read = 0;
  uint64_t files_pruned = 0;   // export blobs outside the window (by path)
  uint64_t bytes_read = 0;
  uint64_t records = 0;        // records found, whatever became of them
  uint64_t events = 0;         // handed to the consumer
  uint64_t filtered_out = 0;   // event id not selected
  uint64_t outside_window = 0;
  uint64_t rejected = 0;
  std::vector<SkippedObject> skipped_files;  // unreadable, unrecognised, or not in the export layout
  std::map<std::string, uint64_t> files_by_format;
};

using BatchSink = std::function<void(const EventBatch&)>;

class ReadContext {
 public:
  ReadContext(FieldMapping& mapping, Vocabulary& vocab, ReadOptions options, RejectLog& rejects, BatchSink sink);

  const ReadOptions& options() const { return options_; }
  const FieldMapping& mapping() const { return mapping_; }
  ReadStats& stats() { return stats_; }
  RejectLog& rejects() { return rejects_; }

  // A record's fields are complete: map, filter, append, and flush a full batch.
  // `raw` is only read when the record is rejected.
  // Rejects and positions name this object until the next call.
  void begin_object(const InputObject& object);
  void emit(const RecordFields& fields, Position at, std::string_view raw);
  void reject(Position at, std::string kind, std::string field, std::string message, std::string_view raw);
  void skip_file(const std::string& path, std::string reason);
  // Hands over what is left in the batch; call once at the end of a read.
  void flush();

 private:
  void record_reject(Reject r);  // counts a reject of a record already counted in stats_.records

  FieldMapping& mapping_;
  Vocabulary& vocab_;
  ReadOptions options_;
  RejectLog& rejects_;
  BatchSink sink_;
  ReadStats stats_;
  EventBatch batch_;
  MapError error_;
  std::string source_, object_;
};

}  // namespace byoml

// What every reader shares: options, the field mapping, the vocabulary, the reject log,
// counters, and the batch that is handed to the consumer whenever it fills up. Format
// readers only find records and their fields; ReadContext::emit does the rest.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <typeindex>
#include <vector>

#include "byoml/common/params.h"
#include "byoml/events/event_batch.h"
#include "byoml/events/field_mapping.h"
#include "byoml/sources/read_position.h"
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
  unsigned read_threads = 0;              // objects decoded at once; 0: one per core
  unsigned download_threads = 4;          // remote objects fetched ahead of the decoder at once
  uint64_t read_ahead_bytes = 256u << 20; // memory for objects fetched ahead (bounds their size too)
  // Positions an earlier read ended at (sources/read_position.h): unchanged objects are not
  // read again, grown ones from where that read stopped. Null: read everything.
  std::shared_ptr<const std::vector<ReadPosition>> resume;
  // Credentials, HTTP settings and token cache for cloud sources (not a tunable); null: taken
  // from the environment when a cloud source is read.
  std::shared_ptr<const CloudContext> cloud;
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
  Ticks newest = 0;            // the latest event time handed on (0: none)
  uint64_t filtered_out = 0;   // event id not selected
  uint64_t outside_window = 0;
  uint64_t rejected = 0;
  std::vector<SkippedObject> skipped_files;  // unreadable, unrecognised, or not in the export layout
  std::map<std::string, uint64_t> files_by_format;
  uint64_t files_unchanged = 0;  // not read again: unchanged since the resume position
  uint64_t lines_deferred = 0;   // an unfinished last line of a growing object, left for the next read
  // Where the next read of each listed object starts (unchanged and unread ones included).
  std::vector<ReadPosition> positions;

  // Adds what another context counted (a worker's, for one object) to these.
  void absorb(ReadStats&& other);
};

using BatchSink = std::function<void(const EventBatch&)>;

class ReadContext {
 public:
  ReadContext(const FieldMapping& mapping, Vocabulary& vocab, ReadOptions options, RejectLog& rejects, BatchSink sink);

  const ReadOptions& options() const { return options_; }
  const FieldMapping& mapping() const { return mapping_; }
  ReadStats& stats() { return stats_; }
  RejectLog& rejects() { return rejects_; }
  Vocabulary& vocabulary() { return vocab_; }

  // A record's fields are complete: it is mapped, filtered and appended (a full batch is then
  // handed over). `raw` is only read when the record is rejected.
  // Rejects and positions name this object until the next call.
  void begin_object(const InputObject& object);
  void emit(const RecordFields& fields, Position at, std::string_view raw);
  void reject(Position at, std::string kind, std::string field, std::string message, std::string_view raw);
  void skip_file(const std::string& path, std::string reason);
  // The current object has been taken up to `offset` (the end of its last complete record);
  // decoders that read objects whole need not call it.
  void reached(uint64_t offset) { reached_ = offset; }
  // The current object is done: its position is recorded (`ok`: read to `reached`, or whole;
  // otherwise where it started, so that nothing unread is passed over).
  void end_object(const InputObject& object, bool ok);
  // Hands over what is left in the batch; call once at the end of a read.
  void flush();

  // State a decoder keeps from one object to the next of this read (its parser, its buffer, the
  // row shapes it has learnt), made with `args` the first time: an export folder holds
  // thousands of small objects, and setting that up again for each costs more than decoding.
  template <class T, class... Args>
  T& decoder_state(Args&&... args) {
    std::shared_ptr<void>& state = decoder_state_[std::type_index(typeid(T))];
    if (!state) state = std::make_shared<T>(std::forward<Args>(args)...);
    return *static_cast<T*>(state.get());
  }

  // A worker's context (sources/parallel_decode.h) holds its rejects for take_rejects() instead
  // of logging them, so that they join the read's log in input order; flush() then hands them
  // over too, and a flush comes early when they grow large.
  void hold_rejects() { hold_ = true; }
  std::vector<Reject> take_rejects();
  // Appends rows a worker decoded, their ids already the read's, flushing full batches as emit() does.
  void append_rows(const EventBatch& rows);

 private:
  static constexpr size_t kHeldRejectBytes = 16u << 20;
  void record_reject(Reject r);  // counts a reject of a record already counted in stats_.records
  void hand_over();              // the batch (and held rejects) to the sink

  const FieldMapping& mapping_;
  Vocabulary& vocab_;
  ReadOptions options_;
  RejectLog& rejects_;
  BatchSink sink_;
  ReadStats stats_;
  EventBatch batch_;
  MapScratch scratch_;
  MapError error_;
  std::string source_, object_;
  std::optional<uint64_t> reached_;
  bool hold_ = false;
  std::map<std::type_index, std::shared_ptr<void>> decoder_state_;
  std::vector<Reject> held_;
  size_t held_bytes_ = 0;
};

}  // namespace byoml

#include "byoml/sources/read_context.h"

#include <algorithm>
#include "byoml/common/param_table.h"

#include <fmt/format.h>

#include "byoml/sources/decoder.h"

namespace byoml {

const ParamTable<ReadOptions>& reader_params() {
  static const ParamTable<ReadOptions> table = [] {
    std::vector<std::string> formats = {"auto"};
    std::string help = "Input format. auto tells them apart by content and name:";
    for (const auto& d : decoders()) {
      formats.push_back(d.name);
      help += fmt::format(" {} ({}),", d.name, d.description);
    }
    help.back() = '.';
    ParamTable<ReadOptions> t;
    t.add("format", &ReadOptions::format, help, 0, 0, formats)
        .with_unit(ParamType::kDuration, "path_slack", &ReadOptions::path_slack,
                   "Export trees: also read blobs whose folder time is this far outside --from/--to (late or "
                   "misplaced records); events are then filtered by their own time.",
                   0, 30 * 86400)
        .with_unit(ParamType::kBytes, "max_record_bytes", &ReadOptions::max_record_bytes,
                   "A record (line) longer than this is rejected without being buffered.", 1024, double(1ull << 30))
        .with_unit(ParamType::kBytes, "max_document_bytes", &ReadOptions::max_document_bytes,
                   "A JSON file that is one document (a pretty-printed message, an array of rows) rather than JSON "
                   "Lines is read whole; a larger one is refused. JSON Lines files have no such limit.",
                   1024, double(1ull << 34))
        .add("batch_events", &ReadOptions::batch_events, "Events handed to the next stage at a time.", 1, 1 << 24)
        .add("read_threads", &ReadOptions::read_threads,
             "Objects (files, blobs, partitions) decoded at once, 0 for one per core. Results do not depend on it.",
             0, 256)
        .add("download_threads", &ReadOptions::download_threads,
             "Blob storage: blobs downloaded at once, ahead of the decoder.", 1, 64)
        .with_unit(ParamType::kBytes, "read_ahead_bytes", &ReadOptions::read_ahead_bytes,
                   "Blob storage: memory for blobs downloaded ahead; a blob larger than its share is streamed instead.",
                   1 << 20, double(1ull << 36));
    return t;
  }();
  return table;
}

std::vector<ParamSpec> reader_param_specs() { return reader_params().specs(); }

ReadOptions read_options_from(const ParamSet& p) { return reader_params().bind(p); }

ReadContext::ReadContext(const FieldMapping& mapping, Vocabulary& vocab, ReadOptions options, RejectLog& rejects,
                         BatchSink sink)
    : mapping_(mapping), vocab_(vocab), options_(std::move(options)), rejects_(rejects), sink_(std::move(sink)) {
  batch_.set_extra_count(mapping_.extra_count());
  batch_.reserve(options_.batch_events);
}

void ReadContext::begin_object(const InputObject& object) {
  source_ = object.source;
  object_ = object.name;
  reached_.reset();
}

void ReadContext::end_object(const InputObject& object, bool ok) {
  uint64_t offset = !ok ? object.start : object.byte_offsets ? reached_.value_or(object.size) : object.size;
  stats_.positions.push_back({object.source, object.name, object.version, offset, object.size});
}

void ReadContext::emit(const RecordFields& fields, Position at, std::string_view raw) {
  ++stats_.records;
  switch (mapping_.apply(fields, options_.filter, vocab_, batch_, scratch_, error_)) {
    case MapOutcome::kAppended:
      ++stats_.events;
      stats_.newest = std::max(stats_.newest, batch_.time.back());
      if (batch_.size() >= options_.batch_events) hand_over();
      break;
    case MapOutcome::kFilteredOut: ++stats_.filtered_out; break;
    case MapOutcome::kOutsideWindow: ++stats_.outside_window; break;
    case MapOutcome::kRejected:
      record_reject({{source_, object_, at}, error_.kind, error_.field, error_.reason,
                     std::string(raw.substr(0, RejectLog::kMaxRawBytes))});
      break;
  }
}

void ReadContext::reject(Position at, std::string kind, std::string field, std::string message, std::string_view raw) {
  ++stats_.records;
  record_reject({{source_, object_, at}, std::move(kind), std::move(field), std::move(message),
                 std::string(raw.substr(0, RejectLog::kMaxRawBytes))});
}

void ReadContext::record_reject(Reject r) {
  ++stats_.rejected;
  if (!hold_) return rejects_.add(std::move(r));
  held_bytes_ += r.raw.size() + r.message.size() + sizeof(Reject);
  held_.push_back(std::move(r));
  if (held_bytes_ > kHeldRejectBytes) flush();
}

std::vector<Reject> ReadContext::take_rejects() {
  held_bytes_ = 0;
  return std::exchange(held_, {});
}

void ReadContext::append_rows(const EventBatch& rows) {
  for (size_t done = 0; done < rows.size();) {
    size_t n = std::min(rows.size() - done, options_.batch_events - std::min(batch_.size(), options_.batch_events));
    batch_.append_rows(rows, done, done + n);
    done += n;
    if (batch_.size() >= options_.batch_events) hand_over();
  }
}

void ReadStats::absorb(ReadStats&& o) {
  files_read += o.files_read;
  files_pruned += o.files_pruned;
  bytes_read += o.bytes_read;
  records += o.records;
  events += o.events;
  newest = std::max(newest, o.newest);
  filtered_out += o.filtered_out;
  outside_window += o.outside_window;
  rejected += o.rejected;
  std::move(o.skipped_files.begin(), o.skipped_files.end(), std::back_inserter(skipped_files));
  for (const auto& [format, n] : o.files_by_format) files_by_format[format] += n;
  files_unchanged += o.files_unchanged;
  lines_deferred += o.lines_deferred;
  std::move(o.positions.begin(), o.positions.end(), std::back_inserter(positions));
}

void ReadContext::skip_file(const std::string& path, std::string reason) {
  stats_.skipped_files.push_back({path, std::move(reason)});
}

void ReadContext::flush() { hand_over(); }

void ReadContext::hand_over() {
  if (batch_.empty() && held_.empty()) return;
  if (sink_) sink_(batch_);
  batch_.clear();
}

}  // namespace byoml

#include "byoml/sources/read_context.h"

#include <fmt/format.h>

namespace byoml {

Result<InputFormat> parse_input_format(std::string_view name) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "json") return InputFormat::kJson;
  if (name == "evtx") return InputFormat::kEvtx;
  if (name == "xml") return InputFormat::kXml;
  if (name == "csv") return InputFormat::kCsv;
  return Status(ErrorCode::kInvalidArgument, fmt::format("unknown format \"{}\" (auto, json, evtx, xml, csv)", name));
}

const char* input_format_name(InputFormat f) {
  switch (f) {
    case InputFormat::kAuto: return "auto";
    case InputFormat::kJson: return "json";
    case InputFormat::kEvtx: return "evtx";
    case InputFormat::kXml: return "xml";
    case InputFormat::kCsv: return "csv";
  }
  return "?";
}

std::vector<ParamSpec> reader_param_specs() {
  return {
      {"format", ParamType::kChoice, "auto", 0, 0, {"auto", "json", "evtx", "xml", "csv"},
       "Input format. auto tells JSON (export rows, Event Hub messages, NXLog), .evtx, event XML and CSV apart by content."},
      {"path_slack", ParamType::kDuration, "1h", 0, 30 * 86400, {},
       "Export trees: also read blobs whose folder time is this far outside --from/--to (late or misplaced records); "
       "events are then filtered by their own time."},
      {"max_record_bytes", ParamType::kBytes, "4MiB", 1024, double(1ull << 30), {},
       "A record (line) longer than this is rejected without being buffered."},
      {"max_document_bytes", ParamType::kBytes, "256MiB", 1024, double(1ull << 34), {},
       "A JSON file that is one document (a pretty-printed message, an array of rows) rather than JSON Lines is "
       "read whole; a larger one is refused. JSON Lines files have no such limit."},
      {"batch_events", ParamType::kInt, "65536", 1, 1 << 24, {}, "Events handed to the next stage at a time."},
  };
}

ReadOptions read_options_from(const ParamSet& p) {
  ReadOptions o;
  o.format = parse_input_format(p.get_string("format")).value();
  o.path_slack = p.get_duration("path_slack");
  o.max_record_bytes = p.get_bytes("max_record_bytes");
  o.max_document_bytes = p.get_bytes("max_document_bytes");
  o.batch_events = static_cast<size_t>(p.get_int("batch_events"));
  return o;
}

ReadContext::ReadContext(FieldMapping& mapping, Vocabulary& vocab, ReadOptions options, RejectLog& rejects,
                         BatchSink sink)
    : mapping_(mapping), vocab_(vocab), options_(std::move(options)), rejects_(rejects), sink_(std::move(sink)) {
  batch_.set_extra_count(mapping_.extra_count());
  batch_.reserve(options_.batch_events);
}

void ReadContext::emit(const RecordFields& fields, const std::string& file, uint64_t line, std::string_view raw) {
  ++stats_.records;
  switch (mapping_.apply(fields, options_.filter, vocab_, batch_, error_)) {
    case MapOutcome::kAppended:
      ++stats_.events;
      if (batch_.size() >= options_.batch_events) flush();
      break;
    case MapOutcome::kFilteredOut: ++stats_.filtered_out; break;
    case MapOutcome::kOutsideWindow: ++stats_.outside_window; break;
    case MapOutcome::kRejected:
      record_reject({file, line, error_.kind, error_.field, error_.reason, std::string(raw.substr(0, RejectLog::kMaxRawBytes))});
      break;
  }
}

void ReadContext::reject(const std::string& file, uint64_t line, std::string kind, std::string field,
                         std::string message, std::string_view raw) {
  ++stats_.records;
  record_reject({file, line, std::move(kind), std::move(field), std::move(message),
                 std::string(raw.substr(0, RejectLog::kMaxRawBytes))});
}

void ReadContext::record_reject(Reject r) {
  ++stats_.rejected;
  rejects_.add(std::move(r));
}

void ReadContext::skip_file(const std::string& path, std::string reason) {
  stats_.skipped_files.push_back({path, std::move(reason)});
}

void ReadContext::flush() {
  if (batch_.empty()) return;
  if (sink_) sink_(batch_);
  batch_.clear();
}

}  // namespace byoml

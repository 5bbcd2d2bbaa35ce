// Decoders make records of an object's bytes, whatever transport brought them: a file, a blob,
// a Kafka message body. Each finds records and their fields and hands them to ReadContext; a
// bad record is rejected with its origin (object, line, offset) and decoding goes on. A Status
// error means the object as a whole could not be read (it is then reported and skipped).
//
// A new format is one decoder file and one line in the table in decoder.cpp; `--format`, its
// help text and content detection all come from that table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "byoml/sources/read_context.h"
#include "byoml/sources/transport.h"

namespace byoml {

struct Decoder {
  const char* name;         // the --format value
  const char* description;  // for --help
  // How sure the decoder is that an object with these first bytes and this name is its format:
  // 0 no, 1 by content, 2 by name (extension), 3 by signature. The highest wins; ties go to the
  // earlier decoder in the table.
  int (*sniff)(std::string_view head, std::string_view name);
  Status (*decode)(const InputObject& in, ReadContext& ctx);
};

// JSON Lines: Log Analytics export rows, NXLog flat JSON, Event Hub messages
// ({"records":[...]} one per line); also one JSON document per object (a pretty-printed Event
// Hub message or an array of rows).
Status decode_json(const InputObject& in, ReadContext& ctx);
// Raw Windows .evtx through libevtx; the record number is the record's line.
Status decode_evtx(const InputObject& in, ReadContext& ctx);
// Windows event XML: one or more <Event> elements (wevtutil qe /f:xml, Event Viewer exports).
Status decode_xml(const InputObject& in, ReadContext& ctx);
// CSV with a header line (RFC 4180 quoting); "TimeGenerated [UTC]" headers lose the suffix.
Status decode_csv(const InputObject& in, ReadContext& ctx);

const std::vector<Decoder>& decoders();
const Decoder* find_decoder(std::string_view name);
// The decoder for an object by its first bytes (up to 4 KiB) and name. An empty or blank
// object is ErrorCode::kNotFound ("empty"), an unknown one kUnsupported.
Result<const Decoder*> detect_decoder(std::string_view head, std::string_view name);

}  // namespace byoml

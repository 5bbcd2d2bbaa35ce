// One reader per rendering. Each finds records and their fields and hands them to
// ReadContext::emit; a bad record is rejected with file, line and reason, and reading goes on.
// A Status error means the file as a whole could not be read (it is then reported and skipped).
#pragma once

#include <string>

#include "byoml/sources/read_context.h"

namespace byoml {

// JSON Lines: Log Analytics export rows, NXLog flat JSON, Event Hub messages
// ({"records":[...]} one per line); also one JSON document per file (a pretty-printed Event
// Hub message or an array of rows).
Status read_json_file(const std::string& path, ReadContext& ctx);
// Raw Windows .evtx through libevtx; the record number is the record id.
Status read_evtx_file(const std::string& path, ReadContext& ctx);
// Windows event XML: one or more <Event> elements (wevtutil qe /f:xml, Event Viewer exports).
Status read_xml_file(const std::string& path, ReadContext& ctx);
// CSV with a header line (RFC 4180 quoting); "TimeGenerated [UTC]" headers lose the suffix.
Status read_csv_file(const std::string& path, ReadContext& ctx);

}  // namespace byoml

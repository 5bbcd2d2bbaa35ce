// The blob layout of Log Analytics continuous export:
//   .../y=YYYY/m=MM/d=DD/h=HH/m=mm/PT05M.json   (since 2021-10-15; overflow PT05M_1.json, ...)
//   .../y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json    (older hourly layout)
// The folder gives the time span a blob holds, so a window can skip blobs without opening them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "byoml/common/status.h"
#include "byoml/common/time.h"

namespace byoml {

struct ExportBlobName {
  Ticks start = 0;
  Ticks span = 0;      // 5 minutes or 1 hour
  int overflow = 0;    // N of PT05M_N.json, 0 for the first blob
};

// Whether the path has an export folder (a "y=" component) at all.
bool has_export_folder(std::string_view path);
// Parses the last six components of `path`; an error says what does not fit the layout.
Result<ExportBlobName> parse_export_blob_path(std::string_view path);
// The day a folder ".../y=YYYY/m=MM/d=DD" holds, or none when the path ends otherwise: a listing
// skips the days outside its window without opening them.
std::optional<TimeWindow> export_day_folder(std::string_view path);
// The relative blob path for a 5-minute slot, e.g. "y=2026/m=11/d=28/h=15/m=05/PT05M.json".
std::string export_blob_path(Ticks slot_start, int overflow = 0);

}  // namespace byoml

// History from a Log Analytics workspace through its query API, for a first model: continuous
// export only carries data from the day it was switched on.
//   https://api.loganalytics.io/v1/workspaces/WORKSPACE-ID[?table=SecurityEvent&slice=1d]
// (sovereign clouds: their own host, e.g. api.loganalytics.us; the token scope is
// query_scope in the credentials). The window (--from, --to; --to defaults to now) is cut into
// slices, each one object and one query: the table, the template's event ids, and the columns
// its mapping reads. A slice whose answer is partial (the API's row and size limits) is halved
// and asked again, so no answer is ever taken in part. Rows become JSON Lines for the JSON
// decoder, empty columns left out as the export leaves them out.
#pragma once

#include "byoml/sources/transport.h"

namespace byoml {

// nullptr for a URL that is not a workspace's query API.
Result<std::shared_ptr<const Transport>> make_query_transport(const std::string& url,
                                                             const std::shared_ptr<const CloudContext>& cloud);

// The KQL for one slice (exposed for tests and --help): table, time range, event ids, columns.
std::string slice_query(const std::string& table, const TimeWindow& slice, const std::vector<uint32_t>& event_ids,
                        const std::vector<std::string>& columns);

}  // namespace byoml

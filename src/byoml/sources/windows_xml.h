// The fields of one Windows event in its XML rendering (what .evtx records render to and what
// wevtutil / Event Viewer export). System values get flat names (EventID, TimeCreated,
// Computer, EventRecordID, Channel, Provider), EventData/UserData values their Name, so one
// template mapping serves XML, .evtx, NXLog and export JSON alike.
#pragma once

#include <pugixml.hpp>

#include <string>
#include <string_view>

#include "byoml/events/field_mapping.h"

namespace byoml {

// Parses `xml` into `doc` and fills `fields` with string_views into `doc`, which must outlive
// their use. On failure returns a message (empty on success).
std::string parse_event_xml(std::string_view xml, pugi::xml_document& doc, const FieldMapping& mapping,
                            RecordFields& fields);

}  // namespace byoml

#include "byoml/sources/windows_xml.h"

#include <fmt/format.h>

#include <cstring>

namespace byoml {
namespace {

void put(const FieldMapping& m, RecordFields& f, std::string_view key, const char* value) {
  int slot = m.slot_of(key);
  if (slot >= 0) f.set(slot, value, ValueKind::kString);
}

}  // namespace

std::string parse_event_xml(std::string_view xml, pugi::xml_document& doc, const FieldMapping& m,
                            RecordFields& f) {
  f.clear();
  pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r) return fmt::format("invalid XML at byte {}: {}", r.offset, r.description());
  pugi::xml_node event = doc.child("Event");
  if (!event) return "no <Event> element";
  pugi::xml_node sys = event.child("System");
  if (!sys) return "no <System> element in <Event>";
  for (pugi::xml_node n : sys.children()) {
    std::string_view name = n.name();
    if (name == "Provider") put(m, f, "Provider", n.attribute("Name").value());
    else if (name == "TimeCreated") put(m, f, "TimeCreated", n.attribute("SystemTime").value());
    else if (name == "Security") put(m, f, "UserID", n.attribute("UserID").value());
    else if (name == "Execution") put(m, f, "ProcessID", n.attribute("ProcessID").value());
    else put(m, f, name, n.child_value());
  }
  for (const char* section : {"EventData", "UserData"}) {
    pugi::xml_node data = event.child(section);
    if (!data) continue;
    // UserData wraps its values in one provider-specific element.
    if (std::strcmp(section, "UserData") == 0) data = data.first_child();
    for (pugi::xml_node d : data.children()) {
      const char* name = d.attribute("Name").value();
      if (*name == '\0') name = d.name();
      put(m, f, name, d.child_value());
    }
  }
  return {};
}

}  // namespace byoml

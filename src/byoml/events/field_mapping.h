// Turns a raw record (any rendering: export JSON, NXLog, XML, CSV) into an access event.
// Which source field feeds which event field comes from a template's mapping, never from
// code: a reader only reports the fields the mapping asks for (slot_of), then apply() builds
// the event, so every rendering goes through exactly the same rules.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "byoml/common/status.h"
#include "byoml/common/time.h"
#include "byoml/events/event_batch.h"

namespace byoml {

enum class ValueKind : uint8_t { kAbsent = 0, kString, kNumber, kBool, kNull, kComposite };
const char* value_kind_name(ValueKind k);

struct FieldValue {
  std::string_view text;  // unescaped string, or the literal text of a number / bool
  ValueKind kind = ValueKind::kAbsent;
};

// One rule: alternatives tried in order; the first whose source fields are all present and
// non-empty wins. An alternative is a field name ("Account") or a pattern that joins several
// ("{SubjectDomainName}\\{SubjectUserName}").
struct FieldRule {
  std::vector<std::string> sources;
  bool lowercase = false;      // ASCII case folding: Windows names are case-insensitive
  std::string default_value;   // used when no alternative matches
  bool operator==(const FieldRule&) const = default;
};

enum class ResourceScope { kShare, kMachineShare };
enum class ExtraType { kString, kNumber };

struct ExtraField {
  std::string name;
  FieldRule rule;
  ExtraType type = ExtraType::kString;  // kNumber accepts decimal and 0x-hex (access masks, logon ids)
  bool operator==(const ExtraField&) const = default;
};

struct MappingSpec {
  FieldRule time, tenant, user, account_type, machine, resource, source_ip, event_id, record_id;
  // kMachineShare makes "\\*\C$" on FS01 the resource "\\fs01\C$" (the machine is part of
  // the identity); kShare keeps the share alone, as the reference did.
  ResourceScope resource_scope = ResourceScope::kMachineShare;
  std::vector<ExtraField> extras;
  // Events with these ids must carry every `required` field (empty: all events must).
  std::vector<uint32_t> scope_event_ids;
  std::vector<std::string> required;  // logical names among user, resource, machine, tenant
  bool operator==(const MappingSpec&) const = default;
};

// What a reader keeps for selecting events.
struct EventFilter {
  TimeWindow window;
  std::vector<uint32_t> event_ids;  // empty: every event id
};

class RecordFields {
 public:
  static constexpr size_t kMaxSlots = 64;
  void clear() { present_ = 0; }
  void set(int slot, std::string_view text, ValueKind kind) {
    values_[slot] = {text, kind};
    present_ |= 1ull << slot;
  }
  const FieldValue& get(int slot) const {
    static const FieldValue kAbsent;
    return (present_ >> slot) & 1 ? values_[slot] : kAbsent;
  }

 private:
  std::array<FieldValue, kMaxSlots> values_{};
  uint64_t present_ = 0;
};

enum class MapOutcome { kAppended, kFilteredOut, kOutsideWindow, kRejected };

// What FieldMapping::apply builds while it maps a record: the text of fields that are not used
// as they stand (lowercased, joined from several fields). One per thread, kept across records
// so that its buffers are reused.
class MapScratch {
 private:
  friend class FieldMapping;
  enum StringField { kTenant, kUser, kMachine, kResource, kSourceIp, kStrings };  // kVocabularyPools order
  std::array<std::string, kStrings> built;
  std::array<std::string_view, kStrings> text;  // in the record, or in `built`
  std::vector<std::string> extra_built;
  std::vector<std::string_view> extra_text;
  std::vector<uint64_t> extras;
  std::string other, joined;
  TimestampParser time;
};

// A failed mapping: which source field and why (e.g. field "TimeGenerated": invalid time ...).
struct MapError {
  std::string kind;   // missing_field, wrong_type or bad_value
  std::string field;
  std::string reason;
};

class FieldMapping {
 public:
  // Extra columns a template may ask for; more is refused when the template is compiled.
  static constexpr size_t kMaxExtras = 64;
  static Result<FieldMapping> compile(const MappingSpec& spec);

  // The slot a reader stores `key` in, or -1 when no rule reads that field.
  int slot_of(std::string_view key) const {
    if (key.empty()) return -1;
    for (const auto& [k, slot] : buckets_[bucket(key)])
      if (k == key) return slot;
    return -1;
  }
  const std::vector<std::string>& keys() const { return keys_; }
  size_t extra_count() const { return extras_.size(); }
  const std::vector<std::string>& extra_names() const { return extra_names_; }
  // Per extra column: true when it holds ids in Vocabulary::values, false for numbers.
  std::vector<bool> string_extras() const;

  // Maps a record to an event appended to `out` (kAppended), or says why not; kRejected fills
  // `error`. Only an appended event's strings are interned.
  MapOutcome apply(const RecordFields& fields, const EventFilter& filter, Vocabulary& vocab, EventBatch& out,
                   MapScratch& scratch, MapError& error) const;

 private:
  struct Part {
    std::string literal;
    int slot = -1;  // -1: literal
  };
  struct Alternative {
    int field = -1;  // the slot, when the alternative is one field alone (most are)
    std::vector<Part> parts;
    std::string label;  // as written in the template, for messages
  };
  struct Rule {
    std::vector<Alternative> alternatives;
    bool lowercase = false;
    std::string default_value;
  };
  struct Extra {
    Rule rule;
    ExtraType type;
  };

  static size_t bucket(std::string_view k) {
    return (k.size() * 31 + static_cast<unsigned char>(k.front()) * 7 + static_cast<unsigned char>(k.back())) & 255;
  }
  Result<Rule> compile_rule(const FieldRule& rule, const char* logical);
  // Resolves a rule to its text in `out`: a field's own text when it is used as it stands,
  // else built in `buffer`. Returns false when no alternative matched; sets `source` to the
  // label of the alternative used. resolve() takes the usual case, a first source that is one
  // field and holds a value, inline; resolve_any() every case.
  bool resolve(const Rule& rule, const RecordFields& f, std::string& buffer, std::string_view& out,
               std::string_view& source, ValueKind& kind, MapError& error) const;
  bool resolve_any(const Rule& rule, const RecordFields& f, std::string& buffer, std::string_view& out,
                   std::string_view& source, ValueKind& kind, MapError& error) const;

  std::array<std::vector<std::pair<std::string, int>>, 256> buckets_;
  std::vector<std::string> keys_;
  Rule time_, tenant_, user_, account_type_, machine_, resource_, source_ip_, event_id_, record_id_;
  std::vector<Extra> extras_;
  std::vector<std::string> extra_names_;
  ResourceScope scope_ = ResourceScope::kMachineShare;
  std::vector<uint32_t> scope_event_ids_;
  bool require_user_ = false, require_resource_ = false, require_machine_ = false, require_tenant_ = false;
};

// Parses an unsigned integer written in decimal or as 0x-hex ("0x000000002276d109" == "0x2276d109").
bool parse_uint(std::string_view text, uint64_t& out);

}  // namespace byoml

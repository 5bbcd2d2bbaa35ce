// The in-memory model of access events: columns of fixed-width values, strings interned to
// dense ids in a Vocabulary shared by every batch of one read. Columnar so that later stages
// scan only what they need, and so a batch splits cheaply by tenant or by hash of user.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "byoml/common/time.h"
#include "byoml/events/string_pool.h"

namespace byoml {

enum class AccountType : uint8_t { kUnknown = 0, kUser = 1, kMachine = 2 };
const char* account_type_name(AccountType t);

// Identity of a source record: the export's EventOriginId (a GUID) or the .evtx / NXLog
// record number. Kept as 128 bits rather than interned, so memory stays flat in the input.
struct RecordId {
  enum class Kind : uint8_t { kNone = 0, kGuid, kNumber, kHash };
  uint64_t hi = 0;
  uint64_t lo = 0;
  Kind kind = Kind::kNone;

  // GUIDs (with or without braces, any case) and decimal numbers keep their value; any other
  // text is kept as its 128-bit hash, so hostile ids still identify duplicates.
  static RecordId from_text(std::string_view text);
  static RecordId from_number(uint64_t n) { return {0, n, Kind::kNumber}; }
  std::string to_string() const;
  friend bool operator==(const RecordId&, const RecordId&) = default;
};

// One pool per kind of string so that ids are dense per kind (user ids index factor rows).
struct Vocabulary {
  StringPool tenants;
  StringPool users;
  StringPool machines;
  StringPool resources;
  StringPool addresses;
  StringPool values;  // string-typed extra fields a template asks for
  size_t bytes_used() const;
};

// One event's values, as EventBatch holds them.
struct EventRow {
  Ticks time = 0;
  uint32_t tenant = 0, user = 0;
  AccountType account_type = AccountType::kUnknown;
  uint32_t machine = 0, resource = 0, source_ip = 0, event_id = 0;
  RecordId record_id;
};

struct EventBatch {
  std::vector<Ticks> time;
  std::vector<uint32_t> tenant;
  std::vector<uint32_t> user;
  std::vector<AccountType> account_type;
  std::vector<uint32_t> machine;
  std::vector<uint32_t> resource;
  std::vector<uint32_t> source_ip;
  std::vector<uint32_t> event_id;
  std::vector<RecordId> record_id;
  // One column per extra field of the template, in the template's order: an id in
  // Vocabulary::values for string fields, the number itself for numeric ones.
  std::vector<std::vector<uint64_t>> extra;

  size_t size() const { return time.size(); }
  bool empty() const { return time.empty(); }
  void clear();
  void reserve(size_t n);
  void set_extra_count(size_t n) { extra.resize(n); }
  // Appends row `row` of `other` (same extra layout).
  void append_row(const EventBatch& other, size_t row);
  // Appends an event and its extra values (one per extra column).
  void append(const EventRow& row, std::span<const uint64_t> extras);
  // Appends rows [begin, end) of `other` (same extra layout).
  void append_rows(const EventBatch& other, size_t begin, size_t end);
};

enum class PartitionKey { kTenant, kUserHash };

// Row indices of `batch` per partition. kTenant: one partition per tenant id (parts is
// ignored, the result has vocab.tenants.size() entries). kUserHash: stable_hash(user name)
// modulo parts, the same on every machine whatever the reading order.
std::vector<std::vector<uint32_t>> partition_rows(const EventBatch& batch, const Vocabulary& vocab,
                                                  PartitionKey key, uint32_t parts = 1);
EventBatch take_rows(const EventBatch& batch, std::span<const uint32_t> rows);

}  // namespace byoml

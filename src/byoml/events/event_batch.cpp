#include "byoml/events/event_batch.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <charconv>

namespace byoml {
namespace {

// Every export row carries a GUID: a table lookup per digit, and one test at the end instead
// of a branch per character, keep parsing it cheap.
struct HexTable {
  uint8_t v[256];
  constexpr HexTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = 0x80;  // not a hex digit
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<uint8_t>(i);
    for (int i = 0; i < 6; ++i) v['a' + i] = v['A' + i] = static_cast<uint8_t>(10 + i);
  }
};
constexpr HexTable kHex;
// Where the 32 digits of 8-4-4-4-12 are.
constexpr uint8_t kDigitAt[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11, 12, 14, 15, 16, 17,
                                  19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35};

bool parse_guid(std::string_view s, uint64_t& hi, uint64_t& lo) {
  if (s.size() == 38 && s.front() == '{' && s.back() == '}') s = s.substr(1, 36);
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  uint64_t parts[2] = {0, 0};
  uint8_t bad = 0;
  for (int half = 0; half < 2; ++half)
    for (int i = 0; i < 16; ++i) {
      uint8_t v = kHex.v[static_cast<unsigned char>(s[kDigitAt[half * 16 + i]])];
      bad |= v;
      parts[half] = (parts[half] << 4) | (v & 15u);
    }
  hi = parts[0];
  lo = parts[1];
  return (bad & 0x80) == 0;
}

}  // namespace

const char* account_type_name(AccountType t) {
  switch (t) {
    case AccountType::kUser: return "User";
    case AccountType::kMachine: return "Machine";
    case AccountType::kUnknown: break;
  }
  return "Unknown";
}

RecordId RecordId::from_text(std::string_view text) {
  RecordId id;
  if (text.empty()) return id;
  if (parse_guid(text, id.hi, id.lo)) {
    id.kind = Kind::kGuid;
    return id;
  }
  uint64_t n = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return from_number(n);
  XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  return {h.high64, h.low64, Kind::kHash};
}

std::string RecordId::to_string() const {
  switch (kind) {
    case Kind::kNone: return "";
    case Kind::kNumber: return std::to_string(lo);
    case Kind::kGuid:
      return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff,
                         lo >> 48, lo & 0xffffffffffffull);
    case Kind::kHash: return fmt::format("h:{:016x}{:016x}", hi, lo);
  }
  return "";
}

size_t Vocabulary::bytes_used() const {
  return tenants.bytes_used() + users.bytes_used() + machines.bytes_used() + resources.bytes_used() +
         addresses.bytes_used() + values.bytes_used();
}

void EventBatch::clear() {
  time.clear();
  tenant.clear();
  user.clear();
  account_type.clear();
  machine.clear();
  resource.clear();
  source_ip.clear();
  event_id.clear();
  record_id.clear();
  for (auto& col : extra) col.clear();
}

void EventBatch::reserve(size_t n) {
  time.reserve(n);
  tenant.reserve(n);
  user.reserve(n);
  account_type.reserve(n);
  machine.reserve(n);
  resource.reserve(n);
  source_ip.reserve(n);
  event_id.reserve(n);
  record_id.reserve(n);
  for (auto& col : extra) col.reserve(n);
}

void EventBatch::append_row(const EventBatch& o, size_t r) {
  BYOML_CHECK(o.extra.size() == extra.size());
  time.push_back(o.time[r]);
  tenant.push_back(o.tenant[r]);
  user.push_back(o.user[r]);
  account_type.push_back(o.account_type[r]);
  machine.push_back(o.machine[r]);
  resource.push_back(o.resource[r]);
  source_ip.push_back(o.source_ip[r]);
  event_id.push_back(o.event_id[r]);
  record_id.push_back(o.record_id[r]);
  for (size_t c = 0; c < extra.size(); ++c) extra[c].push_back(o.extra[c][r]);
}

void EventBatch::append_rows(const EventBatch& o, size_t begin, size_t end) {
  BYOML_CHECK(o.extra.size() == extra.size() && begin <= end && end <= o.size());
  auto add = [&](auto& to, const auto& from) { to.insert(to.end(), from.begin() + begin, from.begin() + end); };
  add(time, o.time);
  add(tenant, o.tenant);
  add(user, o.user);
  add(account_type, o.account_type);
  add(machine, o.machine);
  add(resource, o.resource);
  add(source_ip, o.source_ip);
  add(event_id, o.event_id);
  add(record_id, o.record_id);
  for (size_t c = 0; c < extra.size(); ++c) add(extra[c], o.extra[c]);
}

std::vector<std::vector<uint32_t>> partition_rows(const EventBatch& batch, const Vocabulary& vocab,
                                                  PartitionKey key, uint32_t parts) {
  std::vector<std::vector<uint32_t>> out;
  if (key == PartitionKey::kTenant) {
    out.resize(vocab.tenants.size());
    for (uint32_t r = 0; r < batch.size(); ++r) out[batch.tenant[r]].push_back(r);
    return out;
  }
  BYOML_CHECK(parts > 0);
  out.resize(parts);
  for (uint32_t r = 0; r < batch.size(); ++r) out[vocab.users.hash(batch.user[r]) % parts].push_back(r);
  return out;
}

EventBatch take_rows(const EventBatch& batch, std::span<const uint32_t> rows) {
  EventBatch out;
  out.set_extra_count(batch.extra.size());
  out.reserve(rows.size());
  for (uint32_t r : rows) out.append_row(batch, r);
  return out;
}

}  // namespace byoml

#include "byoml/events/event_batch.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <charconv>
#include <cstring>

#include "byoml/common/bytes.h"

namespace byoml {
namespace {

// Every export row carries a GUID: its 32 digits (8-4-4-4-12) are read 8 at a time, the
// groups of 4 two to a word.
bool parse_guid(std::string_view s, uint64_t& hi, uint64_t& lo) {
  if (s.size() == 38 && s.front() == '{' && s.back() == '}') s = s.substr(1, 36);
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  auto load4 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, s.data() + at, 4);
    return uint64_t{v};
  };
  using bytes_detail::load8;
  uint32_t w[4];
  if (!hex8(load8(s.data()), w[0]) || !hex8(load4(9) | load4(14) << 32, w[1]) ||
      !hex8(load4(19) | load4(24) << 32, w[2]) || !hex8(load8(s.data() + 28), w[3]))
    return false;
  hi = uint64_t{w[0]} << 32 | w[1];
  lo = uint64_t{w[2]} << 32 | w[3];
  return true;
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

void EventBatch::append(const EventRow& r, std::span<const uint64_t> extras) {
  BYOML_CHECK(extras.size() == extra.size());
  time.push_back(r.time);
  tenant.push_back(r.tenant);
  user.push_back(r.user);
  account_type.push_back(r.account_type);
  machine.push_back(r.machine);
  resource.push_back(r.resource);
  source_ip.push_back(r.source_ip);
  event_id.push_back(r.event_id);
  record_id.push_back(r.record_id);
  for (size_t c = 0; c < extra.size(); ++c) extra[c].push_back(extras[c]);
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

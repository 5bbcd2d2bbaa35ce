#include "byoml/events/field_mapping.h"

#include "byoml/common/bytes.h"
#include "byoml/events/vocabulary_map.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace byoml {
namespace {

inline bool is_placeholder(std::string_view v) { return v.empty() || (v.size() == 1 && v[0] == '-'); }

// a + b + c, written to the front of `buffer`, which only grows (std::string's appends cost a
// library call each, on every event).
std::string_view join_into(std::string& buffer, std::string_view a, std::string_view b, std::string_view c) {
  size_t n = a.size() + b.size() + c.size();
  if (buffer.size() < n) buffer.resize(n);
  char* d = buffer.data();
  std::memcpy(d, a.data(), a.size());
  std::memcpy(d + a.size(), b.data(), b.size());
  std::memcpy(d + a.size() + b.size(), c.data(), c.size());
  return {d, n};
}

// parse_uint(), inlined where every event calls it.
[[gnu::always_inline]] inline bool read_uint(std::string_view t, uint64_t& out) {
  bool hex = t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
  if (hex) t.remove_prefix(2);
  if (t.empty()) return false;
  // Up to 16 hex or 19 decimal digits cannot overflow: a plain loop reads them, for less than
  // from_chars costs on these short numbers (event ids, logon ids, access masks).
  if (t.size() <= (hex ? 16u : 19u)) {
    uint64_t v = 0;
    if (hex) {
      uint8_t bad = 0;
      for (char c : t) {
        uint8_t d = hex_value(c);
        bad |= d;
        v = v << 4 | (d & 15u);
      }
      if (bad & 0x80) return false;
    } else {
      for (char c : t) {
        auto d = static_cast<unsigned char>(c - '0');
        if (d > 9) return false;
        v = v * 10 + d;
      }
    }
    out = v;
    return true;
  }
  auto r = std::from_chars(t.data(), t.data() + t.size(), out, hex ? 16 : 10);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

std::string shown(std::string_view v) {
  std::string out(v.substr(0, 80));
  if (v.size() > 80) out += "...";
  return out;
}

}  // namespace

const char* value_kind_name(ValueKind k) {
  switch (k) {
    case ValueKind::kAbsent: return "absent";
    case ValueKind::kString: return "string";
    case ValueKind::kNumber: return "number";
    case ValueKind::kBool: return "bool";
    case ValueKind::kNull: return "null";
    case ValueKind::kComposite: return "object or array";
  }
  return "?";
}

bool parse_uint(std::string_view t, uint64_t& out) { return read_uint(t, out); }

Result<FieldMapping::Rule> FieldMapping::compile_rule(const FieldRule& in, const char* logical) {
  Rule rule;
  rule.lowercase = in.lowercase;
  rule.default_value = in.default_value;
  for (const auto& src : in.sources) {
    Alternative alt;
    alt.label = src;
    std::string_view s = src;
    size_t p = 0;
    while (p < s.size()) {
      size_t open = s.find('{', p);
      if (open == std::string_view::npos) open = s.size();
      if (open > p) alt.parts.push_back({std::string(s.substr(p, open - p)), -1});
      if (open == s.size()) break;
      size_t close = s.find('}', open);
      if (close == std::string_view::npos || close == open + 1)
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("mapping for {}: bad pattern \"{}\" (use {{Field}})", logical, src));
      alt.parts.push_back({std::string(s.substr(open + 1, close - open - 1)), 0});
      p = close + 1;
    }
    bool has_field = std::any_of(alt.parts.begin(), alt.parts.end(), [](const Part& x) { return x.slot >= 0; });
    if (!has_field) {
      // A plain name: the whole text is the field.
      alt.parts.clear();
      alt.parts.push_back({src, 0});
    }
    for (auto& part : alt.parts) {
      if (part.slot < 0) continue;
      int slot = slot_of(part.literal);
      if (slot < 0) {
        if (keys_.size() >= RecordFields::kMaxSlots)
          return Status(ErrorCode::kInvalidArgument, "mapping reads too many distinct fields (64 at most)");
        slot = static_cast<int>(keys_.size());
        keys_.push_back(part.literal);
        buckets_[bucket(part.literal)].emplace_back(part.literal, slot);
      }
      part.slot = slot;
    }
    if (src.empty()) return Status(ErrorCode::kInvalidArgument, fmt::format("mapping for {}: empty field name", logical));
    if (alt.parts.size() == 1) alt.field = alt.parts[0].slot;
    rule.alternatives.push_back(std::move(alt));
  }
  return rule;
}

Result<FieldMapping> FieldMapping::compile(const MappingSpec& spec) {
  FieldMapping m;
  struct Item {
    const FieldRule* in;
    Rule* out;
    const char* name;
  };
  Item items[] = {{&spec.event_id, &m.event_id_, "event_id"}, {&spec.time, &m.time_, "time"},
                  {&spec.tenant, &m.tenant_, "tenant"},       {&spec.user, &m.user_, "user"},
                  {&spec.account_type, &m.account_type_, "account_type"},
                  {&spec.machine, &m.machine_, "machine"},    {&spec.resource, &m.resource_, "resource"},
                  {&spec.source_ip, &m.source_ip_, "source_ip"}, {&spec.record_id, &m.record_id_, "record_id"}};
  for (auto& it : items) {
    auto r = m.compile_rule(*it.in, it.name);
    if (!r) return r.status();
    *it.out = std::move(r).value();
  }
  if (m.time_.alternatives.empty())
    return Status(ErrorCode::kInvalidArgument, "mapping: time needs at least one source field");
  if (spec.extras.size() > kMaxExtras)
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("mapping: {} extra fields, {} at most", spec.extras.size(), kMaxExtras));
  for (const auto& e : spec.extras) {
    auto r = m.compile_rule(e.rule, e.name.c_str());
    if (!r) return r.status();
    m.extras_.push_back({std::move(r).value(), e.type});
    m.extra_names_.push_back(e.name);
  }
  m.scope_ = spec.resource_scope;
  m.scope_event_ids_ = spec.scope_event_ids;
  std::sort(m.scope_event_ids_.begin(), m.scope_event_ids_.end());
  for (const auto& r : spec.required) {
    if (r == "user") m.require_user_ = true;
    else if (r == "resource") m.require_resource_ = true;
    else if (r == "machine") m.require_machine_ = true;
    else if (r == "tenant") m.require_tenant_ = true;
    else return Status(ErrorCode::kInvalidArgument,
                       fmt::format("mapping: unknown required field \"{}\" (user, resource, machine, tenant)", r));
  }
  return m;
}

std::vector<bool> FieldMapping::string_extras() const {
  std::vector<bool> out;
  for (const auto& e : extras_) out.push_back(e.type == ExtraType::kString);
  return out;
}

bool FieldMapping::resolve_any(const Rule& rule, const RecordFields& f, std::string& buffer, std::string_view& out,
                               std::string_view& source, ValueKind& kind, MapError& error) const {
  for (const auto& alt : rule.alternatives) {
    if (alt.field >= 0) {
      const FieldValue& v = f.get(alt.field);
      if (v.kind == ValueKind::kAbsent || v.kind == ValueKind::kNull) continue;
      if (v.kind == ValueKind::kComposite) {
        error = {"wrong_type", alt.label, "wrong type: expected a string or number, got an object or array"};
        return false;
      }
      if (is_placeholder(v.text)) continue;
      out = rule.lowercase ? ascii_lower_into(buffer, v.text) : v.text;
      source = alt.label;
      kind = v.kind;
      return true;
    }
    buffer.clear();
    bool complete = true;
    for (const auto& part : alt.parts) {
      if (part.slot < 0) {
        buffer += part.literal;
        continue;
      }
      const FieldValue& v = f.get(part.slot);
      if (v.kind == ValueKind::kComposite) {
        error = {"wrong_type", part.literal, "wrong type: expected a string or number, got an object or array"};
        return false;
      }
      if (v.kind == ValueKind::kAbsent || v.kind == ValueKind::kNull || is_placeholder(v.text)) {
        complete = false;
        break;
      }
      buffer += v.text;
    }
    if (!complete) continue;
    out = rule.lowercase ? ascii_lower_into(buffer, buffer) : std::string_view(buffer);
    source = alt.label;
    kind = ValueKind::kString;
    return true;
  }
  if (!rule.default_value.empty()) {
    out = rule.default_value;
    source = "default";
    kind = ValueKind::kString;
    return true;
  }
  return false;
}

[[gnu::always_inline]] inline bool FieldMapping::resolve(const Rule& rule, const RecordFields& f, std::string& buffer, std::string_view& out,
                                  std::string_view& source, ValueKind& kind, MapError& error) const {
  if (!rule.alternatives.empty() && rule.alternatives.front().field >= 0) {
    const FieldValue& v = f.get(rule.alternatives.front().field);
    if ((v.kind == ValueKind::kString || v.kind == ValueKind::kNumber) && !is_placeholder(v.text)) {
      out = rule.lowercase ? ascii_lower_into(buffer, v.text) : v.text;
      source = rule.alternatives.front().label;
      kind = v.kind;
      return true;
    }
  }
  return resolve_any(rule, f, buffer, out, source, kind, error);
}

MapOutcome FieldMapping::apply(const RecordFields& f, const EventFilter& filter, Vocabulary& vocab, EventBatch& out,
                               MapScratch& sc, MapError& error) const {
  error.kind.clear();  // what resolve() looks at; the rest is set with it
  std::string_view source, s;
  ValueKind kind = ValueKind::kAbsent;

  uint32_t event_id = 0;
  if (resolve(event_id_, f, sc.other, s, source, kind, error)) {
    uint64_t v = 0;
    if (kind == ValueKind::kBool || !read_uint(s, v) || v > UINT32_MAX) {
      error = {"bad_value", std::string(source), fmt::format("expected an event id (integer), got \"{}\"", shown(s))};
      return MapOutcome::kRejected;
    }
    event_id = static_cast<uint32_t>(v);
  } else if (!error.kind.empty()) {
    return MapOutcome::kRejected;
  }
  if (!filter.event_ids.empty() &&
      std::find(filter.event_ids.begin(), filter.event_ids.end(), event_id) == filter.event_ids.end())
    return MapOutcome::kFilteredOut;

  if (!resolve(time_, f, sc.other, s, source, kind, error)) {
    if (error.kind.empty()) error = {"missing_field", time_.alternatives.front().label, "missing: the event has no time field"};
    return MapOutcome::kRejected;
  }
  auto time = sc.time.parse(s);
  if (!time) {
    error = {"bad_value", std::string(source), time.status().message()};
    return MapOutcome::kRejected;
  }
  if (!filter.window.contains(*time)) return MapOutcome::kOutsideWindow;

  bool in_scope = scope_event_ids_.empty() ||
                  std::binary_search(scope_event_ids_.begin(), scope_event_ids_.end(), event_id);

  // Resolves a string field; a missing required one is an error, another is left empty.
  auto text = [&](const Rule& rule, bool required, const char* logical, MapScratch::StringField k)
                  __attribute__((always_inline)) -> bool {
    if (resolve(rule, f, sc.built[k], sc.text[k], source, kind, error)) return true;
    sc.text[k] = {};
    if (!error.kind.empty()) return false;
    if (required && in_scope) {
      error = {"missing_field", rule.alternatives.empty() ? logical : rule.alternatives.front().label,
               fmt::format("missing: no source field for {}", logical)};
      return false;
    }
    return true;
  };
  if (!text(tenant_, require_tenant_, "tenant", MapScratch::kTenant) ||
      !text(user_, require_user_, "user", MapScratch::kUser) ||
      !text(machine_, require_machine_, "machine", MapScratch::kMachine) ||
      !text(resource_, require_resource_, "resource", MapScratch::kResource))
    return MapOutcome::kRejected;
  std::string_view machine = sc.text[MapScratch::kMachine];
  std::string_view& resource = sc.text[MapScratch::kResource];
  if (scope_ == ResourceScope::kMachineShare && !resource.empty() && !machine.empty()) {
    // A share path "\\*\Data" or "\\host\Data", else a bare share name (prefixes compared
    // as words: starts_with() is a library call here).
    if (resource.size() >= 4 && std::memcmp(resource.data(), "\\\\*\\", 4) == 0)
      resource = join_into(sc.joined, "\\\\", machine, resource.substr(3));
    else if (resource.size() < 2 || std::memcmp(resource.data(), "\\\\", 2) != 0)
      resource = join_into(sc.joined, machine, "\\", resource);
  }
  if (!text(source_ip_, false, "source_ip", MapScratch::kSourceIp)) return MapOutcome::kRejected;

  AccountType type = AccountType::kUnknown;
  if (resolve(account_type_, f, sc.other, s, source, kind, error)) {
    if (ascii_lower_equals(s, "user")) type = AccountType::kUser;
    else if (ascii_lower_equals(s, "machine")) type = AccountType::kMachine;
  } else if (!error.kind.empty()) {
    return MapOutcome::kRejected;
  }
  std::string_view user = sc.text[MapScratch::kUser];
  if (type == AccountType::kUnknown && !user.empty()) type = user.back() == '$' ? AccountType::kMachine : AccountType::kUser;

  RecordId record_id;
  if (resolve(record_id_, f, sc.other, s, source, kind, error)) record_id = RecordId::from_text(s);
  else if (!error.kind.empty()) return MapOutcome::kRejected;

  if (sc.extras.size() != extras_.size()) {
    sc.extras.resize(extras_.size());
    sc.extra_built.resize(extras_.size());
    sc.extra_text.resize(extras_.size());
  }
  for (size_t i = 0; i < extras_.size(); ++i) {
    const Extra& e = extras_[i];
    std::string_view& t = sc.extra_text[i];
    sc.extras[i] = 0;
    if (!resolve(e.rule, f, sc.extra_built[i], t, source, kind, error)) {
      t = {};
      if (!error.kind.empty()) return MapOutcome::kRejected;
      continue;
    }
    if (e.type == ExtraType::kString) continue;
    if (!read_uint(t, sc.extras[i])) {
      // Events the template does not model keep going: their extras are never used.
      if (in_scope) {
        error = {"bad_value", std::string(source), fmt::format("expected a number (decimal or 0x-hex), got \"{}\"", shown(t))};
        return MapOutcome::kRejected;
      }
      sc.extras[i] = 0;
    }
  }

  // Accepted: its strings are interned (ids follow first appearance) and it is appended. The
  // table slots of all of them are fetched first, so that their cache misses overlap.
  std::array<uint32_t, MapScratch::kStrings> id{};
  std::array<uint64_t, MapScratch::kStrings> hash{};
  uint32_t known = 0;
  for (size_t k = 0; k < MapScratch::kStrings; ++k) {
    const StringPool& pool = vocab.*kVocabularyPools[k];  // in MapScratch's order
    if (auto last = pool.last(sc.text[k])) {
      id[k] = *last;
      known |= 1u << k;
      continue;
    }
    hash[k] = stable_hash(sc.text[k]);
    pool.prefetch(hash[k]);
  }
  for (size_t k = 0; k < MapScratch::kStrings; ++k)
    if (!(known >> k & 1)) id[k] = (vocab.*kVocabularyPools[k]).intern(sc.text[k], hash[k]);
  for (size_t i = 0; i < extras_.size(); ++i)
    if (extras_[i].type == ExtraType::kString) sc.extras[i] = vocab.values.intern(sc.extra_text[i]);
  out.append({*time, id[MapScratch::kTenant], id[MapScratch::kUser], type, id[MapScratch::kMachine],
              id[MapScratch::kResource], id[MapScratch::kSourceIp], event_id, record_id},
             sc.extras);
  return MapOutcome::kAppended;
}

}  // namespace byoml

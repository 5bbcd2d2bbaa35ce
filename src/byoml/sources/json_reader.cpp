#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <cstring>
#include <optional>

#include "byoml/common/bytes.h"
#include "byoml/sources/line_reader.h"
#include "byoml/sources/decoder.h"

namespace byoml {
namespace {

using namespace simdjson;

// simdjson's On-Demand API checks structure lazily; fields after the last one we read may
// still be malformed. A record is accepted only if the whole value is consumed cleanly.
error_code finish(ondemand::document& doc) {
  const char* rest = nullptr;
  auto e = doc.current_location().get(rest);
  return e == OUT_OF_BOUNDS ? SUCCESS : TRAILING_CONTENT;
}

// A JSON object's fields that the mapping wants go into `f`; the rest are skipped unparsed.
// Message bodies {"records":[...]} are detected on the way and their rows emitted one by one.
class JsonRows {
 public:
  explicit JsonRows(ReadContext& ctx) : ctx_(ctx) {}

  // Collects the object's wanted fields into `f`. An Event Hub message is not a row: its
  // records are emitted here, each once it has been read completely, and `message` is set.
  // Returns the simdjson error that stopped the object, if any.
  error_code row(ondemand::object obj, Position line, std::string_view raw, RecordFields& f, bool& message) {
    f.clear();
    message = false;
    uint32_t node = kRoot;  // where this row's keys so far lead in the tree of known shapes
    for (auto field_result : obj) {
      ondemand::field field;
      if (auto e = std::move(field_result).get(field)) return e;
      int slot;
      const char* close = nullptr;  // the key's closing quote, when it has no escapes
      const char* k = field.key().raw();
      if (!known_key(node, k, slot, close) && !new_plain_key(node, k, slot, close)) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        if (key == "records") {
          ondemand::array records;
          if (field.value().get_array().get(records) == SUCCESS) {
            message = true;
            if (auto e = message_rows(records, line, raw)) return e;
            continue;
          }
        }
        slot = ctx_.mapping().slot_of(key);
        node = kNone;
      }
      if (close != nullptr && close[1] == ':' && compact_value(close + 2, slot, f, nullptr)) continue;
      ondemand::value v = field.value();
      ondemand::json_type type;
      if (auto e = v.type().get(type)) return e;
      // On-Demand skips what is not read without checking it: an unmapped `NaN`, `tru` or `01`
      // would pass. Scalars are cheap to check; strings and nesting were checked by stage 1.
      if (slot < 0) {
        if (auto e = check_scalar(v, type)) return e;
        continue;
      }
      switch (type) {
        case ondemand::json_type::string: {
          std::string_view s;
          if (auto e = v.get_string().get(s)) return e;
          f.set(slot, s, ValueKind::kString);
          break;
        }
        case ondemand::json_type::number: {
          std::string_view t = v.raw_json_token();
          while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r' || t.back() == '\n'))
            t.remove_suffix(1);
          // Validate the number so "5140x" is not taken for a number.
          double d;
          if (auto e = v.get_double().get(d); e && e != NUMBER_OUT_OF_RANGE) return e;
          f.set(slot, t, ValueKind::kNumber);
          break;
        }
        case ondemand::json_type::boolean: {
          bool b;
          if (auto e = v.get_bool().get(b)) return e;
          f.set(slot, b ? "true" : "false", ValueKind::kBool);
          break;
        }
        case ondemand::json_type::null:
          f.set(slot, {}, ValueKind::kNull);
          break;
        default:
          f.set(slot, {}, ValueKind::kComposite);
          break;
      }
    }
    return SUCCESS;
  }

  // row() for a line of JSON Lines, parsed here and checked to its end. Most lines are compact
  // rows of plain keys, strings and integers: for those, one loop over the fields only notes
  // where each key is, which keeps the document's iterator in registers (the frame holds the
  // document and no call sees it), and a second loop reads the noted keys and the values that
  // follow them from the bytes. Any other line is read again by row().
  error_code line_row(ondemand::parser& parser, const Line& line, RecordFields& f, bool& message) {
    message = false;
    if (compact_row(parser, line, f)) return SUCCESS;
    return any_row(parser, line, f, message);
  }

 private:
  static constexpr size_t kCompactFields = 128;  // more is read by row()

  // Not inlined: in decode_json's frame the iterator would not stay in registers.
  [[gnu::noinline]] bool compact_row(ondemand::parser& parser, const Line& line, RecordFields& f) {
    std::array<const char*, kCompactFields> keys;
    size_t n = 0;
    {
      ondemand::document doc;
      if (parser.iterate(line.text.data(), line.text.size(), line.capacity).get(doc)) return false;
      ondemand::object obj;
      if (doc.get_object().get(obj)) return false;
      for (auto field : obj) {
        ondemand::raw_json_string key;
        if (field.key().get(key) || n == keys.size()) return false;
        keys[n++] = key.raw();
      }
      if (finish(doc)) return false;
    }
    if (unescaped_.size() < line.text.size() + SIMDJSON_PADDING) unescaped_.resize(line.text.size() + SIMDJSON_PADDING);
    Unescaper unescaper{parser, unescaped_.data()};
    f.clear();
    uint32_t node = kRoot;
    for (size_t i = 0; i < n; ++i) {
      int slot;
      const char* close;
      if (!known_key(node, keys[i], slot, close) && !new_plain_key(node, keys[i], slot, close)) return false;
      if (close[1] != ':' || !compact_value(close + 2, slot, f, &unescaper)) return false;
    }
    return true;
  }

  // The rare path, kept out of compact_row's way.
  [[gnu::noinline]] error_code any_row(ondemand::parser& parser, const Line& line, RecordFields& f, bool& message) {
    ondemand::document doc;
    error_code e = parser.iterate(line.text.data(), line.text.size(), line.capacity).get(doc);
    ondemand::object obj;
    if (!e) e = doc.get_object().get(obj);
    if (!e) e = row(obj, {line.number, line.offset}, line.text, f, message);
    if (!e) e = finish(doc);
    return e;
  }

  // Rows of one source have a few shapes (one per event id, say), each with the same keys in
  // the same order: the keys that followed this row's keys before are tried first, which saves
  // the scan for the closing quote and the lookup. `k` is a raw key in the padded input; on a
  // match, `node` moves to it and its slot and closing quote are set.
  bool known_key(uint32_t& node, const char* k, int& slot, const char*& close) const {
    const ShapeKey* shapes = shapes_.data();
    uint32_t known = node == kNone ? kNone : shapes[node].first_child;
    while (known != kNone && !shapes[known].matches(k)) known = shapes[known].next_sibling;
    if (known == kNone) return false;
    slot = shapes[known].slot;
    close = k + shapes[known].key.size();
    node = known;
    return true;
  }

  // A key without escapes that known_key() did not find: its bytes are taken up to the closing
  // quote (stage 1 has found it), looked up, and learnt after `node`. False for a key with
  // escapes, and for "records", which may hold a message's rows.
  bool new_plain_key(uint32_t& node, const char* k, int& slot, const char*& close) {
    const char* q = k;
    while (*q != '"') ++q;
    std::string_view key(k, static_cast<size_t>(q - k));
    if (contains_byte(key, '\\') || key == "records") return false;
    slot = ctx_.mapping().slot_of(key);
    node = learn(node, key, slot);
    close = q;
    return true;
  }

  // Where a row's strings with escapes are unescaped to, one after the other.
  struct Unescaper {
    const ondemand::parser& parser;
    uint8_t* dst;
  };

  // A value that follows its key's colon at once, read from the bytes when it has one of the
  // forms stage 1 and a look at it can vouch for: a string (a mapped one is used in place, or
  // unescaped when an unescaper is given), an integer, true, false or null, each followed at
  // once by ',' or '}'. False for anything else, which needs simdjson's checks.
  static bool compact_value(const char* v, int slot, RecordFields& f, Unescaper* unescaper) {
    if (*v == '"') {
      if (slot < 0) return true;  // stage 1 has checked the string
      const char* end = find_either_padded(v + 1, '"', '\\');
      if (*end == '"') {
        f.set(slot, {v + 1, static_cast<size_t>(end - v - 1)}, ValueKind::kString);
        return true;
      }
      std::string_view s;
      if (unescaper == nullptr ||
          unescaper->parser.unescape(ondemand::raw_json_string(reinterpret_cast<const uint8_t*>(v + 1)), unescaper->dst).get(s))
        return false;
      f.set(slot, s, ValueKind::kString);
      return true;
    }
    const char* q = v + (*v == '-');
    const char* digits = q;
    while (static_cast<unsigned char>(*q - '0') < 10) ++q;
    ValueKind kind = ValueKind::kNumber;
    if (q == digits) {
      if (std::memcmp(v, "true", 4) == 0) q = v + 4, kind = ValueKind::kBool;
      else if (std::memcmp(v, "false", 5) == 0) q = v + 5, kind = ValueKind::kBool;
      else if (std::memcmp(v, "null", 4) == 0) q = v + 4, kind = ValueKind::kNull;
      else return false;
    } else if (*digits == '0' && q - digits > 1) {
      return false;  // a leading zero
    }
    if (*q != ',' && *q != '}') return false;
    if (slot >= 0) f.set(slot, kind == ValueKind::kNull ? std::string_view() : std::string_view(v, static_cast<size_t>(q - v)), kind);
    return true;
  }

  error_code message_rows(ondemand::array records, Position line, std::string_view raw) {
    for (auto element : records) {
      ondemand::object obj;
      if (auto e = element.get_object().get(obj)) {
        if (e == INCORRECT_TYPE) {
          ctx_.reject(line, "wrong_type", "records", "an element of \"records\" is not an object", raw);
          continue;
        }
        return e;
      }
      RecordFields f;
      bool nested = false;
      if (auto e = row(obj, line, raw, f, nested)) return e;
      if (!nested) ctx_.emit(f, line, raw);
    }
    return SUCCESS;
  }

  // The keys of the rows seen so far, as a tree: a node's children are the keys that followed
  // its path of keys (never "records", which is not a field). Bounded: past kShapeKeys keys,
  // new shapes take the slow path.
  struct ShapeKey {
    ShapeKey() = default;
    ShapeKey(std::string_view k, int s, uint32_t sibling) : key(k), slot(s), next_sibling(sibling) {
      std::string quoted = key + '"';
      if (quoted.size() > 8 * words.size()) return;
      fits = true;
      quoted.resize(8 * words.size(), '\0');
      std::memcpy(words.data(), quoted.data(), quoted.size());
      for (size_t i = 0; i <= key.size(); ++i) masks[i / 8] |= 0xffull << (8 * (i % 8));
    }
    std::string key;
    int slot = -1;
    uint32_t first_child = kNone, next_sibling = kNone;
    // The key and its closing quote as three words, and the bytes of each that belong to them;
    // keys longer than 23 bytes do not fit and are compared byte by byte.
    std::array<uint64_t, 3> words{}, masks{};
    bool fits = false;
    // `k` points at a raw key in the padded input: its bytes up to the closing quote, and at
    // least 24 readable bytes (the padding is larger).
    bool matches(const char* k) const {
      using bytes_detail::load8;
      if (!fits) return k[key.size()] == '"' && same_bytes(k, key.data(), key.size());
      return (((load8(k) ^ words[0]) & masks[0]) | ((load8(k + 8) ^ words[1]) & masks[1]) |
              ((load8(k + 16) ^ words[2]) & masks[2])) == 0;
    }
  };
  static constexpr uint32_t kRoot = 0, kNone = UINT32_MAX;
  static constexpr size_t kShapeKeys = 4096;

  // Adds `key` after `node` (kNone: the row has left the known shapes); returns its node.
  uint32_t learn(uint32_t node, std::string_view key, int slot) {
    if (node == kNone || shapes_.size() >= kShapeKeys) return kNone;
    auto added = static_cast<uint32_t>(shapes_.size());
    shapes_.emplace_back(key, slot, shapes_[node].first_child);
    shapes_[node].first_child = added;
    return added;
  }

  static error_code check_scalar(ondemand::value& v, ondemand::json_type type) {
    switch (type) {
      case ondemand::json_type::number: {
        double d;
        auto e = v.get_double().get(d);
        return e == NUMBER_OUT_OF_RANGE ? SUCCESS : e;  // as for mapped numbers: huge is valid JSON
      }
      case ondemand::json_type::boolean: {
        bool b;
        return v.get_bool().get(b);
      }
      case ondemand::json_type::null: {
        bool null = false;
        if (auto e = v.is_null().get(null)) return e;
        return null ? SUCCESS : N_ATOM_ERROR;
      }
      default: return SUCCESS;
    }
  }

  ReadContext& ctx_;
  std::vector<ShapeKey> shapes_{1};  // [kRoot]: before the first key
  std::vector<uint8_t> unescaped_;    // compact_row()'s unescaped strings
};

// What decoding JSON keeps from one object to the next of a read.
struct JsonState {
  explicit JsonState(ReadContext& ctx) : lines(ctx.options().max_record_bytes), rows(ctx) {}
  LineReader lines;
  ondemand::parser parser;
  JsonRows rows;
};

// What went wrong with a line, in words and as a kind. simdjson reports an unbalanced or cut
// value the same way whether the text was truncated or has junk after it: only a line that
// does not end in '}' is called truncated.
struct SyntaxError {
  std::string kind, message;
};

SyntaxError syntax_error(error_code e, std::string_view text) {
  size_t last = text.find_last_not_of(" \t\r");
  size_t first = text.find_first_not_of(" \t\r\xEF\xBB\xBF");
  bool ends_closed = last != std::string_view::npos && text[last] == '}';
  switch (e) {
    case UTF8_ERROR: return {"invalid_utf8", "invalid UTF-8"};
    case UNCLOSED_STRING:
    case INCOMPLETE_ARRAY_OR_OBJECT:
      if (!ends_closed) return {"truncated", "truncated or malformed: a string, object or array is not closed"};
      return {"json_syntax", "not valid JSON: unbalanced quotes, braces or brackets, or text after the record"};
    case TRAILING_CONTENT: return {"json_syntax", "not valid JSON: text after the record"};
    case INCORRECT_TYPE:
      if (first != std::string_view::npos && std::string_view("[\"-0123456789").find(text[first]) != std::string_view::npos)
        return {"not_object", "a JSON value but not an object"};
      return {"json_syntax", "not valid JSON"};
    default: return {"json_syntax", fmt::format("not valid JSON ({})", error_message(e))};
  }
}


// A file that is one JSON document spread over lines (a pretty-printed Event Hub message, an
// array of rows) rather than JSON Lines: its first non-blank line is "{" alone, or starts with
// "[" without being a complete value itself.
bool starts_document(const Line& line) {
  std::string_view t = line.text;
  size_t a = t.find_first_not_of(" \t\r"), b = t.find_last_not_of(" \t\r");
  t = t.substr(a, b - a + 1);
  if (t == "{") return true;
  if (t.front() != '[') return false;
  ondemand::parser parser;
  ondemand::document doc;
  if (parser.iterate(line.text.data(), line.text.size(), line.capacity).get(doc)) return true;
  ondemand::array arr;
  // A complete array on one line is a bad JSON Lines row (rejected as not an object), not a document.
  if (doc.get_array().get(arr)) return true;
  for (auto e : arr) {
    if (e.error()) return true;
  }
  return finish(doc) != SUCCESS;
}

// One JSON value per file. The file is read whole, so it must fit --max-document-bytes, and it
// is checked completely before any record is handed on: when it is not valid JSON after all,
// the caller reads it as JSON Lines instead, so the good rows of a JSON Lines file whose first
// line happens to look like the start of a document are never lost with it.
Status read_document(const padded_string& text, JsonRows& rows, ReadContext& ctx) {
  const uint64_t max_record = ctx.options().max_record_bytes;
  ctx.stats().bytes_read += text.size();
  ondemand::parser parser;
  ondemand::document doc;
  std::string_view raw(text.data(), text.size());
  auto fail = [&](error_code e) {
    // Unreachable for a document that passed validation; kept as a reject, never a crash.
    SyntaxError err = syntax_error(e, raw);
    ctx.reject({1}, err.kind, "", err.message + " (whole-file JSON document)", raw.substr(0, 256));
    return Status();
  };
  if (auto e = parser.iterate(text).get(doc)) return fail(e);
  ondemand::json_type type;
  if (auto e = doc.type().get(type)) return fail(e);
  if (type == ondemand::json_type::array) {
    ondemand::array arr;
    if (auto e = doc.get_array().get(arr)) return fail(e);
    uint64_t index = 0;
    for (auto element : arr) {
      ++index;
      ondemand::object obj;
      if (auto e = element.get_object().get(obj)) {
        if (e != INCORRECT_TYPE) return fail(e);
        ctx.reject({index}, "not_object", "", "array element is not an object", {});
        continue;
      }
      std::string_view span;
      if (auto e = obj.raw_json().get(span)) return fail(e);
      if (span.size() > max_record) {
        ctx.reject({index}, "record_too_long", "",
                   fmt::format("array element of {} bytes exceeds --max-record-bytes ({})", span.size(), max_record),
                   span.substr(0, 256));
        continue;
      }
      bool reset = false;
      if (auto e = obj.reset().get(reset)) return fail(e);
      RecordFields f;
      bool message = false;
      if (auto e = rows.row(obj, {index}, span, f, message)) {
        SyntaxError err = syntax_error(e, span);
        ctx.reject({index}, err.kind, "", err.message, span);
        continue;
      }
      if (!message) ctx.emit(f, {index}, span);
    }
  } else {
    if (text.size() > max_record) {
      ctx.reject({1}, "record_too_long", "",
                 fmt::format("a JSON document of {} bytes exceeds --max-record-bytes ({})", text.size(), max_record),
                 raw.substr(0, 256));
      return {};
    }
    ondemand::object obj;
    if (auto e = doc.get_object().get(obj)) return fail(e);
    RecordFields f;
    bool message = false;
    if (auto e = rows.row(obj, {1}, raw, f, message)) return fail(e);
    if (auto e = finish(doc)) return fail(e);
    if (!message) ctx.emit(f, {1}, raw);
    return {};
  }
  if (auto e = finish(doc)) return fail(e);
  return {};
}

// Loads a document file whole, when it is small enough and valid JSON; nullopt when it is not.
Result<std::optional<padded_string>> load_document(const InputObject& in, const ReadContext& ctx) {
  auto bytes = in.read_all(ctx.options().max_document_bytes);
  if (!bytes && bytes.status().code() == ErrorCode::kInvalidArgument)
    return Status(ErrorCode::kUnsupported,
                  fmt::format("a JSON document of {} exceeds --max-document-bytes ({}); write JSON Lines instead",
                              bytes.status().message(), ctx.options().max_document_bytes));
  if (!bytes) return bytes.status();
  padded_string text(*bytes);
  dom::parser validator;
  dom::element root;
  if (validator.parse(text).get(root)) return std::optional<padded_string>();
  return std::optional<padded_string>(std::move(text));
}

}  // namespace

Status decode_json(const InputObject& in, ReadContext& ctx) {
  JsonState& state = ctx.decoder_state<JsonState>(ctx);
  LineReader& lines = state.lines;
  BYOML_RETURN_IF_ERROR(lines.open(in, in.start));
  ondemand::parser& parser = state.parser;
  JsonRows& rows = state.rows;
  RecordFields fields;
  Line line;
  // Only the first line of an object tells a document from JSON Lines; a resumed read
  // (in.start > 0) continues JSON Lines, as a document is never read in part.
  bool first = in.start == 0;
  ctx.reached(in.start);
  while (lines.next(line)) {
    if (line.too_long) {
      first = false;
      ctx.reject({line.number, line.offset}, "line_too_long", "",
                 fmt::format("line of {} bytes exceeds --max-record-bytes ({})", line.full_length,
                             ctx.options().max_record_bytes),
                 line.text);
      ctx.reached(line.end);
      continue;
    }
    if (line.text.find_first_not_of(" \t\r") == std::string_view::npos) {
      ctx.reached(line.end);
      continue;
    }
    if (first && (first = false, starts_document(line))) {
      auto document = load_document(in, ctx);
      if (!document) return document.status();
      if (*document) {
        lines.close();
        return read_document(**document, rows, ctx);
      }
    }
    bool message = false;
    error_code e = rows.line_row(parser, line, fields, message);
    if (e && line.unterminated && in.growing) {
      // Still being written: the next read takes it whole, from its start.
      ++ctx.stats().lines_deferred;
      break;
    }
    ctx.reached(line.end);
    if (!e && !message) ctx.emit(fields, {line.number, line.offset}, line.text);
    if (e) {
      SyntaxError err = syntax_error(e, line.text);
      if (line.unterminated) err.message += " (last line has no line break: truncated, or the file is still being written)";
      ctx.reject({line.number, line.offset}, err.kind, "", err.message, line.text);
    }
  }
  ctx.stats().bytes_read += lines.bytes_read();
  lines.close();
  return lines.status();
}

}  // namespace byoml

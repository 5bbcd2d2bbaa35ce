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
      const char* k = field.key().raw();
      const char* close = nullptr;  // the key's closing quote, when it has no escapes
      // Rows of one source have a few shapes (one per event id, say), each with the same keys
      // in the same order: the keys that followed this row's keys before are tried first,
      // which saves the scan for the closing quote and the lookup.
      uint32_t known = node == kNone ? kNone : shapes_[node].first_child;
      while (known != kNone && !shapes_[known].matches(k)) known = shapes_[known].next_sibling;
      if (known != kNone) {
        slot = shapes_[known].slot;
        close = k + shapes_[known].key.size();
        node = known;
      } else {
        // Keys are almost never escaped: take the raw bytes up to the closing quote (stage 1
        // has already found it) and unescape only when a backslash shows up.
        std::string_view key;
        const char* q = k;
        while (*q != '"') ++q;
        bool plain = !contains_byte({k, static_cast<size_t>(q - k)}, '\\');
        if (plain) {
          key = {k, static_cast<size_t>(q - k)};
          close = q;
        } else if (auto e = field.unescaped_key().get(key)) {
          return e;
        }
        bool records_key = key == "records";
        if (records_key) {
          ondemand::array records;
          if (field.value().get_array().get(records) == SUCCESS) {
            message = true;
            if (auto e = message_rows(records, line, raw)) return e;
            continue;
          }
        }
        slot = ctx_.mapping().slot_of(key);
        node = plain && !records_key ? learn(node, key, slot) : kNone;
      }
      // In compact JSON a string's opening quote follows the colon right after the key. An
      // unmapped one needs no look: stage 1 has checked it. A mapped one without escapes is
      // used in place, up to its closing quote; the iterator skips it.
      if (close != nullptr && close[1] == ':' && close[2] == '"') {
        if (slot < 0) continue;
        const char* text = close + 3;
        const char* end = find_either_padded(text, '"', '\\');
        if (*end == '"') {
          f.set(slot, {text, static_cast<size_t>(end - text)}, ValueKind::kString);
          continue;
        }
      }
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
          // Most values hold no escape: they are used in place, not copied out unescaped.
          std::string_view s = v.raw_json_token();  // the quotes, and any blanks after
          s = s.substr(1, (s.back() == '"' ? s.size() - 1 : s.find_last_of('"')) - 1);
          if (contains_byte(s, '\\'))
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

 private:
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
      quoted.resize(8 * words.size(), '\0');
      std::memcpy(words.data(), quoted.data(), quoted.size());
      size_t used = key.size() + 1;
      word_count = static_cast<uint8_t>((used + 7) / 8);
      last_mask = used % 8 == 0 ? ~0ull : (1ull << (8 * (used % 8))) - 1;
    }
    std::string key;
    int slot = -1;
    uint32_t first_child = kNone, next_sibling = kNone;
    // The key and its closing quote, a word at a time (0 words: too long for that).
    std::array<uint64_t, 3> words{};
    uint8_t word_count = 0;
    uint64_t last_mask = 0;  // the bytes of the last word that belong to the key
    // `k` points at a raw key in the padded input: its bytes up to the closing quote.
    bool matches(const char* k) const {
      if (word_count == 0) return k[key.size()] == '"' && same_bytes(k, key.data(), key.size());
      uint64_t diff = 0, w;
      for (size_t i = 0; i + 1 < word_count; ++i) {
        std::memcpy(&w, k + 8 * i, 8);
        diff |= w ^ words[i];
      }
      std::memcpy(&w, k + 8 * (word_count - 1), 8);
      return (diff | ((w ^ words[word_count - 1]) & last_mask)) == 0;
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

// simdjson's On-Demand API checks structure lazily; fields after the last one we read may
// still be malformed. A record is accepted only if the whole value is consumed cleanly.
error_code finish(ondemand::document& doc) {
  const char* rest = nullptr;
  auto e = doc.current_location().get(rest);
  return e == OUT_OF_BOUNDS ? SUCCESS : TRAILING_CONTENT;
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
    ondemand::document doc;
    error_code e = parser.iterate(line.text.data(), line.text.size(), line.capacity).get(doc);
    ondemand::object obj;
    bool message = false;
    if (!e) e = doc.get_object().get(obj);
    if (!e) e = rows.row(obj, {line.number, line.offset}, line.text, fields, message);
    if (!e) e = finish(doc);
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

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "byoml/common/text.h"
#include "byoml/sources/decoder.h"
#include "byoml/sources/windows_xml.h"

namespace byoml {
namespace {

// Start of the next "<Event" element (not <EventData>, <EventID>, ...) at or after `from`.
size_t find_event_start(const std::string& buf, size_t from) {
  for (size_t p = buf.find("<Event", from); p != std::string::npos; p = buf.find("<Event", p + 1)) {
    if (p + 6 >= buf.size()) return p;  // undecided yet: let the caller read more
    char c = buf[p + 6];
    if (c == ' ' || c == '>' || c == '\t' || c == '\r' || c == '\n') return p;
  }
  return std::string::npos;
}

}  // namespace

Status decode_xml(const InputObject& object, ReadContext& ctx) {
  auto opened = object.open();
  if (!opened) return opened.status();
  ByteStream& in = **opened;
  Status read_error;
  const size_t max_record = ctx.options().max_record_bytes;
  constexpr size_t kChunk = 1 << 20;
  std::string buf;
  size_t pos = 0;     // unconsumed text starts here
  uint64_t line = 1;  // line number at buf[pos]
  uint64_t buf_offset = 0;  // the object's byte offset of buf[0]
  bool eof = false;
  uint64_t found = 0;
  pugi::xml_document doc;
  RecordFields fields;

  size_t end_from = 0;  // no "</Event>" starts in [pos, end_from): each byte is searched once
  auto read_more = [&]() {
    if (eof) return false;
    buf.erase(0, pos);  // compact only when reading, so consuming stays cheap
    buf_offset += pos;
    end_from -= std::min(end_from, pos);
    pos = 0;
    size_t old = buf.size();
    buf.resize(old + kChunk);
    auto got = in.read(buf.data() + old, kChunk);
    if (!got) read_error = got.status();
    size_t n = got ? *got : 0;
    buf.resize(old + n);
    ctx.stats().bytes_read += n;
    if (n == 0) eof = true;
    return n > 0;
  };
  auto consume_to = [&](size_t to) {
    line += static_cast<uint64_t>(std::count(buf.begin() + static_cast<std::ptrdiff_t>(pos),
                                             buf.begin() + static_cast<std::ptrdiff_t>(to), '\n'));
    pos = to;
  };
  // Rejects the element at pos (its first 256 bytes are kept) and goes on at `to`.
  auto reject = [&](const char* kind, std::string message, size_t to) {
    ++found;
    ctx.reject({line, buf_offset + pos}, kind, "", std::move(message), std::string_view(buf).substr(pos, 256));
    consume_to(to);
  };
  static constexpr std::string_view kEnd = "</Event>";

  read_more();
  if (buf.size() >= 2 && ((buf[0] == '\xFF' && buf[1] == '\xFE') || (buf[0] == '\xFE' && buf[1] == '\xFF')))
    return {ErrorCode::kUnsupported, "UTF-16 XML: convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8)"};

  for (;;) {
    size_t start = find_event_start(buf, pos);
    if (start == std::string::npos || start + 6 >= buf.size()) {
      // Keep a possible partial "<Event" at the end of the buffer.
      if (start == std::string::npos && buf.size() > pos + 6) consume_to(buf.size() - 6);
      if (!read_more()) break;
      continue;
    }
    consume_to(start);
    size_t end = buf.find(kEnd, std::max(pos, end_from));
    end_from = end == std::string::npos ? (buf.size() > kEnd.size() ? buf.size() - kEnd.size() + 1 : 0) : end;
    // An <Event> that another one starts inside was never closed: it alone is rejected, and the
    // next one is read on its own (a flood of unclosed <Event is then linear, not quadratic).
    size_t next = find_event_start(buf, pos + 6);
    if (next != std::string::npos && next + 6 >= buf.size() && !eof && end == std::string::npos) {
      if (buf.size() - pos <= max_record && read_more()) continue;
    }
    if (next != std::string::npos && (end == std::string::npos || next < end)) {
      if (next + 6 < buf.size() || eof) {
        reject("truncated", "<Event> element without </Event> before the next <Event>", next);
        continue;
      }
    }
    if (end == std::string::npos) {
      if (buf.size() - pos > max_record) {
        reject("line_too_long", fmt::format("<Event> element longer than --max-record-bytes ({})", max_record), pos + 6);
        continue;
      }
      if (!read_more()) {
        reject("truncated", "truncated: <Event> element without </Event>", buf.size());
        break;
      }
      continue;
    }
    size_t len = end + kEnd.size() - pos;
    std::string_view xml(buf.data() + pos, len);
    if (len > max_record) {
      reject("line_too_long", fmt::format("<Event> element of {} bytes exceeds --max-record-bytes ({})", len, max_record),
             pos + len);
      continue;
    }
    if (!valid_utf8(xml)) {
      reject("invalid_utf8", "invalid UTF-8", pos + len);
      continue;
    }
    ++found;
    std::string err = parse_event_xml(xml, doc, ctx.mapping(), fields);
    if (err.empty()) ctx.emit(fields, {line, buf_offset + pos}, xml);
    else ctx.reject({line, buf_offset + pos}, "xml_syntax", "", err, xml);
    consume_to(pos + len);
  }
  BYOML_RETURN_IF_ERROR(read_error);
  if (found == 0) return {ErrorCode::kParse, "no <Event> element found"};
  return {};
}

}  // namespace byoml

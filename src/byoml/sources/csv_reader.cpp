#include <csv.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "byoml/common/text.h"
#include "byoml/sources/line_reader.h"
#include "byoml/sources/decoder.h"

namespace byoml {
namespace {

// "TimeGenerated [UTC]" (Log Analytics portal export) -> "TimeGenerated".
std::string header_name(std::string h) {
  auto bracket = h.find(" [");
  if (bracket != std::string::npos && h.back() == ']') h.resize(bracket);
  while (!h.empty() && h.back() == ' ') h.pop_back();
  size_t a = h.find_first_not_of(' ');
  return a == std::string::npos ? std::string() : h.substr(a);
}

struct CsvState {
  ReadContext* ctx = nullptr;
  std::vector<std::string> header;
  std::vector<int> slots;  // per column
  std::vector<std::string> row;
  uint64_t row_line = 0;  // line where the current row started
  uint64_t row_offset = 0;
  uint64_t offset = 0;    // of the current line
  uint64_t line = 0;
  std::string raw;        // text of the current row
  bool have_header = false;
};

void on_field(void* data, size_t len, void* user) {
  auto* st = static_cast<CsvState*>(user);
  if (st->row.empty()) {
    st->row_line = st->line;
    st->row_offset = st->offset;
  }
  st->row.emplace_back(data ? static_cast<const char*>(data) : "", data ? len : 0);
}

void on_row(int, void* user) {
  auto* st = static_cast<CsvState*>(user);
  ReadContext& ctx = *st->ctx;
  if (!st->have_header) {
    for (auto& h : st->row) {
      st->header.push_back(header_name(h));
      st->slots.push_back(ctx.mapping().slot_of(st->header.back()));
    }
    st->have_header = true;
  } else if (st->row.size() == 1 && st->row[0].empty()) {
    // blank line
  } else if (!valid_utf8(st->raw)) {
    ctx.reject({st->row_line, st->row_offset}, "invalid_utf8", "", "invalid UTF-8", st->raw);
  } else if (st->row.size() != st->header.size()) {
    ctx.reject({st->row_line, st->row_offset}, "csv_columns", "",
               fmt::format("row has {} fields, the header has {}", st->row.size(), st->header.size()), st->raw);
  } else {
    RecordFields f;
    for (size_t i = 0; i < st->row.size(); ++i)
      if (st->slots[i] >= 0 && !st->row[i].empty()) f.set(st->slots[i], st->row[i], ValueKind::kString);
    ctx.emit(f, {st->row_line, st->row_offset}, st->raw);
  }
  st->row.clear();
  st->raw.clear();
}

struct ParserFree {
  void operator()(csv_parser* p) const {
    csv_free(p);
    delete p;
  }
};

std::unique_ptr<csv_parser, ParserFree> new_parser() {
  std::unique_ptr<csv_parser, ParserFree> p(new csv_parser);
  if (csv_init(p.get(), CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) return nullptr;
  return p;
}

}  // namespace

Status decode_csv(const InputObject& in, ReadContext& ctx) {
  LineReader lines(ctx.options().max_record_bytes);
  BYOML_RETURN_IF_ERROR(lines.open(in));
  CsvState st;
  st.ctx = &ctx;
  auto parser = new_parser();
  if (!parser) return {ErrorCode::kIo, "cannot start the CSV parser"};
  Line line;
  // After a record that ran past the limit inside a quoted field: the parity of the quotes seen
  // so far (RFC 4180 doubles a quote inside a field), so the skip ends with that record and the
  // rows after it are read as rows again.
  bool skipping = false;
  uint64_t quotes = 0;
  while (lines.next(line)) {
    st.line = line.number;
    st.offset = line.offset;
    if (skipping) {
      quotes += static_cast<uint64_t>(std::count(line.text.begin(), line.text.end(), '"'));
      skipping = quotes % 2 != 0;
      continue;
    }
    if (line.too_long) {
      ctx.reject({line.number, line.offset}, "line_too_long", "",
                 fmt::format("line of {} bytes exceeds --max-record-bytes", line.full_length), line.text);
      continue;
    }
    if (st.raw.empty()) {
      st.row_line = line.number;
      st.row_offset = line.offset;
    }
    if (!st.raw.empty()) st.raw += '\n';
    st.raw.append(line.text);
    if (st.raw.size() > ctx.options().max_record_bytes) {
      ctx.reject({st.row_line, st.row_offset}, "line_too_long", "", "quoted field runs past --max-record-bytes", st.raw);
      quotes = static_cast<uint64_t>(std::count(st.raw.begin(), st.raw.end(), '"'));
      skipping = quotes % 2 != 0;
      st.row.clear();
      st.raw.clear();
      parser = new_parser();
      continue;
    }
    // Fed one line at a time so every row knows the line it started on; a quoted field that
    // spans lines continues across calls.
    size_t fed = csv_parse(parser.get(), line.text.data(), line.text.size(), on_field, on_row, &st);
    if (fed == line.text.size()) fed += csv_parse(parser.get(), "\n", 1, on_field, on_row, &st) - 1;
    if (fed != line.text.size()) {
      ctx.reject(st.row.empty() ? Position{line.number, line.offset} : Position{st.row_line, st.row_offset}, "csv_syntax", "",
                 fmt::format("malformed CSV ({}): a quote inside an unquoted field, or text after a closing quote",
                             csv_strerror(csv_error(parser.get()))),
                 st.raw);
      st.row.clear();
      st.raw.clear();
      parser = new_parser();
    }
  }
  if (csv_fini(parser.get(), on_field, on_row, &st) != 0)
    ctx.reject({st.row_line, st.row_offset}, "truncated", "", "truncated: the file ends inside a quoted field", st.raw);
  ctx.stats().bytes_read += lines.bytes_read();
  if (!st.have_header) return {ErrorCode::kParse, "empty CSV file: no header line"};
  return lines.status();
}

}  // namespace byoml

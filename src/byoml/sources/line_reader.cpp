#include "byoml/sources/line_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace byoml {

LineReader::LineReader(size_t max_line_bytes, size_t initial_bytes)
    : max_line_(max_line_bytes), initial_(std::min(initial_bytes, max_line_bytes + 1)) {}

LineReader::~LineReader() = default;

Status LineReader::open(const InputObject& object, uint64_t offset) {
  auto in = object.open(offset);
  if (!in) return in.status();
  in_ = std::move(in).value();
  start_offset_ = offset;
  begin_ = end_ = 0;
  eof_ = false;
  line_no_ = bytes_read_ = 0;
  status_ = {};
  // One byte over the rest of the object, so the whole of it and the end fit in one read.
  size_t want = initial_;
  if (object.size > offset) want = static_cast<size_t>(std::min<uint64_t>(want, object.size - offset + 1));
  want = std::max<size_t>(want, 4096) + kPadding;
  if (size_ < want) {
    buf_.reset(new char[want]);
    size_ = want;
  }
  return {};
}

bool LineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity() && capacity() <= max_line_) {
    size_t bigger = std::min(capacity() * 2, max_line_ + 1) + kPadding;
    std::unique_ptr<char[]> grown(new char[bigger]);
    std::memcpy(grown.get(), buf_.get(), end_);
    buf_ = std::move(grown);
    size_ = bigger;
  }
  size_t room = capacity() - end_;
  if (room == 0) return false;
  auto n = in_->read(buf_.get() + end_, room);
  if (!n) {
    status_ = n.status();
    eof_ = true;
    return false;
  }
  if (*n == 0) {
    eof_ = true;
    return false;
  }
  end_ += *n;
  bytes_read_ += *n;
  std::memset(buf_.get() + end_, 0, kPadding);
  return true;
}

bool LineReader::next(Line& line) {
  if (!in_) return false;
  line = Line{};
  size_t scanned = begin_;
  for (;;) {
    const char* nl = static_cast<const char*>(std::memchr(buf_.get() + scanned, '\n', end_ - scanned));
    if (nl != nullptr) {
      size_t len = static_cast<size_t>(nl - (buf_.get() + begin_));
      if (len > max_line_) break;  // over the limit though complete: treat as too long below
      line.text = {buf_.get() + begin_, len};
      line.offset = start_offset_ + bytes_read_ - (end_ - begin_);
      if (!line.text.empty() && line.text.back() == '\r') line.text.remove_suffix(1);
      if (line_no_ == 0 && line.text.substr(0, 3) == "\xEF\xBB\xBF") line.text.remove_prefix(3);  // BOM
      line.number = ++line_no_;
      line.capacity = size_ - static_cast<size_t>(line.text.data() - buf_.get());
      begin_ += len + 1;
      line.end = line.offset + len + 1;
      return true;
    }
    if (end_ - begin_ > max_line_) break;
    scanned = end_ - begin_;  // offsets shift when fill() compacts
    bool more = fill();
    scanned += begin_;
    if (!more) {
      if (end_ == begin_) return false;
      line.text = {buf_.get() + begin_, end_ - begin_};
      line.offset = start_offset_ + bytes_read_ - (end_ - begin_);
      if (!line.text.empty() && line.text.back() == '\r') line.text.remove_suffix(1);
      line.number = ++line_no_;
      line.capacity = size_ - begin_;
      line.unterminated = true;
      begin_ = end_;
      line.end = start_offset_ + bytes_read_;
      return true;
    }
  }
  // Too long: keep a prefix for the report, then discard through the next line break.
  line.offset = start_offset_ + bytes_read_ - (end_ - begin_);
  long_prefix_.assign(buf_.get() + begin_, std::min<size_t>(256, end_ - begin_));
  uint64_t length = 0;
  for (;;) {
    const char* start = buf_.get() + begin_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    if (nl != nullptr) {
      length += static_cast<uint64_t>(nl - start);
      begin_ += static_cast<size_t>(nl - start) + 1;
      break;
    }
    length += end_ - begin_;
    begin_ = end_ = 0;
    if (!fill()) break;
  }
  line.text = long_prefix_;
  line.number = ++line_no_;
  line.capacity = long_prefix_.size();
  line.too_long = true;
  line.full_length = length;
  line.end = start_offset_ + bytes_read_ - (end_ - begin_);
  return true;
}

}  // namespace byoml

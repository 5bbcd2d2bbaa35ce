// Streams a file line by line through one fixed buffer, so memory stays flat whatever the
// file size. Every line handed out is followed by at least kPadding readable bytes, which is
// what simdjson needs to parse it in place. A line longer than the limit is not buffered: it
// is reported (with its first bytes) and skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <memory>

#include "byoml/common/status.h"
#include "byoml/sources/transport.h"

namespace byoml {

struct Line {
  std::string_view text;     // without the line break (\n or \r\n)
  uint64_t number = 0;       // 1-based
  uint64_t offset = 0;       // byte offset of the line's first byte in the object
  size_t capacity = 0;       // readable bytes from text.data(), padding included
  bool too_long = false;     // text is then only the first bytes of the line
  uint64_t full_length = 0;  // the real length of a too-long line
  bool unterminated = false; // the last line of the file had no line break (truncated or still growing)
  uint64_t end = 0;          // the offset just past the line and its line break
};

class LineReader {
 public:
  static constexpr size_t kPadding = 64;

  // The buffer starts at `initial_bytes`, or at the object's size when that is smaller (an export
  // folder holds thousands of small files), and doubles while a line does not fit, up to the limit.
  explicit LineReader(size_t max_line_bytes, size_t initial_bytes = 1u << 20);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads `object` from `offset` (a resumed read); line numbers then count from there. A reader
  // may open one object after another: its buffer is kept when it is large enough.
  Status open(const InputObject& object, uint64_t offset = 0);
  void close() { in_.reset(); }
  // Next line; false at the end of the file or on a read error (see status()).
  bool next(Line& line);
  const Status& status() const { return status_; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  bool fill();  // reads more after end_; false when nothing more could be read
  size_t capacity() const { return size_ - kPadding; }

  std::unique_ptr<ByteStream> in_;
  uint64_t start_offset_ = 0;
  size_t max_line_;
  size_t initial_;
  std::unique_ptr<char[]> buf_;  // not zero-filled: only the padding after the data must be
  size_t size_ = 0;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_no_ = 0;
  uint64_t bytes_read_ = 0;
  Status status_;
  std::string long_prefix_;
};

}  // namespace byoml

// Records that could not be read. Every reject is counted by kind; the first few keep their
// full message for the summary, and an optional sink keeps every one (with the raw text) as
// JSON Lines, so nothing rejected is lost.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "byoml/common/atomic_file.h"
#include "byoml/common/status.h"
#include "byoml/sources/origin.h"

namespace byoml {

struct Reject {
  Origin origin;        // source, object, line (record number in .evtx) and byte offset
  std::string kind;     // stable short code: json_syntax, invalid_utf8, line_too_long, missing_field, ...
  std::string field;    // source field at fault, when one is
  std::string message;  // what a person needs to fix it
  std::string raw;      // the record as read, cut to kMaxRawBytes
  std::string to_string() const;  // OBJECT:LINE: field F: message
};

class RejectLog {
 public:
  static constexpr size_t kMaxRawBytes = 64 * 1024;
  explicit RejectLog(size_t keep_samples = 20) : keep_samples_(keep_samples) {}

  // Every reject also goes to `path` as one JSON object per line. The file appears, whole, at
  // close(), which reports any write error (a full disk must not pass as "all rejects kept").
  Status open_sink(const std::string& path);
  Status close();
  void add(Reject r);

  uint64_t total() const { return total_; }
  const std::map<std::string, uint64_t>& by_kind() const { return by_kind_; }
  const std::vector<Reject>& samples() const { return samples_; }

 private:
  size_t keep_samples_;
  uint64_t total_ = 0;
  std::map<std::string, uint64_t> by_kind_;
  std::vector<Reject> samples_;
  std::optional<AtomicFile> sink_;
};

}  // namespace byoml

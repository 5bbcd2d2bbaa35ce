// Where the next read of an object starts, the stuff checkpoints are made of: the object (a
// file, a blob, a partition), the version that was read (an ETag, or size and mtime), and the
// byte offset after the last complete record taken from it. A later read given these positions
// skips what did not change and reads a grown append blob or file from where this one stopped;
// an object whose version changed and that did not just grow is read again from the start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byoml/common/status.h"

namespace byoml {

struct ReadPosition {
  std::string source;  // as named, without secrets
  std::string object;
  std::string version;
  uint64_t offset = 0;
  uint64_t size = 0;   // the object's size when it was read

  bool operator==(const ReadPosition&) const = default;
};

// JSON Lines, one position per line (what `--positions FILE` reads and writes).
std::string positions_to_jsonl(const std::vector<ReadPosition>& positions);
Result<std::vector<ReadPosition>> positions_from_jsonl(const std::string& text, const std::string& what);

}  // namespace byoml

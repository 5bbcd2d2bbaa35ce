// Where a record came from, in terms every transport shares: the source the user named (a
// path or URL), the object within it (a file, a blob, an Event Hubs partition), and the
// position in that object (byte offset, or Kafka offset; and the line or record number where
// the format has lines). Rejects carry it so a person can find the record; resumable
// positions (checkpoints) are made of it.
#pragma once

#include <cstdint>
#include <string>

namespace byoml {

// A record's place in its object. `line` is 1-based (0: the format has no lines);
// `offset` is the byte offset of the record's first byte (or the partition offset).
struct Position {
  uint64_t line = 0;
  uint64_t offset = 0;
};

struct Origin {
  std::string source;  // as named: /var/log/x, file:///x, https://acct.blob.core.windows.net/c
  std::string object;  // the file path, blob name or partition ("partition-3")
  Position at;
  // "OBJECT:LINE" (how editors and compilers name a place), or "OBJECT@OFFSET" without lines.
  std::string to_string() const;
};

}  // namespace byoml

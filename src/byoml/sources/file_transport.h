// Local files: "file:///path" or a plain path. A folder is walked in sorted order; anything
// in it that is not a regular file (a FIFO would block, a device never ends), an unreadable
// folder and a link to a folder are listed as skipped, so nothing disappears without a word.
// "-" is standard input; a pipe or device named on its own (/dev/stdin) is read as a stream.
#pragma once

#include "byoml/sources/transport.h"

namespace byoml {

class FileTransport final : public Transport {
 public:
  Result<std::vector<InputObject>> list(const std::string& url, const ListHint& hint,
                                        std::vector<SkippedObject>& skipped) const override;
  Result<std::unique_ptr<ByteStream>> open(const InputObject& object, uint64_t offset) const override;
  void prefetch(const InputObject& object, uint64_t offset) const override;
};

}  // namespace byoml

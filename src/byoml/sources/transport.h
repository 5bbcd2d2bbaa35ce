// Transports move bytes; decoders (sources/decoder.h) make records of them. A transport is
// chosen by the URL's scheme ("file://" and plain paths: the file transport), lists the
// objects under a URL in a stable order, and opens one as a byte stream from an offset, so a
// grown object can be read from where the last read stopped. Each object has a version tag
// (an ETag, or size and modification time for files) that tells a changed object apart.
//
// A new transport (Blob storage, Event Hubs) is one file with a Transport subclass and one
// register_transport() line in transport.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "byoml/common/status.h"
#include "byoml/sources/origin.h"

namespace byoml {

// Sequential bytes of one object.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Up to `n` bytes into `dst`; 0 at the end. Transient failures have ErrorCode::kTransient.
  virtual Result<size_t> read(char* dst, size_t n) = 0;
};

class Transport;

struct SkippedObject {
  std::string path;  // object or folder as the user would name it
  std::string reason;
};

// One object of a transport. It can be opened more than once (a decoder may look at the start
// before it reads the whole).
struct InputObject {
  const Transport* transport = nullptr;
  std::string source;    // the URL or path the user named
  std::string name;      // the object's full name (a file path, a blob name, a partition)
  uint64_t size = 0;
  std::string version;   // ETag, or "size:mtime" for files
  std::string local_path;  // set by the file transport: libraries with their own I/O use it

  Result<std::unique_ptr<ByteStream>> open(uint64_t offset = 0) const;
  // The whole object, refused when larger than `max_bytes`.
  Result<std::string> read_all(uint64_t max_bytes) const;
  Origin origin(Position at = {}) const { return {source, name, at}; }
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Every object under `url` (a single object, or all below a folder or prefix), sorted by
  // name. What cannot be listed or read goes to `skipped`; a URL that names nothing is
  // ErrorCode::kNotFound.
  virtual Result<std::vector<InputObject>> list(const std::string& url, std::vector<SkippedObject>& skipped) const = 0;
  virtual Result<std::unique_ptr<ByteStream>> open(const InputObject& object, uint64_t offset) const = 0;
};

// The scheme of a URL ("file" for plain paths): the letters before "://".
std::string url_scheme(const std::string& url);
// Registers a transport for a scheme (replacing any other); tests register their own.
void register_transport(const std::string& scheme, std::shared_ptr<const Transport> transport);
Result<std::shared_ptr<const Transport>> transport_for(const std::string& url);

}  // namespace byoml

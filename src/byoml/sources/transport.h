// Transports move bytes; decoders (sources/decoder.h) make records of them. A transport is
// chosen by the URL's scheme ("file://" and plain paths: the file transport), lists the
// objects under a URL in a stable order, and opens one as a byte stream from an offset, so a
// grown object can be read from where the last read stopped. Each object has a version tag
// (an ETag, or size and modification time for files) that tells a changed object apart.
//
// A transport may hold a connection's settings (an account, its credentials): the registry
// makes one per URL through the factory of its scheme. A new transport (Event Hubs, say) is one
// file with a Transport subclass and one line in the registry in transport.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "byoml/cloud/cloud_context.h"
#include "byoml/common/status.h"
#include "byoml/common/time.h"
#include "byoml/sources/origin.h"
#include "byoml/sources/read_position.h"

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
  std::shared_ptr<const Transport> transport;
  std::string source;    // the URL or path the user named
  std::string name;      // the object's full name (a file path, a blob name, a partition)
  uint64_t size = 0;
  std::string version;   // ETag, or "size:mtime" for files
  std::string local_path;  // set by the file transport: libraries with their own I/O use it
  // An append blob or a growing file: its last line may still be being written, so a line with
  // no line break at the end is left for the next read instead of being taken as truncated.
  bool growing = false;
  // The decoder's name when the transport knows the format (a query answer, a hub message).
  std::string format;
  // Offsets count bytes; false when they count records (a query slice, a Kafka partition),
  // which are then read whole or from a record offset, never from a line's byte.
  bool byte_offsets = true;
  // Where a resumed read starts (the end of what an earlier read took from this version's
  // predecessor); decoders that cannot start mid-object read it whole.
  uint64_t start = 0;

  Result<std::unique_ptr<ByteStream>> open(uint64_t offset = 0) const;
  // The whole object, refused when larger than `max_bytes`.
  Result<std::string> read_all(uint64_t max_bytes) const;
  Origin origin(Position at = {}) const { return {source, name, at}; }
};

// What the caller will read, so that a transport can leave out what cannot matter: the time
// window (already widened by the path slack) prunes the folders of an export tree; a query
// source asks for the event ids and columns only.
struct ListHint {
  TimeWindow window;
  std::vector<uint32_t> event_ids;   // empty: all
  std::vector<std::string> columns;  // the fields the template maps; empty: all
};

class Transport : public std::enable_shared_from_this<Transport> {
 public:
  virtual ~Transport() = default;
  // Every object under `url` (a single object, or all below a folder or prefix), sorted by
  // name. What cannot be listed or read goes to `skipped`; a URL that names nothing is
  // ErrorCode::kNotFound.
  virtual Result<std::vector<InputObject>> list(const std::string& url, const ListHint& hint,
                                                std::vector<SkippedObject>& skipped) const = 0;
  virtual Result<std::unique_ptr<ByteStream>> open(const InputObject& object, uint64_t offset) const = 0;
  // Objects far away (over a network): worth fetching ahead of the decoder in parallel.
  virtual bool remote() const { return false; }
  // The object will be read soon, from `offset`: a local source may start bringing it in
  // (the page cache) while the decoder works on what comes before it.
  virtual void prefetch(const InputObject& /*object*/, uint64_t /*offset*/) const {}
  // Tells the source that everything before `positions` is stored (a Kafka consumer group's
  // offsets); a no-op for sources that keep no state of their readers.
  virtual Status commit(const std::vector<ReadPosition>& /*positions*/) const { return {}; }
};

// The scheme of a URL ("file" for plain paths): the letters before "://".
std::string url_scheme(const std::string& url);
// Makes the transport for one URL of its scheme with the run's cloud settings, or returns
// nullptr when the URL is not its kind (https:// serves Blob storage and the query API).
using TransportFactory = std::function<Result<std::shared_ptr<const Transport>>(
    const std::string& url, const std::shared_ptr<const CloudContext>& cloud)>;
// Registers a factory for a scheme, tried before the ones registered earlier.
void register_transport_factory(const std::string& scheme, TransportFactory factory);
// Registers one transport for every URL of a scheme; tests register their own.
void register_transport(const std::string& scheme, std::shared_ptr<const Transport> transport);
// `cloud` may be null: the environment's settings are used.
Result<std::shared_ptr<const Transport>> transport_for(const std::string& url,
                                                      std::shared_ptr<const CloudContext> cloud = nullptr);

}  // namespace byoml

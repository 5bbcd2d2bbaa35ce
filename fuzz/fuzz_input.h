// Shared by the decoder fuzz targets: the input bytes as a file (in memory, through memfd) read
// by one decoder with the built-in template's mapping and small limits, so that limits are hit.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "byoml/sources/decoder.h"
#include "byoml/sources/file_transport.h"
#include "byoml/templates/detection_template.h"

namespace byoml::fuzz {

template <typename Decode>
int read_bytes(const uint8_t* data, size_t size, Decode decode) {
  static const int fd = memfd_create("byoml-fuzz", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  static FieldMapping mapping = FieldMapping::compile(default_template().mapping).value();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  Vocabulary vocab;
  RejectLog rejects;
  ReadOptions options;
  options.max_record_bytes = 4096;
  options.max_document_bytes = 1 << 20;
  options.batch_events = 7;
  uint64_t events = 0;
  ReadContext ctx(mapping, vocab, options, rejects, [&](const EventBatch& b) { events += b.size(); });
  static const auto files = std::make_shared<const FileTransport>();
  InputObject object;
  object.transport = files;
  object.source = object.name = object.local_path = path;
  object.size = size;
  ctx.begin_object(object);
  (void)decode(object, ctx);
  ctx.flush();
  // Every record found is accounted for exactly once.
  const ReadStats& s = ctx.stats();
  if (s.events + s.rejected + s.filtered_out + s.outside_window != s.records) __builtin_trap();
  if (events != s.events) __builtin_trap();
  return 0;
}

}  // namespace byoml::fuzz

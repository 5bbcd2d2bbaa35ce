#include <fmt/format.h>
#include <libevtx.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "byoml/sources/decoder.h"
#include "byoml/sources/windows_xml.h"

namespace byoml {
namespace {

std::string take_error(libevtx_error_t*& error) {
  if (error == nullptr) return "unknown libevtx error";
  char text[512];
  libevtx_error_sprint(error, text, sizeof(text));
  libevtx_error_free(&error);
  std::string s(text);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // libevtx stacks its call chain one per line; the last line is the root cause.
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

struct FileCloser {
  void operator()(libevtx_file_t* f) const {
    libevtx_file_close(f, nullptr);
    libevtx_file_free(&f, nullptr);
  }
};
struct BfioFree {
  void operator()(libbfio_handle_t* h) const { libbfio_handle_free(&h, nullptr); }
};
struct RecordFree {
  void operator()(libevtx_record_t* r) const { libevtx_record_free(&r, nullptr); }
};

}  // namespace

Status decode_evtx(const InputObject& in, ReadContext& ctx) {
  const uint64_t file_bytes = in.size;
  ctx.stats().bytes_read += file_bytes;
  // libevtx reads whole 64 KiB chunks after the 4 KiB header. A copy cut inside a chunk's unused
  // slack (the usual way a log is cut while being written or copied) still holds every record:
  // the chunk is read from memory, padded with zeros, and its checksums tell whether anything
  // that mattered was cut.
  constexpr uint64_t kHeader = 4096, kChunk = 65536;
  constexpr uint64_t kMaxEvtxBytes = uint64_t{4} << 30;  // read into memory when there is no local file
  std::vector<uint8_t> padded;
  std::unique_ptr<libbfio_handle_t, BfioFree> io;
  // Objects with no local file (a blob, a message) are read from memory the same way.
  if (in.local_path.empty() || (file_bytes > kHeader && (file_bytes - kHeader) % kChunk != 0)) {
    auto bytes = in.read_all(kMaxEvtxBytes);
    if (!bytes) return bytes.status();
    uint64_t chunks = bytes->size() > kHeader ? (bytes->size() - kHeader + kChunk - 1) / kChunk : 0;
    padded.assign(std::max<uint64_t>(bytes->size(), kHeader + chunks * kChunk), 0);
    std::copy(bytes->begin(), bytes->end(), padded.begin());
    libbfio_handle_t* h = nullptr;
    if (libbfio_memory_range_initialize(&h, nullptr) != 1) return {ErrorCode::kIo, "cannot start libbfio"};
    io.reset(h);
    if (libbfio_memory_range_set(h, padded.data(), padded.size(), nullptr) != 1) return {ErrorCode::kIo, "cannot start libbfio"};
  }
  libevtx_error_t* error = nullptr;
  libevtx_file_t* raw_file = nullptr;
  if (libevtx_file_initialize(&raw_file, &error) != 1) return {ErrorCode::kIo, take_error(error)};
  int opened = io ? libevtx_file_open_file_io_handle(raw_file, io.get(), libevtx_get_access_flags_read(), &error)
                  : libevtx_file_open(raw_file, in.local_path.c_str(), libevtx_get_access_flags_read(), &error);
  if (opened != 1) {
    libevtx_file_free(&raw_file, nullptr);
    return {ErrorCode::kCorrupt, fmt::format("not a readable .evtx file: {}", take_error(error))};
  }
  std::unique_ptr<libevtx_file_t, FileCloser> file(raw_file);
  int count = 0;
  if (libevtx_file_get_number_of_records(file.get(), &count, &error) != 1)
    return {ErrorCode::kCorrupt, take_error(error)};

  // Records past the cut (or in a damaged chunk) are lost; say so.
  int corrupted = libevtx_file_is_corrupted(file.get(), &error);
  if (corrupted < 0) libevtx_error_free(&error);
  if (corrupted == 1) {
    if (count == 0)
      return {ErrorCode::kCorrupt, "truncated or corrupted .evtx: no complete chunk of records could be read"};
    ctx.reject({0}, "truncated", "",
               fmt::format("truncated or corrupted .evtx: the {} records that could be read are read, the rest is lost",
                           count),
               {});
  }

  pugi::xml_document doc;
  RecordFields fields;
  std::vector<uint8_t> xml;
  for (int i = 0; i < count; ++i) {
    auto where = static_cast<uint64_t>(i) + 1;  // records have no lines: report the record's position
    libevtx_record_t* raw_record = nullptr;
    if (libevtx_file_get_record_by_index(file.get(), i, &raw_record, &error) != 1) {
      ctx.reject({where}, "evtx_record", "", fmt::format("unreadable record: {}", take_error(error)), {});
      continue;
    }
    std::unique_ptr<libevtx_record_t, RecordFree> record(raw_record);
    size_t size = 0;
    if (libevtx_record_get_utf8_xml_string_size(record.get(), &size, &error) != 1 || size == 0 ||
        size > ctx.options().max_record_bytes) {
      std::string why = error ? take_error(error) : fmt::format("XML rendering of {} bytes", size);
      ctx.reject({where}, "evtx_record", "", fmt::format("record cannot be rendered: {}", why), {});
      continue;
    }
    xml.resize(size);
    if (libevtx_record_get_utf8_xml_string(record.get(), xml.data(), size, &error) != 1) {
      ctx.reject({where}, "evtx_record", "", fmt::format("record cannot be rendered: {}", take_error(error)), {});
      continue;
    }
    std::string_view text(reinterpret_cast<const char*>(xml.data()), size - 1);  // size counts the NUL
    std::string err = parse_event_xml(text, doc, ctx.mapping(), fields);
    if (!err.empty()) {
      ctx.reject({where}, "xml_syntax", "", err, text);
      continue;
    }
    ctx.emit(fields, {where}, text);
  }
  return {};
}

}  // namespace byoml

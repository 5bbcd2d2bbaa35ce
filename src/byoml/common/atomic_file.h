// Writes a file so that a reader sees the old content or the whole new one, never a part: the
// bytes go to a uniquely named temporary file beside the target, which is flushed, checked and
// only then renamed into place. A full disk or a failed write is an error, and the target is
// left as it was. "-" writes to standard output instead (checked the same way, no rename).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "byoml/common/status.h"

namespace byoml {

class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::string& path);
  AtomicFile(AtomicFile&& o) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();  // without commit(): the temporary file is removed and the target untouched

  // For fmt::print and the like; errors are found by commit().
  FILE* stream() { return f_; }
  void write(std::string_view bytes);
  // Flushes, syncs and renames into place; the first error of any write is reported here.
  Status commit();
  const std::string& path() const { return path_; }

 private:
  AtomicFile(std::string path, std::string tmp, FILE* f) : path_(std::move(path)), tmp_(std::move(tmp)), f_(f) {}
  std::string path_, tmp_;  // tmp_ empty: standard output
  FILE* f_ = nullptr;
};

Status write_file_atomic(const std::string& path, std::string_view bytes);
// The whole file; "PATH: cannot open WHAT" (kNotFound when it does not exist) or a read error.
Result<std::string> read_whole_file(const std::string& path, std::string_view what);

}  // namespace byoml

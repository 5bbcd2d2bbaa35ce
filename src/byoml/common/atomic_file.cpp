#include "byoml/common/atomic_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace byoml {

Result<AtomicFile> AtomicFile::create(const std::string& path) {
  if (path == "-") return AtomicFile(path, "", stdout);
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return Status(ErrorCode::kIo, fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  ::fchmod(fd, 0644);  // mkstemp creates 0600; results and reports are meant to be shared like any file
  FILE* f = ::fdopen(fd, "wb");
  if (f == nullptr) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status(ErrorCode::kIo, fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  }
  return AtomicFile(path, std::move(tmp), f);
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept : path_(std::move(o.path_)), tmp_(std::move(o.tmp_)), f_(o.f_) {
  o.f_ = nullptr;
}

AtomicFile::~AtomicFile() {
  if (f_ == nullptr || tmp_.empty()) return;
  std::fclose(f_);
  ::unlink(tmp_.c_str());
}

void AtomicFile::write(std::string_view bytes) {
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f_);
}

Status AtomicFile::commit() {
  if (f_ == nullptr) return Status(ErrorCode::kIo, fmt::format("{}: already written", path_));
  FILE* f = f_;
  f_ = nullptr;
  errno = 0;
  int err = 0;
  if (std::fflush(f) != 0 || std::ferror(f)) err = errno != 0 ? errno : EIO;
  if (tmp_.empty()) {
    if (err != 0) return Status(ErrorCode::kIo, fmt::format("standard output: write failed: {}", std::strerror(err)));
    return {};
  }
  if (err == 0 && ::fsync(::fileno(f)) != 0) err = errno;
  if (std::fclose(f) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp_.c_str(), path_.c_str()) != 0) err = errno;
  if (err == 0) return {};
  ::unlink(tmp_.c_str());
  return Status(ErrorCode::kIo, fmt::format("{}: write failed: {} (the previous file, if any, is unchanged)", path_,
                                            std::strerror(err)));
}

Result<std::string> read_whole_file(const std::string& path, std::string_view what) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f)
    return Status(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                  fmt::format("{}: cannot open {}: {}", path, what, std::strerror(errno)));
  std::string out;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f.get())) > 0;) out.append(buf, n);
  if (std::ferror(f.get())) return Status(ErrorCode::kIo, fmt::format("{}: cannot read {}", path, what));
  return out;
}

Status write_file_atomic(const std::string& path, std::string_view bytes) {
  auto f = AtomicFile::create(path);
  if (!f) return f.status();
  f->write(bytes);
  return f->commit();
}

}  // namespace byoml
